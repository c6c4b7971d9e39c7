import type { REST } from '../../src/discord/djs.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, nonceFor } from '../../src/discord/attempt.js';
import { createDrainer, type Drainer } from '../../src/discord/drain.js';
import { createRest, postMessage } from '../../src/discord/rest.js';
import { createLogger } from '../../src/log.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database, type SqliteDatabase } from '../../src/store/db.js';
import { claimItem, enqueue, get, markFailed, pendingCount, type NewOutboxItem } from '../../src/store/outbox.js';
import { DOUBLE_TOKEN, startDiscordDouble, type DiscordDouble, type ScriptedResponse } from '../support/discord-double.js';

const CHANNEL = '123456789012345678';
const MIN_BACKOFF = 1000;
const MAX_BACKOFF = 60_000;

let double: DiscordDouble;
let db: Database;
let clock: number;
let logLines: string[];
let rest: REST;
let drainer: Drainer;

function makeDrainer(overrides: { rest?: REST; pollIntervalMs?: number; metrics?: Metrics; probe?: () => Promise<void> } = {}): Drainer {
  const logger = createLogger({ level: 'debug', secrets: [DOUBLE_TOKEN] }, { write: (line: string) => void logLines.push(line) });
  return createDrainer({
    db,
    rest: overrides.rest ?? rest,
    logger,
    now: () => new Date(clock),
    minBackoffMs: MIN_BACKOFF,
    maxBackoffMs: MAX_BACKOFF,
    pollIntervalMs: overrides.pollIntervalMs ?? 60_000,
    secrets: [DOUBLE_TOKEN],
    random: () => 0.5,
    ...(overrides.metrics ? { metrics: overrides.metrics } : {}),
    ...(overrides.probe ? { probe: overrides.probe } : {}),
  });
}

beforeEach(async () => {
  double = await startDiscordDouble();
  db = openDatabase(':memory:');
  clock = Date.now();
  logLines = [];
  rest = createRest({ token: DOUBLE_TOKEN, apiBaseUrl: double.apiBaseUrl, timeoutMs: 2000 });
  drainer = makeDrainer();
});

afterEach(async () => {
  await drainer.stop();
  await db.close();
  await double.stop();
});

async function add(kind: NewOutboxItem['kind'], body: object, targetId?: number, orderKey = 'incident-1'): Promise<number> {
  return await enqueue(db, { orderKey, kind, channelId: CHANNEL, body, targetId }, clock);
}

const logs = () => logLines.map((l) => JSON.parse(l) as Record<string, unknown>);

/** Drains, moving the clock past every backoff, until nothing is pending (or `rounds` runs out). */
async function drainUntilSettled(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds && (await pendingCount(db)) > 0; i++) {
    await drainer.drainOnce();
    clock += MAX_BACKOFF;
  }
}

