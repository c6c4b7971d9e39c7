import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIEmbed, APIMessage } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatValue, inferUnit } from '../../src/render/format.js';
import { startDelayProxy, type DelayProxy } from '../support/delay-proxy.js';
import { DOUBLE_TOKEN, type DiscordDouble } from '../support/discord-double.js';
import type { LokiDoubleHandle } from '../support/loki-double.js';
import { startAlertmanager, type AlertmanagerHandle, type PrometheusHandle } from '../support/procs.js';
import { eventually, postWebhook, sleep, startBot, startE2eStack, type BotProcess, type BotSettings, type E2eStack } from './bot.js';

const CHANNEL = '223456789012345678';
const WEBHOOK_TOKEN = 'e2e-webhook-token-0123456789abcdef';
const FIXTURES = new URL('../fixtures/webhooks/', import.meta.url);
const LOKI_RECORDED = new URL('../fixtures/loki/query_range-streams-all-forward.json', import.meta.url);

function embedText(m: APIMessage): string {
  return JSON.stringify(m.embeds ?? []);
}
function firstEmbed(m: APIMessage): APIEmbed {
  return m.embeds?.[0] ?? {};
}
/** The alert messages in the alert channel (posts in an incident's thread are not counted). */
function messagesAbout(double: DiscordDouble, alertname: string): APIMessage[] {
  return [...double.messages.values()].filter((m) => m.channel_id === CHANNEL && firstEmbed(m).title?.includes(alertname));
}

/** An Alertmanager webhook body from the real fixture, re-labelled for one test. */
function alertmanagerBody(alertname: string, extraLabels: Record<string, string> = {}): string {
  const body = JSON.parse(readFileSync(new URL('alertmanager-firing.json', FIXTURES), 'utf8')) as {
    alerts: Array<{ labels: Record<string, string>; fingerprint: string; startsAt: string }>;
    groupKey: string;
    groupLabels: Record<string, string>;
    commonLabels: Record<string, string>;
  };
  const startsAt = new Date(Date.now() - 60_000).toISOString();
  body.alerts = body.alerts.slice(0, 1).map((a) => ({
    ...a,
    labels: { ...a.labels, alertname, ...extraLabels },
    fingerprint: `${alertname}`.slice(0, 16),
    startsAt,
  }));
  body.groupKey = `{}:{alertname="${alertname}"}`;
  body.groupLabels = { alertname };
  body.commonLabels = { ...body.commonLabels, alertname };
  return JSON.stringify(body);
}

const post = (bot: BotProcess, body: string) => postWebhook(bot, 'alertmanager', WEBHOOK_TOKEN, body);

