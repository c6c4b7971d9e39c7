import type { Point, RangeSeries } from '../model.js';
import type { ComparisonOp } from '../queries/promql.js';
import type { Unit } from './format.js';
import { compactLabels, splitLabels } from './query.js';
import { truncate } from './truncate.js';

// What a chart shows, before any drawing: the spec types and the choice of series.

/** The file name a chart travels under; an embed shows it with `attachment://chart.png`. */
export const CHART_FILE = 'chart.png';
/** Series drawn on one chart; the rest are left out (highest peaks win). */
export const MAX_CHART_SERIES = 5;
/** Longest legend entry, in characters. */
const LEGEND_MAX = 40;

/** Pixel size of a chart. */
export interface ChartSize {
  width: number;
  height: number;
}

/** One line of a time chart. */
export interface ChartLine {
  name: string;
  points: readonly Point[];
}

/** A line chart over a time window: an alert's expression or a /query range. */
export interface TimeChartSpec {
  kind: 'time';
  /** Shown at the top left, cut to fit (the expression, usually). */
  title: string;
  lines: readonly ChartLine[];
  unit: Unit;
  start: Date;
  end: Date;
  /** The alert's own comparison, drawn as a dashed red line. */
  threshold?: { op: ComparisonOp; value: number };
  /** When the alert started firing: a marker and a tinted band up to `resolvedAt` (or the end). */
  firingAt?: Date;
  /** When it resolved: a green marker. */
  resolvedAt?: Date;
  /** The IANA time zone the time axis is labelled in (config `timezone`); default UTC. */
  timeZone?: string;
}

/** One bar of a bar chart. */
export interface ChartBar {
  label: string;
  value: number;
}

/** A horizontal bar chart, largest first: /top. */
export interface BarChartSpec {
  kind: 'bar';
  title: string;
  bars: readonly ChartBar[];
  unit: Unit;
}

/** Any chart Vigil draws. */
export type ChartSpec = TimeChartSpec | BarChartSpec;

/** Highest non-NaN value of a series (-Infinity when it has none). */
export function seriesPeak(series: Pick<RangeSeries, 'points'>): number {
  let peak = -Infinity;
  for (const p of series.points) if (Number.isFinite(p.value) && p.value > peak) peak = p.value;
  return peak;
}

/** At most `max` series with data, highest peak first. */
export function topByPeak<T extends Pick<RangeSeries, 'points'>>(series: readonly T[], max = MAX_CHART_SERIES): T[] {
  return series
    .filter((s) => Number.isFinite(seriesPeak(s)))
    .sort((a, b) => seriesPeak(b) - seriesPeak(a))
    .slice(0, max);
}

/**
 * Legend text per series: the labels that tell them apart (`cpu=0 mode=user`), just the value when
 * one label does and its values are not bare numbers (`db-1:9100`); for a lone series its labels
 * without the metric name, or the metric name when that is all there is.
 */
export function legendNames(labelSets: readonly Record<string, string>[]): string[] {
  if (labelSets.length === 1) {
    const { __name__: metric, ...rest } = labelSets[0]!;
    const text = Object.keys(rest).length ? compactLabels(rest) : (metric ?? 'value');
    return [truncate(text, LEGEND_MAX)];
  }
  const { distinguishing } = splitLabels(labelSets);
  // One label tells them apart: its values alone ("db-1:9100"), unless they are bare numbers ("cpu=0").
  const one = distinguishing.length === 1 ? distinguishing[0]! : undefined;
  const only = one !== undefined && labelSets.every((s) => !/^\d*$/.test(s[one] ?? '')) ? one : undefined;
  const name = (s: Record<string, string>) =>
    only !== undefined ? (s[only] ?? '') : distinguishing.length ? compactLabels(s, distinguishing) : (s['__name__'] ?? 'value');
  return labelSets.map((s) => truncate(name(s) || '""', LEGEND_MAX));
}

/** The top series by peak as named chart lines. */
export function chartLines(series: readonly RangeSeries[], max = MAX_CHART_SERIES): ChartLine[] {
  const top = topByPeak(series, max);
  const names = legendNames(top.map((s) => s.labels));
  return top.map((s, i) => ({ name: names[i]!, points: s.points }));
}
