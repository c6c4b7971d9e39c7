// The alert chart step: which alert and series a message charts, how the chart rides on the
// message body, and the whole path with the real Prometheus and node_exporter: pipeline -> outbox
// (the PNG stored with the row) -> drainer -> Discord double (multipart, payload_json validated
// against Discord's spec, the attachment stored).
//
// docs/alert-example.png (shown in the README) is the resolved chart this test delivers from a real
// CPU spike; it is rewritten only with UPDATE_GOLDEN=1:
//   UPDATE_GOLDEN=1 npx vitest run test/pipeline/chart.int.test.ts
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIMessage, RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { PNG } from 'pngjs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createDrainer, type Drainer } from '../../src/discord/drain.js';
import { createRest } from '../../src/discord/rest.js';
import { createLogger } from '../../src/log.js';
import type { Alert, Notification } from '../../src/model.js';
import { alertChartSpec, chartEnd, chartNotification, chartData, chartSubject, earlyChartData, seriesForAlerts } from '../../src/pipeline/chart.js';
import type { ChartOutcome } from '../../src/render/chart.js';
import { withChart } from '../../src/render/alert-message.js';
import type { ChartRenderer } from '../../src/render/chart.js';
import { enrichNotification, type EnrichDeps } from '../../src/pipeline/enrich.js';
import { processNotification, type PipelineDeps } from '../../src/pipeline/index.js';
import type { AlertEnrichment, EnrichedNotification, ExpressionFinding } from '../../src/findings.js';
import { createLokiClient, type LokiClient } from '../../src/queries/loki.js';
import { createPrometheusClient, type PrometheusClient, type RangeSeries } from '../../src/queries/prometheus.js';
import { renderChart } from '../../src/render/chart.js';
import { CHART_COLORS } from '../../src/render/chart-theme.js';
import { openDatabase, type Database } from '../../src/store/db.js';
import { insertNotification, nextPendingNotification } from '../../src/store/notifications.js';
import { get, pendingCount } from '../../src/store/outbox.js';
import { loadWebhook } from '../render/helpers.js';
import { countColor } from '../support/png.js';
import { DOUBLE_TOKEN, startDiscordDouble, type DiscordDouble } from '../support/discord-double.js';
import { startLokiDouble, type LokiDoubleHandle } from '../support/loki-double.js';
import { startNodeExporter, startPrometheus, type NodeExporterHandle, type PrometheusHandle } from '../support/procs.js';

const CHANNEL = '223456789012345678';
const UPDATE_GOLDEN = process.env.UPDATE_GOLDEN === '1';
const EXAMPLE_PNG = fileURLToPath(new URL('../../docs/alert-example.png', import.meta.url));
const T0 = new Date('2026-11-21T09:00:00Z');
const noWarn = () => undefined;

function alert(over: Partial<Alert> = {}): Alert {
  return {
    fingerprint: 'fp-1',
    status: 'firing',
    labels: { alertname: 'HostHighCpuLoad', instance: 'db-1:9100', job: 'node' },
    annotations: {},
    startsAt: new Date(T0.getTime() - 60_000),
    source: 'alertmanager',
    ...over,
  };
}

function group(alerts: Alert[], source: Notification['source'] = 'alertmanager'): Notification {
  return {
    source,
    receiver: 'discord-bot',
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    groupKey: '{}:{alertname="HostHighCpuLoad"}',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    truncatedAlerts: 0,
    alerts,
  };
}

function series(labels: Record<string, string>, values: number[]): RangeSeries {
  return { labels, points: values.map((value, i) => ({ at: new Date(T0.getTime() - (values.length - i) * 15_000), value })) };
}

describe('which alert a message charts', () => {
  it('charts the first firing alert that has an expression, with the alerts sharing it', () => {
    const resolved = alert({ fingerprint: 'r', status: 'resolved', expr: 'up == 0' });
    const noExpr = alert({ fingerprint: 'n' });
    const firing = alert({ fingerprint: 'f', expr: 'node_load1 > 4' });
    const sibling = alert({ fingerprint: 's', expr: 'node_load1 > 4', labels: { instance: 'db-2:9100' } });
    const subject = chartSubject(group([resolved, noExpr, firing, sibling]))!;
    expect(subject.alert.fingerprint).toBe('f');
    expect(subject.expr).toBe('node_load1 > 4');
    expect(subject.alerts.map((a) => a.fingerprint)).toEqual(['f', 's']);
  });

  it('charts the vigil_promql annotation of an alert that has no expression (Grafana)', () => {
    const subject = chartSubject(group([alert({ annotations: { vigil_promql: ' rate(http_requests_total[5m]) ' } })], 'grafana'));
    expect(subject?.expr).toBe('rate(http_requests_total[5m])');
  });

  it('charts nothing when no alert has an expression', () => {
    expect(chartSubject(group([alert()]))).toBeUndefined();
  });
});

