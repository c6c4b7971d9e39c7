import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DOUBLE_TOKEN, specSchemaErrors, startDiscordDouble, type DiscordDouble } from './discord-double.js';
import { commandInteraction, TEST_APPLICATION_ID } from './interactions.js';

const CHANNEL = '123456789012345678';
const OTHER_CHANNEL = '223456789012345678';

let double: DiscordDouble;

beforeEach(async () => {
  double = await startDiscordDouble();
});

afterEach(async () => {
  await double.stop();
});

interface CallOptions {
  body?: unknown;
  rawBody?: string | FormData;
  auth?: string | null;
  headers?: Record<string, string>;
}

async function call(
  method: string,
  path: string,
  opts: CallOptions = {},
): Promise<{
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the double's JSON, asserted on field by field
  body: any;
  headers: Headers;
}> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.auth !== null) headers.authorization = opts.auth ?? `Bot ${DOUBLE_TOKEN}`;
  let body: string | FormData | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${double.apiBaseUrl}${path}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

const post = (body: unknown, opts: CallOptions = {}) => call('POST', `/v10/channels/${CHANNEL}/messages`, { body, ...opts });

describe('Discord double: valid requests', () => {
  it('creates a message and answers with an object the spec calls a MessageResponse', async () => {
    const res = await post({ content: 'CPU high', embeds: [{ title: 'node-1', color: 0xe74c3c, fields: [{ name: 'load', value: '4.2', inline: true }] }] });
    expect(res.status).toBe(200);
    expect(specSchemaErrors('MessageResponse', res.body)).toEqual([]);
    expect(res.body).toMatchObject({ channel_id: CHANNEL, content: 'CPU high', author: { bot: true }, embeds: [{ type: 'rich', title: 'node-1' }] });
    expect(double.messages.get(res.body.id)).toEqual(res.body);
    expect(double.invalid).toEqual([]);
    expect(double.requests).toMatchObject([{ method: 'POST', operationId: 'create_message', status: 200 }]);
  });

  it('returns the existing message for a repeated nonce when enforce_nonce is set', async () => {
    const first = await post({ content: 'one', nonce: 'vigil-1-abc', enforce_nonce: true });
    const again = await post({ content: 'one', nonce: 'vigil-1-abc', enforce_nonce: true });
    expect(again.body.id).toBe(first.body.id);
    expect(double.messages.size).toBe(1);
    expect(double.invalid).toEqual([]);
  });

  it('creates a second message for a repeated nonce without enforce_nonce', async () => {
    await post({ content: 'one', nonce: 'n-1' });
    await post({ content: 'one', nonce: 'n-1' });
    expect(double.messages.size).toBe(2);
  });

  it('edits a message, then serves it by id and in the channel list', async () => {
    const created = await post({ content: 'firing' });
    const edited = await call('PATCH', `/v10/channels/${CHANNEL}/messages/${created.body.id}`, { body: { content: 'resolved', embeds: [] } });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ id: created.body.id, content: 'resolved', embeds: [] });
    expect(edited.body.edited_timestamp).toEqual(expect.any(String));
    const fetched = await call('GET', `/v10/channels/${CHANNEL}/messages/${created.body.id}`);
    expect(fetched.body).toEqual(edited.body);
    const list = await call('GET', `/v10/channels/${CHANNEL}/messages?limit=10`);
    expect(list.body.map((m: { id: string }) => m.id)).toEqual([created.body.id]);
    expect(double.invalid).toEqual([]);
  });

  it('lists a channel newest first, honouring limit', async () => {
    const ids: string[] = [];
    for (const content of ['a', 'b', 'c']) ids.push((await post({ content })).body.id);
    await call('POST', `/v10/channels/${OTHER_CHANNEL}/messages`, { body: { content: 'elsewhere' } });
    const list = await call('GET', `/v10/channels/${CHANNEL}/messages?limit=2`);
    expect(list.body.map((m: { id: string }) => m.id)).toEqual([ids[2], ids[1]]);
  });

  it('answers Unknown Message (10008) for an edit of a message that does not exist', async () => {
    const res = await call('PATCH', `/v10/channels/${CHANNEL}/messages/999999999999999999`, { body: { content: 'x' } });
    expect(res).toMatchObject({ status: 404, body: { code: 10008, message: 'Unknown Message' } });
    expect(double.invalid).toEqual([]);
  });

  it('makes a reply (type 19) that references the message it answers', async () => {
    const original = await post({ content: 'firing' });
    const reply = await post({ content: 'still firing', message_reference: { message_id: original.body.id, fail_if_not_exists: false } });
    expect(reply.body).toMatchObject({ type: 19, message_reference: { message_id: original.body.id, channel_id: CHANNEL } });
    expect(specSchemaErrors('MessageResponse', reply.body)).toEqual([]);
  });

  it('refuses a reply to an unknown message unless fail_if_not_exists is false', async () => {
    const strict = await post({ content: 'x', message_reference: { message_id: '999999999999999999' } });
    expect(strict.body).toMatchObject({ code: 50035, errors: { message_reference: { _errors: [{ code: 'REPLIES_UNKNOWN_MESSAGE' }] } } });
    const lenient = await post({ content: 'x', message_reference: { message_id: '999999999999999999', fail_if_not_exists: false } });
    expect(lenient.status).toBe(200);
    expect(lenient.body.type).toBe(0);
  });

  it('validates the payload_json part of a multipart body', async () => {
    const good = new FormData();
    good.append('payload_json', JSON.stringify({ content: 'with a file' }));
    good.append('files[0]', new Blob(['hello']), 'hello.txt');
    expect((await post(undefined, { rawBody: good })).status).toBe(200);

    const bad = new FormData();
    bad.append('payload_json', JSON.stringify({ content: 42 }));
    expect((await post(undefined, { rawBody: bad })).status).toBe(400);
    expect(double.invalid).toHaveLength(1);
  });
});

