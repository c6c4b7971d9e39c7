import type { Database } from './sql.js';

/**
 * Migration 19: escalations of incidents whose route has `escalation`. One row per incident: how
 * many pings went out (`step`), when the next is due, and why it ended. A step and its ping are
 * written in one transaction, so a restart never pings twice for the same step.
 */
export const ESCALATIONS_SQL = `
CREATE TABLE escalations (
  incident_id INTEGER PRIMARY KEY REFERENCES incidents(id),
  route TEXT NOT NULL,
  step INTEGER NOT NULL DEFAULT 0,
  due_at INTEGER,
  ended TEXT CHECK (ended IN ('done', 'acknowledged', 'resolved', 'unrouted')),
  CHECK ((due_at IS NULL) = (ended IS NOT NULL))
);
CREATE INDEX escalations_due ON escalations (due_at) WHERE due_at IS NOT NULL;
`;

/** Why an escalation ended: every ping sent, someone took the incident, it resolved, or its route no longer escalates. */
export type EscalationEnd = 'done' | 'acknowledged' | 'resolved' | 'unrouted';

/** One incident's escalation. */
export interface Escalation {
  incidentId: number;
  route: string;
  /** Pings sent so far. */
  step: number;
  /** When the next ping is due; undefined once ended. */
  dueAt?: Date;
  ended?: EscalationEnd;
}

interface Row {
  incident_id: number;
  route: string;
  step: number;
  due_at: number | null;
  ended: EscalationEnd | null;
}

function fromRow(r: Row): Escalation {
  return {
    incidentId: r.incident_id,
    route: r.route,
    step: r.step,
    ...(r.due_at !== null ? { dueAt: new Date(r.due_at) } : {}),
    ...(r.ended !== null ? { ended: r.ended } : {}),
  };
}

/** Schedules the first ping of an incident's escalation (a second call for the same incident changes nothing). */
export async function scheduleEscalation(db: Database, incidentId: number, route: string, dueAt: Date): Promise<void> {
  await db.run(
    `INSERT INTO escalations (incident_id, route, due_at) VALUES (?, ?, ?) ON CONFLICT (incident_id) DO NOTHING`,
    incidentId,
    route,
    dueAt.getTime(),
  );
}

/** The escalations due by `now`, oldest first. */
export async function dueEscalations(db: Database, now: Date): Promise<Escalation[]> {
  return (await db.all<Row>(`SELECT * FROM escalations WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at, incident_id`, now.getTime())).map(fromRow);
}

/** An incident's escalation, if it has one. */
export async function getEscalation(db: Database, incidentId: number): Promise<Escalation | undefined> {
  const row = await db.get<Row>(`SELECT * FROM escalations WHERE incident_id = ?`, incidentId);
  return row && fromRow(row);
}

/**
 * Records ping `step` sent: the next one due at `next`, or the escalation done when there is none.
 * False when the escalation is no longer at `step - 1` (another replica sent that ping, or it
 * ended): the caller rolls its ping back.
 */
export async function stepEscalation(db: Database, incidentId: number, step: number, next: Date | undefined): Promise<boolean> {
  const result = await db.run(
    `UPDATE escalations SET step = ?, due_at = ?, ended = ? WHERE incident_id = ? AND step = ? AND ended IS NULL`,
    step,
    next?.getTime() ?? null,
    next ? null : 'done',
    incidentId,
    step - 1,
  );
  return result.changes === 1;
}

/** Ends an escalation before its last ping. */
export async function endEscalation(db: Database, incidentId: number, why: EscalationEnd): Promise<void> {
  await db.run(`UPDATE escalations SET due_at = NULL, ended = ? WHERE incident_id = ? AND ended IS NULL`, why, incidentId);
}

/** Takes up an escalation that ended on an acknowledgement (the incident was given back): next ping at `dueAt`. */
export async function resumeEscalation(db: Database, incidentId: number, dueAt: Date): Promise<boolean> {
  const result = await db.run(`UPDATE escalations SET due_at = ?, ended = NULL WHERE incident_id = ? AND ended = 'acknowledged'`, dueAt.getTime(), incidentId);
  return result.changes === 1;
}
