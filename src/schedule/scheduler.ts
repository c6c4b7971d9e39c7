import { createTask } from 'node-cron';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Database } from '../store/db.js';
import { cronProblem, timeZoneProblem } from '../config/cron.js';
import { previousSlot } from './cron.js';
import { decideAtStart, decideAtTick } from './due.js';
import { claimSlot, finishRun, getJobState, releaseSlot, setBaseline, startRun, type RunReason } from '../store/schedule.js';
import type { Clock } from '../model.js';

/** What a job run gets. */
export interface JobContext {
  /** The scheduled time this run is for (now, for a manual run). */
  scheduledAt: Date;
  reason: RunReason;
  /** Aborted when Vigil stops: pass it to HTTP calls, check it before side effects. */
  signal: AbortSignal;
}

/** One scheduled job. */
export interface JobSpec {
  /** Stable id: the persisted state and the metrics are keyed by it. */
  name: string;
  /** node-cron expression, 5 or 6 fields. */
  schedule: string;
  /** IANA time zone the expression is read in. */
  timezone: string;
  /** Does the work; what it returns is stored with the run (and logged); a throw is a failed run. */
  run(ctx: JobContext): Promise<Record<string, unknown> | void>;
}

/** How a tick or a manual run ended. */
export type RunOutcome = 'ok' | 'error' | 'skipped-overlap' | 'skipped-already-ran' | 'not-due';

/** Starts a trigger that calls `onTick` at each scheduled time (with that time, when known). */
export type TriggerFactory = (spec: JobSpec, onTick: (scheduledAt?: Date) => void, logger: Logger) => { stop(): void };

/** What the scheduler needs. */
export interface SchedulerOptions {
  jobs: readonly JobSpec[];
  /** Where each job's last scheduled time and run history persist. */
  db: Database;
  logger: Logger;
  /** Default: the real clock. */
  now?: Clock;
  metrics?: Pick<Metrics, 'scheduledJobRuns'>;
  /** Default: node-cron. Tests drive `tick` themselves. */
  trigger?: TriggerFactory;
}

/** Runs jobs on their schedules: no overlap, no double run, one catch-up after downtime. */
export interface Scheduler {
  /** Decides each job's catch-up (run in the background) and arms the triggers. */
  start(): Promise<void>;
  /** What the trigger calls: runs the job if its latest scheduled time is owed; resolves when done. */
  tick(name: string, scheduledAt?: Date): Promise<RunOutcome>;
  /** Runs a job now, outside its schedule (no slot is claimed); skipped while a run is going. */
  runNow(name: string): Promise<RunOutcome>;
  /** Resolves once no job is running. */
  idle(): Promise<void>;
  /** Disarms the triggers, aborts runs in flight and waits for them. */
  stop(): Promise<void>;
}

/** The default trigger: a node-cron task in the job's time zone. */
const nodeCronTrigger: TriggerFactory = (spec, onTick, logger) => {
  const log = logger.child({ job: spec.name, component: 'node-cron' });
  const task = createTask(spec.schedule, (ctx) => onTick(ctx.date), {
    name: `vigil-${spec.name}`,
    timezone: spec.timezone,
    logger: {
      info: (m) => log.debug(m),
      warn: (m) => log.warn(m),
      error: (m, err) => log.error({ err: err ?? m }, 'node-cron error'),
      debug: (m) => log.debug(String(m)),
    },
  });
  void task.start();
  return { stop: () => void task.destroy() };
};

/** Throws naming the job and the problem when a job's schedule or zone is unusable. */
function checkJob(job: JobSpec): void {
  const problem = cronProblem(job.schedule) ?? timeZoneProblem(job.timezone);
  if (problem) throw new Error(`scheduled job ${job.name}: ${problem}`);
}

