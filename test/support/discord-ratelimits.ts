import { createHash } from 'node:crypto';

// Discord's rate limits as the Discord double applies them. Sources:
// https://discord.com/developers/docs/topics/rate-limits (headers, 429 body, global limit of 50
// requests per second, interaction endpoints outside it, per-route buckets keyed by the route's
// major parameter: channel_id, guild_id, webhook_id + webhook_token) and what Discord answered in
// 2025 (X-RateLimit-Limit: 5 over a 5 s window for posting and for editing messages in a channel;
// 5 per 2 s for executing a webhook, interaction follow-ups included).

/** One bucket's size: `limit` requests per `windowMs`. */
export interface BucketRule {
  limit: number;
  windowMs: number;
}

/** The limits the double enforces; each may be replaced by a test (e.g. a tighter global). */
export interface DiscordRateLimits {
  /** POST /channels/{channel_id}/messages, per channel. */
  createMessage: BucketRule;
  /** PATCH /channels/{channel_id}/messages/{message_id}, per channel. */
  editMessage: BucketRule;
  /** POST /channels/{channel_id}/messages/{message_id}/threads, per channel (Discord does not publish it; assumed like messages). */
  startThread: BucketRule;
  /** POST/PATCH /webhooks/{webhook_id}/{webhook_token}[...], per webhook (interaction follow-ups too). */
  webhook: BucketRule;
  /** Any other route, per route and major parameter. */
  other: BucketRule;
  /** Every request of the bot together, interaction callbacks excepted. */
  global: BucketRule;
}

/** Discord's numbers (see the sources above). */
export const DISCORD_RATE_LIMITS: DiscordRateLimits = {
  createMessage: { limit: 5, windowMs: 5000 },
  editMessage: { limit: 5, windowMs: 5000 },
  startThread: { limit: 5, windowMs: 5000 },
  webhook: { limit: 5, windowMs: 2000 },
  other: { limit: 50, windowMs: 1000 },
  global: { limit: 50, windowMs: 1000 },
};

/** What the limiter says about one request: go (with the bucket headers) or 429 (with its body and headers). */
export type RateDecision = { ok: true; headers: Record<string, string> } | { ok: false; headers: Record<string, string>; body: RateLimitedBody };

/** Discord's 429 body (docs: message, retry_after in seconds, global). */
export interface RateLimitedBody {
  message: string;
  retry_after: number;
  global: boolean;
}

interface Window {
  startedAt: number;
  count: number;
}

/** The bucket a request falls in: which rule, and the key of its counter (route template + major parameter). */
function bucketOf(
  method: string,
  template: string,
  params: Record<string, string>,
  limits: DiscordRateLimits,
): { rule: BucketRule; key: string; global: boolean } {
  const m = method.toUpperCase();
  const major = params.channel_id ?? params.guild_id ?? (params.webhook_id ? `${params.webhook_id}/${params.webhook_token ?? ''}` : '');
  // docs: "Interaction endpoints are not bound to the bot's Global Rate Limit."
  const global = !template.startsWith('/interactions/');
  if (m === 'POST' && template === '/channels/{channel_id}/messages') return { rule: limits.createMessage, key: `${m} ${template} ${major}`, global };
  if (m === 'PATCH' && template === '/channels/{channel_id}/messages/{message_id}')
    return { rule: limits.editMessage, key: `${m} ${template} ${major}`, global };
  if (m === 'POST' && template === '/channels/{channel_id}/messages/{message_id}/threads')
    return { rule: limits.startThread, key: `${m} ${template} ${major}`, global };
  if (template.startsWith('/webhooks/{webhook_id}/{webhook_token}') && m !== 'GET') return { rule: limits.webhook, key: `webhook ${major}`, global };
  return { rule: limits.other, key: `${m} ${template} ${major}`, global };
}

/** Fixed windows per bucket and one global window, as Discord's headers describe them. */
export class RateLimiter {
  private readonly buckets = new Map<string, Window>();
  private globalWindow: Window = { startedAt: -Infinity, count: 0 };
  /** 429s answered, by bucket key ("global" for the global limit). */
  readonly refused = new Map<string, number>();

  constructor(
    private readonly limits: DiscordRateLimits = DISCORD_RATE_LIMITS,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Counts a request against its bucket and the global limit; a request over either is refused and not counted. */
  take(method: string, template: string, params: Record<string, string>): RateDecision {
    const now = this.clock();
    const { rule, key, global } = bucketOf(method, template, params, this.limits);
    const g = this.limits.global;
    if (global) {
      if (now - this.globalWindow.startedAt >= g.windowMs) this.globalWindow = { startedAt: now, count: 0 };
      if (this.globalWindow.count >= g.limit) {
        const retryAfter = (this.globalWindow.startedAt + g.windowMs - now) / 1000;
        this.refused.set('global', (this.refused.get('global') ?? 0) + 1);
        return {
          ok: false,
          // docs: a global 429 carries X-RateLimit-Global and Retry-After, not the route's bucket headers.
          headers: { 'retry-after': String(Math.ceil(retryAfter)), 'x-ratelimit-global': 'true', 'x-ratelimit-scope': 'global' },
          body: { message: 'You are being rate limited.', retry_after: round3(retryAfter), global: true },
        };
      }
    }
    let w = this.buckets.get(key);
    if (!w || now - w.startedAt >= rule.windowMs) {
      w = { startedAt: now, count: 0 };
      this.buckets.set(key, w);
    }
    const resetAt = w.startedAt + rule.windowMs;
    const resetAfter = (resetAt - now) / 1000;
    const bucketHeaders = (remaining: number) => ({
      'x-ratelimit-limit': String(rule.limit),
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-reset': (resetAt / 1000).toFixed(3),
      'x-ratelimit-reset-after': resetAfter.toFixed(3),
      'x-ratelimit-bucket': bucketHash(key),
    });
    if (w.count >= rule.limit) {
      this.refused.set(key, (this.refused.get(key) ?? 0) + 1);
      return {
        ok: false,
        headers: { ...bucketHeaders(0), 'retry-after': String(Math.ceil(resetAfter)), 'x-ratelimit-scope': 'user' },
        body: { message: 'You are being rate limited.', retry_after: round3(resetAfter), global: false },
      };
    }
    w.count++;
    if (global) this.globalWindow.count++;
    return { ok: true, headers: bucketHeaders(rule.limit - w.count) };
  }

  /** 429s answered in all. */
  refusedTotal(): number {
    let n = 0;
    for (const v of this.refused.values()) n += v;
    return n;
  }
}

/** Discord's bucket ids are opaque hashes; the double's are stable ones of the route (not of the major parameter, as on Discord). */
function bucketHash(key: string): string {
  const route = key.split(' ').slice(0, 2).join(' ');
  return createHash('sha1').update(route).digest('hex').slice(0, 16);
}

function round3(seconds: number): number {
  return Math.max(0.001, Math.round(seconds * 1000) / 1000);
}
