import type { APIEmbed, APIEmbedField, RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { translator, type T } from '../i18n/index.js';
import type { Locale } from '../model.js';
import {
  EMBED_AUTHOR_NAME,
  EMBED_DESCRIPTION,
  EMBED_FIELDS,
  EMBED_FIELD_NAME,
  EMBED_FIELD_VALUE,
  EMBED_FOOTER_TEXT,
  EMBED_TITLE,
  EMBED_TOTAL,
  EMBED_URL,
  MESSAGE_CONTENT,
  MESSAGE_EMBEDS,
} from './limits.js';

/** What a cut did, in code points. */
export interface CutInfo {
  /** Length before the cut. */
  from: number;
  /** Length after the cut (at most `max`). */
  to: number;
  max: number;
}

/** Receives one call per cut the renderer or `fitMessage` made; the caller logs it. */
export type Warn = (msg: string, details: Record<string, unknown>) => void;

/** A Warn that logs each cut at warn level on `logger` (pino's argument order: details, then message). */
export function warnTo(logger: { warn(details: Record<string, unknown>, msg: string): void }): Warn {
  return (msg, details) => logger.warn(details, msg);
}

/** The mark that ends a cut text. */
export const ELLIPSIS = '…';

const FENCE = '```';
/** Zero-width space: Discord rejects empty field names and values. */
const EMPTY_FIELD = '\u200b';
/** Parts are not shortened below this many code points before fields start being dropped. */
const PART_FLOOR = 160;
/** How far back from a cut the grapheme search looks (UTF-16 units). */
const GRAPHEME_WINDOW = 64;

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Number of Unicode code points in `text` (how Discord counts characters). */
export function codePointLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    if (isHigh(text.charCodeAt(i)) && isLow(text.charCodeAt(i + 1))) i++;
    n++;
  }
  return n;
}

/** UTF-16 index just after the first `count` code points of `text`. */
function indexAfterCodePoints(text: string, count: number): number {
  let i = 0;
  for (let n = 0; n < count && i < text.length; n++) {
    i += isHigh(text.charCodeAt(i)) && isLow(text.charCodeAt(i + 1)) ? 2 : 1;
  }
  return i;
}

/** The last grapheme boundary at or before `index`, so an emoji sequence is never split. */
function graphemeBoundaryAtOrBefore(text: string, index: number): number {
  if (index >= text.length) return text.length;
  // Fast path: no combining mark, joiner, flag or CR LF pair can straddle a cut between two
  // characters below U+0300 (the segmenter is slow enough to matter on huge inputs).
  const before = text.charCodeAt(index - 1);
  if (index === 0 || (before < 0x300 && before !== 0x0d && text.charCodeAt(index) < 0x300)) return index;
  let start = Math.max(0, index - GRAPHEME_WINDOW);
  if (isLow(text.charCodeAt(start)) && start > 0 && isHigh(text.charCodeAt(start - 1))) start++;
  let best = start;
  for (const seg of segmenter.segment(text.slice(start, Math.min(text.length, index + GRAPHEME_WINDOW)))) {
    const at = start + seg.index;
    if (at > index) break;
    best = at;
  }
  return best;
}

/**
 * Cuts `text` to at most `max` code points, ending with `…` when cut. Never splits a surrogate
 * pair or an emoji sequence; `onCut` is called once when the text was cut.
 */
export function truncate(text: string, max: number, onCut?: (info: CutInfo) => void): string {
  const limit = Math.max(0, Math.floor(max));
  const from = codePointLength(text);
  if (from <= limit) return text;
  const out = limit === 0 ? '' : cutBefore(text, limit - 1) + ELLIPSIS;
  onCut?.({ from, to: codePointLength(out), max: limit });
  return out;
}

/** The longest whole-grapheme prefix of at most `count` code points, trailing spaces dropped. */
function cutBefore(text: string, count: number): string {
  const end = graphemeBoundaryAtOrBefore(text, indexAfterCodePoints(text, count));
  return text.slice(0, end).trimEnd();
}

/**
 * Like `truncate` for a text ending in a fenced code block (text before the block allowed): cuts
 * inside the block, preferring a line boundary, and keeps the closing ``` fence so the rest of the
 * message is not swallowed by an open block. Falls back to dropping the block when even the text
 * before it does not fit.
 */
