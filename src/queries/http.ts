import { request } from 'undici';
import type { z } from 'zod';
import { formatDuration } from '../config/duration.js';
import type { FailureWords } from '../findings.js';
import { scrubSecrets } from '../log.js';

/** How a backend call failed; `down`: not asked at all, the backend timed out again and again (breakerClient). */
export type QueryErrorKind = 'timeout' | 'network' | 'http' | 'invalid-response' | 'down';

/** A failed backend call; `message` is short, user-facing and never carries credentials. */
export class QueryError extends Error {
  override readonly name = 'QueryError';

  constructor(
    readonly kind: QueryErrorKind,
    message: string,
    readonly status?: number,
    /** The cause in Vigil's own words, for messages in another language than `message`'s English. */
    readonly words?: FailureWords,
  ) {
    super(message);
  }
}

/** One HTTP backend: its display name ("Prometheus", "Loki"), base URL and default timeout. */
export interface Backend {
  name: string;
  /** Base URL, possibly with a path prefix and `user:pass@` (sent as basic auth, never shown). */
  url: string;
  timeoutMs: number;
  /** Sent as `Authorization: Bearer …` unless the URL carries basic auth; never shown. */
  bearerToken?: string;
  /** Sent as basic auth when neither the URL's credentials nor a bearer token are given; never shown. */
  basicAuth?: { user: string; password: string };
}

/** Per-call options: a tighter timeout and/or the caller's own abort signal. */
export interface CallOptions {
  /** Bounded by the backend's timeout: the smaller one wins. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Query string parameters; arrays repeat the key (`match[]=a&match[]=b`), undefined is left out. */
export type QueryParams = Record<string, string | number | readonly string[] | undefined>;

/** A raw answer: status and body text, whatever the status. */
export interface RawResponse {
  status: number;
  text: string;
}

/** Larger answers are refused rather than buffered (a runaway range query must not eat the heap). */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** Server error text beyond this is cut: it is shown on a phone. */
const MAX_ERROR_CHARS = 300;

/** GETs `path` from the backend and validates the JSON answer with `schema`; throws QueryError. */
export async function getJson<S extends z.ZodType>(
  backend: Backend,
  path: string,
  params: QueryParams,
  schema: S,
  opts: CallOptions = {},
): Promise<z.output<S>> {
  return parseJson(backend, await getRaw(backend, path, params, opts), schema);
}

/** Sends a POST/DELETE (with `body` as JSON when given) and validates the JSON answer with `schema`; throws QueryError. */
export async function sendJson<S extends z.ZodType>(
  backend: Backend,
  method: SendMethod,
  path: string,
  body: unknown,
  schema: S,
  opts: CallOptions = {},
): Promise<z.output<S>> {
  return parseJson(backend, await sendRaw(backend, method, path, body, opts), schema);
}

/** Checks the status, parses and validates a raw answer. */
function parseJson<S extends z.ZodType>(backend: Backend, { status, text }: RawResponse, schema: S): z.output<S> {
  if (status < 200 || status > 299) throw httpError(backend.name, status, text);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new QueryError('invalid-response', `${backend.name} returned invalid JSON (HTTP ${status})`, status);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new QueryError('invalid-response', `${backend.name} returned an unexpected response: ${describeIssue(parsed.error)}`, status);
  }
  return parsed.data;
}

/** Throws a QueryError carrying the server's text unless the answer is 2xx. */
export function expectOk(backend: Backend, res: RawResponse): RawResponse {
  if (res.status < 200 || res.status > 299) throw httpError(backend.name, res.status, res.text);
  return res;
}

/** Methods that change state. */
export type SendMethod = 'POST' | 'DELETE';

/** GETs `path` and returns status and body text for any HTTP status; throws QueryError on timeout or network failure. */
export function getRaw(backend: Backend, path: string, params: QueryParams, opts: CallOptions = {}): Promise<RawResponse> {
  return call(backend, 'GET', path, params, undefined, opts);
}

/** Sends a POST/DELETE (JSON `body` when defined) and returns status and text for any HTTP status; throws QueryError on timeout or network failure. */
export function sendRaw(backend: Backend, method: SendMethod, path: string, body: unknown, opts: CallOptions = {}): Promise<RawResponse> {
  return call(backend, method, path, {}, body, opts);
}

