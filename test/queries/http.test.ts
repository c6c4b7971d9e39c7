import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildUrl, expectOk, getJson, getRaw, QueryError, sendJson, sendRaw, serverErrorText, type Backend } from '../../src/queries/http.js';
import { freePort } from '../support/ports.js';

/** Starts a throwaway HTTP server on 127.0.0.1 and returns its base URL. */
async function serve(handler: RequestListener): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const seen: IncomingMessage[] = [];
let base = '';
let server: Server;

beforeAll(async () => {
  ({ url: base, server } = await serve((req, res) => {
    seen.push(req);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    switch (path) {
      case '/prefix/api/ok':
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ status: 'success', data: { n: 1, extra: 'ignored' } }));
        return;
      case '/prefix/api/prom-error':
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: '1:5: parse error: unexpected <op:>>' }));
        return;
      case '/prefix/api/loki-error':
        // Loki labels its plain-text 400s as JSON.
        res.writeHead(400, { 'content-type': 'application/json; charset=UTF-8' });
        res.end('parse error at line 1, col 23: syntax error: unexpected $end, expecting } or ,\n');
        return;
      case '/prefix/api/html':
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
        return;
      case '/prefix/api/not-json':
        res.end('{"status":"success", oops');
        return;
      case '/prefix/api/wrong-shape':
        res.end(JSON.stringify({ status: 'success', data: { n: 'one' } }));
        return;
      case '/prefix/api/slow':
        setTimeout(() => res.end('{}'), 5_000).unref();
        return;
      default:
        res.writeHead(404).end('not found');
    }
  }));
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const okSchema = z.object({ status: z.literal('success'), data: z.object({ n: z.number() }) });
const backend = (over: Partial<Backend> = {}): Backend => ({ name: 'Prometheus', url: `${base}/prefix/`, timeoutMs: 2_000, ...over });

/** Runs `call` and returns the QueryError it must throw. */
async function failure(call: Promise<unknown>): Promise<QueryError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(QueryError);
  return err as QueryError;
}

describe('buildUrl', () => {
  it('joins base path, request path and params; arrays repeat the key and undefined is left out', () => {
    const { url, authorization } = buildUrl('http://127.0.0.1:9/prom/', '/api/v1/series', {
      'match[]': ['up', '{job="a b"}'],
      start: 12,
      end: undefined,
    });
    expect(url.pathname).toBe('/prom/api/v1/series');
    expect(url.searchParams.getAll('match[]')).toEqual(['up', '{job="a b"}']);
    expect(url.searchParams.get('start')).toBe('12');
    expect(url.searchParams.has('end')).toBe(false);
    expect(authorization).toBeUndefined();
  });

  it('moves user:pass@ out of the URL into a basic auth header', () => {
    const { url, authorization } = buildUrl('http://al%40ice:s3cr%3At@127.0.0.1:9', '/x', {});
    expect(url.href).toBe('http://127.0.0.1:9/x');
    expect(authorization).toBe(`Basic ${Buffer.from('al@ice:s3cr:t').toString('base64')}`);
  });
});

