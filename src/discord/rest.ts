import { REST, type RateLimitData } from 'discord.js';
import {
  MessageFlags,
  Routes,
  type APIMessage,
  type RESTPatchAPIChannelMessageJSONBody,
  type RESTPostAPIChannelMessageJSONBody,
} from 'discord-api-types/v10';
import type { Metrics } from '../metrics.js';

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
}

/** Longest nonce Discord accepts. */
export const MAX_NONCE_LENGTH = 25;

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_MAX_RATE_LIMIT_WAIT_MS = 10_000;

/**
 * Fields PATCH /channels/{id}/messages/{id} accepts (Discord docs, Edit Message; the spec's
 * MessageEditRequestPartial also lists sticker_ids, which the docs do not: we follow the docs).
 */
const EDITABLE_FIELDS = ['content', 'embeds', 'flags', 'allowed_mentions', 'components', 'attachments'] as const;

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
  }).setToken(cfg.token);
  const metrics = cfg.metrics;
  // Every 429 Discord answers, waited out or handed back to the outbox. Not the 'rateLimited'
  // event: REST emits it only for waits it predicts from bucket headers, never for a 429 itself.
  if (metrics) {
    rest.on('response', (_request, response) => {
      if (response.status === 429) metrics.discordRateLimits.inc();
    });
  }
  return rest;
}

/**
 * Posts a message. With `enforce_nonce`, Discord answers a repeat of the same nonce (same author,
 * within a few minutes) with the message already created: a retry after a lost response cannot
 * post twice.
 */
export async function postMessage(
  rest: REST,
  channelId: string,
  body: RESTPostAPIChannelMessageJSONBody,
  nonce: string,
): Promise<{ id: string }> {
  if (nonce.length === 0 || nonce.length > MAX_NONCE_LENGTH) {
    throw new RangeError(`nonce must be 1-${MAX_NONCE_LENGTH} characters, got ${nonce.length}`);
  }
  const message = (await rest.post(Routes.channelMessages(channelId), {
    body: { ...body, nonce, enforce_nonce: true },
  })) as APIMessage;
  return { id: messageId(message) };
}

/** Replaces the content of a message the bot posted; fields PATCH does not take are dropped. */
export async function editMessage(
  rest: REST,
  channelId: string,
  messageIdToEdit: string,
  body: RESTPostAPIChannelMessageJSONBody | RESTPatchAPIChannelMessageJSONBody,
): Promise<{ id: string }> {
  const message = (await rest.patch(Routes.channelMessage(channelId, messageIdToEdit), {
    body: toEditBody(body),
  })) as APIMessage;
  return { id: messageId(message) };
}

/** Keeps only what an edit may carry: no nonce, message_reference, tts, stickers or poll. */
export function toEditBody(
  body: RESTPostAPIChannelMessageJSONBody | RESTPatchAPIChannelMessageJSONBody,
): RESTPatchAPIChannelMessageJSONBody {
  const source = body as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of EDITABLE_FIELDS) if (source[key] !== undefined) out[key] = source[key];
  // Docs: only SUPPRESS_EMBEDS can be set or unset on an edit.
  if (typeof out.flags === 'number') out.flags = out.flags & MessageFlags.SuppressEmbeds;
  return out as RESTPatchAPIChannelMessageJSONBody;
}

function messageId(message: APIMessage): string {
  if (typeof message?.id !== 'string') throw new Error('Discord answered without a message id');
  return message.id;
}
