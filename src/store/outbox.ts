import type { Database } from './sql.js';
import { SNOWFLAKE } from '../model.js';

/**
 * What an outbox item does in Discord: post the alert message (create), edit it, reply to it, start
 * a thread on it (thread; the thread's id is the message's), post into that thread (thread-post; a
 * reply in the channel when there is no thread), or archive the thread (thread-archive).
 */
export type OutboxKind = 'create' | 'edit' | 'reply' | 'thread' | 'thread-post' | 'thread-archive';

/** Where an outbox item stands; an edit is superseded when a newer edit of its message carries the latest state instead. */
export type OutboxStatus = 'pending' | 'sent' | 'failed' | 'superseded';

/**
 * Which due item goes first (lower sooner): a critical alert's new message, then other new
 * firing messages, updates of open messages, resolves, and last the thread details. Items nobody
 * ranks (digests, snapshots) go with the updates.
 */
export const PRIORITY = { criticalFiring: 0, firing: 1, update: 2, resolve: 3, details: 4 } as const;

/** A delivery's rank (see PRIORITY). */
export type Priority = (typeof PRIORITY)[keyof typeof PRIORITY];

/** A file sent with a message (multipart), e.g. the alert's chart.png. */
export interface OutboxFile {
  name: string;
  data: Buffer;
}

const INCIDENT_KEY = 'incident:';

/** The order key of an incident's deliveries (they go out strictly in order). */
export function incidentKey(incidentId: number): string {
  return `${INCIDENT_KEY}${incidentId}`;
}

/** The incident whose deliveries an order key orders, or undefined for the other keys (digest, snapshot). */
export function incidentOfKey(orderKey: string): number | undefined {
  if (!orderKey.startsWith(INCIDENT_KEY)) return undefined;
  const digits = orderKey.slice(INCIDENT_KEY.length);
  if (!/^\d{1,15}$/.test(digits)) return undefined;
  const id = Number(digits);
  return id > 0 ? id : undefined;
}

/** A message waiting for (or done with) delivery. */
export interface OutboxRow {
  id: number;
  /** Items sharing a key are delivered strictly in id order (one incident = one key). */
  orderKey: string;
  kind: OutboxKind;
  channelId: string;
  /** The Discord message body (JSON). */
  body: Record<string, unknown>;
  /** For every kind but create: the create item whose message this edits, replies to or threads on. */
  targetId: number | null;
  status: OutboxStatus;
  /** Delivery attempts made so far, the successful one included. */
  attempts: number;
  /** Epoch ms before which the item is not tried (again). */
  nextAttemptAt: number;
  lastError: string | null;
  /** The Discord message id, once a create or reply is sent (for an edit: the message edited). */
  messageId: string | null;
  createdAt: number;
  updatedAt: number;
  /** The file to upload with the message; absent when there is none, or once sent (the bytes are dropped then). */
  file?: OutboxFile;
  /** Which due item goes first (PRIORITY). */
  priority: Priority;
}

/** What a caller puts in the outbox. */
export interface NewOutboxItem {
  orderKey: string;
  kind: OutboxKind;
  channelId: string;
  body: object;
  targetId?: number;
  /** Stored with the row, so a restart still delivers it. */
  file?: OutboxFile;
  /** Default PRIORITY.update. */
  priority?: Priority;
  /** Not sent before this (epoch ms; default: at once): an edit paced during a storm. */
  dueAt?: number;
}

interface DbRow {
  id: number;
  order_key: string;
  kind: OutboxKind;
  channel_id: string;
  body: string;
  target_id: number | null;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  message_id: string | null;
  created_at: number;
  updated_at: number;
  file_name: string | null;
  file_data: Buffer | null;
  priority: Priority;
}

const MAX_ERROR_LENGTH = 1000;

/** Adds an item to the outbox, due now; returns its id. Joins the caller's transaction if any. */
export async function enqueue(db: Database, item: NewOutboxItem, now: number = Date.now()): Promise<number> {
  await checkNewItem(db, item);
  // An unranked item takes the column's default (PRIORITY.update); the migration tests also enqueue into schemas from before the column.
  const ranked = item.priority !== undefined;
  const row = await db.get<{ id: number }>(
    `INSERT INTO outbox (order_key, kind, channel_id, body, target_id, next_attempt_at, created_at, updated_at, file_name, file_data${ranked ? ', priority' : ''})
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?${ranked ? ', ?' : ''}) RETURNING id`,
    item.orderKey,
    item.kind,
    item.channelId,
    JSON.stringify(item.body),
    item.targetId ?? null,
    Math.max(now, item.dueAt ?? now),
    now,
    now,
    item.file?.name ?? null,
    item.file?.data ?? null,
    ...(ranked ? [item.priority] : []),
  );
  return row!.id;
}

