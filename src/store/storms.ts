import { forUpdate, insertionOrder, isSame, jsonText, type Database } from './sql.js';
import type { AlertStatus } from '../model.js';

/**
 * Storms (migration 12): a channel that gets more new incidents than it can post in a short time
 * folds them into one storm message. Every alert of the storm is a row of storm_alerts (its
 * membership outlives a restart); `details_outbox_id` is the thread message that named it, so no
 * alert is named twice. `dirty`: the storm message no longer shows the latest state.
 */
export const STORMS_SQL = `
CREATE TABLE storms (
  id               INTEGER PRIMARY KEY,
  channel_id       TEXT    NOT NULL,
  started_at       INTEGER NOT NULL,
  last_joined_at   INTEGER NOT NULL,
  ended_at         INTEGER NULL,
  create_outbox_id INTEGER NULL REFERENCES outbox(id),
  dirty            INTEGER NOT NULL DEFAULT 1 CHECK (dirty IN (0, 1))
);
CREATE UNIQUE INDEX storms_active ON storms (channel_id) WHERE ended_at IS NULL;
CREATE INDEX storms_dirty ON storms (id) WHERE dirty = 1 OR ended_at IS NULL;
CREATE TABLE storm_alerts (
  storm_id          INTEGER NOT NULL REFERENCES storms(id),
  incident_id       INTEGER NOT NULL REFERENCES incidents(id),
  fingerprint       TEXT    NOT NULL,
  labels            TEXT    NOT NULL CHECK (json_valid(labels)),
  status            TEXT    NOT NULL CHECK (status IN ('firing', 'resolved')),
  starts_at         INTEGER NOT NULL,
  joined_at         INTEGER NOT NULL,
  details_outbox_id INTEGER NULL REFERENCES outbox(id),
  PRIMARY KEY (storm_id, incident_id, fingerprint)
);
CREATE INDEX storm_alerts_incident ON storm_alerts (incident_id);
CREATE INDEX storm_alerts_undetailed ON storm_alerts (storm_id, joined_at) WHERE details_outbox_id IS NULL;
`;

/** One storm of a channel. */
export interface Storm {
  id: number;
  channelId: string;
  startedAt: Date;
  lastJoinedAt: Date;
  endedAt?: Date;
  /** The outbox item of the storm message, once enqueued. */
  createOutboxId?: number;
  dirty: boolean;
  /** When its message was last enqueued (created or edited). */
  messageChangedAt?: Date;
}

/** One alert of a storm, as the storm message and its details show it. */
export interface StormAlert {
  incidentId: number;
  fingerprint: string;
  labels: Record<string, string>;
  status: AlertStatus;
  startsAt: Date;
  joinedAt: Date;
  /** The thread message that named it, once one did. */
  detailsOutboxId?: number;
}

interface StormRow {
  id: number;
  channel_id: string;
  started_at: number;
  last_joined_at: number;
  ended_at: number | null;
  create_outbox_id: number | null;
  dirty: number;
  message_changed_at: number | null;
}

interface AlertRow {
  incident_id: number;
  fingerprint: string;
  labels: string;
  status: AlertStatus;
  starts_at: number;
  joined_at: number;
  details_outbox_id: number | null;
}

function toStorm(r: StormRow): Storm {
  return {
    id: r.id,
    channelId: r.channel_id,
    startedAt: new Date(r.started_at),
    lastJoinedAt: new Date(r.last_joined_at),
    ...(r.ended_at !== null ? { endedAt: new Date(r.ended_at) } : {}),
    ...(r.create_outbox_id !== null ? { createOutboxId: r.create_outbox_id } : {}),
    dirty: r.dirty === 1,
    ...(r.message_changed_at !== null ? { messageChangedAt: new Date(r.message_changed_at) } : {}),
  };
}

function toAlert(r: AlertRow): StormAlert {
  return {
    incidentId: r.incident_id,
    fingerprint: r.fingerprint,
    labels: JSON.parse(r.labels) as Record<string, string>,
    status: r.status,
    startsAt: new Date(r.starts_at),
    joinedAt: new Date(r.joined_at),
    ...(r.details_outbox_id !== null ? { detailsOutboxId: r.details_outbox_id } : {}),
  };
}

/** The channel's storm in progress, if any. */
export async function activeStorm(db: Database, channelId: string): Promise<Storm | undefined> {
  // Locked inside a transaction on PostgreSQL: a storm joined is not ended by a flush meanwhile.
  const row = await db.get<StormRow>(`SELECT * FROM storms WHERE channel_id = ? AND ended_at IS NULL${forUpdate(db)}`, channelId);
  return row && toStorm(row);
}

