import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { editMessage, postMessage } from '../../src/discord/rest.js';
import { createPreviewRest } from '../../src/discord/preview.js';
import { previewRoutes } from '../../src/preview/routes.js';
import type { Route } from '../../src/server.js';
import { openDatabase, type Database } from '../../src/store/db.js';

const TOKEN = 'preview-token-0123456789abcdef';
const CHANNEL = '100000000000000001';
const PNG = Buffer.from('89504e470d0a1a0a', 'hex');

let db: Database;
beforeEach(() => {
  db = openDatabase(':memory:');
});
afterEach(() => db.close());

function routes(webhook: { token?: string; insecure: boolean }): Map<string, Route> {
  const config = {
    webhook: { ...webhook, hmacHeader: 'X-Grafana-Alerting-Signature', hmacMaxSkew: 300_000 },
    discord: { alertChannelId: CHANNEL },
  } as Parameters<typeof previewRoutes>[0]['config'];
  return new Map(previewRoutes({ db, config }).map((r) => [r.path, r]));
}

const get = (route: Route | undefined, headers: Record<string, string> = {}, query = '') =>
  Promise.resolve(route!.handle({ method: 'GET', path: route!.path, query: new URLSearchParams(query), headers, body: Buffer.alloc(0) }));
const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`anyone:${password}`).toString('base64')}` });

describe('the preview routes', () => {
  it.each(['/preview', '/preview/messages', '/preview/state', '/preview/file'])('ask a browser for the webhook token on %s', async (path) => {
    const res = await get(routes({ token: TOKEN, insecure: false }).get(path));
    expect(res.status).toBe(401);
    expect(res.headers?.['www-authenticate']).toBe('Basic realm="Vigil preview", charset="UTF-8"');
    expect(JSON.stringify(res.body)).not.toContain(TOKEN);
  });

  it.each([
    ['basic auth with any user and the token', basic(TOKEN), 200],
    ['a bearer token', { authorization: `Bearer ${TOKEN}` }, 200],
    ['a wrong password', basic('not-the-token-at-all'), 401],
  ])('answer %s', async (_name, headers, status) => {
    expect((await get(routes({ token: TOKEN, insecure: false }).get('/preview'), headers)).status).toBe(status);
  });

  it('are open only when webhooks are (webhook.insecure without a token), and then only to requests naming this machine', async () => {
    const page = routes({ insecure: true }).get('/preview');
    expect((await get(page, { host: '127.0.0.1:8080' })).status).toBe(200);
    expect((await get(page, { host: 'localhost:8080' })).status).toBe(200);
    // A page elsewhere whose name was rebound to 127.0.0.1 sends its own name.
    expect((await get(page, { host: 'attacker.example:8080' })).status).toBe(403);
    expect((await get(routes({ token: TOKEN, insecure: true }).get('/preview'), { host: '127.0.0.1:8080' })).status).toBe(401);
  });

  it('serve the page as HTML with a script allowed by nonce only, and the messages escaped', async () => {
    await postMessage(createPreviewRest({ db }), CHANNEL, { embeds: [{ title: '<script>alert(1)</script>', color: 0xe74c3c }] }, 'n-1');
    const res = await get(routes({ token: TOKEN, insecure: false }).get('/preview'), basic(TOKEN));
    expect(res.headers?.['content-type']).toBe('text/html; charset=utf-8');
    const nonce = /script-src 'nonce-([^']+)'/.exec(res.headers?.['content-security-policy'] ?? '')?.[1];
    expect(nonce).toBeTruthy();
    const html = String(res.body);
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).toContain('border-left-color:#e74c3c');
    const list = await get(routes({ token: TOKEN, insecure: false }).get('/preview/messages'), basic(TOKEN));
    expect(list.headers?.['content-security-policy']).toContain("default-src 'none'");
    expect(list.headers?.['content-security-policy']).not.toContain('script-src');
  });

  it("points a message's chart at a URL that changes with each edit, so a resolve's new chart is fetched anew", async () => {
    let clock = Date.parse('2026-12-06T12:00:00Z');
    const rest = createPreviewRest({ db, now: () => new Date(clock) });
    const body = { embeds: [{ title: 'x', image: { url: 'attachment://chart.png' } }], attachments: [{ id: '0', filename: 'chart.png' }] };
    const { id } = await postMessage(rest, CHANNEL, body, 'n-1', [{ name: 'chart.png', data: PNG }]);
    const page = routes({ insecure: true }).get('/preview/messages');
    const src = async () => /src="([^"]*chart\.png[^"]*)"/.exec(String((await get(page, { host: '127.0.0.1' })).body))?.[1];
    const first = await src();
    expect(first).toContain(`message=${id}`);
    clock += 60_000;
    await editMessage(rest, CHANNEL, id, body, [{ name: 'chart.png', data: PNG }]);
    const second = await src();
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
  });

  it("serve a message's chart as a PNG, and 404 for anything else", async () => {
    const { id } = await postMessage(createPreviewRest({ db }), CHANNEL, { attachments: [{ id: '0', filename: 'chart.png' }] }, 'n-1', [
      { name: 'chart.png', data: PNG },
    ]);
    const file = routes({ insecure: true }).get('/preview/file');
    const local = { host: '127.0.0.1' };
    const res = await get(file, local, `message=${id}&name=chart.png`);
    expect(res).toMatchObject({ status: 200, body: PNG, headers: { 'content-type': 'image/png', 'referrer-policy': 'no-referrer' } });
    expect((await get(file, local, `message=${id}&name=other.png`)).status).toBe(404);
    expect((await get(file, local, 'message=../../etc&name=chart.png')).status).toBe(404);
  });

  it('report the change number the page polls', async () => {
    const state = routes({ insecure: true }).get('/preview/state');
    const local = { host: 'localhost' };
    const before = (await get(state, local)).body as { revision: number };
    await postMessage(createPreviewRest({ db }), CHANNEL, { content: 'x' }, 'n-1');
    expect(((await get(state, local)).body as { revision: number }).revision).toBeGreaterThan(before.revision);
  });
});
