import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { postChunked } from './support/chunked.js';
import { createHttpServer, listen, type Route, type RouteRequest } from '../src/server.js';

const LIMIT = 2048;
const SECRET = 'server-test-secret-value-123456';

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A logger writing JSON lines into memory, with SECRET scrubbed by value. */
function memoryLogger() {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', secrets: [SECRET] }, { write: (s: string) => void lines.push(s) });
  return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l) as LogLine) };
}

/** The route table the tests serve: each handler records what it was given. */
function testRoutes(seen: RouteRequest[]): Route[] {
  return [
    { method: 'GET', path: '/ping', handle: (req) => (seen.push(req), { status: 200, body: { pong: true } }) },
    { method: 'GET', path: '/text', handle: () => ({ status: 200, body: 'plain words', headers: { 'x-extra': 'yes' } }) },
    { method: 'POST', path: '/echo', readBody: true, handle: (req) => (seen.push(req), { status: 201, body: { size: req.body.length } }) },
    { method: 'GET', path: '/both', handle: () => ({ status: 200 }) },
    { method: 'POST', path: '/both', handle: () => ({ status: 200 }) },
    {
      method: 'GET',
      path: '/boom',
      handle: () => {
        throw new Error(`database exploded near ${SECRET}`);
      },
    },
  ];
}

let running: Server[] = [];

afterEach(async () => {
  await Promise.all(
    running.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
  running = [];
});

/** Starts a server with the test routes on an ephemeral loopback port. */
async function start() {
  const seen: RouteRequest[] = [];
  const log = memoryLogger();
  const server = createHttpServer({ routes: testRoutes(seen), bodyLimit: LIMIT, logger: log.logger });
  running.push(server);
  const port = await listen(server, '127.0.0.1', 0);
  return { server, port, url: `http://127.0.0.1:${port}`, seen, log };
}

describe('listen', () => {
  it('resolves with the port the kernel bound when asked for port 0', async () => {
    const { server, port, url } = await start();
    expect(port).toBeGreaterThan(0);
    expect(port).toBe((server.address() as { port: number }).port);
    expect((await fetch(`${url}/ping`)).status).toBe(200);
  });

  it('rejects with EADDRINUSE when the port is taken', async () => {
    const { port } = await start();
    const second = createHttpServer({ routes: [], bodyLimit: LIMIT, logger: memoryLogger().logger });
    await expect(listen(second, '127.0.0.1', port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});

describe('createHttpServer routing', () => {
  it.each([
    ['an unknown path', 'GET', '/nowhere', 404, { error: 'no route for /nowhere' }, undefined],
    ['a path that only prefixes a route', 'GET', '/ping/more', 404, { error: 'no route for /ping/more' }, undefined],
    ['a method the path does not take', 'PUT', '/echo', 405, { error: 'PUT is not allowed on /echo' }, 'POST'],
    ['a method on a path with two routes', 'DELETE', '/both', 405, { error: 'DELETE is not allowed on /both' }, 'GET, POST'],
  ])('answers %s with %s… JSON', async (_name, method, path, status, body, allow) => {
    const { url, seen } = await start();
    const res = await fetch(`${url}${path}`, { method });
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('allow')).toBe(allow ?? null);
    expect(await res.json()).toEqual(body);
    expect(seen).toHaveLength(0);
  });

  it('matches the path without its query string and gives a GET handler an empty body', async () => {
    const { url, seen } = await start();
    const res = await fetch(`${url}/ping?x=1&y=2`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ pong: true });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'GET', path: '/ping' });
    expect(seen[0]!.body.length).toBe(0);
  });

  it('sends a string body as text/plain and keeps the handler headers', async () => {
    const { url } = await start();
    const res = await fetch(`${url}/text`);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.headers.get('x-extra')).toBe('yes');
    expect(await res.text()).toBe('plain words');
  });
});

describe('createHttpServer bodies', () => {
  it('hands the handler the exact bytes of a body at the limit', async () => {
    const { url, seen } = await start();
    const bytes = Buffer.alloc(LIMIT, 0xab);
    const res = await fetch(`${url}/echo`, { method: 'POST', body: bytes });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ size: LIMIT });
    expect(seen[0]!.body.equals(bytes)).toBe(true);
  });

  it('reassembles a chunked body under the limit', async () => {
    const { url, seen } = await start();
    const chunks = [Buffer.from('{"a":'), Buffer.from('"b"'), Buffer.from('}')];
    const res = await postChunked(`${url}/echo`, chunks);
    expect(res.chunked).toBe(true);
    expect(res.status).toBe(201);
    expect(seen[0]!.headers['transfer-encoding']).toBe('chunked');
    expect(seen[0]!.body.toString()).toBe('{"a":"b"}');
  });

  it('answers 413 from the Content-Length alone, without calling the handler', async () => {
    const { url, seen } = await start();
    const res = await fetch(`${url}/echo`, { method: 'POST', body: Buffer.alloc(LIMIT + 1, 0x20) });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: `body over the ${LIMIT}-byte limit` });
    expect(seen).toHaveLength(0);
  });

  it('answers 413 to a chunked body once the bytes read pass the limit, without calling the handler', async () => {
    const { url, seen } = await start();
    const chunks = Array.from({ length: 4 }, () => Buffer.alloc(1000, 0x20));
    const res = await postChunked(`${url}/echo`, chunks);
    expect(res.chunked).toBe(true);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual({ error: `body over the ${LIMIT}-byte limit` });
    expect(seen).toHaveLength(0);
  });

  it('keeps serving after refusing an oversized body', async () => {
    const { url } = await start();
    await postChunked(`${url}/echo`, [Buffer.alloc(LIMIT * 2, 0x20)]);
    expect((await fetch(`${url}/ping`)).status).toBe(200);
  });
});

describe('createHttpServer errors and logs', () => {
  it('answers 500 without the error text when a handler throws, and logs the error scrubbed', async () => {
    const { url, log } = await start();
    const res = await fetch(`${url}/boom`);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: 'internal error' });
    expect(text).not.toContain('exploded');
    const failure = log.parsed().find((l) => l.msg === 'request failed');
    expect(failure).toMatchObject({ path: '/boom', err: { message: 'database exploded near [redacted]' } });
    expect(log.lines.join('')).not.toContain(SECRET);
  });

  it.each([
    ['a success at debug', '/ping', 200, 20],
    ['a client error at warn', '/nowhere', 404, 40],
    ['a server error at error', '/boom', 500, 50],
  ])('logs one line per request: %s', async (_name, path, status, level) => {
    const { url, log } = await start();
    await (await fetch(`${url}${path}`)).text();
    const requests = log.parsed().filter((l) => l.msg === 'http request');
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ method: 'GET', path, status, level });
    expect(typeof requests[0]!['ms']).toBe('number');
  });
});
