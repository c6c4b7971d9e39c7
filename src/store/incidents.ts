import { forUpdate, type Database } from './sql.js';
import type { AlertSource, AlertStatus } from '../model.js';

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

/**
 * Migration 13: when the channel was last told about an incident's alerts (its message, or a
 * "now firing" note), and the newly firing alerts not told yet: notes about one incident go out at
 * most once per few seconds, the alerts that fired meanwhile gathered into one.
 */
export const INCIDENT_ANNOUNCE_SQL = `
ALTER TABLE incidents ADD COLUMN announced_at INTEGER NULL;
ALTER TABLE incidents ADD COLUMN unannounced TEXT NULL CHECK (unannounced IS NULL OR json_valid(unannounced));
CREATE INDEX incidents_unannounced ON incidents (announced_at) WHERE unannounced IS NOT NULL;
`;

/**
 * Migration 18: the route (routes[].name) an incident was sent to; NULL: none (discord.alertChannelId).
 * One group split across routes is one incident per route.
 */
export const INCIDENT_ROUTE_SQL = `
ALTER TABLE incidents ADD COLUMN route TEXT NULL;
`;

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
  /** The route it was sent to (routes[].name); none: discord.alertChannelId. */
  route?: string;
  status: AlertStatus;
  alerts: Record<string, IncidentAlertState>;
  startedAt: Date;
  resolvedAt?: Date;
  createOutboxId?: number;
  /** When the channel was last told about its alerts (its message, or a note). */
  announcedAt?: Date;
  /** Fingerprints that started firing since, not told yet. */
  unannounced?: string[];
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
  announced_at?: number | null;
  unannounced?: string | null;
  route?: string | null;
}

function fromRow(row: IncidentRow): Incident {
  return {
    id: row.id,
    source: row.source,
    receiver: row.receiver,
    groupKey: row.group_key,
    ...(row.route != null ? { route: row.route } : {}),
    status: row.status,
    alerts: JSON.parse(row.alerts) as Record<string, IncidentAlertState>,
    startedAt: new Date(row.started_at),
    ...(row.resolved_at !== null ? { resolvedAt: new Date(row.resolved_at) } : {}),
    ...(row.create_outbox_id !== null ? { createOutboxId: row.create_outbox_id } : {}),
    ...(row.announced_at != null ? { announcedAt: new Date(row.announced_at) } : {}),
    ...(row.unannounced != null ? { unannounced: JSON.parse(row.unannounced) as string[] } : {}),
  };
}

/** The most recent incident of a group on a route (open or not). */
export async function latestIncident(
  db: Database,
  key: { source: AlertSource; receiver: string; groupKey: string; route?: string },
): Promise<Incident | undefined> {
  const row = await db.get<IncidentRow>(
    `SELECT * FROM incidents WHERE source = ? AND receiver = ? AND group_key = ? AND route IS ? ORDER BY id DESC LIMIT 1`,
    key.source,
    key.receiver,
    key.groupKey,
    key.route ?? null,
  );
  return row ? fromRow(row) : undefined;
}

/** The group's firing incidents on any route (one group split across routes has one per route), newest first. */
export async function firingIncidentsOfGroup(db: Database, key: { source: AlertSource; receiver: string; groupKey: string }): Promise<Incident[]> {
  const rows = await db.all<IncidentRow>(
    `SELECT * FROM incidents WHERE source = ? AND receiver = ? AND group_key = ? AND status = 'firing' ORDER BY id DESC`,
    key.source,
    key.receiver,
    key.groupKey,
  );
  return rows.map(fromRow);
}

/** Reads one incident by id. */
export async function getIncident(db: Database, id: number, opts: { lock?: boolean } = {}): Promise<Incident | undefined> {
  // `lock`: in a transaction on PostgreSQL, the row stays as read until it ends.
  const row = await db.get<IncidentRow>(`SELECT * FROM incidents WHERE id = ?${opts.lock ? forUpdate(db) : ''}`, id);
  return row ? fromRow(row) : undefined;
}

/** Creates an incident and maps its alerts' fingerprints to it. */
export async function createIncident(db: Database, inc: Omit<Incident, 'id'>, now: Date): Promise<number> {
  const row = await db.get<{ id: number }>(
    `INSERT INTO incidents (source, receiver, group_key, route, status, alerts, started_at, resolved_at, create_outbox_id, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    inc.source,
    inc.receiver,
    inc.groupKey,
    inc.route ?? null,
    inc.status,
    JSON.stringify(inc.alerts),
    inc.startedAt.getTime(),
    inc.resolvedAt?.getTime() ?? null,
    inc.createOutboxId ?? null,
    now.getTime(),
    now.getTime(),
  );
  return row!.id;
}

/** Updates an incident's state, alerts and message link. */
export async function updateIncident(
  db: Database,
  id: number,
  change: Pick<Incident, 'status' | 'alerts'> & { resolvedAt?: Date; createOutboxId?: number },
  now: Date,
): Promise<void> {
  await db.run(
    `UPDATE incidents SET status = ?, alerts = ?, resolved_at = ?, create_outbox_id = COALESCE(?, create_outbox_id), updated_at = ?
     WHERE id = ?`,
    change.status,
    JSON.stringify(change.alerts),
    change.resolvedAt?.getTime() ?? null,
    change.createOutboxId ?? null,
    now.getTime(),
    id,
  );
}

/** Records that the channel was told about the incident's alerts now: nothing is left to tell. */
export async function markAnnounced(db: Database, id: number, now: Date): Promise<void> {
  await db.run(`UPDATE incidents SET announced_at = ?, unannounced = NULL WHERE id = ?`, now.getTime(), id);
}

/** Adds newly firing alerts to what the channel will be told about the incident at its next note. */
export async function deferAnnouncement(db: Database, id: number, fingerprints: readonly string[]): Promise<void> {
  // Locked on PostgreSQL: a note going out meanwhile (flushAnnouncements) is not undone by this write.
  const row = await db.get<{ unannounced: string | null }>(`SELECT unannounced FROM incidents WHERE id = ?${forUpdate(db)}`, id);
  if (!row) return;
  const known = row.unannounced ? (JSON.parse(row.unannounced) as string[]) : [];
  const merged = [...known, ...fingerprints.filter((f) => !known.includes(f))];
  await db.run(`UPDATE incidents SET unannounced = ? WHERE id = ?`, JSON.stringify(merged), id);
}

/** Incidents with alerts to tell the channel about whose last note is at least as old as `before`. */
export async function incidentsToAnnounce(db: Database, before: Date): Promise<Incident[]> {
  const rows = await db.all<IncidentRow>(
    `SELECT * FROM incidents WHERE unannounced IS NOT NULL AND (announced_at IS NULL OR announced_at <= ?) ORDER BY id`,
    before.getTime(),
  );
  return rows.map(fromRow);
}
