import { formatDuration } from '../config/duration.js';
import type { Notification } from '../model.js';
import type { ComponentId } from './state.js';

/** Receiver of every Vigil-native notification (the footer reads "Vigil → watchdog"). */
export const WATCHDOG_RECEIVER = 'watchdog';

/** How each component's outage is named: its alertname and the one-line summary. */
export const COMPONENT_ALERTS: Record<ComponentId, { alertname: string; summary: string }> = {
  prometheus: { alertname: 'PrometheusDown', summary: 'Prometheus is down' },
  'prometheus-targets': { alertname: 'PrometheusNotScraping', summary: 'Prometheus is not scraping its targets' },
  loki: { alertname: 'LokiDown', summary: 'Loki is down' },
  grafana: { alertname: 'GrafanaDown', summary: 'Grafana is down' },
  alertmanager: { alertname: 'AlertmanagerDown', summary: 'Alertmanager is down' },
  heartbeat: { alertname: 'AlertingPathBroken', summary: 'The alerting path is broken' },
};

/** The group key of one component's outages: stable, so every outage edits nothing but its own message. */
export function watchdogGroupKey(component: ComponentId): string {
  return `vigil-watchdog:${component}`;
}

/** The fingerprint of one component's outage alert. */
export function watchdogFingerprint(component: ComponentId): string {
  return `vigil-watchdog-${component}`;
}

/** Summary and description of an outage, as raised. */
export function outageAnnotations(
  component: ComponentId,
  outage: { error: string; failures: number },
  opts: { intervalMs: number; heartbeat?: { alertname: string; maxSilenceMs: number } },
): Record<string, string> {
  const base = COMPONENT_ALERTS[component].summary;
  const hb = opts.heartbeat;
  if (component === 'heartbeat' && hb) {
    const expected = `The always-firing ${hb.alertname} alert (from Alertmanager or Grafana) must arrive at least every ${formatDuration(hb.maxSilenceMs)}: alerts may not be reaching anyone.`;
    return { summary: `${base}: ${outage.error}`, description: expected };
  }
  const checks = `${outage.failures} failed check${outage.failures === 1 ? '' : 's'} in a row (every ${formatDuration(opts.intervalMs)})`;
  return { summary: base, description: `${checks}. Last error: ${outage.error}` };
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
