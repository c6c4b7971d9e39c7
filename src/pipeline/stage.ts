import type { RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import type { Config } from '../config/schema.js';
import type { EnrichedNotification } from '../findings.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Notification, Clock } from '../model.js';
import type { RuleLookup } from '../queries/grafana.js';
import type { LokiClient } from '../queries/loki.js';
import type { PrometheusClient } from '../queries/prometheus.js';
import type { AlertMessageParts } from '../render/alert-message.js';
import type { ChartOutcome, ChartRenderer } from '../render/chart.js';
import type { Database } from '../store/db.js';
import type { Incident } from '../store/incidents.js';
import type { StoredNotification } from '../store/notifications.js';
import type { OutboxKind } from '../store/outbox.js';
import type { Decision } from './dedup.js';

// The pipeline's vocabulary: what every stage gets (deps), carries (context) and is (Stage).

/** What the stages need from the outside world. */
export interface PipelineDeps {
  db: Database;
  prometheus: PrometheusClient;
  loki: LokiClient;
  config: Pick<Config, 'enrichment' | 'discord' | 'routes' | 'timezone' | 'locale' | 'grafana' | 'charts' | 'prometheus' | 'alertmanager' | 'delivery'>;
  /** Stages get a child carrying `notificationId` (and `incidentId` once known) on every line. */
  logger: Logger;
  now: Clock;
  /** Times enrichment queries when given. */
  metrics?: Pick<Metrics, 'enrichmentQueryDuration'>;
  /** Draws alert charts: the bot's own chart workers, or a slow renderer in tests; renderChart's shared workers when absent. */
  chartRenderer?: ChartRenderer;
  /** Starts loading the chart renderer (the bot's chart thread) when an alert may be charted, while its queries run. */
  warmCharts?: () => void;
  /** Reads Grafana alert rules (grafana.url with credentials); Grafana alerts go without their rule when absent. */
  rules?: RuleLookup;
}

/**
 * One delivery the outbox stage will enqueue: the alert message itself (its parts, put together by
 * render/alert-message once the incident's id is known), or any other body (replies, thread notes,
 * thread starts and archives).
 */
export type PlannedDelivery = (
  | { kind: 'create' | 'edit'; alert: AlertMessageParts }
  | { kind: OutboxKind; body: RESTPostAPIChannelMessageJSONBody | Record<string, unknown>; alert?: undefined }
) & {
  /** Not sent before this (epoch ms): an edit paced while its channel is in a storm. */
  dueAt?: number;
};

/** What every stage starts from: the stored notification and the moment it is processed. */
export interface Received {
  stored: StoredNotification;
  notification: Notification;
  now: Date;
}

/** A decision that changes something: open, update or resolve (a skip stops the pipeline). */
export type ActiveDecision = Exclude<Decision, { action: 'skip' }>;

/** After dedup: the group's latest incident and what to do with this notification. */
export interface Decided extends Received {
  latest: Incident | undefined;
  decision: ActiveDecision;
  /** The incident an update or resolve changes (a new one gets its id in the outbox stage). */
  incidentId: number | undefined;
}

/** After enrich: the findings around the incident and the alert chart (absent when charts are off or not applicable). */
export interface Enriched extends Decided {
  enriched: EnrichedNotification;
  chart: ChartOutcome | undefined;
}

/** After render: the deliveries the outbox stage will enqueue. */
export interface Rendered extends Enriched {
  deliveries: PlannedDelivery[];
  /** Whether the deliveries tell the channel about the incident's alerts (its message, a note): notes wait a while after. */
  announced: boolean;
  /** Newly firing alerts whose note waits, to be told together with the next ones (flushAnnouncements). */
  deferredFiring: string[];
}

/** After outbox: the incident recorded and its deliveries enqueued, in one transaction. */
export interface Recorded extends Rendered {
  incidentId: number;
}

/** What a stage returns to end the pipeline early: the notification is recorded as done with this decision. */
export interface Stopped {
  stopped: true;
  decision: Decision;
  /** The incident the stopped notification belongs to, when there is one (a skipped resend repeats it). */
  incidentId: number | undefined;
  /** The stage recorded the notification's end itself, in the transaction that did its work (a storm's). */
  recorded?: boolean;
  /** The storm the notification's incident joined or belongs to. */
  stormId?: number;
}

/** A stage does one job: it takes what the stage before it produced and returns what the next one needs, or stops. */
export interface Stage<In, Out> {
  name: string;
  run(input: In, deps: PipelineDeps): Out | Stopped | Promise<Out | Stopped>;
}

/**
 * True when each stage of the list takes what the one before it returns, from `Received` on; the
 * STAGES list is checked with it at compile time, so a stage out of order does not build.
 */
export type Chained<S extends readonly unknown[], In = Received> = S extends readonly [Stage<infer A, infer B>, ...infer Rest]
  ? [In] extends [A]
    ? Chained<Rest, B>
    : false
  : true;

/** Where a notification's messages go: Vigil's own alerts may have a channel of their own (watchdog.channelId). */
export function channelOf(n: Notification, config: Pick<Config, 'discord'>): string {
  return n.channelId ?? config.discord.alertChannelId;
}

/** Which group a notification belongs to: its incidents are found by this (one per route when split). */
export function groupOf(n: Notification): { source: Notification['source']; receiver: string; groupKey: string; route?: string } {
  return { source: n.source, receiver: n.receiver, groupKey: n.groupKey, ...(n.route !== undefined ? { route: n.route } : {}) };
}

/** The earliest startsAt of the notification's alerts; `now` when it has none. */
export function earliestStart(n: Notification, now: Date): Date {
  let min = Infinity;
  for (const a of n.alerts) min = Math.min(min, a.startsAt.getTime());
  return new Date(Number.isFinite(min) ? min : now.getTime());
}
