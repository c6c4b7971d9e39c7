import { readFileSync } from 'node:fs';

/** The real Alertmanager webhook body the benchmark bodies are derived from (loaded at run time). */
const FIXTURE = readFileSync(new URL('../test/fixtures/webhooks/alertmanager-firing.json', import.meta.url), 'utf8');

interface AlertmanagerBody {
  alerts: Array<{ labels: Record<string, string>; fingerprint: string; startsAt: string }>;
  groupKey: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
}

/** Alert name of the i-th benchmark notification; it shows in the Discord embed title. */
export function benchAlertName(prefix: string, i: number): string {
  return `${prefix}${String(i).padStart(5, '0')}`;
}

/**
 * The fixture's first alert as a new notification: its own alertname, group and fingerprint, and a
 * fresh startsAt. `instance` is dropped and `container: api` added so that every enrichment query
 * returns data: `job="node"` finds the real node_exporter target, `container_name="api"` finds the
 * Loki double's recorded lines, and the fixture's CPU expression runs against the real Prometheus.
 */
export function benchAlertmanagerBody(prefix: string, i: number): string {
  const body = JSON.parse(FIXTURE) as AlertmanagerBody;
  const alertname = benchAlertName(prefix, i);
  const { instance: _dropped, ...labels } = body.alerts[0]!.labels;
  body.alerts = body.alerts.slice(0, 1).map((a) => ({
    ...a,
    labels: { ...labels, alertname, container: 'api' },
    fingerprint: i.toString(16).padStart(16, '0'),
    startsAt: new Date(Date.now() - 60_000).toISOString(),
  }));
  body.groupKey = `{}:{alertname="${alertname}"}`;
  body.groupLabels = { alertname };
  body.commonLabels = { ...labels, alertname, container: 'api' };
  return JSON.stringify(body);
}