/** A storm by id. */
export async function getStorm(db: Database, id: number): Promise<Storm | undefined> {
  const row = await db.get<StormRow>(`SELECT * FROM storms WHERE id = ?${forUpdate(db)}`, id);
  return row && toStorm(row);
}

/** Starts a storm in a channel (one at a time per channel: the unique index refuses a second). */
export async function startStorm(db: Database, channelId: string, now: Date): Promise<Storm> {
  const row = await db.get<StormRow>(
    `INSERT INTO storms (channel_id, started_at, last_joined_at) VALUES (?, ?, ?) RETURNING *`,
    channelId,
    now.getTime(),
    now.getTime(),
  );
  return toStorm(row!);
}

/** The storm an incident's alerts belong to, if any. */
export async function stormOfIncident(db: Database, incidentId: number): Promise<number | undefined> {
  const row = await db.get<{ id: number }>(`SELECT storm_id AS id FROM storm_alerts WHERE incident_id = ? LIMIT 1`, incidentId);
  return row?.id;
}

/** An alert as a notification carries it, for recordStormAlerts. */
export interface StormAlertInput {
  fingerprint: string;
  labels: Record<string, string>;
  status: AlertStatus;
  startsAt: Date;
  /** The alert's expression, when its sender gave one (for the storm's context). */
  expr?: string;
}

/**
 * Records an incident's alerts in its storm: new ones join (to be named in the details), known
 * ones take their new status; the storm message is marked for an update. A new incident also
 * keeps the storm going (last_joined_at).
 */
export async function recordStormAlerts(
  db: Database,
  stormId: number,
  incidentId: number,
  alerts: readonly StormAlertInput[],
  now: Date,
  newIncident: boolean,
): Promise<void> {
  for (const a of alerts) {
    await db.run(
      `INSERT INTO storm_alerts (storm_id, incident_id, fingerprint, labels, status, starts_at, joined_at, expr) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (storm_id, incident_id, fingerprint) DO UPDATE SET status = excluded.status, expr = coalesce(excluded.expr, storm_alerts.expr)`,
      stormId,
      incidentId,
      a.fingerprint,
      JSON.stringify(a.labels),
      a.status,
      a.startsAt.getTime(),
      now.getTime(),
      a.expr ?? null,
    );
  }
  if (newIncident) {
    await db.run(
      `UPDATE storms SET dirty = 1, last_joined_at = CASE WHEN last_joined_at > ? THEN last_joined_at ELSE ? END WHERE id = ?`,
      now.getTime(),
      now.getTime(),
      stormId,
    );
  } else {
    await db.run(`UPDATE storms SET dirty = 1 WHERE id = ?`, stormId);
  }
}

/** How many incidents of a channel got a message of their own since `since` (epoch ms): what decides a storm. */
export async function recentIncidentMessages(db: Database, channelId: string, since: number): Promise<number> {
  return (await db.get<{ n: number }>(
    `SELECT count(*) AS n FROM outbox WHERE kind = 'create' AND channel_id = ? AND created_at >= ? AND order_key LIKE 'incident:%'`,
    channelId,
    since,
  ))!.n;
}

/** Pending notifications a storm look-ahead reads at most (queuedNewGroups): its cost stays bounded in any backlog. */
const LOOK_AHEAD_ROWS = 200;

/**
 * New groups queued for a channel behind notification `afterId` and received by `receivedBy`
 * (epoch ms: the burst it arrived in, not a later backlog): firing, pending, with no firing
 * incident yet, other than `exceptGroup`; counted up to `limit` among the next LOOK_AHEAD_ROWS
 * pending notifications. A burst that arrived at once is seen whole before its first incident
 * takes a message of its own.
 */
export async function queuedNewGroups(
  db: Database,
  q: {
    afterId: number;
    receivedBy: number;
    channelId: string;
    defaultChannelId: string;
    exceptGroup: { source: string; receiver: string; groupKey: string; route?: string };
    limit: number;
  },
): Promise<number> {
  if (q.limit <= 0) return 0;
  return (await db.get<{
    n: number;
  }>(
    `SELECT count(*) AS n FROM (
         SELECT DISTINCT n.source, ${jsonText(db, 'n.body', 'receiver')} AS receiver, n.group_key, ${jsonText(db, 'n.body', 'route')} AS route
         FROM (SELECT * FROM notifications WHERE status = 'pending' AND id > ? ORDER BY id LIMIT ${LOOK_AHEAD_ROWS}) n
         WHERE n.received_at <= ?
           AND NOT (n.source = ? AND n.group_key = ? AND ${jsonText(db, 'n.body', 'receiver')} = ? AND ${jsonText(db, 'n.body', 'route')} IS ?)
           AND ${jsonText(db, 'n.body', 'status')} = 'firing'
           AND coalesce(${jsonText(db, 'n.body', 'channelId')}, ?) = ?
           AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.source = n.source AND i.group_key = n.group_key
                             AND i.receiver = ${jsonText(db, 'n.body', 'receiver')} AND i.route ${isSame(db)} ${jsonText(db, 'n.body', 'route')}
                             AND i.status = 'firing')
         LIMIT ?) AS queued`,
    q.afterId,
    q.receivedBy,
    q.exceptGroup.source,
    q.exceptGroup.groupKey,
    q.exceptGroup.receiver,
    q.exceptGroup.route ?? null,
    q.defaultChannelId,
    q.channelId,
    q.limit,
  ))!.n;
}

