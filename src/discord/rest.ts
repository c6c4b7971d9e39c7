import { DiscordAPIError, HTTPError, RateLimitError, REST, type RateLimitData, type RESTOptions } from './djs.js';
import {
  MessageFlags,
  Routes,
  type APIMessage,
  type APIThreadChannel,
  type RESTPatchAPIChannelMessageJSONBody,
  type RESTPostAPIChannelMessageJSONBody,
} from 'discord-api-types/v10';
import type { Metrics } from '../metrics.js';
import type { RateBudget } from './budget.js';

/** A file uploaded with a message (multipart/form-data, as `files[n]`). */
export interface MessageFile {
  name: string;
  data: Buffer | Uint8Array;
}

/** How the Discord REST client is set up. */
export interface RestConfig {
  token: string;
  /** Base API URL without the version, e.g. https://discord.com/api. */
  apiBaseUrl: string;
  /** Per-request timeout; a timed-out request goes back to the outbox for a later attempt. */
  timeoutMs?: number;
  /**
   * Rate-limit waits up to this long happen inside REST (it knows the buckets); a longer one is
   * thrown as a RateLimitError so the outbox stores the wait and the drainer stays stoppable.
   */
  maxRateLimitWaitMs?: number;
  /** Counts Discord's 429 answers when given. */
  metrics?: Pick<Metrics, 'discordRateLimits'>;
  /** Learns each bucket's budget from every answer's rate-limit headers (the drainer asks it before sending). */
  budget?: RateBudget;
  /** How often REST forgets idle handlers and old bucket hashes, and how old a hash may get (tests shorten them). */
  sweep?: { intervalMs: number; hashLifetimeMs: number };
}

/**
 * @discordjs/rest keeps a request handler per bucket and channel and each route's bucket hash; by
 * default it sweeps idle handlers every hour and hashes unused for 24 hours. Every incident's
 * thread is a channel of its own, so under a steady stream of alerts thousands piled up: idle
 * handlers go every minute, hashes unused for 15 minutes (the next request learns its bucket again).
 */
export const REST_SWEEP = { intervalMs: 60_000, hashLifetimeMs: 15 * 60_000 } as const;

/** Longest nonce Discord accepts. */
export const MAX_NONCE_LENGTH = 25;

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_MAX_RATE_LIMIT_WAIT_MS = 10_000;

/**
 * Fields PATCH /channels/{id}/messages/{id} accepts (Discord docs, Edit Message; the spec's
 * MessageEditRequestPartial also lists sticker_ids, which the docs do not: we follow the docs).
 */
const EDITABLE_FIELDS = ['content', 'embeds', 'flags', 'allowed_mentions', 'components', 'attachments'] as const;

/**
 * How discord.js REST sends a request: the runtime's fetch. Its default, undici's `request` (the
 * project's one undici 7: package.json overrides keep a single copy loaded), cannot read the
 * FormData of a multipart body ("action is not a function"), so every message with a file would
 * fail. fetch encodes the FormData itself and hands the dispatcher a plain stream. The casts only
 * bridge two declarations of the same fetch types (Node's undici-types and undici 7's).
 */
export const fetchRequest: RESTOptions['makeRequest'] = (url, init) =>
  fetch(url, init as RequestInit) as Promise<unknown> as ReturnType<RESTOptions['makeRequest']>;

/** What delivery needs of a REST client: discord.js REST, or preview mode's stand-in (src/discord/preview.ts). */
export type DiscordRest = Pick<REST, 'post' | 'patch'>;

/** The token each client was created with: discord.js forgets it after a 401 (see restoreToken). */
const tokens = new WeakMap<DiscordRest, string>();

/**
 * Gives a client made by createRest its token back: discord.js REST drops it on any 401, after
 * which every request fails locally ("Expected token to be set") until it is set again.
 */
export function restoreToken(rest: DiscordRest): void {
  const token = tokens.get(rest);
  if (token) (rest as REST).setToken(token);
}

/** Creates the discord.js REST client for API v10. */
export function createRest(cfg: RestConfig): REST {
  const maxWait = cfg.maxRateLimitWaitMs ?? DEFAULT_MAX_RATE_LIMIT_WAIT_MS;
  const rest = new REST({
    api: cfg.apiBaseUrl,
    version: '10',
    timeout: cfg.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    // No in-memory retries of 5xx/timeouts: REST would retry at once, up to `retries` times, with
    // no backoff and nothing persisted. The outbox retries instead, with exponential backoff that
    // survives restarts and shows in `attempts`; nonces make a repeated POST safe.
    retries: 0,
    // 429s stay REST's job (bucket bookkeeping, waiting); only long waits come back to us.
    rejectOnRateLimit: (data: RateLimitData) => data.retryAfter > maxWait,
    makeRequest: fetchRequest,
    handlerSweepInterval: (cfg.sweep ?? REST_SWEEP).intervalMs,
    hashSweepInterval: (cfg.sweep ?? REST_SWEEP).intervalMs,
    hashLifetime: (cfg.sweep ?? REST_SWEEP).hashLifetimeMs,
  }).setToken(cfg.token);
  tokens.set(rest, cfg.token);
  const { metrics, budget } = cfg;
  // Every 429 Discord answers, waited out or handed back to the outbox. Not the 'rateLimited'
  // event: REST emits it only for waits it predicts from bucket headers, never for a 429 itself.
  if (metrics || budget) {
    rest.on('response', (request, response) => {
      if (response.status === 429) metrics?.discordRateLimits.inc();
      budget?.observe(request.method, request.path, response.status, response.headers);
    });
  }
  return rest;
}

