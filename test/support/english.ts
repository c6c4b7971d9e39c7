// Finds English catalog text left in a message rendered for another language: each English message's
// literal parts (outside its arguments) that a Korean rendering must not contain.
import { parse, TYPE, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';
import { CATALOGS } from '../../src/i18n/index.js';

function literals(elements: MessageFormatElement[], into: string[] = []): string[] {
  for (const el of elements) {
    if (el.type === TYPE.literal) into.push(el.value);
    else if (el.type === TYPE.plural || el.type === TYPE.select) for (const option of Object.values(el.options)) literals(option.value, into);
  }
  return into;
}

/** The English words of the catalog keys starting with `prefix` ("alert."): runs of letters, two words or one of four letters and up. */
export function englishFragments(prefix: string): string[] {
  const out = new Set<string>();
  for (const [key, message] of Object.entries(CATALOGS.en)) {
    if (!key.startsWith(prefix)) continue;
    for (const literal of literals(parse(message, { ignoreTag: true })))
      for (const run of literal.replace(/`[^`]*`/g, ' ').match(/[A-Za-z][A-Za-z' -]*[A-Za-z]/g) ?? []) {
        const phrase = run.trim();
        if (phrase.includes(' ') || phrase.length >= 4) out.add(phrase);
      }
  }
  return [...out];
}

/** The people-facing text of a message body: what remains outside code blocks, inline code, link targets and Discord markup. */
export function visibleText(body: unknown): string {
  const texts: string[] = [];
  const walk = (value: unknown, key?: string) => {
    if (typeof value === 'string') {
      if (key && ['title', 'description', 'name', 'value', 'text', 'content', 'label', 'placeholder'].includes(key)) texts.push(value);
    } else if (Array.isArray(value)) value.forEach((v) => walk(v, key));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, k);
  };
  walk(body);
  return texts
    .join('\n')
    .replace(/```[\s\S]*?```/g, ' ')
    .replace(/`[^`]*`/g, ' ')
    .replace(/\]\([^)]*\)/g, '] ')
    .replace(/<[^>]*>/g, ' ');
}

/** English catalog phrases (of keys under `prefix`) found in `text`, except the `allowed` ones (names that are data). */
export function englishLeftovers(text: string, prefix: string, allowed: readonly string[] = []): string[] {
  return englishFragments(prefix).filter(
    (phrase) => !allowed.includes(phrase) && new RegExp(`(?<![A-Za-z])${phrase.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z])`).test(text),
  );
}
