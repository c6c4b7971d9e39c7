import type { EChartsOption, LineSeriesOption } from 'echarts';
import type { ComparisonOp } from '../queries/promql.js';
import { CHART_COLORS, CHART_FONT_FAMILY, chartScale, textWidth } from './chart-theme.js';
import type { BarChartSpec, ChartSize, ChartSpec, TimeChartSpec } from './chart-spec.js';
import { formatClock, formatMonthDay, formatValue, zoneName, type Unit } from './format.js';
import { truncate } from './truncate.js';

// The ECharts option of a chart spec: layout, axes, series, threshold and firing markers, bars.

/** Longest bar label (container name), in characters. */
const BAR_LABEL_MAX = 28;

/** An ECharts option for the spec, at the given size (a bar chart may be taller: one row per bar). */
export function chartOption(spec: ChartSpec, size: ChartSize): { option: EChartsOption; size: ChartSize } {
  return spec.kind === 'time' ? { option: timeOption(spec, size), size } : barOption(spec, size);
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

/** Axis time labels in the zone (default UTC): "14:05", "14:05:30" under ten minutes, "11-21 14:05" over a day. */
export function timeLabel(spanMs: number, timeZone = 'UTC'): (value: number) => string {
  return (value) => {
    const at = new Date(value);
    if (spanMs > 86_400_000) return `${formatMonthDay(at, timeZone)} ${formatClock(at, timeZone, false)}`;
    return formatClock(at, timeZone, spanMs < 600_000);
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
    title: titles(spec.title, zoneName(spec.timeZone ?? 'UTC', spec.end), size),
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
      axisLabel: { ...axisText(s.font), hideOverlap: true, margin: Math.round(s.font * 0.6), formatter: timeLabel(end - start, spec.timeZone) },
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