export function truncateCodeBlock(text: string, max: number, onCut?: (info: CutInfo) => void): string {
  const limit = Math.max(0, Math.floor(max));
  const from = codePointLength(text);
  if (from <= limit) return text;
  const out = cutCodeBlock(text, limit);
  onCut?.({ from, to: codePointLength(out), max: limit });
  return out;
}

function cutCodeBlock(text: string, limit: number): string {
  const open = text.endsWith(FENCE) ? text.lastIndexOf(FENCE, text.length - FENCE.length - 1) : -1;
  const bodyStart = open < 0 ? 0 : text.indexOf('\n', open) + 1;
  if (open < 0 || bodyStart === 0 || bodyStart > text.length - FENCE.length) return truncate(text, limit);
  const head = text.slice(0, bodyStart);
  const body = text.slice(bodyStart, text.length - FENCE.length).replace(/\n$/, '');
  const close = `\n${FENCE}`;
  const room = limit - codePointLength(head) - codePointLength(close);
  // Too small for even one character of the block: keep only the text before it.
  if (room < 2) return truncate(text.slice(0, open).trimEnd(), limit);
  return head + cutAtLine(body, room) + close;
}

/** Cuts to `room` code points, at the last line break when that keeps at least half the text. */
function cutAtLine(body: string, room: number): string {
  const cut = truncate(body, room);
  if (cut === body) return body;
  const kept = cut.slice(0, -ELLIPSIS.length);
  const nl = kept.lastIndexOf('\n');
  return nl >= kept.length / 2 ? `${kept.slice(0, nl)}\n${ELLIPSIS}` : cut;
}

/** Shortens a message part: code-block aware, so a cut value never leaves a fence open. */
function shorten(text: string, max: number): string {
  return text.endsWith(FENCE) && text.indexOf(FENCE) < text.length - FENCE.length ? truncateCodeBlock(text, max) : truncate(text, max);
}

/** A message body `fitMessage` can check: create and edit bodies both fit. */
export interface MessageBody {
  content?: string | null | undefined;
  embeds?: APIEmbed[] | null | undefined;
}

/** One string of an embed that counts towards the 6000 total. */
interface Part {
  path: string;
  get: () => string;
  set: (value: string) => void;
}

/**
 * The final guard before a message goes to Discord: enforces every length and count limit on a
 * copy of `body` (content, embed count, title, description, url, author, field names/values, field
 * count, footer, and the 6000 total across embeds) and calls `warn` once per cut. The total is met
 * by shortening the longest parts first (not below a floor), then dropping fields last-first with a
 * final field saying how many were dropped, then shortening further if still needed.
 */
export function fitMessage<T extends MessageBody>(body: T, warn: Warn, locale: Locale): T {
  const t = translator(locale);
  const out = structuredClone(body);
  const cut = (path: string, limitName: string, text: string, max: number): string => {
    const from = codePointLength(text);
    if (from <= max) return text;
    const result = shorten(text, max);
    warn('message part shortened to fit Discord limits', { part: path, limit: limitName, max, from, to: codePointLength(result) });
    return result;
  };
  if (typeof out.content === 'string') out.content = cut('content', 'MESSAGE_CONTENT', out.content, MESSAGE_CONTENT);
  if (!out.embeds) return out;
  if (out.embeds.length > MESSAGE_EMBEDS) {
    warn('embeds dropped to fit Discord limits', { part: 'embeds', limit: 'MESSAGE_EMBEDS', max: MESSAGE_EMBEDS, from: out.embeds.length });
    out.embeds = out.embeds.slice(0, MESSAGE_EMBEDS);
  }
  out.embeds.forEach((embed, i) => fitEmbed(embed, `embeds[${i}]`, cut, warn, t));
  fitTotal(out.embeds, cut, warn, t);
  return out;
}

type Cutter = (path: string, limitName: string, text: string, max: number) => string;

