import type { Config } from '../config/schema.js';
import type { Metrics } from '../metrics.js';
import { checkLogQuery, errorLogs, logVolumeByLevel, SteeringError, targetUp } from '../queries/catalog.js';
import { QueryError } from '../queries/http.js';
import { newestFirst, type LokiClient } from '../queries/loki.js';
import type { PrometheusClient, RangeSeries } from '../queries/prometheus.js';
import { fillGrafanaMacros, ruleUidFromGeneratorURL, thresholdText, type RuleLookup, type RulePlan } from '../queries/grafana.js';
import { splitThreshold, type SplitThreshold } from '../queries/promql.js';
import { incidentWindow } from '../queries/window.js';
import { groupPatterns } from '../render/patterns.js';
import { attempt, sharingCalls, timedClients } from '../queries/calls.js';
import { hostOf, LOG_BASELINE_SECONDS, queryContainerContext, queryHostContext, summarizeLogVolume } from './context.js';
import { dashboardPlan, extraPlan, logPlan, type LogPlan } from './plans.js';
import { chartEnd, findTarget, pickSeries, pointsUntil, scrapeStatus, sourceOf, summarizeSeries, upHistory, vectorOf } from './series.js';
import type { Alert, Notification } from '../model.js';
import type {
  AlertEnrichment,
  ContainerContextFinding,
  EnrichedNotification,
  EnrichmentFailure,
  ExploreTarget,
  ExpressionFinding,
  HostContextFinding,
  IncidentWindow,
  LogFinding,
  LogPatternFinding,
  LogVolumeFinding,
  TargetFinding,
} from '../findings.js';
import { STEERING } from '../findings.js';

/** What the enrichment stage needs: the two query clients, its config section, and the clock. */
export interface EnrichDeps {
  prometheus: Pick<PrometheusClient, 'queryRange' | 'targets' | 'query'>;
  loki: Pick<LokiClient, 'queryRange' | 'query'>;
  config: Config['enrichment'];
  now: Date;
  /** Times every query by backend when given. */
  metrics?: Pick<Metrics, 'enrichmentQueryDuration'>;
  /** Reads a Grafana alert's own rule (its queries and threshold); Grafana alerts go without it when absent. */
  rules?: RuleLookup;
  /** Called per alert as soon as its chartable expression is back: see {@link ChartedExpression}. */
  onExpression?: (early: ChartedExpression) => void;
}

/**
 * What a chart needs of one alert, handed over before the alert's other queries are back: the
 * finding of the expression a chart draws (its own, else the rule's extra `vigil_promql`), or its
 * failure, with the window. An AlertEnrichment holding only that.
 */
export type ChartedExpression = Pick<AlertEnrichment, 'fingerprint' | 'window' | 'expression' | 'extraExpression' | 'failures'>;

/** Lines asked from Loki per alert (grouped into patterns); `count` is capped here. */
export const LOG_QUERY_LIMIT = 500;
/** Log patterns kept per alert. */
export const MAX_PATTERNS = 10;

/** A partial result: the finding when there is one, and why parts are missing. */
interface Outcome<T> {
  value?: T;
  failures: EnrichmentFailure[];
}

/** A query that does not apply to the alert (no expr, no job/instance). */
const NOTHING: Outcome<never> = { failures: [] };

/**
 * Enriches one alert, all queries in parallel and each bounded by config.timeout: its expression
 * (and the rule's extra `vigil_promql`), its target's health, its error logs grouped by pattern,
 * the log volume by level against the hour before, the host's CPU/memory/disk/load at its start
 * against an hour earlier, and the host's busiest, restarted and OOM-killed containers. Never
 * throws: whatever fails or is too slow becomes an EnrichmentFailure next to the findings that did
 * arrive. A context query failing the same way as a main one adds no second note.
 */
