import { DiscordAPIError, HTTPError, RateLimitError } from './djs.js';

import type { DeliveryErrorReason } from '../model.js';

/** A delivery error sorted into retry or give up. */
export interface DeliveryErrorClass {
  retryable: boolean;
  reason: DeliveryErrorReason;
  /** HTTP status, when Discord answered. */
  status?: number;
  /** How long Discord asked us to wait, in ms, when it said so (429). */
  retryAfterMs?: number;
  /** Discord refuses the bot token (401): every delivery would fail alike, so all of them wait. */
  holdAll?: boolean;
  /**
   * Discord refuses the bot in this channel (403 Missing Access or Missing Permissions, 404 Unknown
   * Channel): every delivery to it would fail alike until someone fixes it, so they wait.
   */
  holdChannel?: boolean;
  /** What a person does about it, for the log line: which permission or setting to fix. */
  fix?: string;
  /** Short description without request bodies or headers. */
  message: string;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
]);

const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  // The REST `timeout` option aborts the request through an AbortController.
  'UND_ERR_ABORTED',
  'ABORT_ERR',
]);

/** Sorts whatever discord.js REST (or undici under it) threw into retryable or not, with a reason. */
export function classifyDeliveryError(err: unknown): DeliveryErrorClass {
  if (err instanceof RateLimitError) {
    return { retryable: true, reason: 'rateLimited', status: 429, retryAfterMs: err.retryAfter, message: rateLimitMessage(err) };
  }
  if (err instanceof DiscordAPIError) {
    const code = typeof err.code === 'number' ? err.code : undefined;
    return byStatus(err.status, `${withStatus(err.status, err.message)} (code ${err.code})`, retryAfterFromBody(err.rawError), code);
  }
  if (err instanceof HTTPError) return byStatus(err.status, withStatus(err.status, err.message));
  return byCause(err);
}

/** Discord's JSON error codes of a channel the bot may not use, and what fixes each. */
const CHANNEL_REFUSALS: Record<number, string> = {
  50001: 'give the bot View Channel and Send Messages in that channel (channel settings > Permissions)',
  50013: 'give the bot Send Messages, Embed Links, Attach Files, Create Public Threads and Send Messages in Threads in that channel',
  10003: 'check discord.alertChannelId (and watchdog/digest channelId): the channel does not exist, or the bot is not in its server',
};

function byStatus(status: number, text: string, retryAfterMs?: number, code?: number): DeliveryErrorClass {
  // DiscordAPIError puts one line per invalid field after the summary; keep them, on one line.
  const message = text.replace(/\s*\n\s*/g, '; ');
  if (status === 429) {
    return { retryable: true, reason: 'rateLimited', status, message, ...(retryAfterMs !== undefined && { retryAfterMs }) };
  }
  if (status === 401) return { retryable: true, reason: 'auth', status, message, holdAll: true };
  // A channel closed to the bot, or gone: nothing is given up, the channel's deliveries wait for a fix.
  const fix = code !== undefined && (status === 403 || status === 404) ? CHANNEL_REFUSALS[code] : undefined;
  if (fix) return { retryable: true, reason: 'channel', status, message, holdChannel: true, fix };
  // Another refusal (a 403 about this one request, or from a proxy): that delivery alone gives up.
  if (status === 403) return { retryable: false, reason: 'auth', status, message };
  if (status >= 400 && status < 500) return { retryable: false, reason: 'client', status, message };
  // 5xx, or a status REST should never throw for: Discord misbehaving, worth another try.
  return { retryable: true, reason: 'server', status, message };
}

/** Non-HTTP failures: timeouts, sockets, DNS; the code may sit on the error or on its cause. */
function byCause(err: unknown): DeliveryErrorClass {
  const message = errorMessage(err);
  // After a 401, REST drops its token and throws this for every later request.
  if (/Expected token to be set for this request/.test(message)) {
    return { retryable: true, reason: 'auth', message, holdAll: true };
  }
  for (const e of causeChain(err)) {
    if (e.name === 'AbortError' || e.name === 'TimeoutError' || (e.code !== undefined && TIMEOUT_CODES.has(e.code))) {
      return { retryable: true, reason: 'timeout', message };
    }
    if (e.code !== undefined && (NETWORK_CODES.has(e.code) || e.code.startsWith('UND_ERR_'))) {
      return { retryable: true, reason: 'network', message };
    }
  }
  // Unknown failure on the way to Discord: assume transient. The outbox backoff bounds the cost,
  // while giving up would silently drop an alert.
  return { retryable: true, reason: 'network', message };
}

interface ErrorLike {
  name: string;
  code?: string;
}

function causeChain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  let cur: unknown = err;
  for (let depth = 0; depth < 5 && cur !== null && typeof cur === 'object'; depth++) {
    const name = (cur as { name?: unknown }).name;
    const code = (cur as { code?: unknown }).code;
    out.push({ name: typeof name === 'string' ? name : '', ...(typeof code === 'string' && { code }) });
    cur = (cur as { cause?: unknown }).cause;
  }
  return out;
}

function retryAfterFromBody(raw: unknown): number | undefined {
  const seconds = (raw as { retry_after?: unknown } | null)?.retry_after;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds * 1000) : undefined;
}

function rateLimitMessage(err: RateLimitError): string {
  return `rate limited on ${err.method.toUpperCase()} ${err.route} (${err.global ? 'global' : err.scope}), retry after ${err.retryAfter}ms`;
}

/** "500 Internal Server Error"; Discord's own "401: Unauthorized" already starts with it. */
function withStatus(status: number, message: string): string {
  return message.startsWith(String(status)) ? message : `${status} ${message}`;
}

/**
 * The error and its causes in one line: "fetch failed: connect ECONNREFUSED 162.159.135.232:443",
 * so a log line names the host and the cause (refused, timed out, TLS), not only "fetch failed".
 */
function errorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const parts: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; depth < 5 && cur instanceof Error; depth++) {
    const code = (cur as { code?: unknown }).code;
    const base = cur.message || cur.name;
    const text = typeof code === 'string' && !base.includes(code) ? `${code}: ${base}` : base;
    if (!parts.some((p) => p.includes(text))) parts.push(text);
    cur = cur.cause;
  }
  return parts.join(': ');
}
