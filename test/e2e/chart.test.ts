// End to end: `vigil serve` in its own process gets an Alertmanager webhook whose expression the
// real Prometheus (scraping the real node_exporter) answers; the alert reaches the Discord double
// with chart.png attached (multipart, payload_json checked against Discord's spec) and the embed
// showing it; the resolve edit replaces the chart.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIMessage } from 'discord-api-types/v10';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHART_COLORS } from '../../src/render/chart-theme.js';
import { countColor } from '../support/png.js';
import { DOUBLE_TOKEN, type DiscordDouble } from '../support/discord-double.js';
import type { PrometheusHandle } from '../support/procs.js';
import { eventually, postWebhook, startBot, startE2eStack, type BotProcess, type E2eStack } from './bot.js';

const CHANNEL = '223456789012345678';
const WEBHOOK_TOKEN = 'e2e-chart-webhook-token-0123456789';
const FIXTURE = new URL('../fixtures/webhooks/alertmanager-firing.json', import.meta.url);

describe('alert chart end to end (bot process, real Prometheus and node_exporter, Discord double)', () => {
  let dir: string;
  let stack: E2eStack;
  let prometheus: PrometheusHandle;
  let discord: DiscordDouble;
  let bot: BotProcess;
  let instance: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-chart-'));
    stack = await startE2eStack({ channels: [CHANNEL] });
    ({ prometheus, discord, nodeInstance: instance } = stack);
    bot = await startBot({
      dir,
      prometheusUrl: prometheus.url,
      lokiUrl: stack.loki.url,
      discordApiBaseUrl: discord.apiBaseUrl,
      discordToken: DOUBLE_TOKEN,
      webhookToken: WEBHOOK_TOKEN,
      channelId: CHANNEL,
      sections: { charts: { budget: '10s' } },
    });
    await prometheus.waitFor(`count_over_time(node_memory_MemAvailable_bytes{instance="${instance}"}[1m]) >= 3`, 30_000);
  }, 90_000);

  afterAll(async () => {
    await bot?.kill('SIGTERM');
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The real Alertmanager fixture, its first alert pointed at this node_exporter and `expr`. */
  function webhook(status: 'firing' | 'resolved', expr: string): string {
    const body = JSON.parse(readFileSync(FIXTURE, 'utf8')) as {
      status: string;
      groupKey: string;
      groupLabels: Record<string, string>;
      commonLabels: Record<string, string>;
      alerts: Array<Record<string, unknown> & { labels: Record<string, string> }>;
    };
    const labels = { alertname: 'LowMemoryE2E', instance, job: 'node', severity: 'critical' };
    const startsAt = new Date(Date.now() - 20_000).toISOString();
    body.status = status;
    body.groupKey = '{}:{alertname="LowMemoryE2E"}';
    body.groupLabels = { alertname: 'LowMemoryE2E' };
    body.commonLabels = labels;
    body.alerts = [
      {
        ...body.alerts[0],
        status,
        labels,
        startsAt,
        endsAt: status === 'resolved' ? new Date().toISOString() : '0001-01-01T00:00:00Z',
        generatorURL: `${prometheus.url}/graph?g0.expr=${encodeURIComponent(expr)}&g0.tab=1`,
        fingerprint: 'e2e-chart-000001',
      },
    ];
    return JSON.stringify(body);
  }

  const post = (body: string) => postWebhook(bot, 'alertmanager', WEBHOOK_TOKEN, body);

  function chartOf(m: APIMessage): Buffer {
    expect(m.attachments).toMatchObject([{ filename: 'chart.png', content_type: 'image/png', width: 800, height: 400 }]);
    expect(m.embeds[0]!.image?.url).toBe(m.attachments[0]!.url);
    return discord.attachmentData.get(m.attachments[0]!.id)!;
  }

  it('delivers the alert with chart.png attached and shown in the embed, and replaces it on resolve', async () => {
    // A threshold the data is surely under: the dashed line and the series both show.
    const expr = `node_memory_MemAvailable_bytes{instance="${instance}"} < 1e15`;
    expect(await post(webhook('firing', expr))).toBe(202);
    const message = await eventually('the alert with its chart', () =>
      [...discord.messages.values()].find((m) => m.embeds[0]?.title?.includes('LowMemoryE2E')),
    );
    const png = chartOf(message);
    expect(PNG.sync.read(png)).toMatchObject({ width: 800, height: 400 });
    expect(countColor(png, CHART_COLORS.background, 6)).toBeGreaterThan(800 * 400 * 0.3);
    // The bot's 10m lookback holds only seconds of data here: the line is short, so only its presence
    // is checked (where lines land is checked in test/render and test/pipeline with real data).
    expect(countColor(png, CHART_COLORS.series[0])).toBeGreaterThan(0);
    expect(countColor(png, CHART_COLORS.threshold)).toBeGreaterThan(200);
    const create = discord.requests.find((r) => r.operationId === 'create_message' && r.files?.length)!;
    expect(create.files).toMatchObject([{ field: 'files[0]', filename: 'chart.png', contentType: 'image/png' }]);
    expect(create.body).toMatchObject({ attachments: [{ id: '0', filename: 'chart.png' }], embeds: [{ image: { url: 'attachment://chart.png' } }] });

    expect(await post(webhook('resolved', expr))).toBe(202);
    const edited = await eventually('the resolved edit', () => {
      const m = discord.messages.get(message.id);
      return m?.embeds[0]?.title?.includes('RESOLVED') ? m : undefined;
    });
    const after = chartOf(edited);
    expect(edited.attachments[0]!.id).not.toBe(message.attachments[0]!.id);
    expect(countColor(after, CHART_COLORS.resolved, 20)).toBeGreaterThan(100);
    expect(discord.invalid).toEqual([]);
    expect(bot.output()).not.toContain(DOUBLE_TOKEN);
  }, 60_000);
});