describe('drainer delivering to the Discord double', () => {
  it('posts a create, then edits that same message for the edit', async () => {
    const create = await add('create', { embeds: [{ title: 'CPU high on node-1', color: 0xe74c3c }] });
    const edit = await add('edit', { embeds: [{ title: 'Resolved: CPU high on node-1', color: 0x2ecc71 }] }, create);

    expect(await drainer.drainOnce()).toBe(2);

    const messageId = (await get(db, create))?.messageId;
    expect(messageId).toEqual(expect.any(String));
    expect(await get(db, edit)).toMatchObject({ status: 'sent', messageId, attempts: 1 });
    expect(double.messages.size).toBe(1);
    expect(double.messages.get(messageId!)?.embeds[0]?.title).toBe('Resolved: CPU high on node-1');
    expect(double.requests.map((r) => `${r.method} ${r.operationId}`)).toEqual(['POST create_message', 'PATCH update_message']);
    expect(double.invalid).toEqual([]);
  });

  it("uploads an item's stored file with its create and its edit, and drops the bytes once sent", async () => {
    const body = { embeds: [{ title: 'CPU high', image: { url: 'attachment://chart.png' } }], attachments: [{ id: '0', filename: 'chart.png' }] };
    const create = await enqueue(
      db,
      { orderKey: 'incident-1', kind: 'create', channelId: CHANNEL, body, file: { name: 'chart.png', data: Buffer.from('firing chart') } },
      clock,
    );
    const edit = await enqueue(
      db,
      { orderKey: 'incident-1', kind: 'edit', channelId: CHANNEL, body, targetId: create, file: { name: 'chart.png', data: Buffer.from('resolved chart') } },
      clock,
    );
    expect(await drainer.drainOnce()).toBe(2);
    const message = double.messages.get((await get(db, create))!.messageId!)!;
    expect(message.attachments).toHaveLength(1);
    expect(double.attachmentData.get(message.attachments[0]!.id)!.toString()).toBe('resolved chart');
    expect(double.requests.map((r) => r.files?.map((f) => f.data.toString()))).toEqual([['firing chart'], ['resolved chart']]);
    expect((await get(db, create))!.file).toBeUndefined();
    expect((await get(db, edit))!.file).toBeUndefined();
    expect(double.invalid).toEqual([]);
  });

  it('posts an edit with its file as a new message when its create failed for good', async () => {
    const create = await add('create', { content: 'never delivered' });
    await markFailed(db, create, 'gave up');
    const body = { embeds: [{ title: 'Resolved', image: { url: 'attachment://chart.png' } }], attachments: [{ id: '0', filename: 'chart.png' }] };
    const edit = await enqueue(
      db,
      { orderKey: 'incident-1', kind: 'edit', channelId: CHANNEL, body, targetId: create, file: { name: 'chart.png', data: Buffer.from('chart') } },
      clock,
    );
    await drainer.drainOnce();
    const message = double.messages.get((await get(db, edit))!.messageId!)!;
    expect(message.attachments).toMatchObject([{ filename: 'chart.png' }]);
    expect(message.embeds[0]!.image!.url).toBe(message.attachments[0]!.url);
    expect(double.invalid).toEqual([]);
  });

  it('replies to the target message without failing if it was deleted', async () => {
    const create = await add('create', { content: 'firing' });
    const reply = await add('reply', { content: 'still firing after 1h' }, create);
    await drainer.drainOnce();
    const target = (await get(db, create))!.messageId!;
    expect(double.requests[1]?.body).toMatchObject({ message_reference: { message_id: target, fail_if_not_exists: false } });
    expect(double.messages.get((await get(db, reply))!.messageId!)).toMatchObject({ type: 19, message_reference: { message_id: target } });
    expect(double.invalid).toEqual([]);
  });

  it('survives a 429 (waited inside REST) and three 500s, posting exactly one message', async () => {
    const rateLimit: ScriptedResponse = {
      status: 429,
      body: { message: 'You are being rate limited.', retry_after: 0.1, global: false },
      headers: { 'retry-after': '0.1', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': '0.1', 'x-ratelimit-scope': 'user' },
    };
    double.failNext([rateLimit, { status: 500 }, { status: 500 }, { status: 500 }]);
    const id = await add('create', { content: 'disk almost full' });

    await drainUntilSettled();

    expect(await get(db, id)).toMatchObject({ status: 'sent', attempts: 4, lastError: 'server: 500 Internal Server Error' });
    expect(double.messages.size).toBe(1);
    expect(double.requests.map((r) => r.status)).toEqual([429, 500, 500, 500, 200]);
    expect(double.invalid).toEqual([]);
  });

  it('backs off exponentially between retries of a server error', async () => {
    double.failNext([{ status: 503 }, { status: 503 }, { status: 503 }]);
    const id = await add('create', { content: 'x' });
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      await drainer.drainOnce();
      waits.push((await get(db, id))!.nextAttemptAt - clock);
      clock = (await get(db, id))!.nextAttemptAt;
    }
    // random() = 0.5 gives 3/4 of each exponential step, never below the minimum.
    expect(waits).toEqual([1000, 1500, 3000]);
  });

  it('does not try an item again before its backoff is over', async () => {
    double.failNext([{ status: 500 }]);
    await add('create', { content: 'x' });
    await drainer.drainOnce();
    expect(await drainer.drainOnce()).toBe(0);
    expect(double.requests).toHaveLength(1);
  });

  it('waits as long as Discord asks when a rate limit is too long for REST to sit out', async () => {
    drainer = makeDrainer({ rest: createRest({ token: DOUBLE_TOKEN, apiBaseUrl: double.apiBaseUrl, maxRateLimitWaitMs: 500 }) });
    double.failNext([
      {
        status: 429,
        body: { message: 'You are being rate limited.', retry_after: 42, global: false },
        headers: { 'retry-after': '42', 'x-ratelimit-scope': 'user' },
      },
    ]);
    const id = await add('create', { content: 'x' });
    await drainer.drainOnce();
    const row = (await get(db, id))!;
    expect(row).toMatchObject({ status: 'pending', attempts: 1 });
    expect(row.lastError).toMatch(/^rateLimited: /);
    expect(row.nextAttemptAt - clock).toBeGreaterThanOrEqual(42_000);
  });

  it.each([
    { name: 'an invalid body (400)', body: { embeds: [{ title: 'x'.repeat(300) }] }, script: [], reason: 'client', status: 400, error: /BASE_TYPE_MAX_LENGTH/ },
  ])('marks $name as failed with its reason and never retries it', async ({ body, script, reason, status, error }) => {
    double.failNext(script);
    const id = await add('create', body);
    await drainUntilSettled(3);

    const row = (await get(db, id))!;
    expect(row).toMatchObject({ status: 'failed', attempts: 1 });
    expect(row.lastError).toMatch(new RegExp(`^${reason}: `));
    expect(row.lastError).toMatch(error);
    expect(double.requests).toHaveLength(1);
    expect(logs().find((l) => l.level === 50)).toMatchObject({ outboxId: id, kind: 'create', attempt: 1, reason, status });
  });

  it.each([
    { name: 'Missing Permissions (403, 50013)', status: 403, code: 50013, message: 'Missing Permissions', fix: /Send Messages, Embed Links, Attach Files/ },
    { name: 'Missing Access (403, 50001)', status: 403, code: 50001, message: 'Missing Access', fix: /View Channel and Send Messages/ },
    { name: 'Unknown Channel (404, 10003)', status: 404, code: 10003, message: 'Unknown Channel', fix: /check discord.alertChannelId/ },
  ])(
    'holds every delivery to a channel Discord refuses with $name, logs it once, and delivers them in order once fixed',
    async ({ status, code, message, fix }) => {
      const refusal: ScriptedResponse = { status, body: { message, code } };
      double.failNext([refusal, refusal]);
      const first = await add('create', { content: 'first alert' }, undefined, 'incident-1');
      const second = await add('create', { content: 'second alert' }, undefined, 'incident-2');

      await drainer.drainOnce();
      // One request: the second alert waits behind the refused first instead of meeting the same refusal.
      expect(double.requests).toHaveLength(1);
      expect(await get(db, first)).toMatchObject({ status: 'pending', attempts: 1 });
      expect((await get(db, first))!.lastError).toMatch(new RegExp(`^channel: ${status}.*${message}`));
      expect(await get(db, second)).toMatchObject({ status: 'pending', attempts: 0 });
      expect(await drainer.holds()).toEqual({ token: false, channels: [{ channelId: CHANNEL, message: expect.stringContaining(message) }] });

      clock += MAX_BACKOFF;
      await drainer.drainOnce();
      expect(double.requests).toHaveLength(2);
      const errors = logs().filter((l) => l.level === 50);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ channelId: CHANNEL, reason: 'channel', status });
      expect(String(errors[0]!.msg)).toMatch(new RegExp(`^Discord refuses deliveries to channel ${CHANNEL}: every one is held, none given up; to fix: `));
      expect(String(errors[0]!.msg)).toMatch(fix);
      expect(logLines.join('\n')).not.toMatch(/giving up/);

      // Fixed: both go out, oldest first, each once.
      clock += MAX_BACKOFF;
      await drainer.drainOnce();
      expect(await get(db, first)).toMatchObject({ status: 'sent', attempts: 3 });
      expect(await get(db, second)).toMatchObject({ status: 'sent', attempts: 1 });
      expect([...double.messages.values()].map((m) => m.content)).toEqual(['first alert', 'second alert']);
      expect(await drainer.holds()).toEqual({ token: false, channels: [] });
      expect(logs().some((l) => l.level === 30 && /accepts deliveries to channel .* again/.test(String(l.msg)))).toBe(true);
    },
  );

  it("never lets a full batch of a held channel's items hide another channel's", async () => {
    double.failNext([{ status: 403, body: { message: 'Missing Access', code: 50001 } }]);
    for (let i = 0; i < 25; i++) await add('create', { content: `held ${i}` }, undefined, `incident-${i}`);
    const other = await enqueue(db, { orderKey: 'incident-other', kind: 'create', channelId: '223456789012345678', body: { content: 'elsewhere' } }, clock);
    await drainer.drainOnce();
    await drainer.drainOnce();
    expect((await get(db, other))!.status).toBe('sent');
    expect(double.requests.filter((r) => r.path.includes(CHANNEL))).toHaveLength(1);
  });

  it("posts an edit anew in the alert channel when its message's old channel is closed to the bot", async () => {
    const OLD = '323456789012345678';
    const create = await enqueue(db, { orderKey: 'incident-1', kind: 'create', channelId: OLD, body: { content: 'firing' } }, clock);
    await drainer.drainOnce();
    double.failNext([{ status: 403, body: { message: 'Missing Access', code: 50001 } }]);
    // alertChannelId changed since: the resolve edit belongs to the new channel.
    const edit = await enqueue(db, { orderKey: 'incident-1', kind: 'edit', channelId: CHANNEL, body: { content: 'resolved' }, targetId: create }, clock);
    await drainer.drainOnce();
    expect((await get(db, edit))!.status).toBe('sent');
    expect(double.messages.get((await get(db, edit))!.messageId!)).toMatchObject({ channel_id: CHANNEL, content: 'resolved' });
    expect((await drainer.holds()).channels).toEqual([]);
  });

  it("sends an incident's note to the channel when its thread refuses posts", async () => {
    const create = await add('create', { content: 'firing' });
    await add('thread', { name: 'incident', auto_archive_duration: 1440 }, create);
    await drainer.drainOnce();
    double.failNext([{ status: 403, body: { message: 'Missing Permissions', code: 50013 } }]);
    const note = await add('thread-post', { content: 'resolved note' }, create);
    await drainer.drainOnce();
    await drainer.drainOnce();
    const row = (await get(db, note))!;
    expect(row.status).toBe('sent');
    expect(double.messages.get(row.messageId!)).toMatchObject({ channel_id: CHANNEL, content: 'resolved note' });
  });

  it('still holds a refused channel after a restart, from the stored error, until Discord takes it', async () => {
    double.failNext([{ status: 403, body: { message: 'Missing Access', code: 50001 } }]);
    const id = await add('create', { content: 'held across a restart' });
    await drainer.drainOnce();
    await drainer.stop();
    drainer = makeDrainer();
    expect((await drainer.holds()).channels).toEqual([{ channelId: CHANNEL, message: expect.stringContaining('Missing Access') }]);
    clock += MAX_BACKOFF;
    await drainer.drainOnce();
    expect((await get(db, id))!.status).toBe('sent');
    expect((await drainer.holds()).channels).toEqual([]);
  });

  it("holds only the refused channel: another channel's alerts still go out", async () => {
    double.failNext([{ status: 403, body: { message: 'Missing Access', code: 50001 } }]);
    const refused = await add('create', { content: 'to the refused channel' });
    const other = await enqueue(db, { orderKey: 'incident-9', kind: 'create', channelId: '223456789012345678', body: { content: 'elsewhere' } }, clock);
    await drainer.drainOnce();
    expect((await get(db, refused))!.status).toBe('pending');
    expect((await get(db, other))!.status).toBe('sent');
  });

  it('posts the edit as a new message when its create failed for good', async () => {
    const create = await add('create', { content: 'firing' });
    const edit = await add('edit', { content: 'resolved' }, create);
    await markFailed(db, create, 'client: 400 Invalid Form Body');

    await drainer.drainOnce();

    const row = (await get(db, edit))!;
    expect(row.status).toBe('sent');
    expect(double.messages.get(row.messageId!)?.content).toBe('resolved');
    expect(double.requests.map((r) => r.operationId)).toEqual(['create_message']);
    expect(logs().some((l) => l.level === 40 && l.outboxId === edit && /new message/.test(String(l.msg)))).toBe(true);
    expect(double.invalid).toEqual([]);
  });

  it('posts a reply without a reference when its create failed for good', async () => {
    const create = await add('create', { content: 'firing' });
    const reply = await add('reply', { content: 'update' }, create);
    await markFailed(db, create, 'auth: 403 Missing Access');
    await drainer.drainOnce();
    expect((await get(db, reply))?.status).toBe('sent');
    expect(double.requests[0]?.body).not.toHaveProperty('message_reference');
    expect(double.invalid).toEqual([]);
  });

  it('posts the edit as a new message when someone deleted the original in Discord', async () => {
    const create = await add('create', { content: 'firing' });
    await drainer.drainOnce();
    double.messages.delete((await get(db, create))!.messageId!);
    const edit = await add('edit', { content: 'resolved' }, create);

    await drainer.drainOnce();

    const row = (await get(db, edit))!;
    expect(row.status).toBe('sent');
    expect(row.messageId).not.toBe((await get(db, create))!.messageId);
    expect(double.messages.get(row.messageId!)?.content).toBe('resolved');
    expect(double.requests.map((r) => r.status)).toEqual([200, 404, 200]);
  });

  it('keeps per-incident order: a failing incident holds its own edit back, not other incidents', async () => {
    double.failNext([{ status: 500 }]);
    const a = await add('create', { content: 'A firing' }, undefined, 'incident-A');
    const aEdit = await add('edit', { content: 'A resolved' }, a, 'incident-A');
    const b = await add('create', { content: 'B firing' }, undefined, 'incident-B');

    await drainer.drainOnce();
    expect((await get(db, b))?.status).toBe('sent');
    expect((await get(db, aEdit))?.status).toBe('pending');
    expect((await get(db, aEdit))?.attempts).toBe(0);

    clock += MAX_BACKOFF;
    await drainer.drainOnce();
    expect(double.requests.map((r) => `${r.operationId}:${(r.body as { content: string }).content}`)).toEqual([
      'create_message:A firing',
      'create_message:B firing',
      'create_message:A firing',
      'update_message:A resolved',
    ]);
    expect(double.messages.size).toBe(2);
  });
});