describe('alert pipeline end to end (real Prometheus, node_exporter, Alertmanager; Loki and Discord doubles)', () => {
  let dir: string;
  let stack: E2eStack;
  let prometheus: PrometheusHandle;
  let proxy: DelayProxy;
  let loki: LokiDoubleHandle;
  let discord: DiscordDouble;
  let alertmanager: AlertmanagerHandle;
  let bot: BotProcess;
  let settings: BotSettings;
  let nodeInstance: string;
  /** Every bot process of this file, restarts included: the token check reads all their logs. */
  const started: BotProcess[] = [];
  /** Starts a bot (on the previous one's port once there is one) and keeps it in `started`. */
  const boot = async (s: BotSettings): Promise<BotProcess> => {
    const b = await startBot(s, started.at(-1)?.port);
    started.push(b);
    return b;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-'));
    stack = await startE2eStack({ channels: [CHANNEL] });
    ({ prometheus, loki, discord, nodeInstance } = stack);
    proxy = await startDelayProxy(prometheus.url);
    settings = {
      dir,
      prometheusUrl: proxy.url,
      lokiUrl: loki.url,
      discordApiBaseUrl: discord.apiBaseUrl,
      discordToken: DOUBLE_TOKEN,
      webhookToken: WEBHOOK_TOKEN,
      channelId: CHANNEL,
      enrichmentTimeout: '2s',
    };
    bot = await boot(settings);
    alertmanager = await startAlertmanager({ webhookUrl: `${bot.url}/webhooks/alertmanager`, bearerToken: WEBHOOK_TOKEN });
    await prometheus.waitFor(`node_memory_MemTotal_bytes{instance="${nodeInstance}"}`);
  }, 90_000);

  afterAll(async () => {
    await bot?.kill('SIGTERM');
    await alertmanager?.stop();
    await proxy?.close();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const labels = () => ({
    alertname: 'HostMemoryTotal',
    job: 'node',
    instance: nodeInstance,
    severity: 'critical',
    container: 'api',
  });
  const generatorURL = () => `${prometheus.url}/graph?g0.expr=${encodeURIComponent('node_memory_MemTotal_bytes')}&g0.tab=1`;

  it('posts an alert sent by a real Alertmanager, with numbers from Prometheus and lines from Loki', async () => {
    await alertmanager.postAlerts([{ labels: labels(), annotations: { summary: 'Memory total check on the test host' }, generatorURL: generatorURL() }]);
    const message = await eventually('the alert message', () => messagesAbout(discord, 'HostMemoryTotal')[0]);
    const text = embedText(message);

    // The number the bot shows is the one Prometheus holds for that series.
    const direct = await prometheus.query(`node_memory_MemTotal_bytes{instance="${nodeInstance}"}`);
    const value = Number((direct.result[0] as { value: [number, string] }).value[1]);
    expect(text).toContain(formatValue(value, inferUnit('node_memory_MemTotal_bytes')));

    // A recorded error line of the `api` container, as the Loki double served it.
    const recorded = JSON.parse(readFileSync(LOKI_RECORDED, 'utf8')) as {
      response: { json: { data: { result: Array<{ stream: Record<string, string>; values: [string, string][] }> } } };
    };
    const apiErrors = recorded.response.json.data.result
      .filter((s) => s.stream.container_name === 'api')
      .flatMap((s) => s.values.map((v) => v[1]))
      .filter((line) => /error|exception/i.test(line));
    expect(apiErrors.some((line) => text.includes(line.slice(30, 80)))).toBe(true);

    expect(firstEmbed(message).title).toMatch(/FIRING/);
    expect(text).not.toContain('unavailable');
    expect(loki.requests.some((r) => r.path === '/loki/api/v1/query_range' && r.query.query?.includes('container_name="api"'))).toBe(true);
    expect(discord.invalid).toEqual([]);
  });

  it('edits that same message when Alertmanager sends the resolution, and says so in its thread, then archives it', async () => {
    const [original] = messagesAbout(discord, 'HostMemoryTotal');
    expect(original).toBeDefined();
    await alertmanager.postAlerts([{ labels: labels(), generatorURL: generatorURL(), endsAt: new Date().toISOString() }]);
    const edited = await eventually('the resolved edit', () => {
      const m = discord.messages.get(original!.id);
      return m && firstEmbed(m).title?.includes('RESOLVED') ? m : undefined;
    });
    expect(edited.id).toBe(original!.id);
    expect(discord.requests.some((r) => r.method === 'PATCH' && r.path === `/api/v10/channels/${CHANNEL}/messages/${original!.id}` && r.status === 200)).toBe(
      true,
    );
    // The thread started on the alert message has the message's id; the resolve note goes there.
    const reply = await eventually('the resolve note in the thread', () =>
      [...discord.messages.values()].find((m) => m.channel_id === original!.id && /Resolved/i.test(m.content)),
    );
    expect(reply.content).toMatch(/Resolved/i);
    expect(discord.threads.get(original!.id)).toMatchObject({ parent_id: CHANNEL, name: 'HostMemoryTotal on ' + nodeInstance });
    await eventually('the archived thread', () => (discord.threads.get(original!.id)?.thread_metadata?.archived ? true : undefined));
    expect(messagesAbout(discord, 'HostMemoryTotal')).toHaveLength(1);
    expect(discord.invalid).toEqual([]);
  });

  it('edits the message of a Grafana alert group when Grafana sends its resolution', async () => {
    const firing = JSON.parse(readFileSync(new URL('grafana-firing.json', FIXTURES), 'utf8')) as {
      status: string;
      state: string;
      title: string;
      groupKey: string;
      alerts: Array<{ status: string; endsAt: string; startsAt: string; labels: Record<string, string> }>;
    };
    firing.groupKey = '{}:{team="e2e-grafana"}';
    for (const a of firing.alerts) a.startsAt = new Date(Date.now() - 120_000).toISOString();
    const postGrafana = (body: unknown) => postWebhook(bot, 'grafana', WEBHOOK_TOKEN, JSON.stringify(body));
    expect(await postGrafana(firing)).toBe(202);
    const original = await eventually('the Grafana message', () => messagesAbout(discord, 'High memory usage')[0]);
    expect(firstEmbed(original).title).toMatch(/FIRING/);

    // A resolved Grafana body, as SOURCES.md describes it: status resolved, state ok, a real endsAt.
    const resolved = {
      ...firing,
      status: 'resolved',
      state: 'ok',
      title: firing.title.replace('[FIRING:2]', '[RESOLVED]'),
      alerts: firing.alerts.map((a) => ({ ...a, status: 'resolved', endsAt: new Date().toISOString() })),
    };
    expect(await postGrafana(resolved)).toBe(202);
    const edited = await eventually('the resolved Grafana edit', () => {
      const m = discord.messages.get(original.id);
      return m && firstEmbed(m).title?.includes('RESOLVED') ? m : undefined;
    });
    expect(embedText(edited)).toMatch(/Resolved after 2m/);
    expect(messagesAbout(discord, 'High memory usage')).toHaveLength(1);
    expect(discord.invalid).toEqual([]);
  });

  it('delivers exactly once through a 429 with retry_after and a run of 500s', async () => {
    // The scripted answers go to whatever request comes next: let earlier work (thread notes, archiving) finish first.
    await eventually('earlier deliveries to settle', async () => {
      const health = (await (await fetch(`${bot.url}/healthz`)).json()) as { pendingNotifications: number; pendingDeliveries: number };
      const idle = health.pendingNotifications === 0 && health.pendingDeliveries === 0 && discord.requests.every((r) => r.status !== 0);
      return idle ? true : undefined;
    });
    discord.failNext([
      {
        status: 429,
        body: { message: 'You are being rate limited.', retry_after: 0.3, global: false },
        headers: { 'retry-after': '1', 'x-ratelimit-scope': 'user' },
      },
      { status: 500, body: { message: '500: Internal Server Error', code: 0 } },
      { status: 500, body: { message: '500: Internal Server Error', code: 0 } },
      { status: 502, body: { message: 'Bad Gateway', code: 0 } },
    ]);
    const before = discord.requests.length;
    expect(await post(bot, alertmanagerBody('FlakyDiscord'))).toBe(202);
    await eventually('the message after the failures', () => messagesAbout(discord, 'FlakyDiscord')[0]);
    await sleep(1500);
    expect(messagesAbout(discord, 'FlakyDiscord')).toHaveLength(1);
    const after = discord.requests.slice(before);
    const creates = after.filter((r) => r.operationId === 'create_message' && r.path === `/api/v10/channels/${CHANNEL}/messages`);
    expect(creates.map((r) => r.status)).toEqual([429, 500, 500, 502, 200]);
    expect(creates.every((r) => JSON.stringify(r.body).includes('FlakyDiscord'))).toBe(true);
    // The scripted answers all went to the alert message: nothing came between its five attempts.
    expect(after.slice(0, creates.length)).toEqual(creates);
    expect(discord.invalid).toEqual([]);
  });

  it('acknowledges a duplicate delivery and posts it once', async () => {
    const body = alertmanagerBody('DuplicateDelivery');
    const [a, b] = await Promise.all([post(bot, body), post(bot, body)]);
    expect([a, b]).toEqual([202, 202]);
    await eventually('the message', () => messagesAbout(discord, 'DuplicateDelivery')[0]);
    await sleep(1000);
    expect(messagesAbout(discord, 'DuplicateDelivery')).toHaveLength(1);
  });

  it('delivers after a SIGKILL that came between the 202 and the delivery', async () => {
    // Discord fails, so the delivery is surely still pending when the bot dies.
    discord.failNext([{ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 }, { status: 500 }, { status: 500 }]);
    const attemptsBefore = discord.requests.length;
    expect(await post(bot, alertmanagerBody('SurvivesKill'))).toBe(202);
    await eventually('a failed delivery attempt', () => (discord.requests.length > attemptsBefore ? true : undefined));
    await bot.kill('SIGKILL');
    expect(messagesAbout(discord, 'SurvivesKill')).toHaveLength(0);

    bot = await boot(settings);
    await eventually('the message after the restart', () => messagesAbout(discord, 'SurvivesKill')[0], 30_000);

    // Killed right after the 202, before the pipeline had time to run at all.
    expect(await post(bot, alertmanagerBody('KilledAtOnce'))).toBe(202);
    await bot.kill('SIGKILL');
    bot = await boot(settings);
    await eventually('the message stored before the kill', () => messagesAbout(discord, 'KilledAtOnce')[0], 30_000);
    await sleep(1000);
    expect(messagesAbout(discord, 'SurvivesKill')).toHaveLength(1);
    expect(messagesAbout(discord, 'KilledAtOnce')).toHaveLength(1);
  }, 90_000);

  it('still posts the alert when Loki is down, saying the logs are unavailable', async () => {
    await loki.setMode('down');
    try {
      expect(await post(bot, alertmanagerBody('LokiIsDown', { container: 'api' }))).toBe(202);
      const m = await eventually('the message without logs', () => messagesAbout(discord, 'LokiIsDown')[0]);
      expect(embedText(m)).toMatch(/logs unavailable/i);
      expect(embedText(m)).toMatch(/partially enriched/i);
    } finally {
      await loki.setMode('normal');
    }
  });

  it('still posts the alert when Prometheus is slower than the enrichment timeout', async () => {
    proxy.delayMs = 5000;
    try {
      const body = alertmanagerBody('PrometheusIsSlow', { instance: nodeInstance, job: 'node' });
      expect(await post(bot, body)).toBe(202);
      const m = await eventually('the message without metrics', () => messagesAbout(discord, 'PrometheusIsSlow')[0]);
      expect(embedText(m)).toMatch(/unavailable: Prometheus timed out after 2s/);
      expect(embedText(m)).toMatch(/partially enriched/i);
    } finally {
      proxy.delayMs = 0;
    }
  });

  it('holds the alert while Discord refuses the bot token, and delivers it after a restart with the right one', async () => {
    const wrongToken = 'MTk4NzY1NDMyMTk4NzY1NDMy.GwRong.a-token-that-discord-does-not-know';
    await bot.kill('SIGTERM');
    bot = await boot({ ...settings, discordToken: wrongToken });
    const before = discord.requests.length;
    const invalidBefore = discord.invalid.length;
    expect(await post(bot, alertmanagerBody('WrongBotToken'))).toBe(202);
    // Refused, then tried again after the hold (delivery.maxBackoff 1s here) and refused again.
    await eventually('two refused attempts', () => (discord.requests.slice(before).filter((r) => r.status === 401).length >= 2 ? true : undefined), 15_000);
    const health = (await (await fetch(`${bot.url}/healthz`)).json()) as { pendingDeliveries: number };
    expect(health.pendingDeliveries).toBeGreaterThanOrEqual(1);
    expect(messagesAbout(discord, 'WrongBotToken')).toHaveLength(0);
    const wrongBotOutput = bot.output();
    expect(wrongBotOutput).toMatch(/Discord rejected the bot token/);
    expect(wrongBotOutput).not.toContain(wrongToken);

    await bot.kill('SIGTERM');
    bot = await boot(settings);
    await eventually('the held message', () => messagesAbout(discord, 'WrongBotToken')[0], 30_000);
    await sleep(1000);
    expect(messagesAbout(discord, 'WrongBotToken')).toHaveLength(1);
    // The double lists the refused requests as invalid for their Authorization, and nothing else.
    const refused = discord.invalid.slice(invalidBefore);
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(refused.flatMap((r) => r.errors)).toEqual(refused.map(() => 'Authorization is not "Bot <configured token>"'));
  }, 90_000);

  it('never writes the Discord or webhook token to its logs, in any of its processes', () => {
    expect(started.length).toBeGreaterThan(0);
    for (const [i, b] of started.entries()) {
      expect(b.output(), `bot process #${i + 1}`).not.toContain(DOUBLE_TOKEN);
      expect(b.output(), `bot process #${i + 1}`).not.toContain(WEBHOOK_TOKEN);
    }
  });
});
