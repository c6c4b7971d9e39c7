// End to end: `vigil serve` gets, for each of the bundled stack's 8 Grafana alert rules, the webhook
// Grafana would send (no query in it, only the rule's page as generatorURL). The bot reads the rule
// from the Grafana double (the stack's own rules.yaml in the provisioning API's shape), runs the
// rule's own query on the real Prometheus (node_exporter, a cAdvisor-shaped exporter) or on Loki
// (real when LOKI_BIN is set, see test/support/loki.ts) and posts the alert with its chart, the
// threshold drawn, and the metric's trend.
//
// docs/grafana-alert-example.png (in the README) is the ErrorLogRate chart this test delivers; it is
// rewritten only with UPDATE_GOLDEN=1 (best with LOKI_BIN set, as .ci/run does):
//   UPDATE_GOLDEN=1 LOKI_BIN=/path/to/loki npx vitest run test/e2e/grafana-rules.test.ts
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIMessage } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHART_COLORS } from '../../src/render/chart-theme.js';
import { startCadvisor, type CadvisorHandle } from '../support/cadvisor.js';
import { countColor } from '../support/png.js';
import { DOUBLE_TOKEN, type DiscordDouble } from '../support/discord-double.js';
import { startGrafanaDouble, type GrafanaDoubleHandle } from '../support/grafana-double.js';
import { LOKI_BIN, spreadLines, startLokiBackend, streamOf, type LokiBackend } from '../support/loki.js';
import { freePort } from '../support/ports.js';
import type { PrometheusHandle } from '../support/procs.js';
import { eventually, postWebhook, startBot, startE2eStack, type BotProcess, type E2eStack } from './bot.js';

const CHANNEL = '223456789012345677';
const WEBHOOK_TOKEN = 'e2e-grafana-webhook-token-0123456789';
/** The bundled stack reads rules with Grafana's admin login (basic auth), as this test does. */
const GRAFANA_PASSWORD = 'e2e-grafana-admin-password-0123';
const FIXTURE = new URL('../fixtures/webhooks/grafana-firing.json', import.meta.url);
const EXAMPLE_PNG = fileURLToPath(new URL('../../docs/grafana-alert-example.png', import.meta.url));
/** Where people open Grafana: every link in Discord must use it, never the API address. */
const PUBLIC_GRAFANA = 'https://grafana.example.org';

