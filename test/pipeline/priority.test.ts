import { describe, expect, it } from 'vitest';
import type { Alert, Notification } from '../../src/model.js';
import { deliveryPriority } from '../../src/pipeline/priority.js';
import type { ActiveDecision } from '../../src/pipeline/stage.js';
import { PRIORITY, type OutboxKind } from '../../src/store/outbox.js';

function alert(severity: string | undefined, status: Alert['status'] = 'firing'): Alert {
  return {
    fingerprint: `fp-${severity}-${status}`,
    status,
    labels: { alertname: 'HostDown', ...(severity ? { severity } : {}) },
    annotations: {},
    startsAt: new Date('2026-12-06T00:00:00Z'),
    source: 'alertmanager',
  };
}

function notification(...alerts: Alert[]): Notification {
  return { source: 'alertmanager', receiver: 'vigil', groupKey: 'g', status: 'firing', alerts, groupLabels: {}, commonLabels: {} } as unknown as Notification;
}

const open: ActiveDecision = { action: 'open', reason: 'new-incident', alerts: {} };
const openResolved: ActiveDecision = { action: 'open', reason: 'resolved-without-firing', alerts: {}, resolvedAt: new Date() };
const update: ActiveDecision = { action: 'update', reason: 'new-alerts-firing', incidentId: 1, alerts: {}, newlyFiring: [] };
const resolve: ActiveDecision = { action: 'resolve', reason: 'all-resolved', incidentId: 1, alerts: {}, resolvedAt: new Date() };

describe('deliveryPriority', () => {
  it.each<[string, OutboxKind, ActiveDecision, Notification, number]>([
    ['a new critical alert', 'create', open, notification(alert('critical')), PRIORITY.criticalFiring],
    ['a new alert with a critical spelling (page)', 'create', open, notification(alert('warning'), alert('page')), PRIORITY.criticalFiring],
    ['a new warning', 'create', open, notification(alert('warning')), PRIORITY.firing],
    ['a new alert without severity', 'create', open, notification(alert(undefined)), PRIORITY.firing],
    ['a critical alert that is already resolved', 'create', openResolved, notification(alert('critical', 'resolved')), PRIORITY.resolve],
    ['the edit of an open message', 'edit', update, notification(alert('critical')), PRIORITY.update],
    ['a reply naming newly firing alerts', 'reply', update, notification(alert('critical')), PRIORITY.update],
    ['the edit of a resolve', 'edit', resolve, notification(alert('critical', 'resolved')), PRIORITY.resolve],
    ['the resolve reply', 'reply', resolve, notification(alert('warning', 'resolved')), PRIORITY.resolve],
    ['a thread start', 'thread', open, notification(alert('critical')), PRIORITY.details],
    ['the thread details', 'thread-post', open, notification(alert('critical')), PRIORITY.details],
    ['the thread archive', 'thread-archive', resolve, notification(alert('critical', 'resolved')), PRIORITY.details],
  ])('ranks %s', (_what, kind, decision, n, expected) => {
    expect(deliveryPriority(kind, decision, n)).toBe(expected);
  });
});
