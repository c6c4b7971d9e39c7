import type { REST } from '../../src/discord/djs.js';
import { afterEach, describe, expect, it } from 'vitest';
import { RateBudget } from '../../src/discord/budget.js';
import { createDrainer, type Drainer } from '../../src/discord/drain.js';
import { createRest } from '../../src/discord/rest.js';
import { createLogger } from '../../src/log.js';
import { openDatabase, type Database } from '../../src/store/db.js';
import { enqueue, get, pendingCount, PRIORITY, type Priority } from '../../src/store/outbox.js';
import { DOUBLE_TOKEN, startDiscordDouble, type DiscordDouble } from '../support/discord-double.js';
import type { DiscordRateLimits } from '../support/discord-ratelimits.js';

const CH_A = '123456789012345678';
const CH_B = '223456789012345678';

let double: DiscordDouble | undefined;
let db: Database | undefined;
let drainer: Drainer | undefined;

afterEach(async () => {
  await drainer?.stop();
  await db?.close();
  await double?.stop();
  drainer = undefined;
  db = undefined;
  double = undefined;
});

/** A drainer on the real clock, learning budgets from the double's headers (as `vigil serve` wires it). */
async function setup(limits: Partial<DiscordRateLimits>): Promise<{ double: DiscordDouble; db: Database; drainer: Drainer; rest: REST }> {
  double = await startDiscordDouble({ channels: [CH_A, CH_B], rateLimits: limits });
  db = openDatabase(':memory:');
  const budget = new RateBudget();
  const rest = createRest({ token: DOUBLE_TOKEN, apiBaseUrl: double.apiBaseUrl, timeoutMs: 5000, budget });
  drainer = createDrainer({
    db,
    rest,
    logger: createLogger({ level: 'silent', secrets: [DOUBLE_TOKEN] }),
    minBackoffMs: 100,
    maxBackoffMs: 1000,
    pollIntervalMs: 1000,
    secrets: [DOUBLE_TOKEN],
    budget,
  });
  return { double, db, drainer, rest };
}

async function add(store: Database, channelId: string, content: string, priority: Priority = PRIORITY.firing, orderKey = content): Promise<number> {
  return await enqueue(store, { orderKey, kind: 'create', channelId, body: { content }, priority });
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The contents of the messages posted, in the order the double took them. */
const posted = (d: DiscordDouble) => d.requests.filter((r) => r.method === 'POST' && r.status === 200).map((r) => (r.body as { content: string }).content);

describe('delivery within Discord rate limits', () => {
  it('keeps to a limit it only learns from the headers, without one 429, and lets another channel go meanwhile', async () => {
    // Not Discord's 5 per 5 s: the drainer must read the limit, not assume it.
    // A window long enough that a loaded machine still decides about a3 and b1 within the first one.
    const { double, db, drainer } = await setup({ createMessage: { limit: 2, windowMs: 1500 } });
    for (let i = 1; i <= 6; i++) await add(db, CH_A, `a${i}`);
    await add(db, CH_B, 'b1');
    drainer.start();
    await until('every message', async () => (await pendingCount(db)) === 0);
    expect(double.rateLimiter?.refusedTotal()).toBe(0);
    expect(double.requests.filter((r) => r.status === 429)).toEqual([]);
    const order = posted(double);
    expect(order.filter((c) => c.startsWith('a'))).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
    // Channel B's message went while channel A's bucket refilled, not after channel A's backlog.
    expect(order.indexOf('b1')).toBeLessThan(order.indexOf('a3'));
    expect(double.invalid).toEqual([]);
  });

  it('sends a critical alert that arrives behind a backlog as soon as the channel has room, before the backlog', async () => {
    const { double, db, drainer } = await setup({ createMessage: { limit: 2, windowMs: 1500 } });
    for (let i = 1; i <= 4; i++) await add(db, CH_A, `firing${i}`);
    drainer.start();
    await until('the first window', () => posted(double).length >= 2);
    await add(db, CH_A, 'critical', PRIORITY.criticalFiring);
    drainer.wake();
    await until('every message', async () => (await pendingCount(db)) === 0);
    expect(posted(double)).toEqual(['firing1', 'firing2', 'critical', 'firing3', 'firing4']);
    expect(double.rateLimiter?.refusedTotal()).toBe(0);
  });

  it('folds several pending edits of one message into one request carrying the latest state', async () => {
    const { double, db, drainer } = await setup({});
    const create = await add(db, CH_A, 'firing: 1 alert', PRIORITY.firing, 'incident:1');
    expect(await drainer.drainOnce()).toBe(1);
    const edits: number[] = [];
    for (const content of ['firing: 2 alerts', 'firing: 3 alerts', 'resolved']) {
      edits.push(await enqueue(db, { orderKey: 'incident:1', kind: 'edit', channelId: CH_A, body: { content }, targetId: create, priority: PRIORITY.update }));
    }
    await drainer.drainOnce();
    const patches = double.requests.filter((r) => r.method === 'PATCH');
    expect(patches.map((r) => (r.body as { content: string }).content)).toEqual(['resolved']);
    expect(await Promise.all(edits.map(async (id) => (await get(db, id))?.status))).toEqual(['superseded', 'superseded', 'sent']);
    expect((await get(db, edits[0]!))?.lastError).toBe(`superseded by outbox item ${edits[2]}`);
    expect([...double.messages.values()].map((m) => m.content)).toEqual(['resolved']);
  });

  it('sends an edit whose older sibling is already sent (nothing newer to fold into)', async () => {
    const { double, db, drainer } = await setup({});
    const create = await add(db, CH_A, 'firing', PRIORITY.firing, 'incident:2');
    await drainer.drainOnce();
    const first = await enqueue(db, { orderKey: 'incident:2', kind: 'edit', channelId: CH_A, body: { content: 'two' }, targetId: create });
    await drainer.drainOnce();
    const second = await enqueue(db, { orderKey: 'incident:2', kind: 'edit', channelId: CH_A, body: { content: 'three' }, targetId: create });
    await drainer.drainOnce();
    expect([(await get(db, first))?.status, (await get(db, second))?.status]).toEqual(['sent', 'sent']);
    expect(double.requests.filter((r) => r.method === 'PATCH')).toHaveLength(2);
  });
});
