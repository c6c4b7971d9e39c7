import type { Database } from './sql.js';
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
export async function recordHeartbeat(db: Database, alertname: string, source: AlertSource, at: Date): Promise<void> {
  await db.run(
    `INSERT INTO heartbeats (alertname, last_seen_at, source, received) VALUES (?, ?, ?, 1)
     ON CONFLICT (alertname) DO UPDATE SET
       last_seen_at = CASE WHEN excluded.last_seen_at > heartbeats.last_seen_at THEN excluded.last_seen_at ELSE heartbeats.last_seen_at END,
       source = excluded.source,
       received = heartbeats.received + 1`,
    alertname,
    at.getTime(),
    source,
  );
}

/** The last heartbeat of `alertname`, if one ever arrived. */
export async function lastHeartbeat(db: Database, alertname: string): Promise<Heartbeat | undefined> {
  const row = await db.get<{ alertname: string; last_seen_at: number; source: AlertSource; received: number }>(
    `SELECT * FROM heartbeats WHERE alertname = ?`,
    alertname,
  );
  return row ? { alertname: row.alertname, lastSeen: new Date(row.last_seen_at), source: row.source, received: row.received } : undefined;
}
