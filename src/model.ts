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
}

/** A Discord id (snowflake): 17 to 20 digits. */
export const SNOWFLAKE = /^\d{17,20}$/;
