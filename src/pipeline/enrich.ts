import type { Config } from '../config/schema.js';
import { formatDuration } from '../config/duration.js';
import type { Metrics } from '../metrics.js';
import { errorLogs, targetUp } from '../queries/catalog.js';
import { QueryError } from '../queries/http.js';
import { newestFirst, type LokiClient } from '../queries/loki.js';
import type { PrometheusClient, RangeSeries, ScrapeTarget } from '../queries/prometheus.js';
import { logSelectorForAlert, splitThreshold } from '../queries/promql.js';
import { incidentWindow } from '../queries/window.js';
import type {
  Alert,
  AlertEnrichment,
  EnrichedNotification,
  EnrichmentFailure,
  ExpressionFinding,
  IncidentWindow,
  LogFinding,
  Notification,
  SeriesSummary,
  TargetFinding,
} from './types.js';

/** What the enrichment stage needs: the two query clients, its config section, and the clock. */
export interface EnrichDeps {
  prometheus: Pick<PrometheusClient, 'queryRange' | 'targets'>;
  loki: Pick<LokiClient, 'queryRange'>;
  config: Config['enrichment'];
  now: Date;
  /** Times every query by backend when given. */
  metrics?: Pick<Metrics, 'enrichmentQueryDuration'>;
}

/** Lines asked from Loki per alert; `count` is capped here. */
export const LOG_QUERY_LIMIT = 100;
/** Series shown per expression. */
export const MAX_SERIES = 5;
/** Slack past the clients' own timeout before the stage gives up on a call that ignores it. */
const GUARD_GRACE_MS = 250;

/** A partial result: the finding when there is one, and why parts are missing. */
interface Outcome<T> {
  value?: T;
  failures: EnrichmentFailure[];
}

/** A query that does not apply to the alert (no expr, no job/instance). */
const NOTHING: Outcome<never> = { failures: [] };

type BackendId = EnrichmentFailure['backend'];

/**
 * Enriches one alert: its expression, its target's health and its error logs over the incident
 * window, queried in parallel, each bounded by config.timeout. Never throws: whatever fails or is
 * too slow becomes an EnrichmentFailure next to the findings that did arrive.
 */
export async function enrichAlert(alert: Alert, deps: EnrichDeps): Promise<AlertEnrichment> {
  const { config, now } = deps;
  const window = incidentWindow(alert, { lookbackMs: config.lookback, logWindowMs: config.logWindow }, now);
  const [expression, target, logs] = await Promise.all([
    alert.expr ? expressionOutcome(alert, alert.expr, window, deps) : NOTHING,
    alert.labels.job || alert.labels.instance ? targetOutcome(alert, window, deps) : NOTHING,
    logsOutcome(alert, window, deps),
  ]);
  return {
    fingerprint: alert.fingerprint,
    window,
    ...(expression.value ? { expression: expression.value } : {}),
    ...(target.value ? { target: target.value } : {}),
    ...(logs.value ? { logs: logs.value } : {}),
    failures: [...expression.failures, ...target.failures, ...logs.failures],
  };
}

/**
 * Enriches up to config.maxAlerts alerts of a notification (firing ones first, then in the
 * sender's order), all in parallel; /api/v1/targets is fetched once for the whole group.
 * Vigil's own notifications (source `vigil`) are not enriched.
 */
export async function enrichNotification(notification: Notification, deps: EnrichDeps): Promise<EnrichedNotification> {
  // Vigil's own alerts (the watchdog) carry nothing to query, and the backend they report may be the one that is down.
  if (notification.source === 'vigil') return { notification, enrichments: {} };
  const chosen = [...notification.alerts]
    .sort((a, b) => Number(a.status !== 'firing') - Number(b.status !== 'firing'))
    .slice(0, deps.config.maxAlerts);
  const timed = timedClients(deps);
  const shared: EnrichDeps = { ...deps, ...timed, prometheus: sharingTargets(timed.prometheus) };
  const results = await Promise.all(chosen.map((alert) => enrichAlert(alert, shared)));
  return { notification, enrichments: Object.fromEntries(results.map((r) => [r.fingerprint, r])) };
}

