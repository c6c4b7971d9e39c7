import { DiscordAPIError, HTTPError, RateLimitError } from '../../src/discord/djs.js';
import type { RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { PNG } from 'pngjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRest, editMessage, postMessage, probeDiscord, toEditBody } from '../../src/discord/rest.js';
import { eventually } from '../support/eventually.js';
import { DOUBLE_TOKEN, startDiscordDouble, type DiscordDouble } from '../support/discord-double.js';

const CHANNEL = '123456789012345678';

let double: DiscordDouble;

beforeEach(async () => {
  double = await startDiscordDouble();
});

afterEach(async () => {
  await double.stop();
});

const rest = (extra: { timeoutMs?: number; maxRateLimitWaitMs?: number } = {}) => createRest({ token: DOUBLE_TOKEN, apiBaseUrl: double.apiBaseUrl, ...extra });

/** A 429 as Discord sends it; short waits keep the suite fast. */
function rateLimited(seconds: number) {
  return {
    status: 429,
    body: { message: 'You are being rate limited.', retry_after: seconds, global: false },
    headers: {
      'retry-after': String(seconds),
      'x-ratelimit-limit': '5',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset-after': String(seconds),
      'x-ratelimit-bucket': 'vigil-test-bucket',
      'x-ratelimit-scope': 'user',
    },
  };
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.unreachable('expected the call to fail'),
    (err: unknown) => err,
  );
}

describe('postMessage', () => {
  it('posts to API v10 with the bot token, a nonce and enforce_nonce', async () => {
    const { id } = await postMessage(rest(), CHANNEL, { content: 'CPU high' }, 'vigil-1-abc');
    expect(double.messages.get(id)?.content).toBe('CPU high');
    expect(double.requests).toMatchObject([
      {
        method: 'POST',
        path: `/api/v10/channels/${CHANNEL}/messages`,
        headers: { authorization: `Bot ${DOUBLE_TOKEN}` },
        body: { content: 'CPU high', nonce: 'vigil-1-abc', enforce_nonce: true },
      },
    ]);
    expect(double.invalid).toEqual([]);
  });

  it('gets the same message back when the same nonce is posted again', async () => {
    const client = rest();
    const first = await postMessage(client, CHANNEL, { content: 'once' }, 'vigil-7-abc');
    const second = await postMessage(client, CHANNEL, { content: 'once' }, 'vigil-7-abc');
    expect(second.id).toBe(first.id);
    expect(double.messages.size).toBe(1);
    expect(double.invalid).toEqual([]);
  });

  it('overrides a nonce the body brings with the one it was given', async () => {
    const body = { content: 'x', nonce: 'from-body', enforce_nonce: false } as RESTPostAPIChannelMessageJSONBody;
    await postMessage(rest(), CHANNEL, body, 'vigil-2-abc');
    expect(double.requests[0]?.body).toMatchObject({ nonce: 'vigil-2-abc', enforce_nonce: true });
  });

  it.each(['', 'n'.repeat(26)])('refuses the nonce %j without sending anything', async (nonce) => {
    await expect(postMessage(rest(), CHANNEL, { content: 'x' }, nonce)).rejects.toThrow(RangeError);
    expect(double.requests).toEqual([]);
  });
});