describe('nonce: a retry after a lost response does not post twice', () => {
  it.each([
    { name: 'Discord stored the message but the answer was a 502', lost: { status: 502, afterHandling: true } },
    { name: 'Discord stored the message but the connection dropped', lost: { status: 200, afterHandling: true, dropConnection: true } },
  ])('$name', async ({ lost }) => {
    double.failNext([lost]);
    const id = await add('create', { content: 'once only' });

    await drainUntilSettled();

    expect(double.requests).toHaveLength(2);
    expect(double.messages.size).toBe(1);
    const [message] = double.messages.values();
    expect(await get(db, id)).toMatchObject({ status: 'sent', attempts: 2, messageId: message!.id });
    expect(double.requests.map((r) => (r.body as { nonce: string }).nonce)).toEqual([nonceFor((await get(db, id))!), nonceFor((await get(db, id))!)]);
    expect(double.invalid).toEqual([]);
  });

  it('the same nonce posted twice through REST yields one message', async () => {
    const nonce = nonceFor({ id: 1, createdAt: clock });
    const first = await postMessage(rest, CHANNEL, { content: 'x' }, nonce);
    const second = await postMessage(rest, CHANNEL, { content: 'x' }, nonce);
    expect(second.id).toBe(first.id);
    expect(double.messages.size).toBe(1);
  });

  it('derives a nonce of at most 25 characters that differs between databases', () => {
    expect(nonceFor({ id: 1, createdAt: 1_700_000_000_000 })).toBe('vigil-1-loyw3v28');
    expect(nonceFor({ id: 1, createdAt: 1_700_000_000_001 })).not.toBe(nonceFor({ id: 1, createdAt: 1_700_000_000_000 }));
    expect(nonceFor({ id: 9_999_999_999, createdAt: 4_102_444_800_000 }).length).toBeLessThanOrEqual(25);
  });
});

