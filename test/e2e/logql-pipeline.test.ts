import type { APIMessage } from 'discord-api-types/v10';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOUBLE_TOKEN, startDiscordDouble, type DiscordDouble } from '../support/discord-double.js';
import { LOKI_BIN, spreadLines, startLokiBackend, streamOf, type LokiBackend } from '../support/loki.js';
import { eventually, postWebhook, startBot, type BotProcess } from './bot.js';

/*
 * One alert through the whole bot with the logs in a real Loki when one is there (see
 * test/support/loki.ts; the double otherwise): a webhook in, the enrichment's LogQL against Loki,
 * the message in the Discord double with the log volume against the hour before and the patterns.
 */

const CHANNEL = '223456789012345679';
const WEBHOOK_TOKEN = 'e2e-webhook-token-logql-0123456789';
const FIXTURE = new URL('../fixtures/webhooks/alertmanager-firing.json', import.meta.url);
const NOW = Date.now();
const ago = (minutes: number) => new Date(NOW - minutes * 60_000);

/** `n` lines evenly spread between `from` and `to` minutes ago. */
const spread = (n: number, from: number, to: number, make: (i: number) => string) => spreadLines(n, ago(from), ago(to), make);

describe(`an alert's logs from ${LOKI_BIN ? 'a real Loki' : 'the Loki double'}, through the whole bot`, () => {
  let dir: string;
  let loki: LokiBackend;
  let discord: DiscordDouble;
  let bot: BotProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-logql-'));
    loki = await startLokiBackend();
    const labels = { job: 'docker', container_name: 'payments', host: 'app-9' };
    await loki.push([
      streamOf({ ...labels, level: 'error' }, [
        ...spread(2, 70, 20, (i) => `ERROR PaymentService : slow answer ${i}`),
        ...spread(12, 14.5, 6, (i) => `ERROR PaymentService : card processor timed out after ${3000 + i} ms`),
      ]),
      streamOf(
        { ...labels, level: 'info' },
        spread(10, 14, 6, (i) => `POST /pay 200 ${i}ms`),
      ),
    ]);
    discord = await startDiscordDouble({ token: DOUBLE_TOKEN, channels: [CHANNEL] });
    bot = await startBot({
      dir,
      // No Prometheus: this alert carries no expression; its Prometheus queries fail and are noted.
      prometheusUrl: 'http://127.0.0.1:9',
      lokiUrl: loki.url,
      discordApiBaseUrl: discord.apiBaseUrl,
      discordToken: DOUBLE_TOKEN,
      webhookToken: WEBHOOK_TOKEN,
      channelId: CHANNEL,
      enrichmentTimeout: '5s',
    });
  }, 120_000);

  afterAll(async () => {
    await bot?.kill('SIGTERM');
    await discord?.stop();
    await loki?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the error lines of the window by pattern and their rate against the hour before', async () => {
    const body = JSON.parse(readFileSync(FIXTURE, 'utf8')) as {
      alerts: Array<{ labels: Record<string, string>; fingerprint: string; startsAt: string; generatorURL?: string }>;
      groupKey: string;
      groupLabels: Record<string, string>;
      commonLabels: Record<string, string>;
    };
    body.alerts = body.alerts.slice(0, 1).map((a) => ({
      ...a,
      labels: { alertname: 'PaymentsFailing', severity: 'critical', container: 'payments' },
      fingerprint: 'payments00000001',
      startsAt: ago(10).toISOString(),
    }));
    delete body.alerts[0]!.generatorURL;
    body.groupKey = '{}:{alertname="PaymentsFailing"}';
    body.groupLabels = { alertname: 'PaymentsFailing' };
    body.commonLabels = body.alerts[0]!.labels;
    expect(await postWebhook(bot, 'alertmanager', WEBHOOK_TOKEN, JSON.stringify(body))).toBe(202);

    const message = await eventually('the alert message', () =>
      [...discord.messages.values()].find((m: APIMessage) => m.channel_id === CHANNEL && m.embeds?.[0]?.title?.includes('PaymentsFailing')),
    );
    const logsField = message.embeds[0]!.fields?.find((f) => f.name.startsWith('📜 Logs'));
    expect(logsField, JSON.stringify(message.embeds)).toBeDefined();
    // 12 errors in the 10-minute window against 2 in the hour before: 36 times the usual rate.
    expect(logsField!.value).toMatch(/\*\*error\*\* 12 lines in 10m, 36(\.0)?× the usual rate/);
    expect(logsField!.value).toContain('**info** 10 lines in 10m, none in the hour before');
    expect(logsField!.value).toContain('×12 ');
    expect(logsField!.value).toContain('card processor timed out after 3011 ms');
    expect(JSON.stringify(message.embeds)).not.toMatch(/logs unavailable|Loki (timed out|answered)/);
    expect(discord.invalid).toEqual([]);
  });
});