describe('which series a chart draws', () => {
  it('draws the series of every alert in the group, highest peak first', () => {
    const all = [
      series({ instance: 'db-1:9100', job: 'node' }, [1, 2]),
      series({ instance: 'db-2:9100', job: 'node' }, [5, 9]),
      series({ instance: 'web:9100', job: 'node' }, [50, 90]),
    ];
    const alerts = [alert(), alert({ labels: { alertname: 'HostHighCpuLoad', instance: 'db-2:9100', job: 'node' } })];
    expect(seriesForAlerts(all, alerts).map((s) => s.labels.instance)).toEqual(['db-2:9100', 'db-1:9100']);
  });

  it("draws the five highest series when none is an alert's own", () => {
    const all = [3, 1, 4, 1.5, 5, 9, 2].map((peak, i) => series({ pod: `p${i}` }, [0, peak]));
    expect(seriesForAlerts(all, [alert()]).map((s) => s.labels.pod)).toEqual(['p5', 'p4', 'p2', 'p0', 'p6']);
  });
});

describe('the series a chart takes from the enrichment', () => {
  const window = { start: new Date(T0.getTime() - 30 * 60_000), end: T0, stepSeconds: 15, logStart: T0, logEnd: T0 };
  const chartEndAt = new Date(T0.getTime() + 60_000);

  function enrichment(a: Alert, findings: Partial<AlertEnrichment>): AlertEnrichment {
    return { fingerprint: a.fingerprint, window, failures: [], ...findings };
  }
  function finding(expr: string, drawn: RangeSeries[]): ExpressionFinding {
    return { expr, series: [], chart: { end: chartEndAt, series: drawn } };
  }
  function enriched(n: Notification, list: AlertEnrichment[]): EnrichedNotification {
    return { notification: n, enrichments: Object.fromEntries(list.map((e) => [e.fingerprint, e])) };
  }

  it('joins the series of the alerts sharing the expression, a shared one once, over the window to the chart end', () => {
    const a = alert({ expr: 'node_load1 > 4' });
    const b = alert({ fingerprint: 'fp-2', expr: 'node_load1 > 4', labels: { alertname: 'HostHighCpuLoad', instance: 'db-2:9100', job: 'node' } });
    const db1 = series({ instance: 'db-1:9100', job: 'node' }, [5, 6]);
    const db2 = series({ job: 'node', instance: 'db-2:9100' }, [7, 8]);
    const n = group([a, b]);
    const data = chartData(
      chartSubject(n)!,
      enriched(n, [
        enrichment(a, { expression: finding('node_load1', [db1, db2]) }),
        enrichment(b, { expression: finding('node_load1', [{ labels: { instance: 'db-2:9100', job: 'node' }, points: db2.points }]) }),
      ]),
    );
    expect(data).toEqual({ series: [db1, db2], window: { start: window.start, end: chartEndAt } });
  });

  it("draws a Grafana alert's vigil_promql from the extra expression, its labels filled in as enriched", () => {
    const a = alert({ annotations: { vigil_promql: 'node_load1{instance="${instance}"}' } });
    const drawn = series({ instance: 'db-1:9100' }, [1, 2]);
    const n = group([a], 'grafana');
    const subject = chartSubject(n)!;
    expect(subject.expr).toBe('node_load1{instance="db-1:9100"}');
    expect(chartData(subject, enriched(n, [enrichment(a, { extraExpression: finding(subject.expr, [drawn]) })]))).toMatchObject({ series: [drawn] });
  });

  it.each([
    {
      name: "the expression query's own failure",
      findings: { failures: [{ backend: 'prometheus' as const, what: 'expression' as const, message: 'Prometheus timed out after 5s' }] },
      reason: { why: 'query-failed', detail: 'Prometheus timed out after 5s' },
    },
    { name: 'that the alert was not enriched', findings: undefined, reason: { why: 'not-enriched' } },
  ])('says why there is nothing to draw: $name', ({ findings, reason }) => {
    const a = alert({ expr: 'node_load1 > 4' });
    const n = group([a]);
    expect(chartData(chartSubject(n)!, enriched(n, findings ? [enrichment(a, findings)] : []))).toEqual({ reason });
  });
});

