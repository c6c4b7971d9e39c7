import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationCommandOptionType, GatewayIntentBits } from 'discord-api-types/v10';
import { PNG } from 'pngjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { customId } from '../../src/commands/router.js';
import type { ButtonHandler, Command } from '../../src/commands/types.js';
import type { Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { configSecrets, startVigil, type Vigil } from '../../src/main.js';
import { botConfig } from '../support/bot-config.js';
import { DOUBLE_TOKEN, startDiscordDouble, type DiscordDouble } from '../support/discord-double.js';
import { startGatewayDouble, type GatewayDouble } from '../support/gateway-double.js';
import { autocompleteInteraction, botMessage, buttonInteraction, commandInteraction, TEST_APPLICATION_ID } from '../support/interactions.js';
import { freePort } from '../support/ports.js';
import { eventually } from '../support/eventually.js';

const WEBHOOK_TOKEN = 'gateway-test-webhook-token-01234567';

/** A small real PNG, as a chart would be. */
const PICTURE = PNG.sync.write(Object.assign(new PNG({ width: 4, height: 3 }), { data: Buffer.alloc(4 * 3 * 4, 0x80) }));

const COMMANDS: Command[] = [
  {
    data: { name: 'picture', description: 'Answers at once with a file' },
    async execute(ctx) {
      await ctx.reply({ content: 'a chart', files: [{ name: 'chart.png', data: PICTURE }] });
    },
  },
  {
    data: { name: 'later', description: 'Defers, then answers with a file' },
    async execute(ctx) {
      await ctx.defer({ ephemeral: false });
      await ctx.reply({ content: 'a later chart', files: [{ name: 'chart.png', data: PICTURE }] });
    },
  },
  {
    data: { name: 'echo', description: 'Echoes a text', options: [{ type: ApplicationCommandOptionType.String, name: 'text', description: 'What to echo' }] },
    async execute(ctx) {
      await ctx.reply({ content: `echo: ${String(ctx.options.text)} (roles ${ctx.user.roles.join(',') || 'none'})` });
    },
  },
  {
    data: { name: 'slow', description: 'Defers, then answers' },
    async execute(ctx) {
      await ctx.defer({ ephemeral: true });
      await sleep(100);
      await ctx.reply({ embeds: [{ title: 'Slow answer', description: 'took 100 ms' }] });
      await ctx.followUp({ content: 'and a follow-up' });
    },
  },
  {
    data: {
      name: 'pick',
      description: 'Autocomplete',
      options: [{ type: ApplicationCommandOptionType.String, name: 'job', description: 'Job', autocomplete: true }],
    },
    async execute(ctx) {
      await ctx.reply({ content: `picked ${String(ctx.options.job)}` });
    },
    async autocomplete(ctx) {
      await ctx.respond(['node', 'loki'].filter((j) => j.startsWith(ctx.focused.value)).map((j) => ({ name: j, value: j })));
    },
  },
];

const BUTTONS: ButtonHandler[] = [
  {
    action: 'ack',
    async execute(ctx, ref) {
      await ctx.deferUpdate();
      await ctx.updateMessage({ content: `Acknowledged ${ref} by ${ctx.user.username}` });
    },
  },
];

function gatewayConfig(dir: string, apiBaseUrl: string, closedUrl: string): Config {
  return botConfig({
    dir,
    discordApiBaseUrl: apiBaseUrl,
    prometheusUrl: closedUrl,
    lokiUrl: closedUrl,
    webhookToken: WEBHOOK_TOKEN,
    mode: 'gateway',
    sections: { log: { level: 'debug' } },
  });
}

describe('gateway transport (discord.mode gateway)', () => {
  let discord: DiscordDouble;
  let gateway: GatewayDouble;
  let vigil: Vigil;
  let dir: string;
  let logs: string[];

  beforeAll(async () => {
    discord = await startDiscordDouble();
    gateway = await startGatewayDouble({ token: DOUBLE_TOKEN, user: discord.botUser, applicationId: TEST_APPLICATION_ID, heartbeatIntervalMs: 300 });
    discord.setGatewayUrl(gateway.url);
    dir = mkdtempSync(join(tmpdir(), 'vigil-gateway-'));
    const config = gatewayConfig(dir, discord.apiBaseUrl, `http://127.0.0.1:${await freePort()}`);
    logs = [];
    const logger = createLogger({ level: 'debug', secrets: configSecrets(config) }, { write: (s: string) => void logs.push(s) });
    vigil = await startVigil(config, { logger, commands: COMMANDS, buttons: BUTTONS });
    await vigil.gateway!.ready();
  });

  afterAll(async () => {
    await vigil?.stop();
    await gateway?.stop();
    await discord?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  afterEach(() => {
    expect(discord.invalid).toEqual([]);
    expect(gateway.errors).toEqual([]);
  });

  it('finds the gateway through GET /gateway/bot and identifies with the token and the Guilds intent only', () => {
    expect(discord.requests.filter((r) => r.operationId === 'get_bot_gateway').map((r) => r.status)).toEqual([200]);
    expect(gateway.connections[0]?.get('v')).toBe('10');
    expect(gateway.connections[0]?.get('encoding')).toBe('json');
    expect(gateway.identifies).toHaveLength(1);
    expect(gateway.identifies[0]).toMatchObject({ token: DOUBLE_TOKEN, intents: GatewayIntentBits.Guilds });
    expect(logs.some((l) => l.includes('"msg":"gateway ready"'))).toBe(true);
    expect(logs.join('\n')).not.toContain(DOUBLE_TOKEN);
  });

  it('is ready once connected: /readyz answers 200 in gateway mode', async () => {
    expect(vigil.gateway!.notConnected()).toBeUndefined();
    const res = await fetch(`http://127.0.0.1:${vigil.port}/readyz`);
    expect(await res.json()).toMatchObject({ status: 'ready' });
    expect(res.status).toBe(200);
  });

  it('keeps the connection alive with heartbeats the gateway acknowledges', async () => {
    await eventually('two heartbeats', () => (gateway.heartbeats >= 2 ? true : undefined));
    await eventually('a measured heartbeat', () => vigil.gateway!.latencyMs());
    expect(vigil.gateway!.latencyMs()).toBeGreaterThanOrEqual(0);
  });

  it('answers a command from INTERACTION_CREATE with an interaction callback through REST', async () => {
    const payload = commandInteraction('echo', { text: 'over the gateway' }, { invoker: { roles: ['444444444444444444'] } });
    const record = discord.registerInteraction(payload);
    expect(gateway.sendInteraction(payload)).toBe(1);
    await eventually('the callback', () => record.callback);
    expect(record.callback).toMatchObject({ type: 4 });
    expect(record.original).toMatchObject({ content: 'echo: over the gateway (roles 444444444444444444)', ephemeral: false });
    const call = discord.requests.find((r) => r.operationId === 'create_interaction_response' && r.path.includes(payload.id));
    expect(call).toMatchObject({ method: 'POST', status: 204 });
    expect(call?.headers.authorization).toBeUndefined();
  });

  it('defers a slow command, then edits @original and follows up through the webhook', async () => {
    const payload = commandInteraction('slow');
    const record = discord.registerInteraction(payload);
    gateway.sendInteraction(payload);
    await eventually('the follow-up', () => record.followUps[0]);
    expect(record.callback).toMatchObject({ type: 5, data: { flags: 64 } });
    expect(record.original).toMatchObject({ ephemeral: true, loading: false, embeds: [{ title: 'Slow answer' }] });
    // /slow is not marked sensitive: its follow-up is public unless asked otherwise.
    expect(record.followUps[0]).toMatchObject({ content: 'and a follow-up', ephemeral: false });
  });

  it.each([
    ['in the interaction callback', 'picture', 'create_interaction_response'],
    ['with the edit of @original after a deferral', 'later', 'update_original_webhook_message'],
  ])("uploads a reply's file %s as multipart", async (_how, name, operationId) => {
    const payload = commandInteraction(name);
    const record = discord.registerInteraction(payload);
    gateway.sendInteraction(payload);
    const original = await eventually('the answer with its file', () => (record.original?.attachments.length ? record.original : undefined));
    expect(original.attachments).toMatchObject([{ filename: 'chart.png', content_type: 'image/png', width: 4, height: 3 }]);
    expect(discord.attachmentData.get(original.attachments[0]!.id)!.equals(PICTURE)).toBe(true);
    const call = discord.requests.find((r) => r.operationId === operationId && (r.path.includes(payload.id) || r.path.includes(payload.token)));
    expect(call?.files?.map((f) => f.field)).toEqual(['files[0]']);
    expect(discord.invalid).toEqual([]);
  });

  it('answers autocomplete with choices', async () => {
    const payload = autocompleteInteraction('pick', 'job', { job: 'lo' });
    const record = discord.registerInteraction(payload);
    gateway.sendInteraction(payload);
    await eventually('the choices', () => record.choices);
    expect(record.choices).toEqual([{ name: 'loki', value: 'loki' }]);
  });

  it('defers a button press as an update and edits the message it is on', async () => {
    const message = botMessage(discord.botUser, { content: 'HighCPU firing' });
    const payload = buttonInteraction(customId('ack', 9), message, { invoker: { username: 'cy' } });
    const record = discord.registerInteraction(payload);
    gateway.sendInteraction(payload);
    await eventually('the edit', () => (discord.messages.get(message.id)?.content.startsWith('Acknowledged') ? true : undefined));
    expect(record.callback).toMatchObject({ type: 6 });
    expect(discord.messages.get(message.id)?.content).toBe('Acknowledged 9 by cy');
  });
});

describe('gateway unreachable', () => {
  it('still serves webhooks, logs the failure without the token, and stops cleanly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-gateway-down-'));
    const closed = `http://127.0.0.1:${await freePort()}`;
    const config = gatewayConfig(dir, `${closed}/api`, closed);
    const logs: string[] = [];
    const logger = createLogger({ level: 'debug', secrets: configSecrets(config) }, { write: (s: string) => void logs.push(s) });
    const vigil = await startVigil(config, { logger, commands: COMMANDS });
    try {
      const health = await fetch(`http://127.0.0.1:${vigil.port}/healthz`);
      expect(health.status).toBe(200);
      await eventually('the login failure', () => logs.find((l) => l.includes('gateway login failed')));
      const alert = await fetch(`http://127.0.0.1:${vigil.port}/webhooks/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
        body: readFileSync(new URL('../fixtures/webhooks/alertmanager-firing.json', import.meta.url)),
      });
      expect(alert.status).toBe(202);
      expect(logs.join('\n')).not.toContain(DOUBLE_TOKEN);
    } finally {
      await vigil.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('gateway refusing the session', () => {
  it('logs in again with backoff after close 4004 (authentication failed), says why in /readyz, and never logs the token', async () => {
    const discord = await startDiscordDouble();
    // The REST double takes the bot token; this gateway expects another one, so IDENTIFY is refused.
    const gateway = await startGatewayDouble({ token: 'another-bot-token', user: discord.botUser, applicationId: TEST_APPLICATION_ID });
    discord.setGatewayUrl(gateway.url);
    const dir = mkdtempSync(join(tmpdir(), 'vigil-gateway-4004-'));
    const config = gatewayConfig(dir, discord.apiBaseUrl, `http://127.0.0.1:${await freePort()}`);
    const logs: string[] = [];
    const logger = createLogger({ level: 'debug', secrets: configSecrets(config) }, { write: (s: string) => void logs.push(s) });
    const vigil = await startVigil(config, { logger, commands: COMMANDS });
    try {
      await eventually('a second IDENTIFY after the refusal', () => (gateway.identifies.length >= 2 ? true : undefined), 10_000);
      const failures = logs.filter((l) => l.includes('gateway login failed'));
      expect(failures.length).toBeGreaterThanOrEqual(1);
      expect(failures[0]).toContain('authentication failed: check discord.token (close code 4004)');
      expect(vigil.gateway!.notConnected()).toMatch(/^gateway login failed: .*4004/);
      const ready = await fetch(`http://127.0.0.1:${vigil.port}/readyz`);
      expect(ready.status).toBe(503);
      expect(JSON.stringify(await ready.json())).toContain('4004');
      expect(logs.join('\n')).not.toContain(DOUBLE_TOKEN);
    } finally {
      await vigil.stop();
      await gateway.stop();
      await discord.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('gateway with a token Discord refuses', () => {
  it('says so in words (401 on GET /gateway/bot), keeps retrying, and never logs the token', async () => {
    const discord = await startDiscordDouble();
    const dir = mkdtempSync(join(tmpdir(), 'vigil-gateway-401-'));
    const badToken = 'MTIzNDU2Nzg5MDEyMzQ1Njc4.refused.token-of-another-bot';
    const config = botConfig({
      dir,
      discordApiBaseUrl: discord.apiBaseUrl,
      discordToken: badToken,
      prometheusUrl: `http://127.0.0.1:${await freePort()}`,
      lokiUrl: `http://127.0.0.1:${await freePort()}`,
      webhookToken: WEBHOOK_TOKEN,
      mode: 'gateway',
    });
    const logs: string[] = [];
    const logger = createLogger({ level: 'debug', secrets: configSecrets(config) }, { write: (s: string) => void logs.push(s) });
    const vigil = await startVigil(config, { logger, commands: COMMANDS });
    try {
      // Asked again after the backoff: REST forgets the token on a 401, so a retry without it would never reach Discord.
      const asked = () => discord.requests.filter((r) => r.operationId === 'get_bot_gateway').map((r) => r.status);
      await eventually('a second login attempt', () => (asked().length >= 2 ? true : undefined), 10_000);
      expect(asked().slice(0, 2)).toEqual([401, 401]);
      expect(vigil.gateway!.notConnected()).toBe('gateway login failed: Discord refused the bot token (401 Unauthorized): check discord.token');
      expect(logs.join('\n')).not.toContain(badToken);
    } finally {
      await vigil.stop();
      await discord.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
