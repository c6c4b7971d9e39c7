import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationCommandOptionType, type APIMessage } from 'discord-api-types/v10';
import { PNG } from 'pngjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ButtonHandler, Command } from '../../src/commands/types.js';
import { OptionError } from '../../src/commands/types.js';
import { customId } from '../../src/commands/router.js';
import { flattenOptions } from '../../src/discord/interaction-payload.js';
import { interactionsRoute, type InteractionRouter } from '../../src/discord/interactions.js';
import { createRest } from '../../src/discord/rest.js';
import { createVerifier, MAX_SIGNATURE_AGE_MS, publicKeyFromHex } from '../../src/discord/verify.js';
import { createLogger } from '../../src/log.js';
import { configSecrets, startVigil, type Vigil } from '../../src/main.js';
import { createHttpServer, listen } from '../../src/server.js';
import { botConfig } from '../support/bot-config.js';
import { DOUBLE_TOKEN, specSchemaErrors, startDiscordDouble, type DiscordDouble } from '../support/discord-double.js';
import {
  autocompleteInteraction,
  botMessage,
  buttonInteraction,
  commandInteraction,
  generateTestKeys,
  pingInteraction,
  postInteraction,
  sendInteraction,
  signatureHeaders,
  type TestKeys,
} from '../support/interactions.js';
import { freePort } from '../support/ports.js';
import { eventually } from '../support/eventually.js';

const WEBHOOK_TOKEN = 'interactions-test-webhook-token-0123';
const ONCALL_ROLE = '333333333333333333';

// ---------------------------------------------------------------------------------------------
// verify.ts

describe('Discord signature verification', () => {
  const keys = generateTestKeys();
  const other = generateTestKeys();
  const now = 1_750_000_000_000;
  const verify = createVerifier(keys.publicKeyHex, () => new Date(now));
  const body = Buffer.from('{"type":1}');
  const nowSec = Math.floor(now / 1000);
  const signed = (b: string, k: TestKeys = keys, ts = nowSec) => signatureHeaders(b, k, ts);

  it.each([
    ['a correct signature', signed('{"type":1}'), body, { ok: true }],
    ['a signature made four minutes ago', signed('{"type":1}', keys, nowSec - 240), body, { ok: true }],
    ['a tampered body', signed('{"type":1}'), Buffer.from('{"type":2}'), { ok: false, reason: 'invalid request signature' }],
    ['a signature by another key', signed('{"type":1}', other), body, { ok: false, reason: 'invalid request signature' }],
    [
      'a timestamp changed after signing',
      { ...signed('{"type":1}'), 'x-signature-timestamp': String(nowSec - 1) },
      body,
      { ok: false, reason: 'invalid request signature' },
    ],
    [
      'a timestamp over five minutes old',
      signed('{"type":1}', keys, nowSec - MAX_SIGNATURE_AGE_MS / 1000 - 1),
      body,
      { ok: false, reason: 'timestamp too old' },
    ],
    [
      'a timestamp over five minutes ahead',
      signed('{"type":1}', keys, nowSec + MAX_SIGNATURE_AGE_MS / 1000 + 1),
      body,
      { ok: false, reason: 'timestamp in the future' },
    ],
    ['no signature header', { 'x-signature-timestamp': String(nowSec) }, body, { ok: false, reason: 'missing X-Signature-Ed25519 header' }],
    ['no timestamp header', { 'x-signature-ed25519': 'ab'.repeat(64) }, body, { ok: false, reason: 'missing X-Signature-Timestamp header' }],
    [
      'a signature that is not hex',
      { ...signed('{"type":1}'), 'x-signature-ed25519': 'zz'.repeat(64) },
      body,
      { ok: false, reason: 'malformed signature: expected 128 hex characters' },
    ],
    [
      'a timestamp that is not a number',
      { ...signed('{"type":1}'), 'x-signature-timestamp': 'yesterday' },
      body,
      { ok: false, reason: 'malformed timestamp: expected unix seconds' },
    ],
  ])('judges %s', (_name, headers, raw, expected) => {
    expect(verify(headers, raw)).toEqual(expected);
  });

  it.each(['', 'abc', 'g'.repeat(64), 'a'.repeat(66)])('refuses the public key %j', (hex) => {
    expect(() => publicKeyFromHex(hex)).toThrow('expected an Ed25519 public key of 64 hex characters');
  });
});

