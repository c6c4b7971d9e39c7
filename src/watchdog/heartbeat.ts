import type { Database } from '../store/db.js';
import type { Alert, Notification } from '../model.js';
import { recordHeartbeat } from '../store/heartbeats.js';
import type { Intercepted } from '../webhooks/routes.js';

/** A notification split into its heartbeat alerts and the rest (undefined when nothing else is left). */
export interface HeartbeatSplit {
  heartbeats: Alert[];
  rest?: Notification;
}

/** Takes the alerts named `alertname` out of a notification; the rest keeps the group, status recomputed. */
export function splitHeartbeats(n: Notification, alertname: string): HeartbeatSplit {
  const heartbeats = n.alerts.filter((a) => a.labels.alertname === alertname);
  if (heartbeats.length === 0) return { heartbeats, rest: n };
  const alerts = n.alerts.filter((a) => a.labels.alertname !== alertname);
  if (alerts.length === 0) return { heartbeats };
  return { heartbeats, rest: { ...n, alerts, status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved' } };
}

/** Why heartbeat alerts never reach the pipeline: one would be posted on every resend. */
export const HEARTBEAT_REASON = 'heartbeat';

/**
 * The intake hook of the dead man's switch: records a firing `alertname` alert as a heartbeat and
 * drops every alert of that name (firing or resolved) before storage, so none is posted to Discord.
 */
export function heartbeatInterceptor(db: Database, alertname: string): (n: Notification, receivedAt: Date) => Promise<Intercepted> {
  return async (n, receivedAt) => {
    const split = splitHeartbeats(n, alertname);
    if (split.heartbeats.length === 0) return { keep: n, dropped: 0 };
    if (split.heartbeats.some((a) => a.status === 'firing')) await recordHeartbeat(db, alertname, n.source, receivedAt);
    return { ...(split.rest ? { keep: split.rest } : {}), dropped: split.heartbeats.length, reason: HEARTBEAT_REASON };
  };
}
