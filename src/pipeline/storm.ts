import { localeInChannel, threadsInChannel } from '../config/routes.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { renderStormDetails, renderStormMessage, renderStormSummary, renderStormThreadName, type StormView } from '../render/storm.js';
import type { StormLogVolume, StormMetric } from '../render/storm-context.js';
import { warnTo } from '../render/truncate.js';
import type { Database } from '../store/db.js';
import { createIncident, updateIncident } from '../store/incidents.js';
import { finishNotification } from '../store/notifications.js';
import { enqueue, PRIORITY } from '../store/outbox.js';
import {
  activeStorm,
  getStorm,
  leaveStorm,
  markDetailed,
  queuedNewGroups,
  recentIncidentMessages,
  recordStormAlerts,
  startStorm,
  stormAlerts,
  stormContextMetrics,
  stormLogs,
  stormOfIncident,
  stormsToFlush,
  undetailed,
  updateStorm,
  type Storm,
  type StormAlert,
} from '../store/storms.js';
import { isCritical } from './priority.js';
import { channelOf, earliestStart, groupOf, type Decided, type Stage, type Stopped } from './stage.js';

/** The config a storm needs: its messages are in the channel's language (localeInChannel), its clock times in `timezone`. */
type StormConfig = Pick<Config, 'delivery' | 'discord' | 'routes' | 'grafana' | 'prometheus' | 'alertmanager' | 'enrichment' | 'locale' | 'timezone'>;

/** The storm message changes at most once per this long (Discord's edit bucket: 5 edits per 5 s per channel, shared with every other message). */
export const STORM_EDIT_INTERVAL_MS = 5000;

/**
 * While its channel is in a storm, an incident with a message of its own has that message edited,
 * and notes about its new alerts posted, at most once per this long (a new critical alert at once):
 * the storm's own message and the critical alerts keep the channel's budget.
 */
export const STORM_PACE_MS = 15_000;

/** Whether the channel is in a storm now (storm mode on): other incidents' updates there are paced by STORM_PACE_MS. */
export async function inStorm(db: Database, channelId: string, config: Pick<Config, 'delivery'>): Promise<boolean> {
  return config.delivery.storm.enabled && (await activeStorm(db, channelId)) !== undefined;
}

/**
 * Alerts from which a details message may be full: about 35 when every alert has a long name of
 * its own and a long instance, hundreds when they share names (STORM_DETAILS_PER_MESSAGE at most).
 */
const FULL_DETAILS_AT_LEAST = 35;

/** How long details of a storm wait for more alerts before a message names fewer than a full batch. */
export const DETAILS_HOLD_MS = 5000;

/**
 * Storm mode: a new non-critical incident in a channel that already got more than its share of
 * new messages within the window, counting the new groups queued behind it (a burst that arrived
 * at once), joins the channel's storm instead of getting a message of its own; so do the updates
 * and resolves of incidents that joined one. Recorded here, in one
 * transaction with the notification's end; the storm's messages are enqueued by flushStorms.
 */
