import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { APIMessage } from 'discord-api-types/v10';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { configSecrets, startVigil, type Vigil } from '../../src/main.js';
import { SqliteDatabase } from '../../src/store/db.js';
import { pendingCount } from '../../src/store/outbox.js';
import { AUTH_FAILURE_BURST, AUTH_FAILURE_WINDOW_MS } from '../../src/webhooks/routes.js';
import { botConfig, FAST_DELIVERY } from '../support/bot-config.js';
import { DOUBLE_TOKEN, startDiscordDouble, type DiscordDouble } from '../support/discord-double.js';
import { postChunked } from '../support/chunked.js';
import { freePort } from '../support/ports.js';
import { fixtureBytes, fixtureJson, FIXTURE_NAMES } from './fixtures.js';
import { eventually } from '../support/eventually.js';

const TOKEN = 'routes-test-webhook-token-0123456789';
const WRONG_TOKEN = 'wrong-webhook-token-presented-9876543210';
const BODY_LIMIT = 4096;
const CHANNEL = '223456789012345678';
const PIPELINE_CHANNEL = '323456789012345678';
const JSON_TYPE = 'application/json';

const bearer = (t: string) => `Bearer ${t}`;
const AUTHED_JSON = { 'content-type': JSON_TYPE, authorization: bearer(TOKEN) };
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

let discord: DiscordDouble;
let closedUrl: string;

beforeAll(async () => {
  discord = await startDiscordDouble();
  // A port nobody listens on: enrichment fails fast and the alert goes out without findings.
  closedUrl = `http://127.0.0.1:${await freePort()}`;
});

afterAll(async () => {
  await discord?.stop();
});

/** A Vigil config for the tests, validated by the real loader. */
function testConfig(dir: string, channelId = CHANNEL): Config {
  return botConfig({
    dir,
    discordApiBaseUrl: discord.apiBaseUrl,
    channelId,
    prometheusUrl: closedUrl,
    lokiUrl: closedUrl,
    webhookToken: TOKEN,
    // http mode: these tests run no gateway double, and the interactions route stays out of their way.
    mode: 'http',
    sections: { server: { bodyLimit: BODY_LIMIT }, enrichment: { timeout: '1s' }, delivery: FAST_DELIVERY, log: { level: 'debug' } },
  });
}

interface Running {
  vigil: Vigil;
  url: string;
  logLines: string[];
  dir: string;
}

/** Starts Vigil in-process with a fresh database and a logger writing to memory. */
async function startTestVigil(channelId?: string): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-routes-'));
  const config = testConfig(dir, channelId);
  const logLines: string[] = [];
  const logger = createLogger({ level: 'debug', secrets: configSecrets(config) }, { write: (s: string) => void logLines.push(s) });
  const vigil = await startVigil(config, { logger });
  return { vigil, url: `http://127.0.0.1:${vigil.port}`, logLines, dir };
}

async function stopTestVigil(r: Running | undefined): Promise<void> {
  if (!r) return;
  await r.vigil.stop();
  rmSync(r.dir, { recursive: true, force: true });
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown>;
}

/** POSTs a body with the right token unless told otherwise. */
async function post(url: string, body: string | Buffer, opts: { authorization?: string | null; contentType?: string | null } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  const authorization = opts.authorization === undefined ? bearer(TOKEN) : opts.authorization;
  if (authorization !== null) headers['authorization'] = authorization;
  const contentType = opts.contentType === undefined ? JSON_TYPE : opts.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  const res = await fetch(url, { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body) });
  return answer(res);
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // left empty: the assertions on `json` then fail with the text in view
  }
  return { status: res.status, headers: res.headers, text, json };
}

function notificationRows(vigil: Vigil): Promise<Array<{ id: number; source: string; group_key: string }>> {
  return vigil.db.all<{ id: number; source: string; group_key: string }>('SELECT id, source, group_key FROM notifications ORDER BY id');
}

const sourceOf = (name: string) => (name.startsWith('grafana') ? 'grafana' : 'alertmanager');

