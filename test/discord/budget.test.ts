import { describe, expect, it } from 'vitest';
import { bucketKey, GLOBAL_REQUESTS_PER_SECOND, MAX_TRACKED_BUCKETS, RateBudget } from '../../src/discord/budget.js';

const CH = '123456789012345678';
const MSG = '223456789012345678';

function headers(values: Record<string, string>): Headers {
  return new Headers(values);
}

function budget() {
  const clock = { now: 1_700_000_000_000 };
  return { b: new RateBudget(() => clock.now), clock };
}

describe('bucketKey', () => {
  it.each([
    ['POST', `/channels/${CH}/messages`, `POST /channels/${CH}/messages`],
    ['patch', `/channels/${CH}/messages/${MSG}`, `PATCH /channels/${CH}/messages/:id`],
    ['POST', `/channels/${CH}/messages/${MSG}/threads`, `POST /channels/${CH}/messages/:id/threads`],
    ['PATCH', `/channels/${MSG}`, `PATCH /channels/${MSG}`],
    ['POST', `/channels/${CH}/messages?wait=true`, `POST /channels/${CH}/messages`],
  ])('keys %s %s by its route and major parameter', (method, path, key) => {
    expect(bucketKey(method, path)).toBe(key);
  });
});

describe('RateBudget', () => {
  it('lets a bucket it has not heard of go', () => {
    const { b } = budget();
    expect(b.waitFor('POST', `/channels/${CH}/messages`)).toBe(0);
  });

  it("waits out a spent bucket until Discord's X-RateLimit-Reset-After, and only that bucket", () => {
    const { b, clock } = budget();
    b.observe('POST', `/channels/${CH}/messages`, 200, headers({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': '4.250' }));
    expect(b.waitFor('POST', `/channels/${CH}/messages`)).toBe(4250);
    expect(b.waitFor('PATCH', `/channels/${CH}/messages/${MSG}`)).toBe(0);
    expect(b.waitFor('POST', `/channels/${MSG}/messages`)).toBe(0);
    clock.now += 4250;
    expect(b.waitFor('POST', `/channels/${CH}/messages`)).toBe(0);
  });

  it('counts its own requests down from the last answer until the next answer says how many are left', () => {
    const { b } = budget();
    const path = `/channels/${CH}/messages`;
    b.observe('POST', path, 200, headers({ 'x-ratelimit-remaining': '1', 'x-ratelimit-reset-after': '3' }));
    expect(b.waitFor('POST', path)).toBe(0);
    b.spend('POST', path);
    expect(b.waitFor('POST', path)).toBe(3000);
    b.observe('POST', path, 200, headers({ 'x-ratelimit-remaining': '4', 'x-ratelimit-reset-after': '5' }));
    expect(b.waitFor('POST', path)).toBe(0);
  });

  it("waits a route's 429 out, and a global 429 on every route", () => {
    const { b } = budget();
    b.observe('POST', `/channels/${CH}/messages`, 429, headers({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': '1.5', 'retry-after': '2' }));
    expect(b.waitFor('POST', `/channels/${CH}/messages`)).toBe(1500);
    expect(b.waitFor('POST', `/channels/${MSG}/messages`)).toBe(0);
    b.observe('GET', `/channels/${CH}`, 429, headers({ 'retry-after': '2', 'x-ratelimit-global': 'true', 'x-ratelimit-scope': 'global' }));
    expect(b.waitFor('POST', `/channels/${MSG}/messages`)).toBe(2000);
  });

  it('shares one budget between routes Discord reports in the same bucket, per channel', () => {
    const { b } = budget();
    const post = `/channels/${CH}/messages`;
    const edit = `/channels/${CH}/messages/${MSG}`;
    b.observe('POST', post, 200, headers({ 'x-ratelimit-remaining': '3', 'x-ratelimit-reset-after': '5', 'x-ratelimit-bucket': 'shared' }));
    b.observe('PATCH', edit, 200, headers({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': '2', 'x-ratelimit-bucket': 'shared' }));
    // The edit's answer is the shared bucket's latest word: posting waits too.
    expect(b.waitFor('POST', post)).toBe(2000);
    // Another channel: the same bucket id, its own budget.
    expect(b.waitFor('POST', `/channels/${MSG}/messages`)).toBe(0);
  });

  it('ignores an answer without rate-limit headers (preview mode, a proxy)', () => {
    const { b } = budget();
    b.observe('POST', `/channels/${CH}/messages`, 200, headers({}));
    expect(b.waitFor('POST', `/channels/${CH}/messages`)).toBe(0);
  });

  it(`keeps to ${GLOBAL_REQUESTS_PER_SECOND} requests in any second across every bucket`, () => {
    const { b, clock } = budget();
    for (let i = 0; i < GLOBAL_REQUESTS_PER_SECOND; i++) {
      expect(b.waitFor('POST', `/channels/${CH}/messages`)).toBe(0);
      b.spend('POST', `/channels/${CH}/messages`);
      clock.now += 10;
    }
    // The first of the 50 went 500 ms ago: the 51st waits the other 500 ms.
    expect(b.waitFor('POST', `/channels/${MSG}/messages`)).toBe(500);
    clock.now += 500;
    expect(b.waitFor('POST', `/channels/${MSG}/messages`)).toBe(0);
  });

  it(`remembers at most ${MAX_TRACKED_BUCKETS} buckets and routes however many threads it posts in, and still waits out a spent one`, () => {
    const { b, clock } = budget();
    const thread = (i: number) => `/channels/${String(300000000000000000n + BigInt(i))}/messages`;
    const spent = headers({ 'x-ratelimit-bucket': 'h1', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': '5' });
    for (let i = 0; i < 5 * MAX_TRACKED_BUCKETS; i++) {
      b.observe('POST', thread(i), 200, i % 2 ? spent : headers({ 'x-ratelimit-bucket': 'h1', 'x-ratelimit-remaining': '4', 'x-ratelimit-reset-after': '5' }));
      clock.now += 1;
    }
    expect(b.tracked().buckets).toBeLessThanOrEqual(MAX_TRACKED_BUCKETS);
    expect(b.tracked().routes).toBeLessThanOrEqual(MAX_TRACKED_BUCKETS);
    // The latest thread's spent bucket is still known: Discord would refuse a post there now.
    const last = thread(5 * MAX_TRACKED_BUCKETS - 1);
    expect(b.waitFor('POST', last)).toBeGreaterThan(0);
    clock.now += 5_000;
    expect(b.waitFor('POST', last)).toBe(0);
  });

  it('forgets refilled buckets first, then those with requests left, and a spent one last', () => {
    const { b, clock } = budget();
    const spentLong = headers({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': '600' });
    const open = headers({ 'x-ratelimit-remaining': '3', 'x-ratelimit-reset-after': '1' });
    b.observe('POST', `/channels/${CH}/messages`, 200, spentLong);
    for (let i = 0; i < MAX_TRACKED_BUCKETS; i++) b.observe('POST', `/channels/${String(400000000000000000n + BigInt(i))}/messages`, 200, open);
    clock.now += 2_000;
    b.observe('POST', `/channels/${MSG}/messages`, 200, open);
    // The first bucket is the oldest, but the only one still spent: it stays.
    expect(b.waitFor('POST', `/channels/${CH}/messages`)).toBe(598_000);
    expect(b.tracked().buckets).toBeLessThanOrEqual(MAX_TRACKED_BUCKETS);
  });
});
