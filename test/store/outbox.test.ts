import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/store/db.js';
import { onPostgres, openTestStore } from '../support/store.js';
import {
  claimItem,
  enqueue,
  get,
  incidentKey,
  incidentOfKey,
  markFailed,
  markRetry,
  markSent,
  newestPendingEdit,
  nextDue,
  pacedEditDue,
  releaseHeldEdits,
  nextDueAt,
  pendingCount,
  PRIORITY,
  supersede,
  redactTokens,
  type NewOutboxItem,
} from '../../src/store/outbox.js';

const CHANNEL = '123456789012345678';
const T0 = 1_700_000_000_000;
const TOKEN = 'MTIzNDU2Nzg5MDEyMzQ1Njc4.GdOubL.e-vigil-test-double-token-000000';

let db: Database;

beforeEach(async () => {
  db = await openTestStore();
});

afterEach(async () => {
  await db.close();
});

function add(orderKey: string, kind: NewOutboxItem['kind'] = 'create', targetId?: number, at = T0): Promise<number> {
  return enqueue(db, { orderKey, kind, channelId: CHANNEL, body: { content: `${orderKey} ${kind}` }, targetId }, at);
}

const ids = (rows: { id: number }[]) => rows.map((r) => r.id);

describe('enqueue and get', () => {
  it('stores a pending item, due at once, with its body as JSON', async () => {
    const id = await enqueue(db, { orderKey: 'inc-1', kind: 'create', channelId: CHANNEL, body: { embeds: [{ title: 'CPU high' }] } }, T0);
    expect(await get(db, id)).toEqual({
      id,
      orderKey: 'inc-1',
      kind: 'create',
      channelId: CHANNEL,
      body: { embeds: [{ title: 'CPU high' }] },
      targetId: null,
      status: 'pending',
      attempts: 0,
      nextAttemptAt: T0,
      lastError: null,
      messageId: null,
      createdAt: T0,
      updatedAt: T0,
      priority: PRIORITY.update,
    });
  });

  it('stores a file with the item, and drops its bytes once the item is sent', async () => {
    const data = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]);
    const id = await enqueue(db, { orderKey: 'inc-1', kind: 'create', channelId: CHANNEL, body: { content: 'x' }, file: { name: 'chart.png', data } }, T0);
    expect((await get(db, id))!.file).toEqual({ name: 'chart.png', data });
    expect((await nextDue(db, T0, 10))[0]!.file).toEqual({ name: 'chart.png', data });
    await markSent(db, id, '123456789012345678');
    expect((await get(db, id))!.file).toBeUndefined();
    expect(await db.get('SELECT file_name, file_data FROM outbox WHERE id = ?', id)).toEqual({ file_name: 'chart.png', file_data: null });
  });

  it.each(['', '../chart.png', 'a/b.png', 'x'.repeat(1025)])('refuses the file name %j', async (name) => {
    await expect(enqueue(db, { orderKey: 'inc-1', kind: 'create', channelId: CHANNEL, body: {}, file: { name, data: Buffer.from('x') } }, T0)).rejects.toThrow(
      /file.name/,
    );
  });

  it('returns undefined for an unknown id', async () => {
    expect(await get(db, 999)).toBeUndefined();
  });

  it.each([
    { name: 'an edit without a target', item: { kind: 'edit' as const }, error: /needs targetId/ },
    { name: 'a create with a target', item: { kind: 'create' as const, targetId: 1 }, error: /has no targetId/ },
    { name: 'a target that does not exist', item: { kind: 'reply' as const, targetId: 42 }, error: /42 does not exist/ },
    { name: 'a channel id that is not a snowflake', item: { kind: 'create' as const, channelId: '#alerts' }, error: /snowflake/ },
    { name: 'an empty order key', item: { kind: 'create' as const, orderKey: '' }, error: /orderKey/ },
  ])('refuses $name', async ({ item, error }) => {
    await expect(enqueue(db, { orderKey: 'k', channelId: CHANNEL, body: {}, ...item })).rejects.toThrow(error);
  });

  it('refuses an edit that targets another edit (it needs the create that owns the message)', async () => {
    const create = await add('k');
    const edit = await add('k', 'edit', create);
    await expect(add('k', 'edit', edit)).rejects.toThrow(/expected a create item/);
  });

  it('joins the caller transaction, so a rollback removes the items too', async () => {
    const failing = () =>
      db.transaction(async () => {
        await add('k');
        await add('k');
        expect(await pendingCount(db)).toBe(2);
        throw new Error('incident insert failed');
      });
    await expect(failing()).rejects.toThrow('incident insert failed');
    expect(await pendingCount(db)).toBe(0);
  });

  it('is backed by table constraints as well as by the checks in code', async () => {
    const insert = (kind: string, body: string, targetId: number | null) =>
      db.run(
        `INSERT INTO outbox (order_key, kind, channel_id, body, target_id, next_attempt_at, created_at, updated_at)
         VALUES ('k', ?, '${CHANNEL}', ?, ?, 0, 0, 0)`,
        kind,
        body,
        targetId,
      );
    await expect(insert('delete', '{}', null)).rejects.toThrow(/CHECK|violates check constraint/);
    await expect(insert('create', 'not json', null)).rejects.toThrow(/CHECK|invalid input syntax for type json/);
    await expect(insert('edit', '{}', null)).rejects.toThrow(/CHECK|violates check constraint/);
    await expect(insert('edit', '{}', 12345)).rejects.toThrow(/FOREIGN KEY|violates foreign key constraint/);
  });
});