async function call(backend: Backend, method: 'GET' | SendMethod, path: string, params: QueryParams, body: unknown, opts: CallOptions): Promise<RawResponse> {
  const { url, authorization, secrets } = buildUrl(backend.url, path, params);
  if (backend.bearerToken) secrets.push(backend.bearerToken);
  if (backend.basicAuth) secrets.push(backend.basicAuth.password);
  const basic = backend.basicAuth ? `Basic ${Buffer.from(`${backend.basicAuth.user}:${backend.basicAuth.password}`).toString('base64')}` : undefined;
  const auth = authorization ?? (backend.bearerToken ? `Bearer ${backend.bearerToken}` : basic);
  const timeoutMs = Math.min(backend.timeoutMs, opts.timeoutMs ?? Infinity);
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
  const json = body === undefined ? undefined : JSON.stringify(body);
  const headers = {
    accept: 'application/json',
    ...(auth ? { authorization: auth } : {}),
    ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
  };
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await request(url, { method, headers, signal, ...(json !== undefined ? { body: json } : {}) });
      const text = await readBody(res.body, backend.name);
      // An error answer may echo what it got (a careless proxy): it never carries our credentials on.
      return { status: res.statusCode, text: res.statusCode >= 200 && res.statusCode < 300 ? text : scrubSecrets(text, secrets) };
    } catch (err) {
      if (err instanceof QueryError) throw err;
      if (timeout.aborted)
        throw new QueryError('timeout', `${backend.name} timed out after ${formatDuration(timeoutMs)}`, undefined, {
          kind: 'timed-out',
          backend: backend.name,
          ms: timeoutMs,
        });
      if (opts.signal?.aborted) throw new QueryError('network', `${backend.name} request cancelled`);
      // A pooled keep-alive connection the server has since closed (a restart): GET and DELETE are
      // idempotent and safe to send again, once; a POST might have been applied.
      if (attempt === 1 && method !== 'POST' && isStaleConnection(err)) continue;
      throw new QueryError('network', `${backend.name} unreachable: ${scrubSecrets(networkReason(err), secrets)}`);
    }
  }
}

function isStaleConnection(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE';
}

/** Joins base URL, path and params; moves `user:pass@` out of the URL into a basic auth header. */
export function buildUrl(base: string, path: string, params: QueryParams): { url: URL; authorization?: string; secrets: string[] } {
  const url = new URL(base);
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  const secrets = [user, pass, url.username, url.password].filter((s) => s.length > 0);
  url.username = '';
  url.password = '';
  url.pathname = url.pathname.replace(/\/+$/, '') + path;
  url.search = '';
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (typeof value === 'string' || typeof value === 'number') url.searchParams.append(key, String(value));
    else for (const v of value) url.searchParams.append(key, v);
  }
  if (!user && !pass) return { url, secrets };
  return { url, authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`, secrets };
}

/**
 * Turns an error answer into a QueryError carrying the server's own words: Prometheus sends JSON
 * `{status:"error", errorType, error}`, Loki sends plain text (even under a JSON content type).
 */
function httpError(backend: string, status: number, body: string): QueryError {
  const detail = serverErrorText(body);
  return new QueryError('http', detail ? `${backend} HTTP ${status}: ${detail}` : `${backend} HTTP ${status}`, status);
}

/** The server's error text from a JSON error body or a plain-text body; '' for HTML or empty bodies. */
export function serverErrorText(body: string): string {
  const trimmed = body.trim();
  if (!trimmed || trimmed.startsWith('<')) return '';
  let text = trimmed;
  try {
    const json: unknown = JSON.parse(trimmed);
    // Alertmanager's v2 API answers a 400 with a bare JSON string.
    if (typeof json === 'string') text = json;
    else if (json && typeof json === 'object' && 'error' in json && typeof json.error === 'string') {
      const type = 'errorType' in json && typeof json.errorType === 'string' && json.errorType ? `${json.errorType}: ` : '';
      text = type + json.error;
    } else if (json && typeof json === 'object' && 'message' in json && typeof json.message === 'string') {
      text = json.message;
    }
  } catch {
    // Not JSON: Loki's 400s are plain text.
  }
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > MAX_ERROR_CHARS ? `${oneLine.slice(0, MAX_ERROR_CHARS - 1)}…` : oneLine;
}

async function readBody(body: AsyncIterable<Buffer | string>, name: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buf.length;
    if (size > MAX_BODY_BYTES) {
      throw new QueryError('invalid-response', `${name} response larger than ${MAX_BODY_BYTES / 1024 / 1024} MiB`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function networkReason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  const cause = err.cause instanceof Error ? err.cause.message : '';
  const msg = err.message || cause || err.name;
  // undici's own codes (UND_ERR_*) say less than their messages; system codes (ECONNREFUSED) say more.
  return typeof code === 'string' && !code.startsWith('UND_ERR') && !msg.includes(code) ? `${code} ${msg}` : msg;
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const where = issue.path.length ? issue.path.map(String).join('.') : 'body';
  return `${where}: ${issue.message}`;
}
