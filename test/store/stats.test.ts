import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../src/model.js';
import { acknowledge } from '../../src/store/acks.js';
import type { Database } from '../../src/store/db.js';
import { openTestStore } from '../support/store.js';
import { createIncident, updateIncident, type IncidentAlertState } from '../../src/store/incidents.js';
import { insertNotification } from '../../src/store/notifications.js';
import { enqueue, markFailed, markSent } from '../../src/store/outbox.js';
import { deliveryStats, incidentStats } from '../../src/store/stats.js';

const NOW = new Date('2026-11-21T09:00:00Z');
const H = 3_600_000;
const ago = (hours: number) => new Date(NOW.getTime() - hours * H);
const WINDOW = { from: ago(24), to: NOW };
const CHANNEL = '223456789012345678';

function alert(name: string, startedHoursAgo: number, endedHoursAgo?: number): IncidentAlertState {
  return {
    status: endedHoursAgo === undefined ? 'firing' : 'resolved',
    startsAt: ago(startedHoursAgo).toISOString(),
    ...(endedHoursAgo !== undefined ? { endsAt: ago(endedHoursAgo).toISOString() } : {}),
    labels: { alertname: name },
  };
}

async function incident(
  db: Database,
  key: string,
  alerts: Record<string, IncidentAlertState>,
  startedHoursAgo: number,
  resolvedHoursAgo?: number,
): Promise<number> {
  const id = await createIncident(
    db,
    { source: 'alertmanager', receiver: 'r', groupKey: key, status: 'firing', alerts, startedAt: ago(startedHoursAgo) },
    ago(startedHoursAgo),
  );
  if (resolvedHoursAgo !== undefined) {
    await updateIncident(db, id, { status: 'resolved', alerts, resolvedAt: ago(resolvedHoursAgo) }, ago(resolvedHoursAgo));
  }
  return id;
}

describe('incidentStats', () => {
  let db: Database;
  beforeEach(async () => {
    db = await openTestStore();
  });
  afterEach(() => db.close());

  it('counts fired, resolved and still-firing alerts of the window, and ranks the noisiest rules', async () => {
    // Resolved within the window: 2 CPU alerts, 2h to resolve.
    await incident(db, 'cpu', { a: alert('HighCpu', 5, 3), b: alert('HighCpu', 5, 3) }, 5, 3);
    // Still firing: one disk alert, one CPU alert.
    await incident(db, 'disk', { c: alert('DiskFull', 2), d: alert('HighCpu', 1) }, 2);
    // Entirely before the window: not counted.
    await incident(db, 'old', { e: alert('Ancient', 50, 49) }, 50, 49);

    const s = await incidentStats(db, WINDOW);
    expect(s).toMatchObject({ alertsFired: 4, alertsResolved: 2, alertsFiring: 2, incidentsOpened: 2, incidentsOpen: 1 });
    expect(s.noisiest).toEqual([
      { alertname: 'HighCpu', count: 3 },
      { alertname: 'DiskFull', count: 1 },
    ]);
    expect(s.timeToResolve).toEqual({ count: 1, meanMs: 2 * H });
  });

  it('means the time to acknowledge over the incidents acknowledged in the window', async () => {
    const a = await incident(db, 'a', { a: alert('A', 6) }, 6);
    const b = await incident(db, 'b', { b: alert('B', 4) }, 4);
    await incident(db, 'c', { c: alert('C', 3) }, 3);
    await acknowledge(db, a, { userId: '1', username: 'ana', at: ago(5) }); // 1h after start
    await acknowledge(db, b, { userId: '2', username: 'bo', at: ago(3.5) }); // 30m after start
    expect((await incidentStats(db, WINDOW)).timeToAck).toEqual({ count: 2, meanMs: 0.75 * H });
  });

  it('says nothing was acknowledged or resolved rather than a mean of zero', async () => {
    await incident(db, 'a', { a: alert('A', 1) }, 1);
    const s = await incidentStats(db, WINDOW);
    expect(s.timeToAck).toEqual({ count: 0 });
    expect(s.timeToResolve).toEqual({ count: 0 });
  });

  it('counts an ack before the reported start (sender clock skew) as zero, not negative', async () => {
    const a = await incident(db, 'a', { a: alert('A', 1) }, 1);
    await acknowledge(db, a, { userId: '1', username: 'ana', at: ago(2) });
    expect((await incidentStats(db, WINDOW)).timeToAck).toEqual({ count: 1, meanMs: 0 });
  });

  it('keeps the noisiest list to the limit, ties by name', async () => {
    const alerts = Object.fromEntries(['E', 'D', 'C', 'B', 'A'].map((n) => [n, alert(n, 1)]));
    await incident(db, 'many', alerts, 1);
    expect((await incidentStats(db, WINDOW, 3)).noisiest.map((r) => r.alertname)).toEqual(['A', 'B', 'C']);
  });
});

describe('deliveryStats', () => {
  let db: Database;
  beforeEach(async () => {
    db = await openTestStore();
  });
  afterEach(() => db.close());

  it('counts webhooks received and outbox items by where they stand, within the window only', async () => {
    const n = (key: string): Notification => ({
      source: 'alertmanager',
      receiver: 'r',
      status: 'firing',
      groupKey: key,
      groupLabels: {},
      commonLabels: {},
      commonAnnotations: {},
      truncatedAlerts: 0,
      alerts: [],
    });
    await insertNotification(db, n('in-1'), ago(2));
    await insertNotification(db, n('in-2'), ago(1));
    await insertNotification(db, n('before'), ago(30));
    const item = (at: Date) => enqueue(db, { orderKey: 'k', kind: 'create', channelId: CHANNEL, body: {} }, at.getTime());
    await markSent(db, await item(ago(3)), '1');
    await markFailed(db, await item(ago(2)), 'HTTP 403');
    await item(ago(1));
    await markSent(db, await item(ago(40)), '2');
    expect(await deliveryStats(db, WINDOW)).toEqual({ webhooksReceived: 2, sent: 1, failed: 1, pending: 1 });
  });
});
