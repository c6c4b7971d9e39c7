import type { Database } from './sql.js';

/**
 * Migration 21: leases (a job that runs once across the replicas sharing a database: its holder
 * and until when; `term` grows with each new holder, so a replica can tell it was replaced) and
 * the replicas seen (each one's heartbeat, for /healthz and `vigil check-config`).
 */
export const LEASES_SQL = `
CREATE TABLE leases (
  name       TEXT    PRIMARY KEY,
  holder     TEXT    NOT NULL,
  expires_at INTEGER NOT NULL,
  term       INTEGER NOT NULL
);
CREATE TABLE replicas (
  id         TEXT    PRIMARY KEY,
  host       TEXT    NOT NULL,
  started_at INTEGER NOT NULL,
  seen_at    INTEGER NOT NULL
);
`;

/** A lease as stored. */
export interface Lease {
  name: string;
  holder: string;
  expiresAt: Date;
  /** Grows by one whenever another replica takes the lease. */
  term: number;
}

/** A replica's last heartbeat. */
export interface Replica {
  id: string;
  host: string;
  startedAt: Date;
  seenAt: Date;
}

/**
 * Takes lease `name` for `holder` until `now + ttlMs`, or renews it when `holder` has it; undefined
 * while another holder's lease has not expired. One statement: two replicas asking at once cannot
 * both get it (the row's lock orders them; the second sees the first's lease).
 */
export async function acquireLease(db: Database, name: string, holder: string, now: Date, ttlMs: number): Promise<Lease | undefined> {
  const row = await db.get<{ name: string; holder: string; expires_at: number; term: number }>(
    `INSERT INTO leases (name, holder, expires_at, term) VALUES (?, ?, ?, 1)
     ON CONFLICT (name) DO UPDATE SET
       holder = excluded.holder,
       expires_at = excluded.expires_at,
       term = CASE WHEN leases.holder = excluded.holder THEN leases.term ELSE leases.term + 1 END
     WHERE leases.holder = excluded.holder OR leases.expires_at <= ?
     RETURNING name, holder, expires_at, term`,
    name,
    holder,
    now.getTime() + ttlMs,
    now.getTime(),
  );
  return row && { name: row.name, holder: row.holder, expiresAt: new Date(row.expires_at), term: row.term };
}

/** Gives lease `name` up (a replica stopping): another replica takes it at its next try, not after the expiry. */
export async function releaseLease(db: Database, name: string, holder: string): Promise<void> {
  await db.run(`UPDATE leases SET expires_at = 0 WHERE name = ? AND holder = ?`, name, holder);
}

/** Lease `name` as stored (expired or not), if anyone ever took it. */
export async function getLease(db: Database, name: string): Promise<Lease | undefined> {
  const row = await db.get<{ name: string; holder: string; expires_at: number; term: number }>(`SELECT * FROM leases WHERE name = ?`, name);
  return row && { name: row.name, holder: row.holder, expiresAt: new Date(row.expires_at), term: row.term };
}

/** Records that replica `id` is alive now, and forgets replicas not seen for a day. */
export async function heartbeatReplica(db: Database, replica: { id: string; host: string; startedAt: Date }, now: Date): Promise<void> {
  await db.run(`DELETE FROM replicas WHERE seen_at < ?`, now.getTime() - FORGET_AFTER_MS);
  await db.run(
    `INSERT INTO replicas (id, host, started_at, seen_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at`,
    replica.id,
    replica.host,
    replica.startedAt.getTime(),
    now.getTime(),
  );
}

/** The replicas seen since `since`, the longest-running first. */
export async function replicasSeen(db: Database, since: Date): Promise<Replica[]> {
  const rows = await db.all<{ id: string; host: string; started_at: number; seen_at: number }>(
    `SELECT * FROM replicas WHERE seen_at >= ? ORDER BY started_at, id`,
    since.getTime(),
  );
  return rows.map((r) => ({ id: r.id, host: r.host, startedAt: new Date(r.started_at), seenAt: new Date(r.seen_at) }));
}

/** Replicas not seen for this long are removed from the table. */
const FORGET_AFTER_MS = 86_400_000;
