import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/store/db.js';
import { createIncident } from '../../src/store/incidents.js';
import { enqueue } from '../../src/store/outbox.js';
import {
  activeStorm,
  markDetailed,
  recentIncidentMessages,
  recordStormAlerts,
  startStorm,
  stormAlerts,
  stormOfIncident,
  stormsToFlush,
  undetailed,
  updateStorm,
} from '../../src/store/storms.js';

const CHANNEL = '123456789012345678';
const T0 = new Date('2026-12-06T03:00:00Z');
let db: Database;

beforeEach(() => {
  db = openDatabase(':memory:');
});
afterEach(() => db.close());

function incident(): number {
  return createIncident(db, { source: 'alertmanager', receiver: 'r', groupKey: `g${Math.random()}`, status: 'firing', alerts: {}, startedAt: T0 }, T0);
}

const alert = (fp: string, status: 'firing' | 'resolved' = 'firing') => ({ fingerprint: fp, labels: { alertname: 'A', instance: fp }, status, startsAt: T0 });

describe('storms', () => {
  it('keeps one storm in progress per channel', () => {
    const storm = startStorm(db, CHANNEL, T0);
    expect(activeStorm(db, CHANNEL)?.id).toBe(storm.id);
    expect(() => startStorm(db, CHANNEL, T0)).toThrow(/UNIQUE/);
    updateStorm(db, storm.id, { endedAt: T0 });
    expect(activeStorm(db, CHANNEL)).toBeUndefined();
    expect(startStorm(db, CHANNEL, T0).id).toBe(storm.id + 1);
  });

  it('records each alert once, updates its status, and counts those no details message named yet', () => {
    const storm = startStorm(db, CHANNEL, T0);
    const id = incident();
    recordStormAlerts(db, storm.id, id, [alert('a'), alert('b')], new Date(T0.getTime() + 1000), true);
    recordStormAlerts(db, storm.id, id, [alert('a', 'resolved'), alert('c')], new Date(T0.getTime() + 2000), false);
    expect(stormAlerts(db, storm.id).map((a) => `${a.fingerprint}:${a.status}`)).toEqual(['a:resolved', 'b:firing', 'c:firing']);
    expect(stormOfIncident(db, id)).toBe(storm.id);
    expect(undetailed(db, storm.id)).toEqual({ count: 3, oldestJoinedAt: T0.getTime() + 1000 });
    const post = enqueue(db, { orderKey: 'storm:1', kind: 'create', channelId: CHANNEL, body: {} });
    markDetailed(db, storm.id, stormAlerts(db, storm.id).slice(0, 2), post);
    expect(undetailed(db, storm.id)).toEqual({ count: 1, oldestJoinedAt: T0.getTime() + 2000 });
    // Only a new incident keeps the storm going.
    expect(activeStorm(db, CHANNEL)?.lastJoinedAt).toEqual(new Date(T0.getTime() + 1000));
  });

  it('lists storms in progress and ended ones with a change to show', () => {
    const a = startStorm(db, CHANNEL, T0);
    updateStorm(db, a.id, { endedAt: T0, dirty: false });
    const b = startStorm(db, CHANNEL, T0);
    expect(stormsToFlush(db).map((s) => s.id)).toEqual([b.id]);
    updateStorm(db, a.id, { dirty: true });
    expect(stormsToFlush(db).map((s) => s.id)).toEqual([a.id, b.id]);
  });

  it("counts a channel's recent incident messages with an index, not a scan of the outbox", () => {
    enqueue(db, { orderKey: 'incident:1', kind: 'create', channelId: CHANNEL, body: {} }, T0.getTime());
    enqueue(db, { orderKey: 'incident:2', kind: 'create', channelId: CHANNEL, body: {} }, T0.getTime() + 5000);
    enqueue(db, { orderKey: 'digest', kind: 'create', channelId: CHANNEL, body: {} }, T0.getTime() + 5000);
    enqueue(db, { orderKey: 'incident:3', kind: 'create', channelId: '223456789012345678', body: {} }, T0.getTime() + 5000);
    expect(recentIncidentMessages(db, CHANNEL, T0.getTime() + 1)).toBe(1);
    expect(recentIncidentMessages(db, CHANNEL, T0.getTime())).toBe(2);
    const plan = db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT count(*) AS n FROM outbox WHERE kind = 'create' AND channel_id = ? AND created_at >= ? AND order_key LIKE 'incident:%'`,
      )
      .all(CHANNEL, 0) as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join(' ')).toContain('outbox_creates_by_channel');
  });
});