// ---------------------------------------------------------------------------------------------
// Options

describe('flattenOptions', () => {
  const S = ApplicationCommandOptionType;
  it.each([
    ['no options', undefined, { options: {} }],
    [
      'top-level values of every kind',
      [
        { name: 'promql', type: S.String, value: 'up' },
        { name: 'limit', type: S.Integer, value: 5 },
        { name: 'ephemeral', type: S.Boolean, value: false },
      ],
      { options: { promql: 'up', limit: 5, ephemeral: false } },
    ],
    [
      'a subcommand with its options',
      [{ name: 'create', type: S.Subcommand, options: [{ name: 'duration', type: S.String, value: '1h' }] }],
      { subcommand: 'create', options: { duration: '1h' } },
    ],
    [
      'a subcommand inside a group',
      [{ name: 'admin', type: S.SubcommandGroup, options: [{ name: 'list', type: S.Subcommand, options: [] }] }],
      { subcommand: 'list', options: {} },
    ],
    [
      'the focused option while typing',
      [
        { name: 'job', type: S.String, value: 'no', focused: true },
        { name: 'limit', type: S.Integer, value: 3 },
      ],
      { options: { job: 'no', limit: 3 }, focused: { name: 'job', value: 'no' } },
    ],
  ])('flattens %s', (_name, tree, expected) => {
    expect(flattenOptions(tree)).toEqual(expected);
  });
});

// ---------------------------------------------------------------------------------------------
// HTTP transport through a running Vigil

/** What the test commands saw, to prove a refused request reached no handler. */
const executed: string[] = [];

/** A small real PNG, as a chart would be. */
const PICTURE = PNG.sync.write(Object.assign(new PNG({ width: 4, height: 3 }), { data: Buffer.alloc(4 * 3 * 4, 0x80) }));

const COMMANDS: Command[] = [
  {
    data: { name: 'picture', description: 'Answers at once with a file, then follows up with another' },
    async execute(ctx) {
      await ctx.reply({ content: 'a chart', files: [{ name: 'chart.png', data: PICTURE }] });
      await ctx.followUp({ content: 'another', files: [{ name: 'chart.png', data: PICTURE }] });
    },
  },
  {
    data: { name: 'echo', description: 'Echoes a text', options: [{ type: ApplicationCommandOptionType.String, name: 'text', description: 'What to echo' }] },
    async execute(ctx) {
      executed.push(`echo:${String(ctx.options.text)}`);
      await ctx.reply({ content: `echo: ${String(ctx.options.text)} (from ${ctx.user.username})` });
    },
  },
  {
    data: { name: 'slow', description: 'Defers, then answers and follows up' },
    sensitive: true,
    async execute(ctx) {
      await ctx.defer({ ephemeral: true });
      await sleep(150);
      await ctx.reply({ embeds: [{ title: 'Slow answer', description: 'took 150 ms' }] });
      await ctx.followUp({ content: 'one more thing' }, { ephemeral: true });
    },
  },
  {
    data: { name: 'lazy', description: 'Answers after the router deferred for it' },
    async execute(ctx) {
      await sleep(1800);
      await ctx.reply({ content: 'late but here' });
    },
  },
  {
    data: { name: 'strict', description: 'Rejects its option' },
    async execute() {
      throw new OptionError('limit', 'expected an integer from 1 to 25');
    },
  },
  {
    data: { name: 'guarded', description: 'Needs the on-call role' },
    async execute(ctx) {
      executed.push('guarded');
      await ctx.reply({ content: 'secret stuff' });
    },
  },
  {
    data: {
      name: 'pick',
      description: 'Subcommands and autocomplete',
      options: [
        {
          type: ApplicationCommandOptionType.Subcommand,
          name: 'job',
          description: 'Pick a job',
          options: [{ type: ApplicationCommandOptionType.String, name: 'job', description: 'Job', autocomplete: true }],
        },
      ],
    },
    async execute(ctx) {
      await ctx.reply({ content: `picked ${ctx.subcommand}: ${String(ctx.options.job)}` });
    },
    async autocomplete(ctx) {
      const jobs = ['node', 'prometheus', 'alertmanager', 'loki'];
      await ctx.respond(jobs.filter((j) => j.startsWith(ctx.focused.value)).map((j) => ({ name: j, value: j })));
    },
  },
];

