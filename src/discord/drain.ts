import type { RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { scrubSecrets, type Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Database } from '../store/db.js';
import {
  deferUntil,
  get,
  hasPendingFor,
  refusedChannels,
  markFailed,
  markRetry,
  markSent,
  newestPendingEdit,
  claimItem,
  nextDue,
  nextDueAt,
  supersede,
  redactTokens,
  threadOf,
  type OutboxRow,
} from '../store/outbox.js';
import type { RateBudget } from './budget.js';
import { backoffDelay, deliveryIds, nonceFor, requestOf, type Plan } from './attempt.js';
import { classifyDeliveryError } from './classify.js';
import {
  archiveThread,
  editMessage,
  postMessage,
  restoreToken,
  startThread,
  THREAD_ALREADY_EXISTS,
  UNKNOWN_MESSAGE,
  type DiscordRest,
  type ThreadStart,
} from './rest.js';
import type { Clock } from '../model.js';

/** How long past a deferred item's due time the drainer wakes, so that items deferred for the same refill go by priority. */
const DUE_GRACE_MS = 25;

/** What the drainer needs. */
export interface DrainerOptions {
  db: Database;
  rest: DiscordRest;
  logger: Logger;
  now?: Clock;
  minBackoffMs: number;
  maxBackoffMs: number;
  pollIntervalMs: number;
  /** Values scrubbed from stored errors and log lines (the bot token). */
  secrets?: readonly string[];
  /** Items fetched per query. */
  batchSize?: number;
  /** Source of jitter, 0 <= x < 1. */
  random?: () => number;
  /** Counts delivery attempts by outcome and reason when given. */
  metrics?: Pick<Metrics, 'deliveries'>;
  /**
   * Discord's rate-limit budgets, fed by the REST client's answers (createRest's `budget`): an item
   * whose bucket is spent waits for its refill instead of being sent. Absent: every item goes at once.
   */
  budget?: RateBudget;
  /**
   * Asks Discord something cheap; resolves when it answered at all. Called when a delivery got no
   * answer (timeout, network): if the probe gets none either, Discord is unreachable and every
   * delivery waits, in order, instead of each waiting out its timeout. Absent: each item retries alone.
   */
  probe?: () => Promise<void>;
  /**
   * Several replicas on one store: each attempt first claims its item for `holder` for `ttlMs`
   * (store/outbox.ts claimItem), and items another replica has claimed wait until the claim runs
   * out. Absent (one process on SQLite): no claims.
   */
  claims?: { holder: string; ttlMs: number };
}

/** The longest deliveries wait after Discord refused the bot token before trying it again. */
const AUTH_HOLD_MAX_MS = 60_000;

/** The outbox delivery loop. */
export interface Drainer {
  /** Starts polling the outbox; does nothing if already started. */
  start(): void;
  /** Stops polling; resolves once the delivery in flight (if any) is recorded. */
  stop(): Promise<void>;
  /** Delivers everything due now, one item at a time; resolves to the number of items attempted. */
  drainOnce(): Promise<number>;
  /** Makes a sleeping loop drain now (call after enqueueing). */
  wake(): void;
  /** What Discord refuses now, holding deliveries: the bot token, and channels with Discord's words. */
  holds(): Promise<DeliveryHolds>;
}

/** Deliveries waiting for a person to fix something in Discord. */
export interface DeliveryHolds {
  /** Discord refuses the bot token: every delivery waits. */
  token: boolean;
  /** Channels whose deliveries wait, each with Discord's answer. */
  channels: Array<{ channelId: string; message: string }>;
}

/** A channel Discord refuses the bot in, and when its deliveries are tried again. */
interface ChannelHold {
  until: number;
  attempt: number;
  message: string;
}

const DEFAULT_BATCH = 20;

/** Threads remembered as refusing posts (the oldest forgotten first). */
export const MAX_REFUSED_THREADS = 1_000;

/** Creates the drainer: takes due outbox items in order and delivers them through @discordjs/rest. */
export function createDrainer(opts: DrainerOptions): Drainer {
  const clock = opts.now ?? (() => new Date());
  // Delivery times are epoch ms throughout (the outbox stores them so).
  const now = () => clock().getTime();
  const random = opts.random ?? Math.random;
  const secrets = (opts.secrets ?? []).filter((s) => s.length > 0);
  const { db, logger } = opts;
  let stopping = false;
  let loop: Promise<void> | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  let wakeSleeper: (() => void) | undefined;
  let wokenEarly = false;
  /** Set while Discord refuses the token (401): until then nothing is sent, and nothing is given up on. */
  let heldUntil: number | undefined;
  /** Whether the last answer about the token was a refusal: the error is logged once per outage. */
  let tokenRefused = false;
  /** Channels Discord refuses the bot in (403, 404 Unknown Channel): their deliveries wait, in order. */
  const channelHolds = new Map<string, ChannelHold>();
  let holdsRestored = false;
  /** Holds outlive a restart through the stored errors: the first pass and readiness read them (again, until a read succeeds). */
  async function restoreHolds(): Promise<void> {
    if (holdsRestored) return;
    for (const r of await refusedChannels(db)) {
      channelHolds.set(r.channelId, { until: r.nextAttemptAt, attempt: 1, message: r.lastError.replace(/^channel: /, '') });
    }
    holdsRestored = true;
  }
  /** Set when a pass must stop and start over from the oldest due item (see unanswered). */
  let passAgain = false;
  /** Set while Discord answers nothing (see unanswered): no delivery is tried before `until`. */
  let unreachable: { since: number; tries: number; until: number } | undefined;
  /** Threads Discord refuses posts in (or that are gone): the incident's notes go to the channel instead. */
  const refusedThreads = new Set<string>();
  const authHoldMs = Math.min(opts.maxBackoffMs, AUTH_HOLD_MAX_MS);

  const clean = (text: string) => redactTokens(scrubSecrets(text, secrets));

  /** One attempt at one item; false when it only has to wait (nothing counted). */
  async function deliver(row: OutboxRow): Promise<boolean> {
    const attempt = row.attempts + 1;
    const log = logger.child({ ...deliveryIds(row), kind: row.kind, attempt });
    let plan: Plan | undefined;
    try {
      plan = await planFor(row, log);
      if (plan.action === 'wait') return false;
      if (plan.action === 'skip') {
        await markFailed(db, row.id, plan.reason);
        log.warn({ reason: plan.reason }, 'outbox item skipped');
        return true;
      }
      // Several pending edits of one message: only the newest goes, carrying the latest state.
      if (row.kind === 'edit' && row.targetId !== null) {
        const newest = await newestPendingEdit(db, row.targetId);
        if (newest !== undefined && newest > row.id) {
          await supersede(db, row.id, newest);
          log.debug({ supersededBy: newest }, 'edit superseded by a newer one of the same message');
          return false;
        }
      }
      // Nothing Discord would refuse: a spent bucket's items wait for its refill (the others go on).
      if (opts.budget) {
        const request = requestOf(plan);
        const wait = opts.budget.waitFor(request.method, request.path);
        if (wait > 0) {
          await deferUntil(db, row.id, now() + wait);
          return false;
        }
        opts.budget.spend(request.method, request.path);
      }
      if (plan.action === 'post' && plan.note) log.warn(plan.note);
      const sent = await execute(row, plan, log);
      await markSent(db, row.id, sent.id);
      reachable(log);
      if (tokenRefused) {
        tokenRefused = false;
        log.info('Discord accepts the bot token again: held deliveries go out');
      }
      if (plan.action === 'post' && channelHolds.delete(plan.channelId)) {
        log.info({ channelId: plan.channelId }, `Discord accepts deliveries to channel ${plan.channelId} again: held deliveries go out in order`);
      }
      opts.metrics?.deliveries.inc({ outcome: 'sent', reason: sent.reposted ? 'reposted' : 'ok' });
      log.info({ messageId: sent.id }, 'outbox item delivered');
    } catch (err) {
      if (await unanswered(row, err, log)) return true;
      await recordFailure(row, err, log, plan);
    }
    return true;
  }

  /** Discord answered: a hold for silence ends (the next outage starts its backoff and its log line afresh). */
  function reachable(log: Logger): void {
    if (!unreachable) return;
    log.info({ downForMs: now() - unreachable.since }, 'Discord answers again: the deliveries that waited go out in order');
    unreachable = undefined;
  }

  /**
   * A delivery Discord did not answer at all (timeout, network): when the probe gets no answer
   * either, Discord is unreachable. Then every delivery waits (this one included) until the next
   * try, with backoff, and they all go out in order once Discord answers; none is given up, and no
   * other item waits out its own timeout meanwhile. True when it held; false for a failure of this
   * item alone (recorded as usual).
   */
  async function unanswered(row: OutboxRow, err: unknown, log: Logger): Promise<boolean> {
    const c = classifyDeliveryError(err);
    if (!opts.probe || (c.reason !== 'timeout' && c.reason !== 'network')) {
      // Any answer (an error status, a 429) shows Discord is there again.
      if (c.status !== undefined) reachable(log);
      return false;
    }
    const probeAnswered = await opts.probe().then(
      () => true,
      () => false,
    );
    if (probeAnswered) {
      if (!unreachable) return false;
      // The outage just ended and this request was lost in it: tried again at once, and this pass
      // stops so the next one starts from the oldest item again (nothing overtakes it).
      reachable(log);
      await markRetry(db, row.id, clean(`${c.reason}: ${c.message}`), now());
      opts.metrics?.deliveries.inc({ outcome: 'retry', reason: c.reason });
      passAgain = true;
      return true;
    }
    const tries = (unreachable?.tries ?? 0) + 1;
    const until = now() + backoffDelay(tries, opts.minBackoffMs, opts.maxBackoffMs, random);
    if (!unreachable) {
      log.error(
        { reason: c.reason, error: clean(c.message), retryInMs: until - now() },
        'Discord does not answer: every delivery waits, in order, none given up, until it answers again',
      );
    }
    unreachable = { since: unreachable?.since ?? now(), tries, until };
    await markRetry(db, row.id, clean(`${c.reason}: ${c.message}`), until);
    opts.metrics?.deliveries.inc({ outcome: 'retry', reason: c.reason });
    return true;
  }

  /** Decides the request for an item from its kind and the state of its target. */
  async function planFor(row: OutboxRow, log: Logger): Promise<Plan> {
    const body = row.body as RESTPostAPIChannelMessageJSONBody;
    if (row.kind === 'create') return { action: 'post', channelId: row.channelId, body };
    const target = row.targetId === null ? undefined : await get(db, row.targetId);
    if (!target) throw new Error(`target outbox item ${row.targetId} does not exist`);
    // nextDue already holds these back; a pending target has no message id yet.
    if (target.status === 'pending') return { action: 'wait' };
    const { message_reference: _dropped, ...unreferenced } = body;
    if (row.kind === 'thread') {
      if (target.status === 'failed' || !target.messageId)
        return { action: 'skip', reason: `alert message (outbox item ${target.id}) was not delivered: no message to start a thread on` };
      return { action: 'thread', channelId: target.channelId, messageId: target.messageId, start: row.body as unknown as ThreadStart };
    }
    if (row.kind === 'thread-post' || row.kind === 'thread-archive') {
      const thread = await threadOf(db, target.id);
      if (thread?.status === 'pending') return { action: 'wait' };
      const threadId = thread?.status === 'sent' && thread.messageId && !refusedThreads.has(thread.messageId) ? thread.messageId : null;
      if (row.kind === 'thread-archive')
        return threadId ? { action: 'archive', threadId } : { action: 'skip', reason: 'the incident has no thread to archive' };
      if (threadId) return { action: 'post', channelId: threadId, body: unreferenced, inThread: true };
      // Never lose the note (the resolve note above all): without a thread it is a reply in the channel.
      if (thread) log.warn({ threadOutboxId: thread.id }, 'the incident thread could not be started; replying in the channel instead');
    }
    if (target.status === 'failed' || !target.messageId) {
      return { action: 'post', channelId: row.channelId, body: unreferenced, note: `target ${target.id} failed; posting the ${row.kind} as a new message` };
    }
    if (row.kind === 'edit') return { action: 'edit', channelId: target.channelId, messageId: target.messageId, body };
    return {
      action: 'post',
      channelId: row.channelId,
      body: { ...unreferenced, message_reference: { message_id: target.messageId, fail_if_not_exists: false } },
    };
  }

  /**
   * Runs the plan; an edit whose message was deleted in Discord is posted anew instead.
   * `reposted`: an edit or reply went out as a new message (its target failed or is gone).
   */
  async function execute(row: OutboxRow, plan: Exclude<Plan, { action: 'wait' | 'skip' }>, log: Logger): Promise<{ id: string; reposted: boolean }> {
    if (plan.action === 'thread') return { id: await threadOn(plan, log), reposted: false };
    if (plan.action === 'archive') return { id: (await archiveThread(opts.rest, plan.threadId)).id, reposted: false };
    // The stored file (the alert's chart) goes with whichever request the item becomes.
    const files = row.file ? [row.file] : undefined;
    if (plan.action === 'post') {
      const posted = await postMessage(opts.rest, plan.channelId, plan.body, nonceFor(row), files);
      return { id: posted.id, reposted: plan.note !== undefined };
    }
    try {
      return { id: (await editMessage(opts.rest, plan.channelId, plan.messageId, plan.body, files)).id, reposted: false };
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      // The message is gone, or its channel is gone or closed to the bot (alertChannelId changed):
      // the edit goes out as a new message where the alerts go now.
      if (code !== UNKNOWN_MESSAGE && !classifyDeliveryError(err).holdChannel) throw err;
      log.warn({ code, channelId: plan.channelId }, 'message to edit is gone or out of reach; posting the edit as a new message');
      return { id: (await postMessage(opts.rest, row.channelId, plan.body, nonceFor(row), files)).id, reposted: true };
    }
  }

  /** Starts the thread; one already there (a retry after a lost response) is the thread wanted: same id as the message. */
  async function threadOn(plan: Extract<Plan, { action: 'thread' }>, log: Logger): Promise<string> {
    try {
      return (await startThread(opts.rest, plan.channelId, plan.messageId, plan.start)).id;
    } catch (err) {
      if ((err as { code?: unknown }).code !== THREAD_ALREADY_EXISTS) throw err;
      log.info({ threadId: plan.messageId }, 'the alert message already has a thread; using it');
      return plan.messageId;
    }
  }

  async function recordFailure(row: OutboxRow, err: unknown, log: Logger, plan?: Plan): Promise<void> {
    const attempt = row.attempts + 1;
    const c = classifyDeliveryError(err);
    if (c.holdChannel && plan?.action === 'post' && plan.inThread) {
      // The thread is gone or closed to the bot: this note and the next go to the channel as replies.
      refusedThreads.add(plan.channelId);
      // Bounded: a forgotten thread is tried once more, refused again and remembered again.
      while (refusedThreads.size > MAX_REFUSED_THREADS) refusedThreads.delete(refusedThreads.values().next().value!);
      await markRetry(db, row.id, clean(`${c.reason}: ${c.message}`), now());
      log.warn({ threadId: plan.channelId, status: c.status }, 'the incident thread refuses posts; the note goes to the channel instead');
      return;
    }
    const error = clean(`${c.reason}: ${c.message}`);
    const fields = { reason: c.reason, status: c.status, error };
    if (c.holdAll) {
      // A refused token fails every delivery alike: hold them all, pending, rather than give up on
      // each alert; a token fixed and a restart (or a transient 401 passing) delivers them.
      heldUntil = now() + authHoldMs;
      await markRetry(db, row.id, error, heldUntil);
      opts.metrics?.deliveries.inc({ outcome: 'retry', reason: c.reason });
      if (!tokenRefused)
        log.error({ ...fields, retryInMs: authHoldMs }, 'Discord rejected the bot token: every delivery is held, none given up; check discord.token');
      tokenRefused = true;
      return;
    }
    // A thread the bot may not start, post in or archive is not worth holding the channel for: that
    // item gives up, and the incident's notes go to the channel as replies (planFor).
    if (c.holdChannel && !row.kind.startsWith('thread')) {
      // Every delivery to this channel would be refused alike: all of them wait (in order), with
      // backoff, until someone fixes the permission or the channel; none is given up.
      const hold = channelHolds.get(row.channelId);
      const tries = (hold?.attempt ?? 0) + 1;
      const until = now() + backoffDelay(tries, opts.minBackoffMs, opts.maxBackoffMs, random);
      const delay = until - now();
      channelHolds.set(row.channelId, { until, attempt: tries, message: clean(c.message) });
      await markRetry(db, row.id, error, until);
      opts.metrics?.deliveries.inc({ outcome: 'retry', reason: c.reason });
      if (!hold) {
        log.error(
          { ...fields, channelId: row.channelId, retryInMs: delay },
          `Discord refuses deliveries to channel ${row.channelId}: every one is held, none given up; to fix: ${c.fix ?? "check the bot's permissions there"}`,
        );
      }
      return;
    }
    if (c.retryable && !c.holdChannel) {
      const delay = c.retryAfterMs !== undefined ? Math.max(1, c.retryAfterMs) : backoffDelay(attempt, opts.minBackoffMs, opts.maxBackoffMs, random);
      await markRetry(db, row.id, error, now() + delay);
      // The held channel's oldest item failed otherwise this time: the rest keep waiting behind it.
      const held = channelHolds.get(row.channelId);
      if (held) held.until = Math.max(held.until, now() + delay);
      opts.metrics?.deliveries.inc({ outcome: 'retry', reason: c.reason });
      log.warn({ ...fields, retryInMs: delay }, 'delivery failed; will retry');
    } else {
      await markFailed(db, row.id, error);
      opts.metrics?.deliveries.inc({ outcome: 'failed', reason: c.reason });
      log.error(fields, 'delivery failed; giving up');
    }
  }

  /** One pass: every due item once, re-querying so an item unblocked by a delivery goes too. */
  async function pass(): Promise<number> {
    await restoreHolds();
    if (heldUntil !== undefined) {
      if (now() < heldUntil) return 0;
      // Try again with the token discord.js dropped; a new 401 holds everything once more.
      restoreToken(opts.rest);
      heldUntil = undefined;
    }
    const waiting = () => passAgain || (unreachable !== undefined && now() < unreachable.until);
    passAgain = false;
    if (waiting()) return 0;
    let attempted = 0;
    const seen = new Set<number>();
    while (!stopping && heldUntil === undefined && !waiting()) {
      const due = (await nextDue(db, now(), opts.batchSize ?? DEFAULT_BATCH, opts.claims?.holder)).filter((r) => !seen.has(r.id));
      if (due.length === 0) break;
      for (const row of due) {
        if (stopping || heldUntil !== undefined || waiting()) break;
        seen.add(row.id);
        // A refused channel's deliveries wait for its next try, the oldest first; pushed back in the
        // store too, so a batch full of them never hides other channels' items.
        const hold = channelHolds.get(row.channelId);
        if (hold && now() < hold.until) {
          await deferUntil(db, row.id, hold.until);
          continue;
        }
        // Claimed elsewhere meanwhile (a replica that still believes it leads): that one sends it.
        if (opts.claims && !(await claimItem(db, row.id, opts.claims.holder, now(), opts.claims.ttlMs))) continue;
        if (await deliver(row)) attempted++;
      }
    }
    return attempted;
  }

  function drainOnce(): Promise<number> {
    // Passes never overlap: two would deliver the same item twice.
    const p = chain.then(pass);
    chain = p.catch(() => undefined);
    return p;
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (wokenEarly) {
        wokenEarly = false;
        resolve();
        return;
      }
      const done = () => {
        clearTimeout(timer);
        wakeSleeper = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      wakeSleeper = done;
    });
  }

  async function run(): Promise<void> {
    while (!stopping) {
      try {
        await drainOnce();
      } catch (err) {
        logger.error({ error: clean(err instanceof Error ? err.message : String(err)) }, 'outbox drain pass failed');
      }
      // Asleep until the next poll, or sooner when a deferred item (a bucket refilling) becomes due.
      // A little past it: items deferred for one refill come due a few ms apart (each measured its
      // wait at its own moment), and all of them must be due at once for the most urgent to go first.
      const next = await nextDueAt(db, now());
      if (!stopping) await sleep(next === undefined ? opts.pollIntervalMs : Math.max(5, Math.min(opts.pollIntervalMs, next - now() + DUE_GRACE_MS)));
    }
  }

  return {
    start() {
      if (loop) return;
      stopping = false;
      loop = run();
    },
    async stop() {
      stopping = true;
      wakeSleeper?.();
      await loop;
      await chain;
      loop = undefined;
    },
    drainOnce,
    wake() {
      if (wakeSleeper) wakeSleeper();
      else wokenEarly = true;
    },
    async holds() {
      await restoreHolds();
      // A hold with nothing left to deliver (its items sent or given up on) holds nothing.
      for (const channelId of channelHolds.keys()) if (!(await hasPendingFor(db, channelId))) channelHolds.delete(channelId);
      return { token: tokenRefused, channels: [...channelHolds].map(([channelId, h]) => ({ channelId, message: h.message })) };
    },
  };
}
