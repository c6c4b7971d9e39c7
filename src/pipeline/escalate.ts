import { localeFor, routeNamed } from '../config/routes.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { renderEscalation } from '../render/mentions.js';
import { getAck } from '../store/acks.js';
import type { Database } from '../store/db.js';
import { dueEscalations, endEscalation, scheduleEscalation, stepEscalation } from '../store/escalations.js';
import { getIncident } from '../store/incidents.js';
import { enqueueThreadPost, PRIORITY } from '../store/outbox.js';

/** Thrown inside a step's transaction only to roll its ping back. */
const STEP_TAKEN = new Error('escalation step taken by another replica');

/** What flushEscalations needs. */
export interface EscalateDeps {
  db: Database;
  config: Pick<Config, 'routes' | 'locale'>;
  logger: Logger;
  now: Date;
}

/** Schedules the escalation of a new firing incident when its route has one (in the caller's transaction). */
export async function scheduleIncidentEscalation(
  db: Database,
  config: Pick<Config, 'routes'>,
  incidentId: number,
  route: string | undefined,
  now: Date,
): Promise<void> {
  const escalation = routeNamed(config.routes, route)?.escalation;
  if (escalation && route !== undefined) await scheduleEscalation(db, incidentId, route, new Date(now.getTime() + escalation.after));
}

/**
 * Sends the escalation pings that are due: a reply in the incident's thread (in the channel
 * without one) pinging the route's escalation roles and users, for an incident still firing and
 * unacknowledged; then the next one `after` later, up to `repeat`. An incident acknowledged or
 * resolved meanwhile ends its escalation instead. Each step and its ping commit together.
 * Returns the pings enqueued.
 */
export async function flushEscalations({ db, config, logger, now }: EscalateDeps): Promise<number> {
  let sent = 0;
  for (const due of await dueEscalations(db, now)) {
    await db
      .transaction(async () => {
        const incident = await getIncident(db, due.incidentId);
        const escalation = routeNamed(config.routes, due.route)?.escalation;
        if (!incident || !escalation) return await endEscalation(db, due.incidentId, 'unrouted');
        if (incident.status !== 'firing') return await endEscalation(db, due.incidentId, 'resolved');
        if (await getAck(db, incident.id)) return await endEscalation(db, due.incidentId, 'acknowledged');
        // Folded into a storm, it has no message of its own to reply to: the storm message speaks for it.
        if (incident.createOutboxId === undefined) return await endEscalation(db, due.incidentId, 'unrouted');
        const step = due.step + 1;
        const body = renderEscalation({
          step,
          of: escalation.repeat,
          firingMs: now.getTime() - incident.startedAt.getTime(),
          page: { roles: escalation.roles, users: escalation.users },
          locale: localeFor(config, due.route),
        });
        await enqueueThreadPost(db, incident.id, incident.createOutboxId, body, now.getTime(), PRIORITY.criticalFiring);
        // Sent meanwhile by another replica (a leader paused past its lease): this ping rolls back.
        if (!(await stepEscalation(db, incident.id, step, step < escalation.repeat ? new Date(now.getTime() + escalation.after) : undefined))) {
          throw STEP_TAKEN;
        }
        logger.info({ incidentId: incident.id, route: due.route, step, of: escalation.repeat }, 'incident escalated');
        sent++;
      })
      .catch((err: unknown) => {
        if (err !== STEP_TAKEN) throw err;
        logger.warn({ incidentId: due.incidentId, step: due.step + 1 }, 'escalation step already sent by another replica; not sent again');
      });
  }
  return sent;
}
