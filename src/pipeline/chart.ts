import type { Config } from '../config/schema.js';
import type { Alert, Notification } from '../model.js';
import type { RangeSeries } from '../queries/prometheus.js';
import { ruleUidFromGeneratorURL } from '../queries/grafana.js';
import { splitThreshold, type ComparisonOp } from '../queries/promql.js';
import { boundedChart, CHART_FILE, chartLines, skipReason, topByPeak, type ChartSkip, type TimeChartSpec } from '../render/chart.js';
import { inferUnit } from '../render/format.js';
import { truncate } from '../render/truncate.js';
import type { ChartedExpression } from './enrich.js';
import { extraPlan } from './plans.js';
import type { ChartOutcome, ChartRenderer } from '../render/chart.js';
import type { PipelineDeps } from './stage.js';
import { STEERING, type AlertEnrichment, type EnrichedNotification, type EnrichmentFailure, type ExpressionFinding, type FailureWhat } from '../findings.js';

export { chartEnd } from './series.js';

/** What the chart of a notification needs (its series come from the enrichment, which already queried them). */
export interface ChartDeps {
  config: { charts: Config['charts']; timezone?: string };
  render?: ChartRenderer;
}

/** The alert a message charts, and the PromQL to chart. */
export interface ChartSubject {
  alert: Alert;
  /** As the sender gave it (with its trailing comparison, if any). */
  expr: string;
  /** The group's alerts sharing that expression: their series are the ones drawn. */
  alerts: Alert[];
  /** A Grafana rule's query and threshold as read from the rule, not parsed back from `expr`. */
  parsed?: { expr: string; threshold?: { op: ComparisonOp; value: number } };
}

const REASON_MAX = 100;

/**
 * The alert whose expression the message charts: the first firing alert with one (then the first
 * resolved one). The expression is the sender's (`g0.expr` of the generatorURL) or, when there is
 * none (Grafana), the query of the alert's Grafana rule once enriched, else the rule's
 * `vigil_promql` annotation with its labels filled in.
 */
export function chartSubject(n: Notification, enriched?: EnrichedNotification): ChartSubject | undefined {
  const ruleFinding = (a: Alert) => (a.expr ? undefined : enriched?.enrichments[a.fingerprint]?.expression);
  const exprOf = (a: Alert) => {
    const found = ruleFinding(a);
    return a.expr ?? (found ? withThreshold(found) : undefined) ?? extraPlan(a).expr;
  };
  const ordered = [...n.alerts].sort((a, b) => Number(a.status !== 'firing') - Number(b.status !== 'firing'));
  const alert = ordered.find((a) => !!exprOf(a));
  if (!alert) return undefined;
  const expr = exprOf(alert)!;
  const found = ruleFinding(alert);
  const parsed = found ? { parsed: { expr: found.expr, ...(found.threshold ? { threshold: found.threshold } : {}) } } : {};
  return { alert, expr, alerts: n.alerts.filter((a) => exprOf(a) === expr), ...parsed };
}

/** An expression finding's query with its threshold comparison again (`expr > 70`), as a sender would write it. */
function withThreshold(f: ExpressionFinding): string {
  return f.threshold ? `${f.expr} ${f.threshold.op} ${f.threshold.value}` : f.expr;
}

/** The series of the group's alerts (every label but `__name__` equal); when none matches, all. At most 5, highest peak first. */
export function seriesForAlerts(series: readonly RangeSeries[], alerts: readonly Pick<Alert, 'labels'>[]): RangeSeries[] {
  const matches = (s: RangeSeries) => alerts.some((a) => Object.entries(s.labels).every(([name, value]) => name === '__name__' || a.labels[name] === value));
  const matching = series.filter(matches);
  return topByPeak(matching.length ? matching : series);
}

