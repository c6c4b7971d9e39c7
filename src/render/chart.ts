import { createRequire } from 'node:module';
import type { EChartsOption, LineSeriesOption } from 'echarts';
import { formatDuration } from '../config/duration.js';
import type { Point, RangeSeries } from '../queries/prometheus.js';
import type { ComparisonOp } from '../queries/promql.js';
import { CHART_COLORS, CHART_FONT_FAMILY, chartFontFiles, chartScale, measureCssFont, textWidth } from './chart-theme.js';
import { formatValue, type Unit } from './format.js';
import { compactLabels, splitLabels } from './query.js';
import { truncate } from './truncate.js';
import { sharedChartWorkers } from './chart-workers.js';

/** The file name a chart travels under; an embed shows it with `attachment://chart.png`. */
export const CHART_FILE = 'chart.png';
/** Series drawn on one chart; the rest are left out (highest peaks win). */
export const MAX_CHART_SERIES = 5;
/** Longest legend entry, in characters. */
const LEGEND_MAX = 40;
/** Longest bar label (container name), in characters. */
const BAR_LABEL_MAX = 28;

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

/** An ECharts option for the spec, at the given size (a bar chart may be taller: one row per bar). */
export function chartOption(spec: ChartSpec, size: ChartSize): { option: EChartsOption; size: ChartSize } {
  return spec.kind === 'time' ? { option: timeOption(spec, size), size } : barOption(spec, size);
}

/**
 * The chart as an SVG document (ECharts' server-side renderer; no DOM, no canvas), and where the
 * data points in `locate` landed in pixels: `[time ms, value]` on a time chart, `[value, bar
 * index]` on a bar chart.
 */
export function chartSvg(
  spec: ChartSpec,
  size: ChartSize,
  locate: readonly (readonly [number, number])[] = [],
): { svg: string; size: ChartSize; pixels: [number, number][] } {
  const { option, size: actual } = chartOption(spec, size);
  const chart = echarts().init(null, null, { renderer: 'svg', ssr: true, width: actual.width, height: actual.height });
  try {
    chart.setOption(option);
    const pixels = locate.map((p) => chart.convertToPixel({ gridIndex: 0 }, [p[0], p[1]]) as unknown as [number, number]);
    return { svg: dropClipPaths(expandFontShorthand(chart.renderToSVGString())), size: actual, pixels };
  } finally {
    chart.dispose();
  }
}

/**
 * Removes the clip paths ECharts puts around each line series (even with `clip: false`). Every
 * point drawn is inside the axes (x filtered to the window, y scaled to the data), so they cut
 * nothing; yet resvg rasterises a full-size mask for each one, over half of its rendering time.
 */
export function dropClipPaths(svg: string): string {
  return svg.replace(/ clip-path="url\(#[^")]+\)"/g, '').replace(/<clipPath\b[^>]*>[\s\S]*?<\/clipPath>\n?/g, '');
}

/**
 * Rewrites `font: normal bold 22px DejaVu Sans` style shorthands (ECharts writes them for axis
 * labels) as longhand properties: resvg ignores the shorthand and would draw that text at 12 px.
 */
