import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Alert, Notification } from '../../src/model.js';
import { openDatabase, type Database } from '../../src/store/db.js';
import { lastHeartbeat, recordHeartbeat } from '../../src/store/heartbeats.js';
import { HEARTBEAT_REASON, heartbeatInterceptor, splitHeartbeats } from '../../src/watchdog/heartbeat.js';

const AT = new Date('2026-03-01T10:00:00Z');

function alert(alertname: string, status: Alert['status'] = 'firing'): Alert {
  return { fingerprint: `fp-${alertname}-${status}`, status, labels: { alertname }, annotations: {}, startsAt: AT, source: 'alertmanager' };
}

function notification(alerts: Alert[]): Notification {
  return {
    source: 'alertmanager',
    receiver: 'vigil',
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    groupKey: '{}:{}',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    truncatedAlerts: 0,
    alerts,
  };
}

describe('splitHeartbeats', () => {
  it.each([
    ['a notification without the heartbeat is kept whole', ['HostDown'], [], ['HostDown'], 'firing'],
    ['a heartbeat-only notification leaves nothing to store', ['Watchdog'], ['Watchdog'], undefined, undefined],
    ['a mixed group keeps the other alerts', ['Watchdog', 'HostDown'], ['Watchdog'], ['HostDown'], 'firing'],
  ] as const)('%s', (_name, names, heartbeats, rest, status) => {
    const split = splitHeartbeats(notification(names.map((n) => alert(n))), 'Watchdog');
    expect(split.heartbeats.map((a) => a.labels.alertname)).toEqual(heartbeats);
    expect(split.rest?.alerts.map((a) => a.labels.alertname)).toEqual(rest);
    expect(split.rest?.status).toEqual(status);
  });

  it('recomputes the status when only resolved alerts remain', () => {
    const split = splitHeartbeats(notification([alert('Watchdog'), alert('HostDown', 'resolved')]), 'Watchdog');
    expect(split.rest?.status).toBe('resolved');
  });

  it('matches the alertname exactly (case and all)', () => {
    expect(splitHeartbeats(notification([alert('watchdog')]), 'Watchdog').heartbeats).toEqual([]);
  });
});

describe('heartbeat store and interceptor', () => {
  let db: Database;
  beforeEach(() => {
    db = openDatabase(':memory:');
  });
  afterEach(async () => {
    await db.close();
  });

  it('remembers the latest heartbeat and never moves back for a late, older delivery', async () => {
    await recordHeartbeat(db, 'Watchdog', 'alertmanager', new Date(AT.getTime() + 60_000));
    await recordHeartbeat(db, 'Watchdog', 'grafana', AT);
    expect(await lastHeartbeat(db, 'Watchdog')).toEqual({ alertname: 'Watchdog', lastSeen: new Date(AT.getTime() + 60_000), source: 'grafana', received: 2 });
    expect(await lastHeartbeat(db, 'Other')).toBeUndefined();
  });

  it('records a firing heartbeat and drops it with a named reason', async () => {
    const intercept = heartbeatInterceptor(db, 'Watchdog');
    const out = await intercept(notification([alert('Watchdog')]), AT);
    expect(out).toEqual({ dropped: 1, reason: HEARTBEAT_REASON });
    expect((await lastHeartbeat(db, 'Watchdog'))?.lastSeen).toEqual(AT);
  });

  it('drops a resolved heartbeat without counting it as a heartbeat', async () => {
    const out = await heartbeatInterceptor(db, 'Watchdog')(notification([alert('Watchdog', 'resolved')]), AT);
    expect(out.keep).toBeUndefined();
    expect(out.dropped).toBe(1);
    expect(await lastHeartbeat(db, 'Watchdog')).toBeUndefined();
  });

  it('passes other notifications through untouched and records nothing', async () => {
    const n = notification([alert('HostDown')]);
    expect(await heartbeatInterceptor(db, 'Watchdog')(n, AT)).toEqual({ keep: n, dropped: 0 });
    expect(await lastHeartbeat(db, 'Watchdog')).toBeUndefined();
  });

  it('survives a reopen of the same database file (a restart does not forget)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-heartbeat-'));
    try {
      const first = openDatabase(join(dir, 'v.db'));
      await heartbeatInterceptor(first, 'Watchdog')(notification([alert('Watchdog')]), AT);
      await first.close();
      const second = openDatabase(join(dir, 'v.db'));
      expect((await lastHeartbeat(second, 'Watchdog'))?.lastSeen).toEqual(AT);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
