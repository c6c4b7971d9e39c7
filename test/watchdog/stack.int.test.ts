/**
 * The watchdog inside a running Vigil, against the real Prometheus and Alertmanager of the harness,
 * the Loki double and the Discord double. The dead man's switch runs first, while the harness'
 * Prometheus is alive; the last test stops it. Rounds are driven with `vigil.watchdog.check()` (the
 * configured interval, 1h, never elapses during a test); the dead man's switch gets its silence from
 * an injected clock that the test moves forward.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIMessage } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { configSecrets, startVigil, type Vigil } from '../../src/main.js';
import { lastHeartbeat } from '../../src/store/heartbeats.js';
import { fixtureJson } from '../webhooks/fixtures.js';
import { botConfig, FAST_DELIVERY, type ConfigSections } from '../support/bot-config.js';
import { startDiscordDouble, type DiscordDouble } from '../support/discord-double.js';
import { startLokiDouble, type LokiDoubleHandle } from '../support/loki-double.js';
import {
  PROMETHEUS_BIN,
  startAlertmanager,
  startNodeExporter,
  startPrometheus,
  type AlertmanagerHandle,
  type NodeExporterHandle,
  type PrometheusHandle,
} from '../support/procs.js';
import { eventually } from '../support/eventually.js';

const WEBHOOK_TOKEN = 'watchdog-test-webhook-token-0123456789';
const ALERT_CHANNEL = '223456789012345678';
const WATCHDOG_CHANNEL = '423456789012345678';
const FAILURES = 3;
const HEARTBEAT = { heartbeat: { alertname: 'Watchdog', maxSilence: '10s' } };

let discord: DiscordDouble;
let loki: LokiDoubleHandle;
let nodeExporter: NodeExporterHandle;
let prometheus: PrometheusHandle;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  [discord, loki, nodeExporter] = await Promise.all([startDiscordDouble(), startLokiDouble(), startNodeExporter()]);
  prometheus = await startPrometheus({ scrapeConfigs: [{ job: 'node', targets: [`127.0.0.1:${nodeExporter.port}`] }] });
  await prometheus.waitFor('up{job="node"} == 1');
}, 60_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await Promise.all([prometheus?.stop(), nodeExporter?.stop(), loki?.stop(), discord?.stop()]);
});

/** A Vigil config through the real loader; the interval is long so only explicit checks run. */
function testConfig(dir: string, prometheusUrl: string, watchdog: ConfigSections['watchdog']): Config {
  return botConfig({
    dir,
    discordApiBaseUrl: discord.apiBaseUrl,
    channelId: ALERT_CHANNEL,
    prometheusUrl,
    lokiUrl: loki.url,
    webhookToken: WEBHOOK_TOKEN,
    sections: {
      enrichment: { timeout: '1s' },
      delivery: FAST_DELIVERY,
      watchdog: { interval: '1h', failuresBeforeAlert: FAILURES, channelId: WATCHDOG_CHANNEL, ...watchdog },
    },
  });
}