export const stormStage: Stage<Decided, Decided> = {
  name: 'storm',
  async run(input, { db, config, logger }) {
    const storm = config.delivery.storm;
    const { decision, notification: n, now } = input;
    const channelId = channelOf(n, config);
    let stormId: number | undefined;
    if (decision.action === 'open') {
      if (!storm.enabled || decision.resolvedAt !== undefined || isCritical(n)) return input;
      // Whether it joins is decided in the transaction below: a flush cannot end the storm between the look and the join.
    } else {
      // A storm's incident stays with it (storm mode turned off since included), unless it leaves below.
      stormId = await stormOfIncident(db, decision.incidentId);
      if (stormId === undefined) return input;
      if (await leavesStorm(db, stormId, input, storm.enabled)) {
        // Its own message from now on: the render stage posts one, as the incident has none yet.
        await db.transaction(async () => await leaveStorm(db, stormId!, decision.incidentId));
        logger.info({ stormId, incidentId: decision.incidentId }, 'incident leaves the storm for a message of its own');
        return input;
      }
    }
    const result = await db.transaction(async (): Promise<Stopped | undefined> => {
      let id = stormId;
      if (id === undefined) {
        const active = await activeStorm(db, channelId);
        if (active) id = active.id;
        else {
          const recent = await recentIncidentMessages(db, channelId, now.getTime() - storm.window);
          const queued = await queuedNewGroups(db, {
            afterId: input.stored.id,
            receivedBy: input.stored.receivedAt.getTime() + storm.window,
            channelId,
            defaultChannelId: config.discord.alertChannelId,
            exceptGroup: groupOf(n),
            limit: storm.threshold - recent,
          });
          if (recent + queued < storm.threshold) return undefined;
          id = (await startStorm(db, channelId, now)).id;
          logger.warn({ channelId, stormId: id }, 'storm mode: more new incidents than the channel can post; new ones join one storm message');
        }
      }
      const alerts = n.alerts.map((a) => ({
        fingerprint: a.fingerprint,
        labels: a.labels,
        status: a.status,
        startsAt: a.startsAt,
        ...(a.expr ? { expr: a.expr } : {}),
      }));
      let incidentId: number;
      if (decision.action === 'open') {
        incidentId = await createIncident(db, { ...groupOf(n), status: 'firing', alerts: decision.alerts, startedAt: earliestStart(n, now) }, now);
      } else {
        incidentId = decision.incidentId;
        await updateIncident(
          db,
          incidentId,
          {
            status: decision.action === 'resolve' ? 'resolved' : 'firing',
            alerts: decision.alerts,
            ...(decision.action === 'resolve' ? { resolvedAt: decision.resolvedAt } : {}),
          },
          now,
        );
      }
      await recordStormAlerts(db, id, incidentId, alerts, now, decision.action === 'open');
      await finishNotification(db, input.stored.id, { status: 'done', decision: decision.reason }, now);
      return { stopped: true, recorded: true, decision, incidentId, stormId: id };
    });
    return result ?? input;
  },
};

/**
 * Whether a storm's incident gets a message of its own now: a critical alert started firing in it
 * (critical alerts are never folded), or alerts started firing after its storm ended or with storm
 * mode off (the storm message is no longer where people look). Resolves and other changes stay
 * with the storm message.
 */
async function leavesStorm(db: Database, stormId: number, input: Decided, enabled: boolean): Promise<boolean> {
  const { decision, notification: n } = input;
  if (decision.action !== 'update' || decision.newlyFiring.length === 0) return false;
  const newly = n.alerts.filter((a) => decision.newlyFiring.includes(a.fingerprint));
  if (isCritical({ ...n, alerts: newly })) return true;
  return !enabled || (await getStorm(db, stormId))?.endedAt !== undefined;
}

/** What flushStorms needs. */
export interface StormFlushDeps {
  db: Database;
  config: StormConfig;
  logger: Logger;
  now: Date;
}

/**
 * Puts each storm's state into the outbox: its message (created, or edited when alerts joined or
 * changed: the drainer folds pending edits into the newest, so at most one goes per refill), the
 * alerts not named yet as details messages in its thread (many per message, held up to
 * DETAILS_HOLD_MS for a fuller one), and once no new incident came for `quiet`, the end: the
 * final message and a closing summary. Each storm in one transaction. Returns the items enqueued.
 */
export async function flushStorms({ db, config, logger, now }: StormFlushDeps): Promise<number> {
  let enqueued = 0;
  for (const storm of await stormsToFlush(db)) {
    // Read again inside (locked on PostgreSQL): an incident that joined since is in what it shows.
    enqueued += await db.transaction(async () => {
      const fresh = await getStorm(db, storm.id);
      return fresh ? flushOne(db, fresh, config, logger, now) : 0;
    });
  }
  return enqueued;
}

/** Whether a flush would enqueue anything for the storm: asked on every tick, so it reads no alert and writes nothing. */
async function hasWork(db: Database, storm: Storm, config: StormConfig, now: Date): Promise<boolean> {
  const t = now.getTime();
  if (storm.createOutboxId === undefined) return true;
  if (storm.endedAt === undefined && t - storm.lastJoinedAt.getTime() >= config.delivery.storm.quiet) return true;
  if (storm.dirty && t - (storm.messageChangedAt?.getTime() ?? 0) >= STORM_EDIT_INTERVAL_MS) return true;
  const waiting = await undetailed(db, storm.id);
  if (waiting.count === 0) return false;
  // From FULL_DETAILS_AT_LEAST on, flushOne renders the waiting alerts to see whether they fill a message.
  return storm.endedAt !== undefined || waiting.count >= FULL_DETAILS_AT_LEAST || t - waiting.oldestJoinedAt >= DETAILS_HOLD_MS;
}