describe('nextDue', () => {
  it('returns due items oldest first and only one item per order key', async () => {
    const a1 = await add('A');
    const b1 = await add('B');
    await add('A');
    await add('B');
    expect(ids(await nextDue(db, T0, 10))).toEqual([a1, b1]);
  });

  it('releases the next item of a key once the one before it is sent or failed', async () => {
    const a1 = await add('A');
    const a2 = await add('A');
    const a3 = await add('A');
    await markSent(db, a1, '1000000000000000001');
    expect(ids(await nextDue(db, T0, 10))).toEqual([a2]);
    await markFailed(db, a2, 'client: 400 Invalid Form Body');
    expect(ids(await nextDue(db, T0, 10))).toEqual([a3]);
  });

  it('holds an item back until its next attempt time, and its key with it', async () => {
    const a1 = await add('A');
    await add('A');
    const b1 = await add('B');
    await markRetry(db, a1, 'server: 500 Internal Server Error', T0 + 5000);
    expect(ids(await nextDue(db, T0 + 4999, 10))).toEqual([b1]);
    expect(ids(await nextDue(db, T0 + 5000, 10))).toEqual([a1, b1]);
  });

  it('does not return an item enqueued for later', async () => {
    await add('A', 'create', undefined, T0 + 60_000);
    expect(await nextDue(db, T0, 10)).toEqual([]);
  });

  it('holds an edit back while its create is pending, even under another order key', async () => {
    const create = await add('create-key');
    const edit = await add('edit-key', 'edit', create);
    await markRetry(db, create, 'timeout: aborted', T0 + 1000);
    expect(ids(await nextDue(db, T0, 10))).toEqual([]);
    await markSent(db, create, '1000000000000000001');
    expect(ids(await nextDue(db, T0, 10))).toEqual([edit]);
  });

  it('releases an edit whose create failed for good (the drainer posts it anew)', async () => {
    const create = await add('A');
    const edit = await add('A', 'edit', create);
    await markFailed(db, create, 'auth: 403 Missing Access');
    expect(ids(await nextDue(db, T0, 10))).toEqual([edit]);
  });

  it('honours the limit', async () => {
    const first = await add('A');
    await add('B');
    await add('C');
    expect(ids(await nextDue(db, T0, 1))).toEqual([first]);
  });
});