/** cAdvisor's OOM and start-time series of one container, which the cAdvisor-shaped exporter lacks. */
async function startContainerEvents(): Promise<{ target: string; stop(): Promise<void> }> {
  const started = Math.floor(Date.now() / 1000) - 600;
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(
      [
        '# TYPE container_oom_events_total counter',
        'container_oom_events_total{id="/docker/api",image="ghcr.io/acme/api:1.4.2",name="api"} 3',
        '# TYPE container_start_time_seconds gauge',
        `container_start_time_seconds{id="/docker/api",image="ghcr.io/acme/api:1.4.2",name="api"} ${started}`,
        '',
      ].join('\n'),
    );
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return { target: `127.0.0.1:${port}`, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe(`the bundled Grafana rules end to end (Grafana double, real Prometheus, ${LOKI_BIN ? 'real Loki' : 'Loki double'})`, () => {
  let dir: string;
  let stack: E2eStack;
  let prometheus: PrometheusHandle;
  let discord: DiscordDouble;
  let cadvisor: CadvisorHandle;
  let events: Awaited<ReturnType<typeof startContainerEvents>>;
  let loki: LokiBackend;
  let grafana: GrafanaDoubleHandle;
  let bot: BotProcess;
  let node: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-grafana-'));
    cadvisor = await startCadvisor();
    events = await startContainerEvents();
    stack = await startE2eStack({
      channels: [CHANNEL],
      scrapeJobs: [
        { job: 'cadvisor', targets: [cadvisor.target] },
        { job: 'cadvisor-events', targets: [events.target] },
      ],
    });
    ({ prometheus, discord, nodeInstance: node } = stack);
    loki = await startLokiBackend();
    const now = Date.now();
    await loki.push([
      streamOf(
        { job: 'docker', container_name: 'api', host: 'app-9', level: 'error' },
        spreadLines(40, new Date(now - 8 * 60_000), new Date(now - 10_000), (i) => `ERROR OrderController : request ${i} failed`),
      ),
    ]);
    grafana = await startGrafanaDouble({ basic: { user: 'admin', password: GRAFANA_PASSWORD } });
    bot = await startBot({
      dir,
      prometheusUrl: prometheus.url,
      lokiUrl: loki.url,
      discordApiBaseUrl: discord.apiBaseUrl,
      discordToken: DOUBLE_TOKEN,
      webhookToken: WEBHOOK_TOKEN,
      channelId: CHANNEL,
      enrichmentTimeout: '5s',
      sections: {
        grafana: { url: grafana.url, publicUrl: PUBLIC_GRAFANA, user: 'admin', password: GRAFANA_PASSWORD },
        charts: { budget: '10s' },
        // Each bundled rule's alert is checked in its own message: the nine in a row are not a storm.
        delivery: { storm: { enabled: false } },
      },
    });
    await prometheus.waitFor(`count_over_time(node_memory_MemAvailable_bytes{instance="${node}"}[1m]) >= 3`, 30_000);
    await prometheus.waitFor('count_over_time(container_oom_events_total[1m]) >= 3', 30_000);
    await prometheus.waitFor('rate(container_cpu_usage_seconds_total{name="api"}[5m])', 30_000);
  }, 120_000);

  afterAll(async () => {
    await bot?.kill('SIGTERM');
    await grafana?.stop();
    await loki?.stop();
    await events?.stop();
    await cadvisor?.stop();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The labels Grafana gives an alert of the rule: the rule's own, the series', alertname and folder. */
  async function labelsFor(uid: string, title: string): Promise<Record<string, string>> {
    const rule = grafana.rules.get(uid) as { labels: Record<string, string> };
    const base = { ...rule.labels, alertname: title, grafana_folder: 'Vigil alerts' };
    const container = { instance: cadvisor.target, job: 'cadvisor', name: 'api' };
    switch (uid) {
      case 'vigil-host-disk-low': {
        const fs = await prometheus.query(
          `node_filesystem_avail_bytes{instance="${node}",fstype!~"tmpfs|ramfs|devtmpfs|overlay|squashfs|nsfs|autofs|fuse\\\\..*"}`,
        );
        const { __name__: _, ...series } = (fs.result[0] as { metric: Record<string, string> }).metric;
        return { ...base, ...series };
      }
      case 'vigil-container-cpu-high':
        return { ...base, ...container };
      case 'vigil-container-oom-killed':
      case 'vigil-container-restarting':
        return { ...base, ...container, instance: events.target, job: 'cadvisor-events' };
      case 'vigil-error-log-rate':
        return { ...base, host: 'app-9', container_name: 'api' };
      default:
        return { ...base, instance: node, job: 'node' };
    }
  }

  /** The webhook Grafana sends for one firing alert of the rule (the real fixture, re-labelled). */
  async function webhook(uid: string, title: string, n: number): Promise<string> {
    const body = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown> & { alerts: Array<Record<string, unknown>> };
    const labels = await labelsFor(uid, title);
    return JSON.stringify({
      ...body,
      receiver: 'vigil',
      groupKey: `{}/{}:{alertname="${title}"}`,
      groupLabels: { alertname: title },
      commonLabels: labels,
      externalURL: `${grafana.url}/`,
      alerts: [
        {
          ...body.alerts[0],
          labels,
          startsAt: new Date(Date.now() - 90_000).toISOString(),
          generatorURL: `${grafana.url}/alerting/grafana/${uid}/view?orgId=1`,
          fingerprint: `e2e-rule-${String(n).padStart(7, '0')}`,
          values: { B: 1, C: 1 },
        },
      ],
    });
  }

  const RULES = [
    ['vigil-target-down', 'TargetDown', '< 1'],
    ['vigil-host-cpu-high', 'HostHighCpu', '> 70'],
    ['vigil-host-memory-high', 'HostMemoryHigh', '> 90'],
    ['vigil-host-disk-low', 'HostDiskSpaceLow', '< 10'],
    ['vigil-container-cpu-high', 'ContainerHighCpu', '> 0.8'],
    ['vigil-container-oom-killed', 'ContainerOomKilled', '> 0'],
    ['vigil-container-restarting', 'ContainerRestarting', '> 1'],
    ['vigil-error-log-rate', 'ErrorLogRate', '> 10'],
  ] as const;

  it('covers every rule the stack provisions', () => {
    expect([...grafana.rules.keys()].sort()).toEqual(RULES.map(([uid]) => uid).sort());
  });

  it.each(RULES.map((r, i) => [...r, i] as const))(
    "%s: charts the rule's own query with its threshold %s",
    async (uid, title, threshold, i) => {
      expect(await postWebhook(bot, 'grafana', WEBHOOK_TOKEN, await webhook(uid, title, i))).toBe(202);
      const message = await eventually(`the ${title} message with its chart`, () =>
        [...discord.messages.values()].find((m: APIMessage) => m.embeds[0]?.title?.includes(title) && m.attachments.length > 0),
      );
      const embed = JSON.stringify(message.embeds);
      expect(embed).not.toMatch(/rule lookup|chart skipped/);
      // Grafana sent its rule page under the address Vigil calls it at; the message links the public one.
      expect(embed).toContain(`"url":"${PUBLIC_GRAFANA}/alerting/grafana/${uid}/view?orgId=1"`);
      expect(embed).toContain(`${PUBLIC_GRAFANA}/explore?`);
      expect(embed).not.toContain(grafana.url);
      // The trend of the rule's own query: "[start … →] peak … → now …".
      expect(embed).toMatch(/"Findings","value":"[^"]*peak [^"]+ → now /);
      const png = discord.attachmentData.get(message.attachments[0]!.id)!;
      expect(countColor(png, CHART_COLORS.series[0])).toBeGreaterThan(0);
      expect(countColor(png, CHART_COLORS.threshold)).toBeGreaterThan(100);
      if (process.env.UPDATE_GOLDEN === '1' && uid === 'vigil-error-log-rate') writeFileSync(EXAMPLE_PNG, png);
      const create = discord.requests.find((r) => r.operationId === 'create_message' && JSON.stringify(r.body).includes(title))!;
      expect((create.body as { attachments: Array<{ description: string }> }).attachments[0]!.description).toContain(
        (grafana.rules.get(uid) as { data: Array<{ model: { expr?: string } }> }).data[0]!.model.expr!.replace(/\s+/g, ' ').slice(0, 60),
      );
      // The thread details read the rule in plain words: its condition, pending period, folder and group.
      const rule = grafana.rules.get(uid) as { for: string; ruleGroup: string };
      const details = await eventually(`the ${title} thread details`, () =>
        [...discord.messages.values()]
          .flatMap((m) => m.embeds.flatMap((e) => e.fields ?? []))
          .find((f) => f.name === 'Grafana rule' && f.value.startsWith(`${title}:`)),
      );
      const pending = rule.for === '0s' ? '' : ` for ${rule.for}`;
      // Markdown-escaped, as every text from outside is (`>` would start a quote).
      expect(details.value).toBe(
        `${title}: fires when A (last) ${threshold.replace(/([<>])/, '\\$1')}${pending}\nfolder Vigil alerts · group ${rule.ruleGroup}`,
      );
      expect(grafana.requests.filter((r) => r.path === `/api/v1/provisioning/alert-rules/${uid}`)).toEqual([
        { method: 'GET', path: `/api/v1/provisioning/alert-rules/${uid}`, auth: 'basic' },
      ]);
    },
    60_000,
  );

  it('still posts a Grafana alert when Grafana fails, the footer saying why it has no chart', async () => {
    grafana.setMode('error');
    try {
      const body = JSON.parse(await webhook('vigil-host-cpu-high', 'GrafanaIsFailing', 99)) as { alerts: Array<Record<string, unknown>> };
      // A rule not read before: nothing cached to fall back on.
      body.alerts[0]!.generatorURL = `${grafana.url}/alerting/grafana/vigil-not-cached/view?orgId=1`;
      expect(await postWebhook(bot, 'grafana', WEBHOOK_TOKEN, JSON.stringify(body))).toBe(202);
      const message = await eventually('the alert without its rule', () =>
        [...discord.messages.values()].find((m: APIMessage) => m.channel_id === CHANNEL && m.embeds[0]?.title?.includes('GrafanaIsFailing')),
      );
      expect(JSON.stringify(message.embeds)).toContain('chart skipped: rule not read: Grafana HTTP 500: internal server error');
      expect(message.attachments).toEqual([]);
      // The rest of the enrichment went on: the host's own context from the real node_exporter.
      expect(JSON.stringify(message.embeds)).toContain('Target: up');
    } finally {
      grafana.setMode('normal');
    }
  }, 60_000);

  it('sent only requests Discord accepts, and no token in its logs', () => {
    expect(discord.invalid).toEqual([]);
    expect(bot.output()).not.toContain(GRAFANA_PASSWORD);
    expect(bot.output()).not.toContain(DOUBLE_TOKEN);
  });
});