describe('secrets', () => {
  it('keeps the token out of the stored error and every log line, even when Discord echoes it', async () => {
    double.failNext([{ status: 403, body: { message: `Missing Access for Bot ${DOUBLE_TOKEN}`, code: 50001 } }]);
    const id = await add('create', { content: 'x' });
    await drainer.drainOnce();

    const row = (await get(db, id))!;
    expect(row.status).toBe('pending');
    expect(row.lastError).toContain('Missing Access');
    expect(row.lastError).not.toContain(DOUBLE_TOKEN);
    const failure = logs().find((l) => l.level === 50);
    expect(failure).toMatchObject({ outboxId: id, kind: 'create', attempt: 1, reason: 'channel', status: 403 });
    expect(JSON.stringify(await drainer.holds())).not.toContain(DOUBLE_TOKEN);
    expect(logLines.join('\n')).not.toContain(DOUBLE_TOKEN);
  });

  it('keeps a wrong token out of errors and logs when Discord answers 401, and the alert pending', async () => {
    const wrongToken = 'MTk4NzY1NDMyMTk4NzY1NDMy.GwRong.a-token-that-discord-does-not-know';
    const wrongRest = createRest({ token: wrongToken, apiBaseUrl: double.apiBaseUrl });
    const logger = createLogger({ secrets: [wrongToken] }, { write: (line: string) => void logLines.push(line) });
    drainer = createDrainer({
      db,
      rest: wrongRest,
      logger,
      now: () => new Date(clock),
      minBackoffMs: 10,
      maxBackoffMs: 100,
      pollIntervalMs: 1000,
      secrets: [wrongToken],
    });
    const id = await add('create', { content: 'x' });

    await drainer.drainOnce();
    clock += 100; // the hold: maxBackoffMs, here under the one-minute cap
    await drainer.drainOnce();

    // Still wrong after the hold (the token was set again and refused again): pending, never given up.
    expect(await get(db, id)).toMatchObject({ status: 'pending', attempts: 2, lastError: 'auth: 401: Unauthorized (code 0)' });
    expect(double.requests.filter((r) => r.operationId === 'create_message')).toHaveLength(2);
    // Two refusals, one outage: logged once.
    const errors = logs().filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ reason: 'auth', status: 401 });
    expect(logLines.join('\n')).not.toContain(wrongToken);
    expect(JSON.stringify(double.invalid)).not.toContain(wrongToken);
  });

  it('holds every delivery while Discord rejects the token, then delivers them all once it accepts it again', async () => {
    double.failNext([{ status: 401, body: { message: '401: Unauthorized', code: 0 } }]);
    const ids = [
      await add('create', { content: 'a' }, undefined, 'incident-a'),
      await add('create', { content: 'b' }, undefined, 'incident-b'),
      await add('create', { content: 'c' }, undefined, 'incident-c'),
    ];

    expect(await drainer.drainOnce()).toBe(1); // the first 401 holds the rest: they are not even tried
    expect(await Promise.all(ids.map(async (id) => (await get(db, id))?.status))).toEqual(['pending', 'pending', 'pending']);
    clock += 59_000; // the hold is capped at a minute (MAX_BACKOFF is 60 s here)
    expect(await drainer.drainOnce()).toBe(0);
    expect(double.requests).toHaveLength(1);

    clock += 1_000;
    expect(await drainer.drainOnce()).toBe(3);
    expect(await Promise.all(ids.map(async (id) => (await get(db, id))?.status))).toEqual(['sent', 'sent', 'sent']);
    expect([...double.messages.values()].map((m) => m.content).sort()).toEqual(['a', 'b', 'c']);
    const errors = logs().filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ reason: 'auth', status: 401, retryInMs: 60_000 });
    expect(logs().filter((l) => l.msg === 'Discord accepts the bot token again: held deliveries go out')).toHaveLength(1);
    expect(double.invalid).toEqual([]);
  });
});