describe('priority and lanes', () => {
  function addRanked(
    orderKey: string,
    priority: (typeof PRIORITY)[keyof typeof PRIORITY],
    kind: NewOutboxItem['kind'] = 'create',
    targetId?: number,
  ): Promise<number> {
    return enqueue(db, { orderKey, kind, channelId: CHANNEL, body: { content: orderKey }, targetId, priority }, T0);
  }

  it('hands out a critical new message first, then new firing ones, updates, resolves and thread details, each oldest first', async () => {
    const details = await addRanked('D', PRIORITY.details);
    const resolve = await addRanked('R', PRIORITY.resolve);
    const update = await addRanked('U', PRIORITY.update);
    const firing1 = await addRanked('F1', PRIORITY.firing);
    const firing2 = await addRanked('F2', PRIORITY.firing);
    const critical = await addRanked('C', PRIORITY.criticalFiring);
    expect(ids(await nextDue(db, T0, 10))).toEqual([critical, firing1, firing2, update, resolve, details]);
  });

  it('ranks an item nobody ranked with the updates', async () => {
    const plain = await add('P');
    expect((await get(db, plain))?.priority).toBe(PRIORITY.update);
  });

  it("lets an incident's message change overtake its pending thread details, but keeps each lane in order", async () => {
    const create = await addRanked('incident:1', PRIORITY.firing);
    await markSent(db, create, '1000000000000000001');
    const thread = await addRanked('incident:1', PRIORITY.details, 'thread', create);
    const post = await addRanked('incident:1', PRIORITY.details, 'thread-post', create);
    const edit = await addRanked('incident:1', PRIORITY.resolve, 'edit', create);
    const archive = await addRanked('incident:1', PRIORITY.details, 'thread-archive', create);
    expect(ids(await nextDue(db, T0, 10))).toEqual([edit, thread]);
    await markSent(db, thread, '1000000000000000001');
    expect(ids(await nextDue(db, T0, 10))).toEqual([edit, post]);
    await markSent(db, post, '1000000000000000002');
    expect(ids(await nextDue(db, T0, 10))).toEqual([edit, archive]);
  });

  it('names the newest pending edit of a message, and sets an older one aside as superseded', async () => {
    const create = await add('A');
    await markSent(db, create, '1000000000000000001');
    const first = await add('A', 'edit', create);
    const second = await add('A', 'edit', create);
    expect(await newestPendingEdit(db, create)).toBe(second);
    await supersede(db, first, second);
    expect(await get(db, first)).toMatchObject({ status: 'superseded', lastError: `superseded by outbox item ${second}` });
    expect(ids(await nextDue(db, T0, 10))).toEqual([second]);
    await expect(supersede(db, first, second)).rejects.toThrow(/is superseded, not pending/);
  });

  it('says when the next item not due yet becomes due', async () => {
    expect(await nextDueAt(db, T0)).toBeUndefined();
    const a = await add('A');
    await add('B');
    await markRetry(db, a, 'rate-limited', T0 + 4000);
    expect(await nextDueAt(db, T0)).toBe(T0 + 4000);
    expect(await nextDueAt(db, T0 + 4000)).toBeUndefined();
  });
});