describe('getJson', () => {
  it('returns the zod-parsed body and sends the params', async () => {
    const data = await getJson(backend(), '/api/ok', { query: 'up{job="x"}' }, okSchema);
    expect(data).toEqual({ status: 'success', data: { n: 1 } });
    const req = seen.at(-1)!;
    expect(new URL(req.url!, 'http://x').searchParams.get('query')).toBe('up{job="x"}');
  });

  it('sends URL credentials as basic auth', async () => {
    const withCreds = `${base.replace('http://', 'http://vigil:hunter2hunter2@')}/prefix`;
    await getJson(backend({ url: withCreds }), '/api/ok', {}, okSchema);
    expect(seen.at(-1)!.headers.authorization).toBe(`Basic ${Buffer.from('vigil:hunter2hunter2').toString('base64')}`);
  });

  it.each([
    ['Prometheus JSON error', '/api/prom-error', 'Prometheus HTTP 400: bad_data: 1:5: parse error: unexpected <op:>>', 400],
    ['Loki plain-text error', '/api/loki-error', 'Prometheus HTTP 400: parse error at line 1, col 23: syntax error: unexpected $end, expecting } or ,', 400],
    ['HTML error page (status only)', '/api/html', 'Prometheus HTTP 502', 502],
  ])('surfaces the server text of a %s', async (_name, path, message, status) => {
    const err = await failure(getJson(backend(), path, {}, okSchema));
    expect(err).toMatchObject({ kind: 'http', status, message });
  });

  it('says which field of the answer had the wrong shape', async () => {
    const err = await failure(getJson(backend(), '/api/wrong-shape', {}, okSchema));
    expect(err.kind).toBe('invalid-response');
    expect(err.message).toMatch(/^Prometheus returned an unexpected response: data\.n: .*number/);
  });

  it('reports a body that is not JSON as an invalid response', async () => {
    const err = await failure(getJson(backend(), '/api/not-json', {}, okSchema));
    expect(err).toMatchObject({ kind: 'invalid-response', message: 'Prometheus returned invalid JSON (HTTP 200)' });
  });

  it('times out with the backend name and the effective (smaller) timeout', async () => {
    const err = await failure(getJson(backend({ name: 'Loki', timeoutMs: 5_000 }), '/api/slow', {}, okSchema, { timeoutMs: 150 }));
    expect(err).toMatchObject({ kind: 'timeout', message: 'Loki timed out after 150ms' });
  });

  it('keeps the backend timeout when the call asks for a longer one', async () => {
    const err = await failure(getJson(backend({ timeoutMs: 100 }), '/api/slow', {}, okSchema, { timeoutMs: 60_000 }));
    expect(err.message).toBe('Prometheus timed out after 100ms');
  });

  it('stops when the caller aborts', async () => {
    const ac = new AbortController();
    const pending = getJson(backend(), '/api/slow', {}, okSchema, { signal: ac.signal });
    ac.abort();
    const err = await failure(pending);
    expect(err).toMatchObject({ kind: 'network', message: 'Prometheus request cancelled' });
  });

  it('reports a refused connection as a network error without the credentials', async () => {
    const port = await freePort();
    const err = await failure(getJson(backend({ url: `http://vigil:hunter2hunter2@127.0.0.1:${port}` }), '/x', {}, okSchema));
    expect(err.kind).toBe('network');
    expect(err.message).toMatch(/^Prometheus unreachable: .*ECONNREFUSED/);
    expect(err.message).not.toContain('hunter2');
    expect(err.message).not.toContain('vigil:');
  });
});

describe('getRaw', () => {
  it('sends a GET again, once, when a pooled connection turns out to be closed (server restart)', async () => {
    // Every connection serves one request; a second request on it is dropped unanswered.
    const served = new WeakSet<object>();
    let dropped = 0;
    const { url, server: s } = await serve((req, res) => {
      if (served.has(req.socket)) {
        dropped++;
        req.socket.destroy();
        return;
      }
      served.add(req.socket);
      res.end('ok');
    });
    try {
      const b = backend({ url });
      await expect(getRaw(b, '/one', {})).resolves.toEqual({ status: 200, text: 'ok' });
      // Let undici put the connection back in its pool, so the next GET goes out on it.
      await new Promise((resolve) => setTimeout(resolve, 50));
      await expect(getRaw(b, '/two', {})).resolves.toEqual({ status: 200, text: 'ok' });
      expect(dropped).toBe(1);
    } finally {
      s.closeAllConnections();
      s.close();
    }
  });

  it('returns status and text for any status', async () => {
    await expect(getRaw(backend(), '/api/loki-error', {})).resolves.toEqual({
      status: 400,
      text: 'parse error at line 1, col 23: syntax error: unexpected $end, expecting } or ,\n',
    });
  });
});

