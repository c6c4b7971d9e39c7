import { formatDurationIn, translator } from '../i18n/index.js';
import type { FailureWords } from '../findings.js';
import type { Locale } from '../model.js';
import { failureCause } from './finding-text.js';
import { sharedChartWorkers } from './chart-workers.js';
import { CHART_FILE, type ChartSize, type ChartSpec } from './chart-spec.js';

// Charts as the rest of Vigil uses them: rendered on the worker thread, within a time budget, added
// to a command's reply. The spec types, options and drawing live in chart-spec, chart-options and
// chart-runtime; what callers use of them is exported here too.

export * from './chart-spec.js';

/** A chart as a file to send with a message. */
export interface ChartFile {
  name: string;
  data: Buffer;
}

/** Why a chart is missing; `skipReason` says it in a message's language. */
export type ChartSkip =
  | { why: 'not-enriched' }
  | { why: 'no-data' }
  /** The Grafana rule could not be read: the lookup's error. */
  | { why: 'rule-not-read'; detail: string }
  /** The charted query failed: its backend's error ("Prometheus timed out after 5s"). */
  | { why: 'query-failed'; detail: string; words?: FailureWords }
  | { why: 'over-budget'; budgetMs: number }
  | { why: 'render-failed' };

/** "took over 2s", "no data in the window", or the failed query's own error. */
export function skipReason(skip: ChartSkip, locale: Locale = 'en'): string {
  const t = translator(locale);
  switch (skip.why) {
    case 'not-enriched':
      return t('alert.chart.notEnriched');
    case 'no-data':
      return t('alert.chart.noData');
    case 'rule-not-read':
      return t('alert.chart.ruleNotRead', { detail: skip.detail });
    case 'query-failed':
      return failureCause({ message: skip.detail, ...(skip.words ? { words: skip.words } : {}) }, t);
    case 'over-budget':
      return t('alert.chart.overBudget', { duration: formatDurationIn(locale, skip.budgetMs) });
    case 'render-failed':
      return t('alert.chart.renderFailed');
  }
}

/** "chart skipped: took over 2s": the note a message carries when its chart is missing. */
export function skippedNote(skip: ChartSkip, locale: Locale = 'en'): string {
  return translator(locale)('alert.chart.skipped', { reason: skipReason(skip, locale) });
}

/** The chart of an alert message: drawn, skipped (with why, for the message), or not applicable. */
export type ChartOutcome = { status: 'rendered'; file: ChartFile; expr: string } | { status: 'skipped'; reason: ChartSkip } | { status: 'none' };

/** Renders a chart to PNG; the default is ECharts + resvg (tests inject a slow one). */
export type ChartRenderer = (spec: ChartSpec, size: ChartSize, signal: AbortSignal) => Promise<Buffer>;

export { axisValue, binaryTicks, chartOption, thresholdText, timeLabel } from './chart-options.js';
export { chartSvg, dropClipPaths, expandFontShorthand, renderChartSync } from './chart-runtime.js';

/** Renders a chart to PNG bytes on a worker thread, keeping the event loop free; `signal` abandons it. */
export function renderChart(spec: ChartSpec, size: ChartSize, signal?: AbortSignal): Promise<Buffer> {
  return sharedChartWorkers().render(spec, size, signal);
}

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
export type CommandChart = { png: Buffer } | { skipped: ChartSkip };

/** Renders a spec within `charts.budget` at `charts.width`×`charts.height`; never throws. */
export async function boundedChart(
  spec: ChartSpec,
  charts: { budget: number; width: number; height: number },
  render: ChartRenderer = renderChart,
): Promise<CommandChart> {
  const result = await withinBudget(charts.budget, (signal) => render(spec, { width: charts.width, height: charts.height }, signal));
  if (result.ok) return { png: result.value };
  return { skipped: result.overBudget ? { why: 'over-budget', budgetMs: charts.budget } : { why: 'render-failed' } };
}

/** Adds a command's chart to its reply: the PNG as chart.png, or a "-# chart skipped: …" line under the text. */
export function withCommandChart<T extends { content?: string; files?: { name: string; data: Buffer }[] }>(
  payload: T,
  chart: CommandChart,
  locale: Locale = 'en',
): T {
  if ('png' in chart) return { ...payload, files: [...(payload.files ?? []), { name: CHART_FILE, data: chart.png }] };
  return { ...payload, content: `${payload.content ?? ''}\n-# ${skippedNote(chart.skipped, locale)}` };
}

/** A command's reply with its chart (as withCommandChart adds it), or unchanged when charts are off or there is no spec (no data). */
export async function commandChart<T extends { content?: string; files?: { name: string; data: Buffer }[] }>(
  payload: T,
  spec: ChartSpec | undefined,
  charts: { enabled: boolean; budget: number; width: number; height: number },
  locale: Locale,
  render?: ChartRenderer,
): Promise<T> {
  if (!charts.enabled || !spec) return payload;
  return withCommandChart(payload, await boundedChart(spec, charts, render), locale);
}
