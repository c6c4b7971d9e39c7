import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIMessage } from 'discord-api-types/v10';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { configSecrets, startVigil, type Vigil } from '../../src/main.js';
import { pruneSnapshots, SNAPSHOT_JOB, snapshotsToPrune } from '../../src/schedule/snapshots.js';
import { runsSince } from '../../src/store/schedule.js';
import { botConfig, FAST_DELIVERY, type ConfigSections } from '../support/bot-config.js';
import { DOUBLE_TOKEN, startDiscordDouble, type DiscordDouble } from '../support/discord-double.js';
import { freePort } from '../support/ports.js';
import { startNodeExporter, startPrometheus, type NodeExporterHandle, type PrometheusHandle } from '../support/procs.js';
import { eventually } from '../support/eventually.js';

const CHANNEL = '223456789012345678';

describe('snapshotsToPrune', () => {
  const d = (name: string, mtimeMs = 0) => ({ name, mtimeMs });
  it.each([
    ['keeps the newest by the time in the name', [d('20261121T030000Z-aa'), d('20261119T030000Z-bb'), d('20261120T030000Z-cc')], 2, ['20261119T030000Z-bb']],
    ['keeps everything when there are fewer than retain', [d('20261121T030000Z-aa')], 7, []],
    ['orders two snapshots of the same second by modification time', [d('20261121T030000Z-ff', 1), d('20261121T030000Z-00', 2)], 1, ['20261121T030000Z-ff']],
    [
      'never lists a directory not named like a snapshot',
      [d('20261121T030000Z-aa'), d('important'), d('..'), d('20261120T030000Z-bb')],
      1,
      ['20261120T030000Z-bb'],
    ],
  ])('%s', (_name, dirs, retain, expected) => {
    expect(snapshotsToPrune(dirs, retain)).toEqual(expected);
  });

  it('explains a dataDir without a snapshots directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-nosnap-'));
    try {
      await expect(pruneSnapshots(dir, 2)).rejects.toThrow(`${join(dir, 'snapshots')} does not exist; is ${dir} Prometheus' --storage.tsdb.path`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('scheduled snapshots of a real Prometheus (--web.enable-admin-api)', () => {
  let prometheus: PrometheusHandle;
  let nodeExporter: NodeExporterHandle;
  let discord: DiscordDouble;
  const running: Array<{ vigil: Vigil; dir: string }> = [];

  beforeAll(async () => {
    // Something to scrape, so the head block holds samples and a snapshot has a block to write.
    nodeExporter = await startNodeExporter();
    prometheus = await startPrometheus({ scrapeConfigs: [{ job: 'node', targets: [`127.0.0.1:${nodeExporter.port}`] }] });
    await prometheus.waitFor('up{job="node"} == 1');
    discord = await startDiscordDouble({ token: DOUBLE_TOKEN, channels: [CHANNEL] });
  }, 60_000);

  afterEach(async () => {
    for (const r of running.splice(0)) {
      await r.vigil.stop();
      rmSync(r.dir, { recursive: true, force: true });
    }
  });

  afterAll(async () => {
    await prometheus?.stop();
    await nodeExporter?.stop();
    await discord?.stop();
  });

  /** Starts Vigil in-process with snapshots configured as given. */
  async function start(prometheusUrl: string, snapshots: ConfigSections['snapshots']): Promise<{ vigil: Vigil; logs: string[] }> {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-snapshots-'));
    const config = botConfig({
      dir,
      discordApiBaseUrl: discord.apiBaseUrl,
      channelId: CHANNEL,
      prometheusUrl,
      lokiUrl: `http://127.0.0.1:${await freePort()}`,
      webhookToken: 'snapshot-test-webhook-token-0123456789',
      sections: { delivery: FAST_DELIVERY, watchdog: { enabled: false }, digest: { timezone: 'UTC' }, snapshots },
    });
    const logs: string[] = [];
    const logger = createLogger({ level: 'debug', secrets: configSecrets(config) }, { write: (s: string) => void logs.push(s) });
    const vigil = await startVigil(config, { logger });
    running.push({ vigil, dir });
    return { vigil, logs };
  }

  const snapshotsDir = () => join(prometheus.dir, 'data', 'snapshots');
  const onDisk = () => (existsSync(snapshotsDir()) ? readdirSync(snapshotsDir()).sort() : []);
  const names = async (vigil: Vigil) =>
    (await runsSince(vigil.db, SNAPSHOT_JOB, new Date(0))).map((r) => (r.detail as { snapshot?: string } | undefined)?.snapshot ?? '?');

  it('creates snapshots through the admin API and prunes all but the `retain` newest', async () => {
    rmSync(snapshotsDir(), { recursive: true, force: true });
    // Something that is not a snapshot, which pruning must leave alone.
    mkdirSync(join(snapshotsDir(), 'keep-me'), { recursive: true });
    const { vigil } = await start(prometheus.url, { retain: 2, dataDir: join(prometheus.dir, 'data') });
    for (let i = 0; i < 3; i++) expect(await vigil.scheduler.runNow(SNAPSHOT_JOB)).toBe('ok');

    const [first, second, third] = await names(vigil);
    expect(onDisk()).toEqual(['keep-me', second, third].sort());
    expect(onDisk()).not.toContain(first);
    // Each kept one is a real snapshot Prometheus wrote (its head block, at least).
    for (const name of [second!, third!]) expect(readdirSync(join(snapshotsDir(), name)).length).toBeGreaterThan(0);
    const last = (await runsSince(vigil.db, SNAPSHOT_JOB, new Date(0))).at(-1);
    expect(last?.detail).toEqual({ snapshot: third, kept: 2, pruned: [first] });
    expect((await runsSince(vigil.db, SNAPSHOT_JOB, new Date(0))).map((r) => (r.detail as { pruned?: string[] }).pruned)).toEqual([[], [], [first]]);
  }, 60_000);

  it('prunes nothing without snapshots.dataDir (Prometheus has no API to delete a snapshot)', async () => {
    rmSync(snapshotsDir(), { recursive: true, force: true });
    const { vigil } = await start(prometheus.url, { retain: 1 });
    expect(await vigil.scheduler.runNow(SNAPSHOT_JOB)).toBe('ok');
    expect(await vigil.scheduler.runNow(SNAPSHOT_JOB)).toBe('ok');
    expect(onDisk()).toEqual((await names(vigil)).sort());
    expect(onDisk()).toHaveLength(2);
  }, 60_000);

  it("announces a failure in the alert channel with Prometheus' error, logs it, and counts it in the digest", async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const { vigil, logs } = await start(down, { retain: 2 });
    expect(await vigil.scheduler.runNow(SNAPSHOT_JOB)).toBe('error');

    const failure = await eventually('the snapshot failure message', () =>
      [...discord.messages.values()].find((m: APIMessage) => m.content.startsWith('⚠️ Prometheus snapshot failed:')),
    );
    expect(failure.channel_id).toBe(CHANNEL);
    expect(failure.content).toMatch(/^⚠️ Prometheus snapshot failed: Prometheus unreachable: .*ECONNREFUSED/);
    expect(logs.some((l) => l.includes('"level":50') && l.includes('scheduled job failed') && l.includes('"job":"snapshots"'))).toBe(true);
    const counted = (await vigil.metrics.scheduledJobRuns.get()).values.find((v) => v.labels.job === SNAPSHOT_JOB && v.labels.outcome === 'error');
    expect(counted?.value).toBe(1);

    expect(await vigil.scheduler.runNow('digest')).toBe('ok');
    const digest = await eventually('the digest message', () =>
      [...discord.messages.values()].find((m: APIMessage) => m.embeds?.[0]?.title?.startsWith('📊 Daily digest')),
    );
    const value = digest.embeds[0]!.fields?.find((f) => f.name.includes('snapshots'))?.value ?? '';
    expect(value).toContain('❌ Last run failed');
    expect(value).toContain('ECONNREFUSED');
    expect(value).toContain('❌ 1 failed run in 24h · 0 succeeded');
    expect(discord.invalid).toEqual([]);
  }, 60_000);
});
