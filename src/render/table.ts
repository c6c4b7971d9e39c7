import { codePointLength, truncate } from './truncate.js';

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
  const widths = columns.map((c, i) => Math.max(codePointLength(c.header), ...rows.map((r) => codePointLength(r[i] ?? ''))));
  const total = () => widths.reduce((a, b) => a + b, 0) + gap * Math.max(0, widths.length - 1);
  while (total() > maxWidth) {
    let widest = -1;
    columns.forEach((c, i) => {
      const floor = Math.max(minShrink, codePointLength(c.header));
      if (c.shrink && widths[i]! > floor && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
    });
    if (widest < 0) break;
    widths[widest]!--;
  }
  return widths;
}

/** Pads (or cuts, with `…`) one cell to its column width. */
function pad(text: string, width: number, align: 'left' | 'right'): string {
  const cut = truncate(text, width);
  const fill = ' '.repeat(Math.max(0, width - codePointLength(cut)));
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