async function expressionOutcome(
  alert: Alert,
  rawExpr: string,
  window: IncidentWindow,
  deps: EnrichDeps,
): Promise<Outcome<ExpressionFinding>> {
  const { expr, threshold } = splitThreshold(rawExpr);
  const ran = await attempt('prometheus', 'expression', deps.config.timeout, (timeoutMs) =>
    deps.prometheus.queryRange(expr, window.start, window.end, window.stepSeconds, { timeoutMs }),
  );
  if (!ran.ok) return { failures: [ran.failure] };
  const series = pickSeries(ran.value, alert.labels).map((s) => summarizeSeries(s, alert.startsAt));
  return { value: { expr, series, ...(threshold ? { threshold } : {}) }, failures: [] };
}

/** The series whose every label (but `__name__`) equals the alert's; if none, the highest peaks. */
export function pickSeries(series: readonly RangeSeries[], alertLabels: Readonly<Record<string, string>>): RangeSeries[] {
  const matching = series.filter((s) =>
    Object.entries(s.labels).every(([name, value]) => name === '__name__' || alertLabels[name] === value),
  );
  const pool = (matching.length ? matching : series).filter((s) => s.points.length > 0);
  return [...pool].sort((a, b) => byPeakDesc(peakOf(a).value, peakOf(b).value)).slice(0, MAX_SERIES);
}

/** Start, peak and latest values of one series; `atStart` is the last point at or before startsAt. */
export function summarizeSeries(series: RangeSeries, startsAt: Date): SeriesSummary {
  const { points } = series;
  const last = points[points.length - 1]!;
  const atStart = points.filter((p) => p.at.getTime() <= startsAt.getTime()).at(-1);
  const peak = peakOf(series);
  return {
    labels: series.labels,
    ...(atStart ? { atStart: atStart.value } : {}),
    peak: peak.value,
    peakAt: peak.at,
    latest: last.value,
    latestAt: last.at,
    points: points.length,
  };
}

/** Highest non-NaN point (the first one when all are NaN). */
function peakOf(series: RangeSeries): { value: number; at: Date } {
  let best = series.points[0]!;
  for (const p of series.points) if (!Number.isNaN(p.value) && (Number.isNaN(best.value) || p.value > best.value)) best = p;
  return { value: best.value, at: best.at };
}

function byPeakDesc(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
  if (Number.isNaN(b)) return -1;
  return b === a ? 0 : b > a ? 1 : -1;
}

