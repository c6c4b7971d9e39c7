import { CADVISOR_CPU, CADVISOR_MEMORY, containerMatchers } from '../queries/catalog.js';
import { containerContextQuery, HOST_MEASURES, hostContextQuery } from '../queries/catalog.js';
import type { CallOptions } from '../queries/http.js';
import type { InstantSample, PrometheusClient, QueryResult, RangeSeries } from '../queries/prometheus.js';
import { stripPort, type MatcherSpec } from '../queries/promql.js';
import type {
  ContainerContextFinding,
  ContainerEvent,
  ContainerUsageRow,
  HostContextFinding,
  HostMeasure,
  IncidentWindow,
  LogLevelVolume,
  LogVolumeFinding,
} from '../findings.js';

/** Host context compares the alert's start with this long before it. */
export const HOST_BASELINE_SECONDS = 3600;
/** Log volume compares the log window with this long before it. */
export const LOG_BASELINE_SECONDS = 3600;
/** Containers shown per resource. */
export const TOP_CONTAINERS = 3;
/** Container usage looks at most this far back from the window's end (a days-long incident would make a heavy query). */
export const MAX_CONTAINER_RANGE_SECONDS = 6 * 3600;

/** The host an alert is about: its `instance` without the port, else its `host` label. */
export function hostOf(labels: Readonly<Record<string, string>>): string | undefined {
  const instance = labels.instance?.trim();
  if (instance) return stripPort(instance);
  return labels.host?.trim() || undefined;
}

/** The `instance` matcher /top uses for a host: the host literally, with or without a port. */
export function hostInstanceMatchers(host: string): MatcherSpec[] {
  return containerMatchers(host).filter((m) => m.name === 'instance');
}

/**
 * The host's CPU, memory, fullest disk and load per core at `at` and one hour before, from the
 * node_exporter on the same host as `instance` (one range query with two steps). Undefined when no
 * node_exporter reports for that host.
 */
export async function queryHostContext(
  prometheus: Pick<PrometheusClient, 'queryRange'>,
  instance: string,
  at: Date,
  opts?: CallOptions,
): Promise<HostContextFinding | undefined> {
  const expr = hostContextQuery(hostInstanceMatchers(stripPort(instance)));
  const before = new Date(at.getTime() - HOST_BASELINE_SECONDS * 1000);
  const series = await prometheus.queryRange(expr, before, at, HOST_BASELINE_SECONDS, opts);
  return summarizeHostContext(series, instance, at);
}

/** The node_exporter instance to report: the alert's own when it is one, else the one with most measures. */
function pickInstance(series: readonly RangeSeries[], alertInstance: string): string | undefined {
  const counts = new Map<string, number>();
  for (const s of series) {
    const instance = s.labels.instance;
    if (instance !== undefined) counts.set(instance, (counts.get(instance) ?? 0) + 1);
  }
  if (counts.has(alertInstance)) return alertInstance;
  return [...counts].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))[0]?.[0];
}

/** The highest finite value among points at `time` (±1 s), with the series it came from. */
function valueAt(series: readonly RangeSeries[], time: number): { value: number; series: RangeSeries } | undefined {
  let best: { value: number; series: RangeSeries } | undefined;
  for (const s of series) {
    for (const p of s.points) {
      if (Math.abs(p.at.getTime() - time) > 1000 || !Number.isFinite(p.value)) continue;
      if (!best || p.value > best.value) best = { value: p.value, series: s };
    }
  }
  return best;
}

/**
 * Turns the host context query's series into measures at `at` and one hour before, for one
 * node_exporter instance; undefined when there is no data at all.
 */
export function summarizeHostContext(series: readonly RangeSeries[], alertInstance: string, at: Date): HostContextFinding | undefined {
  const instance = pickInstance(series, alertInstance);
  if (instance === undefined) return undefined;
  const own = series.filter((s) => s.labels.instance === instance);
  const measures: HostMeasure[] = [];
  for (const kind of HOST_MEASURES) {
    const ofKind = own.filter((s) => s.labels.measure === kind);
    const now = valueAt(ofKind, at.getTime());
    const before = valueAt(ofKind, at.getTime() - HOST_BASELINE_SECONDS * 1000);
    if (!now && !before) continue;
    const mountpoint = kind === 'disk' ? (now ?? before)!.series.labels.mountpoint : undefined;
    measures.push({
      kind,
      ...(now ? { now: now.value } : {}),
      ...(before ? { before: before.value } : {}),
      ...(mountpoint ? { mountpoint } : {}),
    });
  }
  return measures.length ? { instance, at, measures } : undefined;
}

