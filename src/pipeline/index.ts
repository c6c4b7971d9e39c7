import { localeFor, routeNamed, threadsFor } from '../config/routes.js';
import { translator } from '../i18n/index.js';
import { pageOf, withPage } from '../render/mentions.js';
import { renderAlertMessage } from '../render/alert.js';
import { alertMessage } from '../render/alert-message.js';
import { NOTE_LINE_MAX, renderFiringNotes, renderResolvedReply } from '../render/replies.js';
import { type AlertButtonState } from '../render/buttons.js';
import { datasourcesOf } from '../render/explore.js';
import { renderAlertRoster } from '../render/storm.js';
import { renderThreadDetails, renderThreadName } from '../render/thread.js';
import { getAck } from '../store/acks.js';
import { createIncident, deferAnnouncement, getIncident, latestIncident, markAnnounced, updateIncident } from '../store/incidents.js';
import { finishNotification, type StoredNotification } from '../store/notifications.js';
import { enqueue, get, incidentKey, pacedEditDue, releaseHeldEdits } from '../store/outbox.js';
import { chartNotification, chartSummary, earlyChartData, pipelineChartDeps } from './chart.js';
import {
  channelOf,
  earliestStart,
  groupOf,
  type Chained,
  type Decided,
  type Enriched,
  type PipelineDeps,
  type PlannedDelivery,
  type Received,
  type Recorded,
  type Rendered,
  type Stage,
  type Stopped,
} from './stage.js';

export type { PipelineDeps } from './stage.js';
import { decide, type Decision } from './dedup.js';
import { deliveryPriority, isCritical } from './priority.js';
import { NOTE_INTERVAL_MS } from './announce.js';
import { scheduleIncidentEscalation } from './escalate.js';
import { recordReminder } from './remind.js';
import { inStorm, STORM_PACE_MS, stormStage } from './storm.js';
import { enrichNotification } from './enrich.js';
import { linkRewrites, publicNotification } from '../render/links.js';
import { joinEmbeds, warnTo } from '../render/truncate.js';

/** Reads the group's latest incident and decides; an unchanged resend stops here. */
const dedupStage: Stage<Received, Decided> = {
  name: 'dedup',
  async run(input, deps) {
    const n = input.notification;
    const latest = await latestIncident(deps.db, groupOf(n));
    const decision = decide(latest, n, input.now);
    // A skipped resend belongs to the incident it repeats; a reminder of it becomes a line in its thread.
    if (decision.action === 'skip') return (await recordReminder(input, latest, decision, deps)) ?? { stopped: true, decision, incidentId: latest?.id };
    const incidentId = decision.action === 'open' ? undefined : decision.incidentId;
    return { ...input, latest, decision, incidentId };
  },
};

/**
 * Queries Prometheus and Loki around the incident, in parallel; failures become notes, never
 * errors. The alert chart starts as soon as its expression is back, alongside the other queries.
 */
const enrichStage: Stage<Decided, Enriched> = {
  name: 'enrich',
  async run(input, deps) {
    const early = deps.config.charts.enabled ? earlyChartData(input.notification, deps.rules !== undefined) : undefined;
    if (early?.mayChart) deps.warmCharts?.();
    const enrichment = enrichNotification(input.notification, {
      prometheus: deps.prometheus,
      loki: deps.loki,
      config: deps.config.enrichment,
      now: input.now,
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
      ...(deps.rules ? { rules: deps.rules } : {}),
      ...(early ? { onExpression: early.onExpression } : {}),
    });
    const chart = early ? chartNotification(early.ready(enrichment), pipelineChartDeps(deps), early) : undefined;
    const [enriched, outcome] = await Promise.all([enrichment, chart]);
    return { ...input, enriched, chart: outcome };
  },
};