const BUTTONS: ButtonHandler[] = [
  {
    action: 'ack',
    async execute(ctx, ref) {
      await ctx.deferUpdate();
      await ctx.updateMessage({ content: `Acknowledged incident ${ref} by ${ctx.user.username}` });
      await ctx.followUp({ content: 'You acknowledged it.' });
    },
  },
  {
    action: 'note',
    async execute(ctx, ref) {
      await ctx.reply({ content: 'noted' });
      // After a reply, @original is that reply: the button's message is edited as the bot's own.
      await ctx.updateMessage({ content: `noted ${ref}` });
    },
  },
  {
    action: 'flip',
    async execute(ctx, ref) {
      await ctx.updateMessage({ content: `flipped ${ref}` });
    },
  },
];

interface Running {
  vigil: Vigil;
  url: string;
  dir: string;
  logs: string[];
}

async function startHttpVigil(discord: DiscordDouble, keys: TestKeys, closedUrl: string): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-interactions-'));
  const config = botConfig({
    dir,
    discordApiBaseUrl: discord.apiBaseUrl,
    prometheusUrl: closedUrl,
    lokiUrl: closedUrl,
    webhookToken: WEBHOOK_TOKEN,
    mode: 'http',
    publicKeyHex: keys.publicKeyHex,
    sections: { commands: { ephemeral: true, permissions: { guarded: [ONCALL_ROLE] } }, log: { level: 'debug' } },
  });
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', secrets: configSecrets(config) }, { write: (s: string) => void logs.push(s) });
  const vigil = await startVigil(config, { logger, commands: COMMANDS, buttons: BUTTONS });
  return { vigil, url: `http://127.0.0.1:${vigil.port}`, dir, logs };
}

/** An alert message the bot (as the Discord double knows it) posted in the alert channel. */
function alertMessage(discord: DiscordDouble): APIMessage {
  return botMessage(discord.botUser, { embeds: [{ title: '🔥 HighCPU on node-1', description: 'cpu 97 %' }] });
}

