import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse, TYPE, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';
import { describe, expect, it } from 'vitest';
import { CATALOGS, formatDurationIn, isLocale, LOCALES, localeOfDiscord } from '../../src/i18n/index.js';
import type { MessageKey } from '../../src/i18n/index.js';

const keys = Object.keys(CATALOGS.en) as MessageKey[];

/** The names of a message's arguments, nested ones (inside plurals and selects) included. */
function argumentsOf(elements: MessageFormatElement[], into = new Set<string>()): Set<string> {
  for (const el of elements) {
    if (el.type === TYPE.literal || el.type === TYPE.pound) continue;
    if (el.type === TYPE.tag) {
      argumentsOf(el.children, into);
      continue;
    }
    into.add(el.value);
    if (el.type === TYPE.plural || el.type === TYPE.select) for (const option of Object.values(el.options)) argumentsOf(option.value, into);
  }
  return into;
}

/**
 * The arguments a message formats as numbers ("12,345"): `{x, number}`, and a plural's `#` (its
 * argument, formatted). Anywhere else an argument is put in as it is.
 */
function numberArgumentsOf(elements: MessageFormatElement[], into = new Set<string>(), plural?: string): Set<string> {
  for (const el of elements) {
    if (el.type === TYPE.pound) {
      if (plural !== undefined) into.add(plural);
    } else if (el.type === TYPE.number) {
      into.add(el.value);
    } else if (el.type === TYPE.tag) {
      numberArgumentsOf(el.children, into, plural);
    } else if (el.type === TYPE.plural) {
      for (const option of Object.values(el.options)) numberArgumentsOf(option.value, into, el.value);
    } else if (el.type === TYPE.select) {
      // A `#` inside a select inside a plural still stands for the plural's argument.
      for (const option of Object.values(el.options)) numberArgumentsOf(option.value, into, plural);
    }
  }
  return into;
}

/** `key: en {…} ko {…}` for each key whose two messages format different arguments as numbers. */
function numberFormattingDiffers(en: Record<string, string>, ko: Record<string, string>): string[] {
  const numbers = (message: string) => [...numberArgumentsOf(parse(message, { ignoreTag: true }))].sort().join(',');
  return Object.keys(en)
    .filter((key) => numbers(en[key]!) !== numbers(ko[key]!))
    .map((key) => `${key}: en {${numbers(en[key]!)}} ko {${numbers(ko[key]!)}}`);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('message catalogs', () => {
  it('has messages', () => {
    expect(keys.length).toBeGreaterThan(0);
  });

  it.each(LOCALES)('%s has every key English has, and no other', (locale) => {
    expect(Object.keys(CATALOGS[locale]).sort()).toEqual([...keys].sort());
  });

  it.each(LOCALES)('%s has only valid ICU messages', (locale) => {
    const invalid = keys.filter((key) => {
      try {
        parse(CATALOGS[locale][key], { ignoreTag: true });
        return false;
      } catch {
        return true;
      }
    });
    expect(invalid).toEqual([]);
  });

  it('gives each ko message the arguments of its en one', () => {
    const names = (message: string) => [...argumentsOf(parse(message, { ignoreTag: true }))].sort().join(',');
    const differing = keys
      .filter((key) => names(CATALOGS.ko[key]) !== names(CATALOGS.en[key]))
      .map((key) => `${key}: en {${names(CATALOGS.en[key])}} ko {${names(CATALOGS.ko[key])}}`);
    expect(differing).toEqual([]);
  });

  it('formats the same arguments as numbers in ko as in en ("12,345" in both)', () => {
    expect(numberFormattingDiffers(CATALOGS.en, CATALOGS.ko)).toEqual([]);
  });

  it('has Korean in every ko message whose en one has words', () => {
    // Words outside {arguments} and `code`: a ko message with English words and no Hangul was not translated.
    const words = (text: string) => text.replace(/\{[^{}]*\}|`[^`]*`/g, '').match(/[A-Za-z]{3,}/g) ?? [];
    const untranslated = keys.filter((key) => words(CATALOGS.en[key]).length > 0 && !/[\uac00-\ud7a3]/.test(CATALOGS.ko[key]));
    expect(untranslated).toEqual([]);
  });

  it('finds what it checks: a broken message, other arguments, an untranslated one', () => {
    expect(() => parse('{count, plural, one {#}', { ignoreTag: true })).toThrow();
    expect([...argumentsOf(parse('{n, plural, one {{a}} other {{b}}}', { ignoreTag: true }))].sort()).toEqual(['a', 'b', 'n']);
  });

  it('finds a number formatted in one language and put in as it is in the other', () => {
    const en = {
      pound: '{count, plural, one {+# more label} other {+# more labels}}',
      number: '{n, number} kept',
      same: '{count, plural, one {# alert} other {# alerts}} in {groups, number} groups',
      nested: '{where, select, thread {{count, plural, other {# in the thread}}} other {none}}',
      plain: '{count} distinct',
    };
    const ko = {
      pound: '+ 레이블 {count}개 더', // counter-example: en says "1,234", ko "1234"
      number: '{n}개 보관', // counter-example
      same: '{groups, number}개 그룹에서 알림 {count, plural, other {#}}개',
      nested: '{where, select, thread {스레드에 {count, number}개} other {없음}}',
      plain: '서로 다른 로그 {count, number}줄', // counter-example: ko formats what en does not
    };
    expect(numberFormattingDiffers(en, ko)).toEqual(['pound: en {count} ko {}', 'number: en {n} ko {}', 'plain: en {} ko {count}']);
  });

  it('uses every key somewhere in src/ (a key no code uses is dead)', () => {
    const code = sourceFiles('src')
      .filter((f) => !f.startsWith(join('src', 'i18n')))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const unused = keys.filter((key) => !code.includes(`'${key}'`) && !code.includes(`"${key}"`) && !code.includes(`\`${key}\``));
    expect(unused).toEqual([]);
  });

  it('names each key after the catalog file it lives in', () => {
    const dir = join('src', 'i18n', 'en');
    for (const file of readdirSync(dir).filter((f) => f !== 'index.ts')) {
      const namespace = file.replace(/\.ts$/, '');
      const text = readFileSync(join(dir, file), 'utf8');
      for (const [, key] of text.matchAll(/^\s+'([^']+)':/gm)) expect(key!.startsWith(`${namespace}.`), `${key} in ${file}`).toBe(true);
    }
  });
});

describe('languages', () => {
  it.each([
    ['ko', 'en', 'ko'],
    ['en-US', 'ko', 'en'],
    ['en-GB', 'ko', 'en'],
    ['ja', 'ko', 'ko'],
    ['zh-CN', 'en', 'en'],
    [undefined, 'ko', 'ko'],
  ] as const)('a Discord client in %s with default %s is answered in %s', (discord, fallback, want) => {
    expect(localeOfDiscord(discord, fallback)).toBe(want);
  });

  it('knows en and ko only', () => {
    expect([isLocale('en'), isLocale('ko'), isLocale('ja'), isLocale(1)]).toEqual([true, true, false, false]);
  });

  it.each([
    ['en', 850, '850ms'],
    ['en', 45_000, '45s'],
    ['en', 7_500_000, '2h 5m'],
    ['en', 90_061_000, '1d 1h'],
    ['ko', 45_000, '45초'],
    ['ko', 7_500_000, '2시간 5분'],
    ['ko', 90_061_000, '1일 1시간'],
    ['ko', -60_000, '-1분'],
  ] as const)('%s shows %d ms as %s', (locale, ms, want) => {
    expect(formatDurationIn(locale, ms)).toBe(want);
  });
});
