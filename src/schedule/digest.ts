import type { Locale } from '../i18n/index.js';
import type { Logger } from '../log.js';
import { PSEUDO_FS } from '../queries/catalog.js';
import type { InstantSample, PrometheusClient, QueryResult } from '../queries/prometheus.js';
import { renderDigest, type DigestInput, type DownTarget, type HostHeadroom, type Section, type SnapshotSummary } from '../render/digest.js';
import { warnTo } from '../render/truncate.js';
import type { Database } from '../store/db.js';
import { enqueue } from '../store/outbox.js';
import { deliveryStats, incidentStats, type Window } from '../store/stats.js';
import { localDate } from './cron.js';
import type { JobContext } from './scheduler.js';
import { SNAPSHOT_JOB } from './snapshots.js';
import { lastFinishedRun, runsSince } from '../store/schedule.js';
import type { Clock } from '../model.js';

/** The job name the digest runs and is recorded under. */
export const DIGEST_JOB = 'digest';

/** The window a digest covers, back from when it runs. */
export const DIGEST_WINDOW_MS = 86_400_000;

/** The PromQL the digest asks. */
export const DIGEST_QUERIES = {
  /** Targets down at any point of the last 24h, with the share of scrapes that succeeded. */
  downInWindow: 'avg_over_time(up[24h]) and (min_over_time(up[24h]) == 0)',
  downNow: 'up == 0',
  diskAvail: `node_filesystem_avail_bytes{fstype!~"${PSEUDO_FS}"}`,
  diskSize: `node_filesystem_size_bytes{fstype!~"${PSEUDO_FS}"}`,
  memAvail: 'node_memory_MemAvailable_bytes',
  memTotal: 'node_memory_MemTotal_bytes',
} as const;

/** What the digest job needs. */
export interface DigestJobDeps {
  db: Database;
  /** A client with a timeout fit for 24h range functions over every target. */
  prometheus: PrometheusClient;
  logger: Logger;
  channelId: string;
  timezone: string;
  /** The digest's language (config `locale`); default 'en'. */
  locale?: Locale;
  now: Clock;
  /** Settings of the snapshot job when it is configured (its summary goes in the digest). */
  snapshots?: { retain: number; pruning: boolean };
  /** Called after the digest was put in the outbox (wakes the drainer). */
  onEnqueued?: () => void;
}

/** The series of an instant query (a scalar or string answer is no series). */
function samples(r: QueryResult): InstantSample[] {
  return r.resultType === 'vector' ? r.result : [];
}

const targetKey = (l: Record<string, string>) => `${l['job'] ?? ''}\u0000${l['instance'] ?? ''}`;

/** Joins "down at some point" with "down now" into one list ('' for a missing job or instance label: the digest says so in its language). */
export function downTargets(inWindow: readonly InstantSample[], now: readonly InstantSample[]): DownTarget[] {
  const downNow = new Set(now.map((s) => targetKey(s.labels)));
  const seen = new Map<string, DownTarget>();
  for (const s of inWindow) {
    seen.set(targetKey(s.labels), {
      job: s.labels['job'] ?? '',
      instance: s.labels['instance'] ?? '',
      downNow: downNow.has(targetKey(s.labels)),
      ...(Number.isFinite(s.value) ? { availability: s.value } : {}),
    });
  }
  // A target that went down after the last evaluation of the range (or has no history yet).
  for (const s of now) {
    const key = targetKey(s.labels);
    if (!seen.has(key)) seen.set(key, { job: s.labels['job'] ?? '', instance: s.labels['instance'] ?? '', downNow: true });
  }
  return [...seen.values()];
}

/**
 * Each host's fullest filesystem (lowest free share; one device mounted twice counts once) and
 * its free memory, from node_exporter's series joined by `instance`.
 */
export function hostHeadroom(
  diskAvail: readonly InstantSample[],
  diskSize: readonly InstantSample[],
  memAvail: readonly InstantSample[],
  memTotal: readonly InstantSample[],
): HostHeadroom[] {
  const hosts = new Map<string, HostHeadroom>();
  const host = (instance: string) => {
    let h = hosts.get(instance);
    if (!h) hosts.set(instance, (h = { instance }));
    return h;
  };
  const fsKey = (l: Record<string, string>) => `${l['instance'] ?? ''}\u0000${l['device'] ?? ''}\u0000${l['mountpoint'] ?? ''}`;
  const sizes = new Map(diskSize.map((s) => [fsKey(s.labels), s.value]));
  for (const a of diskAvail) {
    const size = sizes.get(fsKey(a.labels));
    if (size === undefined || !(size > 0) || !Number.isFinite(a.value)) continue;
    const h = host(a.labels['instance'] ?? '');
    const freeRatio = a.value / size;
    if (!h.disk || freeRatio < h.disk.freeRatio) h.disk = { mountpoint: a.labels['mountpoint'] ?? '?', freeRatio, freeBytes: a.value };
  }
  const totals = new Map(memTotal.map((s) => [s.labels['instance'] ?? '', s.value]));
  for (const a of memAvail) {
    const total = totals.get(a.labels['instance'] ?? '');
    if (total === undefined || !(total > 0) || !Number.isFinite(a.value)) continue;
    host(a.labels['instance'] ?? '').memory = { freeRatio: a.value / total, freeBytes: a.value };
  }
  return [...hosts.values()];
}