describe('webhook routes over HTTP', () => {
  let r: Running;

  beforeEach(async () => {
    r = await startTestVigil();
  });

  afterEach(async () => {
    await stopTestVigil(r);
  });

  it('listens on the port the kernel bound for server.port 0', async () => {
    expect(r.vigil.port).toBeGreaterThan(0);
    const res = await fetch(`${r.url}/healthz`);
    expect(res.status).toBe(200);
  });

  const accepted = FIXTURE_NAMES.flatMap((name) => [[name, `/webhooks/${sourceOf(name)}`] as const, [name, '/webhooks'] as const]);

  it.each(accepted)('stores %s posted to %s as one notification row', async (name, path) => {
    const res = await post(`${r.url}${path}`, fixtureBytes(name));
    expect(res.status).toBe(202);
    expect(res.json).toEqual({
      status: 'accepted',
      id: expect.any(Number),
      duplicate: false,
      alerts: fixtureJson(name).alerts.length,
    });
    const rows = await notificationRows(r.vigil);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: res.json['id'], source: sourceOf(name) });
  });

  it.each(accepted)('acknowledges a resend of %s to %s as a duplicate and keeps one row', async (name, path) => {
    const first = await post(`${r.url}${path}`, fixtureBytes(name));
    const again = await post(`${r.url}${path}`, fixtureBytes(name));
    expect(again.status).toBe(202);
    expect(again.json).toEqual({ status: 'accepted', id: first.json['id'], duplicate: true, alerts: first.json['alerts'] });
    expect(await notificationRows(r.vigil)).toHaveLength(1);
  });

  // The zero startsAt becomes the time of receipt, which must not make each resend look new.
  it('acknowledges a resend of a Grafana body whose startsAt is the zero time as a duplicate', async () => {
    const body = fixtureBytes('grafana-firing-default-payload.json');
    const first = await post(`${r.url}/webhooks/grafana`, body);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const again = await post(`${r.url}/webhooks/grafana`, body);
    expect(again.json).toMatchObject({ id: first.json['id'], duplicate: true });
    expect(await notificationRows(r.vigil)).toHaveLength(1);
  });

  it.each([
    ['Bearer token', bearer(TOKEN), 'bearer'],
    ['Basic with the token as password', basic('grafana', TOKEN), 'basic'],
    ['Basic with any user name', basic('someone-else', TOKEN), 'basic'],
    ['Basic with an empty user name', basic('', TOKEN), 'basic'],
  ])('accepts %s', async (_name, authorization, method) => {
    const res = await post(`${r.url}/webhooks/grafana`, fixtureBytes('grafana-firing.json'), { authorization });
    expect(res.status).toBe(202);
    expect(await notificationRows(r.vigil)).toHaveLength(1);
    const stored = r.logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'webhook stored');
    expect(stored).toMatchObject({ auth: method });
  });

  it.each([
    ['no Authorization header', null, 'missing credentials'],
    ['a wrong Bearer token', bearer(WRONG_TOKEN), 'invalid bearer token'],
    ['an empty Bearer token', 'Bearer', 'invalid bearer token'],
    ['Basic with a wrong password', basic('grafana', WRONG_TOKEN), 'invalid basic credentials'],
    ['Basic with the token as the user name', basic(TOKEN, 'nope'), 'invalid basic credentials'],
    ['Basic that is not base64', 'Basic !!!', 'malformed basic credentials'],
    ['an unsupported scheme carrying the token', `Token ${TOKEN}`, 'unsupported authorization scheme (expected Bearer or Basic)'],
  ])('answers 401 to %s and stores nothing', async (_name, authorization, reason) => {
    const res = await post(`${r.url}/webhooks/grafana`, fixtureBytes('grafana-firing.json'), { authorization });
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ error: reason });
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="vigil"');
    expect(res.text).not.toContain(TOKEN);
    expect(res.text).not.toContain(WRONG_TOKEN);
    expect(await notificationRows(r.vigil)).toHaveLength(0);
  });

  it.each([
    ['text/plain', 'text/plain', 'unsupported Content-Type "text/plain": expected Content-Type application/json'],
    ['text/plain with a charset', 'text/plain; charset=utf-8', 'unsupported Content-Type "text/plain": expected Content-Type application/json'],
    ['no Content-Type', null, 'missing Content-Type: expected Content-Type application/json'],
  ])('answers 415 to %s and stores nothing', async (_name, contentType, error) => {
    const res = await post(`${r.url}/webhooks/grafana`, fixtureBytes('grafana-firing.json'), { contentType });
    expect(res.status).toBe(415);
    expect(res.json).toEqual({ error });
    expect(await notificationRows(r.vigil)).toHaveLength(0);
  });

  /** A real Grafana body that would be accepted, padded past the body limit with an ignored key. */
  function oversizedGrafanaBody(): Buffer {
    const body = fixtureJson('grafana-firing.json');
    body['padding'] = 'x'.repeat(BODY_LIMIT);
    return Buffer.from(JSON.stringify(body));
  }

  it('answers 413 to a body whose Content-Length is over server.bodyLimit and stores nothing', async () => {
    const res = await post(`${r.url}/webhooks/grafana`, oversizedGrafanaBody());
    expect(res.status).toBe(413);
    expect(res.json).toEqual({ error: `body over the ${BODY_LIMIT}-byte limit` });
    expect(await notificationRows(r.vigil)).toHaveLength(0);
  });

  it('answers 413 to a chunked body without Content-Length that streams past server.bodyLimit and stores nothing', async () => {
    const bytes = oversizedGrafanaBody();
    const chunks = [bytes.subarray(0, 2000), bytes.subarray(2000, 4000), bytes.subarray(4000)];
    const res = await postChunked(`${r.url}/webhooks/grafana`, chunks, AUTHED_JSON);
    expect(res.chunked).toBe(true);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual({ error: `body over the ${BODY_LIMIT}-byte limit` });
    expect(await notificationRows(r.vigil)).toHaveLength(0);
  });

  it('accepts a chunked body without Content-Length under server.bodyLimit', async () => {
    const bytes = fixtureBytes('alertmanager-firing.json');
    const res = await postChunked(`${r.url}/webhooks/alertmanager`, [bytes.subarray(0, 500), bytes.subarray(500)], AUTHED_JSON);
    expect(res.chunked).toBe(true);
    expect(res.status).toBe(202);
    expect(await notificationRows(r.vigil)).toHaveLength(1);
  });

  it.each([
    ['a trailing comma', '{"version":"1",}', 'invalid JSON at line 1, column 16 (position 15): expected a property name in double quotes, got "}"'],
    [
      'a missing comma on the third line',
      '{\n  "version": "1"\n  "status": "firing"\n}',
      `invalid JSON at line 3, column 3 (position 21): expected ',' or '}' after a property value, got "\\""`,
    ],
    ['a body cut short', '{"version":"1","alerts":[', 'invalid JSON at line 1, column 26 (position 25): expected a JSON value, got end of input'],
  ])('answers 400 to JSON with %s, giving the position, and stores nothing', async (_name, body, error) => {
    const res = await post(`${r.url}/webhooks`, body);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error });
    expect(await notificationRows(r.vigil)).toHaveLength(0);
  });

  it.each([
    [
      'an alert status outside the schema',
      '/webhooks/alertmanager',
      (() => {
        const b = fixtureJson('alertmanager-firing.json');
        b.alerts[0]!['status'] = 'pending';
        return b;
      })(),
      'alerts.0.status: expected "firing" or "resolved"',
    ],
    [
      'a Grafana value that is not a number',
      '/webhooks',
      (() => {
        const b = fixtureJson('grafana-firing.json');
        b.alerts[1]!['values'] = { B: 'high' };
        return b;
      })(),
      'alerts.1.values.B: expected a number, got a string',
    ],
    [
      'an Alertmanager body on the Grafana route',
      '/webhooks/grafana',
      fixtureJson('alertmanager-firing.json'),
      'version: expected "1" (a Grafana webhook body), got "4" (an Alertmanager body: send it to /webhooks/alertmanager)',
    ],
    [
      'a Grafana body on the Alertmanager route',
      '/webhooks/alertmanager',
      fixtureJson('grafana-firing.json'),
      'version: expected "4" (an Alertmanager webhook body), got "1" (a Grafana body: send it to /webhooks/grafana)',
    ],
    [
      'an unknown version on the generic route',
      '/webhooks',
      { ...fixtureJson('grafana-firing.json'), version: '3' },
      'version: expected "1" (Grafana) or "4" (Alertmanager), got "3"',
    ],
    ['a JSON array', '/webhooks', [], '(root): expected a JSON object, got an array'],
  ])('answers 422 to %s, naming the path, and stores nothing', async (_name, path, body, error) => {
    const res = await post(`${r.url}${path}`, JSON.stringify(body));
    expect(res.status).toBe(422);
    expect(res.json).toEqual({ error });
    expect(await notificationRows(r.vigil)).toHaveLength(0);
  });

  it.each([
    ['POST', '/webhooks/unknown'],
    // /webhooks/grafana/<name> is a route's URL (see below); this is not.
    ['POST', '/webhooks/grafanaextra'],
    ['GET', '/'],
  ])('answers 404 to %s %s', async (method, path) => {
    const res = await answer(await fetch(`${r.url}${path}`, { method }));
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ error: `no route for ${path}` });
  });

  it.each([
    ['GET', '/webhooks/grafana', 'POST'],
    ['GET', '/webhooks/alertmanager', 'POST'],
    ['GET', '/webhooks', 'POST'],
    ['POST', '/healthz', 'GET'],
  ])('answers 405 to %s %s with Allow: %s', async (method, path, allow) => {
    const res = await answer(await fetch(`${r.url}${path}`, { method, headers: { authorization: bearer(TOKEN) } }));
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    expect(res.json).toEqual({ error: `${method} is not allowed on ${path}` });
  });

  it(`answers 429 to an address past ${AUTH_FAILURE_BURST} bad credentials a minute, still 202 to good ones, and logs it once`, async () => {
    const url = `${r.url}/webhooks/grafana`;
    const body = fixtureBytes('grafana-firing.json');
    for (let i = 0; i < AUTH_FAILURE_BURST; i++) expect((await post(url, body, { authorization: bearer(WRONG_TOKEN) })).status).toBe(401);
    const slowed = await post(url, body, { authorization: bearer(WRONG_TOKEN) });
    expect(slowed.status).toBe(429);
    expect(Number(slowed.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(slowed.headers.get('retry-after'))).toBeLessThanOrEqual(AUTH_FAILURE_WINDOW_MS / 1000);
    expect(slowed.json.error).toMatch(/^too many requests with bad credentials from this address; retry in \d+ s$/);
    expect((await post(url, body)).status).toBe(202);
    expect((await post(url, body, { authorization: bearer(WRONG_TOKEN) })).status).toBe(429);
    expect(r.logLines.filter((l) => l.includes('answering 429'))).toHaveLength(1);
    expect(r.logLines.join('\n')).not.toContain(WRONG_TOKEN);
  });

  it('answers a route URL the config does not have with 404, after checking the credential, and stores nothing', async () => {
    const body = fixtureBytes('alertmanager-firing.json');
    const refused = await post(`${r.url}/webhooks/alertmanager/db`, body, { authorization: bearer(WRONG_TOKEN) });
    expect(refused.status).toBe(401);
    const unknown = await post(`${r.url}/webhooks/alertmanager/db`, body);
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ error: 'no route named "db": the config lists no routes; nothing stored', routes: [] });
    expect(await notificationRows(r.vigil)).toEqual([]);
  });

  it('answers GET /healthz with the pending counts as numbers', async () => {
    const empty = await answer(await fetch(`${r.url}/healthz`));
    expect(empty.status).toBe(200);
    expect(empty.json).toEqual({ status: 'ok', storage: 'sqlite', pendingNotifications: 0, pendingDeliveries: 0 });

    await post(`${r.url}/webhooks/alertmanager`, fixtureBytes('alertmanager-firing.json'));
    const after = await answer(await fetch(`${r.url}/healthz`));
    expect(after.status).toBe(200);
    expect(after.json).toEqual({ status: 'ok', storage: 'sqlite', pendingNotifications: expect.any(Number), pendingDeliveries: expect.any(Number) });
  });

  it('never logs a webhook token, whether the presented one was wrong or right', async () => {
    const grafana = fixtureBytes('grafana-firing.json');
    const attempts = [bearer(WRONG_TOKEN), basic('grafana', WRONG_TOKEN), `Token ${TOKEN}`, bearer(TOKEN), basic('grafana', TOKEN)];
    for (const authorization of attempts) await post(`${r.url}/webhooks/grafana`, grafana, { authorization });
    await post(`${r.url}/webhooks/nowhere`, grafana, { authorization: bearer(TOKEN) });

    const log = r.logLines.join('');
    // The log did record these requests, so the absence checks below look at real lines.
    expect(log).toContain('webhook refused');
    expect(log).toContain('webhook stored');
    expect(log).toContain('webhook duplicate acknowledged');
    for (const secret of [TOKEN, WRONG_TOKEN, DOUBLE_TOKEN, ...attempts.map((a) => a.split(' ')[1]!)]) {
      expect(log).not.toContain(secret);
    }
  });
});

