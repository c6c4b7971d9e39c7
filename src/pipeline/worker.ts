import { flushAnnouncements } from './announce.js';
import { flushEscalations } from './escalate.js';
import { processNotification, type PipelineDeps } from './index.js';
import { isCritical } from './priority.js';
import { flushStorms } from './storm.js';
import { groupOf } from './stage.js';
import { queryStormContexts } from './storm-context.js';
import { clearStorageFault, isStorageFault, noteStorageFault, storageFault } from '../store/faults.js';
import { latestIncident } from '../store/incidents.js';
import { finishNotification, nextPendingNotification, NotificationTaken, type StoredNotification } from '../store/notifications.js';

/** How often storms and waiting notes are flushed while notifications keep coming. */
const FLUSH_INTERVAL_MS = 1000;

/** While the storage fails (a full disk), the pipeline tries again this often. */
const STORAGE_RETRY_MS = 10_000;

/** Attempts at one notification before it is set aside as failed (a bug, not an outage). */
const MAX_PROCESS_ATTEMPTS = 5;

/**
 * Notifications in the pipeline at once: their queries overlap, so a slow or hung backend's
 * timeouts do not add up from one alert to the next. Each backend still gets at most
 * `enrichment.maxConcurrentQueries` queries at a time (boundedClient).
 */
export const PIPELINE_CONCURRENCY = 4;

/**
 * The group a notification belongs to: two of one group never run at once (the second decides on
 * what the first recorded). Its parts on different routes count as one: after a routes change
 * they may decide on the same open incident.
 */
function groupId(stored: StoredNotification): string {
  const n = stored.notification;
  return JSON.stringify([n.source, n.receiver, n.groupKey]);
}

/**
 * Works through pending notifications oldest first, up to `concurrency` at once (enriched side by
 * side, recorded in the order they came, one group at a time); survives restarts via the store.
 */
