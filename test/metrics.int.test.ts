import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register as globalRegistry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { configSecrets, startVigil, type Vigil } from '../src/main.js';
import { createMetrics, metricsRoute, outboxOldestAgeSeconds } from '../src/metrics.js';
import { openDatabase, type Database } from '../src/store/db.js';
import { enqueue, markSent } from '../src/store/outbox.js';
import { botConfig, FAST_DELIVERY } from './support/bot-config.js';
import { startDiscordDouble, type DiscordDouble } from './support/discord-double.js';
import { eventually } from './support/eventually.js';
import { commandInteraction, generateTestKeys, sendInteraction, TEST_CHANNEL_ID, type TestKeys } from './support/interactions.js';
import { freePort } from './support/ports.js';
import { startPrometheus, type PrometheusHandle } from './support/procs.js';
import { fixtureJson } from './webhooks/fixtures.js';

const WEBHOOK_TOKEN = 'metrics-test-webhook-token-0123456789';
const T0 = Date.parse('2026-03-01T12:00:00Z');

/** Prometheus' text exposition of a registry, as a scrape would get it. */
async function exposition(metrics: ReturnType<typeof createMetrics>): Promise<string> {
  return metrics.registry.metrics();
}

/** The value of one unlabelled or fully labelled sample line, e.g. `vigil_outbox_depth 2`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('createMetrics', () => {
  let dir: string;
  let db: Database;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-metrics-'));
    db = openDatabase(join(dir, 'vigil.db'));
  });
  afterEach(async () => {
    if (!db.closed) await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives every instance its own registry, so two bots in one process do not collide', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.discordRateLimits.inc();
    expect(a.registry).not.toBe(b.registry);
    expect(sample(await exposition(a), 'vigil_discord_rate_limits_total')).toBe(1);
    expect(sample(await exposition(b), 'vigil_discord_rate_limits_total')).toBe(0);
    expect(globalRegistry.getSingleMetric('vigil_discord_rate_limits_total')).toBeUndefined();
  });

  it('exposes Node runtime metrics next to its own', async () => {
    const text = await exposition(createMetrics());
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes /m);
  });

  it.each([
    ['vigil_webhooks_received_total{source="alertmanager",outcome="accepted"}'],
    ['vigil_webhooks_received_total{source="unknown",outcome="unauthorized"}'],
    ['vigil_deliveries_total{outcome="sent",reason="ok"}'],
    ['vigil_deliveries_total{outcome="retry",reason="rateLimited"}'],
    ['vigil_deliveries_total{outcome="failed",reason="client"}'],
    ['vigil_discord_rate_limits_total'],
  ])('starts %s at 0, so the first event shows in increase()', async (series) => {
    expect(sample(await exposition(createMetrics({ defaultMetrics: false })), series)).toBe(0);
  });

  it('reads outbox depth and oldest age from the store at scrape time', async () => {
    let now = T0;
    const metrics = createMetrics({ db, now: () => new Date(now), defaultMetrics: false });
    expect(sample(await exposition(metrics), 'vigil_outbox_depth')).toBe(0);
    expect(sample(await exposition(metrics), 'vigil_outbox_oldest_age_seconds')).toBe(0);

    const item = { orderKey: 'incident:1', kind: 'create' as const, channelId: TEST_CHANNEL_ID, body: { content: 'x' } };
    const first = await enqueue(db, item, T0 - 90_000);
    await enqueue(db, { ...item, orderKey: 'incident:2' }, T0 - 30_000);
    let text = await exposition(metrics);
    expect(sample(text, 'vigil_outbox_depth')).toBe(2);
    expect(sample(text, 'vigil_outbox_oldest_age_seconds')).toBe(90);

    await markSent(db, first, '1234567890123456789');
    now = T0 + 5_000;
    text = await exposition(metrics);
    expect(sample(text, 'vigil_outbox_depth')).toBe(1);
    expect(sample(text, 'vigil_outbox_oldest_age_seconds')).toBe(35);
  });

  it('still serves a scrape when the store is closed, with the outbox gauges as NaN', async () => {
    const metrics = createMetrics({ db, defaultMetrics: false });
    await db.close();
    const text = await exposition(metrics);
    expect(sample(text, 'vigil_outbox_depth')).toBeNaN();
    expect(sample(text, 'vigil_outbox_oldest_age_seconds')).toBeNaN();
    expect(sample(text, 'vigil_discord_rate_limits_total')).toBe(0);
  });

  it('leaves the outbox gauges out when it has no store', async () => {
    expect(await exposition(createMetrics({ defaultMetrics: false }))).not.toContain('vigil_outbox_depth');
  });

  it('computes the oldest age from the oldest pending item only', async () => {
    const id = await enqueue(db, { orderKey: 'k', kind: 'create', channelId: TEST_CHANNEL_ID, body: {} }, T0 - 10_000);
    expect(await outboxOldestAgeSeconds(db, T0)).toBe(10);
    await markSent(db, id, '1234567890123456789');
    expect(await outboxOldestAgeSeconds(db, T0)).toBe(0);
  });

  it('answers GET /metrics in the text format with the registry content type', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const res = await metricsRoute(metrics).handle({ method: 'GET', path: '/metrics', query: new URLSearchParams(), headers: {}, body: Buffer.alloc(0) });
    expect(res.status).toBe(200);
    expect(res.headers?.['content-type']).toBe(metrics.registry.contentType);
    expect(res.headers?.['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.body).toContain('# TYPE vigil_enrichment_query_duration_seconds histogram');
  });
});

// ---------------------------------------------------------------------------------------------
// A bot in this process, scraped by the real Prometheus every second.

interface LogLine {
  msg: string;
  level: number;
  notificationId?: number;
  incidentId?: number;
  [key: string]: unknown;
}

/** An Alertmanager webhook from the real fixture, re-labelled so each test opens its own incident. */
function alertmanagerBody(alertname: string, status: 'firing' | 'resolved' = 'firing'): string {
  const body = fixtureJson(status === 'firing' ? 'alertmanager-firing.json' : 'alertmanager-resolved.json');
  const startsAt = new Date(Date.now() - 60_000).toISOString();
  body.alerts = body.alerts.slice(0, 1).map((a) => ({
    ...a,
    status,
    labels: { ...(a.labels as Record<string, string>), alertname },
    fingerprint: `fp-${alertname}`.slice(0, 16),
    startsAt,
    endsAt: status === 'resolved' ? new Date().toISOString() : '0001-01-01T00:00:00Z',
  }));
  body.status = status;
  body.groupKey = `{}:{alertname="${alertname}"}`;
  body.groupLabels = { alertname };
  body.commonLabels = { ...(body.commonLabels as Record<string, string>), alertname };
  return JSON.stringify(body);
}