/** Turns the decision and the findings into Discord message bodies; the alert message's parts (embed, chart, buttons) for render/alert-message. */
const renderStage: Stage<Enriched, Rendered> = {
  name: 'render',
  async run(input, deps) {
    const { db, logger, config } = deps;
    const { decision } = input;
    // Read again: while this notification was enriched, its incident's waiting notes may have gone out (flushAnnouncements).
    const latest = input.latest ? ((await getIncident(db, input.latest.id)) ?? input.latest) : undefined;
    const ctx = { ...input, latest };
    const deliveries: PlannedDelivery[] = [];
    const deferredFiring: string[] = [];
    // The alert message (new, or edited to resolved) or a note tells the channel about the incident's alerts now.
    let announced = decision.action !== 'update' || ctx.latest?.createOutboxId === undefined;
    const warn = warnTo(logger);
    const resolved = decision.action === 'resolve' || (decision.action === 'open' && decision.resolvedAt !== undefined);
    const resolvedAt = decision.action === 'resolve' || decision.action === 'open' ? decision.resolvedAt : undefined;
    const startedAt = ctx.latest?.status === 'firing' ? ctx.latest.startedAt : earliestStart(ctx.notification, ctx.now);
    // An edit re-renders the whole message: without the stored ack it would erase "Acknowledged by".
    const ack = decision.action === 'update' || decision.action === 'resolve' ? await getAck(db, decision.incidentId) : undefined;
    // Links shown in Discord point at the addresses people open (publicUrl), never the API ones.
    const enriched = { ...ctx.enriched, notification: publicNotification(ctx.enriched.notification, linkRewrites(config)) };
    const grafanaUrl = config.grafana ? { grafanaUrl: config.grafana.publicUrl ?? config.grafana.url } : {};
    // Everything said about the incident is in its route's language.
    const locale = localeFor(config, ctx.notification.route);
    const t = translator(locale);
    const body = renderAlertMessage(
      {
        enriched,
        state: resolved ? 'resolved' : 'firing',
        incidentStartedAt: startedAt,
        ...(resolvedAt ? { resolvedAt } : {}),
        ...grafanaUrl,
        datasources: datasourcesOf(config.grafana),
        ...(ack ? { acknowledged: { userId: ack.userId, at: ack.at } } : {}),
        timeZone: config.timezone,
        locale,
        now: ctx.now,
      },
      warn,
    );
    const buttons: AlertButtonState = resolved ? 'resolved' : ack ? 'acknowledged' : 'firing';
    // The alert message's parts; render/alert-message puts them together once the incident id is known.
    // An incident's first message of its own pages the route's people (when its severity says so): a new
    // incident's, or one leaving a storm (a critical alert started firing in it). Nothing else ever pings.
    const firstOwn = decision.action === 'open' || (decision.action === 'update' && ctx.latest?.createOutboxId === undefined);
    const page = firstOwn && !resolved ? pageOf(routeNamed(config.routes, ctx.notification.route), ctx.notification.alerts) : undefined;
    const alert = (kind: 'create' | 'edit'): PlannedDelivery => ({
      kind,
      alert: {
        body: kind === 'create' && page ? withPage(body, page) : body,
        kind,
        buttons,
        source: ctx.notification.source,
        locale,
        ...(ctx.chart ? { chart: ctx.chart } : {}),
      },
    });
    // With threads, notes about the incident go into its thread; the channel keeps one message per incident.
    const threads = threadsFor(config, ctx.notification.route);
    const note = threads ? 'thread-post' : 'reply';
    /** The incident's own message, new: with its thread, the details and, for a big group, every alert named. */
    const newMessage = () => {
      deliveries.push(alert('create'));
      // A big group: every alert named, many to a message, in the thread (or as replies).
      const firing = ctx.notification.alerts.filter((a) => a.status === 'firing');
      const roster =
        !resolved && ctx.notification.alerts.length > NOTE_LINE_MAX
          ? renderAlertRoster(firing, (from, to) => t('alert.roster.heading', { from, to, total: firing.length }), warn, locale)
          : [];
      if (threads && !resolved) {
        deliveries.push({ kind: 'thread', body: { name: renderThreadName(ctx.notification, locale), auto_archive_duration: 1440 } });
        const details = renderThreadDetails({ enriched, datasources: datasourcesOf(config.grafana), timeZone: config.timezone, locale, ...grafanaUrl }, warn);
        // The roster's first message rides along with the details when both fit one: a request less per big group.
        const joined = roster[0] ? joinEmbeds(details, roster[0]) : undefined;
        deliveries.push({ kind: 'thread-post', body: joined ?? details });
        if (joined) roster.shift();
      }
      for (const body of roster) deliveries.push({ kind: note, body });
    };
    // An incident that was part of a storm has no message of its own yet: it gets one instead of an edit.
    const hasMessage = ctx.latest?.createOutboxId !== undefined;
    switch (decision.action) {
      case 'open':
        newMessage();
        break;
      case 'update': {
        if (!hasMessage) {
          newMessage();
          break;
        }
        // In a storm, its message and notes change at most once per STORM_PACE_MS, unless a critical alert starts firing.
        const newly = ctx.notification.alerts.filter((a) => decision.newlyFiring.includes(a.fingerprint));
        const paced = (await inStorm(db, channelOf(ctx.notification, config), config)) && !isCritical({ ...ctx.notification, alerts: newly });
        const edit = alert('edit');
        deliveries.push(paced ? { ...edit, dueAt: await pacedEditDue(db, ctx.latest!.createOutboxId!, ctx.now.getTime(), STORM_PACE_MS) } : edit);
        if (decision.newlyFiring.length > 0) {
          // The channel heard about this incident moments ago: these alerts wait to be told together (flushAnnouncements).
          const lastTold = ctx.latest?.announcedAt?.getTime();
          if (lastTold !== undefined && ctx.now.getTime() - lastTold < (paced ? STORM_PACE_MS : NOTE_INTERVAL_MS)) {
            deferredFiring.push(...decision.newlyFiring);
          } else {
            // With those still waiting from the last few seconds: markAnnounced clears them.
            const told = new Set([...decision.newlyFiring, ...(ctx.latest?.unannounced ?? [])]);
            const alerts = ctx.notification.alerts.filter((a) => a.status === 'firing' && told.has(a.fingerprint));
            for (const body of renderFiringNotes(alerts, warn, locale)) deliveries.push({ kind: note, body });
            announced = true;
          }
        }
        break;
      }
      case 'resolve':
        deliveries.push(alert(hasMessage ? 'edit' : 'create'));
        deliveries.push({
          kind: note,
          body: renderResolvedReply({ notification: ctx.notification, startedAt, resolvedAt: decision.resolvedAt, locale }, warn),
        });
        if (threads) deliveries.push({ kind: 'thread-archive', body: { archived: true } });
        break;
    }
    return { ...ctx, deliveries, deferredFiring, announced };
  },
};