describe('the chart data handed over before the enrichment ends', () => {
  const window = { start: new Date(T0.getTime() - 30 * 60_000), end: T0, stepSeconds: 15, logStart: T0, logEnd: T0 };
  const finding: ExpressionFinding = { expr: 'node_load1', series: [], chart: { end: T0, series: [series({ instance: 'db-1:9100' }, [1, 2])] } };
  const a = alert({ expr: 'node_load1 > 4' });
  const b = alert({ fingerprint: 'fp-2', expr: 'node_load1 > 4', labels: { alertname: 'HostHighCpuLoad', instance: 'db-2:9100', job: 'node' } });
  const other = alert({ fingerprint: 'fp-3', expr: 'up == 0' });
  const never = new Promise<EnrichedNotification>(() => undefined);
  const pending = Symbol('pending');
  const settled = (p: Promise<EnrichedNotification>) => Promise.race([p, new Promise<typeof pending>((r) => setTimeout(() => r(pending), 20))]);

  it('is ready once every alert sharing the charted expression has its expression back, other alerts not awaited', async () => {
    const early = earlyChartData(group([a, b, other]));
    const ready = early.ready(never);
    early.onExpression({ fingerprint: 'fp-1', window, expression: finding, failures: [] });
    early.onExpression({ fingerprint: 'fp-3', window, failures: [] });
    expect(await settled(ready)).toBe(pending); // fp-2 shares the expression: its series are drawn too
    early.onExpression({ fingerprint: 'fp-2', window, failures: [] });
    const got = await ready;
    expect(Object.keys(got.enrichments).sort()).toEqual(['fp-1', 'fp-2']);
    expect(got.enrichments['fp-1']!.expression).toBe(finding);
  });

  it.each([
    ['an alert with an expression', group([a]), true],
    ['alerts without one', group([alert()]), false],
    [
      'a Grafana alert whose rule may give one',
      group([alert({ source: 'grafana', generatorURL: 'http://grafana:3000/alerting/grafana/abc123/view' })], 'grafana'),
      true,
    ],
  ])('says a chart may be drawn (the chart thread starts loading) for %s: %s', (_name, n, may) => {
    expect(earlyChartData(n).mayChart).toBe(may);
  });

  it('falls back to the whole enrichment when the charted alert is never handed over (past maxAlerts)', async () => {
    const n = group([a]);
    const whole: EnrichedNotification = { notification: n, enrichments: {} };
    expect(await earlyChartData(n).ready(Promise.resolve(whole))).toBe(whole);
  });

  it('turns a failed enrichment into a skipped chart instead of an error', async () => {
    const outcome = await chartNotification(Promise.reject(new Error('boom')), {
      config: { charts: { enabled: true, budget: 2000, width: 800, height: 400 } },
    });
    expect(outcome).toEqual({ status: 'skipped', reason: { why: 'not-enriched' } });
  });
});

describe('the chart of an alert', () => {
  const window = { start: new Date(T0.getTime() - 30 * 60_000), end: T0 };

  it('shows the metric without the comparison, the threshold, the unit and when it fired', () => {
    const a = alert({ expr: 'node_memory_MemAvailable_bytes < 1e9' });
    const spec = alertChartSpec({ alert: a, expr: a.expr!, alerts: [a] }, [series({ instance: 'db-1:9100', job: 'node' }, [2e9, 9e8])], window);
    expect(spec).toMatchObject({ title: 'node_memory_MemAvailable_bytes', threshold: { op: '<', value: 1e9 }, unit: 'bytes', firingAt: a.startsAt });
    expect(spec.resolvedAt).toBeUndefined();
    expect(spec.lines).toHaveLength(1);
  });

  it('marks the end of a resolved alert and takes the unit from its annotation', () => {
    const endsAt = new Date(T0.getTime() - 5000);
    const a = alert({ status: 'resolved', endsAt, expr: 'my_gauge > 0.5', annotations: { unit: 'percentunit' } });
    const spec = alertChartSpec({ alert: a, expr: a.expr!, alerts: [a] }, [], window);
    expect(spec).toMatchObject({ resolvedAt: endsAt, unit: 'ratio' });
  });

  it('puts no start marker where the sender gave no start time', () => {
    const a = alert({ expr: 'up', startsAtUnknown: true });
    expect(alertChartSpec({ alert: a, expr: 'up', alerts: [a] }, [], window).firingAt).toBeUndefined();
  });
});

