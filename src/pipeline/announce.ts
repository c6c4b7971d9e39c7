import { localeFor, threadsFor } from '../config/routes.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { severityOf } from '../render/alerts.js';
import { renderFiringNotes } from '../render/replies.js';
import { warnTo } from '../render/truncate.js';
import type { Database } from '../store/db.js';
import { getIncident, incidentsToAnnounce, markAnnounced } from '../store/incidents.js';
import { enqueue, get, incidentKey, PRIORITY } from '../store/outbox.js';
import { inStorm, STORM_PACE_MS } from './storm.js';

/**
 * Notes about one incident go out at most once per this long: a group that grows every
 * group_interval gets one "now firing" note for the alerts of a few seconds, not one per update.
 */
export const NOTE_INTERVAL_MS = 5000;

/** What flushAnnouncements needs. */
export interface AnnounceDeps {
  db: Database;
  config: Pick<Config, 'discord' | 'routes' | 'delivery' | 'locale'>;
  logger: Logger;
  now: Date;
}

/**
 * Tells the channel about alerts that started firing while a note about their incident had just
 * gone out: once NOTE_INTERVAL_MS has passed, one note (or a list naming each) for all of them.
 * Alerts resolved meanwhile, or an incident resolved, need no note. Returns the items enqueued.
 */
export async function flushAnnouncements({ db, config, logger, now }: AnnounceDeps): Promise<number> {
  const warn = warnTo(logger);
  let enqueued = 0;
  for (const seen of await incidentsToAnnounce(db, new Date(now.getTime() - NOTE_INTERVAL_MS))) {
    const create = seen.createOutboxId === undefined ? undefined : await get(db, seen.createOutboxId);
    // In a storm, notes about one incident wait longer (STORM_PACE_MS), unless a critical alert is among them.
    const told = seen.announcedAt?.getTime();
    const critical = (seen.unannounced ?? []).some((fp) => seen.alerts[fp]?.status === 'firing' && severityOf(seen.alerts[fp]?.labels ?? {}) === 'critical');
    if (create && told !== undefined && !critical && now.getTime() - told < STORM_PACE_MS && (await inStorm(db, create.channelId, config))) continue;
    await db.transaction(async () => {
      // Read again inside (locked on PostgreSQL): alerts deferred since are told now, not wiped unsaid by markAnnounced.
      const incident = await getIncident(db, seen.id, { lock: true });
      if (!incident) return;
      const firing = (incident.unannounced ?? []).map((fp) => incident.alerts[fp]).filter((a) => a?.status === 'firing');
      if (incident.status === 'firing' && firing.length > 0 && create) {
        const alerts = firing.map((a) => ({ labels: a!.labels ?? {}, status: 'firing' as const, startsAt: new Date(a!.startsAt) }));
        const kind = threadsFor(config, incident.route) ? 'thread-post' : 'reply';
        for (const body of renderFiringNotes(alerts, warn, localeFor(config, incident.route))) {
          await enqueue(
            db,
            {
              orderKey: incidentKey(incident.id),
              kind,
              channelId: create.channelId,
              body,
              targetId: create.id,
              priority: kind === 'thread-post' ? PRIORITY.details : PRIORITY.update,
            },
            now.getTime(),
          );
          enqueued++;
        }
      }
      await markAnnounced(db, incident.id, now);
    });
  }
  return enqueued;
}