describe('HTTP interactions endpoint (POST /interactions)', () => {
  let discord: DiscordDouble;
  let keys: TestKeys;
  let bot: Running;

  beforeAll(async () => {
    discord = await startDiscordDouble();
    keys = generateTestKeys();
    bot = await startHttpVigil(discord, keys, `http://127.0.0.1:${await freePort()}`);
  });

  afterAll(async () => {
    await bot?.vigil.stop();
    if (bot) rmSync(bot.dir, { recursive: true, force: true });
    await discord?.stop();
  });

  afterEach(() => {
    // Every request the bot made to Discord was valid against the spec and the docs.
    expect(discord.invalid).toEqual([]);
  });

  it('answers a signed PING with PONG', async () => {
    const body = JSON.stringify(pingInteraction());
    const res = await postInteraction(bot.url, body, signatureHeaders(body, keys));
    expect(res).toEqual({ status: 200, body: { type: 1 } });
  });

  it.each([
    ['a tampered body', (b: string) => ({ body: b.replace('hello', 'HELLO'), headers: signatureHeaders(b, keys) }), 'invalid request signature'],
    ['a signature by another key', (b: string) => ({ body: b, headers: signatureHeaders(b, generateTestKeys()) }), 'invalid request signature'],
    ['a six-minute-old signature', (b: string) => ({ body: b, headers: signatureHeaders(b, keys, Math.floor(Date.now() / 1000) - 360) }), 'timestamp too old'],
    ['no signature headers', (b: string) => ({ body: b, headers: {} }), 'missing X-Signature-Ed25519 header'],
    [
      'no timestamp header',
      (b: string) => ({ body: b, headers: { 'x-signature-ed25519': signatureHeaders(b, keys)['x-signature-ed25519']! } }),
      'missing X-Signature-Timestamp header',
    ],
  ])('refuses %s with 401 and runs nothing', async (_name, build, reason) => {
    const before = executed.length;
    const payload = commandInteraction('echo', { text: 'hello' });
    const { body, headers } = build(JSON.stringify(payload));
    const res = await postInteraction(bot.url, body, headers);
    expect(res).toEqual({ status: 401, body: { error: reason } });
    await sleep(50);
    expect(executed.length).toBe(before);
  });

  it.each([
    ['a body that is not JSON', 'not json {', 400, 'body is not JSON'],
    ['JSON that is no interaction', JSON.stringify({ hello: 'world' }), 422, 'not a supported interaction'],
    ['a command without its data', JSON.stringify({ ...pingInteraction(), type: 2 }), 422, 'data'],
  ])('answers %s (signed) with %i', async (_name, body, status, message) => {
    const res = await postInteraction(bot.url, body, signatureHeaders(body, keys));
    expect(res.status).toBe(status);
    expect(JSON.stringify(res.body)).toContain(message);
  });

  it('answers a quick command in the HTTP response body with the user from member.user', async () => {
    const sent = await sendInteraction(bot.url, commandInteraction('echo', { text: 'hello' }, { invoker: { username: 'ana' } }), { keys, discord });
    expect(sent.status).toBe(200);
    expect(sent.errors).toEqual([]);
    expect(sent.body).toEqual({ type: 4, data: { content: 'echo: hello (from ana)', allowed_mentions: { parse: [] } } });
    expect(sent.record.original).toMatchObject({ content: 'echo: hello (from ana)', ephemeral: false });
    // Nothing went through REST: the answer was the HTTP response.
    expect(discord.requests.filter((r) => r.path.includes(sent.record.token))).toEqual([]);
  });

  it('defers a slow command in the HTTP response, then edits @original and follows up through the webhook', async () => {
    const sent = await sendInteraction(bot.url, commandInteraction('slow'), { keys, discord });
    expect(sent.body).toEqual({ type: 5, data: { flags: 64 } });
    expect(sent.errors).toEqual([]);
    const followUp = await eventually('the follow-up', () => sent.record.followUps[0]);
    expect(followUp).toMatchObject({ content: 'one more thing', ephemeral: true });
    expect(sent.record.original).toMatchObject({ loading: false, ephemeral: true, embeds: [{ title: 'Slow answer', description: 'took 150 ms' }] });
    const calls = discord.requests.filter((r) => r.path.includes(sent.record.token));
    expect(calls.map((r) => [r.method, r.operationId, r.status])).toEqual([
      ['PATCH', 'update_original_webhook_message', 200],
      ['POST', 'execute_webhook', 200],
    ]);
    // Webhook calls carry no bot token: the interaction token is the credential.
    expect(calls.every((r) => r.headers.authorization === undefined)).toBe(true);
  });

  it('answers with a file by deferring in the HTTP response, then uploading it with the edit of @original', async () => {
    const sent = await sendInteraction(bot.url, commandInteraction('picture'), { keys, discord });
    // Files cannot go in the JSON HTTP response.
    expect(sent.body).toEqual({ type: 5, data: {} });
    expect(sent.errors).toEqual([]);
    const followUp = await eventually('the follow-up', () => sent.record.followUps[0]);
    for (const m of [sent.record.original!, followUp]) {
      expect(m.attachments).toMatchObject([{ filename: 'chart.png', content_type: 'image/png', width: 4, height: 3 }]);
      expect(discord.attachmentData.get(m.attachments[0]!.id)!.equals(PICTURE)).toBe(true);
    }
    expect(sent.record.original).toMatchObject({ content: 'a chart', loading: false });
    const calls = discord.requests.filter((r) => r.path.includes(sent.record.token));
    expect(calls.map((r) => [r.operationId, r.files?.map((f) => f.field), (r.body as { attachments?: unknown }).attachments])).toEqual([
      ['update_original_webhook_message', ['files[0]'], [{ id: '0', filename: 'chart.png' }]],
      ['execute_webhook', ['files[0]'], [{ id: '0', filename: 'chart.png' }]],
    ]);
  });

  it('is deferred by the router when a handler takes longer than 1.5 s, then edited', async () => {
    const sent = await sendInteraction(bot.url, commandInteraction('lazy'), { keys, discord });
    expect(sent.body).toMatchObject({ type: 5 });
    expect(sent.errors).toEqual([]);
    await eventually('the edit', () => (sent.record.original?.loading === false ? true : undefined));
    expect(sent.record.original?.content).toBe('late but here');
  });

  it('answers an option error ephemerally, naming the option', async () => {
    const sent = await sendInteraction(bot.url, commandInteraction('strict', { limit: 99 }), { keys, discord });
    expect(sent.body).toEqual({ type: 4, data: { content: '⚠️ limit: expected an integer from 1 to 25', flags: 64, allowed_mentions: { parse: [] } } });
    expect(sent.record.original?.ephemeral).toBe(true);
  });

  it.each([
    ['refuses a member without the role, ephemerally', [], '⛔ You are not allowed to use `/guarded`', true],
    ['serves a member with the role', [ONCALL_ROLE], 'secret stuff', false],
  ])('%s', async (_name, roles, content, ephemeral) => {
    const sent = await sendInteraction(bot.url, commandInteraction('guarded', {}, { invoker: { roles } }), { keys, discord });
    expect(sent.record.original?.content).toContain(content);
    expect(sent.record.original?.ephemeral).toBe(ephemeral);
  });

  it('passes the subcommand and its options to the handler', async () => {
    const sent = await sendInteraction(bot.url, commandInteraction('pick', { job: 'node' }, { subcommand: 'job' }), { keys, discord });
    expect(sent.record.original?.content).toBe('picked job: node');
  });

  it('answers autocomplete with the choices for the focused option', async () => {
    const sent = await sendInteraction(bot.url, autocompleteInteraction('pick', 'job', { job: 'pro' }, { subcommand: 'job' }), { keys, discord });
    expect(sent.body).toEqual({ type: 8, data: { choices: [{ name: 'prometheus', value: 'prometheus' }] } });
    expect(sent.errors).toEqual([]);
  });

  it('defers a button press as an update, edits the message it is on, then follows up ephemerally', async () => {
    const message = alertMessage(discord);
    const sent = await sendInteraction(bot.url, buttonInteraction(customId('ack', 42), message, { invoker: { username: 'bo' } }), { keys, discord });
    expect(sent.body).toEqual({ type: 6 });
    const followUp = await eventually('the follow-up', () => sent.record.followUps[0]);
    expect(followUp).toMatchObject({ content: 'You acknowledged it.', ephemeral: true });
    expect(discord.messages.get(message.id)?.content).toBe('Acknowledged incident 42 by bo');
  });

  it('updates the message in the HTTP response when a button answers at once', async () => {
    const message = alertMessage(discord);
    const sent = await sendInteraction(bot.url, buttonInteraction(customId('flip', 7), message), { keys, discord });
    expect(sent.body).toEqual({ type: 7, data: { content: 'flipped 7', allowed_mentions: { parse: [] } } });
    expect(discord.messages.get(message.id)?.content).toBe('flipped 7');
  });

  it("edits the button's message through the channel endpoint after replying to the press", async () => {
    const message = alertMessage(discord);
    const sent = await sendInteraction(bot.url, buttonInteraction(customId('note', 3), message), { keys, discord });
    expect(sent.body).toEqual({ type: 4, data: { content: 'noted', flags: 64, allowed_mentions: { parse: [] } } });
    await eventually('the message edit', () => (discord.messages.get(message.id)?.content === 'noted 3' ? true : undefined));
    const edit = discord.requests.find((r) => r.operationId === 'update_message' && r.path.endsWith(`/messages/${message.id}`));
    expect(edit?.headers.authorization).toBe(`Bot ${DOUBLE_TOKEN}`);
  });

  it("answers a button that is not Vigil's ephemerally", async () => {
    const sent = await sendInteraction(bot.url, buttonInteraction('someone-else:thing', alertMessage(discord)), { keys, discord });
    expect(sent.body).toMatchObject({ type: 4, data: { flags: 64 } });
  });

  it('sends initial answers that are valid interaction callbacks by the spec', async () => {
    const sent = await sendInteraction(bot.url, commandInteraction('echo', { text: 'spec' }), { keys, discord });
    expect(specSchemaErrors('CreateMessageInteractionCallbackRequest', sent.body)).toEqual([]);
  });
});

