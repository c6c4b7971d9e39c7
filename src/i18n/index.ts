// Every word Vigil shows people comes from a message catalog: ICU MessageFormat through FormatJS's
// intl-messageformat (plurals, numbers and selects handled by the library). `en` defines the keys;
// `ko` must have each of them (the compiler checks, and test/i18n checks arguments and use).
import { IntlMessageFormat } from 'intl-messageformat';
import { LOCALES, type Locale } from '../model.js';
import { EN, type MessageKey } from './en/index.js';
import { KO } from './ko/index.js';

export { LOCALES, type Locale, type MessageKey };

/** Each locale's catalog. */
export const CATALOGS: Record<Locale, Record<MessageKey, string>> = { en: EN, ko: KO };

/** A value put into a message: numbers are formatted per locale, strings as they are. */
export type MessageValue = string | number;

/** Translates one key into one language: `locale`. */
export type T = ((key: MessageKey, values?: Record<string, MessageValue>) => string) & { readonly locale: Locale };

const compiled = new Map<string, IntlMessageFormat>();

function format(locale: Locale, key: MessageKey): IntlMessageFormat {
  const id = `${locale}\u0000${key}`;
  let message = compiled.get(id);
  if (!message) {
    // ignoreTag: Discord's own markup (<@id>, <t:…:R>) is text, not rich-text tags.
    message = new IntlMessageFormat(CATALOGS[locale][key], locale, undefined, { ignoreTag: true });
    compiled.set(id, message);
  }
  return message;
}

/** The message `key` in `locale`, with `values` put in. */
export function translate(locale: Locale, key: MessageKey, values?: Record<string, MessageValue>): string {
  return String(format(locale, key).format(values));
}

const translators = new Map<Locale, T>();

/** A translator bound to one language (`en` when none is given). */
export function translator(locale: Locale = 'en'): T {
  let t = translators.get(locale);
  if (!t) {
    t = Object.assign((key: MessageKey, values?: Record<string, MessageValue>) => translate(locale, key, values), { locale });
    translators.set(locale, t);
  }
  return t;
}

/** Whether `value` names a language Vigil speaks. */
export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/**
 * The language to answer a Discord user in: their client's `locale` ("ko", "en-US", "en-GB") when
 * Vigil speaks it, else `fallback` (the configured default).
 */
export function localeOfDiscord(discordLocale: string | undefined, fallback: Locale): Locale {
  const language = discordLocale?.split('-')[0]?.toLowerCase();
  return isLocale(language) ? language : fallback;
}

const unitFormats = new Map<string, Intl.NumberFormat>();

function unitFormat(locale: Locale, unit: string): Intl.NumberFormat {
  const id = `${locale} ${unit}`;
  let f = unitFormats.get(id);
  if (!f) {
    f = new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'narrow' });
    unitFormats.set(id, f);
  }
  return f;
}

const DURATION_UNITS = [
  ['day', 86_400],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
] as const;

/** Milliseconds as a short duration in `locale`, two largest units: "2h 5m" / "2시간 5분", "850ms". */
export function formatDurationIn(locale: Locale, ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatDurationIn(locale, -ms)}`;
  const unit = (name: string, n: number) => unitFormat(locale, name).format(n);
  if (ms < 1000) return unit('millisecond', Math.round(ms));
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [name, size] of DURATION_UNITS) {
    if (rest >= size) {
      parts.push(unit(name, Math.floor(rest / size)));
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

const plainNumbers = new Map<Locale, Intl.NumberFormat>();

/** A number in `locale`'s digits grouping ("12,345"). */
export function formatNumberIn(locale: Locale, n: number, options?: Intl.NumberFormatOptions): string {
  // The plain format is asked for per line of a digest or storm: made once per language.
  if (options) return new Intl.NumberFormat(locale, options).format(n);
  let f = plainNumbers.get(locale);
  if (!f) {
    f = new Intl.NumberFormat(locale);
    plainNumbers.set(locale, f);
  }
  return f.format(n);
}