describe('editMessage', () => {
  it('edits the message in place, sending only fields PATCH accepts', async () => {
    const client = rest();
    const { id } = await postMessage(client, CHANNEL, { content: 'firing' }, 'vigil-1-abc');
    const body = {
      content: 'resolved',
      embeds: [{ title: 'CPU back to normal' }],
      nonce: 'vigil-2-abc',
      enforce_nonce: true,
      tts: false,
      message_reference: { message_id: id },
      flags: 4096 | 4,
    } as RESTPostAPIChannelMessageJSONBody;
    const edited = await editMessage(client, CHANNEL, id, body);
    expect(edited.id).toBe(id);
    expect(double.requests[1]).toMatchObject({ method: 'PATCH', path: `/api/v10/channels/${CHANNEL}/messages/${id}` });
    expect(double.requests[1]?.body).toEqual({ content: 'resolved', embeds: [{ title: 'CPU back to normal' }], flags: 4 });
    expect(double.messages.get(id)).toMatchObject({ content: 'resolved', embeds: [{ title: 'CPU back to normal' }] });
    expect(double.invalid).toEqual([]);
  });

  it('fails with Unknown Message when the message is gone', async () => {
    const err = await failure(editMessage(rest(), CHANNEL, '999999999999999999', { content: 'x' }));
    expect(err).toBeInstanceOf(DiscordAPIError);
    expect(err).toMatchObject({ status: 404, code: 10008 });
  });
});

describe('files (multipart with payload_json)', () => {
  const png = (shade: number) => PNG.sync.write(Object.assign(new PNG({ width: 2, height: 2 }), { data: Buffer.alloc(16, shade) }));
  const chart = (shade: number) => [{ name: 'chart.png', data: png(shade) }];
  const withImage = { embeds: [{ title: 'CPU', image: { url: 'attachment://chart.png' } }], attachments: [{ id: '0', filename: 'chart.png' }] };

  it('posts a file as files[0] beside payload_json; the embed shows it through attachment://', async () => {
    const { id } = await postMessage(rest(), CHANNEL, withImage, 'vigil-1-abc', chart(1));
    const [req] = double.requests;
    expect(req!.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(req!.files).toMatchObject([{ field: 'files[0]', filename: 'chart.png', contentType: 'image/png' }]);
    expect(req!.body).toMatchObject({ ...withImage, nonce: 'vigil-1-abc', enforce_nonce: true });
    const message = double.messages.get(id)!;
    expect(message.attachments).toMatchObject([{ filename: 'chart.png', width: 2, height: 2 }]);
    expect(message.embeds[0]!.image!.url).toBe(message.attachments[0]!.url);
    expect(double.attachmentData.get(message.attachments[0]!.id)!.equals(png(1))).toBe(true);
    expect(double.invalid).toEqual([]);
  });

  it('replaces the file on an edit that lists only the new one, and removes it with attachments: []', async () => {
    const client = rest();
    const { id } = await postMessage(client, CHANNEL, withImage, 'vigil-1-abc', chart(1));
    const first = double.messages.get(id)!.attachments[0]!;
    await editMessage(client, CHANNEL, id, withImage, chart(2));
    const replaced = double.messages.get(id)!.attachments;
    expect(replaced).toHaveLength(1);
    expect(replaced[0]!.id).not.toBe(first.id);
    expect(double.attachmentData.get(replaced[0]!.id)!.equals(png(2))).toBe(true);
    expect(double.messages.get(id)!.embeds[0]!.image!.url).toBe(replaced[0]!.url);

    await editMessage(client, CHANNEL, id, { embeds: [{ title: 'CPU' }], attachments: [] });
    expect(double.messages.get(id)!.attachments).toEqual([]);
    expect(double.requests.at(-1)!.headers['content-type']).toBe('application/json');
    expect(double.invalid).toEqual([]);
  });
});

describe('toEditBody', () => {
  it.each([
    {
      name: 'keeps editable fields',
      body: { content: 'a', embeds: [], allowed_mentions: { parse: [] }, components: [], attachments: [] },
      expected: { content: 'a', embeds: [], allowed_mentions: { parse: [] }, components: [], attachments: [] },
    },
    { name: 'drops nonce, enforce_nonce and tts', body: { content: 'a', nonce: 'n', enforce_nonce: true, tts: true }, expected: { content: 'a' } },
    {
      name: 'drops message_reference, sticker_ids and poll',
      body: { content: 'a', message_reference: { message_id: '1' }, sticker_ids: ['1'], poll: null },
      expected: { content: 'a' },
    },
    { name: 'keeps only SUPPRESS_EMBEDS of the flags', body: { content: 'a', flags: 4096 | 4 }, expected: { content: 'a', flags: 4 } },
    { name: 'clears flags an edit cannot set', body: { content: 'a', flags: 4096 }, expected: { content: 'a', flags: 0 } },
  ])('$name', ({ body, expected }) => {
    expect(toEditBody(body as RESTPostAPIChannelMessageJSONBody)).toEqual(expected);
  });
});

describe('createRest', () => {
  it('leaves 5xx to the outbox: one request, then an HTTPError', async () => {
    double.failNext([{ status: 500 }, { status: 500 }]);
    const err = await failure(postMessage(rest(), CHANNEL, { content: 'x' }, 'vigil-1-abc'));
    expect(err).toBeInstanceOf(HTTPError);
    expect(double.requests).toHaveLength(1);
  });

  it('gives up on a slow answer after timeoutMs without retrying it', async () => {
    double.failNext([{ status: 200, delayMs: 1000 }]);
    const err = await failure(postMessage(rest({ timeoutMs: 100 }), CHANNEL, { content: 'x' }, 'vigil-1-abc'));
    expect(err).toMatchObject({ name: 'AbortError' });
    expect(double.requests).toHaveLength(1);
  });

  it('waits out a short rate limit itself and then posts', async () => {
    double.failNext([rateLimited(0.1)]);
    const { id } = await postMessage(rest(), CHANNEL, { content: 'x' }, 'vigil-1-abc');
    expect(double.messages.get(id)).toBeDefined();
    expect(double.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(double.invalid).toEqual([]);
  });

  it('hands a rate limit longer than maxRateLimitWaitMs back as a RateLimitError', async () => {
    double.failNext([rateLimited(30)]);
    const err = await failure(postMessage(rest({ maxRateLimitWaitMs: 1000 }), CHANNEL, { content: 'x' }, 'vigil-1-abc'));
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).retryAfter).toBeGreaterThanOrEqual(30_000);
    expect(double.requests).toHaveLength(1);
  });
});

