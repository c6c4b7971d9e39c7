/** The time now. Every room takes it as a dependency (`now`), so tests choose it. */
export type Clock = () => Date;

/** The languages Vigil speaks: its message catalogs (src/i18n/) and the config's `locale`. */
export const LOCALES = ['en', 'ko'] as const;
/** One of LOCALES. */
export type Locale = (typeof LOCALES)[number];

/** Where a notification came from; `vigil` for Vigil's own alerts (the watchdog). */
export type AlertSource = 'grafana' | 'alertmanager' | 'vigil';

/** Firing or resolved, as both Grafana and Alertmanager say it. */
export type AlertStatus = 'firing' | 'resolved';

/** One alert, normalised from either webhook format. */
export interface Alert {
  /** Grafana's or Alertmanager's fingerprint, or a stable hash of the sorted labels. */
  fingerprint: string;
  status: AlertStatus;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: Date;
  /** True when the sender gave no start (Go's zero time) and the time of receipt stands in. */
  startsAtUnknown?: boolean;
  /** Undefined while firing (the senders use 0001-01-01 for "no end"). */
  endsAt?: Date;
  generatorURL?: string;
  source: AlertSource;
  /** Grafana's evaluated values by refId (B, C, ...); absent for Alertmanager. */
  values?: Record<string, number>;
  /** The PromQL expression carried by the generatorURL (`g0.expr=`), when there is one. */
  expr?: string;
  silenceURL?: string;
  dashboardURL?: string;
  panelURL?: string;
}

/** One webhook delivery: a group of alerts sent together. */
export interface Notification {
  source: AlertSource;
  receiver: string;
  status: AlertStatus;
  /** The sender's group key; identifies the incident the alerts belong to. */
  groupKey: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL?: string;
  truncatedAlerts: number;
  alerts: Alert[];
  /** Discord channel to post to instead of discord.alertChannelId (Vigil's own alerts: watchdog.channelId). */
  channelId?: string;
  /** The configured route (routes[].name) the alerts were sent to; none: discord.alertChannelId. */
  route?: string;
  /** The sender repeated an unchanged notification (Alertmanager's repeat_interval): a still-firing reminder. */
  reminder?: true;
}

/** A Discord id (snowflake): 17 to 20 digits. */
export const SNOWFLAKE = /^\d{17,20}$/;

/** One sample: when and what. Values are numbers, including NaN and ±Infinity. */
export interface Point {
  at: Date;
  value: number;
}

/** One series of an instant query. */
export interface InstantSample {
  labels: Record<string, string>;
  at: Date;
  value: number;
}

/** One series of a range query. */
export interface RangeSeries {
  labels: Record<string, string>;
  points: Point[];
}

// The daily digest's figures (store/stats computes them, render/digest shows them).

/** One rule and how many of its alerts fired in the window. */
export interface RuleCount {
  alertname: string;
  count: number;
}

/** A mean duration over some incidents. */
export interface MeanDuration {
  /** Incidents the mean is over. */
  count: number;
  /** Undefined when count is 0. */
  meanMs?: number;
}

/** An incident still firing, as the digest and /alerts show it: what fires, where it went, who has it. */
export interface OpenIncident {
  id: number;
  /** The labels of its firing alerts. */
  firing: Array<Record<string, string>>;
  /** The route it was sent to (routes[].name); none: the alert channel. */
  route?: string;
  /** Who acknowledged it (their Discord username); none: nobody has it. */
  ackedBy?: string;
  startedAt: Date;
}

/** What happened to alerts and incidents in a window. */
export interface IncidentStats {
  /** Alerts (fingerprint + start) that started firing in the window. */
  alertsFired: number;
  /** Alerts that ended in the window. */
  alertsResolved: number;
  /** Alerts firing now, in incidents still open. */
  alertsFiring: number;
  /** Incidents opened in the window. */
  incidentsOpened: number;
  /** Incidents open now. */
  incidentsOpen: number;
  /** Rules by alerts fired in the window, most first (ties by name), at most `limit`. */
  noisiest: RuleCount[];
  /** Incidents acknowledged in the window: ack time minus incident start. */
  timeToAck: MeanDuration;
  /** Incidents resolved in the window: resolution minus incident start. */
  timeToResolve: MeanDuration;
  /** The incidents open now, newest first. */
  open: OpenIncident[];
}

/** Webhooks taken in and Discord messages delivered in a window. */
export interface DeliveryStats {
  webhooksReceived: number;
  /** Outbox items created in the window, by where they stand now. */
  sent: number;
  failed: number;
  pending: number;
}

/** Every reason classifyDeliveryError gives (discord/classify; metrics pre-set each to 0). */
export const DELIVERY_ERROR_REASONS = ['rateLimited', 'auth', 'channel', 'client', 'server', 'timeout', 'network'] as const;
/** Why a delivery failed, in the terms the outbox acts on. */
export type DeliveryErrorReason = (typeof DELIVERY_ERROR_REASONS)[number];
