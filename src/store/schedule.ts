import type { Database } from './sql.js';

/** What the store remembers of a job between restarts. */
export interface JobState {
  /** The cron expression and zone the state was recorded under. */
  schedule: string;
  timezone: string;
  /** Epoch ms of the scheduled time a run was last started for (or the baseline set at first start). */
  lastSlot: number;
}

/** A job's schedule. */
export interface ScheduleSpec {
  schedule: string;
  timezone: string;
}

/**
 * Scheduled jobs' state (the scheduled time each last ran for, so a restart neither repeats nor
 * forgets a run) and their run history (what each run reported, read by the digest).
 */
export const SCHEDULE_SQL = `
CREATE TABLE scheduled_jobs (
  job TEXT PRIMARY KEY,
  schedule TEXT NOT NULL,
  timezone TEXT NOT NULL,
  last_slot INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE scheduled_runs (
  id INTEGER PRIMARY KEY,
  job TEXT NOT NULL,
  slot INTEGER,
  reason TEXT NOT NULL CHECK (reason IN ('scheduled', 'catch-up', 'manual')),
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  outcome TEXT CHECK (outcome IN ('ok', 'error')),
  detail TEXT CHECK (detail IS NULL OR json_valid(detail))
);
CREATE INDEX scheduled_runs_job ON scheduled_runs (job, started_at);
`;

/** Why a run happened. */
export type RunReason = 'scheduled' | 'catch-up' | 'manual';

/** One run of a job as recorded. */
export interface RunRecord {
  id: number;
  job: string;
  /** The scheduled time it ran for; undefined for a manual run. */
  slot?: Date;
  reason: RunReason;
  startedAt: Date;
  /** Undefined while running (or when Vigil died mid-run). */
  finishedAt?: Date;
  outcome?: 'ok' | 'error';
  /** What the run reported (or `{ error }`). */
  detail?: Record<string, unknown>;
}

interface RunRow {
  id: number;
  job: string;
  slot: number | null;
  reason: RunReason;
  started_at: number;
  finished_at: number | null;
  outcome: 'ok' | 'error' | null;
  detail: string | null;
}

function fromRow(r: RunRow): RunRecord {
  return {
    id: r.id,
    job: r.job,
    ...(r.slot !== null ? { slot: new Date(r.slot) } : {}),
    reason: r.reason,
    startedAt: new Date(r.started_at),
    ...(r.finished_at !== null ? { finishedAt: new Date(r.finished_at) } : {}),
    ...(r.outcome !== null ? { outcome: r.outcome } : {}),
    ...(r.detail !== null ? { detail: JSON.parse(r.detail) as Record<string, unknown> } : {}),
  };
}

/** Run history older than this is deleted when a run is recorded. */
const RUN_HISTORY_MS = 30 * 86_400_000;

/** A job's persisted state, if it was ever seen. */
export async function getJobState(db: Database, job: string): Promise<JobState | undefined> {
  const row = await db.get<{ schedule: string; timezone: string; last_slot: number }>(
    `SELECT schedule, timezone, last_slot FROM scheduled_jobs WHERE job = ?`,
    job,
  );
  return row ? { schedule: row.schedule, timezone: row.timezone, lastSlot: row.last_slot } : undefined;
}

/** Records `slot` as the last scheduled time of a job without running it (first start, new schedule). */
export async function setBaseline(db: Database, job: string, spec: ScheduleSpec, slot: number, now: Date): Promise<void> {
  await db.run(
    `INSERT INTO scheduled_jobs (job, schedule, timezone, last_slot, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (job) DO UPDATE SET schedule = excluded.schedule, timezone = excluded.timezone,
       last_slot = excluded.last_slot, updated_at = excluded.updated_at`,
    job,
    spec.schedule,
    spec.timezone,
    slot,
    now.getTime(),
  );
}

/**
 * Claims `slot` for a run and records the run as started, in one transaction, BEFORE the job
 * runs: a crash mid-run then never leads to a second run of the same slot. Returns the run id,
 * or undefined when the slot was already claimed (the state moved on meanwhile).
 */
export async function claimSlot(db: Database, job: string, spec: ScheduleSpec, slot: number, reason: RunReason, now: Date): Promise<number | undefined> {
  return db.transaction(async (): Promise<number | undefined> => {
    const claimed = await db.run(
      `INSERT INTO scheduled_jobs (job, schedule, timezone, last_slot, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (job) DO UPDATE SET last_slot = excluded.last_slot, updated_at = excluded.updated_at
         WHERE scheduled_jobs.last_slot < excluded.last_slot`,
      job,
      spec.schedule,
      spec.timezone,
      slot,
      now.getTime(),
    );
    if (claimed.changes === 0) return undefined;
    return startRun(db, job, slot, reason, now);
  });
}

/** Gives a claimed slot back (the run was cut short by shutdown): the next start runs it once. */
export async function releaseSlot(db: Database, job: string, slot: number, previous: number, now: Date): Promise<void> {
  await db.run(`UPDATE scheduled_jobs SET last_slot = ?, updated_at = ? WHERE job = ? AND last_slot = ?`, previous, now.getTime(), job, slot);
}

/** Records a run as started (manual runs claim no slot); returns its id. */
export async function startRun(db: Database, job: string, slot: number | undefined, reason: RunReason, now: Date): Promise<number> {
  const row = await db.get<{ id: number }>(
    `INSERT INTO scheduled_runs (job, slot, reason, started_at) VALUES (?, ?, ?, ?) RETURNING id`,
    job,
    slot ?? null,
    reason,
    now.getTime(),
  );
  return row!.id;
}

/** Records how a run ended, and forgets history older than {@link RUN_HISTORY_MS}. */
export async function finishRun(db: Database, id: number, outcome: 'ok' | 'error', detail: Record<string, unknown> | undefined, now: Date): Promise<void> {
  await db.run(
    `UPDATE scheduled_runs SET finished_at = ?, outcome = ?, detail = ? WHERE id = ?`,
    now.getTime(),
    outcome,
    detail === undefined ? null : JSON.stringify(detail),
    id,
  );
  await db.run(`DELETE FROM scheduled_runs WHERE started_at < ?`, now.getTime() - RUN_HISTORY_MS);
}

/** Finished runs of a job started at or after `since`, oldest first. */
export async function runsSince(db: Database, job: string, since: Date): Promise<RunRecord[]> {
  const rows = await db.all<RunRow>(
    `SELECT * FROM scheduled_runs WHERE job = ? AND started_at >= ? AND outcome IS NOT NULL ORDER BY started_at, id`,
    job,
    since.getTime(),
  );
  return rows.map(fromRow);
}

/** The last finished run of a job, if any. */
export async function lastFinishedRun(db: Database, job: string): Promise<RunRecord | undefined> {
  const row = await db.get<RunRow>(`SELECT * FROM scheduled_runs WHERE job = ? AND outcome IS NOT NULL ORDER BY started_at DESC, id DESC LIMIT 1`, job);
  return row ? fromRow(row) : undefined;
}
