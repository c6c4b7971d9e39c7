import { createHash } from 'node:crypto';
import type { Alert, AlertSource, Notification } from '../model.js';
import { exprFromGeneratorURL } from './expr.js';
import { isZeroTime, type AlertmanagerBody, type GrafanaBody } from './schemas.js';

type GrafanaAlert = GrafanaBody['alerts'][number];
type AlertmanagerAlert = AlertmanagerBody['alerts'][number];
type CommonAlert = GrafanaAlert | AlertmanagerAlert;

/** Length of the fallback fingerprint in hex characters (the senders use 16 too). */
const FINGERPRINT_LENGTH = 16;

/**
 * A stable fingerprint for an alert that came without one: the first 16 hex characters of the
 * SHA-256 of its labels sorted by name, so the order the sender wrote them in does not matter.
 */
export function labelsFingerprint(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // JSON keeps names and values apart even when they contain '=', ',' or quotes.
  return createHash('sha256').update(JSON.stringify(pairs)).digest('hex').slice(0, FINGERPRINT_LENGTH);
}

/** A validated Grafana webhook body as a Notification; `now` is the time of receipt. */
export function normaliseGrafana(body: GrafanaBody, now: Date): Notification {
  return {
    ...envelope(body, 'grafana'),
    alerts: body.alerts.map((a) => grafanaAlert(a, now)),
  };
}

/** A validated Alertmanager webhook body as a Notification; `now` is the time of receipt. */
export function normaliseAlertmanager(body: AlertmanagerBody, now: Date): Notification {
  return {
    ...envelope(body, 'alertmanager'),
    alerts: body.alerts.map((a) => commonAlert(a, 'alertmanager', now)),
  };
}

function envelope(body: GrafanaBody | AlertmanagerBody, source: AlertSource): Omit<Notification, 'alerts'> {
  return {
    source,
    receiver: body.receiver,
    status: body.status,
    groupKey: body.groupKey,
    groupLabels: body.groupLabels,
    commonLabels: body.commonLabels,
    commonAnnotations: body.commonAnnotations,
    ...optional('externalURL', body.externalURL),
    truncatedAlerts: body.truncatedAlerts,
  };
}

function grafanaAlert(a: GrafanaAlert, now: Date): Alert {
  return {
    ...commonAlert(a, 'grafana', now),
    ...(a.values ? { values: a.values } : {}),
    ...optional('silenceURL', a.silenceURL),
    ...optional('dashboardURL', a.dashboardURL),
    ...optional('panelURL', a.panelURL),
  };
}

function commonAlert(a: CommonAlert, source: AlertSource, now: Date): Alert {
  const expr = exprFromGeneratorURL(a.generatorURL);
  const endsAt = endTime(a);
  return {
    fingerprint: a.fingerprint || labelsFingerprint(a.labels),
    status: a.status,
    labels: a.labels,
    annotations: a.annotations,
    // Grafana's test notification carries the zero time; the receipt time is the best start we have.
    startsAt: isZeroTime(a.startsAt) ? new Date(now.getTime()) : a.startsAt,
    ...(isZeroTime(a.startsAt) ? { startsAtUnknown: true } : {}),
    ...(endsAt ? { endsAt } : {}),
    ...optional('generatorURL', a.generatorURL),
    source,
    ...(expr ? { expr } : {}),
  };
}

/**
 * When the alert ended: undefined for the zero time ("no end"), and undefined while firing, where
 * Alertmanager's endsAt is only the time the alert would expire without a refresh, not an end.
 */
function endTime(a: CommonAlert): Date | undefined {
  if (a.status === 'firing' || !a.endsAt || isZeroTime(a.endsAt)) return undefined;
  return a.endsAt;
}

/** `{ key: value }` when value is a non-empty string, else nothing (the senders use "" for absent). */
function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return value ? ({ [key]: value } as { [P in K]?: string }) : {};
}