/** Starts Vigil in-process with a fresh store; stopped after the file. */
async function startTestVigil(prometheusUrl: string, watchdog: ConfigSections['watchdog'] = {}, now?: () => Date): Promise<Vigil> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-watchdog-'));
  const config = testConfig(dir, prometheusUrl, watchdog);
  const logger = createLogger({ level: 'silent', secrets: configSecrets(config) });
  const vigil = await startVigil(config, { logger, ...(now ? { now } : {}) });
  cleanups.push(async () => {
    await vigil.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return vigil;
}

/** Messages the double holds in a channel, oldest first. */
function messagesIn(channelId: string): APIMessage[] {
  return [...discord.messages.values()].filter((m) => m.channel_id === channelId).sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
}

/** The alert messages (with an embed) in a channel whose title names `alertname`. */
function alertMessages(channelId: string, alertname: string): APIMessage[] {
  return messagesIn(channelId).filter((m) => m.embeds[0]?.title?.includes(alertname));
}

/** Rows of Vigil-native notifications in the store. */
async function vigilNotifications(vigil: Vigil): Promise<number> {
  return (await vigil.db.get<{ n: number }>(`SELECT count(*) AS n FROM notifications WHERE source = 'vigil'`))!.n;
}

/** Runs the real Prometheus binary on a given port (the harness picks its own), for a restart in place. */
async function prometheusOnPort(configYaml: string, port: number): Promise<{ stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-watchdog-prom-'));
  writeFileSync(join(dir, 'prometheus.yml'), configYaml);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(https?|all|no)_proxy$/i.test(k)));
  const child: ChildProcess = spawn(
    PROMETHEUS_BIN,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { cwd: dir, env, stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return { stop };
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`Prometheus did not come back on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the dead man’s switch against the real Alertmanager', () => {
  it('keeps quiet while Alertmanager repeats the Watchdog alert, fires when Alertmanager stops, resolves when heartbeats resume', async () => {
    let offsetMs = 0;
    const now = () => new Date(Date.now() + offsetMs);
    const vigil = await startTestVigil(prometheus.url, HEARTBEAT, now);
    const watchdog = vigil.watchdog!;
    const webhookUrl = `http://127.0.0.1:${vigil.port}/webhooks/alertmanager`;

    const am = await startWatchdogAlertmanager(webhookUrl);
    const first = await eventually('the first heartbeat', () => lastHeartbeat(vigil.db, 'Watchdog'));
    expect(first.source).toBe('alertmanager');
    expect((await watchdog.check()).results.heartbeat).toEqual({ status: 'ok' });

    // Past maxSilence on the clock: only a heartbeat sent after the jump keeps the switch quiet.
    offsetMs += 11_000;
    const jumpedAt = now().getTime();
    await eventually('a repeated heartbeat', async () => {
      const hb = await lastHeartbeat(vigil.db, 'Watchdog');
      return hb && hb.lastSeen.getTime() >= jumpedAt ? hb : undefined;
    });
    expect((await watchdog.check()).results.heartbeat).toEqual({ status: 'ok' });

    // The heartbeat itself is never stored for the pipeline, so never posted.
    expect((await vigil.db.get<{ n: number }>(`SELECT count(*) AS n FROM notifications`))!.n).toBe(0);
    expect(alertMessages(WATCHDOG_CHANNEL, 'Watchdog')).toEqual([]);
    expect(alertMessages(ALERT_CHANNEL, 'Watchdog')).toEqual([]);

    await am.stop();
    offsetMs += 11_000;
    const silent = await watchdog.check();
    expect(silent.results.heartbeat).toMatchObject({ status: 'fail', error: expect.stringMatching(/^no Watchdog heartbeat for 1\ds$/) });
    const firing = await eventually('the dead man’s switch message', () => alertMessages(WATCHDOG_CHANNEL, 'AlertingPathBroken')[0]);
    expect(firing.embeds[0]!.title).toBe('🔥 FIRING: AlertingPathBroken');
    expect(firing.embeds[0]!.description).toMatch(/^\*\*The alerting path is broken: no Watchdog heartbeat for 1\ds\*\*\n/);

    // Silence goes on: no second message.
    offsetMs += 60_000;
    await watchdog.check();
    expect(await vigilNotifications(vigil)).toBe(1);

    const resumed = await startWatchdogAlertmanager(webhookUrl);
    cleanups.push(() => resumed.stop());
    const resumedAt = now().getTime();
    await eventually('a heartbeat from the new Alertmanager', async () => {
      const hb = await lastHeartbeat(vigil.db, 'Watchdog');
      return hb && hb.lastSeen.getTime() >= resumedAt ? hb : undefined;
    });
    expect((await watchdog.check()).events.map((e) => `${e.component}:${e.event.kind}`)).toEqual(['heartbeat:up']);
    const edited = await eventually('the resolved edit', () => {
      const m = discord.messages.get(firing.id);
      return m?.embeds[0]?.title?.startsWith('✅') ? m : undefined;
    });
    expect(edited.embeds[0]!.title).toBe('✅ RESOLVED: AlertingPathBroken');
    expect(discord.invalid).toEqual([]);
  }, 60_000);

  it('drops heartbeat alerts at intake with a named reason, from Grafana as from Alertmanager, and keeps the rest of a group', async () => {
    const vigil = await startTestVigil(prometheus.url, HEARTBEAT);
    const url = `http://127.0.0.1:${vigil.port}`;

    const grafana = fixtureJson('grafana-firing.json');
    for (const a of grafana.alerts) (a.labels as Record<string, string>).alertname = 'Watchdog';
    const onlyHeartbeats = await postWebhook(`${url}/webhooks/grafana`, grafana);
    expect(onlyHeartbeats).toEqual({ status: 202, body: { status: 'accepted', alerts: 0, dropped: { reason: 'heartbeat', alerts: 2 } } });
    expect((await lastHeartbeat(vigil.db, 'Watchdog'))?.source).toBe('grafana');

    const mixed = fixtureJson('alertmanager-firing.json');
    (mixed.alerts[0]!.labels as Record<string, string>).alertname = 'Watchdog';
    const kept = await postWebhook(`${url}/webhooks/alertmanager`, mixed);
    expect(kept).toMatchObject({ status: 202, body: { status: 'accepted', duplicate: false, alerts: 1, dropped: { reason: 'heartbeat', alerts: 1 } } });
    const stored = await vigil.db.all<{ body: string }>(`SELECT body FROM notifications`);
    expect(stored).toHaveLength(1);
    expect((JSON.parse(stored[0]!.body) as { alerts: Array<{ labels: Record<string, string> }> }).alerts.map((a) => a.labels.alertname)).toEqual([
      'HostHighCpuLoad',
    ]);
  });
});

