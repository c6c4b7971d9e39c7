import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { attempt } from '../queries/calls.js';
import { errorLogVolumeBySource } from '../queries/catalog.js';
import type { LokiClient } from '../queries/loki.js';
import type { PrometheusClient, QueryResult } from '../queries/prometheus.js';
import { logMatchersForAlert, splitThreshold } from '../queries/promql.js';
import { STORM_PEAKS_SHOWN, type StormLogVolume, type StormMetric } from '../render/storm-context.js';
import type { Database } from '../store/db.js';
import {
  activeStorms,
  firingStormLabels,
  recordStormContexts,
  recordStormLogs,
  stormLogsQueriedAt,
  stormNamesToQuery,
  type StormName,
} from '../store/storms.js';
import { vectorOf } from './series.js';

/** Alert names of one storm whose metric is queried (the ones with the most firing alerts). */
export const STORM_CONTEXT_NAMES = 5;

/** A storm's context waits until the storm is this old, so that the burst's alert names are in. */
export const STORM_CONTEXT_AFTER_MS = 10_000;

/** Log sources (values of one Loki label) one storm's log volume query asks about: its regex stays a few KiB. */
export const STORM_LOG_SOURCES = 50;

/** A storm's log volume is queried again, once alerts joined it, at most this often. */
export const STORM_LOGS_EVERY_MS = 60_000;

/** What queryStormContexts needs. */
export interface StormContextDeps {
  db: Database;
  prometheus: Pick<PrometheusClient, 'query'>;
  /** Absent: no log volume (the storm message shows the metrics alone). */
  loki?: Pick<LokiClient, 'query'>;
  config: Pick<Config, 'enrichment'>;
  logger: Logger;
  now: Date;
}

/**
 * Enrichment that scales with the storm, not with its alerts: for each storm in progress (at least
 * STORM_CONTEXT_AFTER_MS old), the metric of its alert names with the most firing alerts (up to
 * STORM_CONTEXT_NAMES in all) is queried once for all their alerts, three instant queries each
 * (the highest peaks over the lookback, how many series there are, how many are past the
 * threshold now), recorded with the storm: its message shows them from its next edit (flushStorms).
 * Answers are a handful of samples whatever the storm's size. With `loki`, the error log lines of
 * all its alerts' log sources too, in one query (stormLogVolume), again at most every
 * STORM_LOGS_EVERY_MS while alerts join. `looked`: per storm, the join time it was last looked at
 * (kept by the caller, holding active storms only): a storm nobody joined since is not read again,
 * as this runs every second.
 * Returns the names queried.
 */
export async function queryStormContexts(deps: StormContextDeps, looked: Map<number, number> = new Map()): Promise<number> {
  const { db, now } = deps;
  let queried = 0;
  const storms = await activeStorms(db);
  // Ended storms are not looked at again: their entries go, so `looked` holds the active ones only.
  const active = new Set(storms.map((s) => s.id));
  for (const id of looked.keys()) if (!active.has(id)) looked.delete(id);
  for (const storm of storms) {
    if (now.getTime() - storm.startedAt.getTime() < STORM_CONTEXT_AFTER_MS) continue;
    const joined = storm.lastJoinedAt.getTime();
    const namesDue = looked.get(storm.id) !== joined;
    looked.set(storm.id, joined);
    const names = namesDue ? await stormNamesToQuery(db, storm.id, STORM_CONTEXT_NAMES) : [];
    const lastAt = deps.loki ? await stormLogsQueriedAt(db, storm.id) : undefined;
    const logsDue = deps.loki !== undefined && (lastAt === undefined || (now.getTime() - lastAt >= STORM_LOGS_EVERY_MS && joined > lastAt));
    if (names.length === 0 && !logsDue) continue;
    const [metrics, logs] = await Promise.all([
      Promise.all(names.map((n) => stormMetric(n, deps))),
      logsDue ? stormLogVolume(storm.id, deps) : Promise.resolve(undefined),
    ]);
    if (metrics.length === 0 && !logs) continue;
    await db.transaction(async () => {
      if (metrics.length)
        await recordStormContexts(
          db,
          storm.id,
          metrics.map((m) => ({ alertname: m.alertname, metrics: m })),
          now,
        );
      if (logs) await recordStormLogs(db, storm.id, logs);
    });
    if (names.length)
      deps.logger.info({ stormId: storm.id, names: names.map((n) => n.alertname) }, "storm context: the alert names' metrics, queried once each");
    if (logs?.sources) deps.logger.info({ stormId: storm.id, label: logs.label, sources: logs.sources }, "storm context: its alerts' error logs, one query");
    queried += names.length;
  }
  return queried;
}

