import { formatDuration } from '../config/duration.js';
import { formatDurationIn, translator } from '../i18n/index.js';
import type { Locale } from '../model.js';
import { EMBED_URL } from './limits.js';
import { maskSecrets } from './mask.js';

/**
 * How a sample value is shown.
 * - percent: already 0..100 ("93.1%"); ratio: 0..1, shown as percent ("0.931" -> "93.1%")
 * - bytes ("1.5 KiB"), bytes_per_second ("1.5 KiB/s"), seconds ("234µs", "2m 5s")
 * - cores: rate of a CPU `_seconds_total` counter; seconds_per_second: rate of another `_seconds_total`
 * - requests_per_second: rate of a request counter ("12.3 req/s"); per_second: rate of any other counter
 * - plain: 3 significant digits with an SI suffix ("1.23M")
 */
export type Unit =
  'percent' | 'ratio' | 'bytes' | 'bytes_per_second' | 'seconds' | 'cores' | 'seconds_per_second' | 'requests_per_second' | 'per_second' | 'plain';

/** Values of a `unit` annotation that name a unit (Grafana's unit ids included). */
const UNIT_ANNOTATIONS: Record<string, Unit> = {
  percent: 'percent',
  '%': 'percent',
  percentunit: 'ratio',
  ratio: 'ratio',
  bytes: 'bytes',
  decbytes: 'bytes',
  b: 'bytes',
  bps: 'bytes_per_second',
  binbps: 'bytes_per_second',
  s: 'seconds',
  seconds: 'seconds',
  cores: 'cores',
  reqps: 'requests_per_second',
  'req/s': 'requests_per_second',
  ops: 'per_second',
  '/s': 'per_second',
  short: 'plain',
  none: 'plain',
};

/** Unit families compared to recognise `a / b` of the same kind as a ratio. */
const FAMILY: Record<Unit, string> = {
  percent: 'percent',
  ratio: 'ratio',
  bytes: 'bytes',
  bytes_per_second: 'bytes_per_second',
  seconds: 'seconds',
  cores: 'seconds_per_second',
  seconds_per_second: 'seconds_per_second',
  requests_per_second: 'per_second',
  per_second: 'per_second',
  plain: 'plain',
};

const PROMQL_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/**
 * Infers the unit of a PromQL expression or metric name. First match wins:
 * 1. a `unit` annotation naming a known unit (percent, percentunit, bytes, s, reqps, Bps, ...);
 * 2. `* 100` / `100 *` anywhere -> percent;
 * 3. a metric name with `percent` or ending `_pct` -> percent;
 * 4. `a / b` where both sides start with a metric of the same family -> ratio (0..1);
 * 5. the first metric's own unit: `_ratio` -> ratio; rate/irate of `_bytes_total` -> bytes/s, of a
 *    `_seconds_total` -> cores (cpu in the name) or s/s, of any `_total`/`_count` -> req/s (request
 *    in the name) or /s; `_bytes*` -> bytes; `_seconds*` -> seconds; anything else -> plain.
 */
export function inferUnit(metricOrExpr: string, annotations?: Record<string, string>): Unit {
  const annotated = annotations?.unit && UNIT_ANNOTATIONS[annotations.unit.trim().toLowerCase()];
  if (annotated) return annotated;
  const clean = stripPromqlNoise(metricOrExpr);
  if (/\*\s*100(?:\.0*)?(?![\d.])|(?<![\w.])100(?:\.0*)?\s*\*/.test(clean)) return 'percent';
  const metrics = metricTokens(clean);
  if (metrics.some((m) => /percent|_pct$/i.test(m.name))) return 'percent';
  const slash = clean.indexOf('/');
  if (slash >= 0) {
    const left = metricTokens(clean.slice(0, slash))[0];
    const right = metricTokens(clean.slice(slash + 1))[0];
    if (left && right && FAMILY[metricUnit(left)] === FAMILY[metricUnit(right)] && sameKindDivision(left, right)) return 'ratio';
  }
  return metrics[0] ? metricUnit(metrics[0]) : 'plain';
}

interface MetricToken {
  name: string;
  /** Inside rate()/irate(). */
  rated: boolean;
}

/** Plain counts only make a ratio when both sides are counters (errors_total / requests_total). */
function sameKindDivision(a: MetricToken, b: MetricToken): boolean {
  if (metricUnit(a) !== 'plain') return true;
  return /_(total|count)$/.test(a.name) && /_(total|count)$/.test(b.name);
}

/** Removes strings, label matchers, range selectors and grouping clauses, which hold no metric names. */
function stripPromqlNoise(expr: string): string {
  return expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
}

