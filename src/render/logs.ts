import type { APIEmbed } from 'discord-api-types/v10';
import { formatDurationIn, translator, type Locale, type T } from '../i18n/index.js';
import type { LabelledLogEntry } from '../queries/loki.js';
import { cleanLogLine } from './finding-text.js';
import { discordTimestamp, escapeMarkdown, isRealDate } from './format.js';
import { maskSecrets } from './mask.js';
import { EMBED_DESCRIPTION, EMBED_TITLE } from './limits.js';
import { codePointLength, fitMessage, truncate, type Warn } from './truncate.js';

/** One distinct log line: how often it occurred and when it last did. */
export interface CollapsedLine {
  /** The newest occurrence. */
  at: Date;
  /** The oldest occurrence (equals `at` for a single line). */
  firstAt: Date;
  line: string;
  container?: string;
  count: number;
}

/** What `renderLogsMessage` needs. */
export interface LogsMessageInput {
  /** The one container the request named; without it every line names its container. */
  container?: string;
  /** What the lines were selected by when no single container was named ("all containers", an alert's selector). */
  scope: string;
  /** What the lines were filtered by: "error-like lines", "level error", 'lines containing "x"'. */
  filter: string;
  window: { start: Date; end: Date };
  /** The window is "the last <duration>" (a /logs request) rather than an incident's window. */
  relative: boolean;
  /** The LogQL sent to Loki, shown small at the bottom. */
  query: string;
  /** The lines Loki returned, newest first. */
  entries: readonly LabelledLogEntry[];
  /** Loki stopped at its line limit: counts are "at least". */
  capped: boolean;
  /** Distinct lines shown at most. */
  limit: number;
  /** The language of the answer; default 'en'. */
  locale?: Locale;
}

/** What `renderLogsError` needs. */
export interface LogsErrorInput {
  container?: string;
  scope: string;
  query: string;
  message: string;
  /** The language of the answer; default 'en'. */
  locale?: Locale;
}

/** A log embed: one message body for a reply or a follow-up. */
export interface LogsMessage {
  embeds: APIEmbed[];
}

const COLOR = 0x95a5a6;
const ERROR_COLOR = 0xe74c3c;
/** A log line is cut to this many characters when the message has room... */
const LINE_MAX = 300;
/** ...and never below this, showing fewer lines instead. */
const LINE_MIN = 80;
const QUERY_MAX = 500;
const CONTAINER_MAX = 40;
const SCOPE_MAX = 200;
const ERROR_MAX = 500;
/** Room kept at the end of the description for the "+N more" line. */
const MORE_RESERVE = 60;
/** Past this window length a time alone is ambiguous: the date is shown too. */
const ONE_DAY_MS = 86_400_000;

/** The label naming a line's container, in the order log agents set them. */
export function containerOf(labels: Readonly<Record<string, string>>): string | undefined {
  return labels.container_name || labels.container || labels.compose_service || undefined;
}

/**
 * Collapses exact duplicates (same container, same text) into one line with a count, in order of
 * each line's newest occurrence. `entries` must be newest first, as Loki's backward direction gives.
 */
export function collapseLines(entries: readonly LabelledLogEntry[]): CollapsedLine[] {
  const byKey = new Map<string, CollapsedLine>();
  for (const e of entries) {
    const container = containerOf(e.labels);
    const key = `${container ?? ''}\u0000${e.line}`;
    const seen = byKey.get(key);
    if (seen) {
      seen.count++;
      if (e.at < seen.firstAt) seen.firstAt = e.at;
      if (e.at > seen.at) seen.at = e.at;
    } else {
      byKey.set(key, { at: e.at, firstAt: e.at, line: e.line, ...(container ? { container } : {}), count: 1 });
    }
  }
  return [...byKey.values()];
}