export async function enrichAlert(alert: Alert, deps: EnrichDeps): Promise<AlertEnrichment> {
  const { config, now } = deps;
  const window = incidentWindow(alert, { lookbackMs: config.lookback, logWindowMs: config.logWindow }, now);
  const ownLogs = logPlan(alert, config);
  const extra = extraPlan(alert);
  const dashboard = dashboardPlan(alert);
  const host = hostOf(alert.labels);
  const started = performance.now();
  const rule = ruleOutcome(alert, deps);
  // The sender's expression, else the one of the Grafana rule (looked up first, within the same timeout).
  const source: Promise<ExpressionSource | undefined> = alert.expr
    ? Promise.resolve({ ...splitThreshold(alert.expr), backend: 'prometheus' })
    : rule.then((r) => (r.value ? ruleSource(r.value) : undefined));
  const expressionP = source.then((src) => (src ? expressionOutcome(alert, src, window, deps, 'expression', remaining(config.timeout, started)) : NOTHING));
  const extraP = extra.expr
    ? expressionOutcome(alert, { ...splitThreshold(extra.expr), backend: 'prometheus' }, window, deps, 'extra expression', config.timeout)
    : Promise.resolve(NOTHING);
  // A query that throws rejects the enrichment below as well: the early hand-over adds no second report.
  if (deps.onExpression) handOver(alert, window, source, expressionP, extraP, extra.failures, deps.onExpression).catch(() => undefined);
  // The alert's own log queries start at once, whatever the rule lookup does. A Grafana rule's own
  // LogQL log query, when it has one, replaces them once known, within what is left of the timeout.
  const ownFindings = ownLogs.plan ? logsOutcome(ownLogs.plan, window, deps, config.timeout) : Promise.resolve(NOTHING);
  const ownVolume = ownLogs.plan ? volumeOutcome(ownLogs.plan, window, deps, config.timeout) : Promise.resolve(NOTHING);
  const fromRule = rule.then((r) => (alert.annotations[STEERING.logql] ? undefined : ruleLogPlan(r.value, config)));
  const logsP = fromRule.then((r) => r ?? ownLogs);
  const logFindingsP = fromRule.then((r) => (r ? logsOutcome(r.plan, window, deps, remaining(config.timeout, started)) : ownFindings));
  const volumeP = fromRule.then((r) => (r ? volumeOutcome(r.plan, window, deps, remaining(config.timeout, started)) : ownVolume));
  const [ruleFound, expressionSource, logs, expression, extraExpression, target, logFindings, volume, hostContext, containerContext] = await Promise.all([
    rule,
    source,
    logsP,
    expressionP,
    extraP,
    alert.labels.job || alert.labels.instance ? targetOutcome(alert, window, deps) : NOTHING,
    logFindingsP,
    volumeP,
    alert.labels.instance ? hostOutcome(alert.labels.instance, alert.startsAt, deps) : NOTHING,
    host ? containerOutcome(host, window, deps) : NOTHING,
  ]);
  const main = [
    ...ruleFound.failures,
    ...expression.failures,
    ...target.failures,
    ...logs.failures,
    ...extra.failures,
    ...dashboard.failures,
    ...logFindings.failures,
  ];
  const secondary = [...extraExpression.failures, ...volume.failures, ...hostContext.failures, ...containerContext.failures];
  const exploreLinks = exploreTargets(expressionSource, window, logs.plan, extra.expr);
  return {
    fingerprint: alert.fingerprint,
    window,
    ...(ruleFound.value ? { rule: ruleDetails(ruleFound.value, alert) } : {}),
    ...(expression.value ? { expression: expression.value } : {}),
    ...(extraExpression.value ? { extraExpression: extraExpression.value } : {}),
    ...(target.value ? { target: target.value } : {}),
    ...(logFindings.value ? { logs: logFindings.value.logs } : {}),
    ...(logFindings.value?.patterns ? { logPatterns: logFindings.value.patterns } : {}),
    ...(volume.value ? { logVolume: volume.value } : {}),
    ...(hostContext.value ? { hostContext: hostContext.value } : {}),
    ...(containerContext.value ? { containerContext: containerContext.value } : {}),
    ...(exploreLinks.length ? { exploreLinks } : {}),
    ...(dashboard.uid ? { dashboardUid: dashboard.uid } : {}),
    failures: withoutRepeats(main, secondary),
  };
}