describe('drainer loop', () => {
  it('delivers in the background once woken, and stops cleanly', async () => {
    drainer = makeDrainer({ pollIntervalMs: 60_000 });
    drainer.start();
    const id = await add('create', { content: 'background' });
    drainer.wake();
    await vi.waitFor(async () => expect((await get(db, id))?.status).toBe('sent'), { timeout: 5000, interval: 20 });
    await drainer.stop();
    expect(double.messages.size).toBe(1);
  });

  it('waits for the delivery in flight before stop() resolves', async () => {
    double.failNext([{ status: 200, afterHandling: true, delayMs: 300 }]);
    const id = await add('create', { content: 'slow' });
    drainer.start();
    await vi.waitFor(() => expect(double.requests).toHaveLength(1), { timeout: 5000, interval: 10 });
    await drainer.stop();
    expect((await get(db, id))?.status).toBe('sent');
    expect(await pendingCount(db)).toBe(0);
  });

  it('does not deliver anything after stop()', async () => {
    drainer.start();
    await drainer.stop();
    await add('create', { content: 'late' });
    drainer.wake();
    expect(await drainer.drainOnce()).toBe(0);
    expect(double.requests).toEqual([]);
  });

  it('never runs two passes at once, so no item is delivered twice', async () => {
    await add('create', { content: 'one' });
    await add('create', { content: 'two' }, undefined, 'incident-2');
    const [a, b] = await Promise.all([drainer.drainOnce(), drainer.drainOnce()]);
    expect(a + b).toBe(2);
    expect(double.requests).toHaveLength(2);
    expect(double.messages.size).toBe(2);
  });
});

describe('backoffDelay', () => {
  it.each([
    { attempt: 1, random: 0, expected: 1000 },
    { attempt: 1, random: 0.999, expected: 1000 },
    { attempt: 2, random: 0, expected: 1000 },
    { attempt: 2, random: 0.999, expected: 1999 },
    { attempt: 4, random: 0.5, expected: 6000 },
    { attempt: 10, random: 0, expected: 30_000 },
    { attempt: 30, random: 0.999, expected: 59_970 },
  ])('attempt $attempt with random $random waits $expected ms (min 1s, max 60s)', ({ attempt, random, expected }) => {
    expect(backoffDelay(attempt, 1000, 60_000, () => random)).toBe(expected);
  });
});

