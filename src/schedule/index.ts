import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { createPrometheusClient, type PrometheusClient } from '../queries/prometheus.js';
import type { Database } from '../store/db.js';
import { DIGEST_JOB, runDigest } from './digest.js';
import type { JobSpec } from './scheduler.js';
import { runSnapshot, SNAPSHOT_JOB } from './snapshots.js';
import type { Clock } from '../model.js';

/** How long a digest query may take: 24h range functions over every target cost more than enrichment's. */
const DIGEST_QUERY_TIMEOUT_MS = 60_000;
/** How long Prometheus may take to write a snapshot of its whole TSDB. */
const SNAPSHOT_TIMEOUT_MS = 15 * 60_000;

/** What the scheduled jobs share with the rest of Vigil. */
export interface ScheduledJobDeps {
  db: Database;
  logger: Logger;
  now: Clock;
  /** Called after a job put something in the outbox (wakes the drainer). */
  onEnqueued?: () => void;
  /** Overrides the Prometheus client built from config (tests). */
  prometheus?: PrometheusClient;
}

/** The jobs the config enables: the daily digest (`digest`) and Prometheus snapshots (`snapshots`). */
export function scheduledJobs(config: Config, deps: ScheduledJobDeps): JobSpec[] {
  const jobs: JobSpec[] = [];
  const client = (timeoutMs: number) => deps.prometheus ?? createPrometheusClient({ url: config.prometheus.url, timeoutMs });
  const snapshots = config.snapshots?.enabled ? config.snapshots : undefined;
  const digest = config.digest?.enabled ? config.digest : undefined;
  if (digest) {
    const d = {
      db: deps.db,
      prometheus: client(Math.max(DIGEST_QUERY_TIMEOUT_MS, config.enrichment.timeout)),
      logger: deps.logger,
      channelId: digest.channelId ?? config.discord.alertChannelId,
      timezone: digest.timezone,
      locale: config.locale,
      now: deps.now,
      ...(snapshots ? { snapshots: { retain: snapshots.retain, pruning: snapshots.dataDir !== undefined } } : {}),
      ...(deps.onEnqueued ? { onEnqueued: deps.onEnqueued } : {}),
    };
    jobs.push({ name: DIGEST_JOB, schedule: digest.schedule, timezone: digest.timezone, run: (ctx) => runDigest(d, ctx) });
  }
  if (snapshots) {
    const s = {
      db: deps.db,
      prometheus: client(SNAPSHOT_TIMEOUT_MS),
      logger: deps.logger,
      retain: snapshots.retain,
      ...(snapshots.dataDir !== undefined ? { dataDir: snapshots.dataDir } : {}),
      alertChannelId: config.discord.alertChannelId,
      timezone: snapshots.timezone,
      locale: config.locale,
      now: deps.now,
      ...(deps.onEnqueued ? { onEnqueued: deps.onEnqueued } : {}),
    };
    jobs.push({ name: SNAPSHOT_JOB, schedule: snapshots.schedule, timezone: snapshots.timezone, run: (ctx) => runSnapshot(s, ctx) });
  }
  return jobs;
}
