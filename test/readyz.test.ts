import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { startVigil, type Vigil } from '../src/main.js';
import { checkStoreWritable } from '../src/metrics.js';
import { openDatabase, SqliteDatabase } from '../src/store/db.js';
import { enqueue, pendingCount } from '../src/store/outbox.js';
import { botConfig } from './support/bot-config.js';
import { startDiscordDouble, type DiscordDouble } from './support/discord-double.js';
import { eventually } from './support/eventually.js';
import { freePort } from './support/ports.js';

const CHANNEL = '223456789012345678';

describe('checkStoreWritable', () => {
  let dir: string;
  let db: SqliteDatabase;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-readyz-'));
    db = openDatabase(join(dir, 'vigil.db'));
  });
  afterEach(async () => {
    if (!db.closed) await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds a working store writable and leaves no trace of its probe', async () => {
    const before = await enqueue(db, { orderKey: 'k', kind: 'create', channelId: CHANNEL, body: {} });
    expect(await checkStoreWritable(db)).toEqual({ ok: true });
    expect(await pendingCount(db)).toBe(1);
    // The probe's insert was rolled back: the next id follows the last real one.
    expect(await enqueue(db, { orderKey: 'k', kind: 'create', channelId: CHANNEL, body: {} })).toBe(before + 1);
  });

  it("restores the store's own busy timeout after probing with a short one", async () => {
    await checkStoreWritable(db);
    expect(db.sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  it('reports a store another process holds the write lock on, after a bounded wait', async () => {
    const other = new BetterSqlite3(join(dir, 'vigil.db'));
    other.exec('BEGIN IMMEDIATE');
    try {
      expect(await checkStoreWritable(db, 50)).toEqual({ ok: false, reason: 'store not writable: database is locked' });
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(await checkStoreWritable(db)).toEqual({ ok: true });
  });

  it('reports a read-only database', async () => {
    const readOnly = new SqliteDatabase(new BetterSqlite3(join(dir, 'vigil.db'), { readonly: true }));
    try {
      expect(await checkStoreWritable(readOnly)).toEqual({ ok: false, reason: 'store not writable: attempt to write a readonly database' });
    } finally {
      await readOnly.close();
    }
  });

  it('reports a closed connection', async () => {
    await db.close();
    expect(await checkStoreWritable(db)).toEqual({ ok: false, reason: 'store not writable: the database connection is closed' });
  });
});

describe('GET /readyz and GET /healthz of a running bot', () => {
  let dir: string;
  let discord: DiscordDouble;
  let vigil: Vigil;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-readyz-bot-'));
    discord = await startDiscordDouble();
    const closedUrl = `http://127.0.0.1:${await freePort()}`;
    const config = botConfig({
      dir,
      discordApiBaseUrl: discord.apiBaseUrl,
      channelId: CHANNEL,
      prometheusUrl: closedUrl,
      lokiUrl: closedUrl,
      webhookToken: 'readyz-test-webhook-token-0123456789',
      sections: { watchdog: { enabled: false } },
    });
    vigil = await startVigil(config, { logger: createLogger({ level: 'silent' }) });
    url = `http://127.0.0.1:${vigil.port}`;
  });

  afterAll(async () => {
    await vigil?.stop();
    await discord?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${url}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('is ready while the store takes writes, with the outbox state', async () => {
    expect(await get('/readyz')).toEqual({
      status: 200,
      body: { status: 'ready', store: 'writable', outbox: { pending: 0, oldestAgeSeconds: 0 } },
    });
  });

  it("answers 503 with the reason while another process holds the database's write lock, and recovers", async () => {
    // What a backup or a `sqlite3` shell in a write transaction does to the bot's store.
    const other = new BetterSqlite3(join(dir, 'vigil.db'));
    other.exec('BEGIN IMMEDIATE');
    try {
      expect(await get('/readyz')).toEqual({ status: 503, body: { status: 'not ready', reason: 'store not writable: database is locked' } });
      // Alive all the same: /healthz says the process runs, not that it can take work.
      expect((await get('/healthz')).status).toBe(200);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect((await get('/readyz')).status).toBe(200);
  });

  it('answers 503 naming the channel while Discord refuses it, and 200 once the held alert is delivered', async () => {
    discord.failNext([{ status: 403, body: { message: 'Missing Access', code: 50001 } }]);
    const res = await fetch(`${url}/webhooks/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer readyz-test-webhook-token-0123456789' },
      body: readFileSync(new URL('fixtures/webhooks/alertmanager-firing.json', import.meta.url)),
    });
    expect(res.status).toBe(202);
    const held = await eventually('readiness saying the channel is refused', async () => {
      const r = await get('/readyz');
      return r.status === 503 ? r : undefined;
    });
    expect(held.body).toEqual({ status: 'not ready', reason: `deliveries held: Discord refuses channel ${CHANNEL} (403 Missing Access (code 50001))` });
    expect((await get('/healthz')).status).toBe(200);
    // The refusal passes (the double answers normally again): the alert goes out once, readiness returns.
    await eventually('the held alert delivered', () => [...discord.messages.values()].find((m) => m.channel_id === CHANNEL));
    await eventually('ready again', async () => ((await get('/readyz')).status === 200 ? true : undefined));
    expect([...discord.messages.values()].filter((m) => m.channel_id === CHANNEL)).toHaveLength(1);
  });
});

describe('GET /readyz of a bot in gateway mode that cannot log in', () => {
  it("answers 503 with the gateway's reason", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-readyz-gw-'));
    const discord = await startDiscordDouble();
    const closedUrl = `http://127.0.0.1:${await freePort()}`;
    const config = botConfig({
      dir,
      // Discord refuses this token: the gateway never connects.
      discordApiBaseUrl: discord.apiBaseUrl,
      discordToken: 'MTk4NzY1NDMyMTk4NzY1NDMy.GwRong.a-token-that-discord-does-not-know',
      channelId: CHANNEL,
      prometheusUrl: closedUrl,
      lokiUrl: closedUrl,
      webhookToken: 'readyz-test-webhook-token-0123456789',
      mode: 'gateway',
      sections: { watchdog: { enabled: false } },
    });
    const vigil = await startVigil(config, { logger: createLogger({ level: 'silent' }) });
    try {
      const r = await eventually('a login failure', async () => {
        const res = await fetch(`http://127.0.0.1:${vigil.port}/readyz`);
        const body = (await res.json()) as { reason?: string };
        return res.status === 503 && body.reason?.startsWith('gateway login failed') ? body : undefined;
      });
      expect(r.reason).not.toContain('GwRong');
    } finally {
      await vigil.stop();
      await discord.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
