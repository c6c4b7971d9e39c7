import type { Database } from 'better-sqlite3';
import type { AlertSource, AlertStatus } from '../model.js';
import { stmt } from './statements.js';

/**
 * Incidents: one per alert group episode, one Discord message each; a resolution finds its
 * incident by group (latestIncident).
 */
export const INCIDENTS_SQL = `
CREATE TABLE incidents (
  id INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  receiver TEXT NOT NULL,
  group_key TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
  alerts TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  resolved_at INTEGER,
  create_outbox_id INTEGER REFERENCES outbox(id),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX incidents_group ON incidents (source, receiver, group_key, status);
-- Written but never read; dropped by migration 9 (INCIDENT_ALERTS_DROP).
CREATE TABLE incident_alerts (
  fingerprint TEXT NOT NULL,
  incident_id INTEGER NOT NULL REFERENCES incidents(id),
  PRIMARY KEY (fingerprint, incident_id)
);
`;

/** Migration 9: drops incident_alerts, a fingerprint -> incident map no query ever read. */
export const INCIDENT_ALERTS_DROP = `DROP TABLE incident_alerts;`;

/** What the store remembers of one alert of an incident. */
export interface IncidentAlertState {
  status: AlertStatus;
  startsAt: string;
  /** The sender gave no start time; `startsAt` is when Vigil heard of the alert. */
  startsAtUnknown?: boolean;
  endsAt?: string;
  /** The alert's labels: what buttons (silence, logs) act on. */
  labels?: Record<string, string>;
}

/** One incident as stored. */
export interface Incident {
  id: number;
  source: AlertSource;
  receiver: string;
  groupKey: string;
  status: AlertStatus;
  alerts: Record<string, IncidentAlertState>;
  startedAt: Date;
  resolvedAt?: Date;
  createOutboxId?: number;
}

interface IncidentRow {
  id: number;
  source: AlertSource;
  receiver: string;
  group_key: string;
  status: AlertStatus;
  alerts: string;
  started_at: number;
  resolved_at: number | null;
  create_outbox_id: number | null;
}

function fromRow(row: IncidentRow): Incident {
  return {
    id: row.id,
    source: row.source,
    receiver: row.receiver,
    groupKey: row.group_key,
    status: row.status,
    alerts: JSON.parse(row.alerts) as Record<string, IncidentAlertState>,
    startedAt: new Date(row.started_at),
    ...(row.resolved_at !== null ? { resolvedAt: new Date(row.resolved_at) } : {}),
    ...(row.create_outbox_id !== null ? { createOutboxId: row.create_outbox_id } : {}),
  };
}

/** The most recent incident of a group (open or not). */
export function latestIncident(db: Database, key: { source: AlertSource; receiver: string; groupKey: string }): Incident | undefined {
  const row = stmt(db, `SELECT * FROM incidents WHERE source = ? AND receiver = ? AND group_key = ? ORDER BY id DESC LIMIT 1`).get(
    key.source,
    key.receiver,
    key.groupKey,
  ) as IncidentRow | undefined;
  return row ? fromRow(row) : undefined;
}

/** Reads one incident by id. */
export function getIncident(db: Database, id: number): Incident | undefined {
  const row = stmt(db, `SELECT * FROM incidents WHERE id = ?`).get(id) as IncidentRow | undefined;
  return row ? fromRow(row) : undefined;
}

/** Creates an incident and maps its alerts' fingerprints to it. */
export function createIncident(db: Database, inc: Omit<Incident, 'id'>, now: Date): number {
  const result = stmt(
    db,
    `INSERT INTO incidents (source, receiver, group_key, status, alerts, started_at, resolved_at, create_outbox_id, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    inc.source,
    inc.receiver,
    inc.groupKey,
    inc.status,
    JSON.stringify(inc.alerts),
    inc.startedAt.getTime(),
    inc.resolvedAt?.getTime() ?? null,
    inc.createOutboxId ?? null,
    now.getTime(),
    now.getTime(),
  );
  return Number(result.lastInsertRowid);
}

/** Updates an incident's state, alerts and message link. */
export function updateIncident(
  db: Database,
  id: number,
  change: Pick<Incident, 'status' | 'alerts'> & { resolvedAt?: Date; createOutboxId?: number },
  now: Date,
): void {
  stmt(
    db,
    `UPDATE incidents SET status = ?, alerts = ?, resolved_at = ?, create_outbox_id = COALESCE(?, create_outbox_id), updated_at = ?
     WHERE id = ?`,
  ).run(change.status, JSON.stringify(change.alerts), change.resolvedAt?.getTime() ?? null, change.createOutboxId ?? null, now.getTime(), id);
}