/** The snapshot job's last run and its 24h record, from the run history. */
export async function snapshotSummary(db: Database, w: Window, settings: { retain: number; pruning: boolean }): Promise<SnapshotSummary> {
  const runs = await runsSince(db, SNAPSHOT_JOB, w.from);
  const last = await lastFinishedRun(db, SNAPSHOT_JOB);
  const detail = last?.detail ?? {};
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    succeeded: runs.filter((r) => r.outcome === 'ok').length,
    failed: runs.filter((r) => r.outcome === 'error').length,
    retain: settings.retain,
    pruning: settings.pruning,
    ...(last
      ? {
          last: {
            at: last.finishedAt ?? last.startedAt,
            ok: last.outcome === 'ok',
            ...(str(detail['snapshot']) ? { snapshot: str(detail['snapshot'])! } : {}),
            ...(str(detail['error']) ? { error: str(detail['error'])! } : {}),
            ...(typeof detail['kept'] === 'number' ? { kept: detail['kept'] } : {}),
            ...(Array.isArray(detail['pruned']) ? { pruned: detail['pruned'].length } : {}),
          },
        }
      : {}),
  };
}

/** Runs the queries of one section; any failure becomes the section's error (the rest of the digest still posts). */
async function section<T>(work: () => Promise<T>): Promise<Section<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** Gathers everything a digest shows for the 24h before `now`. */
export async function collectDigest(deps: DigestJobDeps, now: Date, signal?: AbortSignal): Promise<DigestInput> {
  const w: Window = { from: new Date(now.getTime() - DIGEST_WINDOW_MS), to: now };
  const q = (expr: string) => deps.prometheus.query(expr, now, signal ? { signal } : undefined).then(samples);
  const [targets, headroom] = await Promise.all([
    section(async () => {
      const [inWindow, downNow] = await Promise.all([q(DIGEST_QUERIES.downInWindow), q(DIGEST_QUERIES.downNow)]);
      return downTargets(inWindow, downNow);
    }),
    section(async () => {
      const [da, ds, ma, mt] = await Promise.all([
        q(DIGEST_QUERIES.diskAvail),
        q(DIGEST_QUERIES.diskSize),
        q(DIGEST_QUERIES.memAvail),
        q(DIGEST_QUERIES.memTotal),
      ]);
      return hostHeadroom(da, ds, ma, mt);
    }),
  ]);
  return {
    now,
    from: w.from,
    timezone: deps.timezone,
    ...(deps.locale ? { locale: deps.locale } : {}),
    incidents: await incidentStats(deps.db, w),
    deliveries: await deliveryStats(deps.db, w),
    targets,
    headroom,
    ...(deps.snapshots ? { snapshots: await snapshotSummary(deps.db, w, deps.snapshots) } : {}),
  };
}

/** One digest run: collect, render, put in the outbox (order key `digest:<local date>`), wake the drainer. */
export async function runDigest(deps: DigestJobDeps, ctx: JobContext): Promise<Record<string, unknown>> {
  const now = deps.now();
  const input = await collectDigest(deps, now, ctx.signal);
  // Shutting down mid-collection: post nothing, so the next start can post the whole digest.
  ctx.signal.throwIfAborted();
  const log = deps.logger.child({ job: DIGEST_JOB });
  const body = renderDigest(input, warnTo(log));
  const date = localDate(now, deps.timezone);
  const outboxId = await enqueue(deps.db, { orderKey: `digest:${date}`, kind: 'create', channelId: deps.channelId, body }, now.getTime());
  deps.onEnqueued?.();
  for (const [part, s] of [
    ['targets', input.targets],
    ['headroom', input.headroom],
  ] as const) {
    if (!s.ok) log.warn({ part, error: s.error }, 'digest posted without data Prometheus could not give');
  }
  return { outboxId, date, alertsFired: input.incidents.alertsFired, alertsResolved: input.incidents.alertsResolved };
}