/** `POST /interactions` alone, with `router` behind it, on a loopback port: the transport without the rest of Vigil. */
async function serveInteractions(
  router: InteractionRouter,
  keys: TestKeys,
  discord: DiscordDouble,
  backstopMs?: number,
): Promise<{ server: Server; url: string }> {
  const logger = createLogger({ level: 'silent' });
  const route = interactionsRoute({
    verify: createVerifier(keys.publicKeyHex),
    router,
    rest: createRest({ token: DOUBLE_TOKEN, apiBaseUrl: discord.apiBaseUrl }),
    logger,
    ...(backstopMs !== undefined ? { backstopMs } : {}),
  });
  const server = createHttpServer({ routes: [route], bodyLimit: 65536, logger });
  return { server, url: `http://127.0.0.1:${await listen(server, '127.0.0.1', 0)}` };
}

describe('HTTP interactions backstop', () => {
  let discord: DiscordDouble;
  let server: Server;
  let url: string;
  const keys = generateTestKeys();
  let release!: () => void;

  beforeAll(async () => {
    discord = await startDiscordDouble();
    const blocked = new Promise<void>((resolve) => (release = resolve));
    // A router whose handler answers nothing until released: only the transport's backstop can keep the 3 s deadline.
    const router: InteractionRouter = {
      async handleCommand(ctx) {
        await blocked;
        await ctx.reply({ content: 'finally' });
      },
      async handleAutocomplete() {},
      async handleComponent() {},
    };
    ({ server, url } = await serveInteractions(router, keys, discord, 100));
  });

  afterAll(async () => {
    release?.();
    await new Promise((r) => server?.close(r));
    await discord?.stop();
  });

  it('defers ephemerally when nothing answered in time, and the late reply edits @original', async () => {
    const sent = await sendInteraction(url, commandInteraction('anything'), { keys, discord });
    expect(sent.body).toEqual({ type: 5, data: { flags: 64 } });
    release();
    await eventually('the edit', () => (sent.record.original?.loading === false ? true : undefined));
    expect(sent.record.original).toMatchObject({ content: 'finally', ephemeral: true });
    expect(discord.invalid).toEqual([]);
  });

  it('answers autocomplete with no choices when the handler says nothing', async () => {
    const sent = await sendInteraction(url, autocompleteInteraction('anything', 'job', { job: '' }), { keys, discord });
    expect(sent.body).toEqual({ type: 8, data: { choices: [] } });
  });

  it('acknowledges a button press the handler ignored', async () => {
    const sent = await sendInteraction(url, buttonInteraction('vigil:x:1', alertMessage(discord)), { keys, discord });
    expect(sent.body).toEqual({ type: 6 });
  });
});