describe('delivery metrics and log ids', () => {
  let metrics: Metrics;

  beforeEach(() => {
    metrics = createMetrics({ defaultMetrics: false });
    rest = createRest({ token: DOUBLE_TOKEN, apiBaseUrl: double.apiBaseUrl, timeoutMs: 2000, metrics });
    drainer = makeDrainer({ metrics });
  });

  /** Non-zero vigil_deliveries_total values as "outcome/reason" -> count. */
  async function deliveries(): Promise<Record<string, number>> {
    const { values } = await metrics.deliveries.get();
    return Object.fromEntries(values.filter((v) => v.value > 0).map((v) => [`${v.labels.outcome}/${v.labels.reason}`, v.value]));
  }
  const rateLimits = async () => (await metrics.discordRateLimits.get()).values[0]?.value;

  it('counts a retried server error and the delivery that follows', async () => {
    double.failNext([{ status: 500 }]);
    await add('create', { content: 'x' });
    await drainUntilSettled();
    expect(await deliveries()).toEqual({ 'retry/server': 1, 'sent/ok': 1 });
  });

  it('counts an item given up on under its reason', async () => {
    await add('create', { embeds: [{ title: 'x'.repeat(300) }] });
    await drainUntilSettled(3);
    expect(await deliveries()).toEqual({ 'failed/client': 1 });
  });

  it('counts a delivery held for a refused channel as a retry, and its delivery once fixed', async () => {
    double.failNext([{ status: 403, body: { message: 'Missing Permissions', code: 50013 } }]);
    await add('create', { content: 'x' });
    await drainUntilSettled(3);
    expect(await deliveries()).toEqual({ 'retry/channel': 1, 'sent/ok': 1 });
  });

  it('counts an edit posted anew because its message was deleted as reposted', async () => {
    const create = await add('create', { content: 'firing' });
    await drainer.drainOnce();
    double.messages.delete((await get(db, create))!.messageId!);
    await add('edit', { content: 'resolved' }, create);
    await drainer.drainOnce();
    expect(await deliveries()).toEqual({ 'sent/ok': 1, 'sent/reposted': 1 });
  });

  it('counts a 429 that REST waits out', async () => {
    double.failNext([
      { status: 429, headers: { 'retry-after': '0.1', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': '0.1', 'x-ratelimit-scope': 'user' } },
    ]);
    await add('create', { content: 'x' });
    await drainer.drainOnce();
    expect(await rateLimits()).toBe(1);
    expect(await deliveries()).toEqual({ 'sent/ok': 1 });
  });

  it('counts a 429 too long to wait out, which goes back to the outbox (REST emits no rateLimited event for it)', async () => {
    rest = createRest({ token: DOUBLE_TOKEN, apiBaseUrl: double.apiBaseUrl, maxRateLimitWaitMs: 500, metrics });
    drainer = makeDrainer({ metrics });
    const events: unknown[] = [];
    rest.on('rateLimited', (data) => events.push(data));
    double.failNext([{ status: 429, body: { message: 'You are being rate limited.', retry_after: 42, global: false }, headers: { 'retry-after': '42' } }]);
    await add('create', { content: 'x' });
    await drainer.drainOnce();
    expect(await rateLimits()).toBe(1);
    expect(events).toEqual([]);
    expect(await deliveries()).toEqual({ 'retry/rateLimited': 1 });
  });

  it('puts the incident id from the order key on every line of a delivery', async () => {
    double.failNext([{ status: 500 }]);
    const id = await enqueue(db, { orderKey: 'incident:42', kind: 'create', channelId: CHANNEL, body: { content: 'x' } }, clock);
    await drainUntilSettled();
    const lines = logs().filter((l) => l.outboxId === id);
    expect(lines.map((l) => l.msg)).toEqual(['delivery failed; will retry', 'outbox item delivered']);
    expect(lines.every((l) => l.incidentId === 42)).toBe(true);
  });
});

describe('incident threads through the drainer', () => {
  const THREAD = { name: 'CPU high on node-1', auto_archive_duration: 1440 };

  it('starts a thread on the alert message, posts into it and archives it, every request valid', async () => {
    const create = await add('create', { embeds: [{ title: 'CPU high on node-1' }] });
    const thread = await add('thread', THREAD, create);
    const post = await add('thread-post', { content: '🔎 details' }, create);
    const note = await add('thread-post', { content: '✅ Resolved: CPU high after 5m', allowed_mentions: { parse: [], replied_user: false } }, create);
    const archive = await add('thread-archive', { archived: true }, create);

    expect(await drainer.drainOnce()).toBe(5);

    const messageId = (await get(db, create))!.messageId!;
    expect(await get(db, thread)).toMatchObject({ status: 'sent', messageId });
    expect(double.requests.map((r) => `${r.method} ${r.operationId} ${r.status}`)).toEqual([
      'POST create_message 200',
      'POST create_thread_from_message 201',
      'POST create_message 200',
      'POST create_message 200',
      'PATCH update_channel 200',
    ]);
    expect(double.requests[1]!.path).toBe(`/api/v10/channels/${CHANNEL}/messages/${messageId}/threads`);
    expect(double.requests[1]!.body).toEqual(THREAD);
    expect(double.requests[4]!.path).toBe(`/api/v10/channels/${messageId}`);
    expect(double.requests[4]!.body).toEqual({ archived: true });
    const inThread = await Promise.all([post, note].map(async (id) => double.messages.get((await get(db, id))!.messageId!)!));
    expect(inThread.map((m) => [m.channel_id, m.content, m.message_reference])).toEqual([
      [messageId, '🔎 details', undefined],
      [messageId, '✅ Resolved: CPU high after 5m', undefined],
    ]);
    expect(double.threads.get(messageId)).toMatchObject({ parent_id: CHANNEL, name: THREAD.name, message_count: 2, thread_metadata: { archived: true } });
    expect(await get(db, archive)).toMatchObject({ status: 'sent', messageId });
    expect(double.invalid).toEqual([]);
  });

  it('takes the thread already on the message (a retry after a lost response, 160004) as started', async () => {
    const create = await add('create', { content: 'firing' });
    const thread = await add('thread', THREAD, create);
    double.failNext([
      { status: 200, afterHandling: true },
      { status: 500, afterHandling: true },
    ]);
    await drainUntilSettled();
    const messageId = (await get(db, create))!.messageId!;
    expect(double.requests.map((r) => `${r.operationId} ${r.status}`)).toEqual([
      'create_message 200',
      'create_thread_from_message 500',
      'create_thread_from_message 400',
    ]);
    expect(double.requests[2]!.body).toEqual(THREAD);
    expect(await get(db, thread)).toMatchObject({ status: 'sent', messageId, attempts: 2 });
    expect(double.threads.size).toBe(1);
  });

  it.each([
    { why: 'missing permissions (50013)', status: 403, code: 50013 },
    { why: 'no access (50001)', status: 403, code: 50001 },
  ])('replies in the channel when the thread cannot be started: $why', async ({ status, code }) => {
    const create = await add('create', { content: 'firing' });
    const thread = await add('thread', THREAD, create);
    const note = await add('thread-post', { content: '✅ Resolved after 5m' }, create);
    const archive = await add('thread-archive', { archived: true }, create);
    double.failNext([
      { status: 200, afterHandling: true },
      { status, body: { message: 'Missing Permissions', code } },
    ]);
    await drainUntilSettled();
    const messageId = (await get(db, create))!.messageId!;
    expect(await get(db, thread)).toMatchObject({ status: 'failed', lastError: expect.stringMatching(new RegExp(`code ${code}`)) });
    const reply = double.messages.get((await get(db, note))!.messageId!)!;
    expect(reply).toMatchObject({ channel_id: CHANNEL, content: '✅ Resolved after 5m', message_reference: { message_id: messageId } });
    expect(await get(db, archive)).toMatchObject({ status: 'failed', lastError: 'the incident has no thread to archive' });
    expect(double.requests.filter((r) => r.operationId === 'update_channel')).toEqual([]);
    expect(logs().some((l) => l.msg === 'the incident thread could not be started; replying in the channel instead' && l.outboxId === note)).toBe(true);
    expect(double.invalid).toEqual([]);
  });

  it('skips a thread start whose alert message was never delivered, and posts its notes as new messages', async () => {
    const create = await add('create', { content: 'never delivered' });
    await markFailed(db, create, 'gave up');
    const thread = await add('thread', THREAD, create);
    const note = await add('thread-post', { content: '✅ Resolved after 5m' }, create);
    await drainer.drainOnce();
    expect(await get(db, thread)).toMatchObject({ status: 'failed', lastError: expect.stringMatching(/no message to start a thread on/) });
    expect(double.messages.get((await get(db, note))!.messageId!)).toMatchObject({ channel_id: CHANNEL, content: '✅ Resolved after 5m' });
    expect(double.requests.map((r) => r.operationId)).toEqual(['create_message']);
  });
});

describe('drainer when Discord does not answer', () => {
  /** A REST whose POSTs of a message titled `silent` time out, as an unanswered request does; the rest go to the double. */
  function restSilentOn(titles: readonly string[]): REST {
    return new Proxy(rest, {
      get(target, property, receiver) {
        if (property !== 'post') return Reflect.get(target, property, receiver) as unknown;
        return async (route: `/${string}`, options: { body?: { embeds?: { title?: string }[] } }) => {
          if (titles.includes(options.body?.embeds?.[0]?.title ?? '')) throw Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });
          return target.post(route, options);
        };
      },
    });
  }

  it.each([
    ['answers', 'go on (the timeout was that delivery alone)', true, ['sent', 'sent'], 0],
    ['does not answer either', 'wait untried (Discord is unreachable)', false, ['pending', 'pending'], 1],
  ] as const)('when a delivery times out and the probe %s, the others %s', async (_probe, _others, probeAnswers, statuses, holds) => {
    await drainer.stop();
    let probes = 0;
    drainer = makeDrainer({
      rest: restSilentOn(['silent']),
      probe: async () => {
        probes++;
        if (!probeAnswers) throw Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' });
      },
    });
    const silent = await add('create', { embeds: [{ title: 'silent' }] }, undefined, 'incident-a');
    const next = await add('create', { embeds: [{ title: 'next' }] }, undefined, 'incident-b');
    const later = await add('create', { embeds: [{ title: 'later' }] }, undefined, 'incident-c');
    await drainer.drainOnce();
    expect(probes).toBe(1);
    // Reachable: the timeout was this item's alone, the others went. Unreachable: the others wait, untried.
    expect([(await get(db, next))?.status, (await get(db, later))?.status]).toEqual(statuses);
    expect((await get(db, silent))?.status).toBe('pending');
    expect(logs().filter((l) => String(l.msg).startsWith('Discord does not answer'))).toHaveLength(holds);
    expect(double.requests.filter((r) => r.operationId === 'create_message')).toHaveLength(probeAnswers ? 2 : 0);
  });

  it('sends the waiting deliveries in their order once Discord answers, and says so', async () => {
    await drainer.stop();
    const silentTitles = ['first'];
    let answering = false;
    drainer = makeDrainer({
      rest: restSilentOn(silentTitles),
      probe: async () => {
        if (!answering) throw Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' });
      },
    });
    const ids: number[] = [];
    for (const [i, title] of ['first', 'second', 'third'].entries()) ids.push(await add('create', { embeds: [{ title }] }, undefined, `incident-${i}`));
    await drainer.drainOnce();
    expect(await Promise.all(ids.map(async (id) => (await get(db, id))?.status))).toEqual(['pending', 'pending', 'pending']);
    // Still within the hold: nothing is tried.
    expect(await drainer.drainOnce()).toBe(0);
    silentTitles.pop();
    answering = true;
    clock += MAX_BACKOFF;
    await drainer.drainOnce();
    expect(await Promise.all(ids.map(async (id) => (await get(db, id))?.status))).toEqual(['sent', 'sent', 'sent']);
    const posted = double.requests.filter((r) => r.operationId === 'create_message').map((r) => (r.body as { embeds: { title: string }[] }).embeds[0]!.title);
    expect(posted).toEqual(['first', 'second', 'third']);
    expect(logs().some((l) => String(l.msg).startsWith('Discord answers again'))).toBe(true);
  });

  it('ends the hold when Discord answers anything, so the next outage is said and backed off afresh', async () => {
    await drainer.stop();
    let answering = false;
    drainer = makeDrainer({
      // This one delivery keeps timing out, whether Discord answers the probe or not.
      rest: restSilentOn(['stuck']),
      probe: async () => {
        if (!answering) throw Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' });
      },
    });
    await add('create', { embeds: [{ title: 'stuck' }] }, undefined, 'incident-x');
    const holds = () => logs().filter((l) => String(l.msg).startsWith('Discord does not answer')).length;
    const ends = () => logs().filter((l) => String(l.msg).startsWith('Discord answers again')).length;
    await drainer.drainOnce();
    expect([holds(), ends()]).toEqual([1, 0]);
    answering = true;
    clock += MAX_BACKOFF;
    await drainer.drainOnce();
    expect([holds(), ends()]).toEqual([1, 1]);
    answering = false;
    clock += MAX_BACKOFF;
    await drainer.drainOnce();
    expect([holds(), ends()]).toEqual([2, 1]);
  });
});

