import type { Database } from 'better-sqlite3';
import { stmt } from './statements.js';

/**
 * Acknowledgements of incidents (the Acknowledge button): one row per incident, the first press
 * wins, so the message keeps naming whoever took the incident first.
 */
export const ACKS_SQL = `
CREATE TABLE incident_acks (
  incident_id INTEGER PRIMARY KEY REFERENCES incidents(id),
  user_id TEXT NOT NULL,
  username TEXT NOT NULL,
  acked_at INTEGER NOT NULL
);
`;

/** Who acknowledged an incident, and when. */
export interface Ack {
  incidentId: number;
  userId: string;
  username: string;
  at: Date;
}

/** What `acknowledge` did: recorded this ack, or kept the one already there. */
export type AckOutcome = { recorded: true; ack: Ack } | { recorded: false; ack: Ack };

interface AckRow {
  incident_id: number;
  user_id: string;
  username: string;
  acked_at: number;
}

function fromRow(row: AckRow): Ack {
  return { incidentId: row.incident_id, userId: row.user_id, username: row.username, at: new Date(row.acked_at) };
}

/** Records an acknowledgement unless the incident has one already (the first one is kept). */
export function acknowledge(db: Database, incidentId: number, by: { userId: string; username: string; at: Date }): AckOutcome {
  const result = stmt(
    db,
    `INSERT INTO incident_acks (incident_id, user_id, username, acked_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (incident_id) DO NOTHING`,
  ).run(incidentId, by.userId, by.username, by.at.getTime());
  const ack = getAck(db, incidentId);
  // Unreachable: nothing runs between the two statements (better-sqlite3 is synchronous).
  if (!ack) throw new Error(`acknowledgement of incident ${incidentId} was not stored`);
  return result.changes === 1 ? { recorded: true, ack } : { recorded: false, ack };
}

/** Removes an incident's acknowledgement (Unacknowledge: it is given back); returns the one removed, if there was one. */
export function unacknowledge(db: Database, incidentId: number): Ack | undefined {
  const ack = getAck(db, incidentId);
  if (ack) stmt(db, `DELETE FROM incident_acks WHERE incident_id = ?`).run(incidentId);
  return ack;
}

/** The acknowledgement of an incident, if any. */
export function getAck(db: Database, incidentId: number): Ack | undefined {
  const row = stmt(db, `SELECT * FROM incident_acks WHERE incident_id = ?`).get(incidentId) as AckRow | undefined;
  return row ? fromRow(row) : undefined;
}
