import { formatDurationIn, translator, type Locale, type T } from '../i18n/index.js';
import type { InstantSample, QueryResult, RangeSeries } from '../queries/prometheus.js';
import { escapeMarkdown, formatValue, type Unit } from './format.js';
import { maskSecrets } from './mask.js';
import { cellText, codeBlock, renderTable } from './table.js';
import { truncate } from './truncate.js';

/** Instant vector rows shown; the rest are counted. */
export const MAX_INSTANT_ROWS = 25;
/** Range series summarised; the rest are counted. */
export const MAX_RANGE_SERIES = 10;
/** The range table has four columns: a little wider than the others. */
const RANGE_TABLE_WIDTH = 48;
const MAX_EXPR_CHARS = 120;

/** Labels every series shares, and the names whose values tell the series apart. */
export interface LabelSplit {
  common: Record<string, string>;
  distinguishing: string[];
}

/** Splits label sets into the labels all share (same value everywhere) and the ones that differ. */
export function splitLabels(sets: readonly Record<string, string>[]): LabelSplit {
  const names = [...new Set(sets.flatMap((s) => Object.keys(s)))].sort((a, b) => (a === '__name__' ? -1 : b === '__name__' ? 1 : a.localeCompare(b)));
  const common: Record<string, string> = {};
  const distinguishing: string[] = [];
  for (const name of names) {
    const values = new Set(sets.map((s) => s[name]));
    const only = values.size === 1 ? [...values][0] : undefined;
    if (only !== undefined) common[name] = only;
    else distinguishing.push(name);
  }
  return { common, distinguishing };
}

/** `k=v k=v`, the metric name bare and first; `{}` for an empty set. */
export function compactLabels(labels: Record<string, string>, names: readonly string[] = Object.keys(labels)): string {
  const parts = names.filter((n) => labels[n] !== undefined).map((n) => (n === '__name__' ? labels[n]! : `${n}=${labels[n]}`));
  return parts.length ? parts.join(' ') : '{}';
}

/**
 * The label text of each series: only what tells it apart from the others; the metric name (or
 * `{}`) when nothing does, as for a single series whose labels are all shown above the table.
 */
function seriesNames(sets: readonly Record<string, string>[]): { names: string[]; common: Record<string, string> } {
  const split = splitLabels(sets);
  const name = (s: Record<string, string>) => (split.distinguishing.length ? compactLabels(s, split.distinguishing) : (s['__name__'] ?? '{}'));
  return { names: sets.map(name), common: split.common };
}

/** The query as inline code, cut for a phone. */
function exprCode(expr: string): string {
  return `\`${truncate(cellText(expr.replace(/\s+/g, ' ').trim()), MAX_EXPR_CHARS)}\``;
}

/** A line naming the labels every row shares ("all: …"), or the one series' labels; none when empty. */
function commonLine(common: Record<string, string>, rows: number, t: T): string[] {
  if (!Object.keys(common).length) return [];
  const labels = escapeMarkdown(truncate(compactLabels(common), 300));
  return [`-# ${rows > 1 ? t('commands.query.allLabels', { labels }) : labels}`];
}

/** "+N more" under a cut table. */
function moreLine(hidden: number, t: T): string[] {
  return hidden > 0 ? [t('commands.query.moreSeries', { count: hidden })] : [];
}