/** Applies the per-embed limits in place. */
function fitEmbed(embed: APIEmbed, path: string, cut: Cutter, warn: Warn, t: T): void {
  if (embed.title !== undefined) embed.title = cut(`${path}.title`, 'EMBED_TITLE', embed.title, EMBED_TITLE);
  if (embed.description !== undefined) {
    embed.description = cut(`${path}.description`, 'EMBED_DESCRIPTION', embed.description, EMBED_DESCRIPTION);
  }
  // Discord wants these absent rather than empty.
  if (embed.title === '') delete embed.title;
  if (embed.description === '') delete embed.description;
  if (embed.url !== undefined && embed.url.length > EMBED_URL) {
    // A shortened URL would point somewhere else: drop the link instead.
    warn('embed url dropped to fit Discord limits', { part: `${path}.url`, limit: 'EMBED_URL', max: EMBED_URL, from: embed.url.length });
    delete embed.url;
  }
  if (embed.author) {
    embed.author.name = cut(`${path}.author.name`, 'EMBED_AUTHOR_NAME', embed.author.name, EMBED_AUTHOR_NAME);
    if (!embed.author.name) delete embed.author;
  }
  if (embed.footer) {
    embed.footer.text = cut(`${path}.footer.text`, 'EMBED_FOOTER_TEXT', embed.footer.text, EMBED_FOOTER_TEXT);
    if (!embed.footer.text) delete embed.footer;
  }
  if (!embed.fields) return;
  if (embed.fields.length > EMBED_FIELDS) {
    const dropped = embed.fields.length - (EMBED_FIELDS - 1);
    warn('embed fields dropped to fit Discord limits', {
      part: `${path}.fields`,
      limit: 'EMBED_FIELDS',
      max: EMBED_FIELDS,
      from: embed.fields.length,
      dropped,
    });
    embed.fields = [...embed.fields.slice(0, EMBED_FIELDS - 1), droppedNote(dropped, t)];
  }
  embed.fields.forEach((field, j) => {
    field.name = cut(`${path}.fields[${j}].name`, 'EMBED_FIELD_NAME', field.name, EMBED_FIELD_NAME);
    field.value = cut(`${path}.fields[${j}].value`, 'EMBED_FIELD_VALUE', field.value, EMBED_FIELD_VALUE);
    if (!field.name.trim()) field.name = EMPTY_FIELD;
    if (!field.value.trim()) field.value = EMPTY_FIELD;
  });
}

/** Marks a dropped-fields note while fitMessage works; stripped before it returns. */
const DROPPED = Symbol('dropped');

/** The field that replaces dropped fields. */
function droppedNote(count: number, t: T): APIEmbedField & { [DROPPED]: number } {
  return {
    name: ELLIPSIS,
    value: t('alert.fieldsDropped', { count }),
    [DROPPED]: count,
  };
}

/** Enforces the 6000 total across all embeds in place. */
function fitTotal(embeds: APIEmbed[], cut: Cutter, warn: Warn, t: T): void {
  if (totalLength(embeds) <= EMBED_TOTAL) return stripMarks(embeds);
  const level = waterLevel(
    parts(embeds).map((p) => codePointLength(p.get())),
    EMBED_TOTAL,
  );
  if (level >= PART_FLOOR) {
    capParts(parts(embeds), level, cut);
    return stripMarks(embeds);
  }
  capParts(parts(embeds), PART_FLOOR, cut);
  dropFields(embeds, warn, t);
  if (totalLength(embeds) > EMBED_TOTAL) {
    capParts(
      parts(embeds),
      waterLevel(
        parts(embeds).map((p) => codePointLength(p.get())),
        EMBED_TOTAL,
      ),
      cut,
    );
  }
  stripMarks(embeds);
}

/** Drops fields last-first (keeping a note field per embed) until the total fits. */
function dropFields(embeds: APIEmbed[], warn: Warn, t: T): void {
  const fieldLength = (f: APIEmbedField) => codePointLength(f.name) + codePointLength(f.value);
  const noteLength = (count: number) => (count ? fieldLength(droppedNote(count, t)) : 0);
  let total = totalLength(embeds);
  let dropped = 0;
  for (let i = embeds.length - 1; i >= 0 && total > EMBED_TOTAL; i--) {
    const fields = embeds[i]!.fields ?? [];
    const last: (APIEmbedField & { [DROPPED]?: number }) | undefined = fields.at(-1);
    const before = last?.[DROPPED] ?? 0;
    if (before) total -= fieldLength(fields.pop()!);
    let count = before;
    while (fields.length > 0 && total + noteLength(count) > EMBED_TOTAL) {
      total -= fieldLength(fields.pop()!);
      count++;
    }
    if (count) fields.push(droppedNote(count, t));
    total += noteLength(count);
    dropped += count - before;
    embeds[i]!.fields = fields;
  }
  if (dropped) warn('embed fields dropped to fit Discord limits', { part: 'embeds', limit: 'EMBED_TOTAL', max: EMBED_TOTAL, dropped });
}

