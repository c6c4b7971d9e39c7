// Escalation survives a crash: a real `vigil serve` killed with SIGKILL between two escalation
// pings, restarted on the same store, sends the second ping once and never the first again.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIMessage } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firingNotification } from '../support/alertmanager-body.js';
import { CLOSED_URL } from '../support/bot-config.js';
import { DOUBLE_TOKEN, startDiscordDouble, type DiscordDouble } from '../support/discord-double.js';
import { eventually, sleep, startBot, type BotProcess, type BotSettings } from './bot.js';

const CHANNEL = '923456789012346001';
const PAGE_ROLE = '933456789012346001';
const ESCALATION_ROLE = '933456789012346002';
const TOKEN = 'escalation-e2e-webhook-token-0123456789';
const AFTER_MS = 3000;

let discord: DiscordDouble;
let dir: string;
const bots: BotProcess[] = [];

beforeAll(async () => {
  discord = await startDiscordDouble({ channels: [CHANNEL] });
  dir = mkdtempSync(join(tmpdir(), 'vigil-escalation-'));
});

afterAll(async () => {
  for (const b of bots) await b.kill('SIGKILL');
  await discord?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The escalation pings at Discord (in the incident's thread), in the order Discord stored them. */
function escalations(): APIMessage[] {
  return [...discord.messages.values()].filter((m) => m.content?.startsWith('⏫'));
}

describe('escalation across a crash', () => {
  it('pings after the interval, survives kill -9 between pings, and never pings twice for one step', async () => {
    const settings: BotSettings = {
      dir,
      prometheusUrl: CLOSED_URL,
      lokiUrl: CLOSED_URL,
      discordApiBaseUrl: discord.apiBaseUrl,
      discordToken: DOUBLE_TOKEN,
      webhookToken: TOKEN,
      channelId: '923456789012346999',
      enrichmentTimeout: '500ms',
      sections: {
        charts: { enabled: false },
        routes: [
          {
            name: 'db',
            channelId: CHANNEL,
            mentions: { roles: [PAGE_ROLE] },
            escalation: { after: `${AFTER_MS / 1000}s`, roles: [ESCALATION_ROLE], repeat: 2 },
          },
        ],
      },
    };
    const first = await startBot(settings);
    bots.push(first);
    const res = await fetch(`${first.url}/webhooks/alertmanager/db`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: firingNotification('DbDown'),
    });
    expect(res.status).toBe(202);
    const message = await eventually('the paging alert message', () => [...discord.messages.values()].find((m) => m.channel_id === CHANNEL));
    expect(message.content).toBe(`🔔 <@&${PAGE_ROLE}>`);
    await eventually('the first escalation ping', () => (escalations().length >= 1 ? true : undefined), 10_000, 50);
    await first.kill('SIGKILL');

    const second = await startBot(settings, first.port);
    bots.push(second);
    await eventually('the second escalation ping', () => (escalations().length >= 2 ? true : undefined), 15_000);
    // Longer than another interval: nothing more comes (repeat: 2), and step 1 was not sent again.
    await sleep(AFTER_MS + 1500);
    const pings = escalations();
    expect(pings.map((m) => /\((\d)\/2\)/.exec(m.content ?? '')?.[1])).toEqual(['1', '2']);
    expect(pings.every((m) => m.channel_id !== CHANNEL)).toBe(true);
    const sent = discord.requests.filter((r) => r.operationId === 'create_message' && JSON.stringify(r.body ?? {}).includes('⏫'));
    for (const r of sent) expect((r.body as { allowed_mentions?: unknown }).allowed_mentions).toEqual({ parse: [], roles: [ESCALATION_ROLE], users: [] });
    expect(discord.invalid).toEqual([]);
  }, 60_000);
});
