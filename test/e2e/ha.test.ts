// High availability end to end: two `vigil serve` replicas on one real PostgreSQL, behind two real
// Alertmanagers (an HA pair without gossip: each sends every notification) whose receiver lists
// both replicas, so every notification arrives four times. 200 alerts; the leader is killed with
// SIGKILL while it delivers. Every alert must be posted exactly once, the survivor must finish
// within 15 s of the kill, and an escalation and a digest scheduled before the kill fire once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIMessage } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOUBLE_TOKEN, startDiscordDouble, type DiscordDouble } from '../support/discord-double.js';
import { freePort } from '../support/ports.js';
import { startPostgres, type PostgresHandle } from '../support/postgres.js';
import { startAlertmanager, type AlertmanagerHandle, type PostableAlert } from '../support/procs.js';
import { eventually, sleep, startBot, type BotProcess, type BotSettings } from './bot.js';

const CHANNEL = '423456789012345678';
const ESCALATION_ROLE = '523456789012345678';
const WEBHOOK_TOKEN = 'ha-e2e-webhook-token-0123456789abcdef';
const ALERTS = 200;
const BATCHES = 8;
const LEASE_TTL = '3s';

let pg: PostgresHandle;
let discord: DiscordDouble;
const alertmanagers: AlertmanagerHandle[] = [];
const bots: BotProcess[] = [];
const dirs: string[] = [];
/** When the digest is due: a daily schedule whose only slot in this test comes after the kill. */
let digestAt: Date;

const title = (m: APIMessage) => m.embeds[0]?.title ?? '';
const channelMessages = () => [...discord.messages.values()].filter((m) => m.channel_id === CHANNEL);
/** How many channel messages name each alert (`HaAlert<i>` in the title). */
function postsPerAlert(): Map<number, number> {
  const counts = new Map<number, number>();
  for (const m of channelMessages()) {
    const i = /\bHaAlert(\d+)\b/.exec(title(m))?.[1];
    if (i !== undefined) counts.set(Number(i), (counts.get(Number(i)) ?? 0) + 1);
  }
  return counts;
}
const everything = () => [...discord.messages.values()];
const escalations = () => everything().filter((m) => m.content.includes(`<@&${ESCALATION_ROLE}>`));
const digests = () => everything().filter((m) => title(m).startsWith('📊 Daily digest'));

function alert(i: number): PostableAlert {
  return {
    labels: { alertname: `HaAlert${i}`, instance: `host-${i}.ha:9100`, severity: 'warning', ...(i === 0 ? { escalate: 'yes' } : {}) },
    annotations: { summary: `ha alert ${i}` },
  };
}

async function health(bot: BotProcess): Promise<{ storage: string; cluster: { replica: string; leader: boolean; leaderId?: string; replicas: unknown[] } }> {
  const res = await fetch(`${bot.url}/healthz`);
  return (await res.json()) as never;
}

beforeAll(async () => {
  pg = await startPostgres();
  discord = await startDiscordDouble({ channels: [CHANNEL], rateLimits: false });
  const ports = [await freePort(), await freePort()];
  const at = new Date(Date.now() + 40_000);
  digestAt = new Date(Math.ceil(at.getTime() / 1000) * 1000);
  for (const [n, port] of ports.entries()) {
    const dir = mkdtempSync(join(tmpdir(), `vigil-e2e-ha-${n}-`));
    dirs.push(dir);
    const settings: BotSettings = {
      dir,
      // Nothing listens on port 9: enrichment fails fast, as in an outage; the test is about delivery.
      prometheusUrl: 'http://127.0.0.1:9',
      lokiUrl: 'http://127.0.0.1:9',
      discordApiBaseUrl: discord.apiBaseUrl,
      discordToken: DOUBLE_TOKEN,
      webhookToken: WEBHOOK_TOKEN,
      channelId: CHANNEL,
      enrichmentTimeout: '1s',
      sections: {
        storage: { url: pg.url },
        cluster: { leaseTtl: LEASE_TTL },
        charts: { enabled: false },
        discord: { threads: false },
        delivery: { storm: { enabled: false } },
        routes: [
          {
            name: 'escalating',
            matchers: ['escalate="yes"'],
            channelId: CHANNEL,
            escalation: { after: '25s', roles: [ESCALATION_ROLE], repeat: 1 },
          },
        ],
        digest: { schedule: `${digestAt.getUTCSeconds()} ${digestAt.getUTCMinutes()} ${digestAt.getUTCHours()} * * *`, timezone: 'UTC' },
      },
    };
    bots.push(await startBot(settings, port));
  }
  const urls = ports.map((p) => `http://127.0.0.1:${p}/webhooks/alertmanager`);
  for (let i = 0; i < 2; i++) {
    alertmanagers.push(await startAlertmanager({ webhookUrl: urls[0]!, moreWebhookUrls: [urls[1]!], bearerToken: WEBHOOK_TOKEN, groupBy: ['...'] }));
  }
}, 120_000);