/**
 * Pending items due at `now`, by priority, then oldest first. An item is held back while an older
 * item with the same order_key and in the same lane is still pending (per-incident order: the
 * channel message's changes in one lane, the thread's start, posts and archive in the other, so
 * an incident's update never waits behind its thread details), and an edit/reply while its target
 * is still pending (it needs the target's message id).
 */
export async function nextDue(db: Database, now: number, limit: number, claimant?: string): Promise<OutboxRow[]> {
  // Another replica's live claim hides an item (and, by the first NOT EXISTS, the items after it in its lane).
  const unclaimed = claimant === undefined ? '' : 'AND (o.claimed_by IS NULL OR o.claimed_by = ? OR o.claim_until <= ?)';
  const rows = await db.all<DbRow>(
    `SELECT o.* FROM outbox o
      WHERE o.status = 'pending'
        AND o.next_attempt_at <= ?
        ${unclaimed}
        AND NOT EXISTS (SELECT 1 FROM outbox p
                         WHERE p.status = 'pending' AND p.order_key = o.order_key AND p.id < o.id
                           AND (p.kind LIKE 'thread%') = (o.kind LIKE 'thread%'))
        AND NOT EXISTS (SELECT 1 FROM outbox t
                         WHERE t.id = o.target_id AND t.status = 'pending')
      ORDER BY o.priority, o.id
      LIMIT ?`,
    now,
    ...(claimant === undefined ? [] : [claimant, now]),
    limit,
  );
  return rows.map(toRow);
}

/**
 * Claims pending item `id` for `holder` until `now + ttlMs`; false when another holder's claim
 * has not run out (or the item is no longer pending). The holder's own claim is renewed.
 */
export async function claimItem(db: Database, id: number, holder: string, now: number, ttlMs: number): Promise<boolean> {
  const result = await db.run(
    `UPDATE outbox SET claimed_by = ?, claim_until = ?
      WHERE id = ? AND status = 'pending' AND (claimed_by IS NULL OR claimed_by = ? OR claim_until <= ?)`,
    holder,
    now + ttlMs,
    id,
    holder,
    now,
  );
  return result.changes === 1;
}

/** When the next pending item that is not due yet becomes due (epoch ms), if any: the drainer sleeps until then at most. */
export async function nextDueAt(db: Database, now: number): Promise<number | undefined> {
  const row = (await db.get<{ at: number | null }>(`SELECT min(next_attempt_at) AS at FROM outbox WHERE status = 'pending' AND next_attempt_at > ?`, now))!;
  return row.at ?? undefined;
}

/**
 * When an edit of the message created by `createId` may go so that the message changes at most
 * once per `intervalMs`: with the earliest edit still pending for it (the drainer sends only the
 * newest, so a newer edit never goes later than an older one: a critical change waiting for the
 * channel's budget is not held back), else `intervalMs` after its last change (its create or a
 * sent edit), or now.
 */
export async function pacedEditDue(db: Database, createId: number, now: number, intervalMs: number): Promise<number> {
  const held = (await db.get<{
    due: number | null;
  }>(`SELECT min(next_attempt_at) AS due FROM outbox WHERE target_id = ? AND kind = 'edit' AND status = 'pending'`, createId))!;
  if (held.due !== null) return Math.max(now, held.due);
  const last = (await db.get<{ at: number | null }>(
    `SELECT max(updated_at) AS at FROM outbox WHERE id = ? OR (target_id = ? AND kind = 'edit' AND status = 'sent')`,
    createId,
    createId,
  ))!;
  return last.at === null ? now : Math.max(now, last.at + intervalMs);
}

/** Changes the bodies of a message's pending edits (an acknowledgement they were rendered without). */
export async function rewritePendingEdits(db: Database, createId: number, change: (body: Record<string, unknown>) => Record<string, unknown>): Promise<void> {
  const rows = await db.all<{
    id: number;
    body: string;
  }>(`SELECT id, body FROM outbox WHERE target_id = ? AND kind = 'edit' AND status = 'pending'`, createId);
  for (const r of rows) {
    await db.run(`UPDATE outbox SET body = ? WHERE id = ? AND status = 'pending'`, JSON.stringify(change(JSON.parse(r.body) as Record<string, unknown>)), r.id);
  }
}