/** A log line as inline code: one line, scrubbed, no backtick that could end the code span. */
function inlineCode(line: string, max: number, t: T): string {
  const text = truncate(cleanLogLine(line).replace(/`/g, 'ˋ'), max);
  return text ? `\`${text}\`` : t('commands.logs.emptyLine');
}

/** "<t:…:T> **api** ×3 `line`": the time in each reader's own time zone, then where, how often and what. */
function entryLine(c: CollapsedLine, input: LogsMessageInput, lineMax: number, t: T): string {
  const long = input.window.end.getTime() - input.window.start.getTime() > ONE_DAY_MS;
  const parts = [isRealDate(c.at) ? discordTimestamp(c.at, long ? 'f' : 'T') : '--:--:--'];
  if (!input.container && c.container) parts.push(`**${escapeMarkdown(truncate(c.container, CONTAINER_MAX))}**`);
  if (c.count > 1) parts.push(`×${c.count}`);
  parts.push(inlineCode(c.line, lineMax, t));
  return parts.join(' ');
}

function titleOf(container: string | undefined, scope: string, t: T): string {
  const what = container ?? scope;
  return truncate(t('commands.logs.title', { what: escapeMarkdown(maskSecrets(what).replace(/\s+/g, ' ')) }), Math.min(EMBED_TITLE, SCOPE_MAX));
}

/** "Error-like lines · last 15m · newest first", or the incident window as times. */
function headline(input: LogsMessageInput, t: T): string {
  const { start, end } = input.window;
  const when = input.relative
    ? t('commands.logs.last', { duration: formatDurationIn(input.locale ?? 'en', end.getTime() - start.getTime()) })
    : `${discordTimestamp(start, 'f')} – ${discordTimestamp(end, 't')}`;
  const filter = input.filter.charAt(0).toUpperCase() + input.filter.slice(1);
  return t('commands.logs.headline', { filter: escapeMarkdown(filter), when });
}

/** "57 matching lines · 20 of 31 distinct shown", then the query. Footers show no markdown. */
function footer(input: LogsMessageInput, distinct: number, shown: number, t: T): string {
  const total = input.entries.length;
  const counts = [t(input.capped ? 'commands.logs.matchingCapped' : 'commands.logs.matching', { count: total })];
  if (shown < distinct) counts.push(t('commands.logs.shownOf', { shown, distinct }));
  else if (distinct < total) counts.push(t('commands.logs.distinct', { count: distinct }));
  return `${counts.join(' · ')}\n${truncate(input.query, QUERY_MAX)}`;
}

/** Whole entries while they fit in `room`, then "+N more" for the rest. */
function fitEntries(lines: string[], room: number, t: T): { text: string; shown: number } {
  const out: string[] = [];
  let used = 0;
  for (const line of lines) {
    const len = codePointLength(line) + (out.length ? 1 : 0);
    if (used + len > room) break;
    out.push(line);
    used += len;
  }
  const shown = out.length;
  const more = lines.length - shown;
  if (more > 0) out.push(t('commands.logs.moreLines', { count: more }));
  return { text: out.join('\n'), shown };
}

/**
 * Renders log lines for Discord, newest first: an embed whose description holds one line per
 * distinct log line (time as `<t:…>` markup, container when the request spans several, a count
 * for repeats, the text as inline code: markup cannot live in a code block), the query in the
 * footer, within every Discord limit.
 */
export function renderLogsMessage(input: LogsMessageInput, warn: Warn): LogsMessage {
  const t = translator(input.locale ?? 'en');
  const collapsed = collapseLines(input.entries);
  const head = headline(input, t);
  const embed: APIEmbed = { title: titleOf(input.container, input.scope, t), color: COLOR };
  if (!collapsed.length) {
    embed.description = `${head}\n\n${t('commands.logs.noLines')}`;
    embed.footer = { text: footer(input, 0, 0, t) };
    return fitMessage({ embeds: [embed] }, warn, input.locale ?? 'en');
  }
  const chosen = collapsed.slice(0, Math.max(1, input.limit));
  const room = EMBED_DESCRIPTION - codePointLength(head) - 2 - MORE_RESERVE;
  // Shorter lines before fewer lines, down to a length that still says something.
  const perLine = Math.max(LINE_MIN, Math.min(LINE_MAX, Math.floor(room / chosen.length) - 40));
  const { text, shown } = fitEntries(
    chosen.map((c) => entryLine(c, input, perLine, t)),
    room,
    t,
  );
  if (shown < chosen.length) warn('log lines omitted to fit the message', { part: 'logs', omitted: chosen.length - shown });
  embed.description = `${head}\n\n${text}`;
  embed.footer = { text: footer(input, collapsed.length, shown, t) };
  return fitMessage({ embeds: [embed] }, warn, input.locale ?? 'en');
}

/** Renders a failed log query: Loki's own words and the query that failed. */
export function renderLogsError(input: LogsErrorInput, warn: Warn): LogsMessage {
  const t = translator(input.locale ?? 'en');
  const embed: APIEmbed = {
    title: titleOf(input.container, input.scope, t),
    color: ERROR_COLOR,
    description: t('commands.logs.lokiFailed', { error: escapeMarkdown(truncate(maskSecrets(input.message), ERROR_MAX)) }),
    footer: { text: truncate(input.query, QUERY_MAX) },
  };
  return fitMessage({ embeds: [embed] }, warn, input.locale ?? 'en');
}