afterAll(async () => {
  for (const bot of bots) await bot.kill('SIGTERM');
  for (const am of alertmanagers) await am.stop();
  await discord?.stop();
  await pg?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('two replicas on PostgreSQL, the leader killed mid-delivery', () => {
  it('posts every alert exactly once, finishes within 15 s of the kill, and fires an escalation and a digest once', async () => {
    // Exactly one replica leads, and both say which one.
    const leaderId = await eventually(
      'one replica to lead',
      async () => {
        const both = await Promise.all(bots.map(health));
        const leaders = both.filter((h) => h.cluster.leader);
        return leaders.length === 1 && both.every((h) => h.cluster.leaderId === leaders[0]!.cluster.replica) ? leaders[0]!.cluster.replica : undefined;
      },
      20_000,
      100,
    );
    const healths = await Promise.all(bots.map(health));
    expect(healths.map((h) => h.storage)).toEqual(['postgres', 'postgres']);
    expect(healths[0]!.cluster.replicas).toHaveLength(2);
    const leaderIndex = healths.findIndex((h) => h.cluster.replica === leaderId);
    const leader = bots[leaderIndex]!;
    const survivor = bots[1 - leaderIndex]!;

    // Prometheus sends each alert to both Alertmanagers, as with an HA pair.
    const send = (alerts: PostableAlert[]) => Promise.all(alertmanagers.map((am) => am.postAlerts(alerts)));
    const perBatch = ALERTS / BATCHES;
    let sent = 0;
    for (; sent < BATCHES / 2; sent++) await send(Array.from({ length: perBatch }, (_, k) => alert(sent * perBatch + k)));
    // The leader is delivering: some alerts are in Discord, most are not.
    await eventually('the leader to have delivered a few alerts', async () => (postsPerAlert().size >= 20 ? true : undefined), 30_000, 20);
    const killedAt = Date.now();
    await leader.kill('SIGKILL');
    const deliveredAtKill = postsPerAlert().size;
    expect(deliveredAtKill).toBeLessThan(ALERTS);
    // The rest of the alerts arrive while only the survivor is up.
    for (; sent < BATCHES; sent++) await send(Array.from({ length: perBatch }, (_, k) => alert(sent * perBatch + k)));

    await eventually('every alert to be in Discord', async () => (postsPerAlert().size === ALERTS ? true : undefined), 30_000, 20);
    const finishedAt = Date.now();
    expect(finishedAt - killedAt).toBeLessThanOrEqual(15_000);

    // The survivor leads now.
    const after = await health(survivor);
    expect(after.cluster).toMatchObject({ leader: true, leaderId: after.cluster.replica });

    // The escalation was scheduled (its incident opened) before the kill, the digest armed before it.
    await eventually('the escalation ping', async () => (escalations().length > 0 ? true : undefined), 60_000, 100);
    await eventually('the digest', async () => (digests().length > 0 ? true : undefined), Math.max(5_000, digestAt.getTime() - Date.now() + 15_000), 100);
    // Anything posted twice would show by now.
    await sleep(4_000);
    const counts = postsPerAlert();
    const twice = [...counts].filter(([, n]) => n !== 1).map(([i]) => `HaAlert${i}`);
    expect(twice).toEqual([]);
    expect(counts.size).toBe(ALERTS);
    expect(escalations()).toHaveLength(1);
    expect(digests()).toHaveLength(1);
    expect(discord.invalid).toEqual([]);
    // Nothing stays pending or failed in the shared store.
    const survivorHealth = (await (await fetch(`${survivor.url}/healthz`)).json()) as { pendingNotifications: number; pendingDeliveries: number };
    expect(survivorHealth).toMatchObject({ pendingNotifications: 0, pendingDeliveries: 0 });
  }, 180_000);
});
