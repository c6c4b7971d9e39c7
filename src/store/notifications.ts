import { createHash } from 'node:crypto';
import type { Database } from './sql.js';
import type { Alert, Notification } from '../model.js';

/** Table of received webhook notifications: the durable intake queue the pipeline works through. */
export const NOTIFICATIONS_SQL = `
CREATE TABLE notifications (
  id INTEGER PRIMARY KEY,
  dedup_key TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL,
  group_key TEXT NOT NULL,
  body TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
  decision TEXT,
  error TEXT,
  received_at INTEGER NOT NULL,
  processed_at INTEGER
);
CREATE INDEX notifications_pending ON notifications (status, id);
`;

/** Migration 20: when a notification was last sent again (repeated_at), so a later repeat can be told from a retry. */
export const NOTIFICATION_REPEAT_SQL = `
ALTER TABLE notifications ADD COLUMN repeated_at INTEGER NULL;
`;

/** A stored notification waiting for (or done with) the pipeline. */
export interface StoredNotification {
  id: number;
  receivedAt: Date;
  notification: Notification;
}

/**
 * Identity of a delivery: the same group with the same alerts in the same states.
 * Grafana HA peers and sender retries produce the same key, so they are stored once.
 */
export function dedupKey(n: Notification): string {
  const alerts = n.alerts
    // A start the receiver made up (from the time of receipt) differs on every resend: leave it out.
    .map((a) => [a.fingerprint, a.status, a.startsAtUnknown ? '' : a.startsAt.toISOString(), a.endsAt?.toISOString() ?? ''].join('|'))
    .sort();
  return (
    createHash('sha256')
      // The route joins the key only when there is one: keys stored before routes existed stay the same.
      .update(JSON.stringify(n.route === undefined ? [n.source, n.receiver, n.groupKey, alerts] : [n.source, n.receiver, n.groupKey, alerts, n.route]))
      .digest('hex')
  );
}

/** Serialises a notification for storage (dates as ISO strings). */
export function serialiseNotification(n: Notification): string {
  return JSON.stringify(n);
}

/** Revives a stored notification, turning ISO strings back into dates. */
export function deserialiseNotification(text: string): Notification {
  const raw = JSON.parse(text) as Notification & { alerts: Array<Alert & { startsAt: string; endsAt?: string }> };
  return {
    ...raw,
    alerts: raw.alerts.map((a) => ({
      ...a,
      startsAt: new Date(a.startsAt),
      ...(a.endsAt ? { endsAt: new Date(a.endsAt) } : {}),
    })),
  };
}

/** Stores a notification unless an identical one is already stored; durable once this returns. */
export async function insertNotification(db: Database, n: Notification, receivedAt: Date): Promise<{ id: number; duplicate: boolean }> {
  const key = dedupKey(n);
  // Most copies are duplicates (an HA pair sends each twice): found without an INSERT, which on
  // PostgreSQL would use up an id even when it conflicts.
  const known = await db.get<{ id: number }>('SELECT id FROM notifications WHERE dedup_key = ?', key);
  if (known) return { id: known.id, duplicate: true };
  const inserted = await db.get<{ id: number }>(
    `INSERT INTO notifications (dedup_key, source, group_key, body, received_at)
     VALUES (?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING RETURNING id`,
    key,
    n.source,
    n.groupKey,
    serialiseNotification(n),
    receivedAt.getTime(),
  );
  if (inserted) return { id: inserted.id, duplicate: false };
  const row = (await db.get<{ id: number }>('SELECT id FROM notifications WHERE dedup_key = ?', key))!;
  return { id: row.id, duplicate: true };
}

/**
 * Stores a resend of stored notification `id` as a reminder when the last copy came at least
 * `minGapMs` before `receivedAt` (the sender's repeat_interval, not a retry or an HA peer's copy,
 * which come within seconds); returns the reminder's id, or undefined when it is just a duplicate.
 */
export async function insertReminder(db: Database, id: number, n: Notification, receivedAt: Date, minGapMs: number): Promise<number | undefined> {
  const now = receivedAt.getTime();
  const repeated = await db.run(`UPDATE notifications SET repeated_at = ? WHERE id = ? AND coalesce(repeated_at, received_at) <= ?`, now, id, now - minGapMs);
  if (repeated.changes === 0) return undefined;
  const row = await db.get<{ id: number }>(
    `INSERT INTO notifications (dedup_key, source, group_key, body, received_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
    `${dedupKey(n)}:reminder:${now}`,
    n.source,
    n.groupKey,
    serialiseNotification({ ...n, reminder: true }),
    now,
  );
  return row!.id;
}

/** The oldest notification the pipeline has not finished with, after `afterId` when given. */
export async function nextPendingNotification(db: Database, afterId = 0): Promise<StoredNotification | undefined> {
  const row = await db.get<{ id: number; body: string; received_at: number }>(
    `SELECT id, body, received_at FROM notifications WHERE status = 'pending' AND id > ? ORDER BY id LIMIT 1`,
    afterId,
  );
  if (!row) return undefined;
  return { id: row.id, receivedAt: new Date(row.received_at), notification: deserialiseNotification(row.body) };
}

/**
 * Thrown by finishNotification when the notification is no longer pending: another replica (a
 * leader that took over while this one was paused) finished it first. Thrown inside the
 * transaction that recorded the notification's incident and deliveries, it rolls them back.
 */
export class NotificationTaken extends Error {
  constructor(readonly notificationId: number) {
    super(`notification ${notificationId} was already processed (by another replica)`);
    this.name = 'NotificationTaken';
  }
}

/** Records the pipeline's outcome for a pending notification; throws NotificationTaken when it is pending no more. */
export async function finishNotification(
  db: Database,
  id: number,
  outcome: { status: 'done' | 'failed'; decision: string; error?: string },
  now: Date,
): Promise<void> {
  const result = await db.run(
    `UPDATE notifications SET status = ?, decision = ?, error = ?, processed_at = ? WHERE id = ? AND status = 'pending'`,
    outcome.status,
    outcome.decision,
    outcome.error ?? null,
    now.getTime(),
    id,
  );
  if (result.changes === 0) throw new NotificationTaken(id);
}

/** Number of notifications still waiting for the pipeline. */
export async function pendingNotificationCount(db: Database): Promise<number> {
  return (await db.get<{ n: number }>(`SELECT count(*) AS n FROM notifications WHERE status = 'pending'`))!.n;
}