async function targetOutcome(alert: Alert, window: IncidentWindow, deps: EnrichDeps): Promise<Outcome<TargetFinding>> {
  const { job, instance } = alert.labels;
  const [up, targets] = await Promise.all([
    attempt('prometheus', 'target health', deps.config.timeout, (timeoutMs) =>
      deps.prometheus.queryRange(targetUp(job, instance), window.start, window.end, window.stepSeconds, { timeoutMs }),
    ),
    attempt('prometheus', 'scrape status', deps.config.timeout, (timeoutMs) =>
      deps.prometheus.targets('active', { timeoutMs }),
    ),
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

/** Share of `up` samples equal to 1, and the worst latest value across the series. */
export function upHistory(series: readonly RangeSeries[]): Pick<TargetFinding, 'upRatio' | 'upNow'> {
  const values = series.flatMap((s) => s.points.map((p) => p.value));
  if (!values.length) return {};
  const latest = series.map((s) => s.points[s.points.length - 1]!.value);
  return { upRatio: values.filter((v) => v === 1).length / values.length, upNow: Math.min(...latest) };
}

/** The active target with the alert's job and instance; a down one first when several match. */
export function findTarget(targets: readonly ScrapeTarget[], job?: string, instance?: string): ScrapeTarget | undefined {
  const matching = targets.filter(
    (t) => (!job || t.labels.job === job) && (!instance || t.labels.instance === instance),
  );
  return matching.find((t) => t.health === 'down') ?? matching[0];
}

function scrapeStatus(t: ScrapeTarget | undefined): Partial<TargetFinding> {
  if (!t) return {};
  return {
    health: t.health,
    scrapeUrl: t.scrapeUrl,
    ...(t.lastError ? { lastError: t.lastError } : {}),
    ...(t.lastScrape ? { lastScrape: t.lastScrape } : {}),
    ...(t.lastScrapeDurationSeconds !== undefined ? { lastScrapeDurationSeconds: t.lastScrapeDurationSeconds } : {}),
  };
}

async function logsOutcome(alert: Alert, window: IncidentWindow, deps: EnrichDeps): Promise<Outcome<LogFinding>> {
  const { config } = deps;
  const logSelector = logSelectorForAlert(alert.labels, config.logLabelMap);
  if (!logSelector) return { failures: [{ backend: 'loki', what: 'logs', message: noSelectorMessage(config.logLabelMap) }] };
  const query = errorLogs(logSelector, config.logFilter);
  const ran = await attempt('loki', 'logs', config.timeout, (timeoutMs) =>
    deps.loki.queryRange(
      query,
      { start: window.logStart, end: window.logEnd, limit: LOG_QUERY_LIMIT, direction: 'backward' },
      { timeoutMs },
    ),
  );
  if (!ran.ok) return { failures: [ran.failure] };
  if (ran.value.resultType !== 'streams') {
    return { failures: [{ backend: 'loki', what: 'logs', message: `Loki answered a log query with ${ran.value.resultType}` }] };
  }
  const entries = newestFirst(ran.value.result);
  const lines = entries.slice(0, config.logLines).map((e) => ({ at: e.at, line: e.line, labels: e.labels }));
  return { value: { query, count: entries.length, capped: entries.length >= LOG_QUERY_LIMIT, lines }, failures: [] };
}

/** "no label to select logs by (container, name, container_name…)": the first alert labels the map knows. */
function noSelectorMessage(labelMap: Readonly<Record<string, string>>): string {
  const names = Object.keys(labelMap);
  const shown = names.slice(0, 3).join(', ') + (names.length > 3 ? '…' : '');
  return `no label to select logs by (${shown})`;
}

/** The clients with each call's wall time observed by backend (calls that fail or time out too). */
function timedClients(deps: EnrichDeps): Pick<EnrichDeps, 'prometheus' | 'loki'> {
  const histogram = deps.metrics?.enrichmentQueryDuration;
  if (!histogram) return { prometheus: deps.prometheus, loki: deps.loki };
  const time = <T>(backend: BackendId, call: () => Promise<T>): Promise<T> => {
    const end = histogram.startTimer({ backend });
    return call().finally(() => end());
  };
  return {
    prometheus: {
      queryRange: (...args) => time('prometheus', () => deps.prometheus.queryRange(...args)),
      targets: (...args) => time('prometheus', () => deps.prometheus.targets(...args)),
    },
    loki: { queryRange: (...args) => time('loki', () => deps.loki.queryRange(...args)) },
  };
}

/** /api/v1/targets once per notification: every alert of a group asks for the same list. */
function sharingTargets(client: EnrichDeps['prometheus']): EnrichDeps['prometheus'] {
  const cache = new Map<string, ReturnType<PrometheusClient['targets']>>();
  return {
    queryRange: (...args) => client.queryRange(...args),
    targets(state = 'active', opts) {
      let pending = cache.get(state);
      if (!pending) {
        pending = client.targets(state, opts);
        cache.set(state, pending);
      }
      return pending;
    },
  };
}

type Attempt<T> = { ok: true; value: T } | { ok: false; failure: EnrichmentFailure };

/**
 * Runs one query, bounded by `timeoutMs` (passed to the client, plus a guard in case a client
 * ignores it), and turns any error into an EnrichmentFailure.
 */
async function attempt<T>(
  backend: BackendId,
  what: string,
  timeoutMs: number,
  run: (timeoutMs: number) => Promise<T>,
): Promise<Attempt<T>> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new QueryError('timeout', `${backendName(backend)} timed out after ${formatDuration(timeoutMs)}`)),
      timeoutMs + GUARD_GRACE_MS,
    );
  });
  try {
    return { ok: true, value: await Promise.race([run(timeoutMs), guard]) };
  } catch (err) {
    return { ok: false, failure: { backend, what, message: failureMessage(err) } };
  } finally {
    clearTimeout(timer);
  }
}

function backendName(backend: BackendId): string {
  return backend === 'loki' ? 'Loki' : 'Prometheus';
}

function failureMessage(err: unknown): string {
  if (err instanceof QueryError) return err.message;
  const text = err instanceof Error ? err.message : String(err);
  return `unexpected error: ${text.slice(0, 200)}`;
}