/** Records the incident change and the deliveries in one transaction, and closes the notification. */
const outboxStage: Stage<Rendered, Recorded> = {
  name: 'outbox',
  async run(ctx, { db, config, logger }) {
    const { decision } = ctx;
    const warn = warnTo(logger);
    // Vigil's own alerts may go elsewhere (watchdog.channelId), routed ones to their route's channel, the rest to the alert channel.
    let channelId = channelOf(ctx.notification, config);
    return db.transaction(async (): Promise<Recorded> => {
      let incidentId: number;
      let createId: number | undefined;
      if (decision.action === 'open') {
        incidentId = await createIncident(
          db,
          {
            ...groupOf(ctx.notification),
            status: decision.resolvedAt ? 'resolved' : 'firing',
            alerts: decision.alerts,
            startedAt: earliestStart(ctx.notification, ctx.now),
            ...(decision.resolvedAt ? { resolvedAt: decision.resolvedAt } : {}),
          },
          ctx.now,
        );
      } else {
        incidentId = decision.incidentId;
        createId = (await getIncident(db, incidentId))?.createOutboxId;
        // An incident stays in the channel it was posted to, even when the routes have changed since.
        if (createId !== undefined) channelId = (await get(db, createId))?.channelId ?? channelId;
      }
      for (const d of ctx.deliveries) {
        // Only here is the incident id known (a new incident is created above): the alert message's buttons carry it.
        const message = d.alert ? alertMessage(d.alert, incidentId, warn) : { body: d.body };
        const id = await enqueue(
          db,
          {
            orderKey: incidentKey(incidentId),
            kind: d.kind,
            channelId,
            body: message.body,
            ...(d.kind !== 'create' && createId !== undefined ? { targetId: createId } : {}),
            ...('file' in message && message.file ? { file: message.file } : {}),
            priority: deliveryPriority(d.kind, decision, ctx.notification),
            ...(d.dueAt !== undefined ? { dueAt: d.dueAt } : {}),
          },
          ctx.now.getTime(),
        );
        if (d.kind === 'create') createId = id;
        // An edit that must not wait takes the place of the paced ones held for the message, at once.
        if (d.kind === 'edit' && d.dueAt === undefined && createId !== undefined) await releaseHeldEdits(db, createId, ctx.now.getTime());
      }
      await updateIncident(
        db,
        incidentId,
        {
          status: decision.action === 'update' ? 'firing' : decision.action === 'resolve' || decision.resolvedAt ? 'resolved' : 'firing',
          alerts: decision.alerts,
          ...(decision.action !== 'update' && decision.resolvedAt ? { resolvedAt: decision.resolvedAt } : {}),
          ...(createId !== undefined ? { createOutboxId: createId } : {}),
        },
        ctx.now,
      );
      if (decision.action === 'open' && !decision.resolvedAt) await scheduleIncidentEscalation(db, config, incidentId, ctx.notification.route, ctx.now);
      if (ctx.announced) await markAnnounced(db, incidentId, ctx.now);
      if (ctx.deferredFiring.length > 0) await deferAnnouncement(db, incidentId, ctx.deferredFiring);
      await finishNotification(db, ctx.stored.id, { status: 'done', decision: decision.reason }, ctx.now);
      return { ...ctx, incidentId };
    });
  },
};

