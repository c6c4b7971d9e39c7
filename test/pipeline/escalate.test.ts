import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { flushEscalations, scheduleIncidentEscalation } from '../../src/pipeline/escalate.js';
import { acknowledge } from '../../src/store/acks.js';
import { openDatabase, type SqliteDatabase } from '../../src/store/db.js';
import { getEscalation } from '../../src/store/escalations.js';
import { createIncident, updateIncident } from '../../src/store/incidents.js';
import { enqueue, get, PRIORITY } from '../../src/store/outbox.js';
import { testConfig } from '../support/deps.js';

const CHANNEL = '223456789012345678';
const ROLE = '444444444444444444';
const USER = '555555555555555555';
const MINUTE = 60_000;
const T0 = new Date('2026-12-07T03:00:00Z');

let db: SqliteDatabase;
let config: Config;
const logger = createLogger({ level: 'silent' });

beforeEach(() => {
  db = openDatabase(':memory:');
  config = testConfig({
    routes: [
      { name: 'db', channelId: CHANNEL, escalation: { after: '10m', roles: [ROLE], users: [USER], repeat: 2 } },
      { name: 'quiet', channelId: CHANNEL },
    ],
  });
});
afterEach(() => db.close());

/** A firing incident of the route with its alert message queued, opened at T0 (as the pipeline's outbox stage does). */
async function openIncident(route: string): Promise<number> {
  const id = await createIncident(
    db,
    {
      source: 'alertmanager',
      receiver: 'vigil',
      groupKey: `{}:{alertname="DbDown"}`,
      route,
      status: 'firing',
      alerts: {},
      startedAt: new Date(T0.getTime() - 2 * MINUTE),
    },
    T0,
  );
  const create = await enqueue(db, { orderKey: `incident:${id}`, kind: 'create', channelId: CHANNEL, body: { content: 'alert' } }, T0.getTime());
  await updateIncident(db, id, { status: 'firing', alerts: {}, createOutboxId: create }, T0);
  await scheduleIncidentEscalation(db, config, id, route, T0);
  return id;
}

const at = (minutes: number) => new Date(T0.getTime() + minutes * MINUTE);
const flush = (minutes: number) => flushEscalations({ db, config, logger, now: at(minutes) });
const pings = async () =>
  Promise.all(
    (db.sqlite.prepare(`SELECT id FROM outbox WHERE kind = 'thread-post' ORDER BY id`).pluck().all() as number[]).map(async (id) => (await get(db, id))!),
  );

describe('escalation', () => {
  it('pings the escalation roles and users after `after`, again after another `after`, and stops at `repeat`', async () => {
    const id = await openIncident('db');
    expect(await flush(9.9)).toBe(0);
    expect(await flush(10)).toBe(1);
    expect(await flush(10)).toBe(0);
    expect(await flush(19.9)).toBe(0);
    expect(await flush(20)).toBe(1);
    expect(await flush(60)).toBe(0);
    expect((await pings()).map((p) => p.body)).toEqual([
      {
        content: `⏫ <@&${ROLE}> <@${USER}>: firing for 12m and nobody has acknowledged it (1/2): press Acknowledge on the alert to take it`,
        allowed_mentions: { parse: [], roles: [ROLE], users: [USER] },
      },
      {
        content: `⏫ <@&${ROLE}> <@${USER}>: firing for 22m and nobody has acknowledged it (2/2): press Acknowledge on the alert to take it`,
        allowed_mentions: { parse: [], roles: [ROLE], users: [USER] },
      },
    ]);
    // Replies on the incident's alert message (in its thread), ahead of other deliveries.
    expect((await pings()).map((p) => [p.targetId, p.priority])).toEqual([
      [1, PRIORITY.criticalFiring],
      [1, PRIORITY.criticalFiring],
    ]);
    expect(await getEscalation(db, id)).toEqual({ incidentId: id, route: 'db', step: 2, ended: 'done' });
  });

  it.each([
    ['acknowledged', async (id: number): Promise<void> => void (await acknowledge(db, id, { userId: USER, username: 'bob', at: at(5) }))],
    ['resolved', (id: number): Promise<void> => updateIncident(db, id, { status: 'resolved', alerts: {}, resolvedAt: at(5) }, at(5))],
  ] as const)('stops without a ping once the incident is %s', async (why, change) => {
    const id = await openIncident('db');
    await change(id);
    expect(await flush(10)).toBe(0);
    expect(await pings()).toEqual([]);
    expect(await getEscalation(db, id)).toMatchObject({ step: 0, ended: why });
  });

  it('stops after the first ping when the incident is acknowledged before the second', async () => {
    const id = await openIncident('db');
    await flush(10);
    await acknowledge(db, id, { userId: USER, username: 'bob', at: at(12) });
    expect(await flush(20)).toBe(0);
    expect(await pings()).toHaveLength(1);
    expect(await getEscalation(db, id)).toMatchObject({ step: 1, ended: 'acknowledged' });
  });

  it('is not scheduled for a route without escalation, nor for the alert channel', async () => {
    const quiet = await openIncident('quiet');
    expect(await getEscalation(db, quiet)).toBeUndefined();
    expect(await flush(100)).toBe(0);
  });

  it('ends when the config no longer escalates on its route (after a restart with another config)', async () => {
    const id = await openIncident('db');
    config = testConfig({ routes: [{ name: 'db', channelId: CHANNEL }] });
    expect(await flush(10)).toBe(0);
    expect(await getEscalation(db, id)).toMatchObject({ ended: 'unrouted' });
  });

  it('pings once per step however often it is asked: the step and its ping are stored together', async () => {
    await openIncident('db');
    const counts = [await flush(10), await flush(10), await flush(11), await flush(15)];
    expect(counts).toEqual([1, 0, 0, 0]);
    expect(await pings()).toHaveLength(1);
  });

  it('pings once when two leaders flush the same due step at once (one paused past its lease): the late one rolls back', async () => {
    await openIncident('db');
    // Both read the escalation due at step 0 before either records the step.
    const counts = await Promise.all([flush(10), flush(10)]);
    expect(counts.sort()).toEqual([0, 1]);
    expect(await pings()).toHaveLength(1);
    expect(db.sqlite.prepare('SELECT step FROM escalations').pluck().get()).toBe(1);
  });
});