/**
 * Resolves once Discord answers anything (GET /gateway/bot: cheap, in no channel's bucket; an
 * error status is an answer too); rejects when it does not answer at all (timeout, network).
 */
export async function probeDiscord(rest: REST): Promise<void> {
  // After a 401 REST fails locally without asking ("Expected token to be set"): that is no silence.
  restoreToken(rest);
  try {
    await rest.get(Routes.gatewayBot());
  } catch (err) {
    if (err instanceof DiscordAPIError || err instanceof HTTPError || err instanceof RateLimitError) return;
    throw err;
  }
}

/**
 * Posts a message. With `enforce_nonce`, Discord answers a repeat of the same nonce (same author,
 * within a few minutes) with the message already created: a retry after a lost response cannot
 * post twice. With `files`, the request is multipart: the body goes as `payload_json`, file n as
 * `files[n]` (the body's `attachments` should list each as `{ id: "n", filename }`).
 */
export async function postMessage(
  rest: DiscordRest,
  channelId: string,
  body: RESTPostAPIChannelMessageJSONBody,
  nonce: string,
  files?: readonly MessageFile[],
): Promise<{ id: string }> {
  if (nonce.length === 0 || nonce.length > MAX_NONCE_LENGTH) {
    throw new RangeError(`nonce must be 1-${MAX_NONCE_LENGTH} characters, got ${nonce.length}`);
  }
  const message = (await rest.post(Routes.channelMessages(channelId), {
    body: { ...body, nonce, enforce_nonce: true },
    ...rawFiles(files),
  })) as APIMessage;
  return { id: messageId(message) };
}

/**
 * Replaces the content of a message the bot posted; fields PATCH does not take are dropped.
 * Discord keeps only the attachments the body's `attachments` lists: `[]` removes them all, and
 * new `files` must be listed there by their placeholder id to stay.
 */
export async function editMessage(
  rest: DiscordRest,
  channelId: string,
  messageIdToEdit: string,
  body: RESTPostAPIChannelMessageJSONBody | RESTPatchAPIChannelMessageJSONBody,
  files?: readonly MessageFile[],
): Promise<{ id: string }> {
  const message = (await rest.patch(Routes.channelMessage(channelId, messageIdToEdit), {
    body: toEditBody(body),
    ...rawFiles(files),
  })) as APIMessage;
  return { id: messageId(message) };
}

/** What a thread start asks for: its name (1-100 characters) and when it archives itself (minutes). */
export interface ThreadStart {
  name: string;
  auto_archive_duration?: 60 | 1440 | 4320 | 10080;
}

/** Discord's code for "a thread has already been created for this message". */
export const THREAD_ALREADY_EXISTS = 160004;
/** Discord's code for a message that is gone (deleted, or never in that channel). */
export const UNKNOWN_MESSAGE = 10008;
/** Discord's code for a channel that does not exist or the bot cannot see. */
export const UNKNOWN_CHANNEL = 10003;

/**
 * Starts a public thread on a message (Start Thread from Message). The thread's id is the message's
 * id; a repeat after a lost response is answered 160004 by Discord, which callers treat as done.
 */
export async function startThread(rest: DiscordRest, channelId: string, messageIdToThread: string, start: ThreadStart): Promise<{ id: string }> {
  const name = start.name.trim();
  if (name.length === 0 || [...name].length > 100) throw new RangeError(`thread name must be 1-100 characters, got ${[...name].length}`);
  const thread = (await rest.post(Routes.threads(channelId, messageIdToThread), {
    body: { name, ...(start.auto_archive_duration ? { auto_archive_duration: start.auto_archive_duration } : {}) },
  })) as APIThreadChannel;
  if (typeof thread?.id !== 'string') throw new Error('Discord answered without a thread id');
  return { id: thread.id };
}

/** Archives a thread (PATCH /channels/{thread_id} with archived: true); a later post unarchives it. */
export async function archiveThread(rest: DiscordRest, threadId: string): Promise<{ id: string }> {
  const thread = (await rest.patch(Routes.channel(threadId), { body: { archived: true } })) as APIThreadChannel;
  if (typeof thread?.id !== 'string') throw new Error('Discord answered without a thread id');
  return { id: thread.id };
}

/** discord.js REST's `files` option (it then sends multipart with `payload_json`), or nothing. */
export function rawFiles(files: readonly MessageFile[] | undefined): { files?: { name: string; data: Buffer | Uint8Array }[] } {
  return files?.length ? { files: files.map((f) => ({ name: f.name, data: f.data })) } : {};
}

/** Keeps only what an edit may carry: no nonce, message_reference, tts, stickers or poll. */
export function toEditBody(body: RESTPostAPIChannelMessageJSONBody | RESTPatchAPIChannelMessageJSONBody): RESTPatchAPIChannelMessageJSONBody {
  const source = body as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of EDITABLE_FIELDS) if (source[key] !== undefined) out[key] = source[key];
  // Docs: only SUPPRESS_EMBEDS can be set or unset on an edit.
  if (typeof out.flags === 'number') out.flags = out.flags & MessageFlags.SuppressEmbeds;
  return out;
}

function messageId(message: APIMessage): string {
  if (typeof message?.id !== 'string') throw new Error('Discord answered without a message id');
  return message.id;
}