/** Passes the charted expression's outcome to `onExpression` once its query is back (same rule as chartSubject: own expr, else extra). */
async function handOver(
  alert: Alert,
  window: IncidentWindow,
  source: Promise<ExpressionSource | undefined>,
  expression: Promise<Outcome<ExpressionFinding>>,
  extra: Promise<Outcome<ExpressionFinding>>,
  steering: readonly EnrichmentFailure[],
  onExpression: (early: ChartedExpression) => void,
): Promise<void> {
  const own = (await source) !== undefined;
  const { value, failures } = await (own ? expression : extra);
  const finding = value ? (own ? { expression: value } : { extraExpression: value }) : {};
  onExpression({ fingerprint: alert.fingerprint, window, ...finding, failures: [...steering, ...failures] });
}

/** An expression to query and chart: its text, the threshold it is compared with, and where it runs. */
interface ExpressionSource extends SplitThreshold {
  backend: 'prometheus' | 'loki';
  /** A Grafana rule's query: its `$__interval`-style macros are filled before it runs. */
  fromRule?: boolean;
}

/** What is left of the timeout since `startedAt` (performance.now()), at least a tenth of it. */
function remaining(timeoutMs: number, startedAt: number): number {
  return Math.max(Math.round(timeoutMs / 10), Math.round(timeoutMs - (performance.now() - startedAt)));
}

/** The Grafana rule of a Grafana alert without an expression of its own, looked up within the timeout. */
async function ruleOutcome(alert: Alert, deps: EnrichDeps): Promise<Outcome<RulePlan>> {
  if (alert.source !== 'grafana' || alert.expr || !deps.rules) return NOTHING;
  const uid = ruleUidFromGeneratorURL(alert.generatorURL);
  if (!uid) return NOTHING;
  const rules = deps.rules;
  const ran = await attempt('grafana', 'rule lookup', deps.config.timeout, (timeoutMs) => rules(uid, { timeoutMs }));
  return ran.ok ? { value: ran.value, failures: [] } : { failures: [ran.failure] };
}

/**
 * The log plan of a Grafana rule's first LogQL log query, as a `vigil_logql` would give it (a bare
 * selector gets the error filter); undefined when the rule has none, or one Vigil would not run.
 */
function ruleLogPlan(plan: RulePlan | undefined, config: EnrichDeps['config']): { plan: LogPlan; failures: EnrichmentFailure[] } | undefined {
  const query = plan?.queries.find((q) => q.logQuery)?.expr;
  if (!query) return undefined;
  try {
    const { selectorOnly } = checkLogQuery(query);
    return { plan: { query: selectorOnly ? errorLogs(query, config.logFilter) : query, volumeSource: query, custom: true }, failures: [] };
  } catch (err) {
    if (!(err instanceof SteeringError)) throw err;
    return undefined;
  }
}

/** The metric query a rule's condition reads, with its single-bound threshold; a log query is not charted. */
function ruleSource(plan: RulePlan): ExpressionSource | undefined {
  if (!plan.main || plan.main.logQuery) return undefined;
  const threshold = plan.threshold && 'op' in plan.threshold ? { threshold: plan.threshold } : {};
  return { expr: plan.main.expr, backend: plan.main.backend, fromRule: true, ...threshold };
}

/** The rule facts shown in the thread: its condition in words, pending period, folder and group. */
function ruleDetails(plan: RulePlan, alert: Alert): NonNullable<AlertEnrichment['rule']> {
  const folder = alert.labels.grafana_folder;
  return {
    uid: plan.uid,
    title: plan.title,
    condition: plan.condition,
    ...(plan.threshold ? { threshold: thresholdText(plan.threshold) } : {}),
    ...(plan.for ? { for: plan.for } : {}),
    ...(folder ? { folder } : {}),
    ...(plan.group ? { group: plan.group } : {}),
    notQueried: plan.notQueried.map((q) => `${q.refId} (datasource ${q.datasourceUid})`),
  };
}

/** The main failures, then the other ones that say something new (not the same backend and message). */
function withoutRepeats(main: readonly EnrichmentFailure[], secondary: readonly EnrichmentFailure[]): EnrichmentFailure[] {
  const out = [...main];
  for (const f of secondary) if (!out.some((o) => o.backend === f.backend && o.message === f.message)) out.push(f);
  return out;
}