export function expandFontShorthand(svg: string): string {
  return svg.replace(
    /font:\s*(normal|italic|oblique)\s+(normal|bold|bolder|lighter|\d{3})\s+(\d+(?:\.\d+)?)px\s+([^;"]+)/g,
    (_all, style: string, weight: string, size: string, family: string) =>
      `font-style:${style};font-weight:${weight};font-size:${size}px;font-family:${family.trim()}`,
  );
}

/** resvg's options: DejaVu Sans from its .ttf files, the system's fonts only when those are missing. */
function resvgOptions(): import('@resvg/resvg-js').ResvgRenderOptions {
  const fontFiles = chartFontFiles();
  return {
    fitTo: { mode: 'original' },
    font: {
      // Without a font file resvg draws no text; the system's fonts are the last resort.
      loadSystemFonts: fontFiles.length === 0,
      fontFiles,
      defaultFontFamily: CHART_FONT_FAMILY,
      sansSerifFamily: CHART_FONT_FAMILY,
    },
  };
}

/** Renders a chart to PNG bytes synchronously: what the chart worker thread runs. */
export function renderChartSync(spec: ChartSpec, size: ChartSize): Buffer {
  const { svg } = chartSvg(spec, size);
  return new (resvg().Resvg)(svg, resvgOptions()).render().asPng();
}

/** Renders a chart to PNG bytes on a worker thread, keeping the event loop free; `signal` abandons it. */
export function renderChart(spec: ChartSpec, size: ChartSize, signal?: AbortSignal): Promise<Buffer> {
  return sharedChartWorkers().render(spec, size, signal);
}

// ---------------------------------------------------------------------------------------------
// Libraries, loaded on first use: the CommonJS bundle of ECharts loads ~4x faster than its ESM tree.

const load = createRequire(import.meta.url);
let echartsLib: typeof import('echarts') | undefined;
let resvgLib: typeof import('@resvg/resvg-js') | undefined;

function echarts(): typeof import('echarts') {
  if (!echartsLib) {
    echartsLib = load('echarts') as typeof import('echarts');
    // Server-side ECharts has no canvas to measure text: without real widths, labels overlap and legends spill.
    echartsLib.setPlatformAPI({ measureText: (text: string, font?: string) => ({ width: measureCssFont(text, font) }) });
  }
  return echartsLib;
}

/** Loads ECharts and resvg now rather than on the first chart. */
export function loadChartLibraries(): void {
  echarts();
  resvg();
}

function resvg(): typeof import('@resvg/resvg-js') {
  return (resvgLib ??= load('@resvg/resvg-js') as typeof import('@resvg/resvg-js'));
}

// ---------------------------------------------------------------------------------------------
// Options

/** Rows the legend wraps into at this width. */
function legendRows(names: readonly string[], width: number, font: number, iconWidth: number, gap: number): number {
  let rows = 1;
  let x = 0;
  for (const name of names) {
    const w = iconWidth + 5 + textWidth(name, font) + gap;
    if (x > 0 && x + w > width) {
      rows++;
      x = 0;
    }
    x += w;
  }
  return rows;
}

/** Axis time labels in UTC: "14:05", "14:05:30" under ten minutes, "11-21 14:05" over a day. */
export function timeLabel(spanMs: number): (value: number) => string {
  return (value) => {
    const iso = new Date(value).toISOString();
    if (spanMs > 86_400_000) return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
    return spanMs < 600_000 ? iso.slice(11, 19) : iso.slice(11, 16);
  };
}

/** Title texts: the chart's own at the left (cut to fit), a note at the right. */
function titles(title: string, note: string, size: ChartSize): EChartsOption['title'] {
  const s = chartScale(size.width);
  const room = size.width - 3 * s.pad - textWidth(note, s.font);
  const chars = Math.max(8, Math.floor(room / (s.titleFont * 0.62)));
  return [
    {
      text: truncate(title.replace(/\s+/g, ' ').trim(), chars),
      left: s.pad,
      top: s.pad * 0.6,
      textStyle: { color: CHART_COLORS.text, fontSize: s.titleFont, fontWeight: 'bold', fontFamily: CHART_FONT_FAMILY },
    },
    {
      text: note,
      right: s.pad,
      top: s.pad * 0.6 + (s.titleFont - s.font) / 2,
      textStyle: { color: CHART_COLORS.muted, fontSize: s.font, fontWeight: 'normal', fontFamily: CHART_FONT_FAMILY },
    },
  ];
}

function axisText(font: number) {
  return { color: CHART_COLORS.muted, fontSize: font, fontFamily: CHART_FONT_FAMILY };
}

/** A tick value with its unit, without a useless ".0" ("100%", "1 GiB"). */
export function axisValue(v: number, unit: Unit): string {
  return formatValue(v, unit).replace(/\.0(?!\d)/, '');
}

/** Every finite value the y axis must show: the points and the threshold. */
function plotted(spec: TimeChartSpec): number[] {
  const values = spec.lines.flatMap((l) => l.points.map((p) => p.value)).filter(Number.isFinite);
  return spec.threshold ? [...values, spec.threshold.value] : values;
}

/** Interval multipliers of a power of 1024 that read well ("512 MiB", "2 GiB", "100 KiB"). */
const BINARY_STEPS = [1, 2, 4, 5, 8, 10, 16, 20, 25, 32, 50, 64, 100, 128, 200, 256, 500, 512];

/**
 * Axis bounds and interval for byte values on whole binary units, about four ticks: ECharts'
 * decimal ticks would read "1.86 GiB, 2.79 GiB".
 */
export function binaryTicks(values: readonly number[]): { min: number; max: number; interval: number } | Record<string, never> {
  if (!values.length) return {};
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const raw = Math.max(hi - lo, Math.abs(hi) * 0.05, 1) / 4;
  const power = 1024 ** Math.max(0, Math.floor(Math.log(raw) / Math.log(1024)));
  const step = BINARY_STEPS.find((m) => m * power >= raw) ?? 1024;
  const interval = step * power;
  let min = Math.floor(lo / interval) * interval;
  let max = Math.ceil(hi / interval) * interval;
  // A line exactly on the frame is hard to see: leave a tick of room (never below zero for positive data).
  if (min === lo && (lo < 0 || lo - interval >= 0)) min -= interval;
  if (max === hi) max += interval;
  return { min, max, interval };
}

/** A finite value, or null (a gap in the line) for NaN and ±Inf. */
function plotValue(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function timeOption(spec: TimeChartSpec, size: ChartSize): EChartsOption {
  const s = chartScale(size.width);
  const start = spec.start.getTime();
  const end = Math.max(spec.end.getTime(), start + 1000);
  const names = spec.lines.map((l) => l.name);
  const iconWidth = s.font * 1.4;
  const gap = s.font;
  const rows = names.length ? legendRows(names, size.width - 2 * s.pad, s.font, iconWidth, gap) : 0;
  const legendHeight = rows * s.font * 1.45;
  const lines = spec.lines.map((l, i): LineSeriesOption => ({
    type: 'line',
    name: l.name,
    // Only the window's points: the SVG goes without clip paths (see dropClipPaths).
    data: l.points.filter((p) => p.at.getTime() >= start && p.at.getTime() <= end).map((p) => [p.at.getTime(), plotValue(p.value)]),
    showSymbol: l.points.length < 3,
    symbolSize: s.line * 2,
    lineStyle: { width: s.line, color: CHART_COLORS.series[i % CHART_COLORS.series.length] },
    itemStyle: { color: CHART_COLORS.series[i % CHART_COLORS.series.length] },
    connectNulls: false,
    z: 3,
  }));
  return {
    animation: false,
    useUTC: true,
    backgroundColor: CHART_COLORS.background,
    textStyle: { fontFamily: CHART_FONT_FAMILY, color: CHART_COLORS.text, fontSize: s.font },
    title: titles(spec.title, 'UTC', size),
    legend: {
      show: names.length > 0,
      data: names,
      bottom: s.pad * 0.5,
      left: s.pad,
      right: s.pad,
      icon: 'rect',
      itemWidth: iconWidth,
      itemHeight: Math.max(3, s.line),
      itemGap: gap,
      textStyle: { color: CHART_COLORS.text, fontSize: s.font, fontFamily: CHART_FONT_FAMILY },
    },
    grid: {
      left: s.pad,
      right: s.pad * 2,
      top: s.titleFont + s.pad * 2.2,
      bottom: legendHeight + s.pad,
      outerBoundsMode: 'same',
      outerBoundsContain: 'axisLabel',
    },
    xAxis: {
      type: 'time',
      min: start,
      max: end,
      splitNumber: 5,
      axisLabel: { ...axisText(s.font), hideOverlap: true, margin: Math.round(s.font * 0.6), formatter: timeLabel(end - start) },
      axisLine: { lineStyle: { color: CHART_COLORS.axisLine, width: 2 } },
      axisTick: { lineStyle: { color: CHART_COLORS.axisLine } },
      splitLine: { show: false },
    },
    yAxis: {
      type: 'value',
      scale: true,
      splitNumber: 4,
      ...(spec.unit === 'bytes' || spec.unit === 'bytes_per_second' ? binaryTicks(plotted(spec)) : {}),
      axisLabel: { ...axisText(s.font), formatter: (v: number) => axisValue(v, spec.unit) },
      splitLine: { lineStyle: { color: CHART_COLORS.gridLine, width: 1 } },
    },
    series: [...lines, markerSeries(spec, start, end, size)],
  };
}

/** The comparison and its value with the unit: "> 70%". */
export function thresholdText(threshold: { op: ComparisonOp; value: number }, unit: Unit): string {
  return `${threshold.op} ${axisValue(threshold.value, unit)}`;
}

/**
 * An unnamed series holding the threshold line, the firing band and the start/resolve markers.
 * Its one invisible point at the threshold makes the y axis reach the threshold.
 */
function markerSeries(spec: TimeChartSpec, start: number, end: number, size: ChartSize): LineSeriesOption {
  const s = chartScale(size.width);
  const label = (color: string) => ({ color, fontSize: s.font, fontFamily: CHART_FONT_FAMILY, fontWeight: 'bold' as const });
  const lines: NonNullable<NonNullable<LineSeriesOption['markLine']>['data']> = [];
  if (spec.threshold) {
    lines.push({
      yAxis: spec.threshold.value,
      lineStyle: { color: CHART_COLORS.threshold, type: 'dashed', width: s.marker },
      label: { ...label(CHART_COLORS.threshold), position: 'insideStartTop', formatter: thresholdText(spec.threshold, spec.unit) },
    });
  }
  const firing = spec.firingAt && clamp(spec.firingAt.getTime(), start, end);
  const resolved = spec.resolvedAt && clamp(spec.resolvedAt.getTime(), start, end);
  if (firing !== undefined) {
    lines.push({ xAxis: firing, lineStyle: { color: CHART_COLORS.firing, type: 'dashed', width: s.marker }, label: { show: false } });
  }
  if (resolved !== undefined) {
    lines.push({ xAxis: resolved, lineStyle: { color: CHART_COLORS.resolved, type: 'solid', width: s.marker }, label: { show: false } });
  }
  const bandEnd = resolved ?? end;
  const bandName = resolved !== undefined ? 'firing → resolved' : 'firing';
  // The band's label goes inside it when it fits, else to the left of the start marker.
  const labelWidth = textWidth(bandName, s.font, true) + s.pad;
  const plotWidth = size.width - 7 * s.pad;
  const bandWidth = firing === undefined ? 0 : ((bandEnd - firing) / (end - start)) * plotWidth;
  const bandLabelAt = bandWidth >= labelWidth ? ('insideTopLeft' as const) : [-labelWidth, s.pad * 0.4];
  type Band = NonNullable<NonNullable<LineSeriesOption['markArea']>['data']>;
  const band: Band =
    firing !== undefined && bandEnd > firing
      ? [
          [
            {
              xAxis: firing,
              name: bandName,
              itemStyle: { color: 'rgba(242, 63, 67, 0.13)' },
              label: { ...label(CHART_COLORS.text), position: bandLabelAt, distance: s.pad * 0.4 },
            },
            { xAxis: bandEnd },
          ],
        ]
      : [];
  return {
    type: 'line',
    silent: true,
    data: spec.threshold ? [[start, spec.threshold.value]] : [],
    showSymbol: false,
    lineStyle: { opacity: 0 },
    tooltip: { show: false },
    markLine: { silent: true, symbol: 'none', animation: false, data: lines },
    markArea: { silent: true, animation: false, data: band },
    z: 2,
  };
}

function clamp(v: number, min: number, max: number): number | undefined {
  return v < min || v > max ? undefined : v;
}

function barOption(spec: BarChartSpec, size: ChartSize): { option: EChartsOption; size: ChartSize } {
  const s = chartScale(size.width);
  const rowHeight = s.font * 1.9;
  const top = s.titleFont + s.pad * 2.2;
  const bottom = s.font * 1.5 + s.pad * 1.5;
  const height = Math.max(size.height, Math.ceil(top + bottom + spec.bars.length * rowHeight));
  const labels = spec.bars.map((b) => truncate(b.label, BAR_LABEL_MAX));
  const longestValue = Math.max(0, ...spec.bars.map((b) => textWidth(formatValue(b.value, spec.unit), s.font)));
  const option: EChartsOption = {
    animation: false,
    backgroundColor: CHART_COLORS.background,
    textStyle: { fontFamily: CHART_FONT_FAMILY, color: CHART_COLORS.text, fontSize: s.font },
    title: titles(spec.title, '', { width: size.width, height }),
    grid: {
      left: s.pad,
      right: longestValue + s.pad * 2,
      top,
      bottom: s.pad,
      outerBoundsMode: 'same',
      outerBoundsContain: 'axisLabel',
    },
    xAxis: {
      type: 'value',
      min: 0,
      splitNumber: 3,
      axisLabel: { ...axisText(s.font), hideOverlap: true, formatter: (v: number) => axisValue(v, spec.unit) },
      splitLine: { lineStyle: { color: CHART_COLORS.gridLine } },
    },
    yAxis: {
      type: 'category',
      inverse: true,
      data: labels,
      axisLabel: { ...axisText(s.font), color: CHART_COLORS.text },
      axisLine: { lineStyle: { color: CHART_COLORS.axisLine, width: 2 } },
      axisTick: { show: false },
    },
    series: [
      {
        type: 'bar',
        data: spec.bars.map((b) => plotValue(b.value)),
        barMaxWidth: rowHeight * 0.7,
        itemStyle: { color: CHART_COLORS.series[0], borderRadius: [0, 4, 4, 0] },
        label: {
          show: true,
          position: 'right',
          color: CHART_COLORS.text,
          fontSize: s.font,
          fontFamily: CHART_FONT_FAMILY,
          formatter: (p: { value: unknown }) => (typeof p.value === 'number' ? formatValue(p.value, spec.unit) : ''),
        },
      },
    ],
  };
  return { option, size: { width: size.width, height } };
}

// ---------------------------------------------------------------------------------------------
// Budget

/** How a bounded piece of chart work ended. */
export type Bounded<T> = { ok: true; value: T } | { ok: false; overBudget: true } | { ok: false; overBudget: false; error: unknown };

/**
 * Runs `work` for at most `budgetMs`: past it, the signal aborts and the result is `overBudget`
 * at once, whether or not the work heeds the signal (what it returns later is dropped).
 */
export async function withinBudget<T>(budgetMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<Bounded<T>> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new Error(`over the chart budget of ${budgetMs} ms`));
      resolve('expired');
    }, budgetMs);
  });
  const running = Promise.resolve()
    .then(() => work(controller.signal))
    .then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, overBudget: false as const, error }),
    );
  try {
    const first = await Promise.race([running, expired]);
    return first === 'expired' ? { ok: false, overBudget: true } : first;
  } finally {
    clearTimeout(timer);
  }
}

