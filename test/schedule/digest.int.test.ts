import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIEmbed, APIMessage } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { configSecrets, startVigil, type Vigil } from '../../src/main.js';
import type { InstantSample } from '../../src/queries/prometheus.js';
import { DIGEST_QUERIES, downTargets, hostHeadroom } from '../../src/schedule/digest.js';
import { acknowledge } from '../../src/store/acks.js';
import { pendingNotificationCount } from '../../src/store/notifications.js';
import { pendingCount } from '../../src/store/outbox.js';
import { botConfig, FAST_DELIVERY } from '../support/bot-config.js';
import { DOUBLE_TOKEN, startDiscordDouble, type DiscordDouble } from '../support/discord-double.js';
import { freePort } from '../support/ports.js';
import { startNodeExporter, startPrometheus, type NodeExporterHandle, type PrometheusHandle } from '../support/procs.js';
import { eventually } from '../support/eventually.js';

const CHANNEL = '223456789012345678';
const WEBHOOK_TOKEN = 'digest-test-webhook-token-0123456789';
const FIXTURES = new URL('../fixtures/webhooks/', import.meta.url);
const MIN = 60_000;

type Fixture = Record<string, unknown> & { alerts: Array<Record<string, unknown> & { labels: Record<string, string> }> };
const fixture = (name: string): Fixture => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Fixture;

describe('hostHeadroom and downTargets (joining Prometheus series)', () => {
  const s = (labels: Record<string, string>, value: number): InstantSample => ({ labels, value, at: new Date(0) });

  it("picks each host's fullest filesystem and joins its memory", () => {
    const hosts = hostHeadroom(
      [s({ instance: 'a', device: '/dev/sda1', mountpoint: '/' }, 50), s({ instance: 'a', device: '/dev/sdb', mountpoint: '/data' }, 5)],
      [s({ instance: 'a', device: '/dev/sda1', mountpoint: '/' }, 100), s({ instance: 'a', device: '/dev/sdb', mountpoint: '/data' }, 100)],
      [s({ instance: 'a' }, 30), s({ instance: 'b' }, 10)],
      [s({ instance: 'a' }, 60), s({ instance: 'b' }, 0)],
    );
    expect(hosts).toEqual([{ instance: 'a', disk: { mountpoint: '/data', freeRatio: 0.05, freeBytes: 5 }, memory: { freeRatio: 0.5, freeBytes: 30 } }]);
  });

  it('marks the targets down now and keeps ones that went down after the last range evaluation', () => {
    const t = downTargets(
      [s({ job: 'api', instance: 'x:1' }, 0.9), s({ job: 'db', instance: 'y:2' }, 0)],
      [s({ job: 'db', instance: 'y:2' }, 0), s({ job: 'new', instance: 'z:3' }, 0)],
    );
    expect(t).toEqual([
      { job: 'api', instance: 'x:1', downNow: false, availability: 0.9 },
      { job: 'db', instance: 'y:2', downNow: true, availability: 0 },
      { job: 'new', instance: 'z:3', downNow: true },
    ]);
  });
});