describe('GET /metrics scraped by the real Prometheus', () => {
  let dir: string;
  let discord: DiscordDouble;
  let keys: TestKeys;
  let vigil: Vigil;
  let url: string;
  let prometheus: PrometheusHandle;
  const logLines: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-metrics-e2e-'));
    discord = await startDiscordDouble();
    keys = generateTestKeys();
    // Nobody listens there: enrichment fails fast (and is still timed), as in an outage.
    const closedUrl = `http://127.0.0.1:${await freePort()}`;
    const config = botConfig({
      dir,
      discordApiBaseUrl: discord.apiBaseUrl,
      prometheusUrl: closedUrl,
      lokiUrl: closedUrl,
      publicKeyHex: keys.publicKeyHex,
      webhookToken: WEBHOOK_TOKEN,
      // No incident threads: the delivery counts below are those of the alert messages alone.
      sections: { discord: { threads: false }, enrichment: { timeout: '1s' }, delivery: FAST_DELIVERY, watchdog: { enabled: false }, log: { level: 'debug' } },
    });
    const logger = createLogger({ level: 'debug', secrets: configSecrets(config) }, { write: (s: string) => void logLines.push(s) });
    vigil = await startVigil(config, { logger });
    url = `http://127.0.0.1:${vigil.port}`;
    prometheus = await startPrometheus({ scrapeConfigs: [{ job: 'vigil', targets: [`127.0.0.1:${vigil.port}`] }], scrapeInterval: '1s' });
    await prometheus.waitFor('up{job="vigil"} == 1', 20_000);
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await vigil?.stop();
    await discord?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The value Prometheus holds for a one-series query; undefined when it has no such series. */
  async function promValue(query: string): Promise<number | undefined> {
    const data = await prometheus.query(query);
    const first = data.result[0] as { value: [number, string] } | undefined;
    return first === undefined ? undefined : Number(first.value[1]);
  }

  /** Polls Prometheus until the query's value is `want` (scrapes come every second). */
  async function untilValue(query: string, want: number, timeoutMs = 15_000): Promise<void> {
    let last: number | undefined;
    const reached = async () => ((last = await promValue(query)) === want ? true : undefined);
    await eventually(`${query} to be ${want}`, reached, timeoutMs, 200).catch((err: Error) => {
      throw new Error(`${err.message}, last seen ${last}`);
    });
  }

  async function postWebhook(body: string): Promise<{ status: number; id: number }> {
    const res = await fetch(`${url}/webhooks/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
      body,
    });
    const json = (await res.json()) as { id: number };
    return { status: res.status, id: json.id };
  }

  /** Messages the double holds whose embeds mention `text`. */
  function messagesMentioning(text: string): number {
    return [...discord.messages.values()].filter((m) => JSON.stringify(m.embeds ?? []).includes(text)).length;
  }

  const logs = () => logLines.map((l) => JSON.parse(l) as LogLine);

  it('counts an accepted Alertmanager webhook, as Prometheus sees it', async () => {
    const q = 'vigil_webhooks_received_total{job="vigil",source="alertmanager",outcome="accepted"}';
    expect(await promValue(q)).toBe(0);
    expect((await postWebhook(alertmanagerBody('MetricsFirst'))).status).toBe(202);
    await untilValue(q, 1);
  });

  it('counts a refused webhook under its own outcome, not as accepted', async () => {
    const q = 'vigil_webhooks_received_total{job="vigil",source="alertmanager",outcome="unauthorized"}';
    const before = await promValue(q);
    const res = await fetch(`${url}/webhooks/alertmanager`, { method: 'POST', headers: { authorization: 'Bearer wrong-token-000000000000' }, body: '{}' });
    expect(res.status).toBe(401);
    await untilValue(q, before! + 1);
    expect(await promValue('vigil_webhooks_received_total{job="vigil",source="alertmanager",outcome="accepted"}')).toBe(1);
  });

  it('counts the delivery of the alert message as sent', async () => {
    await untilValue('vigil_deliveries_total{job="vigil",outcome="sent",reason="ok"}', 1);
    expect(messagesMentioning('MetricsFirst')).toBe(1);
    expect(await promValue('sum(vigil_deliveries_total{job="vigil",outcome=~"retry|failed"})')).toBe(0);
  });

  it('times the enrichment queries by backend', async () => {
    // The fixture alert has a job/instance and an expression: Prometheus was asked, and Loki for its logs.
    expect(await promValue('vigil_enrichment_query_duration_seconds_count{job="vigil",backend="prometheus"}')).toBeGreaterThan(0);
    expect(await promValue('vigil_enrichment_query_duration_seconds_count{job="vigil",backend="loki"}')).toBeGreaterThan(0);
  });

  it('shows an empty outbox once everything is delivered', async () => {
    await untilValue('vigil_outbox_depth{job="vigil"}', 0);
    expect(await promValue('vigil_outbox_oldest_age_seconds{job="vigil"}')).toBe(0);
  });

  it('counts a slash command by name and outcome', async () => {
    const q = 'vigil_commands_total{job="vigil",command="health",outcome="answered"}';
    expect(await promValue(q)).toBe(0);
    const delivered = await sendInteraction(url, commandInteraction('health'), { keys, discord });
    expect(delivered.errors).toEqual([]);
    await untilValue(q, 1);
  });

  it('counts a 429 from Discord and still delivers once the wait is over', async () => {
    const rateLimits = 'vigil_discord_rate_limits_total{job="vigil"}';
    const sent = 'vigil_deliveries_total{job="vigil",outcome="sent",reason="ok"}';
    expect(await promValue(rateLimits)).toBe(0);
    const sentBefore = (await promValue(sent))!;
    // As Discord sends it: the body and the bucket headers both say how long to wait.
    discord.failNext([
      {
        status: 429,
        body: { message: 'You are being rate limited.', retry_after: 0.2, global: false },
        headers: {
          'retry-after': '0.2',
          'x-ratelimit-limit': '5',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset-after': '0.2',
          'x-ratelimit-bucket': 'metrics-test-bucket',
          'x-ratelimit-scope': 'user',
        },
      },
    ]);
    expect((await postWebhook(alertmanagerBody('MetricsLimited'))).status).toBe(202);
    await untilValue(rateLimits, 1);
    await untilValue(sent, sentBefore + 1);
    expect(messagesMentioning('MetricsLimited')).toBe(1);
    expect(discord.requests.filter((r) => r.status === 429)).toHaveLength(1);
  });

  it('puts the notification id and, once known, the incident id on every log line of its processing', async () => {
    const opened = await postWebhook(alertmanagerBody('MetricsLogged'));
    await untilValue('sum(vigil_deliveries_total{job="vigil",outcome="sent"})', 3);
    const mine = logs().filter((l) => l.notificationId === opened.id);
    // The pipeline stages, in order, then the summary line.
    expect(mine.filter((l) => l.msg === 'pipeline stage done').map((l) => l.stage)).toEqual(['dedup', 'storm', 'enrich', 'render', 'outbox']);
    const processed = mine.find((l) => l.msg === 'notification processed');
    const incidentId = processed?.incidentId;
    expect(incidentId).toEqual(expect.any(Number));
    // A new incident is created in the outbox stage: from there on, every line names it.
    const outboxAt = mine.findIndex((l) => l.stage === 'outbox');
    expect(mine.slice(outboxAt).every((l) => l.incidentId === incidentId)).toBe(true);
    // No pipeline line goes without the notification id.
    const pipelineLines = logs().filter((l) => l.msg === 'pipeline stage done' || l.msg === 'notification processed');
    expect(pipelineLines.every((l) => typeof l.notificationId === 'number')).toBe(true);
    // The delivery of its message carries the incident id taken from the outbox order key.
    const delivered = logs().filter((l) => l.msg === 'outbox item delivered' && l.incidentId === incidentId);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ kind: 'create', attempt: 1 });

    // Its resolution: the incident is known from the first stage, so every line carries both ids.
    const resolved = await postWebhook(alertmanagerBody('MetricsLogged', 'resolved'));
    await untilValue('sum(vigil_deliveries_total{job="vigil",outcome="sent"})', 5);
    const resolving = logs().filter((l) => l.notificationId === resolved.id);
    // Intake answers before the pipeline has looked the incident up: its line has the notification id only.
    const [intake, ...processing] = resolving;
    expect(intake).toMatchObject({ msg: 'webhook stored', notificationId: resolved.id });
    expect(processing.map((l) => l.msg)).toEqual([...Array<string>(5).fill('pipeline stage done'), 'notification processed']);
    expect(processing.every((l) => l.incidentId === incidentId)).toBe(true);
    const deliveries = logs().filter((l) => l.msg === 'outbox item delivered' && l.incidentId === incidentId);
    expect(deliveries.map((l) => l.kind)).toEqual(['create', 'edit', 'reply']);
  });
});
