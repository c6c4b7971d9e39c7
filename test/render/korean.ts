// Test-only checks that a message rendered in Korean has no English left: every text of a message
// body, with code, links, Discord markup and the product names Korean keeps taken out.
import { parse, TYPE, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';
import { expect } from 'vitest';
import { CATALOGS } from '../../src/i18n/index.js';
import type { MessageBody } from '../../src/render/truncate.js';

/** Names a Korean message keeps as they are (products, units, technical names). */
const KEPT = [
  'Alertmanager',
  'Prometheus',
  'Grafana',
  'Loki',
  'Vigil',
  'PromQL',
  'LogQL',
  'Explore',
  'CPU',
  'OOM',
  'node_exporter',
  'node_filesystem',
  'node_memory',
  'snapshots.dataDir',
  'vigil_promql',
  'alertname',
  'KST',
  'UTC',
  'GiB',
  'MiB',
  'KiB',
];

/** Every text of a message body: content, and each embed's title, description, fields and footer. */
export function textsOf(body: MessageBody): string[] {
  return [
    body.content ?? '',
    ...(body.embeds ?? []).flatMap((e) => [e.title, e.description, e.footer?.text, e.author?.name, ...(e.fields ?? []).flatMap((f) => [f.name, f.value])]),
  ].filter((t): t is string => typeof t === 'string' && t.length > 0);
}

/** `text` without what is not words: code, link targets, URLs and Discord markup (<t:…>, <@id>). */
export function withoutMarkup(text: string): string {
  return text
    .replace(/```[\s\S]*?```/g, ' ')
    .replace(/`[^`]*`/g, ' ')
    .replace(/\]\([^)]*\)/g, '] ')
    .replace(/https?:\/\/\S+/g, ' ')
    .replace(/<(?:t:-?\d+:[a-zA-Z]|@[&!]?\d+|#\d+)>/g, ' ')
    .replace(/\\/g, '');
}

/**
 * The English words (three letters or more) left in `text` once code, URLs, Discord markup
 * (<t:…>), the names a Korean message keeps and the given `names` (the input's own data) are
 * taken out.
 */
export function englishWords(text: string, names: readonly string[] = []): string[] {
  let rest = withoutMarkup(text);
  for (const name of [...names, ...KEPT].sort((a, b) => b.length - a.length)) rest = rest.split(name).join(' ');
  return rest.match(/[A-Za-z]{3,}/g) ?? [];
}

/** Asserts the body speaks Korean: Hangul in it, and no English word but kept names and `names`. */
export function expectKorean(body: MessageBody, names: readonly string[] = []): void {
  const text = textsOf(body).join('\n');
  expect(text).toMatch(/[\uac00-\ud7a3]/);
  expect(englishWords(text, names)).toEqual([]);
}

/** `n` Hangul syllables, cycling through a few, for long Korean input. */
export function hangul(n: number): string {
  const syllables = '디스크용량부족경고서버응답지연';
  return Array.from({ length: n }, (_, i) => syllables[i % syllables.length]).join('');
}

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

/** The people-facing text of a message body, buttons included, without markup (withoutMarkup). */
export function visibleText(body: MessageBody & { components?: unknown }): string {
  const labels = JSON.stringify(body.components ?? []).match(/"label":"(?:[^"\\]|\\.)*"/g) ?? [];
  return withoutMarkup([...textsOf(body), ...labels.map((l) => JSON.parse(l.slice(8)) as string)].join('\n'));
}

/** English catalog phrases (of keys under `prefix`) found in `text`, except the `allowed` ones (names that are data). */
export function englishLeftovers(text: string, prefix: string, allowed: readonly string[] = []): string[] {
  return englishFragments(prefix).filter(
    (phrase) => !allowed.includes(phrase) && new RegExp(`(?<![A-Za-z])${phrase.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z])`).test(text),
  );
}