describe('the watchdog against the real Prometheus', () => {
  it('posts one outage message after failuresBeforeAlert checks when Prometheus stops, and edits it to resolved when it is back', async () => {
    const vigil = await startTestVigil(prometheus.url);
    const watchdog = vigil.watchdog!;

    const healthy = await watchdog.check();
    expect(healthy.results).toEqual({ prometheus: { status: 'ok' }, 'prometheus-targets': { status: 'ok' }, loki: { status: 'ok' } });

    const configYaml = readFileSync(prometheus.configFile, 'utf8');
    const port = prometheus.port;
    await prometheus.stop();

    for (let i = 1; i < FAILURES; i++) {
      const round = await watchdog.check();
      expect(round.results.prometheus).toMatchObject({ status: 'fail', error: expect.stringMatching(/^Prometheus unreachable: .*ECONNREFUSED/) });
      // Scraping cannot be judged while Prometheus itself is down: no second alert for one outage.
      expect(round.results['prometheus-targets']).toMatchObject({ status: 'unknown' });
    }
    expect(await vigilNotifications(vigil)).toBe(0);

    await watchdog.check();
    const firing = await eventually('the outage message', () => alertMessages(WATCHDOG_CHANNEL, 'PrometheusDown')[0]);
    expect(firing.embeds[0]!.title).toBe('🔥 FIRING: PrometheusDown');
    expect(firing.embeds[0]!.description).toMatch(
      /^\*\*Prometheus is down\*\*\n3 failed checks in a row \(every 1h\)\. Last error: Prometheus unreachable: .*ECONNREFUSED/,
    );
    expect(firing.embeds[0]!.footer?.text).toBe('Vigil → watchdog');
    expect(alertMessages(ALERT_CHANNEL, 'PrometheusDown')).toEqual([]);

    expect(await scrape(vigil)).toMatch(/^vigil_watchdog_component_up\{component="prometheus"\} 0$/m);

    // Still down: the store gets nothing new, so the channel gets nothing new.
    await watchdog.check();
    await watchdog.check();
    expect(await vigilNotifications(vigil)).toBe(1);

    const restarted = await prometheusOnPort(configYaml, port);
    cleanups.push(() => restarted.stop());
    const back = await watchdog.check();
    expect(back.results.prometheus).toEqual({ status: 'ok' });
    expect(back.events.map((e) => `${e.component}:${e.event.kind}`)).toEqual(['prometheus:up']);
    expect(await scrape(vigil)).toMatch(/^vigil_watchdog_component_up\{component="prometheus"\} 1$/m);

    const edited = await eventually('the resolved edit', () => {
      const m = discord.messages.get(firing.id);
      return m?.embeds[0]?.title?.startsWith('✅') ? m : undefined;
    });
    expect(edited.embeds[0]!.title).toBe('✅ RESOLVED: PrometheusDown');
    expect(edited.embeds[0]!.description).toMatch(/Resolved after \d+m?s/);
    // The resolve note goes to the incident's thread, whose id is the alert message's.
    const note = await eventually('the resolve note in the incident thread', () =>
      [...discord.messages.values()].find((m) => m.channel_id === firing.id && m.content.startsWith('✅ Resolved')),
    );
    expect(note.content).toMatch(/^✅ Resolved: PrometheusDown after \d+m?s$/);
    expect(alertMessages(WATCHDOG_CHANNEL, 'PrometheusDown')).toHaveLength(1);
    expect(discord.invalid).toEqual([]);
  }, 60_000);
});

/** Vigil's own GET /metrics text. */
async function scrape(vigil: Vigil): Promise<string> {
  return (await fetch(`http://127.0.0.1:${vigil.port}/metrics`)).text();
}

/** POSTs a webhook body with the token; the answer's status and JSON. */
async function postWebhook(url: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** The real Alertmanager re-sending an always-firing Watchdog alert to Vigil every second. */
async function startWatchdogAlertmanager(webhookUrl: string): Promise<AlertmanagerHandle> {
  const am = await startAlertmanager({ webhookUrl, bearerToken: WEBHOOK_TOKEN, groupWait: '0s', groupInterval: '1s', repeatInterval: '1s' });
  cleanups.push(() => am.stop());
  const start = new Date();
  await am.postAlerts([
    {
      labels: { alertname: 'Watchdog', severity: 'none' },
      annotations: { summary: 'An alert that should always be firing: the alerting pipeline works' },
      startsAt: start.toISOString(),
      endsAt: new Date(start.getTime() + 3_600_000).toISOString(),
    },
  ]);
  return am;
}
