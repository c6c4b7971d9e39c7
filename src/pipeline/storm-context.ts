import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { attempt } from '../queries/calls.js';
import type { PrometheusClient, QueryResult } from '../queries/prometheus.js';
import { splitThreshold } from '../queries/promql.js';
import { STORM_PEAKS_SHOWN, type StormMetric } from '../render/storm-context.js';
import type { Database } from '../store/db.js';
import { activeStorms, recordStormContexts, stormNamesToQuery, type StormName } from '../store/storms.js';

/** Alert names of one storm whose metric is queried (the ones with the most firing alerts). */
export const STORM_CONTEXT_NAMES = 5;

/** A storm's context waits until the storm is this old, so that the burst's alert names are in. */
export const STORM_CONTEXT_AFTER_MS = 10_000;

/** What queryStormContexts needs. */
export interface StormContextDeps {
  db: Database;
  prometheus: Pick<PrometheusClient, 'query'>;
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
 * Answers are a handful of samples whatever the storm's size. `looked`: per storm, the join time
 * it was last looked at (kept by the caller): a storm nobody joined since is not read again, as
 * this runs every second. Returns the names queried.
 */
export async function queryStormContexts(deps: StormContextDeps, looked: Map<number, number> = new Map()): Promise<number> {
  const { db, now } = deps;
  let queried = 0;
  for (const storm of activeStorms(db)) {
    if (now.getTime() - storm.startedAt.getTime() < STORM_CONTEXT_AFTER_MS) continue;
    if (looked.get(storm.id) === storm.lastJoinedAt.getTime()) continue;
    looked.set(storm.id, storm.lastJoinedAt.getTime());
    const names = stormNamesToQuery(db, storm.id, STORM_CONTEXT_NAMES);
    if (names.length === 0) continue;
    const metrics = await Promise.all(names.map((n) => stormMetric(n, deps)));
    db.transaction(() =>
      recordStormContexts(
        db,
        storm.id,
        metrics.map((m) => ({ alertname: m.alertname, metrics: m })),
        now,
      ),
    ).immediate();
    deps.logger.info({ stormId: storm.id, names: names.map((n) => n.alertname) }, "storm context: the alert names' metrics, queried once each");
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
  const failures = [...new Set([peaks, series, breaching].flatMap((r) => (r && !r.ok ? [r.failure.message] : [])))];
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