describe('paced edits', () => {
  const PACE = 15_000;
  const edit = (create: number, at: number, dueAt?: number) =>
    enqueue(
      db,
      { orderKey: 'incident:1', kind: 'edit', channelId: CHANNEL, body: { content: 'edit' }, targetId: create, ...(dueAt !== undefined ? { dueAt } : {}) },
      at,
    );

  it('holds an edit enqueued with dueAt until then, and never makes it due earlier than its enqueue time', async () => {
    const create = await add('incident:1');
    await markSent(db, create, '900000000000000001');
    const held = await edit(create, T0 + 1000, T0 + PACE);
    expect(await nextDue(db, T0 + 1000, 10)).toEqual([]);
    expect(await nextDueAt(db, T0 + 1000)).toBe(T0 + PACE);
    expect((await nextDue(db, T0 + PACE, 10)).map((r) => r.id)).toEqual([held]);
    expect((await get(db, await edit(create, T0 + 2000, T0)))!.nextAttemptAt).toBe(T0 + 2000);
  });

  it.each([
    ['the message was created moments ago', [] as number[], T0 + 1000, T0 + PACE],
    ['the message was created long ago', [], T0 + 60_000, T0 + 60_000],
    ['an edit is already held: the same moment', [T0 + 9000], T0 + 2000, T0 + 9000],
    ['an edit due already still waits for the budget: at once, never after it', [T0 + 500], T0 + 2000, T0 + 2000],
  ])('puts the next edit when %s', async (_name, held, now, due) => {
    const create = await add('incident:1');
    for (const at of held) await edit(create, T0 + 500, at);
    expect(await pacedEditDue(db, create, now, PACE)).toBe(due);
  });

  it('counts from the last edit sent, not from the create', async () => {
    const create = await add('incident:1');
    const first = await edit(create, T0 + 20_000);
    await db.run(`UPDATE outbox SET status = 'sent', updated_at = ? WHERE id = ?`, T0 + 21_000, first);
    expect(await pacedEditDue(db, create, T0 + 22_000, PACE)).toBe(T0 + 21_000 + PACE);
  });

  it('releases the held edits of one message only, at once', async () => {
    const a = await add('incident:1');
    const b = await add('incident:2');
    const heldA = await edit(a, T0, T0 + PACE);
    const heldB = await enqueue(db, { orderKey: 'incident:2', kind: 'edit', channelId: CHANNEL, body: { content: 'b' }, targetId: b, dueAt: T0 + PACE }, T0);
    await releaseHeldEdits(db, a, T0 + 100);
    expect((await get(db, heldA))!.nextAttemptAt).toBe(T0 + 100);
    expect((await get(db, heldB))!.nextAttemptAt).toBe(T0 + PACE);
  });
});

describe('marking items', () => {
  it('records the message id and counts the successful attempt', async () => {
    const id = await add('A');
    await markRetry(db, id, 'server: 502 Bad Gateway', T0);
    await markSent(db, id, '1000000000000000001');
    expect(await get(db, id)).toMatchObject({ status: 'sent', messageId: '1000000000000000001', attempts: 2 });
    expect(await pendingCount(db)).toBe(0);
  });

  it('records each retry with its error and next attempt time', async () => {
    const id = await add('A');
    await markRetry(db, id, 'rateLimited: retry after 2000ms', T0 + 2000);
    expect(await get(db, id)).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastError: 'rateLimited: retry after 2000ms',
      nextAttemptAt: T0 + 2000,
    });
  });

  it('records a permanent failure with its reason', async () => {
    const id = await add('A');
    await markFailed(db, id, 'client: 400 Invalid Form Body');
    expect(await get(db, id)).toMatchObject({ status: 'failed', attempts: 1, lastError: 'client: 400 Invalid Form Body' });
  });

  it.each([
    { name: 'sent', mark: (id: number) => markSent(db, id, '1') },
    { name: 'failed', mark: (id: number) => markFailed(db, id, 'x') },
  ])('refuses to change an item that is already $name', async ({ name, mark }) => {
    const id = await add('A');
    await mark(id);
    await expect(markRetry(db, id, 'late', T0)).rejects.toThrow(`outbox item ${id} is ${name}, not pending`);
  });

  it('refuses to mark an item that does not exist', async () => {
    await expect(markSent(db, 77, '1')).rejects.toThrow('outbox item 77 does not exist');
  });

  it('never stores a token carried by an error message', async () => {
    const id = await add('A');
    await markRetry(db, id, `401 Unauthorized for Authorization: Bot ${TOKEN}`, T0);
    expect((await get(db, id))?.lastError).toBe('401 Unauthorized for Authorization: Bot [redacted]');
    await markFailed(db, id, `proxy echoed ${TOKEN} back`);
    expect((await get(db, id))?.lastError).toBe('proxy echoed [redacted] back');
  });

  it('caps a long error so one item cannot bloat the database', async () => {
    const id = await add('A');
    await markFailed(db, id, 'x'.repeat(10_000));
    expect((await get(db, id))?.lastError?.length).toBe(1000);
  });
});