/** The time chart of a subject from the series Prometheus returned for its window. */
export function alertChartSpec(subject: ChartSubject, series: readonly RangeSeries[], window: { start: Date; end: Date }): TimeChartSpec {
  const { expr, threshold } = subject.parsed ?? splitThreshold(subject.expr);
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

/** Gathers a chart's series while the enrichment runs (see {@link earlyChartData}). */
export interface EarlyChartData {
  /** What the notification charts (chartSubject), found once for the early data and the chart. */
  subject: ChartSubject | undefined;
  /** Whether a chart may be drawn: a subject now, or a Grafana rule that may give one. */
  mayChart: boolean;
  /** Goes into the enrichment's deps (EnrichDeps.onExpression). */
  onExpression: (early: ChartedExpression) => void;
  /** The chart's data as soon as it is back, or the whole enrichment when that ends first. */
  ready: (whole: Promise<EnrichedNotification>) => Promise<EnrichedNotification>;
}

/**
 * Lets a chart start before the rest of the enrichment is back: once the charted expression of
 * every alert sharing the chart subject's expression has arrived, `ready` resolves with an
 * EnrichedNotification holding just those; when the whole enrichment ends first (an alert past
 * maxAlerts, nothing to chart), with the whole enrichment.
 */
export function earlyChartData(n: Notification, rulesLookedUp = true): EarlyChartData {
  // A Grafana alert's rule may give it an expression: its subject waits for the enrichment.
  const waitForRule = rulesLookedUp && n.alerts.some((a) => !a.expr && ruleUidFromGeneratorURL(a.generatorURL));
  const subject = waitForRule ? undefined : chartSubject(n);
  const wanted = new Set(subject?.alerts.map((a) => a.fingerprint) ?? []);
  const got: Record<string, AlertEnrichment> = {};
  let resolve: (e: EnrichedNotification) => void = () => undefined;
  const early = new Promise<EnrichedNotification>((r) => (resolve = r));
  return {
    subject,
    mayChart: subject !== undefined || waitForRule,
    onExpression(e) {
      if (!wanted.has(e.fingerprint)) return;
      got[e.fingerprint] = e;
      if ([...wanted].every((f) => got[f])) resolve({ notification: n, enrichments: { ...got } });
    },
    ready: (whole) => Promise.race([early, whole]),
  };
}

/**
 * The chart of a notification's alert message, drawn from the series the enrichment fetched: given
 * a promise (from {@link earlyChartData}), it starts as soon as the charted query is back, while the
 * other queries still run, and reuses that one's subject; charts.budget bounds the rendering. Never
 * throws: whatever goes wrong becomes a skipped outcome with a short reason the message shows.
 */
export async function chartNotification(
  input: EnrichedNotification | Promise<EnrichedNotification>,
  deps: ChartDeps,
  early?: Pick<EarlyChartData, 'subject'>,
): Promise<ChartOutcome> {
  const { charts } = deps.config;
  let enriched: EnrichedNotification;
  try {
    enriched = await input;
  } catch {
    return { status: 'skipped', reason: { why: 'not-enriched' } };
  }
  const n = enriched.notification;
  // Vigil's own alerts carry nothing to chart, and the backend they report may be the one that is down.
  if (!charts.enabled || n.source === 'vigil') return { status: 'none' };
  // A Grafana rule's query is known only once enriched: without an early subject, look again.
  const subject = early?.subject ?? chartSubject(n, enriched);
  if (!subject) {
    // A Grafana alert whose rule could not be read, or whose rule's query failed: say why it has no chart.
    const enrichments = Object.values(enriched.enrichments);
    const lookup = enrichments.flatMap((e) => e.failures).find((f) => f.what === 'rule lookup');
    if (lookup) return { status: 'skipped', reason: { why: 'rule-not-read', detail: truncate(lookup.message.replace(/\s+/g, ' '), REASON_MAX) } };
    const query = enrichments
      .filter((e) => e.rule)
      .flatMap((e) => e.failures)
      .find((f) => f.what === 'expression');
    if (query) return { status: 'skipped', reason: queryFailed(query) };
    return { status: 'none' };
  }
  const data = chartData(subject, enriched);
  if ('reason' in data) return { status: 'skipped', reason: data.reason };
  const spec = { ...alertChartSpec(subject, data.series, data.window), ...(deps.config.timezone ? { timeZone: deps.config.timezone } : {}) };
  if (spec.lines.length === 0) return { status: 'skipped', reason: { why: 'no-data' } };
  const chart = await boundedChart(spec, charts, deps.render);
  if ('png' in chart) return { status: 'rendered', file: { name: CHART_FILE, data: chart.png }, expr: (subject.parsed ?? splitThreshold(subject.expr)).expr };
  return { status: 'skipped', reason: chart.skipped };
}

/** Which enrichment finding holds a subject's expression: the alert's own (or its Grafana rule's), else the extra `vigil_promql` one. */
function findingOf(e: AlertEnrichment | undefined, alert: Alert): ExpressionFinding | undefined {
  return alert.expr || e?.expression ? e?.expression : e?.extraExpression;
}

/**
 * The series and window of a subject's chart, from the enrichment of each alert sharing its
 * expression (a series two alerts share counts once); or why there are none: the query's own
 * failure ("Prometheus timed out after 5s"), or that the alert was not enriched.
 */
export function chartData(
  subject: ChartSubject,
  enriched: EnrichedNotification,
): { series: RangeSeries[]; window: { start: Date; end: Date } } | { reason: ChartSkip } {
  const own = enriched.enrichments[subject.alert.fingerprint];
  const finding = findingOf(own, subject.alert);
  if (!own || !finding?.chart) {
    const whats: readonly FailureWhat[] = subject.alert.expr || own?.expression ? ['expression'] : ['extra expression', STEERING.promql];
    const failure = own?.failures.find((f) => whats.includes(f.what));
    return { reason: failure ? queryFailed(failure) : { why: 'not-enriched' } };
  }
  const byLabels = new Map<string, RangeSeries>();
  for (const a of subject.alerts) {
    for (const s of findingOf(enriched.enrichments[a.fingerprint], a)?.chart?.series ?? []) {
      const key = JSON.stringify(Object.entries(s.labels).sort(([x], [y]) => (x < y ? -1 : 1)));
      if (!byLabels.has(key)) byLabels.set(key, s);
    }
  }
  return { series: [...byLabels.values()], window: { start: own.window.start, end: finding.chart.end } };
}

/** The chart deps of the pipeline's. */
export function pipelineChartDeps(deps: Pick<PipelineDeps, 'config' | 'chartRenderer'>): ChartDeps {
  return { config: deps.config, ...(deps.chartRenderer ? { render: deps.chartRenderer } : {}) };
}

/** A chart missing because its query failed: the failure's cause, short. */
function queryFailed(f: EnrichmentFailure): ChartSkip {
  return { why: 'query-failed', detail: truncate(f.message.replace(/\s+/g, ' '), REASON_MAX), ...(f.words ? { words: f.words } : {}) };
}

/** How the summary log line names a chart outcome: "rendered", "none", "skipped: took over 2s". */
export function chartSummary(outcome: ChartOutcome): string {
  return outcome.status === 'skipped' ? `skipped: ${skipReason(outcome.reason)}` : outcome.status;
}