export function createPipelineWorker(deps: PipelineDeps & { onDelivered?: () => void; idleMs?: number; concurrency?: number }) {
  const concurrency = deps.concurrency ?? PIPELINE_CONCURRENCY;
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> | undefined;
  const attempts = new Map<number, number>();

  let lastFlush = 0;
  /** Storms' messages, details and ends, the notes that waited and the escalations due: by time, so also between notifications under steady load. */
  async function flush(): Promise<void> {
    const now = deps.now();
    lastFlush = now.getTime();
    const flushDeps = { db: deps.db, config: deps.config, logger: deps.logger, now };
    const enqueued = (await flushStorms(flushDeps)) + (await flushAnnouncements(flushDeps)) + (await flushEscalations(flushDeps));
    if (enqueued > 0) deps.onDelivered?.();
    stormContexts(now);
  }

  let contexts: Promise<void> | undefined;
  const looked = new Map<number, number>();
  /** Storms' metrics, queried in the background (one run at a time) while notifications go on. */
  function stormContexts(now: Date): void {
    if (contexts || !deps.config.delivery.storm.enabled) return;
    // What they find shows from the storm message's next edit (the next flush).
    contexts = queryStormContexts({ db: deps.db, prometheus: deps.prometheus, loki: deps.loki, config: deps.config, logger: deps.logger, now }, looked)
      .then(() => undefined)
      .catch((err: unknown) => deps.logger.error({ err }, 'storm context failed'))
      .finally(() => (contexts = undefined));
  }

  /** What one notification's processing came to: the pass goes on, or stops (to be tried again on the next tick). */
  async function processOne(stored: StoredNotification, turn: Promise<unknown>): Promise<'done' | 'stop'> {
    try {
      await processNotification(stored, deps, { turn });
      clearStorageFault(deps.db);
      attempts.delete(stored.id);
      deps.onDelivered?.();
      return 'done';
    } catch (err) {
      if (err instanceof NotificationTaken) {
        // Another replica recorded it (this one was paused past its lease): what this one did is rolled back.
        deps.logger.warn({ notificationId: stored.id }, 'notification already processed by another replica; dropped here');
        attempts.delete(stored.id);
        return 'done';
      }
      if (isStorageFault(err)) {
        // Not the notification's fault: it stays pending, rolled back, and is tried again once the storage is back.
        noteStorageFault(deps.db, err, deps.now());
        deps.logger.error({ notificationId: stored.id, code: err.code }, 'pipeline paused: the storage failed');
        return 'stop';
      }
      const n = (attempts.get(stored.id) ?? 0) + 1;
      attempts.set(stored.id, n);
      deps.logger.error({ notificationId: stored.id, attempt: n, err }, 'pipeline failed on a notification');
      if (n < MAX_PROCESS_ATTEMPTS) return 'stop';
      await finishNotification(
        deps.db,
        stored.id,
        { status: 'failed', decision: 'error', error: err instanceof Error ? err.message : String(err) },
        deps.now(),
      ).catch((finishErr: unknown) => {
        // Done by another replica meanwhile: nothing to give up on.
        if (!(finishErr instanceof NotificationTaken)) throw finishErr;
      });
      attempts.delete(stored.id);
      return 'done';
    }
  }

  /**
   * Whether the notification may open a new incident that storm mode could fold: firing, not
   * critical (critical alerts never join a storm), its group without a firing incident. Decided
   * side by side, the first ones of a burst each found little queued and got messages of their own
   * (6 channel messages and 25-31 requests in the storm benchmark, against 2-3 and 12-17).
   */
  async function opensIncident(stored: StoredNotification): Promise<boolean> {
    const n = stored.notification;
    if (!deps.config.delivery.storm.enabled || n.status !== 'firing' || isCritical(n)) return false;
    return (await latestIncident(deps.db, groupOf(n)))?.status !== 'firing';
  }

  /** Wakes a pass that waits for a notification in flight: a new one was stored, and a slot may be free. */
  let poke: (() => void) | undefined;
  /** Set by stop(): the pass in progress starts nothing new. */
  let halted = false;

  /** Processes what is pending, `concurrency` at a time, until none is left or one fails; returns how many finished. */
  async function runOnce(): Promise<number> {
    let processed = 0;
    let stopping = false;
    let lastId = 0;
    // The notifications in flight, by id; each one's deliveries are recorded after the one started before it.
    const inFlight = new Map<number, { group: string; opens: boolean; done: Promise<void> }>();
    // Settles when every notification started so far has settled: one that stops early (a resend
    // skipped, a storm joined) still keeps its place, so the next one records after the ones before.
    let allBefore: Promise<unknown> = Promise.resolve();
    // The storage failing while a failed notification is set aside, or a flush failing: the pass ends with it (tick).
    let failure: { err: unknown } | undefined;
    /** Waits until a notification in flight settles, or wake() says one was stored. */
    const oneSettles = () => Promise.race([...inFlight.values()].map((f) => f.done).concat(new Promise<void>((resolve) => (poke = resolve))));
    try {
      for (;;) {
        if (stopping || halted || inFlight.size >= concurrency) {
          if (inFlight.size === 0) break;
          await oneSettles();
          continue;
        }
        const stored = await nextPendingNotification(deps.db, lastId);
        if (!stored) {
          if (inFlight.size === 0) break;
          await oneSettles();
          continue;
        }
        // The next one belongs to a group in flight: it decides on what that one records, so it waits (and the ones after it).
        const group = groupId(stored);
        if ([...inFlight.values()].some((f) => f.group === group)) {
          await oneSettles();
          continue;
        }
        // With storm mode, one new incident is decided at a time: the next waits until the burst it may belong to is queued and seen.
        const opens = await opensIncident(stored);
        if (opens && [...inFlight.values()].some((f) => f.opens)) {
          await oneSettles();
          continue;
        }
        if (deps.now().getTime() - lastFlush >= FLUSH_INTERVAL_MS) await flush();
        lastId = stored.id;
        const outcome = processOne(stored, allBefore);
        allBefore = Promise.all([allBefore, outcome.catch(() => undefined)]);
        const done = outcome.then(
          (o) => {
            inFlight.delete(stored.id);
            if (o === 'stop') stopping = true;
            else processed++;
          },
          (err: unknown) => {
            inFlight.delete(stored.id);
            stopping = true;
            failure ??= { err };
          },
        );
        inFlight.set(stored.id, { group, opens, done });
      }
    } catch (err) {
      // A flush or a read failed: the ones in flight finish before the pass ends, so the next pass never starts them twice.
      failure ??= { err };
      await Promise.allSettled([...inFlight.values()].map((f) => f.done));
    } finally {
      poke = undefined;
    }
    if (failure) throw failure.err;
    if (!stopping && !halted) await flush();
    return processed;
  }

  function schedule(delay: number) {
    if (!running) return;
    clearTimeout(timer);
    timer = setTimeout(tick, delay);
  }

  function tick() {
    if (!running || current) return;
    // While the storage fails, one try per STORAGE_RETRY_MS: each try redoes the notification's queries.
    const fault = storageFault(deps.db);
    if (fault && deps.now().getTime() - fault.last.getTime() < STORAGE_RETRY_MS) {
      schedule(deps.idleMs ?? 1000);
      return;
    }
    current = runOnce()
      .then(() => undefined)
      .catch((err: unknown) => {
        // Storms' and notes' flushes (outside a notification): the storage failing there must not end the process; a bug still does.
        if (!isStorageFault(err)) throw err;
        noteStorageFault(deps.db, err, deps.now());
        deps.logger.error({ code: err.code }, 'pipeline pass failed: the storage failed');
      })
      .finally(() => {
        current = undefined;
        schedule(deps.idleMs ?? 1000);
      });
  }

  return {
    /** Starts the loop; pending notifications from before a restart are picked up at once. */
    start() {
      running = true;
      halted = false;
      schedule(0);
    },
    /** Processes now instead of at the next poll (called after a webhook is stored); a pass in progress takes it in a free slot. */
    wake() {
      if (!running) return;
      if (current) poke?.();
      else schedule(0);
    },
    /** Processes everything pending once (tests). */
    runOnce,
    /** Stops once the notifications in flight are done; the rest stay pending for the next start. */
    async stop() {
      running = false;
      halted = true;
      clearTimeout(timer);
      await current;
      await contexts;
    },
  };
}
