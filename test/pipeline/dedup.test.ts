import { describe, expect, it } from 'vitest';
import type { Alert, AlertStatus, Notification } from '../../src/model.js';
import { decide } from '../../src/pipeline/dedup.js';
import type { Incident } from '../../src/store/incidents.js';

const NOW = new Date('2026-11-21T09:00:00Z');
const START = '2026-11-21T08:51:25.079Z';

function alert(fp: string, status: AlertStatus, extra: Partial<Alert> = {}): Alert {
  return { fingerprint: fp, status, labels: { alertname: 'X', fp }, annotations: {}, startsAt: new Date(START), source: 'alertmanager', ...extra };
}
function notification(alerts: Alert[]): Notification {
  return {
    source: 'alertmanager',
    receiver: 'vigil',
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    groupKey: '{}:{alertname="X"}',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    truncatedAlerts: 0,
    alerts,
  };
}
function incident(status: AlertStatus, alerts: Record<string, AlertStatus>): Incident {
  return {
    id: 7,
    source: 'alertmanager',
    receiver: 'vigil',
    groupKey: '{}:{alertname="X"}',
    status,
    alerts: Object.fromEntries(Object.entries(alerts).map(([fp, s]) => [fp, { status: s, startsAt: START }])),
    startedAt: new Date(START),
    createOutboxId: 3,
  };
}

describe('decide', () => {
  it.each([
    ['no incident, alerts firing', undefined, [alert('a', 'firing')], 'open', 'new-incident'],
    [
      'last incident resolved, alert fires again',
      incident('resolved', { a: 'resolved' }),
      [alert('a', 'firing', { startsAt: new Date('2026-11-21T08:58:00Z') })],
      'open',
      'new-incident',
    ],
    ['no incident, only resolved alerts', undefined, [alert('a', 'resolved', { endsAt: new Date('2026-11-21T08:53:30Z') })], 'open', 'resolved-without-firing'],
    ['resolved resend for a closed incident', incident('resolved', { a: 'resolved' }), [alert('a', 'resolved')], 'skip', 'already-resolved'],
    ['open incident, same states again', incident('firing', { a: 'firing', b: 'firing' }), [alert('a', 'firing'), alert('b', 'firing')], 'skip', 'no-change'],
    [
      'open incident, one of two resolves',
      incident('firing', { a: 'firing', b: 'firing' }),
      [alert('a', 'resolved'), alert('b', 'firing')],
      'update',
      'alerts-changed',
    ],
    ['open incident, a new alert joins', incident('firing', { a: 'firing' }), [alert('a', 'firing'), alert('c', 'firing')], 'update', 'new-alerts-firing'],
    [
      'open incident, every alert resolves',
      incident('firing', { a: 'firing', b: 'firing' }),
      [alert('a', 'resolved'), alert('b', 'resolved')],
      'resolve',
      'all-resolved',
    ],
    ['open incident, last open alert resolves', incident('firing', { a: 'resolved', b: 'firing' }), [alert('b', 'resolved')], 'resolve', 'all-resolved'],
  ] as const)('%s -> %s (%s)', (_name, latest, alerts, action, reason) => {
    const d = decide(latest, notification([...alerts]), NOW);
    expect(d.action).toBe(action);
    expect(d.reason).toBe(reason);
  });

  it('names the newly firing alerts so the channel hears about them', () => {
    const d = decide(incident('firing', { a: 'firing' }), notification([alert('a', 'firing'), alert('c', 'firing')]), NOW);
    expect(d.action === 'update' && d.newlyFiring).toEqual(['c']);
  });

  it('keeps alerts the notification no longer mentions in the merged state', () => {
    const d = decide(incident('firing', { a: 'firing', b: 'firing' }), notification([alert('a', 'resolved')]), NOW);
    expect(d.action === 'update' && Object.keys(d.alerts).sort()).toEqual(['a', 'b']);
  });

  it('takes the latest endsAt as the resolution time, or the injected clock when none is given', () => {
    const ends = new Date('2026-11-21T08:53:30.780Z');
    const withEnd = decide(incident('firing', { a: 'firing' }), notification([alert('a', 'resolved', { endsAt: ends })]), NOW);
    expect(withEnd.action === 'resolve' && withEnd.resolvedAt).toEqual(ends);
    const withoutEnd = decide(incident('firing', { a: 'firing' }), notification([alert('a', 'resolved')]), NOW);
    expect(withoutEnd.action === 'resolve' && withoutEnd.resolvedAt).toEqual(NOW);
  });
});

describe('decide with a start time the sender did not give', () => {
  it('treats a resend with a different stand-in start as no change', () => {
    const open = incident('firing', { a: 'firing' });
    open.alerts['a'] = { status: 'firing', startsAt: START, startsAtUnknown: true };
    const resend = notification([alert('a', 'firing', { startsAt: new Date('2026-11-21T08:59:00Z'), startsAtUnknown: true })]);
    expect(decide(open, resend, NOW)).toEqual({ action: 'skip', reason: 'no-change' });
  });
});

describe("decide on the sender's reminder (repeat_interval)", () => {
  it('names an unchanged reminder of an open incident as a reminder, to be told in its thread', () => {
    const open = incident('firing', { a: 'firing' });
    expect(decide(open, { ...notification([alert('a', 'firing')]), reminder: true }, NOW)).toEqual({ action: 'skip', reason: 'reminder' });
  });

  it('treats a reminder that brings a change as the change it is', () => {
    const open = incident('firing', { a: 'firing' });
    expect(decide(open, { ...notification([alert('a', 'firing'), alert('b', 'firing')]), reminder: true }, NOW)).toMatchObject({
      action: 'update',
      newlyFiring: ['b'],
    });
  });
});
