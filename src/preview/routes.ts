import { randomBytes } from 'node:crypto';
import { LOOPBACK_HOSTS, type Config } from '../config/schema.js';
import type { Route, RouteRequest, RouteResponse } from '../server.js';
import type { Database } from '../store/db.js';
import { PREVIEW_KEEP, previewEntries, previewFile, previewRevision } from '../store/preview.js';
import { checkWebhookAuth } from '../webhooks/auth.js';
import { pageCsp, renderMessages, renderPage } from './page.js';
import type { Clock } from '../model.js';

/** What the preview routes need. */
export interface PreviewRouteDeps {
  db: Database;
  config: Pick<Config, 'webhook' | 'discord'>;
  now?: Clock;
}

const NO_STORE = { 'cache-control': 'no-store' };
/** On every preview answer: embed images load without telling their hosts where from; nothing sniffed. */
const COMMON = { 'referrer-policy': 'no-referrer', 'x-content-type-options': 'nosniff' };
/** The list alone, opened directly: shown, never run. */
const FRAGMENT_CSP = "default-src 'none'; img-src 'self' https: data:; style-src 'unsafe-inline'; frame-ancestors 'none'";

/** Whether a Host header names this machine (a page elsewhere rebinding its name to 127.0.0.1 does not). */
function isLoopbackHost(host: string | undefined): boolean {
  const name = (host ?? '')
    .replace(/:\d+$/, '')
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase();
  return LOOPBACK_HOSTS.has(name);
}

/**
 * GET /preview (the page), /preview/messages (its list, for the page's own refresh), /preview/state
 * (the change number) and /preview/file (a message's chart). All behind the webhook credential:
 * HTTP basic auth with any user and the webhook token as password (a browser asks for it), or a
 * Bearer token; open only when webhooks are (webhook.insecure without a token).
 */
export function previewRoutes(deps: PreviewRouteDeps): Route[] {
  const { db, config } = deps;
  const now = deps.now ?? (() => new Date());

  const guarded =
    (handle: (req: RouteRequest) => Promise<RouteResponse>): Route['handle'] =>
    async (req) => {
      const auth = checkWebhookAuth({ headers: req.headers, rawBody: Buffer.alloc(0), now: now() }, config.webhook);
      if (!auth.ok) {
        return {
          status: 401,
          body: { error: `preview: ${auth.reason}; sign in with any user name and the webhook token (webhook.token) as password` },
          headers: { 'www-authenticate': 'Basic realm="Vigil preview", charset="UTF-8"', ...NO_STORE, ...COMMON },
        };
      }
      // Open without a credential only on loopback: and then only to requests that name it so.
      if (auth.method === 'insecure' && !isLoopbackHost(req.headers.host)) {
        return {
          status: 403,
          body: { error: 'preview: without webhook.token the page answers only at localhost, 127.0.0.1 or [::1]' },
          headers: { ...NO_STORE, ...COMMON },
        };
      }
      const res = await handle(req);
      return { ...res, headers: { ...COMMON, ...res.headers } };
    };

  const pageOptions = async (nonce = '') => ({ alertChannelId: config.discord.alertChannelId, revision: await previewRevision(db), nonce });

  return [
    {
      method: 'GET',
      path: '/preview',
      handle: guarded(async () => {
        const nonce = randomBytes(16).toString('base64');
        return {
          status: 200,
          body: renderPage(await previewEntries(db, PREVIEW_KEEP), await pageOptions(nonce)),
          headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': pageCsp(nonce), ...NO_STORE },
        };
      }),
    },
    {
      method: 'GET',
      path: '/preview/messages',
      handle: guarded(async () => ({
        status: 200,
        body: renderMessages(await previewEntries(db, PREVIEW_KEEP), await pageOptions()),
        headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': FRAGMENT_CSP, ...NO_STORE },
      })),
    },
    {
      method: 'GET',
      path: '/preview/state',
      handle: guarded(async () => ({ status: 200, body: { revision: await previewRevision(db) }, headers: NO_STORE })),
    },
    {
      method: 'GET',
      path: '/preview/file',
      handle: guarded(async (req) => {
        const message = req.query.get('message') ?? '';
        const name = req.query.get('name') ?? '';
        const data = /^\d{1,20}$/.test(message) && name ? await previewFile(db, message, name) : undefined;
        if (!data) return { status: 404, body: { error: 'preview: no such file (message and name query parameters)' } };
        const type = /\.png$/i.test(name) ? 'image/png' : /\.jpe?g$/i.test(name) ? 'image/jpeg' : 'application/octet-stream';
        // The URL carries the message's version (v=): a new chart after an edit is a new URL.
        return {
          status: 200,
          body: data,
          headers: { 'content-type': type, 'content-security-policy': "default-src 'none'", 'cache-control': 'private, max-age=3600' },
        };
      }),
    },
  ];
}