/** Identifiers that are metric names (not functions, keywords or numbers), in order. */
function metricTokens(clean: string): MetricToken[] {
  const tokens: MetricToken[] = [];
  for (const m of clean.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const end = m.index + m[0].length;
    if (/^\s*\(/.test(clean.slice(end)) || PROMQL_KEYWORDS.has(m[0].toLowerCase())) continue;
    // The unit of a number or duration (1e9, offset 5m) is not a metric name.
    if (/[\d.]/.test(clean.charAt(m.index - 1))) continue;
    tokens.push({ name: m[0], rated: /\b(?:rate|irate)\s*\(\s*$/.test(clean.slice(0, m.index)) });
  }
  return tokens;
}

/** The unit a single metric's samples are in. */
function metricUnit({ name, rated }: MetricToken): Unit {
  if (/percent|_pct$/i.test(name)) return 'percent';
  if (/_ratio$/.test(name)) return 'ratio';
  // A histogram's _count counts observations, whatever unit the observations have.
  if (/_count$/.test(name)) return rated ? (/request/i.test(name) ? 'requests_per_second' : 'per_second') : 'plain';
  if (/_bytes_total$/.test(name)) return rated ? 'bytes_per_second' : 'bytes';
  if (/_seconds_total$/.test(name)) return rated ? (/cpu/i.test(name) ? 'cores' : 'seconds_per_second') : 'seconds';
  if (/_bytes(?:_|$)/.test(name)) return 'bytes';
  if (/_seconds(?:_|$)/.test(name)) return 'seconds';
  if (rated && /_(?:total|count)$/.test(name)) return /request/i.test(name) ? 'requests_per_second' : 'per_second';
  return 'plain';
}

/** Fixed-point with 3 significant digits (never dropping integer digits), trailing zeros removed. */
export function significant(value: number): string {
  if (value === 0 || Object.is(value, -0)) return '0';
  const abs = Math.abs(value);
  if (abs < 1e-6) return value.toExponential(2).replace(/\.?0+e/, 'e');
  const intDigits = Math.floor(Math.log10(abs)) + 1;
  const text = value.toFixed(Math.min(20, Math.max(0, 3 - intDigits)));
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

const SI = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
const IEC = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** A number with 3 significant digits and an SI suffix from 1000 up: 12.3456 -> "12.3", 1234567 -> "1.23M". */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return nonFinite(value);
  return scaled(value, 1000, SI, '');
}

/** Scales by powers of `base` until the 3-significant-digit mantissa is below `base`. */
function scaled(value: number, base: number, suffixes: readonly string[], space: string): string {
  let i = Math.abs(value) < base ? 0 : Math.min(suffixes.length - 1, Math.floor(Math.log(Math.abs(value)) / Math.log(base)));
  let text = significant(value / base ** i);
  if (Math.abs(Number(text)) >= base && i < suffixes.length - 1) text = significant(value / base ** ++i);
  const suffix = suffixes[i]!;
  return suffix ? `${text}${space}${suffix}` : text;
}

function nonFinite(value: number): string {
  return Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf';
}

/** A percentage already on 0..100: one decimal from 1% up ("95.0%"), 3 significant digits below. */
function formatPercent(value: number): string {
  const abs = Math.abs(value);
  return `${abs >= 1 && abs < 1000 ? value.toFixed(1) : formatNumber(value)}%`;
}

/** Bytes with binary prefixes: 1536 -> "1.5 KiB". */
function formatBytes(value: number): string {
  const text = scaled(value, 1024, IEC, ' ');
  return IEC.some((u) => text.endsWith(u)) ? text : `${text} B`;
}

/** Seconds on a human scale: 0.000234 -> "234µs", 0.012 -> "12ms", 12.34 -> "12.3s", 125 -> "2m 5s". */
function formatSeconds(value: number): string {
  const abs = Math.abs(value);
  const sign = value < 0 ? '-' : '';
  if (abs === 0) return '0s';
  if (abs < 1e-6) return `${sign}${significant(abs * 1e9)}ns`;
  if (abs < 1e-3) return `${sign}${significant(abs * 1e6)}µs`;
  if (abs < 1) return `${sign}${significant(abs * 1e3)}ms`;
  if (abs < 60) return `${sign}${significant(abs)}s`;
  return `${sign}${formatDuration(abs * 1000)}`;
}

/** Formats a sample value with its unit for a phone screen ("93.1%", "1.5 KiB", "234µs", "1.23M"). */
export function formatValue(value: number, unit: Unit, locale: Locale = 'en'): string {
  if (!Number.isFinite(value)) return nonFinite(value);
  switch (unit) {
    case 'percent':
      return formatPercent(value);
    case 'ratio':
      return formatPercent(value * 100);
    case 'bytes':
      return formatBytes(value);
    case 'bytes_per_second':
      return `${formatBytes(value)}/s`;
    case 'seconds':
      return formatSeconds(value);
    case 'cores': {
      const n = formatNumber(value);
      return translator(locale)('alert.unit.cores', { n: n === '1' ? 1 : 2, value: n });
    }
    case 'seconds_per_second':
      return `${formatNumber(value)} s/s`;
    case 'requests_per_second':
      return `${formatNumber(value)} req/s`;
    case 'per_second':
      return `${formatNumber(value)}/s`;
    case 'plain':
      return formatNumber(value);
  }
}

/** Discord timestamp styles: https://discord.com/developers/docs/reference#message-formatting-timestamp-styles */
export type TimestampStyle = 't' | 'T' | 'd' | 'D' | 'f' | 'F' | 'R';

/** Discord timestamp markup, shown in each reader's own time zone: `<t:1763715085:R>`. */
export function discordTimestamp(date: Date, style: TimestampStyle = 'f'): string {
  return `<t:${Math.floor(date.getTime() / 1000)}:${style}>`;
}

/** How long ago `then` was: "2m ago", "just now", "in 5s" (clock skew). */
export function formatAgo(then: Date, now: Date, locale: Locale = 'en'): string {
  const t = translator(locale);
  const ms = now.getTime() - then.getTime();
  if (Math.abs(ms) < 1000) return t('alert.ago.justNow');
  return ms > 0 ? t('alert.ago.past', { duration: formatDurationIn(locale, ms) }) : t('alert.ago.future', { duration: formatDurationIn(locale, -ms) });
}

const clockFormats = new Map<string, Intl.DateTimeFormat>();

/** The time of day in an IANA zone, "HH:MM:SS" (or "HH:MM" without seconds), 24-hour. */
export function formatClock(date: Date, timeZone: string, seconds = true): string {
  const key = `${timeZone}|${seconds}`;
  let f = clockFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', ...(seconds ? { second: '2-digit' } : {}), hourCycle: 'h23' });
    clockFormats.set(key, f);
  }
  return f.format(date);
}

const monthDayFormats = new Map<string, Intl.DateTimeFormat>();

/** The month and day in an IANA zone, "MM-DD". */
export function formatMonthDay(date: Date, timeZone: string): string {
  let f = monthDayFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, month: '2-digit', day: '2-digit' });
    monthDayFormats.set(timeZone, f);
  }
  return f.format(date);
}