/**
 * Enriches up to config.maxAlerts alerts of a notification (firing ones first, then in the
 * sender's order), all in parallel; a query several alerts ask (same arguments) runs once for the whole group.
 * Vigil's own notifications (source `vigil`) are not enriched.
 */
export async function enrichNotification(notification: Notification, deps: EnrichDeps): Promise<EnrichedNotification> {
  // Vigil's own alerts (the watchdog) carry nothing to query, and the backend they report may be the one that is down.
  if (notification.source === 'vigil') return { notification, enrichments: {} };
  const chosen = [...notification.alerts].sort((a, b) => Number(a.status !== 'firing') - Number(b.status !== 'firing')).slice(0, deps.config.maxAlerts);
  // Shared outside the timing: a call several alerts share is timed once.
  const shared: EnrichDeps = { ...deps, ...sharingCalls(timedClients(deps, deps.metrics?.enrichmentQueryDuration)) };
  const results = await Promise.all(chosen.map((alert) => enrichAlert(alert, shared)));
  return { notification, enrichments: Object.fromEntries(results.map((r) => [r.fingerprint, r])) };
}

async function expressionOutcome(
  alert: Alert,
  { expr, threshold, backend, fromRule }: ExpressionSource,
  window: IncidentWindow,
  deps: EnrichDeps,
  what: 'expression' | 'extra expression',
  timeout: number,
): Promise<Outcome<ExpressionFinding>> {
  // One query serves both the summary and the chart: it runs on to the chart's end (past endsAt for a resolved alert).
  const end = chartEnd(window, alert, deps.now);
  const query = fromRule ? fillGrafanaMacros(expr, window.stepSeconds, (end.getTime() - window.start.getTime()) / 1000) : expr;
  const ran = await attempt(backend, what, timeout, (timeoutMs) =>
    backend === 'prometheus'
      ? deps.prometheus.queryRange(query, window.start, end, window.stepSeconds, { timeoutMs })
      : lokiMatrix(deps.loki, query, window.start, end, window.stepSeconds, timeoutMs),
  );
  if (!ran.ok) return { failures: [ran.failure] };
  const picked = pickSeries(ran.value, alert.labels);
  const series = picked
    .map((s) => pointsUntil(s, window.end))
    .filter((s) => s.points.length > 0)
    .map((s) => summarizeSeries(s, alert.startsAt));
  return { value: { expr, series, ...(threshold ? { threshold } : {}), chart: { end, series: picked } }, failures: [] };
}

/** A LogQL metric query over a range, as Prometheus-shaped series; a log query answer is an error. */
async function lokiMatrix(loki: EnrichDeps['loki'], expr: string, start: Date, end: Date, stepSeconds: number, timeoutMs: number): Promise<RangeSeries[]> {
  const res = await loki.queryRange(expr, { start, end, step: stepSeconds }, { timeoutMs });
  if (res.resultType !== 'matrix') throw new QueryError('invalid-response', `Loki answered a metric query with ${res.resultType}`);
  return res.result;
}

async function targetOutcome(alert: Alert, window: IncidentWindow, deps: EnrichDeps): Promise<Outcome<TargetFinding>> {
  const { job, instance } = alert.labels;
  const [up, targets] = await Promise.all([
    attempt('prometheus', 'target health', deps.config.timeout, (timeoutMs) =>
      deps.prometheus.queryRange(targetUp(job, instance), window.start, window.end, window.stepSeconds, { timeoutMs }),
    ),
    attempt('prometheus', 'scrape status', deps.config.timeout, (timeoutMs) => deps.prometheus.targets('active', { timeoutMs })),
  ]);
  const failures = [up, targets].flatMap((r) => (r.ok ? [] : [r.failure]));
  if (!up.ok && !targets.ok) return { failures };
  const finding: TargetFinding = {
    ...(job ? { job } : {}),
    ...(instance ? { instance } : {}),
    ...(up.ok ? upHistory(up.value) : {}),
    ...(targets.ok ? scrapeStatus(findTarget(targets.value.active, job, instance)) : {}),
  };
  return { value: finding, failures };
}