/** Makes the held edits of a message due now: an edit that must not wait (a resolve, a critical alert) goes at once, as the newest. */
export async function releaseHeldEdits(db: Database, createId: number, now: number): Promise<void> {
  await db.run(
    `UPDATE outbox SET next_attempt_at = ? WHERE target_id = ? AND kind = 'edit' AND status = 'pending' AND next_attempt_at > ?`,
    now,
    createId,
    now,
  );
}

/** The newest pending edit of a create item's message, if any. */
export async function newestPendingEdit(db: Database, targetId: number): Promise<number | undefined> {
  const row = (await db.get<{ id: number | null }>(`SELECT max(id) AS id FROM outbox WHERE target_id = ? AND kind = 'edit' AND status = 'pending'`, targetId))!;
  return row.id ?? undefined;
}

/** Sets a pending edit aside: a newer edit of the same message (`byId`) carries the latest state in one request instead. */
export async function supersede(db: Database, id: number, byId: number): Promise<void> {
  await updatePending(db, id, `status = 'superseded', last_error = ?, file_data = NULL`, [`superseded by outbox item ${byId}`]);
}

/**
 * Announces something in an incident's thread (a thread-post on its alert message, in the same
 * order as the incident's other deliveries); the drainer posts it as a reply in the channel when
 * the incident has no thread. Returns the id, or undefined when the create item is unknown.
 */
export async function enqueueThreadPost(
  db: Database,
  incidentId: number,
  createId: number,
  body: object,
  now: number = Date.now(),
  priority?: Priority,
): Promise<number | undefined> {
  const create = await get(db, createId);
  if (!create || create.kind !== 'create') return undefined;
  return enqueue(
    db,
    {
      orderKey: incidentKey(incidentId),
      kind: 'thread-post',
      channelId: create.channelId,
      body,
      targetId: createId,
      ...(priority !== undefined ? { priority } : {}),
    },
    now,
  );
}

/** The latest thread start for a create item (the incident's thread), if one was enqueued. */
export async function threadOf(db: Database, createId: number): Promise<OutboxRow | undefined> {
  const row = await db.get<DbRow>(`SELECT * FROM outbox WHERE target_id = ? AND kind = 'thread' ORDER BY id DESC LIMIT 1`, createId);
  return row && toRow(row);
}

/** Records a successful delivery and the Discord message id it produced (or edited); the file's bytes are dropped (Discord has them). */
export async function markSent(db: Database, id: number, messageId: string): Promise<void> {
  await updatePending(db, id, `status = 'sent', message_id = ?, attempts = attempts + 1, file_data = NULL`, [messageId]);
}

/** Records a failed attempt that will be tried again at `nextAttemptAt` (epoch ms). */
export async function markRetry(db: Database, id: number, error: string, nextAttemptAt: number): Promise<void> {
  await updatePending(db, id, `attempts = attempts + 1, last_error = ?, next_attempt_at = ?`, [cleanError(error), nextAttemptAt]);
}

/** Gives up on an item for good, recording why. */
export async function markFailed(db: Database, id: number, reason: string): Promise<void> {
  await updatePending(db, id, `status = 'failed', attempts = attempts + 1, last_error = ?`, [cleanError(reason)]);
}

/** One item by id, or undefined. */
export async function get(db: Database, id: number): Promise<OutboxRow | undefined> {
  const row = await db.get<DbRow>('SELECT * FROM outbox WHERE id = ?', id);
  return row && toRow(row);
}

/** How many items still wait for delivery (due or not). */
export async function pendingCount(db: Database): Promise<number> {
  return (await db.get<{ n: number }>(`SELECT count(*) AS n FROM outbox WHERE status = 'pending'`))!.n;
}

/** Creation time (epoch ms) of the oldest item still waiting for delivery; undefined when none waits. */
export async function oldestPendingCreatedAt(db: Database): Promise<number | undefined> {
  const row = (await db.get<{ at: number | null }>(`SELECT min(created_at) AS at FROM outbox WHERE status = 'pending'`))!;
  return row.at ?? undefined;
}

/** Thrown inside the probe's transaction only to roll it back. */
const PROBE_ROLLBACK = new Error('outbox probe rollback');

/**
 * Proves the outbox accepts an item: enqueues one under the write lock, in a transaction that is
 * always rolled back (nothing stays, no id is used up for good), waiting at most `lockWaitMs` for
 * the write lock when given. Throws whatever the database threw.
 */