/** One alert name's metric over the storm: three instant queries, each bounded by the enrichment timeout. */
async function stormMetric(name: StormName, deps: StormContextDeps): Promise<StormMetric> {
  const { expr: query, threshold } = splitThreshold(name.expr);
  const windowS = Math.max(60, Math.round(deps.config.enrichment.lookback / 1000));
  // About 120 points over the window (15 s over the default 30m), as a chart of it would have.
  const stepS = Math.max(1, Math.round(windowS / 120));
  const ask = (q: string) =>
    attempt('prometheus', 'expression', deps.config.enrichment.timeout, (timeoutMs) => deps.prometheus.query(q, deps.now, { timeoutMs }));
  // Each expression closed on a line of its own: a `#` comment at its end must not swallow what follows.
  const inner = `(${query}\n)`;
  const [peaks, series, breaching] = await Promise.all([
    ask(`topk(${STORM_PEAKS_SHOWN}, max_over_time(${inner}[${windowS}s:${stepS}s]))`),
    ask(`count(${inner})`),
    // From the split parts, never the sender's text: with `bool` its comparison would keep every series.
    threshold ? ask(`count(${inner} ${threshold.op} ${threshold.value})`) : Promise.resolve(undefined),
  ]);
  const failed = [peaks, series, breaching].flatMap((r) =>
    r && !r.ok ? [{ message: r.failure.message, ...(r.failure.words ? { words: r.failure.words } : {}) }] : [],
  );
  // The three queries often fail alike (one timeout): each cause once.
  const failures = failed.filter((f, i) => failed.findIndex((g) => g.message === f.message) === i);
  return {
    alertname: name.alertname,
    firing: name.firing,
    query,
    ...(threshold ? { threshold } : {}),
    ...(series.ok ? { series: countOf(series.value) } : {}),
    ...(breaching?.ok ? { breaching: countOf(breaching.value) } : {}),
    peaks:
      peaks.ok && peaks.value.resultType === 'vector'
        ? peaks.value.result.map((s) => ({ labels: s.labels, value: s.value })).sort((a, b) => b.value - a.value)
        : [],
    failures,
    queriedAt: deps.now.toISOString(),
  };
}

/** The value of a `count(...)`: no sample means none. */
function countOf(result: QueryResult): number {
  return result.resultType === 'vector' ? (result.result[0]?.value ?? 0) : 0;
}

/**
 * The storm's error log lines per source over the lookback, in one Loki query: the Loki label most
 * of its firing alerts map to (enrichment.logLabelMap, as an alert's own logs are selected), its
 * STORM_LOG_SOURCES values with the most alerts. No source (`sources: 0`) when no alert maps to one.
 */
async function stormLogVolume(stormId: number, deps: StormContextDeps): Promise<StormLogVolume> {
  const { enrichment } = deps.config;
  const alerts = (await firingStormLabels(deps.db, stormId)).map((labels) => logMatchersForAlert(labels, enrichment.logLabelMap));
  const perLabel = new Map<string, Map<string, number>>();
  for (const matchers of alerts) {
    for (const m of matchers) {
      const values = perLabel.get(m.name) ?? new Map<string, number>();
      values.set(m.value, (values.get(m.value) ?? 0) + 1);
      perLabel.set(m.name, values);
    }
  }
  const covered = (values: Map<string, number>) => [...values.values()].reduce((a, b) => a + b, 0);
  const best = [...perLabel].sort((a, b) => covered(b[1]) - covered(a[1]) || (a[0] < b[0] ? -1 : 1))[0];
  // Recorded all the same, so that the storm is not read again until alerts joined and a minute passed.
  if (!best) return { label: '', sources: 0, uncovered: alerts.length, query: '', top: [], queriedAt: deps.now.toISOString() };
  const [label, counts] = best;
  const sources = [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, STORM_LOG_SOURCES)
    .map(([value]) => value);
  const asked = new Set(sources);
  const uncovered = alerts.filter((ms) => !ms.some((m) => m.name === label && asked.has(m.value))).length;
  const windowS = Math.max(60, Math.round(enrichment.lookback / 1000));
  const query = errorLogVolumeBySource(label, sources, enrichment.logFilter, windowS);
  const ran = await attempt('loki', 'log volume', enrichment.timeout, (timeoutMs) => deps.loki!.query(query, { time: deps.now }, { timeoutMs }));
  const base = { label, sources: sources.length, uncovered, query, queriedAt: deps.now.toISOString() };
  if (!ran.ok) return { ...base, top: [], failure: { message: ran.failure.message, ...(ran.failure.words ? { words: ran.failure.words } : {}) } };
  const top = vectorOf(ran.value)
    .map((s) => ({ source: s.labels[label] ?? '', lines: s.value }))
    .filter((t) => Number.isFinite(t.lines) && t.lines > 0)
    .sort((a, b) => b.lines - a.lines || (a.source < b.source ? -1 : 1));
  return { ...base, top, total: top.reduce((a, t) => a + t.lines, 0) };
}
