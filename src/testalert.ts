import type { Config } from './config/schema.js';
import { translator, type Locale } from './i18n/index.js';

/** The alertname of `vigil test-alert`. */
export const TEST_ALERTNAME = 'VigilTestAlert';

/**
 * An Alertmanager (version 4) webhook body for a test alert, firing or resolved: the whole path
 * from webhook to Discord message can be tried without waiting for a real incident. Its summary
 * and description are in `locale` (default English).
 */
export function testAlertBody(opts: { resolved: boolean; startsAt: Date; now: Date; instance: string; locale?: Locale }): object {
  const t = translator(opts.locale ?? 'en');
  const labels = { alertname: TEST_ALERTNAME, severity: 'info', instance: opts.instance, job: 'vigil' };
  const annotations = { summary: t('cli.testAlert.summary'), description: t('cli.testAlert.description') };
  const alert = {
    status: opts.resolved ? 'resolved' : 'firing',
    labels,
    annotations,
    startsAt: opts.startsAt.toISOString(),
    endsAt: opts.resolved ? opts.now.toISOString() : '0001-01-01T00:00:00Z',
    generatorURL: '',
    fingerprint: 'f1e57a1e57a1e57a',
  };
  return {
    version: '4',
    receiver: 'vigil-test',
    status: alert.status,
    groupKey: `{}:{alertname="${TEST_ALERTNAME}"}`,
    groupLabels: { alertname: TEST_ALERTNAME },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: '',
    truncatedAlerts: 0,
    alerts: [alert],
  };
}

/** Where the running bot listens, as seen from the same machine (0.0.0.0 binds are reached on loopback). */
export function localWebhookUrl(config: Config): string {
  const host = config.server.host === '0.0.0.0' || config.server.host === '::' ? '127.0.0.1' : config.server.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.server.port}/webhooks/alertmanager`;
}

/** Sends the test alert, in the configured language, to a running Vigil with the configured credentials; resolves with the HTTP status and body. */
export async function sendTestAlert(config: Config, opts: { resolved: boolean; url?: string; now?: Date }): Promise<{ status: number; body: string }> {
  const now = opts.now ?? new Date();
  // A stable start keeps the firing and the resolved notification in one incident (one message).
  const startsAt = new Date(Math.floor(now.getTime() / 86_400_000) * 86_400_000);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (config.webhook.token) headers.authorization = `Bearer ${config.webhook.token}`;
  const res = await fetch(opts.url ?? localWebhookUrl(config), {
    method: 'POST',
    headers,
    body: JSON.stringify(testAlertBody({ resolved: opts.resolved, startsAt, now, instance: 'vigil-test', locale: config.locale })),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: await res.text() };
}