describe('serverErrorText', () => {
  it.each([
    ['{"status":"error","errorType":"timeout","error":"query timed out"}', 'timeout: query timed out'],
    ['{"status":"error","error":"no type"}', 'no type'],
    ['{"message":"too many requests"}', 'too many requests'],
    ['"silence not found"\n', 'silence not found'],
    ['line one\n  line two\n', 'line one line two'],
    ['<!doctype html><p>proxy</p>', ''],
    ['   ', ''],
  ])('reads %j as %j', (body, text) => {
    expect(serverErrorText(body)).toBe(text);
  });

  it('cuts a long body to a phone-sized message', () => {
    const text = serverErrorText('x'.repeat(5_000));
    expect(text.length).toBe(300);
    expect(text.endsWith('…')).toBe(true);
  });
});

describe('sendJson / sendRaw', () => {
  /** Records each request (method, path, headers, body) and answers by path. */
  async function echoServer() {
    const got: Array<{ method: string; path: string; headers: IncomingMessage['headers']; body: string }> = [];
    const { url, server: s } = await serve((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        got.push({ method: req.method ?? '', path, headers: req.headers, body });
        if (path.endsWith('/created')) res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'abc' }));
        else if (path === '/bad') res.writeHead(400, { 'content-type': 'application/json' }).end('"silence invalid: end time must not be before start time"\n');
        else if (path === '/gone') req.socket.destroy();
        else res.writeHead(200).end();
      });
    });
    return { url, got, close: () => (s.closeAllConnections(), s.close()) };
  }

  it('POSTs the body as JSON with a bearer token and validates the answer', async () => {
    const srv = await echoServer();
    try {
      const b = backend({ url: `${srv.url}/am`, bearerToken: 'glsa_secret_token_1234' });
      const res = await sendJson(b, 'POST', '/created', { matchers: [{ name: 'a', value: '"b"' }] }, z.object({ id: z.string() }));
      expect(res).toEqual({ id: 'abc' });
      expect(srv.got[0]).toMatchObject({ method: 'POST', path: '/am/created', body: '{"matchers":[{"name":"a","value":"\\"b\\""}]}' });
      expect(srv.got[0]!.headers['content-type']).toBe('application/json');
      expect(srv.got[0]!.headers.authorization).toBe('Bearer glsa_secret_token_1234');
    } finally {
      srv.close();
    }
  });

  it('prefers basic auth from the URL over a bearer token', async () => {
    const srv = await echoServer();
    try {
      const b = backend({ url: srv.url.replace('http://', 'http://u:p@'), bearerToken: 'glsa_secret_token_1234' });
      await sendRaw(b, 'DELETE', '/x', undefined);
      expect(srv.got[0]!.headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
      expect(srv.got[0]!.headers['content-type']).toBeUndefined();
    } finally {
      srv.close();
    }
  });

  it("surfaces Alertmanager's bare JSON string error text", async () => {
    const srv = await echoServer();
    try {
      const b = backend({ name: 'Alertmanager', url: srv.url });
      const err = await failure(sendJson(b, 'POST', '/bad', {}, z.object({})));
      expect(err).toMatchObject({ kind: 'http', status: 400, message: 'Alertmanager HTTP 400: silence invalid: end time must not be before start time' });
      const raw = await sendRaw(b, 'POST', '/bad', {});
      expect(() => expectOk(b, raw)).toThrow('Alertmanager HTTP 400: silence invalid');
      expect(expectOk(b, await sendRaw(b, 'DELETE', '/ok', undefined)).status).toBe(200);
    } finally {
      srv.close();
    }
  });

  it('never sends a POST twice when the connection drops (it may have been applied)', async () => {
    const srv = await echoServer();
    try {
      const err = await failure(sendRaw(backend({ url: srv.url, bearerToken: 'glsa_secret_token_1234' }), 'POST', '/gone', {}));
      expect(err.kind).toBe('network');
      expect(err.message).not.toContain('glsa_secret');
      expect(srv.got.filter((g) => g.path === '/gone')).toHaveLength(1);
    } finally {
      srv.close();
    }
  });
});