describe('Discord double: invalid requests are refused like Discord does and recorded', () => {
  it.each([
    {
      name: 'an embed title over the 256 characters the spec allows',
      body: { embeds: [{ title: 'x'.repeat(300) }] },
      errors: { embeds: { 0: { title: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 256 or fewer in length.' }] } } } },
    },
    {
      name: 'content of the wrong type',
      body: { content: 5 },
      errors: { content: { _errors: [expect.objectContaining({ code: 'BASE_TYPE_INVALID' })] } },
    },
    {
      name: 'an embed field without a value',
      body: { embeds: [{ fields: [{ name: 'load' }] }] },
      errors: { embeds: { 0: { fields: { 0: { value: { _errors: [{ code: 'BASE_TYPE_REQUIRED', message: 'This field is required' }] } } } } } },
    },
    {
      name: 'a colour above 0xFFFFFF',
      body: { embeds: [{ color: 0x1000000 }] },
      errors: { embeds: { 0: { color: { _errors: [expect.objectContaining({ code: 'NUMBER_TYPE_MAX' })] } } } },
    },
    {
      name: 'a nonce longer than 25 characters',
      body: { content: 'x', nonce: 'n'.repeat(26), enforce_nonce: true },
      errors: { nonce: expect.anything() },
    },
    {
      // docs: content is up to 2000 characters; the spec says 4000.
      name: 'content over the 2000 characters the docs allow',
      body: { content: 'x'.repeat(2001) },
      errors: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 2000 or fewer in length.' }] } },
    },
    {
      // docs: an embed footer needs text; the spec makes it optional.
      name: 'an embed footer without text',
      body: { embeds: [{ title: 't', footer: { icon_url: 'https://example.com/i.png' } }] },
      errors: { embeds: { 0: { footer: { text: { _errors: [expect.objectContaining({ code: 'BASE_TYPE_REQUIRED' })] } } } } },
    },
    {
      // docs: all embeds of a message share a 6000 character budget.
      name: 'embeds over 6000 characters in total',
      body: { embeds: [{ description: 'x'.repeat(4000) }, { description: 'y'.repeat(2001) }] },
      errors: { embeds: { _errors: [expect.objectContaining({ code: 'MAX_EMBED_SIZE_EXCEEDED' })] } },
    },
  ])('refuses $name with 400 Invalid Form Body', async ({ body, errors }) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ code: 50035, message: 'Invalid Form Body', errors });
    expect(double.messages.size).toBe(0);
    expect(double.invalid).toHaveLength(1);
    expect(double.invalid[0]?.errors.length).toBeGreaterThan(0);
  });

  it('refuses an empty message the way Discord does (50006)', async () => {
    const res = await post({ content: '', embeds: [] });
    expect(res).toMatchObject({ status: 400, body: { code: 50006, message: 'Cannot send an empty message' } });
    expect(double.invalid).toHaveLength(1);
  });

  it('refuses a body that is not JSON (50109)', async () => {
    const res = await post(undefined, { rawBody: '{"content": ', headers: { 'content-type': 'application/json' } });
    expect(res).toMatchObject({ status: 400, body: { code: 50109 } });
    expect(double.invalid).toHaveLength(1);
  });

  it.each([
    { name: 'no Authorization header', auth: null, error: /missing/ },
    { name: 'another token', auth: 'Bot some-other-token', error: /configured token/ },
    { name: 'a Bearer token', auth: `Bearer ${DOUBLE_TOKEN}`, error: /configured token/ },
  ])('answers 401 to $name', async ({ auth, error }) => {
    const res = await post({ content: 'x' }, { auth });
    expect(res).toMatchObject({ status: 401, body: { code: 0, message: '401: Unauthorized' } });
    expect(double.invalid[0]?.errors.join(' ')).toMatch(error);
  });

  it.each([
    { name: 'a path outside /api/v10', method: 'GET', path: '/v9/channels/123456789012345678/messages', status: 404 },
    { name: 'a path the spec does not have', method: 'GET', path: '/v10/channels/123456789012345678/nothing', status: 404 },
    { name: 'a method the path does not allow', method: 'PUT', path: '/v10/channels/123456789012345678/messages', status: 405 },
  ])('refuses $name', async ({ method, path, status }) => {
    const res = await call(method, path);
    expect(res.status).toBe(status);
    expect(double.invalid).toMatchObject([{ method, errors: [expect.any(String)] }]);
  });

  it.each([
    {
      name: 'a channel id that is not a snowflake',
      path: '/v10/channels/alerts/messages',
      errors: { channel_id: { _errors: [{ code: 'NUMBER_TYPE_COERCE', message: 'Value "alerts" is not snowflake.' }] } },
    },
    {
      name: 'a query value out of range',
      path: `/v10/channels/${CHANNEL}/messages?limit=500`,
      errors: { limit: { _errors: [{ code: 'NUMBER_TYPE_MAX', message: 'int value should be less than or equal to 100.' }] } },
    },
  ])('refuses $name with 400 Invalid Form Body naming the parameter', async ({ path, errors }) => {
    const res = await call('GET', path);
    expect(res).toEqual({ status: 400, body: { code: 50035, message: 'Invalid Form Body', errors }, headers: expect.anything() });
    expect(double.invalid).toHaveLength(1);
  });

  it('records a valid request to an operation it does not implement', async () => {
    const res = await call('GET', `/v10/channels/${CHANNEL}/messages/pins`);
    expect(res.status).toBe(404);
    expect(double.invalid[0]?.errors[0]).toMatch(/not implemented by the double/);
  });
});

