import { formatDurationIn, translate, type Locale, type MessageKey } from '../i18n/index.js';
import type { Notification } from '../model.js';
import type { ComponentId } from './state.js';

/** Receiver of every Vigil-native notification (the footer reads "Vigil → watchdog"). */
export const WATCHDOG_RECEIVER = 'watchdog';

/** How each component's outage is named: its alertname and the one-line summary (a catalog key). */
export const COMPONENT_ALERTS: Record<ComponentId, { alertname: string; summary: MessageKey }> = {
  prometheus: { alertname: 'PrometheusDown', summary: 'watchdog.summary.prometheus' },
  'prometheus-targets': { alertname: 'PrometheusNotScraping', summary: 'watchdog.summary.prometheusTargets' },
  loki: { alertname: 'LokiDown', summary: 'watchdog.summary.loki' },
  grafana: { alertname: 'GrafanaDown', summary: 'watchdog.summary.grafana' },
  alertmanager: { alertname: 'AlertmanagerDown', summary: 'watchdog.summary.alertmanager' },
  heartbeat: { alertname: 'AlertingPathBroken', summary: 'watchdog.summary.heartbeat' },
};

/** A component's outage summary in `locale` ("Loki is down"). */
export function componentSummary(component: ComponentId, locale: Locale = 'en'): string {
  return translate(locale, COMPONENT_ALERTS[component].summary);
}

/** The annotations of an outage raised before Vigil restarted (its own words are gone), as it resolves. */
export function restoredAnnotations(component: ComponentId, locale: Locale = 'en'): Record<string, string> {
  return { summary: componentSummary(component, locale), description: translate(locale, 'watchdog.restored') };
}

/** The group key of one component's outages: stable, so every outage edits nothing but its own message. */
export function watchdogGroupKey(component: ComponentId): string {
  return `vigil-watchdog:${component}`;
}

/** The fingerprint of one component's outage alert. */
export function watchdogFingerprint(component: ComponentId): string {
  return `vigil-watchdog-${component}`;
}

/** Summary and description of an outage, as raised, in `opts.locale` (config `locale`; default 'en'). */
export function outageAnnotations(
  component: ComponentId,
  outage: { error: string; shown?: string; failures: number },
  opts: { intervalMs: number; heartbeat?: { alertname: string; maxSilenceMs: number }; locale?: Locale },
): Record<string, string> {
  const locale = opts.locale ?? 'en';
  const base = componentSummary(component, locale);
  const hb = opts.heartbeat;
  if (component === 'heartbeat' && hb) {
    const expected = translate(locale, 'watchdog.heartbeat.expected', { alertname: hb.alertname, every: formatDurationIn(locale, hb.maxSilenceMs) });
    return { summary: translate(locale, 'watchdog.summary.withError', { summary: base, error: outage.shown ?? outage.error }), description: expected };
  }
  const description = translate(locale, 'watchdog.checks', {
    failures: outage.failures,
    every: formatDurationIn(locale, opts.intervalMs),
    error: outage.shown ?? outage.error,
  });
  return { summary: base, description };
}

/** What an outage notification says and where it goes. */
export interface OutageInput {
  component: ComponentId;
  status: 'firing' | 'resolved';
  /** The first failed check of the outage. */
  since: Date;
  /** When the component answered again (resolved only). */
  endedAt?: Date;
  annotations: Record<string, string>;
  /** watchdog.channelId; default discord.alertChannelId. */
  channelId?: string;
}

/**
 * A Vigil-native notification for one component's outage: one alert, a stable fingerprint and
 * group key per component, so the pipeline opens one message per outage and edits it on resolve.
 */
export function outageNotification(input: OutageInput): Notification {
  const { alertname } = COMPONENT_ALERTS[input.component];
  const labels = { alertname, component: input.component, severity: 'critical' };
  return {
    source: 'vigil',
    receiver: WATCHDOG_RECEIVER,
    status: input.status,
    groupKey: watchdogGroupKey(input.component),
    groupLabels: { alertname },
    commonLabels: labels,
    commonAnnotations: input.annotations,
    truncatedAlerts: 0,
    alerts: [
      {
        fingerprint: watchdogFingerprint(input.component),
        status: input.status,
        labels,
        annotations: input.annotations,
        startsAt: input.since,
        ...(input.status === 'resolved' && input.endedAt ? { endsAt: input.endedAt } : {}),
        source: 'vigil',
      },
    ],
    ...(input.channelId ? { channelId: input.channelId } : {}),
  };
}
