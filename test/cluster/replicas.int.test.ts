// Two Vigils in this process on one real PostgreSQL, in gateway mode: only the leader holds the
// gateway session and delivers, both take webhooks; the lead moves when the leader stops, and a
// leader whose lease is taken from it stops its work.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVigil, type Vigil } from '../../src/main.js';
import { createLogger } from '../../src/log.js';
import { LEADER_LEASE } from '../../src/cluster/leader.js';
import { openPostgres } from '../../src/store/postgres.js';
import { BOT_WEBHOOK_TOKEN, botConfig } from '../support/bot-config.js';
import { DOUBLE_TOKEN, startDiscordDouble, type DiscordDouble } from '../support/discord-double.js';
import { eventually } from '../support/eventually.js';
import { startGatewayDouble, type GatewayDouble } from '../support/gateway-double.js';
import {
  buttonInteraction,
  commandInteraction,
  generateTestKeys,
  sendInteraction,
  TEST_APPLICATION_ID,
  TEST_CHANNEL_ID,
  type TestKeys,
} from '../support/interactions.js';
import { startPostgres, type PostgresHandle } from '../support/postgres.js';

const logger = createLogger({ level: 'silent', secrets: [] });

let pg: PostgresHandle;
let discord: DiscordDouble;
let gateway: GatewayDouble;
const dirs: string[] = [];
const started: Vigil[] = [];
const deposed: string[] = [];

async function replica(opts: { url?: string; keys?: TestKeys } = {}): Promise<Vigil> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-replica-'));
  dirs.push(dir);
  const config = botConfig({
    dir,
    discordApiBaseUrl: discord.apiBaseUrl,
    mode: opts.keys ? 'http' : 'gateway',
    ...(opts.keys ? { publicKeyHex: opts.keys.publicKeyHex } : {}),
    sections: {
      storage: { url: opts.url ?? pg.url },
      cluster: { leaseTtl: '1s' },
      charts: { enabled: false },
      delivery: { minBackoff: '50ms', maxBackoff: '1s', pollInterval: '50ms' },
    },
  });
  const vigil = await startVigil(config, { logger, onDeposed: (why) => void deposed.push(why) });
  started.push(vigil);
  return vigil;
}

const ready = async (v: Vigil) => (await fetch(`http://127.0.0.1:${v.port}/readyz`)).status;

function firing(alertname: string): string {
  return JSON.stringify({
    version: '4',
    groupKey: `{}:{alertname="${alertname}"}`,
    status: 'firing',
    receiver: 'vigil',
    groupLabels: { alertname },
    commonLabels: { alertname },
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    truncatedAlerts: 0,
    alerts: [
      {
        status: 'firing',
        labels: { alertname, instance: 'host:9100' },
        annotations: { summary: `${alertname} fires` },
        startsAt: new Date().toISOString(),
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus:9090/graph',
        fingerprint: `fp-${alertname}`,
      },
    ],
  });
}

beforeAll(async () => {
  pg = await startPostgres();
  discord = await startDiscordDouble();
  gateway = await startGatewayDouble({ token: DOUBLE_TOKEN, user: discord.botUser, applicationId: TEST_APPLICATION_ID, heartbeatIntervalMs: 300 });
  discord.setGatewayUrl(gateway.url);
}, 90_000);

