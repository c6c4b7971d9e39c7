import type { Database } from './sql.js';

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
export async function acknowledge(db: Database, incidentId: number, by: { userId: string; username: string; at: Date }): Promise<AckOutcome> {
  return db.transaction(async () => {
    const result = await db.run(
      `INSERT INTO incident_acks (incident_id, user_id, username, acked_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (incident_id) DO NOTHING`,
      incidentId,
      by.userId,
      by.username,
      by.at.getTime(),
    );
    const ack = await getAck(db, incidentId);
    // Unreachable: an ack is never deleted inside this transaction (the row inserted or kept is there).
    if (!ack) throw new Error(`acknowledgement of incident ${incidentId} was not stored`);
    return result.changes === 1 ? { recorded: true, ack } : { recorded: false, ack };
  });
}

/** Removes an incident's acknowledgement (Unacknowledge: it is given back); returns the one removed, if there was one. */
export async function unacknowledge(db: Database, incidentId: number): Promise<Ack | undefined> {
  const row = await db.get<AckRow>(`DELETE FROM incident_acks WHERE incident_id = ? RETURNING *`, incidentId);
  return row ? fromRow(row) : undefined;
}

/** The acknowledgement of an incident, if any. */
export async function getAck(db: Database, incidentId: number): Promise<Ack | undefined> {
  const row = await db.get<AckRow>(`SELECT * FROM incident_acks WHERE incident_id = ?`, incidentId);
  return row ? fromRow(row) : undefined;
}
