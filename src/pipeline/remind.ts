import { localeFor, routeNamed } from '../config/routes.js';
import { pageOf, withPage } from '../render/mentions.js';
import { renderReminder } from '../render/replies.js';
import { warnTo } from '../render/truncate.js';
import { getAck } from '../store/acks.js';
import type { Incident } from '../store/incidents.js';
import { finishNotification } from '../store/notifications.js';
import { enqueueThreadPost } from '../store/outbox.js';
import type { Decision } from './dedup.js';
import type { PipelineDeps, Received, Stopped } from './stage.js';

/**
 * A reminder (the sender repeating an unchanged notification) of a still-firing incident becomes
 * one "still firing" line in its thread (a reply without threads), recorded with the
 * notification's end; it pings the route's people again only with `mentions.onRepeat`, for the
 * route's severities, and not once someone acknowledged it. Undefined when there is nothing to
 * remind of (not a reminder, or the incident is over or has no message of its own).
 */
export async function recordReminder(input: Received, latest: Incident | undefined, decision: Decision, deps: PipelineDeps): Promise<Stopped | undefined> {
  const n = input.notification;
  if (decision.reason !== 'reminder' || latest?.status !== 'firing' || latest.createOutboxId === undefined) return undefined;
  const createId = latest.createOutboxId;
  const { db, config, logger } = deps;
  const mentions = routeNamed(config.routes, n.route)?.mentions;
  const page = mentions?.onRepeat && !(await getAck(db, latest.id)) ? pageOf(routeNamed(config.routes, n.route), n.alerts) : undefined;
  const line = renderReminder({ notification: n, startedAt: latest.startedAt, now: input.now, locale: localeFor(config, n.route) }, warnTo(logger));
  const body = page ? withPage(line, page) : line;
  await db.transaction(async () => {
    await enqueueThreadPost(db, latest.id, createId, body, input.now.getTime());
    await finishNotification(db, input.stored.id, { status: 'done', decision: decision.reason }, input.now);
  });
  return { stopped: true, decision, incidentId: latest.id, recorded: true };
}
