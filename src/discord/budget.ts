// What Discord lets the bot send next, read from its rate-limit headers
// (https://discord.com/developers/docs/topics/rate-limits#header-format): each answer says how many
// requests its bucket has left (X-RateLimit-Remaining) and when it refills (X-RateLimit-Reset-After),
// a 429 says how long to wait (retry_after) and whether the limit was global. The drainer asks
// before each request and sends nothing Discord would refuse; a bucket it has not heard of yet is
// assumed open (its first answer tells).

/** docs: "All bots can make up to 50 requests per second to our API" (interaction callbacks aside). */
export const GLOBAL_REQUESTS_PER_SECOND = 50;

/**
 * Buckets and routes remembered at most: every thread is a channel with buckets of its own, so
 * without a bound the budget would grow with every incident. A bucket past its reset holds
 * nothing (it is open again) and goes first; a forgotten route's bucket id is relearned from its
 * next answer.
 */
export const MAX_TRACKED_BUCKETS = 1_000;

/** Discord's snowflakes, as discord.js matches them when it keys its own buckets. */
const SNOWFLAKE_IN_PATH = /\d{17,19}/g;
/** The first snowflake of a path: the major parameter (channel, guild or webhook). */
const SNOWFLAKE_IN_PATH_ONCE = /\d{17,19}/;

/**
 * The key of a request's bucket: method and route, with every id but the first (the major
 * parameter: the channel, guild or webhook) generalised, as discord.js keys its buckets.
 * `POST /channels/1…/messages`, `PATCH /channels/1…/messages/:id`.
 */
export function bucketKey(method: string, path: string): string {
  let first = true;
  const route = path.split('?')[0]!.replace(SNOWFLAKE_IN_PATH, (id) => {
    if (first) {
      first = false;
      return id;
    }
    return ':id';
  });
  return `${method.toUpperCase()} ${route}`;
}

/** The rate-limit headers of one answer, as fetch exposes them. */
export interface HeadersLike {
  get(name: string): string | null;
}

interface BucketState {
  remaining: number;
  /** Epoch ms when the bucket refills. */
  resetAt: number;
}

/** Per-bucket budgets learned from Discord's answers. */
export class RateBudget {
  private readonly buckets = new Map<string, BucketState>();
  /** Epoch ms until which a global 429 stops every request. */
  private globalUntil = 0;
  /** Start times of the requests of the last second (the global limit, counted here). */
  private readonly recent: number[] = [];

  /** Discord's bucket id (X-RateLimit-Bucket) of each route: routes sharing one share its budget. */
  private readonly hashes = new Map<string, string>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Where a request's budget is kept: Discord's bucket id with the major parameter once known, else the route's own key. */
  private stateKey(method: string, path: string): string {
    const route = bucketKey(method, path);
    const hash = this.hashes.get(route);
    return hash === undefined ? route : `${hash} ${SNOWFLAKE_IN_PATH_ONCE.exec(path)?.[0] ?? 'global'}`;
  }

  /** Reads one answer's headers (any status): the bucket's budget, or a 429's wait. */
  observe(method: string, path: string, status: number, headers: HeadersLike): void {
    const now = this.now();
    const hash = headers.get('x-ratelimit-bucket');
    if (hash) {
      const route = bucketKey(method, path);
      // Re-inserted, so the routes in use stay at the end of the Map's order.
      this.hashes.delete(route);
      this.hashes.set(route, hash);
      while (this.hashes.size > MAX_TRACKED_BUCKETS) this.hashes.delete(this.hashes.keys().next().value!);
    }
    const key = this.stateKey(method, path);
    const remaining = numberHeader(headers, 'x-ratelimit-remaining');
    const resetAfter = numberHeader(headers, 'x-ratelimit-reset-after');
    if (status === 429) {
      const wait = (resetAfter ?? numberHeader(headers, 'retry-after') ?? 1) * 1000;
      if (headers.get('x-ratelimit-global') === 'true' || headers.get('x-ratelimit-scope') === 'global') {
        this.globalUntil = Math.max(this.globalUntil, now + wait);
        return;
      }
      this.remember(key, { remaining: 0, resetAt: now + wait }, now);
      return;
    }
    if (remaining === undefined || resetAfter === undefined) return;
    this.remember(key, { remaining, resetAt: now + resetAfter * 1000 }, now);
  }

  /**
   * Stores a bucket's state within MAX_TRACKED_BUCKETS. Forgetting a bucket makes it open: refilled
   * ones go first (nothing lost), then the oldest with requests left, a spent one last of all.
   */
  private remember(key: string, state: BucketState, now: number): void {
    this.buckets.delete(key);
    this.buckets.set(key, state);
    if (this.buckets.size <= MAX_TRACKED_BUCKETS) return;
    for (const [k, b] of this.buckets) if (b.resetAt <= now) this.buckets.delete(k);
    for (const [k, b] of this.buckets) {
      if (this.buckets.size <= MAX_TRACKED_BUCKETS) return;
      if (b.remaining > 0) this.buckets.delete(k);
    }
    while (this.buckets.size > MAX_TRACKED_BUCKETS) this.buckets.delete(this.buckets.keys().next().value!);
  }

  /** How many buckets and routes it remembers (bounded by MAX_TRACKED_BUCKETS each). */
  tracked(): { buckets: number; routes: number } {
    return { buckets: this.buckets.size, routes: this.hashes.size };
  }

  /** Milliseconds until a request to this bucket would be accepted; 0 when it may go now. */
  waitFor(method: string, path: string): number {
    const now = this.now();
    let wait = Math.max(0, this.globalUntil - now);
    while (this.recent.length > 0 && this.recent[0]! <= now - 1000) this.recent.shift();
    if (this.recent.length >= GLOBAL_REQUESTS_PER_SECOND) wait = Math.max(wait, this.recent[0]! + 1000 - now);
    const b = this.buckets.get(this.stateKey(method, path));
    if (b && b.remaining <= 0 && now < b.resetAt) wait = Math.max(wait, b.resetAt - now);
    return wait;
  }

  /** Counts a request about to go: one less in its bucket until Discord's answer says how many are left. */
  spend(method: string, path: string): void {
    const now = this.now();
    this.recent.push(now);
    const b = this.buckets.get(this.stateKey(method, path));
    if (b && now < b.resetAt) b.remaining--;
  }
}

function numberHeader(headers: HeadersLike, name: string): number | undefined {
  const v = headers.get(name);
  if (v === null || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}