describe('Discord double: scripted answers', () => {
  it('answers queued responses in order before handling normally again', async () => {
    double.failNext([
      {
        status: 429,
        body: { message: 'You are being rate limited.', retry_after: 0.2, global: false },
        headers: { 'retry-after': '1', 'x-ratelimit-remaining': '0', 'x-ratelimit-scope': 'user' },
      },
      { status: 500 },
    ]);
    const limited = await post({ content: 'x' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    // docs: `code` is optional on a 429 ("an error code for some limits"); the spec's
    // RatelimitedResponse requires it. Discord's documented example has none, so neither has this.
    expect(limited.body).toEqual({ message: 'You are being rate limited.', retry_after: 0.2, global: false });
    expect(specSchemaErrors('RatelimitedResponse', { ...limited.body, code: 0 })).toEqual([]);
    expect((await post({ content: 'x' })).status).toBe(500);
    expect((await post({ content: 'x' })).status).toBe(200);
    expect(double.messages.size).toBe(1);
    expect(double.requests.map((r) => r.status)).toEqual([429, 500, 200]);
  });

  it('can store the message and still answer an error (a lost response)', async () => {
    double.failNext([{ status: 502, afterHandling: true }]);
    expect((await post({ content: 'x' })).status).toBe(502);
    expect(double.messages.size).toBe(1);
  });

  it('still refuses an invalid request even with a scripted answer queued', async () => {
    double.failNext([{ status: 500 }]);
    expect((await post({ content: 5 })).status).toBe(400);
    expect((await post({ content: 'x' })).status).toBe(500);
  });

  it('answers Unknown Channel for a channel it was not told about', async () => {
    const scoped = await startDiscordDouble({ channels: [CHANNEL] });
    try {
      const res = await fetch(`${scoped.apiBaseUrl}/v10/channels/${OTHER_CHANNEL}/messages`, {
        method: 'POST',
        headers: { authorization: `Bot ${DOUBLE_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ content: 'x' }),
      });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ message: 'Unknown Channel', code: 10003 });
    } finally {
      await scoped.stop();
    }
  });
});

describe('Discord double: files (multipart/form-data)', () => {
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000030000000200000000', 'hex');

  function form(payload: unknown, files: Array<[string, string]> = [['files[0]', 'chart.png']]): FormData {
    const f = new FormData();
    f.append('payload_json', JSON.stringify(payload));
    for (const [field, name] of files) f.append(field, new Blob([png], { type: 'image/png' }), name);
    return f;
  }

  it('stores an uploaded file as an attachment and resolves attachment:// in the embed to its URL', async () => {
    const res = await post(undefined, {
      rawBody: form({ embeds: [{ image: { url: 'attachment://chart.png' } }], attachments: [{ id: '0', filename: 'chart.png' }] }),
    });
    expect(res.status).toBe(200);
    expect(res.body.attachments).toMatchObject([{ filename: 'chart.png', size: png.length, content_type: 'image/png', width: 3, height: 2 }]);
    expect(res.body.embeds[0].image.url).toBe(res.body.attachments[0].url);
    expect(specSchemaErrors('MessageResponse', res.body)).toEqual([]);
    expect(double.attachmentData.get(res.body.attachments[0].id)).toEqual(png);
    expect(double.invalid).toEqual([]);
  });

  it('refuses an attachments entry that names no uploaded file, as Invalid Form Body', async () => {
    const res = await post(undefined, { rawBody: form({ content: 'x', attachments: [{ id: '1', filename: 'chart.png' }] }) });
    expect(res.status).toBe(400);
    expect(res.body.errors.attachments['0'].id._errors[0].code).toBe('ATTACHMENT_NOT_FOUND');
    expect(double.invalid).toHaveLength(1);
  });

  it('records an embed image that names a file the message does not have', async () => {
    const res = await post({ embeds: [{ image: { url: 'attachment://chart.png' } }] });
    expect(res.status).toBe(200);
    expect(double.invalid).toEqual([{ method: '-', path: 'embeds.0.image.url', errors: ['attachment://chart.png names no attachment of the message'] }]);
  });

  it.each([
    ['a field that is neither payload_json nor files[n]', [['image', 'chart.png']] as Array<[string, string]>],
    [
      'two parts named files[0]',
      [
        ['files[0]', 'a.png'],
        ['files[0]', 'b.png'],
      ] as Array<[string, string]>,
    ],
  ])('refuses a multipart body with %s', async (_name, files) => {
    const res = await post(undefined, { rawBody: form({ content: 'x' }, files) });
    expect(res.status).toBe(400);
    expect(double.invalid).toHaveLength(1);
  });

  it('keeps the attachments an edit lists by id, and drops the others', async () => {
    const created = await post(undefined, {
      rawBody: form({ content: 'x' }, [
        ['files[0]', 'a.png'],
        ['files[1]', 'b.png'],
      ]),
    });
    const [a, b] = created.body.attachments;
    const edited = await call('PATCH', `/v10/channels/${CHANNEL}/messages/${created.body.id}`, { body: { attachments: [{ id: b.id }] } });
    expect(edited.status).toBe(200);
    expect(edited.body.attachments.map((x: { id: string }) => x.id)).toEqual([b.id]);
    expect(a.id).not.toBe(b.id);
    expect(double.invalid).toEqual([]);
  });
});

describe("Discord double: plays Discord's side of an interaction", () => {
  const callback = (id: string, token: string, body: unknown) =>
    fetch(`${double.apiBaseUrl}/v10/interactions/${id}/${token}/callback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const webhook = (token: string, body: unknown) =>
    fetch(`${double.apiBaseUrl}/v10/webhooks/${TEST_APPLICATION_ID}/${token}?wait=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it.each([
    [
      'a second callback',
      [
        { type: 4, data: { content: 'one' } },
        { type: 4, data: { content: 'two' } },
      ],
      [204, 400],
    ],
    ['an autocomplete result for a command', [{ type: 8, data: { choices: [] } }], [400]],
    ['an empty message', [{ type: 4, data: { content: '' } }], [400]],
  ])('refuses %s and records it as invalid', async (_name, bodies, statuses) => {
    const payload = commandInteraction('echo');
    double.registerInteraction(payload);
    const got: number[] = [];
    for (const b of bodies) got.push((await callback(payload.id, payload.token, b)).status);
    expect(got).toEqual(statuses);
    expect(double.invalid.at(-1)?.path).toBe('/interactions/{interaction_id}/{interaction_token}/callback');
  });

  it('refuses a follow-up before the interaction was acknowledged, then takes it after', async () => {
    const payload = commandInteraction('echo');
    double.registerInteraction(payload);
    expect((await webhook(payload.token, { content: 'too early' })).status).toBe(404);
    expect((await callback(payload.id, payload.token, { type: 5, data: { flags: 64 } })).status).toBe(204);
    const res = await webhook(payload.token, { content: 'now', flags: 64 });
    expect(res.status).toBe(200);
    expect(specSchemaErrors('MessageResponse', await res.json())).toEqual([]);
    expect(double.interactions.get(payload.id)?.followUps).toMatchObject([{ content: 'now', ephemeral: true }]);
  });

  it('refuses a webhook call with a wrong bot token even though none is needed', async () => {
    const payload = commandInteraction('echo');
    double.registerInteraction(payload);
    await callback(payload.id, payload.token, { type: 5 });
    const res = await fetch(`${double.apiBaseUrl}/v10/webhooks/${TEST_APPLICATION_ID}/${payload.token}/messages/@original`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: 'Bot not-the-token' },
      body: JSON.stringify({ content: 'x' }),
    });
    expect(res.status).toBe(401);
  });
});

describe('rate limits and channel webhooks', () => {
  it("answers every message with Discord's bucket headers and a 429 with retry_after past 5 per 5 s, before reading the body", async () => {
    const statuses: number[] = [];
    let last: Headers | undefined;
    for (let i = 0; i < 6; i++) {
      const r = await call('POST', `/v10/channels/${CHANNEL}/messages`, { body: { content: `m${i}` } });
      statuses.push(r.status);
      last = r.headers;
      if (r.status === 429) expect(r.body).toMatchObject({ message: 'You are being rate limited.', global: false, retry_after: expect.any(Number) });
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(last?.get('x-ratelimit-limit')).toBe('5');
    expect(last?.get('x-ratelimit-remaining')).toBe('0');
    expect(last?.get('x-ratelimit-scope')).toBe('user');
    // A body Discord would refuse is not even read past the limit: 429, and nothing recorded as invalid.
    expect((await call('POST', `/v10/channels/${CHANNEL}/messages`, { body: { content: '' } })).status).toBe(429);
    expect(double.invalid).toEqual([]);
    expect(double.messages.size).toBe(5);
    expect(double.rateLimiter?.refusedTotal()).toBe(2);
  });

  it('posts an executed channel webhook in its channel, refuses a wrong token, and can run without limits', async () => {
    await double.stop();
    double = await startDiscordDouble({ rateLimits: false, webhooks: [{ id: '923456789012345678', token: 'hook-token', channelId: OTHER_CHANNEL }] });
    const posted = await call('POST', '/v10/webhooks/923456789012345678/hook-token?wait=true', {
      body: { embeds: [{ title: 'from Alertmanager' }] },
      auth: null,
    });
    expect(posted.status).toBe(200);
    expect(posted.body).toMatchObject({ channel_id: OTHER_CHANNEL, embeds: [{ title: 'from Alertmanager' }] });
    expect((await call('POST', '/v10/webhooks/923456789012345678/hook-token', { body: { content: 'no wait' }, auth: null })).status).toBe(204);
    expect((await call('POST', '/v10/webhooks/923456789012345678/wrong', { body: { content: 'x' }, auth: null })).status).toBe(401);
    for (let i = 0; i < 8; i++) expect((await call('POST', `/v10/channels/${CHANNEL}/messages`, { body: { content: `m${i}` } })).status).toBe(200);
    expect(double.rateLimiter).toBeUndefined();
  });
});
