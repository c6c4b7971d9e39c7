import { describe, expect, it } from 'vitest';
import { DISCORD_RATE_LIMITS, RateLimiter } from './discord-ratelimits.js';

const MESSAGES = '/channels/{channel_id}/messages';
const MESSAGE = '/channels/{channel_id}/messages/{message_id}';

/** A limiter on a clock the test moves. */
function limiter(limits = DISCORD_RATE_LIMITS) {
  const clock = { now: 1_700_000_000_000 };
  return { rl: new RateLimiter(limits, () => clock.now), clock };
}

describe('the Discord double rate limiter', () => {
  it('lets 5 messages into a channel per 5 s, counting down X-RateLimit-Remaining, and refuses the 6th with retry_after', () => {
    const { rl, clock } = limiter();
    const remaining: string[] = [];
    for (let i = 0; i < 5; i++) {
      const d = rl.take('POST', MESSAGES, { channel_id: '1' });
      expect(d.ok).toBe(true);
      remaining.push(d.headers['x-ratelimit-remaining']!);
      clock.now += 100;
    }
    expect(remaining).toEqual(['4', '3', '2', '1', '0']);
    const refused = rl.take('POST', MESSAGES, { channel_id: '1' });
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.body).toEqual({ message: 'You are being rate limited.', retry_after: 4.5, global: false });
    expect(refused.headers).toMatchObject({ 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '0', 'x-ratelimit-scope': 'user', 'retry-after': '5' });
    expect(rl.refusedTotal()).toBe(1);
    clock.now += 4500;
    expect(rl.take('POST', MESSAGES, { channel_id: '1' }).ok).toBe(true);
  });

  it('names the window on every answer: limit, remaining, reset (epoch s), reset-after (s) and a bucket id', () => {
    const { rl, clock } = limiter();
    const d = rl.take('POST', MESSAGES, { channel_id: '1' });
    expect(d.headers).toEqual({
      'x-ratelimit-limit': '5',
      'x-ratelimit-remaining': '4',
      'x-ratelimit-reset': ((clock.now + 5000) / 1000).toFixed(3),
      'x-ratelimit-reset-after': '5.000',
      'x-ratelimit-bucket': expect.stringMatching(/^[0-9a-f]{16}$/),
    });
  });

  it.each([
    ['another channel', 'POST', MESSAGES, { channel_id: '2' }],
    ['edits in the same channel', 'PATCH', MESSAGE, { channel_id: '1', message_id: '9' }],
    ['a thread start in the same channel', 'POST', '/channels/{channel_id}/messages/{message_id}/threads', { channel_id: '1', message_id: '9' }],
  ])('keeps %s in a bucket of its own', (_what, method, template, params) => {
    const { rl } = limiter();
    for (let i = 0; i < 5; i++) rl.take('POST', MESSAGES, { channel_id: '1' });
    expect(rl.take('POST', MESSAGES, { channel_id: '1' }).ok).toBe(false);
    expect(rl.take(method, template, params).ok).toBe(true);
  });

  it('executes a webhook 5 times per 2 s per webhook token', () => {
    const { rl, clock } = limiter();
    const hook = '/webhooks/{webhook_id}/{webhook_token}';
    for (let i = 0; i < 5; i++) expect(rl.take('POST', hook, { webhook_id: '7', webhook_token: 'a' }).ok).toBe(true);
    expect(rl.take('POST', hook, { webhook_id: '7', webhook_token: 'a' }).ok).toBe(false);
    expect(rl.take('POST', hook, { webhook_id: '7', webhook_token: 'b' }).ok).toBe(true);
    clock.now += 2000;
    expect(rl.take('POST', hook, { webhook_id: '7', webhook_token: 'a' }).ok).toBe(true);
  });

  it('refuses the 51st request in a second with a global 429, but never an interaction callback', () => {
    const { rl } = limiter();
    for (let i = 0; i < 50; i++) expect(rl.take('GET', '/channels/{channel_id}', { channel_id: String(i) }).ok).toBe(true);
    const refused = rl.take('GET', '/channels/{channel_id}', { channel_id: '99' });
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.body.global).toBe(true);
    expect(refused.headers).toMatchObject({ 'x-ratelimit-global': 'true', 'x-ratelimit-scope': 'global' });
    expect(rl.refused.get('global')).toBe(1);
    const callback = rl.take('POST', '/interactions/{interaction_id}/{interaction_token}/callback', { interaction_id: '1', interaction_token: 't' });
    expect(callback.ok).toBe(true);
  });
});
