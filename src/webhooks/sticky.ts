// Incidents stay where they were posted: when the routes change while one is open, its alerts keep
// going to it (its route, its channel) until it resolves, instead of opening it again elsewhere
// and leaving it firing for ever.
import { routeNamed, routesTo, type RouteConfig } from '../config/routes.js';
import type { Notification } from '../model.js';
import type { Database } from '../store/db.js';
import { firingIncidentsOfGroup } from '../store/incidents.js';
import { get } from '../store/outbox.js';
import type { Destination } from './route.js';

/**
 * The alerts of `n` held by an open incident of their group whose route no longer takes them,
 * by fingerprint, with where that incident is: its route and its channel (the route's, or the
 * channel its message went to when the route is gone).
 */
export async function stuckAlerts(db: Database, n: Notification, routes: readonly RouteConfig[]): Promise<Map<string, Destination>> {
  const stuck = new Map<string, Destination>();
  const open = await firingIncidentsOfGroup(db, n);
  if (open.length === 0) return stuck;
  for (const incident of open) {
    for (const alert of n.alerts) {
      if (stuck.has(alert.fingerprint) || !incident.alerts[alert.fingerprint] || routesTo(routes, alert.labels, incident.route)) continue;
      if (incident.route === undefined) {
        stuck.set(alert.fingerprint, {});
        continue;
      }
      const channelId =
        routeNamed(routes, incident.route)?.channelId ??
        (incident.createOutboxId !== undefined ? (await get(db, incident.createOutboxId))?.channelId : undefined);
      stuck.set(alert.fingerprint, { route: incident.route, ...(channelId !== undefined ? { channelId } : {}) });
    }
  }
  return stuck;
}