afterAll(async () => {
  for (const v of started) await v.stop().catch(() => undefined);
  await gateway?.stop();
  await discord?.stop();
  await pg?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

// Deadlines, not speed targets: generous, as other suites start servers on the same cores meanwhile.
describe('replicas on PostgreSQL in gateway mode', () => {
  it('lets the leader alone hold the gateway session and deliver, while the follower takes webhooks and is ready', async () => {
    const a = await replica();
    await eventually('the first replica to lead', () => (a.cluster?.isLeader() ? true : undefined), 30_000);
    const b = await replica();
    await a.gateway!.ready();
    // The follower tries for the lease every fifth of it: give it several tries.
    await new Promise((r) => setTimeout(r, 1000));
    expect(b.cluster?.isLeader()).toBe(false);
    expect(gateway.identifies).toHaveLength(1);
    expect(b.gateway!.notConnected()).toBeDefined();
    expect([await ready(a), await ready(b)]).toEqual([200, 200]);

    // A webhook taken by the follower is delivered by the leader.
    const res = await fetch(`http://127.0.0.1:${b.port}/webhooks/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BOT_WEBHOOK_TOKEN}` },
      body: firing('ViaFollower'),
    });
    expect(res.status).toBe(202);
    await eventually(
      'the alert in Discord',
      () =>
        [...discord.messages.values()].some((m) => m.channel_id === TEST_CHANNEL_ID && (m.embeds[0]?.title ?? '').includes('ViaFollower')) ? true : undefined,
      30_000,
    );
    expect(discord.invalid).toEqual([]);
  }, 90_000);

  it('moves the lead and the gateway session to the follower when the leader stops', async () => {
    const [a, b] = started as [Vigil, Vigil];
    await a.stop();
    await eventually('the follower to lead', () => (b.cluster?.isLeader() ? true : undefined), 5_000);
    await b.gateway!.ready();
    expect(gateway.identifies).toHaveLength(2);
  }, 30_000);

  it('stops the work of a leader whose lease another replica took', async () => {
    const b = started[1]!;
    const db = await openPostgres(pg.url);
    try {
      await db.run(`UPDATE leases SET holder = 'someone-else', expires_at = ? WHERE name = ?`, Date.now() + 60_000, LEADER_LEASE);
    } finally {
      await db.close();
    }
    await eventually('the leader to step down', () => (deposed.length > 0 ? true : undefined), 5_000);
    expect(deposed).toEqual(['another replica took the leader lease']);
    expect(b.cluster?.isLeader()).toBe(false);
    await eventually('its gateway session to close', () => (b.gateway!.notConnected() === 'gateway stopped' ? true : undefined), 5_000);
    // No session is left to take an interaction, and this replica does not try for the lease again.
    expect(gateway.sendInteraction(commandInteraction('health'))).toBe(0);
    await new Promise((r) => setTimeout(r, 600));
    expect(b.cluster?.isLeader()).toBe(false);
  }, 30_000);
});

describe('replicas on PostgreSQL with HTTP interactions', () => {
  it("takes a button press on the follower: the ack is stored for both, and the leader delivers the thread's note", async () => {
    const keys = generateTestKeys();
    const url = await pg.createDatabase('http_replicas');
    const leader = await replica({ url, keys });
    await eventually('the first replica to lead', () => (leader.cluster?.isLeader() ? true : undefined), 30_000);
    const follower = await replica({ url, keys });
    const res = await fetch(`http://127.0.0.1:${follower.port}/webhooks/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BOT_WEBHOOK_TOKEN}` },
      body: firing('AckOnFollower'),
    });
    expect(res.status).toBe(202);
    const message = await eventually(
      'the alert message',
      () => [...discord.messages.values()].find((m) => m.channel_id === TEST_CHANNEL_ID && (m.embeds[0]?.title ?? '').includes('AckOnFollower')),
      30_000,
    );
    const row = (message.components ?? [])[0] as { components: Array<{ label?: string; custom_id?: string }> } | undefined;
    const ack = row?.components.find((c) => c.label === 'Acknowledge')?.custom_id;
    if (!ack) throw new Error('no Acknowledge button on the alert message');
    const pressed = await sendInteraction(`http://127.0.0.1:${follower.port}`, buttonInteraction(ack, message), { keys, discord });
    expect(pressed.errors).toEqual([]);
    // The note goes through the shared outbox: the leader's drainer posts it in the incident's thread.
    await eventually(
      'the acknowledgement in the thread',
      () => [...discord.messages.values()].find((m) => m.channel_id === message.id && m.content.startsWith('👀 Acknowledged by')),
      30_000,
    );
    // Pressed again on the leader: it reads the ack the follower stored.
    const again = await sendInteraction(`http://127.0.0.1:${leader.port}`, buttonInteraction(ack, message), { keys, discord });
    expect(again.record.original?.content).toContain('Already acknowledged');
    expect(discord.invalid).toEqual([]);
  }, 90_000);
});
