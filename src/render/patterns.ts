import type { LogPattern } from '../findings.js';
import { maskSecrets } from './mask.js';

/*
 * Log pattern grouping: lines that differ only in their variable parts (times, numbers, ids,
 * addresses, quoted values) share a pattern, so "38 × Request failed …" reads as one finding
 * instead of 38 lines. Secrets are masked first: they never reach a pattern or an example, and
 * two lines that differ only in a token still group together.
 */

/** One log line to group. */
export interface PatternInput {
  at: Date;
  line: string;
  /** The container (or other source) it came from. */
  source?: string;
}

const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';

/** Time stamps, most specific first: ISO 8601 / RFC 3339, Apache/nginx, syslog, a time of day alone. */
const TIMESTAMPS: readonly RegExp[] = [
  /\b\d{4}[-/]\d{2}[-/]\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s?Z|\s?[+-]\d{2}:?\d{2}|\s?UTC)?)?(?![\w:])/g,
  new RegExp(`\\b\\d{2}/${MONTH}/\\d{4}:\\d{2}:\\d{2}:\\d{2}(?: [+-]\\d{4})?`, 'g'),
  new RegExp(`\\b${MONTH} {1,2}\\d{1,2} \\d{2}:\\d{2}:\\d{2}\\b`, 'g'),
  /\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b/g,
];
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const IPV4 = /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])/g;
/** IPv6 with `::` or all eight groups (a time like 09:01:20 is masked before this runs). */
const IPV6 = /(?<![\w:.])(?:(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{0,4}::(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{0,4})(?![\w:])/gi;
/** `0x…`, or a run of 8+ hex digits holding both a digit and a letter (hashes, trace ids, object ids). */
const HEX = /\b0x[0-9a-f]+\b|(?<!\w)(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}(?!\w)/gi;
/** A token mixing letters and digits, at least a quarter digits (random ids), 10+ characters. */
const ID_TOKEN = /(?<![\w<>-])[A-Za-z0-9]{10,}(?![\w<>])/g;
/** A number on its own (not part of a word or a version such as 1.4.2), with an optional unit kept after it. */
const NUMBER = /(?<![\w.<])[-+]?\d+(?:\.\d+)?(?=(?:ns|us|µs|ms|s|m|h|d|[kKMGT]i?B|B|%)?(?!\w|\.\d))/g;
/**
 * A quoted single token ("x", 'x'): values such as names and keys. A JSON key (followed by `:`)
 * stays, and so do a lone placeholder ('<ip>') and a URL or absolute path, whose shape tells
 * lines apart (its numbers and addresses are already placeholders).
 */
const QUOTED = /(["'])([^"'\s]{1,200})\1(?!\s*:)/g;
const KEPT_QUOTED = /^(?:<[a-z]+>|[a-z][a-z0-9+.-]*:\/\/.*|\/.*)$/i;

/** JSON fields whose string values are kept as they are: small enumerations that tell lines apart. */
const KEPT_JSON_KEYS = new Set([
  'level',
  'lvl',
  'severity',
  'loglevel',
  'log_level',
  'levelname',
  'logger',
  'logger_name',
  'caller',
  'component',
  'module',
  'service',
  'app',
  'method',
  'status',
  'event',
  'type',
  'kind',
  'source',
  'stream',
]);
/** JSON fields holding prose: templated like a text line, never replaced whole. */
const MESSAGE_JSON_KEYS = new Set(['msg', 'message', 'error', 'err', 'exception', 'reason', 'log', 'description', 'detail']);

function isIdLike(token: string): boolean {
  const digits = token.replace(/\D/g, '').length;
  return digits >= 3 && token.length - digits >= 3 && digits * 4 >= token.length;
}

/** The variable parts of free text replaced by placeholders; quoted single tokens too when `quoted`. */
function templateText(text: string, quoted = true): string {
  let out = text;
  for (const re of TIMESTAMPS) out = out.replace(re, '<ts>');
  out = out
    .replace(UUID, '<uuid>')
    .replace(IPV4, '<ip>')
    .replace(IPV6, (m) => (m.length >= 3 ? '<ip>' : m))
    .replace(HEX, '<hex>')
    .replace(ID_TOKEN, (m) => (isIdLike(m) ? '<id>' : m))
    .replace(NUMBER, '<num>');
  if (quoted) out = out.replace(QUOTED, (m, q: string, body: string) => (KEPT_QUOTED.test(body) ? m : `${q}<str>${q}`));
  return out.replace(/\s+/g, ' ').trim();
}

/** Stands in for a JSON number while the object is serialised, then becomes `<num>` unquoted. */
const NUM_MARK = '\u0000num\u0000';

function templateJsonValue(key: string, value: unknown): unknown {
  if (typeof value === 'number') return NUM_MARK;
  if (typeof value === 'string') {
    const lower = key.toLowerCase();
    if (KEPT_JSON_KEYS.has(lower)) return value;
    const templated = templateText(value);
    if (MESSAGE_JSON_KEYS.has(lower) || templated !== value || /\s/.test(value)) return templated;
    return value === '' ? value : '<str>';
  }
  if (Array.isArray(value)) return value.map((v) => templateJsonValue(key, v));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, templateJsonValue(k, v)]));
  }
  return value;
}

/** A JSON object line templated field by field (keys and level-like values kept), or undefined. */
function templateJson(line: string): string | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  return JSON.stringify(templateJsonValue('', parsed)).split(JSON.stringify(NUM_MARK)).join('<num>');
}

/**
 * The pattern of one log line: secrets masked, then times (<ts>), UUIDs (<uuid>), IPv4/IPv6
 * addresses (<ip>), hex ids (<hex>), random ids (<id>), numbers (<num>, a unit after them kept)
 * and quoted single tokens (<str>) replaced, whitespace collapsed. A JSON object line keeps its
 * keys and level-like values; its messages are templated like text.
 */
export function templateOf(line: string): string {
  return templateOfMasked(maskSecrets(line));
}

function templateOfMasked(masked: string): string {
  return templateJson(masked) ?? templateText(masked);
}

/**
 * Groups lines by pattern, most frequent first (ties: the newest first). Each pattern keeps its
 * count, its newest line as the example (secrets masked), when it first and last occurred, and
 * its source when every line came from the same one.
 */
export function groupPatterns(lines: readonly PatternInput[]): LogPattern[] {
  const groups = new Map<string, LogPattern & { sources: Set<string> }>();
  for (const l of lines) {
    // Masked once: the pattern and the example are both made from it.
    const masked = maskSecrets(l.line);
    const pattern = templateOfMasked(masked);
    const seen = groups.get(pattern);
    if (!seen) {
      groups.set(pattern, { pattern, count: 1, example: masked, exampleAt: l.at, firstAt: l.at, sources: new Set([l.source ?? '']) });
      continue;
    }
    seen.count++;
    seen.sources.add(l.source ?? '');
    if (l.at > seen.exampleAt) {
      seen.exampleAt = l.at;
      seen.example = masked;
    }
    if (l.at < seen.firstAt) seen.firstAt = l.at;
  }
  return [...groups.values()]
    .sort((a, b) => b.count - a.count || b.exampleAt.getTime() - a.exampleAt.getTime())
    .map(({ sources, ...p }) => {
      const [only] = sources;
      return sources.size === 1 && only ? { ...p, source: only } : p;
    });
}
