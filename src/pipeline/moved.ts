import { routesTo } from '../config/routes.js';
import type { Config } from '../config/schema.js';
import type { Notification } from '../model.js';
import type { Database } from '../store/db.js';
import { firingIncidentsOfGroup, type Incident } from '../store/incidents.js';

/**
 * The open incident a notification's alerts belong to when the routes changed since it was
 * opened (routes added to a running install, a route renamed or its matchers changed): the
 * group's firing incident on another route that holds some of these alerts, whose route no
 * longer takes them. Such an incident stays where it was posted until it resolves; without this,
 * its alerts would open a second incident on their new route and the first would never resolve.
 */
export function incidentLeftBehind(db: Database, n: Notification, config: Pick<Config, 'routes'>): Incident | undefined {
  const fingerprints = new Set(n.alerts.map((a) => a.fingerprint));
  return firingIncidentsOfGroup(db, n).find(
    (i) =>
      i.route !== n.route &&
      Object.keys(i.alerts).some((fp) => fingerprints.has(fp)) &&
      !n.alerts.some((a) => fingerprints.has(a.fingerprint) && i.alerts[a.fingerprint] && routesTo(config.routes, a.labels, i.route)),
  );
}
