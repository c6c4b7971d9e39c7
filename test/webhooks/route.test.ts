import { describe, expect, it } from 'vitest';
import type { Alert, Notification } from '../../src/model.js';
import { splitByRoute, toRoute } from '../../src/webhooks/route.js';
import { testConfig } from '../support/deps.js';

const routes = testConfig({
  routes: [
    { name: 'db', matchers: ['team="db"'], channelId: '222222222222222222', continue: true },
    { name: 'critical', matchers: ['severity="critical"'], channelId: '322222222222222222' },
    { name: 'by-url', channelId: '422222222222222222' },
  ],
}).routes;

function alert(fingerprint: string, labels: Record<string, string>, status: Alert['status'] = 'firing'): Alert {
  return {
    fingerprint,
    status,
    labels: { alertname: 'DiskFull', ...labels },
    annotations: { summary: `disk of ${fingerprint}`, runbook: 'https://runbooks/disk' },
    startsAt: new Date('2026-12-07T08:00:00Z'),
    source: 'alertmanager',
  };
}

function notification(alerts: Alert[], over: Partial<Notification> = {}): Notification {
  return {
    source: 'alertmanager',
    receiver: 'vigil',
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    groupKey: '{}:{alertname="DiskFull"}',
    groupLabels: { alertname: 'DiskFull' },
    commonLabels: { alertname: 'DiskFull' },
    commonAnnotations: { runbook: 'https://runbooks/disk' },
    truncatedAlerts: 0,
    alerts,
    ...over,
  };
}

describe('splitByRoute', () => {
  it('leaves a notification as it came when the config has no routes', () => {
    const n = notification([alert('a', { team: 'db' })]);
    expect(splitByRoute(n, [])).toEqual([n]);
  });

  it('leaves a notification no route takes as it came: the alert channel', () => {
    const n = notification([alert('a', { team: 'web' })]);
    expect(splitByRoute(n, routes)).toEqual([n]);
  });

  it("sends a notification whose alerts all go one way to that route's channel, whole", () => {
    const n = notification([alert('a', { team: 'web', severity: 'critical' }), alert('b', { team: 'web', severity: 'critical' })]);
    expect(splitByRoute(n, routes)).toEqual([{ ...n, route: 'critical', channelId: '322222222222222222' }]);
  });

  it('splits a group whose alerts go different ways: one notification per route, in route order, the rest last', () => {
    const n = notification(
      [
        alert('web', { team: 'web', host: 'a' }),
        alert('db-crit', { team: 'db', severity: 'critical', host: 'b' }),
        alert('db', { team: 'db', host: 'c' }, 'resolved'),
      ],
      { truncatedAlerts: 3 },
    );
    const parts = splitByRoute(n, routes);
    expect(parts.map((p) => [p.route, p.channelId, p.alerts.map((a) => a.fingerprint), p.status, p.truncatedAlerts])).toEqual([
      // continue: true on db, so its critical alert goes on to the critical route too.
      ['db', '222222222222222222', ['db-crit', 'db'], 'firing', 3],
      ['critical', '322222222222222222', ['db-crit'], 'firing', 0],
      [undefined, undefined, ['web'], 'firing', 0],
    ]);
    // Common labels and annotations are those of each part's own alerts.
    expect(parts[0]!.commonLabels).toEqual({ alertname: 'DiskFull', team: 'db' });
    expect(parts[1]!.commonLabels).toEqual({ alertname: 'DiskFull', team: 'db', severity: 'critical', host: 'b' });
    expect(parts[2]!.commonAnnotations).toEqual({ summary: 'disk of web', runbook: 'https://runbooks/disk' });
    // The group stays the sender's: each part is the same group on another route.
    expect(new Set(parts.map((p) => p.groupKey))).toEqual(new Set([n.groupKey]));
  });

  it('marks a part resolved when all its alerts are', () => {
    const n = notification([alert('db', { team: 'db' }, 'resolved'), alert('web', { team: 'web' })]);
    expect(splitByRoute(n, routes).map((p) => [p.route, p.status])).toEqual([
      ['db', 'resolved'],
      [undefined, 'firing'],
    ]);
  });
});

describe('toRoute', () => {
  it("sends the whole notification to the route its URL names, whatever its alerts' labels", () => {
    const n = notification([alert('a', { team: 'db' }), alert('b', { team: 'web' })]);
    expect(toRoute(n, routes[2]!)).toEqual({ ...n, route: 'by-url', channelId: '422222222222222222' });
  });
});
