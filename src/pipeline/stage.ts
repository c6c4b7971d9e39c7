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
  config: Pick<Config, 'enrichment' | 'discord' | 'grafana' | 'charts' | 'prometheus' | 'alertmanager'>;
  /** Stages get a child carrying `notificationId` (and `incidentId` once known) on every line. */
  logger: Logger;
  now: Clock;
  /** Times enrichment queries when given. */
  metrics?: Pick<Metrics, 'enrichmentQueryDuration'>;
  /** Draws alert charts: the bot's own chart workers, or a slow renderer in tests; renderChart's shared workers when absent. */
  chartRenderer?: ChartRenderer;
  /** Reads Grafana alert rules (grafana.url with credentials); Grafana alerts go without their rule when absent. */
  rules?: RuleLookup;
}

/**
 * One delivery the outbox stage will enqueue: the alert message itself (its parts, put together by
 * render/alert-message once the incident's id is known), or any other body (replies, thread notes,
 * thread starts and archives).
 */
export type PlannedDelivery =
  | { kind: 'create' | 'edit'; alert: AlertMessageParts }
  | { kind: OutboxKind; body: RESTPostAPIChannelMessageJSONBody | Record<string, unknown>; alert?: undefined };

/** The state one notification carries through the stages. */
export interface PipelineContext {
  stored: StoredNotification;
  notification: Notification;
  now: Date;
  latest?: Incident;
  decision?: Decision;
  /** The incident this notification opens, updates or resolves (a new one is created in the outbox stage). */
  incidentId?: number;
  enriched?: EnrichedNotification;
  /** The alert chart, drawn while the enrich stage's other queries ran (absent when charts are off or not applicable). */
  chart?: ChartOutcome;
  deliveries: PlannedDelivery[];
}

/** A stage does one job; returning 'stop' ends the pipeline for this notification (recorded as done). */
export interface Stage {
  name: string;
  run(ctx: PipelineContext, deps: PipelineDeps): Promise<void | 'stop'> | void | 'stop';
}