export async function probeEnqueue(db: Database, lockWaitMs?: number): Promise<void> {
  try {
    await db.transaction(
      async () => {
        await enqueue(db, { orderKey: 'readiness-probe', kind: 'create', channelId: '00000000000000000', body: {} }, 0);
        throw PROBE_ROLLBACK;
      },
      lockWaitMs === undefined ? {} : { lockWaitMs },
    );
  } catch (err) {
    if (err !== PROBE_ROLLBACK) throw err;
  }
}

/**
 * Removes anything shaped like a credential from a text: `Bot <token>` / `Bearer <token>`
 * values and Discord bot tokens (three dot-separated base64url parts).
 */
export function redactTokens(text: string): string {
  return text
    .replace(/\b(Bot|Bearer)\s+[A-Za-z0-9._~+/=-]{8,}/g, '$1 [redacted]')
    .replace(/[A-Za-z0-9_-]{18,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{20,}/g, '[redacted]');
}

function cleanError(text: string): string {
  const clean = redactTokens(text);
  return clean.length > MAX_ERROR_LENGTH ? `${clean.slice(0, MAX_ERROR_LENGTH - 1)}…` : clean;
}

async function updatePending(db: Database, id: number, set: string, params: unknown[]): Promise<void> {
  const result = await db.run(`UPDATE outbox SET ${set}, updated_at = ? WHERE id = ? AND status = 'pending'`, ...params, Date.now(), id);
  if (result.changes === 0) {
    const row = await get(db, id);
    throw new Error(row ? `outbox item ${id} is ${row.status}, not pending` : `outbox item ${id} does not exist`);
  }
}

async function checkNewItem(db: Database, item: NewOutboxItem): Promise<void> {
  if (!item.orderKey) throw new Error('outbox item: orderKey is required');
  if (item.file && (!item.file.name || item.file.name.length > 1024 || /[\\/]/.test(item.file.name))) {
    throw new Error(`outbox item: file.name must be a plain file name of 1-1024 characters, got "${item.file.name.slice(0, 100)}"`);
  }
  if (!SNOWFLAKE.test(item.channelId)) {
    throw new Error(`outbox item: channelId must be a snowflake string, got "${item.channelId}"`);
  }
  if (item.kind === 'create') {
    if (item.targetId !== undefined) throw new Error('outbox item: a create has no targetId');
    return;
  }
  if (item.targetId === undefined) {
    throw new Error(`outbox item: a ${item.kind} needs targetId (the create item whose message it uses)`);
  }
  const target = await get(db, item.targetId);
  if (!target) throw new Error(`outbox item: targetId ${item.targetId} does not exist`);
  if (target.kind !== 'create') {
    throw new Error(`outbox item: targetId ${item.targetId} is a ${target.kind}; expected a create item`);
  }
}

function toRow(r: DbRow): OutboxRow {
  const file = r.file_name !== null && r.file_data !== null ? { file: { name: r.file_name, data: r.file_data } } : {};
  return {
    id: r.id,
    orderKey: r.order_key,
    kind: r.kind,
    channelId: r.channel_id,
    body: JSON.parse(r.body) as Record<string, unknown>,
    targetId: r.target_id,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    messageId: r.message_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    priority: r.priority,
    ...file,
  };
}

/** Moves a pending item's next attempt to `at` without counting an attempt (its channel is held). */
export async function deferUntil(db: Database, id: number, at: number): Promise<void> {
  await db.run(
    `UPDATE outbox SET next_attempt_at = CASE WHEN next_attempt_at > ? THEN next_attempt_at ELSE ? END WHERE id = ? AND status = 'pending'`,
    at,
    at,
    id,
  );
}

/** Whether any item for `channelId` still waits for delivery. */
export async function hasPendingFor(db: Database, channelId: string): Promise<boolean> {
  return (await db.get(`SELECT 1 FROM outbox WHERE status = 'pending' AND channel_id = ? LIMIT 1`, channelId)) !== undefined;
}

/** Channels whose oldest pending item last failed because Discord refused the channel: its error and next try. */
export async function refusedChannels(db: Database): Promise<Array<{ channelId: string; lastError: string; nextAttemptAt: number }>> {
  const rows = await db.all<{
    channelId: string;
    lastError: string;
    nextAttemptAt: number;
  }>(`SELECT channel_id AS "channelId", last_error AS "lastError", next_attempt_at AS "nextAttemptAt" FROM outbox
      WHERE status = 'pending' AND last_error LIKE 'channel: %' ORDER BY id`);
  return rows.filter((r, i) => rows.findIndex((o) => o.channelId === r.channelId) === i);
}
