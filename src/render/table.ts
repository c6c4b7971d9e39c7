import { ELLIPSIS, truncate } from './truncate.js';

/** One column of a monospace table. */
export interface TableColumn {
  header: string;
  /** Numbers read best right-aligned; default left. */
  align?: 'left' | 'right';
  /** May be cut with `…` to keep the table within its width (names, label sets). */
  shrink?: boolean;
}

/** Options of {@link renderTable}. */
export interface TableOptions {
  /** Target width in characters; a phone shows about 40-48 in a code block. Default 44. */
  maxWidth?: number;
  /** A shrinkable column is never cut below this width. Default 8. */
  minShrinkWidth?: number;
  /** Spaces between columns. Default 2. */
  gap?: number;
}

/** Width a phone shows in a code block without wrapping, roughly. */
export const TABLE_WIDTH = 44;
const MIN_SHRINK_WIDTH = 8;
const GAP = 2;

/**
 * East Asian wide and fullwidth characters (Hangul, kana, CJK ideographs, fullwidth forms): a
 * monospace font gives each two columns, so a Korean header or cell counts double.
 */
const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/;

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Columns `text` takes in a monospace code block: one per character, two per wide one. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += WIDE.test(ch) ? 2 : 1;
  return width;
}

/** Cuts `text` to at most `width` columns, ending with `…` when cut (whole characters only). */
function fitWidth(text: string, width: number): string {
  // Without wide characters columns are code points: the shared truncate cuts exactly as before.
  if (!WIDE.test(text)) return truncate(text, width);
  if (displayWidth(text) <= width) return text;
  let out = '';
  let used = 0;
  for (const { segment } of graphemes.segment(text)) {
    const w = displayWidth(segment);
    if (used + w > width - 1) break;
    out += segment;
    used += w;
  }
  return width > 0 ? out.trimEnd() + ELLIPSIS : '';
}

/**
 * Makes a cell safe inside a ``` block: one line, no backtick (three in a row would close the
 * block early), no trailing spaces.
 */
export function cellText(value: string): string {
  return value
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/`/g, "'")
    .trimEnd();
}

/**
 * Column widths fitted to the content, then narrowed to `maxWidth`: the widest shrinkable column
 * loses a character at a time until the table fits or every shrinkable column is at its minimum.
 */
export function fitWidths(columns: readonly TableColumn[], rows: readonly (readonly string[])[], opts: TableOptions = {}): number[] {
  const maxWidth = opts.maxWidth ?? TABLE_WIDTH;
  const minShrink = opts.minShrinkWidth ?? MIN_SHRINK_WIDTH;
  const gap = opts.gap ?? GAP;
  const widths = columns.map((c, i) => Math.max(displayWidth(c.header), ...rows.map((r) => displayWidth(r[i] ?? ''))));
  const total = () => widths.reduce((a, b) => a + b, 0) + gap * Math.max(0, widths.length - 1);
  while (total() > maxWidth) {
    let widest = -1;
    columns.forEach((c, i) => {
      const floor = Math.max(minShrink, displayWidth(c.header));
      if (c.shrink && widths[i]! > floor && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
    });
    if (widest < 0) break;
    widths[widest]!--;
  }
  return widths;
}

/** Pads (or cuts, with `…`) one cell to its column width. */
function pad(text: string, width: number, align: 'left' | 'right'): string {
  const cut = fitWidth(text, width);
  const fill = ' '.repeat(Math.max(0, width - displayWidth(cut)));
  return align === 'right' ? fill + cut : cut + fill;
}

/**
 * An aligned monospace table (header line, then one line per row), for a ``` code block:
 * columns fitted to their content, right-aligned where asked, shrinkable columns cut with `…`
 * so the whole table stays within `maxWidth` where possible. Lines carry no trailing spaces.
 */
export function renderTable(columns: readonly TableColumn[], rows: readonly (readonly string[])[], opts: TableOptions = {}): string {
  const clean = rows.map((r) => columns.map((_, i) => cellText(r[i] ?? '')));
  const headers = columns.map((c) => cellText(c.header));
  const widths = fitWidths(
    columns.map((c, i) => ({ ...c, header: headers[i]! })),
    clean,
    opts,
  );
  const gap = ' '.repeat(opts.gap ?? GAP);
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => pad(cell, widths[i]!, columns[i]!.align ?? 'left'))
      .join(gap)
      .trimEnd();
  return [line(headers), ...clean.map(line)].join('\n');
}

/** Wraps text in a ``` code block (the text must not contain ```: see {@link cellText}). */
export function codeBlock(text: string): string {
  return `\`\`\`\n${text}\n\`\`\``;
}