describe('webhook metrics', () => {
  let r: Running | undefined;

  afterEach(async () => {
    await stopTestVigil(r);
    r = undefined;
  });

  /** Non-zero vigil_webhooks_received_total values as "source/outcome" -> count. */
  async function counted(vigil: Vigil): Promise<Record<string, number>> {
    const { values } = await vigil.metrics.webhooksReceived.get();
    return Object.fromEntries(values.filter((v) => v.value > 0).map((v) => [`${v.labels.source}/${v.labels.outcome}`, v.value]));
  }

  it.each([
    ['an accepted Grafana webhook', '/webhooks/grafana', 'grafana-firing.json', bearer(TOKEN), 1, { 'grafana/accepted': 1 }],
    [
      'a resend, as a duplicate',
      '/webhooks/alertmanager',
      'alertmanager-firing.json',
      bearer(TOKEN),
      2,
      { 'alertmanager/accepted': 1, 'alertmanager/duplicate': 1 },
    ],
    ['a body on /webhooks under the source it turns out to be', '/webhooks', 'alertmanager-firing.json', bearer(TOKEN), 1, { 'alertmanager/accepted': 1 }],
    ['a wrong token on a source route', '/webhooks/grafana', 'grafana-firing.json', bearer(WRONG_TOKEN), 1, { 'grafana/unauthorized': 1 }],
    ['a wrong token on /webhooks as unknown', '/webhooks', 'grafana-firing.json', bearer(WRONG_TOKEN), 1, { 'unknown/unauthorized': 1 }],
  ])('counts %s', async (_name, path, fixture, authorization, times, expected) => {
    r = await startTestVigil();
    for (let i = 0; i < times; i++) await post(`${r.url}${path}`, fixtureBytes(fixture), { authorization });
    expect(await counted(r.vigil)).toEqual(expected);
  });

  it('counts a body that fails validation as invalid', async () => {
    r = await startTestVigil();
    const res = await post(`${r.url}/webhooks/alertmanager`, '{"version":"4","alerts":"none"}');
    expect(res.status).toBe(422);
    expect(await counted(r.vigil)).toEqual({ 'alertmanager/invalid': 1 });
  });

  it('counts a webhook the store could not take as error', async () => {
    r = await startTestVigil();
    // A second connection holds the write lock longer than the store's busy timeout is set to wait here.
    if (!(r.vigil.db instanceof SqliteDatabase)) throw new Error('this test needs the SQLite store');
    r.vigil.db.sqlite.pragma('busy_timeout = 50');
    const other = new BetterSqlite3(join(r.dir, 'vigil.db'));
    other.exec('BEGIN IMMEDIATE');
    try {
      expect((await post(`${r.url}/webhooks/grafana`, fixtureBytes('grafana-firing.json'))).status).toBe(500);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(await counted(r.vigil)).toEqual({ 'grafana/error': 1 });
  });
});

describe('webhook to Discord', () => {
  let r: Running | undefined;

  afterEach(async () => {
    await stopTestVigil(r);
    r = undefined;
  });

  it('delivers a Grafana fixture, sent twice, as one valid message in the alert channel', async () => {
    r = await startTestVigil(PIPELINE_CHANNEL);
    const inChannel = (): APIMessage[] => [...discord.messages.values()].filter((m) => m.channel_id === PIPELINE_CHANNEL);
    const body = fixtureBytes('grafana-firing.json');
    expect((await post(`${r.url}/webhooks/grafana`, body)).status).toBe(202);
    expect((await post(`${r.url}/webhooks/grafana`, body)).json).toMatchObject({ duplicate: true });

    const vigil = r.vigil;
    await eventually('the notification to be processed and its delivery sent', async () => {
      const pending = (await vigil.db.get<{ n: number }>(`SELECT count(*) AS n FROM notifications WHERE status = 'pending'`))!;
      return pending.n === 0 && (await pendingCount(vigil.db)) === 0 && inChannel().length > 0 ? true : undefined;
    });
    const messages = inChannel();
    expect(messages).toHaveLength(1);
    expect(JSON.stringify(messages[0]!.embeds)).toContain('High memory usage');
    expect(discord.invalid).toEqual([]);
  });
});