describe('HTTP interactions replayed', () => {
  let discord: DiscordDouble;
  let server: Server;
  let url: string;
  const keys = generateTestKeys();
  const handled: string[] = [];

  beforeAll(async () => {
    discord = await startDiscordDouble();
    const router: InteractionRouter = {
      async handleCommand(ctx) {
        handled.push(ctx.commandName);
        await ctx.reply({ content: 'done' });
      },
      async handleAutocomplete() {},
      async handleComponent() {},
    };
    ({ server, url } = await serveInteractions(router, keys, discord));
  });

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await discord?.stop();
  });

  it('handles the same signed interaction once: a second delivery of it gets 409 and runs nothing', async () => {
    const payload = commandInteraction('silence');
    const body = JSON.stringify(payload);
    const headers = signatureHeaders(body, keys);
    const first = await postInteraction(url, body, headers);
    expect(first.status).toBe(200);
    const again = await postInteraction(url, body, headers);
    expect(again).toMatchObject({ status: 409, body: { error: `interaction ${payload.id} was already handled` } });
    expect(handled).toEqual(['silence']);
    // Another interaction (its own id) is handled as usual.
    const other = JSON.stringify(commandInteraction('silence'));
    expect((await postInteraction(url, other, signatureHeaders(other, keys))).status).toBe(200);
    expect(handled).toEqual(['silence', 'silence']);
  });
});