/** Storms with something to do: in progress (they may end, or have alerts to name), or ended with a change to show. */
export async function stormsToFlush(db: Database): Promise<Storm[]> {
  return (await db.all<StormRow>(`SELECT * FROM storms WHERE dirty = 1 OR ended_at IS NULL ORDER BY id`)).map(toStorm);
}

/** Every alert of a storm, in the order they joined. */
export async function stormAlerts(db: Database, stormId: number): Promise<StormAlert[]> {
  return (await db.all<AlertRow>(`SELECT * FROM storm_alerts WHERE storm_id = ? ORDER BY joined_at, ${insertionOrder(db)}`, stormId)).map(toAlert);
}

/** Marks alerts as named by a thread message. */
export async function markDetailed(
  db: Database,
  stormId: number,
  alerts: readonly Pick<StormAlert, 'incidentId' | 'fingerprint'>[],
  outboxId: number,
): Promise<void> {
  for (const a of alerts) {
    await db.run(
      `UPDATE storm_alerts SET details_outbox_id = ? WHERE storm_id = ? AND incident_id = ? AND fingerprint = ?`,
      outboxId,
      stormId,
      a.incidentId,
      a.fingerprint,
    );
  }
}

/** Records what was enqueued for a storm: its message's outbox item and when, the state shown, its end. */
export async function updateStorm(
  db: Database,
  id: number,
  change: { createOutboxId?: number; dirty?: boolean; endedAt?: Date; messageChangedAt?: Date },
): Promise<void> {
  await db.run(
    `UPDATE storms SET create_outbox_id = coalesce(?, create_outbox_id), dirty = coalesce(?, dirty), ended_at = coalesce(?, ended_at),
       message_changed_at = coalesce(?, message_changed_at) WHERE id = ?`,
    change.createOutboxId ?? null,
    change.dirty === undefined ? null : change.dirty ? 1 : 0,
    change.endedAt?.getTime() ?? null,
    change.messageChangedAt?.getTime() ?? null,
    id,
  );
}

/** How many of a storm's alerts no details message named yet, and when the oldest of them joined (epoch ms). */
export async function undetailed(db: Database, stormId: number): Promise<{ count: number; oldestJoinedAt: number }> {
  const row = (await db.get<{
    n: number;
    oldest: number | null;
  }>(`SELECT count(*) AS n, min(joined_at) AS oldest FROM storm_alerts WHERE storm_id = ? AND details_outbox_id IS NULL`, stormId))!;
  return { count: row.n, oldestJoinedAt: row.oldest ?? 0 };
}

/**
 * Migration 14: the storm decision counts a channel's recent incident messages on every new
 * incident (the index keeps that a range read however long the outbox grows); when the storm
 * message was last enqueued, so its edits keep to one per window without reading the outbox.
 */
export const STORM_DECISION_INDEX_SQL = `
CREATE INDEX outbox_creates_by_channel ON outbox (channel_id, created_at) WHERE kind = 'create';
ALTER TABLE storms ADD COLUMN message_changed_at INTEGER NULL;
`;

/** Takes an incident's alerts out of its storm (it gets a message of its own); the storm message shows the change. */
export async function leaveStorm(db: Database, stormId: number, incidentId: number): Promise<void> {
  await db.run(`DELETE FROM storm_alerts WHERE storm_id = ? AND incident_id = ?`, stormId, incidentId);
  await db.run(`UPDATE storms SET dirty = 1 WHERE id = ?`, stormId);
}

/**
 * Migration 15: each storm alert's expression (as its sender gave it), and which alert names of a
 * storm had their metric queried once for the whole storm (storm context, pipeline/storm-context.ts).
 */
export const STORM_CONTEXT_SQL = `
ALTER TABLE storm_alerts ADD COLUMN expr TEXT NULL;
CREATE TABLE storm_contexts (
  storm_id   INTEGER NOT NULL REFERENCES storms(id),
  alertname  TEXT    NOT NULL,
  outbox_id  INTEGER NULL REFERENCES outbox(id),
  queried_at INTEGER NOT NULL,
  PRIMARY KEY (storm_id, alertname)
);
`;

/** An alert name of a storm whose metric is not queried yet: how many of its alerts fire, and one expression of theirs. */
export interface StormName {
  alertname: string;
  firing: number;
  expr: string;
}

