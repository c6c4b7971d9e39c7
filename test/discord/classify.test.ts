import { DiscordAPIError, HTTPError, RateLimitError, REST } from '../../src/discord/djs.js';
import { errors as undiciErrors, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { classifyDeliveryError } from '../../src/discord/classify.js';
import { freePort } from '../support/ports.js';

const MSG_URL = 'http://127.0.0.1/api/v10/channels/123456789012345678/messages';
const REQUEST_BODY = { body: { content: 'secret-looking body that must not be echoed' }, files: undefined };

function apiError(status: number, code: number, message: string, extra: object = {}): DiscordAPIError {
  return new DiscordAPIError({ code, message, ...extra }, code, status, 'POST', MSG_URL, REQUEST_BODY);
}

describe('classifyDeliveryError for answers from Discord', () => {
  it.each([
    { status: 400, code: 50035, retryable: false, reason: 'client', holdAll: false, holdChannel: false },
    { status: 401, code: 0, retryable: true, reason: 'auth', holdAll: true, holdChannel: false },
    { status: 403, code: 50013, retryable: true, reason: 'channel', holdAll: false, holdChannel: true },
    { status: 403, code: 50001, retryable: true, reason: 'channel', holdAll: false, holdChannel: true },
    { status: 404, code: 10003, retryable: true, reason: 'channel', holdAll: false, holdChannel: true },
    { status: 403, code: 50005, retryable: false, reason: 'auth', holdAll: false, holdChannel: false },
    { status: 403, code: 0, retryable: false, reason: 'auth', holdAll: false, holdChannel: false },
    { status: 404, code: 10015, retryable: false, reason: 'client', holdAll: false, holdChannel: false },
    { status: 405, code: 0, retryable: false, reason: 'client', holdAll: false, holdChannel: false },
    { status: 413, code: 40005, retryable: false, reason: 'client', holdAll: false, holdChannel: false },
    { status: 429, code: 0, retryable: true, reason: 'rateLimited', holdAll: false, holdChannel: false },
    { status: 500, code: 0, retryable: true, reason: 'server', holdAll: false, holdChannel: false },
    { status: 502, code: 0, retryable: true, reason: 'server', holdAll: false, holdChannel: false },
    { status: 503, code: 0, retryable: true, reason: 'server', holdAll: false, holdChannel: false },
    { status: 504, code: 0, retryable: true, reason: 'server', holdAll: false, holdChannel: false },
  ])(
    'DiscordAPIError $status ($code) is $reason (retryable: $retryable, holds every delivery: $holdAll, holds its channel: $holdChannel)',
    ({ status, code, retryable, reason, holdAll, holdChannel }) => {
      const c = classifyDeliveryError(apiError(status, code, 'Some Discord error'));
      expect(c).toMatchObject({ retryable, reason, status });
      expect(c.holdAll ?? false).toBe(holdAll);
      expect(c.holdChannel ?? false).toBe(holdChannel);
      expect(c.fix !== undefined).toBe(holdChannel);
      expect(c.message).toContain(String(status));
    },
  );

  it.each([500, 502, 503, 504])('HTTPError %i (what REST throws for 5xx) is a retryable server error', (status) => {
    const err = new HTTPError(status, 'Bad Gateway', 'POST', MSG_URL, REQUEST_BODY);
    expect(classifyDeliveryError(err)).toEqual({ retryable: true, reason: 'server', status, message: `${status} Bad Gateway` });
  });

  it('keeps every invalid field of a 400 on one line, without the request body', () => {
    const err = new DiscordAPIError(
      {
        code: 50035,
        message: 'Invalid Form Body',
        errors: { embeds: { 0: { title: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 256 or fewer in length.' }] } } } },
      },
      50035,
      400,
      'POST',
      MSG_URL,
      REQUEST_BODY,
    );
    const c = classifyDeliveryError(err);
    expect(c.message).toBe('400 Invalid Form Body; embeds[0].title[BASE_TYPE_MAX_LENGTH]: Must be 256 or fewer in length. (code 50035)');
    expect(c.message).not.toContain('secret-looking');
  });

  it('does not repeat a status Discord already put in its message', () => {
    expect(classifyDeliveryError(apiError(401, 0, '401: Unauthorized')).message).toBe('401: Unauthorized (code 0)');
  });

  it('reads retry_after (seconds) from a 429 body as milliseconds', () => {
    const err = apiError(429, 0, 'You are being rate limited.', { retry_after: 1.5, global: false });
    expect(classifyDeliveryError(err)).toMatchObject({ reason: 'rateLimited', retryable: true, retryAfterMs: 1500 });
  });

  it('treats a RateLimitError (rejectOnRateLimit) as retryable after its retryAfter', () => {
    const err = new RateLimitError({
      timeToReset: 30_050,
      limit: 5,
      method: 'POST',
      hash: 'abc',
      url: MSG_URL,
      route: '/channels/:id/messages',
      majorParameter: '123456789012345678',
      global: false,
      retryAfter: 30_050,
      sublimitTimeout: 0,
      scope: 'user',
    });
    expect(classifyDeliveryError(err)).toEqual({
      retryable: true,
      reason: 'rateLimited',
      status: 429,
      retryAfterMs: 30_050,
      message: 'rate limited on POST /channels/:id/messages (user), retry after 30050ms',
    });
  });
});

describe('classifyDeliveryError for failures before an answer', () => {
  it.each([
    { name: 'the AbortError the REST timeout raises', err: new DOMException('This operation was aborted', 'AbortError') },
    { name: "undici's RequestAbortedError", err: new undiciErrors.RequestAbortedError() },
    { name: "undici's ConnectTimeoutError", err: new undiciErrors.ConnectTimeoutError() },
    { name: "undici's HeadersTimeoutError", err: new undiciErrors.HeadersTimeoutError() },
    { name: "undici's BodyTimeoutError", err: new undiciErrors.BodyTimeoutError() },
    { name: 'a TimeoutError from AbortSignal.timeout', err: new DOMException('The operation timed out', 'TimeoutError') },
  ])('$name is a retryable timeout', ({ err }) => {
    expect(classifyDeliveryError(err)).toMatchObject({ retryable: true, reason: 'timeout' });
  });

  it('a refused connection (real undici error) is a retryable network error', async () => {
    const port = await freePort();
    const err = await request(`http://127.0.0.1:${port}/`).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(classifyDeliveryError(err)).toMatchObject({ retryable: true, reason: 'network' });
    expect(classifyDeliveryError(err).message).toMatch(/ECONNREFUSED/);
  });

  it('names the host and the cause of a failed fetch, not only "fetch failed"', async () => {
    const port = await freePort();
    const err = await fetch(`http://127.0.0.1:${port}/api/v10/channels/1/messages`).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(classifyDeliveryError(err).message).toMatch(new RegExp(`^fetch failed: .*ECONNREFUSED.*127\\.0\\.0\\.1:${port}`));
  });

  it.each([
    { name: "undici's SocketError (connection reset mid-response)", err: new undiciErrors.SocketError('other side closed') },
    {
      name: 'ECONNRESET wrapped as the cause of a fetch failure',
      err: new TypeError('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) }),
    },
    { name: 'a DNS failure', err: Object.assign(new Error('getaddrinfo EAI_AGAIN discord.com'), { code: 'EAI_AGAIN' }) },
    { name: 'an error nobody expected', err: new Error('something odd') },
  ])('$name is a retryable network error', ({ err }) => {
    expect(classifyDeliveryError(err)).toMatchObject({ retryable: true, reason: 'network' });
  });

  it('the error REST throws once a 401 has cleared its token holds every delivery, like the 401 itself', async () => {
    const err = await new REST().get('/gateway').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(classifyDeliveryError(err)).toMatchObject({ retryable: true, reason: 'auth', holdAll: true });
  });

  it('accepts things that are not errors', () => {
    expect(classifyDeliveryError('boom')).toEqual({ retryable: true, reason: 'network', message: 'boom' });
  });
});