async function logsOutcome(
  plan: LogPlan,
  window: IncidentWindow,
  deps: EnrichDeps,
  timeout: number,
): Promise<Outcome<{ logs: LogFinding; patterns?: LogPatternFinding }>> {
  const { config } = deps;
  const ran = await attempt('loki', 'logs', timeout, (timeoutMs) =>
    deps.loki.queryRange(plan.query, { start: window.logStart, end: window.logEnd, limit: LOG_QUERY_LIMIT, direction: 'backward' }, { timeoutMs }),
  );
  if (!ran.ok) return { failures: [ran.failure] };
  if (ran.value.resultType !== 'streams') {
    return { failures: [{ backend: 'loki', what: 'logs', message: `Loki answered a log query with ${ran.value.resultType}` }] };
  }
  const entries = newestFirst(ran.value.result);
  const capped = entries.length >= LOG_QUERY_LIMIT;
  const lines = entries.slice(0, config.logLines).map((e) => ({ at: e.at, line: e.line, labels: e.labels }));
  const logs: LogFinding = { query: plan.query, count: entries.length, capped, lines };
  if (!entries.length) return { value: { logs }, failures: [] };
  const grouped = groupPatterns(entries.map((e) => ({ at: e.at, line: e.line, ...sourceOf(e.labels) })));
  const patterns: LogPatternFinding = { patterns: grouped.slice(0, MAX_PATTERNS), distinct: grouped.length, lines: entries.length, capped };
  return { value: { logs, patterns }, failures: [] };
}

/** Lines per level in the log window (at its end) and in the hour before it (at its start). */
async function volumeOutcome(plan: LogPlan, window: IncidentWindow, deps: EnrichDeps, timeout: number): Promise<Outcome<LogVolumeFinding>> {
  const windowSeconds = Math.max(1, Math.round((window.logEnd.getTime() - window.logStart.getTime()) / 1000));
  const query = logVolumeByLevel(plan.volumeSource, windowSeconds);
  const baseline = logVolumeByLevel(plan.volumeSource, LOG_BASELINE_SECONDS);
  const ask = (logql: string, time: Date) => attempt('loki', 'log volume', timeout, (timeoutMs) => deps.loki.query(logql, { time }, { timeoutMs }));
  const [now, before] = await Promise.all([ask(query, window.logEnd), ask(baseline, window.logStart)]);
  if (!now.ok || !before.ok) return { failures: [now, before].flatMap((r) => (r.ok ? [] : [r.failure])) };
  return { value: summarizeLogVolume(query, vectorOf(now.value), vectorOf(before.value), windowSeconds), failures: [] };
}

/** The host context at the alert's start (or now, when the start lies ahead of our clock). */
async function hostOutcome(instance: string, startsAt: Date, deps: EnrichDeps): Promise<Outcome<HostContextFinding>> {
  const at = new Date(Math.min(startsAt.getTime(), deps.now.getTime()));
  const ran = await attempt('prometheus', 'host context', deps.config.timeout, (timeoutMs) => queryHostContext(deps.prometheus, instance, at, { timeoutMs }));
  if (!ran.ok) return { failures: [ran.failure] };
  return ran.value ? { value: ran.value, failures: [] } : NOTHING;
}

async function containerOutcome(host: string, window: IncidentWindow, deps: EnrichDeps): Promise<Outcome<ContainerContextFinding>> {
  const ran = await attempt('prometheus', 'container context', deps.config.timeout, (timeoutMs) =>
    queryContainerContext(deps.prometheus, host, window, { timeoutMs }),
  );
  if (!ran.ok) return { failures: [ran.failure] };
  return ran.value ? { value: ran.value, failures: [] } : NOTHING;
}

/** The queries worth opening in Grafana Explore, as they were sent, with their windows. */
function exploreTargets(source: ExpressionSource | undefined, window: IncidentWindow, logs: LogPlan | undefined, extra: string | undefined): ExploreTarget[] {
  const metrics = { start: window.start, end: window.end };
  const out: ExploreTarget[] = [];
  if (source) out.push({ label: 'Metrics', datasource: source.backend, expr: source.expr, ...metrics });
  if (logs) out.push({ label: 'Logs', datasource: 'loki', expr: logs.query, start: window.logStart, end: window.logEnd });
  if (extra) out.push({ label: 'Extra', datasource: 'prometheus', expr: splitThreshold(extra).expr, ...metrics });
  return out;
}