describe('redactTokens', () => {
  it.each([
    { text: `Bot ${TOKEN}`, expected: 'Bot [redacted]' },
    { text: 'Bearer abcdefghijklmnop', expected: 'Bearer [redacted]' },
    { text: `token=${TOKEN};`, expected: 'token=[redacted];' },
    { text: '500 Internal Server Error', expected: '500 Internal Server Error' },
    {
      text: 'embeds[0].title[BASE_TYPE_MAX_LENGTH]: Must be 256 or fewer in length.',
      expected: 'embeds[0].title[BASE_TYPE_MAX_LENGTH]: Must be 256 or fewer in length.',
    },
  ])('turns "$text" into "$expected"', ({ text, expected }) => {
    expect(redactTokens(text)).toBe(expected);
  });
});

// SQLite only: this closes and reopens the database file. Nothing to unskip on PostgreSQL, where the
// server keeps the data: test/store/postgres.int.test.ts reopens a pool on what another one wrote.
describe.skipIf(onPostgres())('durability', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-outbox-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps pending items, attempts and backoff across a close and reopen of a file database', async () => {
    const path = join(dir, 'vigil.db');
    const first = openDatabase(path);
    const sent = await enqueue(first, { orderKey: 'A', kind: 'create', channelId: CHANNEL, body: { content: 'one' } }, T0);
    const edit = await enqueue(first, { orderKey: 'A', kind: 'edit', channelId: CHANNEL, body: { content: 'two' }, targetId: sent }, T0);
    await markSent(first, sent, '1000000000000000001');
    await markRetry(first, edit, 'server: 503 Service Unavailable', T0 + 30_000);
    const before = [await get(first, sent), await get(first, edit)];
    await first.close();

    const second = openDatabase(path);
    try {
      expect([await get(second, sent), await get(second, edit)]).toEqual(before);
      expect(await pendingCount(second)).toBe(1);
      expect(ids(await nextDue(second, T0 + 30_000, 10))).toEqual([edit]);
    } finally {
      await second.close();
    }
  });
});

describe('incident order keys', () => {
  it.each([
    ['an incident key', incidentKey(42), 42],
    ['a digest key', 'digest:2026-12-06', undefined],
    ['a snapshot key', 'snapshot:2026-12-06', undefined],
    ['a malformed incident key', 'incident:x', undefined],
    ['an incident key with no id', 'incident:', undefined],
  ])('reads %s back to its incident', (_name, key, incident) => {
    expect(incidentOfKey(key)).toBe(incident);
  });
});

describe('claims (replicas sharing the store)', () => {
  const TTL = 15_000;

  it('lets one replica claim an item and keeps it from another until the claim runs out', async () => {
    const id = await add('A');
    expect(await claimItem(db, id, 'replica-a', T0, TTL)).toBe(true);
    expect(await claimItem(db, id, 'replica-b', T0 + 1000, TTL)).toBe(false);
    expect(await claimItem(db, id, 'replica-b', T0 + TTL - 1, TTL)).toBe(false);
    expect(await claimItem(db, id, 'replica-b', T0 + TTL, TTL)).toBe(true);
  });

  it('renews the holder its own claim', async () => {
    const id = await add('A');
    await claimItem(db, id, 'replica-a', T0, TTL);
    expect(await claimItem(db, id, 'replica-a', T0 + 1000, TTL)).toBe(true);
    expect(await claimItem(db, id, 'replica-b', T0 + TTL, TTL)).toBe(false);
  });

  it('claims only pending items', async () => {
    const id = await add('A');
    await markSent(db, id, '1000000000000000001');
    expect(await claimItem(db, id, 'replica-a', T0, TTL)).toBe(false);
  });

  it("hides another replica's live claim from nextDue, and the items after it in its lane, but not from its holder", async () => {
    const first = await add('A');
    const second = await add('A');
    const other = await add('B');
    await claimItem(db, first, 'replica-a', T0, TTL);
    expect(ids(await nextDue(db, T0 + 1000, 10, 'replica-b'))).toEqual([other]);
    expect(ids(await nextDue(db, T0 + 1000, 10, 'replica-a'))).toEqual([first, other]);
    expect(ids(await nextDue(db, T0 + TTL, 10, 'replica-b'))).toEqual([first, other]);
    // Without a claimant (one process), claims are not read.
    expect(ids(await nextDue(db, T0 + 1000, 10))).toEqual([first, other]);
    expect(second).toBeGreaterThan(first);
  });
});