describe('where an alert chart ends', () => {
  const window = { start: new Date(T0.getTime() - 30 * 60_000), end: new Date(T0.getTime() - 10 * 60_000) };

  it.each([
    { name: 'a firing alert: at the window end', alert: { status: 'firing' as const }, now: T0, want: window.end },
    {
      name: 'a resolved alert: 15% of the window past its end',
      alert: { status: 'resolved' as const, endsAt: window.end },
      now: T0,
      want: new Date(window.end.getTime() + 3 * 60_000),
    },
    {
      name: 'a resolved alert: never past now',
      alert: { status: 'resolved' as const, endsAt: window.end },
      now: new Date(window.end.getTime() + 60_000),
      want: new Date(window.end.getTime() + 60_000),
    },
  ])('ends $name', ({ alert: a, now, want }) => {
    expect(chartEnd(window, a, now)).toEqual(want);
  });
});

describe('the chart on the message body', () => {
  const body = (): RESTPostAPIChannelMessageJSONBody => ({
    embeds: [{ title: '🔥 FIRING: HostHighCpuLoad', footer: { text: 'Alertmanager → discord-bot' } }],
    allowed_mentions: { parse: [] },
  });
  const rendered: ChartOutcome = { status: 'rendered', file: { name: 'chart.png', data: Buffer.from('png') }, expr: 'node_load1' };

  it.each(['create', 'edit'] as const)('shows a rendered chart as the embed image and lists it as attachment 0 (%s)', (kind) => {
    const out = withChart(body(), rendered, kind, noWarn);
    expect(out.body.embeds![0]!.image).toEqual({ url: 'attachment://chart.png' });
    expect(out.body.attachments).toEqual([{ id: '0', filename: 'chart.png', description: 'Chart of node_load1 over the incident window' }]);
    expect(out.file).toEqual(rendered.status === 'rendered' ? rendered.file : undefined);
  });

  it('says in the footer why the chart is missing, and removes an old chart on an edit', () => {
    const skipped: ChartOutcome = { status: 'skipped', reason: { why: 'over-budget', budgetMs: 2000 } };
    const created = withChart(body(), skipped, 'create', noWarn);
    expect(created.body.embeds![0]!.footer!.text).toBe(`Alertmanager → discord-bot · chart skipped: took over 2s`);
    expect(created.body.embeds![0]!.image).toBeUndefined();
    expect(created.body.attachments).toBeUndefined();
    expect(created.file).toBeUndefined();
    expect(withChart(body(), skipped, 'edit', noWarn).body.attachments).toEqual([]);
  });

  it('leaves a message with nothing to chart as it is, but an edit still drops old attachments', () => {
    expect(withChart(body(), { status: 'none' }, 'create', noWarn).body).toEqual(body());
    expect(withChart(body(), { status: 'none' }, 'edit', noWarn).body).toEqual({ ...body(), attachments: [] });
  });
});

// ---------------------------------------------------------------------------------------------
// Real Prometheus, the pipeline, the outbox, the drainer and the Discord double