/** A chart of a command's answer: the PNG, or why there is none ("took over 2s", "rendering failed"). */
export type CommandChart = { png: Buffer } | { skipped: string };

/** Renders a spec within `charts.budget` at `charts.width`×`charts.height`; never throws. */
export async function boundedChart(
  spec: ChartSpec,
  charts: { budget: number; width: number; height: number },
  render: (spec: ChartSpec, size: ChartSize, signal: AbortSignal) => Promise<Buffer> = renderChart,
): Promise<CommandChart> {
  const result = await withinBudget(charts.budget, (signal) => render(spec, { width: charts.width, height: charts.height }, signal));
  if (result.ok) return { png: result.value };
  return { skipped: result.overBudget ? `took over ${formatDuration(charts.budget)}` : 'rendering failed' };
}

/** Adds a command's chart to its reply: the PNG as chart.png, or a "-# chart skipped: …" line under the text. */
export function withCommandChart<T extends { content?: string; files?: { name: string; data: Buffer }[] }>(payload: T, chart: CommandChart): T {
  if ('png' in chart) return { ...payload, files: [...(payload.files ?? []), { name: CHART_FILE, data: chart.png }] };
  return { ...payload, content: `${payload.content ?? ''}\n-# chart skipped: ${chart.skipped}` };
}

/** A command's reply with its chart (as withCommandChart adds it), or unchanged when charts are off or there is no spec (no data). */
export async function commandChart<T extends { content?: string; files?: { name: string; data: Buffer }[] }>(
  payload: T,
  spec: ChartSpec | undefined,
  charts: { enabled: boolean; budget: number; width: number; height: number },
  render?: (spec: ChartSpec, size: ChartSize, signal: AbortSignal) => Promise<Buffer>,
): Promise<T> {
  if (!charts.enabled || !spec) return payload;
  return withCommandChart(payload, await boundedChart(spec, charts, render));
}
