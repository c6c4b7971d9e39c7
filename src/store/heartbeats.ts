import type { Database } from 'better-sqlite3';
import type { AlertSource } from '../model.js';

/** When each heartbeat alertname last arrived firing (migration 5 in db.ts). */
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
    { alertname: string; last_seen_at: number; source: AlertSource; received: number } | undefined;
  return row ? { alertname: row.alertname, lastSeen: new Date(row.last_seen_at), source: row.source, received: row.received } : undefined;
}
