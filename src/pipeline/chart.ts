import type { APIEmbed, RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { formatDuration } from '../config/duration.js';
import type { Config } from '../config/schema.js';
import type { Alert, Notification } from '../model.js';
import { QueryError } from '../queries/http.js';
import type { PrometheusClient, RangeSeries } from '../queries/prometheus.js';
import { splitThreshold } from '../queries/promql.js';
import { incidentWindow } from '../queries/window.js';
import { CHART_FILE, chartLines, renderChart, topByPeak, withinBudget, type ChartSize, type ChartSpec, type TimeChartSpec } from '../render/chart.js';
import { inferUnit } from '../render/format.js';
import { EMBED_FOOTER_TEXT } from '../render/limits.js';
import { fitMessage, truncate, type Warn } from '../render/truncate.js';
import type { OutboxFile } from '../store/outbox.js';
import type { Logger } from '../log.js';
import type { PipelineContext, PipelineDeps } from './index.js';

/** Renders a chart to PNG; the default is ECharts + resvg (tests inject a slow one). */
export type ChartRenderer = (spec: ChartSpec, size: ChartSize, signal: AbortSignal) => Promise<Buffer>;

/** What the chart of a notification needs. */
export interface ChartDeps {
  prometheus: Pick<PrometheusClient, 'queryRange'>;
  config: { charts: Config['charts']; enrichment: Pick<Config['enrichment'], 'lookback' | 'logWindow'> };
  now: Date;
  render?: ChartRenderer;
}

/** The chart of an alert message: drawn, skipped (with why, for the message), or not applicable. */
export type ChartOutcome =
  | { status: 'rendered'; file: OutboxFile; expr: string }
  | { status: 'skipped'; reason: string }
  | { status: 'none' };

/** The alert a message charts, and the PromQL to chart. */
export interface ChartSubject {
  alert: Alert;
  /** As the sender gave it (with its trailing comparison, if any). */
  expr: string;
  /** The group's alerts sharing that expression: their series are the ones drawn. */
  alerts: Alert[];
}

const REASON_MAX = 100;

/**
 * The alert whose expression the message charts: the first firing alert with one (then the first
 * resolved one). The expression is the sender's (`g0.expr` of the generatorURL) or, when there is
 * none (Grafana), the rule's `vigil_promql` annotation.
 */
export function chartSubject(n: Notification): ChartSubject | undefined {
  const exprOf = (a: Alert) => a.expr ?? a.annotations['vigil_promql']?.trim() ?? undefined;
  const ordered = [...n.alerts].sort((a, b) => Number(a.status !== 'firing') - Number(b.status !== 'firing'));
  const alert = ordered.find((a) => !!exprOf(a));
  if (!alert) return undefined;
  const expr = exprOf(alert)!;
  return { alert, expr, alerts: n.alerts.filter((a) => exprOf(a) === expr) };
}

/** The series of the group's alerts (every label but `__name__` equal); when none matches, all. At most 5, highest peak first. */
export function seriesForAlerts(series: readonly RangeSeries[], alerts: readonly Pick<Alert, 'labels'>[]): RangeSeries[] {
  const matches = (s: RangeSeries) =>
    alerts.some((a) => Object.entries(s.labels).every(([name, value]) => name === '__name__' || a.labels[name] === value));
  const matching = series.filter(matches);
  return topByPeak(matching.length ? matching : series);
}

/** The time chart of a subject from the series Prometheus returned for its window. */
export function alertChartSpec(subject: ChartSubject, series: readonly RangeSeries[], window: { start: Date; end: Date }): TimeChartSpec {
  const { expr, threshold } = splitThreshold(subject.expr);
  const a = subject.alert;
  return {
    kind: 'time',
    title: expr,
    lines: chartLines(seriesForAlerts(series, subject.alerts)),
    unit: inferUnit(expr, a.annotations),
    start: window.start,
    end: window.end,
    ...(threshold ? { threshold } : {}),
    ...(a.startsAtUnknown ? {} : { firingAt: a.startsAt }),
    ...(a.status === 'resolved' && a.endsAt ? { resolvedAt: a.endsAt } : {}),
  };
}

/**
 * The chart of a notification's alert message, bounded by charts.budget (the range query over the
 * enrichment's own window, then the rendering). Never throws: whatever goes wrong becomes a
 * skipped outcome with a short reason the message shows.
 */
export async function chartNotification(n: Notification, deps: ChartDeps): Promise<ChartOutcome> {
  const { charts, enrichment } = deps.config;
  // Vigil's own alerts carry nothing to chart, and the backend they report may be the one that is down.
  if (!charts.enabled || n.source === 'vigil') return { status: 'none' };
  const subject = chartSubject(n);
  if (!subject) return { status: 'none' };
  const incident = incidentWindow(subject.alert, { lookbackMs: enrichment.lookback, logWindowMs: enrichment.logWindow }, deps.now);
  const window = { start: incident.start, end: chartEnd(incident, subject.alert, deps.now) };
  const { expr } = splitThreshold(subject.expr);
  const render = deps.render ?? renderChart;
  const outcome = await withinBudget(charts.budget, async (signal) => {
    const series = await deps.prometheus.queryRange(expr, window.start, window.end, incident.stepSeconds, { timeoutMs: charts.budget, signal });
    const spec = alertChartSpec(subject, series, window);
    if (spec.lines.length === 0) return undefined;
    return render(spec, { width: charts.width, height: charts.height }, signal);
  });
  if (outcome.ok) {
    return outcome.value
      ? { status: 'rendered', file: { name: CHART_FILE, data: outcome.value }, expr }
      : { status: 'skipped', reason: 'no data in the window' };
  }
  if (outcome.overBudget) return { status: 'skipped', reason: `took over ${formatDuration(charts.budget)}` };
  return { status: 'skipped', reason: failureReason(outcome.error) };
}

/** Share of the window a resolved chart goes on past endsAt, so the recovery shows beside the marker. */
const RESOLVED_TAIL = 0.15;

/**
 * Where the chart ends: the enrichment window's end, and for a resolved alert a little past it
 * (up to 15% of the window, never past now), so the resolve marker is not the chart's edge.
 */
export function chartEnd(window: { start: Date; end: Date }, alert: Pick<Alert, 'status' | 'endsAt'>, now: Date): Date {
  if (alert.status !== 'resolved' || !alert.endsAt) return window.end;
  const tail = Math.min(now.getTime() - window.end.getTime(), (window.end.getTime() - window.start.getTime()) * RESOLVED_TAIL);
  return new Date(window.end.getTime() + Math.max(0, tail));
}

/** A short cause for the footer: the query's own message ("Prometheus timed out after 2s"), or that rendering failed. */
function failureReason(err: unknown): string {
  if (err instanceof QueryError) return truncate(err.message.replace(/\s+/g, ' '), REASON_MAX);
  return 'rendering failed';
}

/** The note a message carries when its chart is missing. */
export function skippedNote(reason: string): string {
  return `chart skipped: ${reason}`;
}

/**
 * An alert message body with its chart: the first embed shows `attachment://chart.png` and the
 * body lists the file as attachment placeholder 0. Without a chart (skipped), the footer says
 * why. An edit always lists its attachments (Discord keeps only those listed): the new chart, or
 * none, so a chart of the firing state never stays on the resolved message.
 */
export function withChart(
  body: RESTPostAPIChannelMessageJSONBody,
  outcome: ChartOutcome,
  kind: 'create' | 'edit',
  warn: Warn,
): { body: RESTPostAPIChannelMessageJSONBody; file?: OutboxFile } {
  const [first, ...rest] = body.embeds ?? [];
  if (outcome.status === 'rendered' && first) {
    const embed: APIEmbed = { ...first, image: { url: `attachment://${outcome.file.name}` } };
    const description = truncate(`Chart of ${outcome.expr.replace(/\s+/g, ' ')} over the incident window`, 1024);
    return {
      body: { ...body, embeds: [embed, ...rest], attachments: [{ id: '0', filename: outcome.file.name, description }] },
      file: outcome.file,
    };
  }
  const attachments = kind === 'edit' ? { attachments: [] } : {};
  if (outcome.status === 'skipped' && first) {
    const note = skippedNote(outcome.reason);
    const footer = first.footer?.text ? `${first.footer.text} · ${note}` : note;
    const embed: APIEmbed = { ...first, footer: { ...first.footer, text: truncate(footer, EMBED_FOOTER_TEXT) } };
    return { body: fitMessage({ ...body, embeds: [embed, ...rest], ...attachments }, warn) };
  }
  return { body: { ...body, ...attachments } };
}

/**
 * Starts the alert chart (its query and rendering) without waiting, so it runs while the
 * enrichment queries do; `attachChart` waits for it.
 */
export function startChart(ctx: PipelineContext, deps: PipelineDeps): void {
  if (!deps.config.charts.enabled) return;
  ctx.chart = chartNotification(ctx.notification, {
    prometheus: deps.prometheus,
    config: deps.config,
    now: ctx.now,
    ...(deps.chartRenderer ? { render: deps.chartRenderer } : {}),
  });
}

/**
 * Waits for the chart (within its budget) and puts it on the alert message's create or edit; the
 * outcome is kept on the context for the pipeline's summary log line.
 */
export async function attachChart(ctx: PipelineContext, logger: Logger): Promise<void> {
  if (!ctx.chart) return;
  const outcome = await ctx.chart;
  ctx.chartOutcome = outcome;
  const warn: Warn = (msg, details) => logger.warn(details, msg);
  ctx.deliveries = ctx.deliveries.map((d) => attachTo(d, outcome, warn));
}

/** How the summary log line names a chart outcome: "rendered", "none", "skipped: took over 2s". */
export function chartSummary(outcome: ChartOutcome): string {
  return outcome.status === 'skipped' ? `skipped: ${outcome.reason}` : outcome.status;
}

type Delivery = PipelineContext['deliveries'][number];

/** Only the alert message itself (the create or edit carrying the buttons) shows the chart; replies do not. */
function attachTo(d: Delivery, outcome: ChartOutcome, warn: Warn): Delivery {
  if (!d.buttons || d.kind === 'reply') return d;
  const { body, file } = withChart(d.body, outcome, d.kind, warn);
  return { ...d, body, ...(file ? { file } : {}) };
}