/** Keeps every core busy for `ms` (a real CPU spike for node_exporter to see). */
async function burnCpu(ms: number): Promise<void> {
  const script = `const end = Date.now() + ${ms}; while (Date.now() < end) {}`;
  const children = Array.from({ length: availableParallelism() }, () => spawn(process.execPath, ['-e', script], { stdio: 'ignore' }));
  await Promise.all(children.map((c) => new Promise((resolve) => c.once('exit', resolve))));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('alert charts from the real Prometheus, through the outbox, to the Discord double', () => {
  let nodeExporter: NodeExporterHandle;
  let prometheus: PrometheusHandle;
  let loki: LokiDoubleHandle;
  let discord: DiscordDouble;
  let instance: string;
  let dir: string;
  let db: Database;
  let drainer: Drainer;

  beforeAll(async () => {
    nodeExporter = await startNodeExporter();
    instance = `127.0.0.1:${nodeExporter.port}`;
    prometheus = await startPrometheus({ scrapeConfigs: [{ job: 'node', targets: [instance] }] });
    loki = await startLokiDouble();
    discord = await startDiscordDouble({ token: DOUBLE_TOKEN, channels: [CHANNEL] });
    await prometheus.waitFor('count_over_time(node_cpu_seconds_total{cpu="0",mode="idle"}[1m]) >= 8', 30_000);
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await nodeExporter?.stop();
    await loki?.stop();
    await discord?.stop();
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-chart-'));
    db = openDatabase(join(dir, 'vigil.db'));
    drainer = makeDrainer();
  });

  afterEach(async () => {
    await drainer.stop();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function makeDrainer(): Drainer {
    return createDrainer({
      db,
      rest: createRest({ token: DOUBLE_TOKEN, apiBaseUrl: discord.apiBaseUrl, timeoutMs: 5000 }),
      logger: createLogger({ level: 'silent' }),
      minBackoffMs: 10,
      maxBackoffMs: 100,
      pollIntervalMs: 60_000,
      secrets: [DOUBLE_TOKEN],
    });
  }

  function config(charts = 'charts: { budget: 10s }'): Config {
    const r = parseConfig(
      `webhook: { token: chart-test-token-0123456789 }
prometheus: { url: ${prometheus.url} }
loki: { url: ${loki.url} }
discord: { token: discord-token-abcdefghijklmnop, applicationId: "123456789012345678", alertChannelId: "${CHANNEL}" }
enrichment: { lookback: 40s, timeout: 5s }
${charts}`,
      {},
    );
    if (!r.ok) throw new Error(r.errors.join('\n'));
    return r.config;
  }

  function deps(cfg: Config, chartRenderer?: ChartRenderer): PipelineDeps {
    return {
      db,
      prometheus: createPrometheusClient({ url: prometheus.url, timeoutMs: 5000 }),
      loki: createLokiClient({ url: loki.url, timeoutMs: 5000 }),
      config: cfg,
      logger: createLogger({ level: 'silent' }),
      now: () => new Date(),
      ...(chartRenderer ? { chartRenderer } : {}),
    };
  }

  function enrichDeps(cfg: Config, client: PrometheusClient): EnrichDeps {
    return { prometheus: client, loki: createLokiClient({ url: loki.url, timeoutMs: 5000 }), config: cfg.enrichment, now: new Date() };
  }

  /** The fixture's alert, re-labelled for this node_exporter and given `expr` (as Alertmanager's generatorURL carries it). */
  function cpuAlert(alertname: string, expr: string, over: Partial<Alert> = {}): Notification {
    const n = loadWebhook('alertmanager-firing.json');
    const labels = { alertname, instance, job: 'node', severity: 'critical' };
    const a: Alert = {
      ...n.alerts[0]!,
      fingerprint: `${alertname}-1`,
      labels,
      annotations: { summary: `CPU busy on ${instance}` },
      expr,
      generatorURL: `${prometheus.url}/graph?g0.expr=${encodeURIComponent(expr)}`,
      startsAt: new Date(Date.now() - 10_000),
      ...over,
    };
    const status = a.status;
    return {
      ...n,
      status,
      groupKey: `{}:{alertname="${alertname}"}`,
      groupLabels: { alertname },
      commonLabels: labels,
      commonAnnotations: a.annotations,
      alerts: [a],
    };
  }

  async function deliver(n: Notification, d: PipelineDeps): Promise<void> {
    await insertNotification(db, n, new Date());
    await processNotification((await nextPendingNotification(db))!, d);
    await drainer.drainOnce();
    expect(await pendingCount(db)).toBe(0);
  }

  function messageAbout(alertname: string): APIMessage {
    // The alert message itself, in the alert channel (not a post in the incident's thread).
    const found = [...discord.messages.values()].filter((m) => m.channel_id === CHANNEL && m.embeds[0]?.title?.includes(alertname));
    expect(found).toHaveLength(1);
    return found[0]!;
  }

  function chartOf(m: APIMessage): Buffer {
    expect(m.attachments).toHaveLength(1);
    expect(m.attachments[0]).toMatchObject({ filename: 'chart.png', content_type: 'image/png', width: 800, height: 400 });
    // The embed shows the attachment: Discord resolved attachment://chart.png to its URL.
    expect(m.embeds[0]!.image?.url).toBe(m.attachments[0]!.url);
    return discord.attachmentData.get(m.attachments[0]!.id)!;
  }

  it('attaches a chart of a real CPU spike to the alert, and re-renders it with the resolve marker on the edit', async () => {
    const cfg = config();
    const expr = `100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{instance="${instance}",mode="idle"}[5s]))) > 50`;
    await sleep(3000); // a calm baseline before the spike
    const spikeStart = Date.now();
    const spike = burnCpu(7000);
    await sleep(4000);
    const firing = cpuAlert('HostHighCpuLoad', expr, { startsAt: new Date(spikeStart + 2000) });
    await deliver(firing, deps(cfg));

    const message = messageAbout('HostHighCpuLoad');
    const png = chartOf(message);
    const img = PNG.sync.read(png);
    expect([img.width, img.height]).toEqual([800, 400]);
    expect(countColor(png, CHART_COLORS.background, 6)).toBeGreaterThan(800 * 400 * 0.3);
    expect(countColor(png, CHART_COLORS.series[0])).toBeGreaterThan(300); // the CPU line
    expect(countColor(png, CHART_COLORS.threshold)).toBeGreaterThan(200); // "> 50%" dashed line and label
    expect(countColor(png, '#452f33', 8)).toBeGreaterThan(2000); // the red-tinted firing band
    expect(countColor(png, CHART_COLORS.resolved, 20)).toBeLessThan(50); // not resolved yet
    // The multipart request: payload_json lists files[0] as attachment 0; the PNG went as files[0].
    const post = discord.requests.find((r) => r.method === 'POST' && r.files?.length)!;
    expect(post.files).toMatchObject([{ field: 'files[0]', filename: 'chart.png', contentType: 'image/png' }]);
    expect((post.body as RESTPostAPIChannelMessageJSONBody).attachments).toEqual([expect.objectContaining({ id: '0', filename: 'chart.png' })]);

    await spike;
    // The 5s rate falls under 50% about 3s after the spike; the chart goes on a little past that.
    const endsAt = new Date(Date.now() + 3000);
    await sleep(11_000);
    const resolved = cpuAlert('HostHighCpuLoad', expr, { status: 'resolved', startsAt: new Date(spikeStart + 2000), endsAt });
    await deliver(resolved, deps(cfg));

    const edited = discord.messages.get(message.id)!;
    expect(edited.embeds[0]!.title).toMatch(/RESOLVED/);
    const after = chartOf(edited);
    expect(edited.attachments[0]!.id).not.toBe(message.attachments[0]!.id); // replaced, not appended
    expect(after.equals(png)).toBe(false);
    expect(countColor(after, CHART_COLORS.resolved, 20)).toBeGreaterThan(300); // the green resolve marker
    const patch = discord.requests.find((r) => r.method === 'PATCH' && r.path.endsWith(`/messages/${message.id}`))!;
    expect(patch.files).toHaveLength(1);
    expect(discord.invalid).toEqual([]);
    if (UPDATE_GOLDEN) writeFileSync(EXAMPLE_PNG, after);
  }, 60_000);

  it('still delivers the chart after a restart: its bytes are stored with the outbox row', async () => {
    const expr = `node_load1{instance="${instance}"} > 0`;
    const n = cpuAlert('RestartWithChart', expr);
    await insertNotification(db, n, new Date());
    await processNotification((await nextPendingNotification(db))!, deps(config()));
    const stored = (await get(db, 1))!;
    expect(stored.file?.name).toBe('chart.png');

    // A restart: the connection closes with the item pending, a new process opens the same file.
    await drainer.stop();
    await db.close();
    db = openDatabase(join(dir, 'vigil.db'));
    drainer = makeDrainer();
    await drainer.drainOnce();

    const png = chartOf(messageAbout('RestartWithChart'));
    expect(png.equals(stored.file!.data)).toBe(true);
    expect(await get(db, 1)).toMatchObject({ status: 'sent' });
    expect((await get(db, 1))!.file).toBeUndefined(); // the bytes are dropped once Discord has them
    expect(discord.invalid).toEqual([]);
  });

  it('sends the alert without a chart, saying so, when rendering takes longer than the budget', async () => {
    const slow: ChartRenderer = () => new Promise((resolve) => setTimeout(() => resolve(Buffer.from('late')), 5000));
    await deliver(cpuAlert('SlowChart', `node_load1{instance="${instance}"} > 0`), deps(config('charts: { budget: 300ms }'), slow));
    const m = messageAbout('SlowChart');
    expect(m.attachments).toEqual([]);
    expect(m.embeds[0]!.image).toBeUndefined();
    expect(m.embeds[0]!.footer!.text).toContain('chart skipped: took over 300ms');
    expect(discord.invalid).toEqual([]);
  });

  it('warms the chart renderer as the enrichment starts for an alert it may chart, and not for one it cannot', async () => {
    let warmed = 0;
    const d = { ...deps(config()), warmCharts: () => warmed++ };
    await deliver(cpuAlert('WarmChart', `node_load1{instance="${instance}"} > 0`), d);
    expect(warmed).toBe(1);
    const plain = cpuAlert('NoExprNoWarm', 'unused');
    const { expr: _expr, generatorURL: _url, ...noExpr } = plain.alerts[0]!;
    await deliver({ ...plain, alerts: [noExpr] }, d);
    expect(warmed).toBe(1);
  });

  it('says so when the expression has no data in the window', async () => {
    await deliver(cpuAlert('NoChartData', 'vigil_no_such_metric > 1'), deps(config()));
    const m = messageAbout('NoChartData');
    expect(m.attachments).toEqual([]);
    expect(m.embeds[0]!.footer!.text).toContain('chart skipped: no data in the window');
  });

  it('says why when Prometheus refuses the expression', async () => {
    const cfg = config();
    const n = cpuAlert('BadExpr', 'rate(node_load1[5m] > 1');
    const enriched = await enrichNotification(n, enrichDeps(cfg, createPrometheusClient({ url: prometheus.url, timeoutMs: 5000 })));
    const outcome = await chartNotification(enriched, { config: cfg });
    expect(outcome).toMatchObject({ status: 'skipped', reason: { why: 'query-failed', detail: expect.stringMatching(/^Prometheus HTTP 400: bad_data/) } });
  });

  it("draws no chart for Vigil's own alerts or with charts disabled", async () => {
    const n = cpuAlert('Off', `node_load1{instance="${instance}"}`);
    const enriched = await enrichNotification(n, enrichDeps(config(), createPrometheusClient({ url: prometheus.url, timeoutMs: 5000 })));
    expect(enriched.enrichments['Off-1']?.expression?.chart?.series).toHaveLength(1); // there was something to draw
    expect(await chartNotification(enriched, { config: config('charts: { enabled: false }') })).toEqual({ status: 'none' });
    expect(await chartNotification({ ...enriched, notification: { ...n, source: 'vigil' } }, { config: config() })).toEqual({ status: 'none' });
  });

  it('starts rendering the chart once the expression is back, before a slow Loki has answered', async () => {
    const events: string[] = [];
    const realLoki = createLokiClient({ url: loki.url, timeoutMs: 5000 });
    const noting: LokiClient = {
      ...realLoki,
      queryRange: (...args) => realLoki.queryRange(...args).finally(() => events.push('loki answered')),
      query: (...args) => realLoki.query(...args).finally(() => events.push('loki answered')),
    };
    const render: ChartRenderer = (spec, size, signal) => {
      events.push('render started');
      return renderChart(spec, size, signal);
    };
    await loki.setMode('slow', 500);
    try {
      const n = cpuAlert('Overlap', `node_load1{instance="${instance}"} > 0`);
      n.alerts[0]!.labels.container = 'api'; // a log selector, so Loki is asked
      await deliver(n, { ...deps(config(), render), loki: noting });
    } finally {
      await loki.setMode('normal');
    }
    expect(events.filter((e) => e === 'loki answered').length).toBeGreaterThan(0);
    expect(events[0]).toBe('render started');
    expect(PNG.sync.read(chartOf(messageAbout('Overlap'))).width).toBe(800); // awaited by the render stage and delivered
  });

  it("queries the alert's expression once for both the message and its chart", async () => {
    const expr = `node_load1{instance="${instance}"}`;
    const real = createPrometheusClient({ url: prometheus.url, timeoutMs: 5000 });
    const ranges: string[] = [];
    const counting: PrometheusClient = {
      ...real,
      queryRange: (query, ...rest) => {
        ranges.push(query);
        return real.queryRange(query, ...rest);
      },
    };
    await deliver(cpuAlert('OneQuery', `${expr} > 0`), { ...deps(config()), prometheus: counting });
    const m = messageAbout('OneQuery');
    expect(PNG.sync.read(chartOf(m)).width).toBe(800); // the chart was drawn
    expect(ranges.filter((q) => q === expr)).toHaveLength(1);
    expect(ranges.length).toBeGreaterThan(1); // the other range queries (target health) still ran
  });
});
