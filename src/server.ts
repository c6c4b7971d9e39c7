import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './log.js';

/** What a route handler gets: the request, its raw body (already size-checked) and a clock. */
export interface RouteRequest {
  method: string;
  path: string;
  /** The URL's query string, parsed. */
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** The peer's address (the proxy's, behind one); undefined when the socket is gone. */
  remoteAddress?: string;
}

/** What a route handler answers: a string is sent as text, a Buffer as it is, anything else as JSON; `headers` may set the content type. */
export interface RouteResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A route: method + exact path (or path prefix) -> handler. */
export interface Route {
  method: 'GET' | 'POST';
  path: string;
  /** The route takes every path that starts with `path` and no exact route takes (its handler reads the rest). */
  prefix?: boolean;
  /** Whether the handler needs the body read first (POST routes). */
  readBody?: boolean;
  handle(req: RouteRequest): Promise<RouteResponse> | RouteResponse;
}

/** Raised while reading a body over the limit. */
class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLarge());
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, r: RouteResponse): void {
  const raw = Buffer.isBuffer(r.body);
  const payload = r.body === undefined ? '' : typeof r.body === 'string' || raw ? (r.body as string | Buffer) : JSON.stringify(r.body);
  res.writeHead(r.status, {
    'content-type': raw ? 'application/octet-stream' : typeof r.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    ...r.headers,
  });
  res.end(payload);
}

/** The bot's HTTP server: a fixed route table, bounded bodies, JSON errors, one log line per request. */
export function createHttpServer(opts: { routes: readonly Route[]; bodyLimit: number; logger: Logger }): Server {
  const { routes, bodyLimit, logger } = opts;
  // A route's errors are answered 500 inside handle; anything that still escapes (writing the answer) ends the request here.
  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err, path: req.url?.split('?')[0] }, 'request failed after routing');
      if (!res.headersSent) res.statusCode = 500;
      res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt < 0 ? url : url.slice(0, queryAt);
    const query = new URLSearchParams(queryAt < 0 ? '' : url.slice(queryAt + 1));
    let response: RouteResponse;
    const exact = routes.filter((r) => !r.prefix && r.path === path);
    const candidates = exact.length > 0 ? exact : routes.filter((r) => r.prefix && path.startsWith(r.path));
    const route = candidates.find((r) => r.method === method);
    try {
      if (candidates.length === 0) {
        response = { status: 404, body: { error: `no route for ${path}` } };
      } else if (!route) {
        response = {
          status: 405,
          body: { error: `${method} is not allowed on ${path}` },
          headers: { allow: candidates.map((r) => r.method).join(', ') },
        };
      } else {
        const body = route.readBody ? await readBody(req, bodyLimit) : Buffer.alloc(0);
        const remoteAddress = req.socket.remoteAddress;
        response = await route.handle({ method, path, query, headers: req.headers, body, ...(remoteAddress ? { remoteAddress } : {}) });
      }
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        response = { status: 413, body: { error: `body over the ${bodyLimit}-byte limit` }, headers: { connection: 'close' } };
      } else {
        logger.error({ err, path }, 'request failed');
        response = { status: 500, body: { error: 'internal error' } };
      }
    }
    send(res, response);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const level = response.status >= 500 ? 'error' : response.status >= 400 ? 'warn' : 'debug';
    logger[level]({ method, path, status: response.status, ms: Math.round(ms * 10) / 10 }, 'http request');
  }
}

/** Starts listening and resolves with the bound port. */
export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