async function flushOne(db: Database, storm: Storm, config: StormConfig, logger: Logger, now: Date): Promise<number> {
  if (!(await hasWork(db, storm, config, now))) return 0;
  const warn = warnTo(logger);
  const ending = storm.endedAt === undefined && now.getTime() - storm.lastJoinedAt.getTime() >= config.delivery.storm.quiet;
  const endedAt = storm.endedAt ?? (ending ? now : undefined);
  const alerts = await stormAlerts(db, storm.id);
  const view = {
    ...stormView(storm, alerts, config, now, endedAt),
    metrics: await stormContextMetrics<StormMetric>(db, storm.id),
    logs: await stormLogs<StormLogVolume>(db, storm.id),
    metricsWindowMs: config.enrichment.lookback,
  };
  const orderKey = `storm:${storm.id}`;
  const t = now.getTime();
  let enqueued = 0;
  let createId = storm.createOutboxId;
  let shown = true;
  let messageChanged = false;
  if (createId === undefined) {
    messageChanged = true;
    createId = await enqueue(db, { orderKey, kind: 'create', channelId: storm.channelId, body: renderStormMessage(view, warn), priority: PRIORITY.firing }, t);
    enqueued++;
    if (threadsInChannel(config, storm.channelId)) {
      const name = renderStormThreadName(storm.startedAt, config.timezone, view.locale);
      await enqueue(
        db,
        { orderKey, kind: 'thread', channelId: storm.channelId, body: { name, auto_archive_duration: 1440 }, targetId: createId, priority: PRIORITY.details },
        t,
      );
      enqueued++;
    }
  } else if (ending || (storm.dirty && t - (storm.messageChangedAt?.getTime() ?? 0) >= STORM_EDIT_INTERVAL_MS)) {
    await enqueue(
      db,
      { orderKey, kind: 'edit', channelId: storm.channelId, body: renderStormMessage(view, warn), targetId: createId, priority: PRIORITY.update },
      t,
    );
    enqueued++;
    messageChanged = true;
  } else if (storm.dirty) {
    // Changed, but its message changed less than a bucket window ago: the next flush shows it.
    shown = false;
  }
  // Details: every alert named once, many per message; a part batch waits a little for company.
  let pending = alerts.filter((a) => a.detailsOutboxId === undefined);
  const oldest = pending[0]?.joinedAt.getTime();
  const flushAll = endedAt !== undefined || (oldest !== undefined && t - oldest >= DETAILS_HOLD_MS);
  let number = alerts.length - pending.length + 1;
  const kind = threadsInChannel(config, storm.channelId) ? 'thread-post' : 'reply';
  while (pending.length > 0) {
    const { body, named } = renderStormDetails(pending, number, warn, view.locale);
    if (named < pending.length || flushAll) {
      const id = await enqueue(db, { orderKey, kind, channelId: storm.channelId, body, targetId: createId, priority: PRIORITY.details }, t);
      await markDetailed(db, storm.id, pending.slice(0, named), id);
      enqueued++;
      pending = pending.slice(named);
      number += named;
    } else break;
  }
  if (ending) {
    await enqueue(
      db,
      {
        orderKey,
        kind: 'reply',
        channelId: storm.channelId,
        body: renderStormSummary({ ...view, endedAt: now }, warn),
        targetId: createId,
        priority: PRIORITY.resolve,
      },
      t,
    );
    enqueued++;
    logger.info({ channelId: storm.channelId, stormId: storm.id, alerts: alerts.length }, 'storm over: new incidents get their own message again');
  }
  await updateStorm(db, storm.id, {
    createOutboxId: createId,
    dirty: !shown,
    ...(ending ? { endedAt: now } : {}),
    ...(messageChanged ? { messageChangedAt: now } : {}),
  });
  return enqueued;
}

function stormView(storm: Storm, alerts: readonly StormAlert[], config: StormConfig, now: Date, endedAt: Date | undefined): StormView {
  const am = config.alertmanager ? (config.alertmanager.publicUrl ?? config.alertmanager.url) : undefined;
  const grafana = config.grafana ? (config.grafana.publicUrl ?? config.grafana.url) : undefined;
  return {
    startedAt: storm.startedAt,
    ...(endedAt ? { endedAt } : {}),
    alerts,
    ...(am ? { alertmanagerUrl: am } : {}),
    ...(grafana ? { grafanaUrl: grafana } : {}),
    threads: threadsInChannel(config, storm.channelId),
    now,
    locale: localeInChannel(config, storm.channelId),
    timeZone: config.timezone,
  };
}
