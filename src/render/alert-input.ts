import type { EnrichedNotification } from '../findings.js';
import type { T } from '../i18n/index.js';
import type { Locale, Notification } from '../model.js';
import type { ExploreDatasources } from './explore.js';
import type { Warn } from './truncate.js';

/** What `renderAlertMessage` needs. */
export interface AlertMessageInput {
  enriched: EnrichedNotification;
  state: 'firing' | 'resolved';
  incidentStartedAt: Date;
  resolvedAt?: Date;
  /** Base for relative Grafana links (generator, silence, dashboard, panel URLs). */
  grafanaUrl?: string;
  now: Date;
  /** Alerts that get a detail field each (config enrichment.maxAlerts); the rest are counted. Default 5. */
  maxAlerts?: number;
  /** Who acknowledged the incident (the Acknowledge button), shown at the top of the description. */
  acknowledged?: Acknowledgement;
  /** Datasource uids of the Grafana Explore links (config grafana.prometheusUid/lokiUid); the provisioned ones by default. */
  datasources?: ExploreDatasources;
  /** The IANA zone of times shown where Discord's <t:…> cannot be (log lines in code blocks): config `timezone`; default UTC. */
  timeZone?: string;
  /** The language of the message (the route's `locale`, else the config's); default en. */
  locale?: Locale;
}

/** An acknowledgement as the message shows it. */
export interface Acknowledgement {
  userId: string;
  at: Date;
}

/** Shared state while one message is rendered. */
export interface Ctx {
  input: AlertMessageInput;
  n: Notification;
  warn: Warn;
  t: T;
  locale: Locale;
}