describe('daily digest against real webhook deliveries and a real Prometheus', () => {
  let dir: string;
  let nodeExporter: NodeExporterHandle;
  let prometheus: PrometheusHandle;
  let discord: DiscordDouble;
  let vigil: Vigil;
  let ghost: string;
  let nodeInstance: string;
  const logLines: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-digest-'));
    nodeExporter = await startNodeExporter();
    nodeInstance = `127.0.0.1:${nodeExporter.port}`;
    // Nothing listens on the ghost target's port: Prometheus records up == 0 for it.
    ghost = `127.0.0.1:${await freePort()}`;
    prometheus = await startPrometheus({
      scrapeConfigs: [
        { job: 'node', targets: [nodeInstance] },
        { job: 'ghost', targets: [ghost] },
      ],
    });
    discord = await startDiscordDouble({ token: DOUBLE_TOKEN, channels: [CHANNEL] });
    const config = botConfig({
      dir,
      discordApiBaseUrl: discord.apiBaseUrl,
      channelId: CHANNEL,
      prometheusUrl: prometheus.url,
      lokiUrl: `http://127.0.0.1:${await freePort()}`,
      webhookToken: WEBHOOK_TOKEN,
      sections: {
        enrichment: { timeout: '1s' },
        delivery: FAST_DELIVERY,
        watchdog: { enabled: false },
        digest: { schedule: '0 9 * * *', timezone: 'Europe/Berlin' },
        snapshots: { retain: 2, dataDir: join(prometheus.dir, 'data') },
        log: { level: 'debug' },
      },
    });
    const logger = createLogger({ level: 'debug', secrets: configSecrets(config) }, { write: (s: string) => void logLines.push(s) });
    vigil = await startVigil(config, { logger });
    await prometheus.waitFor(`up{job="ghost"} == 0`);
    await prometheus.waitFor(`node_filesystem_avail_bytes{instance="${nodeInstance}"}`);
    await prometheus.waitFor(`node_memory_MemAvailable_bytes{instance="${nodeInstance}"}`);
  }, 90_000);

  afterAll(async () => {
    await vigil?.stop();
    await prometheus?.stop();
    await nodeExporter?.stop();
    await discord?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function post(path: string, body: unknown): Promise<void> {
    const res = await fetch(`http://127.0.0.1:${vigil.port}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
      body: JSON.stringify(body),
    });
    expect(res.status, await res.text()).toBeLessThan(300);
  }

  const digests = () => [...discord.messages.values()].filter((m: APIMessage) => m.embeds?.[0]?.title?.startsWith('📊 Daily digest'));

  it('posts the counts, noisiest rules, mean times, the down target and host headroom', async () => {
    const t0 = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    // 1. Alertmanager: two HostHighCpuLoad alerts fire 30 minutes ago...
    const amFiring = fixture('alertmanager-firing.json');
    for (const a of amFiring.alerts) a['startsAt'] = iso(t0 - 30 * MIN);
    await post('/webhooks/alertmanager', amFiring);
    // 2. ...and resolve 10 minutes ago (20 minutes to resolve).
    const amResolved = fixture('alertmanager-resolved.json');
    for (const a of amResolved.alerts) {
      a['startsAt'] = iso(t0 - 30 * MIN);
      a['endsAt'] = iso(t0 - 10 * MIN);
    }
    await post('/webhooks/alertmanager', amResolved);
    // 3. Grafana: two alerts (High memory usage, High CPU usage) firing since 20 minutes ago.
    const grafana = fixture('grafana-firing.json');
    for (const a of grafana.alerts) a['startsAt'] = iso(t0 - 20 * MIN);
    await post('/webhooks/grafana', grafana);
    // 4. Alertmanager: one DiskAlmostFull alert, a group of its own, still firing.
    const disk = fixture('alertmanager-firing.json');
    disk.alerts = disk.alerts.slice(0, 1).map((a) => ({
      ...a,
      labels: { ...a.labels, alertname: 'DiskAlmostFull' },
      fingerprint: 'd15cf011d15cf011',
      startsAt: iso(t0 - 5 * MIN),
    }));
    disk['groupKey'] = '{}:{alertname="DiskAlmostFull"}';
    disk['groupLabels'] = { alertname: 'DiskAlmostFull' };
    disk['commonLabels'] = { ...(disk['commonLabels'] as Record<string, string>), alertname: 'DiskAlmostFull' };
    await post('/webhooks/alertmanager', disk);

    await eventually('the pipeline and the outbox to settle', async () =>
      (await pendingNotificationCount(vigil.db)) === 0 && (await pendingCount(vigil.db)) === 0 ? true : undefined,
    );
    // The on-call engineer acknowledged the CPU incident 4 minutes after it started.
    const cpu = (await vigil.db.get<{ id: number; started_at: number }>(`SELECT id, started_at FROM incidents WHERE group_key = ?`, amFiring['groupKey']))!;
    await acknowledge(vigil.db, cpu.id, { userId: '1', username: 'ana', at: new Date(cpu.started_at + 4 * MIN) });

    expect(await vigil.scheduler.runNow('snapshots')).toBe('ok');
    expect(await vigil.scheduler.runNow('digest')).toBe('ok');
    const message = await eventually('the digest at the Discord double', () => digests()[0]);
    expect(message.channel_id).toBe(CHANNEL);
    const embed: APIEmbed = message.embeds[0]!;
    const field = (prefix: string) => embed.fields?.find((f) => f.name.includes(prefix))?.value ?? '';

    expect(embed.description).toContain('🔥 **5** alerts fired · ✅ **2** resolved · 3 new incidents');
    expect(embed.description).toContain('🔴 **3** still firing in 2 open incidents');
    expect(embed.description).toContain('⏱️ Acknowledged in **4m** on average (1 incident)');
    expect(embed.description).toContain('🩹 Resolved in **20m** on average (1 incident)');
    expect(field('Noisiest').split('\n')).toEqual([
      '1. **HostHighCpuLoad** · 2 alerts',
      '2. **DiskAlmostFull** · 1 alert',
      '3. **High CPU usage** · 1 alert',
      '4. **High memory usage** · 1 alert',
    ]);
    expect(field('Targets down')).toContain(`🔴 **ghost** \`${ghost}\` · down now · 0% up`);
    expect(field('Targets down')).not.toContain(nodeInstance);
    const hostLine = field('Free now')
      .split('\n')
      .find((l) => l.includes(`\`${nodeInstance}\``));
    expect(hostLine).toMatch(/💽 \d+(\.\d+)?% \([\d.]+ [KMGT]iB on `\/[^`]*`\) · 🧠 \d+(\.\d+)?% \([\d.]+ [KMGT]iB\)/);
    const snapshot = (await vigil.db.get<{ detail: string }>(`SELECT detail FROM scheduled_runs WHERE job = 'snapshots' AND outcome = 'ok'`))!;
    expect(field('snapshots')).toContain(`✅ \`${(JSON.parse(snapshot.detail) as { snapshot: string }).snapshot}\``);
    expect(embed.footer?.text).toMatch(/^📨 4 webhooks in · 📤 \d+ messages sent$/);
    expect(embed.title).toMatch(/^📊 Daily digest · \w{3} \d{1,2} \w{3}$/);
    expect(discord.invalid).toEqual([]);
  }, 60_000);

  it('asks Prometheus exactly the documented queries, and they are valid PromQL for it', async () => {
    for (const expr of Object.values(DIGEST_QUERIES)) await expect(prometheus.query(expr)).resolves.toBeDefined();
  });
});
