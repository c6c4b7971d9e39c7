// A storm through the whole bot: a real Alertmanager (every alert a group of its own) sends a
// burst of alert groups to `vigil serve`, which delivers to the Discord double with Discord's rate
// limits; the bot is killed with SIGKILL mid-storm and restarted. Every alert must be named in
// Discord exactly once, the critical alert must get its own message, and the channel must stay
// short.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIMessage } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOUBLE_TOKEN, startDiscordDouble, type DiscordDouble } from '../support/discord-double.js';
import { startLokiDouble, type LokiDoubleHandle } from '../support/loki-double.js';
import { listedInstances } from '../render/helpers.js';
import { freePort } from '../support/ports.js';
import { startAlertmanager, type AlertmanagerHandle, type PostableAlert } from '../support/procs.js';
import { eventually, sleep, startBot, type BotProcess, type BotSettings } from './bot.js';

const CHANNEL = '323456789012345678';
const WEBHOOK_TOKEN = 'storm-e2e-webhook-token-0123456789';
const ALERTS = 240;

let discord: DiscordDouble;
let loki: LokiDoubleHandle;
let alertmanager: AlertmanagerHandle;
let bot: BotProcess;
let settings: BotSettings;
let port: number;
let dir: string;

function text(m: APIMessage): string {
  return [m.content, ...m.embeds.map((e) => [e.title, e.description, ...(e.fields ?? []).map((f) => `${f.name} ${f.value}`)].join('\n'))].join('\n');
}

const isStormMessage = (m: APIMessage) => /^🌩️|^🌤️/.test(m.embeds[0]?.title ?? '') || m.content.startsWith('🌤️');
const isDetails = (m: APIMessage) => (m.embeds[0]?.title ?? '').startsWith('Storm alerts ');

function alert(i: number): PostableAlert {
  return {
    labels: { alertname: `StormAlert${i % 4}`, instance: `host-${i}.storm:9100`, severity: 'warning', job: 'node' },
    annotations: { summary: `storm alert ${i}` },
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-storm-'));
  discord = await startDiscordDouble({ channels: [CHANNEL] });
  loki = await startLokiDouble();
  port = await freePort();
  settings = {
    dir,
    // Nothing listens on port 9: the first incidents' enrichment fails fast, as in an outage.
    prometheusUrl: 'http://127.0.0.1:9',
    lokiUrl: loki.url,
    discordApiBaseUrl: discord.apiBaseUrl,
    discordToken: DOUBLE_TOKEN,
    webhookToken: WEBHOOK_TOKEN,
    channelId: CHANNEL,
    enrichmentTimeout: '1s',
    sections: { charts: { enabled: false }, delivery: { storm: { quiet: '6s' } } },
  };
  bot = await startBot(settings, port);
  alertmanager = await startAlertmanager({
    webhookUrl: `http://127.0.0.1:${port}/webhooks/alertmanager`,
    bearerToken: WEBHOOK_TOKEN,
    groupBy: ['...'],
  });
}, 90_000);

afterAll(async () => {
  await bot?.kill('SIGTERM');
  await alertmanager?.stop();
  await loki?.stop();
  await discord?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('an alert storm through a real Alertmanager, within Discord rate limits', () => {
  it('names every alert once, shows the critical one on its own, and survives a SIGKILL mid-storm', async () => {
    // The burst: ALERTS alerts in 8 batches, a critical one in the middle.
    for (let b = 0; b < 8; b++) {
      const batch = Array.from({ length: ALERTS / 8 }, (_, k) => alert(b * (ALERTS / 8) + k));
      if (b === 4)
        batch.push({ labels: { alertname: 'DatabaseDown', instance: 'db-1:5432', severity: 'critical' }, annotations: { summary: 'the database is down' } });
      await alertmanager.postAlerts(batch);
      await sleep(250);
    }

    // Mid-storm: the storm message is in the channel, much is still on its way. Kill -9.
    await eventually('the storm message', () => [...discord.messages.values()].find((m) => m.channel_id === CHANNEL && isStormMessage(m)), 30_000);
    // Every alert named: in a message of its own incident, or in exactly one storm details message.
    const namedEverywhere = () => {
      const messages = [...discord.messages.values()];
      const listed = messages.filter(isDetails).flatMap((m) => listedInstances(m.embeds.map((e) => e.description ?? '').join('\n')));
      const own = messages.filter((m) => m.channel_id === CHANNEL && !isStormMessage(m)).map(text);
      for (let i = 0; i < ALERTS; i++) {
        const name = `host-${i}.storm:9100`;
        const inDetails = listed.filter((l) => l === name).length;
        const inOwn = own.some((t) => t.includes(name));
        if (!((inDetails === 1 && !inOwn) || (inDetails === 0 && inOwn))) return undefined;
      }
      return true;
    };
    const refusedBeforeKill = discord.rateLimiter!.refusedTotal();
    // Really mid-storm: not every alert is named yet when the bot dies.
    expect(namedEverywhere()).toBeUndefined();
    await bot.kill('SIGKILL');
    bot = await startBot(settings, port);
    await eventually('every alert named exactly once', namedEverywhere, 90_000, 500);

    const channel = [...discord.messages.values()].filter((m) => m.channel_id === CHANNEL);
    // The critical alert: a message of its own, never folded into the storm.
    expect(channel.filter((m) => m.embeds[0]?.title?.includes('DatabaseDown'))).toHaveLength(1);
    // One storm message however many alerts joined it, and few top-level messages in all.
    expect(channel.filter((m) => /^🌩️|^🌤️/.test(m.embeds[0]?.title ?? ''))).toHaveLength(1);
    expect(channel.length).toBeLessThanOrEqual(10);
    // Details in batches of many alerts (a part batch after its hold, and across the restart), never one message per alert.
    const details = [...discord.messages.values()].filter(isDetails);
    expect(details.length).toBeLessThanOrEqual(Math.ceil(ALERTS / 40));
    // No details batch was posted twice across the restart.
    const titles = details.map((m) => `${m.channel_id} ${m.embeds[0]!.title}`);
    expect(new Set(titles).size).toBe(titles.length);
    // Nothing sent that Discord refused before the kill; the restarted bot learns the buckets anew (at most a 429 per bucket).
    expect(refusedBeforeKill).toBe(0);
    expect(discord.rateLimiter!.refusedTotal()).toBeLessThanOrEqual(3);
    expect(discord.invalid).toEqual([]);

    // The storm ends after its quiet time: the message says so and a reply sums it up.
    const summary = await eventually(
      'the closing summary',
      () => channel.concat([...discord.messages.values()]).find((m) => m.content.startsWith('🌤️ **Storm over**')),
      30_000,
    );
    expect(summary.content).toMatch(/still firing/);
    await eventually('the storm message marked over', () =>
      [...discord.messages.values()].find((m) => m.channel_id === CHANNEL && (m.embeds[0]?.title ?? '').startsWith('🌤️ Alert storm over')),
    );
  }, 180_000);
});
