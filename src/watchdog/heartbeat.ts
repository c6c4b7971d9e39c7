import type { Database } from 'better-sqlite3';
import type { Alert, AlertSource, Notification } from '../model.js';
import type { Intercepted } from '../webhooks/routes.js';

/** When each heartbeat alertname last arrived firing (migration 5 in src/store/db.ts). */
export const HEARTBEATS_SQL = `
CREATE TABLE heartbeats (
  alertname    TEXT    PRIMARY KEY,
  last_seen_at INTEGER NOT NULL,
  source       TEXT    NOT NULL,
  received     INTEGER NOT NULL DEFAULT 0
);
`;

/** The last heartbeat of one alertname. */
export interface Heartbeat {
  alertname: string;
  lastSeen: Date;
  source: AlertSource;
  /** Webhook deliveries that carried it, since the first one. */
  received: number;
}

/** Notes that a firing heartbeat arrived at `at`; a late, older delivery never moves the time back. */
export function recordHeartbeat(db: Database, alertname: string, source: AlertSource, at: Date): void {
  db.prepare(
    `INSERT INTO heartbeats (alertname, last_seen_at, source, received) VALUES (?, ?, ?, 1)
     ON CONFLICT (alertname) DO UPDATE SET
       last_seen_at = max(last_seen_at, excluded.last_seen_at),
       source = excluded.source,
       received = received + 1`,
  ).run(alertname, at.getTime(), source);
}

/** The last heartbeat of `alertname`, if one ever arrived. */
export function lastHeartbeat(db: Database, alertname: string): Heartbeat | undefined {
  const row = db.prepare(`SELECT * FROM heartbeats WHERE alertname = ?`).get(alertname) as
    | { alertname: string; last_seen_at: number; source: AlertSource; received: number }
    | undefined;
  return row ? { alertname: row.alertname, lastSeen: new Date(row.last_seen_at), source: row.source, received: row.received } : undefined;
}

/** A notification split into its heartbeat alerts and the rest (undefined when nothing else is left). */
export interface HeartbeatSplit {
  heartbeats: Alert[];
  rest?: Notification;
}

/** Takes the alerts named `alertname` out of a notification; the rest keeps the group, status recomputed. */
export function splitHeartbeats(n: Notification, alertname: string): HeartbeatSplit {
  const heartbeats = n.alerts.filter((a) => a.labels.alertname === alertname);
  if (heartbeats.length === 0) return { heartbeats, rest: n };
  const alerts = n.alerts.filter((a) => a.labels.alertname !== alertname);
  if (alerts.length === 0) return { heartbeats };
  return { heartbeats, rest: { ...n, alerts, status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved' } };
}

/** Why heartbeat alerts never reach the pipeline: one would be posted on every resend. */
export const HEARTBEAT_REASON = 'heartbeat';

/**
 * The intake hook of the dead man's switch: records a firing `alertname` alert as a heartbeat and
 * drops every alert of that name (firing or resolved) before storage, so none is posted to Discord.
 */
export function heartbeatInterceptor(db: Database, alertname: string): (n: Notification, receivedAt: Date) => Intercepted {
  return (n, receivedAt) => {
    const split = splitHeartbeats(n, alertname);
    if (split.heartbeats.length === 0) return { keep: n, dropped: 0 };
    if (split.heartbeats.some((a) => a.status === 'firing')) recordHeartbeat(db, alertname, n.source, receivedAt);
    return { ...(split.rest ? { keep: split.rest } : {}), dropped: split.heartbeats.length, reason: HEARTBEAT_REASON };
  };
}