/** Creates a scheduler over node-cron; the decisions are in due.ts, the clock is injectable. */
export function createScheduler(opts: SchedulerOptions): Scheduler {
  const clock = opts.now ?? (() => new Date());
  const trigger = opts.trigger ?? nodeCronTrigger;
  const { db, logger } = opts;
  const jobs = new Map<string, JobSpec>();
  for (const job of opts.jobs) {
    checkJob(job);
    if (jobs.has(job.name)) throw new Error(`scheduled job ${job.name} is defined twice`);
    jobs.set(job.name, job);
  }
  const running = new Map<string, Promise<RunOutcome>>();
  const triggers: Array<{ stop(): void }> = [];
  const abort = new AbortController();
  let stopped = false;

  const jobOf = (name: string): JobSpec => {
    const job = jobs.get(name);
    if (!job) throw new Error(`no scheduled job named ${name}`);
    return job;
  };
  const count = (job: string, outcome: string) => opts.metrics?.scheduledJobRuns.inc({ job, outcome });

  /** Runs the job (the run is already recorded as started) and records its end. */
  async function execute(job: JobSpec, runId: number, scheduledAt: Date, reason: RunReason, release?: () => Promise<void>): Promise<RunOutcome> {
    const log = logger.child({ job: job.name, runId });
    const started = clock().getTime();
    log.info({ scheduledAt: scheduledAt.toISOString(), reason }, 'scheduled job started');
    try {
      const detail = (await job.run({ scheduledAt, reason, signal: abort.signal })) ?? undefined;
      await finishRun(db, runId, 'ok', detail, clock());
      count(job.name, 'ok');
      log.info({ durationMs: clock().getTime() - started, detail }, 'scheduled job finished');
      return 'ok';
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (!db.closed) await finishRun(db, runId, 'error', { error: message }, clock());
      count(job.name, 'error');
      if (abort.signal.aborted && release && !db.closed) {
        await release();
        log.warn({ err }, 'scheduled job cut short by shutdown; it runs once at the next start');
      } else {
        log.error({ err, durationMs: clock().getTime() - started }, 'scheduled job failed');
      }
      return 'error';
    }
  }

  /** Marks the job running for the duration of `work`, so no second run can start meanwhile. */
  function track(name: string, work: () => Promise<RunOutcome>): Promise<RunOutcome> {
    const p = work().finally(() => running.delete(name));
    running.set(name, p);
    return p;
  }

  function skipped(job: JobSpec, reason: 'overlap' | 'already-ran' | 'not-due', scheduledAt?: Date): RunOutcome {
    if (reason === 'overlap') {
      count(job.name, 'skipped');
      logger.warn({ job: job.name, scheduledAt: scheduledAt?.toISOString() }, 'scheduled run skipped: the previous run is still going');
      return 'skipped-overlap';
    }
    logger.debug({ job: job.name, reason }, 'scheduled tick: nothing owed');
    return reason === 'already-ran' ? 'skipped-already-ran' : 'not-due';
  }

  /**
   * Claims `slot` and runs the job for it; undefined when the slot was taken meanwhile (by another
   * replica too: the claim is one statement on the shared store). `before` is the job's last slot
   * as the caller read it: what a run cut short by shutdown gives the claim back to. Runs inside
   * track(): the job counts as running from before the claim.
   */
  async function runSlot(job: JobSpec, slot: number, before: number | undefined, reason: RunReason): Promise<RunOutcome | undefined> {
    const runId = await claimSlot(db, job.name, job, slot, reason, clock());
    if (runId === undefined) return undefined;
    const release = before === undefined ? undefined : () => releaseSlot(db, job.name, slot, before, clock());
    return execute(job, runId, new Date(slot), reason, release);
  }

  async function catchUpAtStart(job: JobSpec): Promise<void> {
    const now = clock();
    const state = await getJobState(db, job.name);
    const decision = decideAtStart(state, job, previousSlot(job.schedule, job.timezone, now), now);
    if (decision.action === 'baseline') {
      await setBaseline(db, job.name, job, decision.slot, now);
      logger.info({ job: job.name, reason: decision.reason, schedule: job.schedule, timezone: job.timezone }, 'scheduled job armed');
    } else if (decision.action === 'catch-up') {
      logger.info(
        { job: job.name, missedSince: new Date(decision.missedSince).toISOString(), slot: new Date(decision.slot).toISOString() },
        'scheduled run missed while Vigil was down: running it once now',
      );
      // Running (for idle() and stop()) from now; start() does not wait for the run itself.
      void track(job.name, async () => (await runSlot(job, decision.slot, state?.lastSlot, 'catch-up')) ?? skipped(job, 'already-ran')).catch(
        (err: unknown) => {
          logger.error({ err, job: job.name }, 'scheduled catch-up could not claim its slot');
        },
      );
    }
  }

  async function tick(name: string, scheduledAt?: Date): Promise<RunOutcome> {
    const job = jobOf(name);
    if (stopped) return 'not-due';
    // node-cron passes the time it fired for: trust the later of it and the clock, so a timer
    // that fires a little early still lands on its own slot.
    const at = new Date(Math.max(clock().getTime(), scheduledAt?.getTime() ?? 0));
    const slot = previousSlot(job.schedule, job.timezone, at);
    if (running.has(name)) return skipped(job, 'overlap', slot);
    // Running from before the first read: a second tick or runNow meanwhile sees it (no overlap).
    return track(name, async () => {
      const state = await getJobState(db, name);
      const decision = decideAtTick(state, job, slot, false);
      if (decision.action === 'skip') return skipped(job, decision.reason, slot);
      return (await runSlot(job, decision.slot, state?.lastSlot, 'scheduled')) ?? skipped(job, 'already-ran');
    });
  }

  async function idle(): Promise<void> {
    while (running.size > 0) await Promise.allSettled([...running.values()]);
  }

  return {
    async start() {
      if (stopped) throw new Error('scheduler is stopped');
      for (const job of jobs.values()) {
        await catchUpAtStart(job);
        triggers.push(
          trigger(
            job,
            (at) =>
              void tick(job.name, at).catch((err: unknown) => {
                logger.error({ err, job: job.name }, 'scheduled tick failed; the next one tries again');
              }),
            logger,
          ),
        );
      }
    },

    tick,

    async runNow(name) {
      const job = jobOf(name);
      if (stopped) throw new Error('scheduler is stopped');
      if (running.has(name)) return skipped(job, 'overlap', clock());
      const now = clock();
      return track(name, async () => execute(job, await startRun(db, name, undefined, 'manual', now), now, 'manual'));
    },

    idle,

    async stop() {
      if (stopped) return;
      stopped = true;
      for (const t of triggers.splice(0)) t.stop();
      abort.abort(new Error('Vigil is stopping'));
      await idle();
    },
  };
}