/** Abbreviations people use where English has none in the time zone data (initials would guess wrong elsewhere). */
const ZONE_ABBREVIATIONS: Record<string, string> = { 'Asia/Seoul': 'KST', 'Asia/Pyongyang': 'KST', 'Asia/Tokyo': 'JST' };

/**
 * A short name for an IANA zone at an instant, as people say it: "UTC", "KST", "CET", "EST";
 * else its offset, "UTC+5:45".
 */
export function zoneName(timeZone: string, at: Date): string {
  if (timeZone === 'UTC' || timeZone === 'Etc/UTC') return 'UTC';
  const known = ZONE_ABBREVIATIONS[timeZone];
  if (known) return known;
  const part = (locale: string, timeZoneName: 'short' | 'shortOffset') =>
    new Intl.DateTimeFormat(locale, { timeZone, timeZoneName }).formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? '';
  // American English names America's zones (EST), British English Europe's (CET).
  const short = [part('en-US', 'short'), part('en-GB', 'short')].find((n) => /^[A-Z]{2,5}$/.test(n));
  if (short) return short;
  return part('en-GB', 'shortOffset').replace(/^GMT/, 'UTC') || timeZone;
}

/** True for a date Discord can show (the senders use 0001-01-01 for "unset"). */
export function isRealDate(date: Date | undefined): date is Date {
  return date !== undefined && Number.isFinite(date.getTime()) && date.getUTCFullYear() >= 1971;
}

/**
 * Escapes Discord markdown so label and annotation text shows as written: `\ * _ ` ~ | > < [ ]`
 * everywhere and `#` at a line start (a heading).
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\*_`~|><[\]]/g, '\\$&').replace(/^(\s*)#/gm, '$1\\#');
}

/** Text from a label, finding or error, safe to show in a message: one line, secrets masked, markdown escaped. */
export function safeText(text: string): string {
  return escapeMarkdown(maskSecrets(text.replace(/\s*[\r\n]+\s*/g, ' ')));
}

/** Keys whose values must never be shown: tokens, passwords, secrets, webhook URLs, credentials. */
export function isSecretKey(key: string): boolean {
  return /token|passw(?:or)?d|passwd|secret|webhook|api[-_]?key|credential|authorization|private[-_]?key|cookie|session/i.test(key);
}

/**
 * An http(s) URL safe to show: resolved against `base` when relative, without `user:pass@`, without
 * query parameters whose name looks secret, at most 2048 characters; undefined otherwise.
 */
export function safeUrl(raw: string | undefined, base?: string): string | undefined {
  if (!raw?.trim()) return undefined;
  let url: URL;
  try {
    url = new URL(raw.trim(), base);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  url.username = '';
  url.password = '';
  const secretKeys = [...url.searchParams.keys()].filter(isSecretKey);
  for (const key of secretKeys) url.searchParams.delete(key);
  return url.href.length <= EMBED_URL ? url.href : undefined;
}

/** A markdown link, with parentheses in the URL encoded so they cannot end the link early. */
export function markdownLink(label: string, url: string): string {
  return `[${label}](${url.replace(/\(/g, '%28').replace(/\)/g, '%29')})`;
}