/** The pipeline, in order: each stage takes what the one before it returns (checked below at compile time). */
export const STAGES = [dedupStage, stormStage, enrichStage, renderStage, outboxStage] as const;
const stagesChain: Chained<typeof STAGES> = true;
void stagesChain;

/** How processNotification fits among notifications processed at once (createPipelineWorker). */
export interface ProcessOptions {
  /** Settles when the notifications before this one are recorded: its deliveries are rendered and queued after theirs. */
  turn?: Promise<unknown>;
}

/** Runs one stored notification through every stage. */
export async function processNotification(stored: StoredNotification, deps: PipelineDeps, opts: ProcessOptions = {}): Promise<Decision> {
  const received: Received = { stored, notification: stored.notification, now: deps.now() };
  const base = deps.logger.child({ notificationId: stored.id });
  let logger = base;
  // Each stage takes what the one before returned: Chained<typeof STAGES> proves the order, so the loop may pass it on untyped.
  let value: Received | Decided | Enriched | Rendered | Recorded | Stopped = received;
  for (const stage of STAGES) {
    // Enrichment overlaps with the notifications before this one; what reaches the channel keeps their order.
    if (stage === renderStage && opts.turn) await opts.turn;
    const started = performance.now();
    value = await stage.run(value as never, { ...deps, logger });
    // From the moment the incident is known, every line carries its id too.
    if ('incidentId' in value && value.incidentId !== undefined && logger === base) logger = base.child({ incidentId: value.incidentId });
    logger.debug({ stage: stage.name, ms: Math.round((performance.now() - started) * 10) / 10, stopped: 'stopped' in value }, 'pipeline stage done');
    if ('stopped' in value) break;
  }
  if ('stopped' in value) {
    if (!value.recorded) await finishNotification(deps.db, stored.id, { status: 'done', decision: value.decision.reason }, received.now);
    logger.info(
      {
        source: stored.notification.source,
        alerts: stored.notification.alerts.length,
        decision: value.decision.reason,
        deliveries: [],
        ...(value.stormId !== undefined ? { stormId: value.stormId } : {}),
      },
      'notification processed',
    );
    return value.decision;
  }
  // Not stopped: the value is what the last stage returned.
  const done = value as Recorded;
  logger.info(
    {
      source: stored.notification.source,
      alerts: stored.notification.alerts.length,
      decision: done.decision.reason,
      deliveries: done.deliveries.map((d) => d.kind),
      partial: Object.values(done.enriched.enrichments).some((e) => e.failures.length > 0),
      ...(done.chart ? { chart: chartSummary(done.chart) } : {}),
    },
    'notification processed',
  );
  return done.decision;
}