function stripMarks(embeds: APIEmbed[]): void {
  for (const embed of embeds) {
    if (embed.fields) embed.fields = embed.fields.map(({ name, value, inline }) => (inline === undefined ? { name, value } : { name, value, inline }));
  }
}

/** Shortens every part longer than `level` down to `level`. */
function capParts(list: Part[], level: number, cut: Cutter): void {
  for (const p of list) {
    const text = p.get();
    if (codePointLength(text) > level) p.set(cut(p.path, 'EMBED_TOTAL', text, level));
  }
}

/** The largest L with sum(min(length, L)) <= budget (Infinity when everything fits already). */
function waterLevel(lengths: readonly number[], budget: number): number {
  const sorted = [...lengths].sort((a, b) => a - b);
  let used = 0;
  for (let i = 0; i < sorted.length; i++) {
    const remaining = sorted.length - i;
    const level = Math.floor((budget - used) / remaining);
    if (level < sorted[i]!) return Math.max(0, level);
    used += sorted[i]!;
  }
  return Number.POSITIVE_INFINITY;
}

/** Every string counting towards the 6000 total. */
function parts(embeds: APIEmbed[]): Part[] {
  const list: Part[] = [];
  embeds.forEach((e, i) => {
    const p = `embeds[${i}]`;
    if (e.title) list.push({ path: `${p}.title`, get: () => e.title!, set: (v) => (e.title = v) });
    if (e.description) list.push({ path: `${p}.description`, get: () => e.description!, set: (v) => (e.description = v) });
    if (e.author) list.push({ path: `${p}.author.name`, get: () => e.author!.name, set: (v) => (e.author!.name = v || EMPTY_FIELD) });
    if (e.footer) list.push({ path: `${p}.footer.text`, get: () => e.footer!.text, set: (v) => (e.footer!.text = v || EMPTY_FIELD) });
    (e.fields ?? []).forEach((f, j) => {
      list.push({ path: `${p}.fields[${j}].name`, get: () => f.name, set: (v) => (f.name = v || EMPTY_FIELD) });
      list.push({ path: `${p}.fields[${j}].value`, get: () => f.value, set: (v) => (f.value = v || EMPTY_FIELD) });
    });
  });
  return list;
}

/** Characters counted towards Discord's 6000 total over all embeds, in code points as Discord counts (or by `count`). */
export function totalLength(embeds: readonly APIEmbed[], count: (text: string) => number = codePointLength): number {
  let n = 0;
  for (const e of embeds) {
    n += count(e.title ?? '') + count(e.description ?? '');
    n += count(e.author?.name ?? '') + count(e.footer?.text ?? '');
    for (const f of e.fields ?? []) n += count(f.name) + count(f.value);
  }
  return n;
}

/** A text's length in UTF-16 units: never fewer than its code points, so a total within a limit counted so is within it as Discord counts. */
export function utf16Length(text: string): number {
  return text.length;
}

/**
 * Two messages of embeds as one, when together they hold at most MESSAGE_EMBEDS embeds and
 * EMBED_TOTAL characters (counted in UTF-16 units, never fewer than Discord counts) and neither
 * has content, components or files; undefined when they do not fit, so both go as they are.
 */
export function joinEmbeds(a: RESTPostAPIChannelMessageJSONBody, b: RESTPostAPIChannelMessageJSONBody): RESTPostAPIChannelMessageJSONBody | undefined {
  const only = (m: RESTPostAPIChannelMessageJSONBody) =>
    !m.content &&
    !m.components?.length &&
    !m.attachments?.length &&
    !m.flags &&
    !m.poll &&
    !m.sticker_ids?.length &&
    !m.message_reference &&
    (m.embeds?.length ?? 0) > 0;
  if (!only(a) || !only(b) || JSON.stringify(a.allowed_mentions) !== JSON.stringify(b.allowed_mentions)) return undefined;
  const embeds = [...a.embeds!, ...b.embeds!];
  if (embeds.length > MESSAGE_EMBEDS || totalLength(embeds, utf16Length) > EMBED_TOTAL) return undefined;
  return { ...a, embeds };
}