describe('two drainers on one store (replicas), each claiming before it sends', () => {
  let dir: string;
  let stores: SqliteDatabase[];
  let drainers: Drainer[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-drain-claims-'));
    stores = [];
    drainers = [];
  });
  afterEach(async () => {
    for (const d of drainers) await d.stop();
    for (const s of stores) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function replicaDrainer(holder: string, ttlMs: number): Drainer {
    const store = openDatabase(join(dir, 'vigil.db'));
    stores.push(store);
    const d = createDrainer({
      db: store,
      rest,
      logger: createLogger({ level: 'silent', secrets: [] }),
      now: () => new Date(clock),
      minBackoffMs: MIN_BACKOFF,
      maxBackoffMs: MAX_BACKOFF,
      pollIntervalMs: 60_000,
      random: () => 0.5,
      claims: { holder, ttlMs },
    });
    drainers.push(d);
    return d;
  }

  /** Create-message requests per nonce: what reached Discord, before its nonce check. */
  const postsPerNonce = () => {
    const counts = new Map<string, number>();
    for (const r of double.requests) {
      const nonce = (r.body as { nonce?: string } | undefined)?.nonce;
      if (r.operationId === 'create_message' && nonce) counts.set(nonce, (counts.get(nonce) ?? 0) + 1);
    }
    return counts;
  };

  it('sends every item once when both drain at the same time', async () => {
    const a = replicaDrainer('replica-a', 15_000);
    const b = replicaDrainer('replica-b', 15_000);
    const writer = stores[0]!;
    for (let i = 0; i < 30; i++)
      // One channel each: the double's per-channel rate limit would spread 30 posts in one channel over 30 s.
      await enqueue(
        writer,
        { orderKey: `incident-${i}`, kind: 'create', channelId: `${CHANNEL.slice(0, -2)}${String(i).padStart(2, '0')}`, body: { content: `alert ${i}` } },
        clock,
      );
    const [sentByA, sentByB] = await Promise.all([a.drainOnce(), b.drainOnce()]);
    expect(sentByA + sentByB).toBe(30);
    expect(sentByA).toBeGreaterThan(0);
    expect(sentByB).toBeGreaterThan(0);
    const counts = postsPerNonce();
    expect(counts.size).toBe(30);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(await pendingCount(writer)).toBe(0);
  });

  it('leaves an item a dead replica claimed until its claim runs out, then sends it once', async () => {
    const b = replicaDrainer('replica-b', 15_000);
    const store = stores[0]!;
    const id = await enqueue(store, { orderKey: 'incident-1', kind: 'create', channelId: CHANNEL, body: { content: 'claimed by the dead one' } }, clock);
    // replica-a claimed it and died before sending.
    expect(await claimItem(store, id, 'replica-a', clock, 15_000)).toBe(true);
    expect(await b.drainOnce()).toBe(0);
    clock += 15_000;
    expect(await b.drainOnce()).toBe(1);
    expect((await get(store, id))?.status).toBe('sent');
    expect([...postsPerNonce().values()]).toEqual([1]);
  });
});