/**
 * The alert names of a storm that have an expression and no context yet, most firing alerts
 * first, so that at most `limit` names get one in all.
 */
export async function stormNamesToQuery(db: Database, stormId: number, limit: number): Promise<StormName[]> {
  const done = (await db.get<{ n: number }>(`SELECT count(*) AS n FROM storm_contexts WHERE storm_id = ?`, stormId))!.n;
  if (done >= limit) return [];
  return await db.all<StormName>(
    `SELECT ${jsonText(db, 'a.labels', 'alertname')} AS alertname, count(*) AS firing, max(a.expr) AS expr
       FROM storm_alerts a
      WHERE a.storm_id = ? AND a.status = 'firing' AND a.expr IS NOT NULL AND ${jsonText(db, 'a.labels', 'alertname')} IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM storm_contexts c WHERE c.storm_id = a.storm_id AND c.alertname = ${jsonText(db, 'a.labels', 'alertname')})
      GROUP BY 1 ORDER BY firing DESC, alertname LIMIT ?`,
    stormId,
    limit - done,
  );
}

/**
 * Migration 16: what each alert name's query found (JSON, written by pipeline/storm-context.ts), so
 * the storm message shows it on every later edit, after a restart too.
 */
export const STORM_CONTEXT_METRICS_SQL = `
ALTER TABLE storm_contexts ADD COLUMN metrics TEXT NULL CHECK (metrics IS NULL OR json_valid(metrics));
`;

/** Records what alert names' queries found for a storm; its message shows it at the next edit. */
export async function recordStormContexts(
  db: Database,
  stormId: number,
  found: ReadonlyArray<{ alertname: string; metrics: object }>,
  now: Date,
): Promise<void> {
  for (const f of found) {
    await db.run(
      `INSERT INTO storm_contexts (storm_id, alertname, queried_at, metrics) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      stormId,
      f.alertname,
      now.getTime(),
      JSON.stringify(f.metrics),
    );
  }
  await db.run(`UPDATE storms SET dirty = 1 WHERE id = ?`, stormId);
}

/**
 * Migration 17: what the storm-wide log volume query found (JSON, written by
 * pipeline/storm-context.ts), shown by the storm message on every later edit.
 */
export const STORM_LOGS_SQL = `
ALTER TABLE storms ADD COLUMN logs TEXT NULL CHECK (logs IS NULL OR json_valid(logs));
`;

/** Records what the storm's log volume query found; its message shows it at the next edit. */
export async function recordStormLogs(db: Database, stormId: number, logs: object): Promise<void> {
  await db.run(`UPDATE storms SET logs = ?, dirty = 1 WHERE id = ?`, JSON.stringify(logs), stormId);
}

/** What the storm's log volume query last found (the caller wrote it, the caller reads it). */
export async function stormLogs<T>(db: Database, stormId: number): Promise<T | undefined> {
  const row = await db.get<{ logs: string | null }>(`SELECT logs FROM storms WHERE id = ?`, stormId);
  return row?.logs ? (JSON.parse(row.logs) as T) : undefined;
}

/** When the storm's log volume was last queried (epoch ms), without reading what it found: asked every second. */
export async function stormLogsQueriedAt(db: Database, stormId: number): Promise<number | undefined> {
  const row = await db.get<{ at: string | null }>(`SELECT ${jsonText(db, 'logs', 'queriedAt')} AS at FROM storms WHERE id = ?`, stormId);
  return row?.at ? Date.parse(row.at) : undefined;
}

/** The labels of a storm's firing alerts (what its log sources are derived from). */
export async function firingStormLabels(db: Database, stormId: number): Promise<Array<Record<string, string>>> {
  const rows = await db.all<{ labels: string }>(`SELECT labels FROM storm_alerts WHERE storm_id = ? AND status = 'firing'`, stormId);
  return rows.map((r) => JSON.parse(r.labels) as Record<string, string>);
}

/** What the queries of a storm's alert names found, in the order they were recorded (the caller wrote them, the caller reads them). */
export async function stormContextMetrics<T>(db: Database, stormId: number): Promise<T[]> {
  const rows = await db.all<{
    metrics: string;
  }>(`SELECT metrics FROM storm_contexts WHERE storm_id = ? AND metrics IS NOT NULL ORDER BY ${insertionOrder(db)}`, stormId);
  return rows.map((r) => JSON.parse(r.metrics) as T);
}

/** Storms in progress whose message is enqueued. */
export async function activeStorms(db: Database): Promise<Storm[]> {
  return (await db.all<StormRow>(`SELECT * FROM storms WHERE ended_at IS NULL AND create_outbox_id IS NOT NULL ORDER BY id`)).map(toStorm);
}