describe('probeDiscord', () => {
  it('resolves on a valid GET /gateway/bot, even where the test runs no gateway', async () => {
    await probeDiscord(rest());
    expect(double.requests.map((r) => [r.operationId, r.status])).toEqual([['get_bot_gateway', 200]]);
    expect(double.invalid).toEqual([]);
  });

  it.each([
    { name: 'a 500', status: 500 },
    { name: 'a 401', status: 401 },
    { name: 'a 429', ...rateLimited(30) },
  ])('takes $name as an answer: Discord is there', async ({ name: _name, ...failure }) => {
    double.failNext([failure]);
    await expect(probeDiscord(rest({ maxRateLimitWaitMs: 1000 }))).resolves.toBeUndefined();
  });

  it('rejects when Discord does not answer in time', async () => {
    double.failNext([{ status: 200, delayMs: 1000 }]);
    await expect(probeDiscord(rest({ timeoutMs: 100 }))).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('REST bookkeeping', () => {
  it('forgets the handler and bucket hash of each thread once idle, so many incidents do not pile them up', async () => {
    const channels = Array.from({ length: 20 }, (_, i) => `3${String(i).padStart(17, '0')}`);
    const own = await startDiscordDouble({ channels });
    try {
      const client = createRest({ token: DOUBLE_TOKEN, apiBaseUrl: own.apiBaseUrl, sweep: { intervalMs: 100, hashLifetimeMs: 300 } });
      for (const [i, channel] of channels.entries()) await postMessage(client, channel, { content: `incident ${i}` }, `vigil-${i}-sweep`);
      // One handler per channel (the channel is the bucket's major parameter).
      expect(client.handlers.size).toBeGreaterThanOrEqual(channels.length);
      expect(client.hashes.size).toBeGreaterThan(0);
      await eventually('idle handlers and old hashes swept', () => (client.handlers.size === 0 && client.hashes.size === 0 ? true : undefined), 5000);
    } finally {
      await own.stop();
    }
  });
});
