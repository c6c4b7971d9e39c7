import type { Database } from './sql.js';
import type { DeliveryStats, IncidentStats, MeanDuration, OpenIncident } from '../model.js';
import type { IncidentAlertState } from './incidents.js';

// Read-only figures over the store for the daily digest: what fired and resolved in a window,
// the noisiest rules, mean time to acknowledge and to resolve, and how intake and delivery went.

/** A time window [from, to], both ends included. */
export interface Window {
  from: Date;
  to: Date;
}

interface IncidentRow {
  status: 'firing' | 'resolved';
  alerts: string;
  started_at: number;
  resolved_at: number | null;
  created_at: number;
  acked_at: number | null;
}

const inWindow = (ms: number, w: Window) => ms >= w.from.getTime() && ms <= w.to.getTime();

function mean(durations: readonly number[]): MeanDuration {
  if (durations.length === 0) return { count: 0 };
  // A start reported after the ack or the end (sender clock skew) counts as zero, not negative.
  const total = durations.reduce((sum, d) => sum + Math.max(0, d), 0);
  return { count: durations.length, meanMs: total / durations.length };
}

/** An alert's name; empty without one (render/ words that in the reader's language). */
function alertname(state: IncidentAlertState): string {
  return state.labels?.['alertname'] ?? '';
}

/** Incident and alert figures for `w`; `limit` caps the noisiest rules list. */
export async function incidentStats(db: Database, w: Window, limit = 5): Promise<IncidentStats> {
  // Any incident the window saw changed has updated_at in it; open ones count towards "firing now".
  const rows = await db.all<IncidentRow>(
    `SELECT i.status, i.alerts, i.started_at, i.resolved_at, i.created_at, a.acked_at
         FROM incidents i LEFT JOIN incident_acks a ON a.incident_id = i.id
        WHERE i.updated_at >= ? OR i.status = 'firing' OR a.acked_at >= ?`,
    w.from.getTime(),
    w.from.getTime(),
  );
  const stats: IncidentStats = {
    alertsFired: 0,
    alertsResolved: 0,
    alertsFiring: 0,
    incidentsOpened: 0,
    incidentsOpen: 0,
    noisiest: [],
    timeToAck: { count: 0 },
    timeToResolve: { count: 0 },
    open: await openIncidents(db),
  };
  const byRule = new Map<string, number>();
  const ackTimes: number[] = [];
  const resolveTimes: number[] = [];
  for (const row of rows) {
    const alerts = Object.values(JSON.parse(row.alerts) as Record<string, IncidentAlertState>);
    if (inWindow(row.created_at, w)) stats.incidentsOpened++;
    if (row.status === 'firing') stats.incidentsOpen++;
    for (const a of alerts) {
      if (inWindow(Date.parse(a.startsAt), w)) {
        stats.alertsFired++;
        byRule.set(alertname(a), (byRule.get(alertname(a)) ?? 0) + 1);
      }
      if (a.status === 'resolved' && a.endsAt && inWindow(Date.parse(a.endsAt), w)) stats.alertsResolved++;
      if (row.status === 'firing' && a.status === 'firing') stats.alertsFiring++;
    }
    if (row.acked_at !== null && inWindow(row.acked_at, w)) ackTimes.push(row.acked_at - row.started_at);
    if (row.resolved_at !== null && inWindow(row.resolved_at, w)) resolveTimes.push(row.resolved_at - row.started_at);
  }
  stats.noisiest = [...byRule]
    .map(([name, count]) => ({ alertname: name, count }))
    .sort((a, b) => b.count - a.count || a.alertname.localeCompare(b.alertname))
    .slice(0, limit);
  stats.timeToAck = mean(ackTimes);
  stats.timeToResolve = mean(resolveTimes);
  return stats;
}

/** The incidents firing now, newest first: their firing alerts' labels, route and who acknowledged them. */
export async function openIncidents(db: Database): Promise<OpenIncident[]> {
  const rows = await db.all<{
    id: number;
    alerts: string;
    route: string | null;
    started_at: number;
    username: string | null;
  }>(`SELECT i.id, i.alerts, i.route, i.started_at, a.username
         FROM incidents i LEFT JOIN incident_acks a ON a.incident_id = i.id
        WHERE i.status = 'firing' ORDER BY i.id DESC`);
  return rows.map((r) => ({
    id: r.id,
    firing: Object.values(JSON.parse(r.alerts) as Record<string, IncidentAlertState>)
      .filter((a) => a.status === 'firing')
      .map((a) => a.labels ?? {}),
    ...(r.route !== null ? { route: r.route } : {}),
    ...(r.username !== null ? { ackedBy: r.username } : {}),
    startedAt: new Date(r.started_at),
  }));
}

/** Webhook intake and Discord delivery figures for `w`. */
export async function deliveryStats(db: Database, w: Window): Promise<DeliveryStats> {
  const [from, to] = [w.from.getTime(), w.to.getTime()];
  const received = (await db.get<{
    n: number;
  }>(`SELECT count(*) AS n FROM notifications WHERE received_at >= ? AND received_at <= ?`, from, to))!;
  const byStatus = await db.all<{
    status: 'pending' | 'sent' | 'failed';
    n: number;
  }>(`SELECT status, count(*) AS n FROM outbox WHERE created_at >= ? AND created_at <= ? GROUP BY status`, from, to);
  const n = (status: string) => byStatus.find((r) => r.status === status)?.n ?? 0;
  return { webhooksReceived: received.n, sent: n('sent'), failed: n('failed'), pending: n('pending') };
}
