import { describe, expect, it } from 'vitest';
import { renderAlertMessage } from '../../src/render/alert.js';
import { dedupKey } from '../../src/store/notifications.js';
import { COMPONENT_ALERTS, outageAnnotations, outageNotification, watchdogGroupKey } from '../../src/watchdog/alerts.js';
import type { ComponentId } from '../../src/watchdog/state.js';

const SINCE = new Date('2026-03-01T10:00:00Z');
const ENDED = new Date('2026-03-01T10:07:30Z');

describe('outageAnnotations', () => {
  it.each<[ComponentId, string, string]>([
    ['loki', 'Loki is down', '3 failed checks in a row (every 1m). Last error: Loki unreachable: ECONNREFUSED'],
    ['prometheus', 'Prometheus is down', '3 failed checks in a row (every 1m). Last error: Loki unreachable: ECONNREFUSED'],
    ['prometheus-targets', 'Prometheus is not scraping its targets', '3 failed checks in a row (every 1m). Last error: Loki unreachable: ECONNREFUSED'],
  ])('names %s in the summary and the streak and last error in the description', (component, summary, description) => {
    expect(outageAnnotations(component, { error: 'Loki unreachable: ECONNREFUSED', failures: 3 }, { intervalMs: 60_000 })).toEqual({ summary, description });
  });

  it('says a single failed check in the singular', () => {
    expect(outageAnnotations('grafana', { error: 'Grafana HTTP 503', failures: 1 }, { intervalMs: 30_000 }).description).toBe(
      '1 failed check in a row (every 30s). Last error: Grafana HTTP 503',
    );
  });

  it('says the alerting path is broken when the heartbeat stops', () => {
    const a = outageAnnotations(
      'heartbeat',
      { error: 'no Watchdog heartbeat for 12m', failures: 1 },
      {
        intervalMs: 60_000,
        heartbeat: { alertname: 'Watchdog', maxSilenceMs: 600_000 },
      },
    );
    expect(a.summary).toBe('The alerting path is broken: no Watchdog heartbeat for 12m');
    expect(a.description).toContain('must arrive at least every 10m');
  });
});

describe('outageNotification', () => {
  const annotations = { summary: 'Loki is down', description: '3 failed checks in a row (every 1m). Last error: x' };
  const firing = outageNotification({ component: 'loki', status: 'firing', since: SINCE, annotations, channelId: '423456789012345678' });
  const resolved = outageNotification({ component: 'loki', status: 'resolved', since: SINCE, endedAt: ENDED, annotations, channelId: '423456789012345678' });

  it('is a Vigil-native notification with one critical alert per component and the watchdog channel', () => {
    expect(firing).toMatchObject({
      source: 'vigil',
      receiver: 'watchdog',
      status: 'firing',
      groupKey: 'vigil-watchdog:loki',
      channelId: '423456789012345678',
      truncatedAlerts: 0,
    });
    expect(firing.alerts).toHaveLength(1);
    expect(firing.alerts[0]).toMatchObject({ status: 'firing', startsAt: SINCE, labels: { alertname: 'LokiDown', component: 'loki', severity: 'critical' } });
    expect(firing.alerts[0]!.endsAt).toBeUndefined();
  });

  it('resolves the same alert (fingerprint, group, start) with the time it came back', () => {
    expect(resolved.groupKey).toBe(firing.groupKey);
    expect(resolved.alerts[0]!.fingerprint).toBe(firing.alerts[0]!.fingerprint);
    expect(resolved.alerts[0]).toMatchObject({ status: 'resolved', startsAt: SINCE, endsAt: ENDED });
    expect(dedupKey(resolved)).not.toBe(dedupKey(firing));
  });

  it('gives every component its own group key and alertname', () => {
    const ids = Object.keys(COMPONENT_ALERTS) as ComponentId[];
    expect(new Set(ids.map(watchdogGroupKey)).size).toBe(ids.length);
    expect(new Set(ids.map((c) => COMPONENT_ALERTS[c].alertname)).size).toBe(ids.length);
  });

  it('leaves the channel to the pipeline default when watchdog.channelId is not set', () => {
    expect(outageNotification({ component: 'loki', status: 'firing', since: SINCE, annotations }).channelId).toBeUndefined();
  });

  it('renders as a phone-readable alert message with a Vigil footer', () => {
    const body = renderAlertMessage(
      { enriched: { notification: firing, enrichments: {} }, state: 'firing', incidentStartedAt: SINCE, now: ENDED },
      () => undefined,
    );
    const embed = body.embeds![0]!;
    expect(embed.title).toBe('🔥 FIRING: LokiDown');
    expect(embed.description).toMatch(/^\*\*Loki is down\*\*\n3 failed checks in a row \(every 1m\)\. Last error: x\n\nStarted <t:\d+:R>$/);
    expect(embed.footer?.text).toBe('Vigil → watchdog');
  });
});