/** Largest first, NaN last, keeping Prometheus' order when the query sorts itself. */
function ordered(samples: readonly InstantSample[], expr: string): InstantSample[] {
  if (/\bsort(?:_desc|_by_label|_by_label_desc)?\s*\(/.test(expr)) return [...samples];
  const v = (s: InstantSample) => (Number.isNaN(s.value) ? -Infinity : s.value);
  return [...samples].sort((a, b) => v(b) - v(a));
}

/** An instant vector as an aligned table: distinguishing labels, value with its unit. */
function renderVector(expr: string, samples: readonly InstantSample[], unit: Unit, t: T): string {
  const head = t('commands.query.instant', { expr: exprCode(expr), count: samples.length });
  if (samples.length === 0) return `${head}\n${t('commands.query.emptyVector')}`;
  const sorted = ordered(samples, expr);
  const shown = sorted.slice(0, MAX_INSTANT_ROWS);
  const { names, common } = seriesNames(shown.map((s) => s.labels));
  const table = renderTable(
    [
      { header: t('commands.query.column.series'), shrink: true },
      { header: t('commands.query.column.value'), align: 'right' },
    ],
    shown.map((s, i) => [names[i]!, formatValue(s.value, unit, t.locale)]),
  );
  return [head, ...commonLine(common, shown.length, t), codeBlock(table), ...moreLine(sorted.length - shown.length, t)].join('\n');
}

/**
 * An instant query result: a vector as an aligned table (labels reduced to the ones that tell the
 * series apart, values with the unit inferred from the query), a scalar or string plainly, a
 * matrix (a range selector) summarised like a range query.
 */
export function renderInstant(expr: string, result: QueryResult, unit: Unit, locale: Locale = 'en'): string {
  const t = translator(locale);
  const code = exprCode(expr);
  switch (result.resultType) {
    case 'vector':
      return renderVector(expr, result.result, unit, t);
    case 'scalar':
      return `${t('commands.query.scalar', { expr: code })}\n**${formatValue(result.result.value, unit, t.locale)}**`;
    case 'string':
      return `${t('commands.query.string', { expr: code })}\n${codeBlock(truncate(result.result.value.replace(/`/g, "'"), 1500))}`;
    case 'matrix':
      return renderSummary(t('commands.query.rangeSelector', { expr: code }), result.result, unit, t);
  }
}

/** Min, max and last of one series (NaN points ignored; NaN when there are none). */
export function seriesStats(series: RangeSeries): { min: number; max: number; last: number } {
  const values = series.points.map((p) => p.value).filter((v) => !Number.isNaN(v));
  if (!values.length) return { min: NaN, max: NaN, last: NaN };
  return { min: Math.min(...values), max: Math.max(...values), last: values.at(-1)! };
}

/** Per-series min/max/last table, highest max first, at most MAX_RANGE_SERIES. */
function renderSummary(head: string, series: readonly RangeSeries[], unit: Unit, t: T): string {
  const title = t('commands.query.seriesCount', { head, count: series.length });
  if (series.length === 0) return `${title}\n${t('commands.query.noDataInRange')}`;
  const stats = series.map((s) => ({ labels: s.labels, ...seriesStats(s) }));
  const rank = (x: number) => (Number.isNaN(x) ? -Infinity : x);
  stats.sort((a, b) => rank(b.max) - rank(a.max));
  const shown = stats.slice(0, MAX_RANGE_SERIES);
  const { names, common } = seriesNames(shown.map((s) => s.labels));
  const table = renderTable(
    [
      { header: t('commands.query.column.series'), shrink: true },
      { header: t('commands.query.column.min'), align: 'right' },
      { header: t('commands.query.column.max'), align: 'right' },
      { header: t('commands.query.column.last'), align: 'right' },
    ],
    shown.map((s, i) => [names[i]!, formatValue(s.min, unit, t.locale), formatValue(s.max, unit, t.locale), formatValue(s.last, unit, t.locale)]),
    { maxWidth: RANGE_TABLE_WIDTH, minShrinkWidth: 6 },
  );
  return [title, ...commonLine(common, shown.length, t), codeBlock(table), ...moreLine(stats.length - shown.length, t)].join('\n');
}

/** A range query result: per series min/max/last with units, over the last `rangeMs` at `stepSeconds`. */
export function renderRange(expr: string, series: readonly RangeSeries[], rangeMs: number, stepSeconds: number, unit: Unit, locale: Locale = 'en'): string {
  const t = translator(locale);
  const head = t('commands.query.range', {
    expr: exprCode(expr),
    range: formatDurationIn(locale, rangeMs),
    step: formatDurationIn(locale, stepSeconds * 1000),
  });
  return renderSummary(head, series, unit, t);
}

/**
 * A failed query in Prometheus' own words: "❌ Prometheus: bad_data: 1:5: parse error: …" for an
 * HTTP error answer, the client's text ("Prometheus timed out after 5s") otherwise.
 */
export function renderQueryError(message: string): string {
  const own = /^Prometheus HTTP \d+: (.+)$/s.exec(message);
  const text = own ? `Prometheus: ${own[1]}` : message;
  return `❌ ${escapeMarkdown(truncate(maskSecrets(text), 1000))}`;
}
