import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { translate, type Locale } from '../i18n/index.js';
import type { Logger } from '../log.js';
import type { PrometheusClient } from '../queries/prometheus.js';
import { maskSecrets } from '../render/mask.js';
import { truncate } from '../render/truncate.js';
import type { Database } from '../store/db.js';
import { enqueue } from '../store/outbox.js';
import { localDate } from './cron.js';
import type { JobContext } from './scheduler.js';
import type { Clock } from '../model.js';

/** The job name snapshots run and are recorded under. */
export const SNAPSHOT_JOB = 'snapshots';

/** Characters of an error a failure note shows: the note stays within Discord's 2000 in any language. */
const ERROR_MAX = 1500;

/** How Prometheus names a snapshot directory: `<UTC YYYYMMDDTHHMMSSZ>-<random hex>`. */
const SNAPSHOT_NAME = /^\d{8}T\d{6}Z-[0-9a-f]+$/;

/** What a snapshot run reports (stored with the run, shown in the digest). */
export interface SnapshotDetail {
  snapshot: string;
  /** Undefined when pruning is off (snapshots.dataDir not set). */
  kept?: number;
  pruned?: string[];
  [key: string]: unknown;
}

/** A snapshot directory found on disk. */
export interface SnapshotDir {
  name: string;
  /** Modification time, epoch ms: orders two snapshots taken in the same second. */
  mtimeMs: number;
}

/** What the snapshot job needs. */
export interface SnapshotJobDeps {
  db: Database;
  /** A client with a timeout long enough for a snapshot of the whole TSDB. */
  prometheus: PrometheusClient;
  logger: Logger;
  retain: number;
  /** Prometheus' data directory as Vigil sees it; without it nothing is pruned. */
  dataDir?: string;
  /** Where a failure is announced (discord.alertChannelId). */
  alertChannelId: string;
  timezone: string;
  /** The language of the failure notes (config `locale`); default 'en'. */
  locale?: Locale;
  now: Clock;
  /** Called after something was put in the outbox (wakes the drainer). */
  onEnqueued?: () => void;
}

/**
 * The snapshots to delete so that the `retain` newest stay: newest by the time in the name,
 * then by modification time. Anything not named like a Prometheus snapshot is never listed.
 */
export function snapshotsToPrune(dirs: readonly SnapshotDir[], retain: number): string[] {
  const ordered = dirs
    .filter((d) => SNAPSHOT_NAME.test(d.name))
    .sort((a, b) => b.name.slice(0, 16).localeCompare(a.name.slice(0, 16)) || b.mtimeMs - a.mtimeMs || b.name.localeCompare(a.name));
  return ordered.slice(Math.max(0, retain)).map((d) => d.name);
}

/** Lists the snapshot directories under `<dataDir>/snapshots`, with a precise error when it is missing. */
async function listSnapshots(dataDir: string): Promise<SnapshotDir[]> {
  const dir = join(dataDir, 'snapshots');
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new Error(`snapshots.dataDir: ${dir} does not exist; is ${dataDir} Prometheus' --storage.tsdb.path as Vigil sees it?`, { cause: err });
    }
    throw new Error(`snapshots.dataDir: cannot read ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const dirs = entries.filter((e) => e.isDirectory() && SNAPSHOT_NAME.test(e.name));
  return Promise.all(dirs.map(async (e) => ({ name: e.name, mtimeMs: (await stat(join(dir, e.name))).mtimeMs })));
}

/** Deletes all but the `retain` newest snapshot directories; returns what is kept and what went. */
export async function pruneSnapshots(dataDir: string, retain: number): Promise<{ kept: number; pruned: string[] }> {
  const dirs = await listSnapshots(dataDir);
  const pruned = snapshotsToPrune(dirs, retain);
  for (const name of pruned) await rm(join(dataDir, 'snapshots', name), { recursive: true, force: true });
  return { kept: dirs.length - pruned.length, pruned };
}

/** A plain message: content only, no mentions. */
interface PlainMessage {
  content: string;
  allowed_mentions: { parse: [] };
}

/** The message announcing a failed snapshot, with Prometheus' own error. */
export function snapshotFailureMessage(error: string, locale: Locale = 'en'): PlainMessage {
  return { content: translate(locale, 'digest.snapshot.failed', { error: truncate(maskSecrets(error), ERROR_MAX) }), allowed_mentions: { parse: [] } };
}

/** The message announcing that old snapshots could not be deleted. */
export function pruneFailureMessage(snapshot: string, error: string, locale: Locale = 'en'): PlainMessage {
  return {
    content: translate(locale, 'digest.snapshot.pruneFailed', { error: truncate(maskSecrets(error), ERROR_MAX), snapshot: truncate(snapshot, 100) }),
    allowed_mentions: { parse: [] },
  };
}

/**
 * One snapshot run: asks Prometheus for a snapshot, prunes to `retain` when dataDir is set.
 * On failure: logs (by the scheduler), announces it in the alert channel through the outbox, and
 * throws so the run is recorded as failed (the digest counts it).
 */
export async function runSnapshot(deps: SnapshotJobDeps, ctx: JobContext): Promise<SnapshotDetail> {
  let name: string;
  try {
    name = await deps.prometheus.snapshot({ signal: ctx.signal });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // A shutdown is not Prometheus failing: nothing to announce.
    if (!ctx.signal.aborted) await announce(deps, snapshotFailureMessage(message, deps.locale));
    throw err;
  }
  deps.logger.info({ job: SNAPSHOT_JOB, snapshot: name }, 'Prometheus snapshot created');
  if (!deps.dataDir) return { snapshot: name };
  try {
    const { kept, pruned } = await pruneSnapshots(deps.dataDir, deps.retain);
    return { snapshot: name, kept, pruned };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await announce(deps, pruneFailureMessage(name, message, deps.locale));
    throw new Error(`snapshot ${name} created, but pruning failed: ${message}`, { cause: err });
  }
}

async function announce(deps: SnapshotJobDeps, body: PlainMessage): Promise<void> {
  const now = deps.now();
  await enqueue(deps.db, { orderKey: `snapshot:${localDate(now, deps.timezone)}`, kind: 'create', channelId: deps.alertChannelId, body }, now.getTime());
  deps.onEnqueued?.();
}
