/**
 * A firing Alertmanager webhook body (version 4) of `alerts` warning alerts named `name`, each on
 * its own instance; `annotations` adds to each alert's summary (a long description, say).
 */
export function firingNotification(name: string, opts: { alerts?: number; annotations?: Record<string, string> } = {}): string {
  return JSON.stringify({
    version: '4',
    status: 'firing',
    receiver: 'vigil',
    groupKey: `{}:{alertname="${name}"}`,
    groupLabels: { alertname: name },
    commonLabels: { alertname: name },
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    truncatedAlerts: 0,
    alerts: Array.from({ length: opts.alerts ?? 1 }, (_, i) => ({
      status: 'firing',
      labels: { alertname: name, instance: `${name.toLowerCase()}-${i}:9100`, severity: 'warning' },
      annotations: { summary: `${name} ${i}`, ...opts.annotations },
      startsAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: '',
      fingerprint: `${name}-${i}`.padEnd(16, '0').slice(0, 16),
    })),
  });
}