/**
 * The top containers by CPU and memory on `host` over the metrics window (its last 6 hours at
 * most), and their restarts and OOM kills (cAdvisor, one instant query at the window's end).
 * Undefined when cAdvisor reports nothing for that host.
 */
export async function queryContainerContext(
  prometheus: Pick<PrometheusClient, 'query'>,
  host: string,
  window: Pick<IncidentWindow, 'start' | 'end'>,
  opts?: CallOptions,
): Promise<ContainerContextFinding | undefined> {
  const span = Math.round((window.end.getTime() - window.start.getTime()) / 1000);
  const seconds = Math.min(MAX_CONTAINER_RANGE_SECONDS, Math.max(1, span));
  const expr = containerContextQuery(containerMatchers(host), { cpu: CADVISOR_CPU, memory: CADVISOR_MEMORY }, seconds, TOP_CONTAINERS);
  const result = await prometheus.query(expr, window.end, opts);
  return summarizeContainerContext(vectorOf(result), host);
}

function vectorOf(result: QueryResult): InstantSample[] {
  return result.resultType === 'vector' ? result.result : [];
}

function rows(samples: readonly InstantSample[], resource: string): ContainerUsageRow[] {
  return samples
    .filter((s) => s.labels.resource === resource && s.labels.name && Number.isFinite(s.value))
    .map((s) => ({ name: s.labels.name!, value: s.value }))
    .sort((a, b) => b.value - a.value || (a.name < b.name ? -1 : 1))
    .slice(0, TOP_CONTAINERS);
}

/** Turns the container context query's samples into a finding; undefined when there are none. */
export function summarizeContainerContext(samples: readonly InstantSample[], host: string): ContainerContextFinding | undefined {
  const events: ContainerEvent[] = [];
  for (const s of samples) {
    const kind = s.labels.resource === 'restarts' ? 'restart' : s.labels.resource === 'oom' ? 'oom' : undefined;
    if (!kind || !s.labels.name || !(s.value > 0)) continue;
    // increase() extrapolates (1 OOM kill can read 1.2): whole events, at least one.
    events.push({ name: s.labels.name, kind, count: Math.max(1, Math.round(s.value)) });
  }
  events.sort((a, b) => b.count - a.count || (a.kind === b.kind ? 0 : a.kind === 'oom' ? -1 : 1) || (a.name < b.name ? -1 : 1));
  const cpu = rows(samples, 'cpu');
  const memory = rows(samples, 'memory');
  if (!cpu.length && !memory.length && !events.length) return undefined;
  return { host, cpu, memory, events };
}

/** Levels by severity, most severe first; others follow by count. */
const LEVEL_RANK: Record<string, number> = {
  emerg: 0,
  emergency: 0,
  panic: 0,
  fatal: 0,
  crit: 1,
  critical: 1,
  alert: 1,
  error: 2,
  err: 2,
  eror: 2,
  warn: 3,
  warning: 3,
  notice: 4,
  info: 5,
  information: 5,
  informational: 5,
  debug: 6,
  dbug: 6,
  trace: 7,
};

function rank(level: string): number {
  return LEVEL_RANK[level.toLowerCase()] ?? 8;
}

/** Counts by the `level` label of a Loki vector ("" when a line has none). */
function countsByLevel(samples: readonly InstantSample[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    const level = s.labels.level ?? '';
    if (Number.isFinite(s.value)) out.set(level, (out.get(level) ?? 0) + s.value);
  }
  return out;
}

/**
 * Compares the lines per level in the log window with the hour before: `ratio` is the window's
 * rate over the usual rate (undefined when there were none before). Most severe level first.
 */
export function summarizeLogVolume(
  query: string,
  window: readonly InstantSample[],
  baseline: readonly InstantSample[],
  windowSeconds: number,
  baselineSeconds = LOG_BASELINE_SECONDS,
): LogVolumeFinding {
  const now = countsByLevel(window);
  const before = countsByLevel(baseline);
  const levels: LogLevelVolume[] = [...now]
    .filter(([, count]) => count > 0)
    .map(([level, count]) => {
      const earlier = before.get(level) ?? 0;
      const ratio = earlier > 0 ? count / windowSeconds / (earlier / baselineSeconds) : undefined;
      return { level, count, before: earlier, ...(ratio !== undefined ? { ratio } : {}) };
    })
    .sort((a, b) => rank(a.level) - rank(b.level) || b.count - a.count || (a.level < b.level ? -1 : 1));
  return { query, windowSeconds, baselineSeconds, levels };
}
