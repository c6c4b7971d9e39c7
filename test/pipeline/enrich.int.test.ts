import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, type Config } from '../../src/config/schema.js';
import { createMetrics } from '../../src/metrics.js';
import type { Alert, Notification } from '../../src/model.js';
import { enrichAlert, enrichNotification, LOG_QUERY_LIMIT, type EnrichDeps } from '../../src/pipeline/enrich.js';
import { chartEnd } from '../../src/pipeline/series.js';
import { createLokiClient, toNanos, type LokiClient } from '../../src/queries/loki.js';
import { createPrometheusClient, type PrometheusClient } from '../../src/queries/prometheus.js';
import { loadLokiFixture, startLokiDouble, type LokiDoubleHandle } from '../support/loki-double.js';
import { freePort } from '../support/ports.js';
import { startNodeExporter, startPrometheus, type NodeExporterHandle, type PrometheusHandle } from '../support/procs.js';

/** Config as the schema makes it (defaults included), with a short lookback for a young Prometheus. */
function enrichmentConfig(over: Record<string, unknown> = {}): Config['enrichment'] {
  return configSchema.shape.enrichment.parse({ lookback: '1m', logWindow: '5m', timeout: '1s', ...over });
}

const CPU_METRIC = '100 - (avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[1m])) * 100)';
const CPU_ALERT_EXPR = `${CPU_METRIC} > 90`;
/** The default error filter the enrichment appends to a bare selector. */
const FILTER = ' |~ "(?i)(error|exception|fatal|panic|critical|fail)"';
/** What the scraped node_exporter is called: Prometheus labels it like a real host, so its logs can be found. */
const INSTANCE = 'app-1:9100';

describe('enrichment against real Prometheus, node_exporter and the Loki double', () => {
  let node: NodeExporterHandle;
  let prom: PrometheusHandle;
  let loki: LokiDoubleHandle;
  let prometheus: PrometheusClient;
  let lokiClient: LokiClient;

  beforeAll(async () => {
    node = await startNodeExporter();
    // `instance` set on the target, as a real setup names hosts; it maps to Loki's host="app-1".
    prom = await startPrometheus({
      configYaml: [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        'scrape_configs:',
        '  - job_name: node',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${node.port}']`,
        `        labels: { instance: '${INSTANCE}' }`,
      ].join('\n'),
    });
    loki = await startLokiDouble();
    // rate() over [1m] needs two samples; wait for a few seconds of them.
    await prom.waitFor(`count_over_time((${CPU_METRIC})[10s:1s]) >= 8`);
    prometheus = createPrometheusClient({ url: prom.url, timeoutMs: 5_000 });
    lokiClient = createLokiClient({ url: loki.url, timeoutMs: 5_000 });
  });

  afterAll(async () => {
    await loki?.stop();
    await prom?.stop();
    await node?.stop();
  });

  /** "Now" a few seconds back, so every sample up to it is already ingested and two queries see the same data. */
  function deps(over: Partial<EnrichDeps> = {}): EnrichDeps {
    return { prometheus, loki: lokiClient, config: enrichmentConfig(), now: new Date(Date.now() - 3_000), ...over };
  }

  function cpuAlert(now: Date, over: Partial<Alert> = {}): Alert {
    return {
      fingerprint: 'cpu-app-1',
      status: 'firing',
      labels: { alertname: 'HighCPU', job: 'node', instance: INSTANCE, severity: 'page' },
      annotations: { summary: 'CPU busy' },
      startsAt: new Date(now.getTime() - 1_000),
      source: 'alertmanager',
      expr: CPU_ALERT_EXPR,
      ...over,
    };
  }

  /** A range query straight to Prometheus' HTTP API, bypassing the client under test; the raw JSON body. */
  async function directRangeBody(expr: string, start: Date, end: Date, step: number): Promise<unknown> {
    const params = new URLSearchParams({ query: expr, start: String(start.getTime() / 1000), end: String(end.getTime() / 1000), step: String(step) });
    return (await fetch(`${prom.url}/api/v1/query_range?${params.toString()}`)).json();
  }

  async function directRange(expr: string, start: Date, end: Date, step: number) {
    const body = (await directRangeBody(expr, start, end, step)) as {
      data: { result: Array<{ metric: Record<string, string>; values: [number, string][] }> };
    };
    return body.data.result;
  }

  it('carries the real numbers of the alert’s expression, its target’s health and its error logs', async () => {
    const d = deps();
    const alert = cpuAlert(d.now);
    const e = await enrichAlert(alert, d);

    expect(e.failures).toEqual([]);
    expect(e.fingerprint).toBe('cpu-app-1');

    // Expression: the metric without "> 90", with the same values a direct query gives.
    expect(e.expression?.expr).toBe(CPU_METRIC);
    expect(e.expression?.threshold).toEqual({ op: '>', value: 90 });
    const direct = await directRange(CPU_METRIC, e.window.start, e.window.end, e.window.stepSeconds);
    expect(direct).toHaveLength(1);
    const values = direct[0]!.values.map(([t, v]) => ({ at: t * 1000, value: Number(v) }));
    const peak = Math.max(...values.map((p) => p.value));
    const beforeStart = values.filter((p) => p.at <= alert.startsAt.getTime()).at(-1);
    expect(e.expression?.series).toEqual([
      {
        labels: { instance: INSTANCE },
        atStart: beforeStart!.value,
        peak,
        peakAt: new Date(values.find((p) => p.value === peak)!.at),
        latest: values.at(-1)!.value,
        latestAt: new Date(values.at(-1)!.at),
        points: values.length,
      },
    ]);
    expect(peak).toBeGreaterThanOrEqual(0);
    expect(peak).toBeLessThanOrEqual(100);

    // Target health: up the whole window, and the scrape details of the real node_exporter.
    const up = await directRange(`up{job="node",instance="${INSTANCE}"}`, e.window.start, e.window.end, e.window.stepSeconds);
    const upValues = up.flatMap((s) => s.values.map(([, v]) => Number(v)));
    expect(e.target).toMatchObject({
      job: 'node',
      instance: INSTANCE,
      upRatio: upValues.filter((v) => v === 1).length / upValues.length,
      upNow: 1,
      health: 'up',
      scrapeUrl: `${node.url}/metrics`,
    });
    expect(e.target?.lastError).toBeUndefined();
    expect(e.target?.lastScrape).toBeInstanceOf(Date);
    expect(e.target?.lastScrapeDurationSeconds).toBeGreaterThan(0);

    // Logs: the recorded app-1 lines the default filter keeps, newest first, rebased by the double.
    const sent = loki.requests.filter((r) => r.path === '/loki/api/v1/query_range').at(-1)!;
    expect(sent.query).toMatchObject({
      query: '{host="app-1"} |~ "(?i)(error|exception|fatal|panic|critical|fail)"',
      direction: 'backward',
      limit: String(LOG_QUERY_LIMIT),
    });
    const recorded = (
      loadLokiFixture('query_range-streams-all-forward.json').response.json as {
        data: { result: Array<{ stream: Record<string, string>; values: [string, string][] }> };
      }
    ).data.result;
    const newestRecorded = recorded.flatMap((s) => s.values.map(([ns]) => BigInt(ns))).reduce((a, b) => (a > b ? a : b));
    const shift = BigInt(sent.query.end!) - 30_000_000_000n - newestRecorded;
    const wanted = recorded
      .filter((s) => s.stream.host === 'app-1')
      .flatMap((s) => s.values.map(([ns, line]) => ({ ns: BigInt(ns) + shift, line, labels: s.stream })))
      .filter((l) => /error|exception|fatal|panic|critical|fail/i.test(l.line))
      .sort((a, b) => (a.ns < b.ns ? 1 : -1));
    expect(wanted.length).toBeGreaterThan(0);
    expect(e.logs).toEqual({
      query: sent.query.query,
      count: wanted.length,
      capped: false,
      lines: wanted.slice(0, 5).map((l) => ({ at: new Date(Number(l.ns / 1_000_000n)), line: l.line, labels: l.labels })),
    });
  });

  it('keeps the points it fetched for the chart, in memory, from the same query as the summary', async () => {
    const d = deps();
    const e = await enrichAlert(cpuAlert(d.now), d);
    const direct = await directRange(CPU_METRIC, e.window.start, e.window.end, e.window.stepSeconds);
    expect(e.expression?.chart?.end).toEqual(e.window.end);
    expect(e.expression?.chart?.series).toEqual([
      { labels: { instance: INSTANCE }, points: direct[0]!.values.map(([t, v]) => ({ at: new Date(t * 1000), value: Number(v) })) },
    ]);
    expect(e.expression?.series[0]!.points).toBe(direct[0]!.values.length);
  });

  it('runs a resolved alert’s query on past endsAt for the chart, and still summarises up to endsAt', async () => {
    const d = deps();
    // Resolved 2s before "now": the chart's tail (up to now) holds samples, and so does the window (beforeAll waited for them).
    const endsAt = new Date(d.now.getTime() - 2_000);
    const alert = cpuAlert(d.now, { status: 'resolved', startsAt: new Date(endsAt.getTime() - 2_000), endsAt });
    const e = await enrichAlert(alert, d);
    const end = chartEnd(e.window, alert, d.now);
    expect(e.window.end).toEqual(endsAt);
    expect(end.getTime()).toBeGreaterThan(endsAt.getTime());
    expect(e.expression?.chart?.end).toEqual(end);
    expect(e.failures).toEqual([]);
    const drawn = e.expression!.chart!.series[0]!.points;
    expect(drawn.at(-1)!.at.getTime()).toBeGreaterThan(endsAt.getTime());
    const summary = e.expression!.series[0]!;
    expect(summary.latestAt.getTime()).toBeLessThanOrEqual(endsAt.getTime());
    expect(summary.points).toBe(drawn.filter((p) => p.at.getTime() <= endsAt.getTime()).length);
  });

  it('reports Loki being down as a logs failure and keeps the rest', async () => {
    await loki.setMode('down');
    try {
      const e = await enrichAlert(cpuAlert(new Date()), deps());
      expect(e.failures).toHaveLength(1);
      expect(e.failures[0]).toMatchObject({ backend: 'loki', what: 'logs' });
      expect(e.failures[0]!.message).toMatch(/^Loki unreachable: .*ECONNREFUSED/);
      expect(e.logs).toBeUndefined();
      expect(e.expression?.series).toHaveLength(1);
      expect(e.target?.health).toBe('up');
    } finally {
      await loki.setMode('normal');
    }
  });

  it('gives up on a slow Loki after config.timeout and keeps the rest', async () => {
    await loki.setMode('slow', 10_000);
    try {
      const e = await enrichAlert(cpuAlert(new Date()), deps({ config: enrichmentConfig({ timeout: '1s' }) }));
      expect(e.failures).toEqual([
        { backend: 'loki', what: 'logs', message: 'Loki timed out after 1s', words: { kind: 'timed-out', backend: 'Loki', ms: 1000 } },
      ]);
      expect(e.expression?.series).toHaveLength(1);
      expect(e.target?.upNow).toBe(1);
    } finally {
      await loki.setMode('normal');
    }
  });

  it('passes on Loki’s own error text', async () => {
    await loki.setMode('error');
    try {
      const e = await enrichAlert(cpuAlert(new Date()), deps());
      expect(e.failures).toEqual([{ backend: 'loki', what: 'logs', message: 'Loki HTTP 500: internal error' }]);
    } finally {
      await loki.setMode('normal');
    }
  });

  it('passes on Prometheus’ own parse error for a broken expression', async () => {
    const badExpr = 'rate(node_cpu_seconds_total{mode="idle"}[1m]';
    const d = deps();
    const e = await enrichAlert(cpuAlert(d.now, { expr: badExpr }), d);
    const body = (await directRangeBody(badExpr, e.window.start, e.window.end, e.window.stepSeconds)) as { errorType: string; error: string };
    expect(e.failures).toEqual([{ backend: 'prometheus', what: 'expression', message: `Prometheus HTTP 400: ${body.errorType}: ${body.error}` }]);
    expect(e.failures[0]!.message).toContain('parse error');
    expect(e.expression).toBeUndefined();
    expect(e.target?.health).toBe('up');
    expect(e.logs?.count).toBeGreaterThan(0);
  });

  it('reports every Prometheus query when Prometheus is unreachable, and still finds the logs', async () => {
    const gone = createPrometheusClient({ url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 5_000 });
    const e = await enrichAlert(cpuAlert(new Date()), deps({ prometheus: gone }));
    expect(e.failures.map((f) => [f.backend, f.what])).toEqual([
      ['prometheus', 'expression'],
      ['prometheus', 'target health'],
      ['prometheus', 'scrape status'],
    ]);
    for (const f of e.failures) expect(f.message).toMatch(/^Prometheus unreachable: .*ECONNREFUSED/);
    expect(e.expression).toBeUndefined();
    expect(e.target).toBeUndefined();
    expect(e.logs?.count).toBeGreaterThan(0);
  });

  it('says why there are no logs when no alert label maps to a Loki stream, without asking Loki', async () => {
    const before = loki.requests.length;
    const e = await enrichAlert(cpuAlert(new Date(), { labels: { alertname: 'Watchdog', severity: 'none' }, expr: 'vector(1)' }), deps());
    expect(e.failures).toEqual([
      {
        backend: 'loki',
        what: 'logs',
        message: 'no label to select logs by (container, name, container_name…)',
        words: { kind: 'no-log-selector', labels: 'container, name, container_name…' },
      },
    ]);
    expect(loki.requests.length).toBe(before);
    expect(e.target).toBeUndefined();
    expect(e.expression?.series).toEqual([expect.objectContaining({ labels: {}, peak: 1, latest: 1 })]);
  });

  it('runs no expression query for an alert that carries none', async () => {
    const e = await enrichAlert(cpuAlert(new Date(), { expr: undefined }), deps());
    expect(e.expression).toBeUndefined();
    expect(e.failures).toEqual([]);
    expect(e.target?.health).toBe('up');
  });

  /** The recorded lines of the double, with their stream labels, as `{line, labels}`. */
  function recordedLines(): Array<{ line: string; labels: Record<string, string> }> {
    const json = loadLokiFixture('query_range-streams-all-forward.json').response.json as {
      data: { result: Array<{ stream: Record<string, string>; values: [string, string][] }> };
    };
    return json.data.result.flatMap((s) => s.values.map(([, line]) => ({ line, labels: s.stream })));
  }

  it('adds the host context, the log patterns, the log volume against the hour before and the Explore targets', async () => {
    const d = deps();
    const e = await enrichAlert(cpuAlert(d.now), d);
    expect(e.failures).toEqual([]);

    // Host: the real node_exporter behind app-1; this Prometheus is seconds old, so nothing an hour before.
    expect(e.hostContext?.instance).toBe(INSTANCE);
    expect(e.hostContext?.measures.map((m) => m.kind)).toEqual(expect.arrayContaining(['cpu', 'memory', 'load']));
    for (const m of e.hostContext!.measures) {
      expect(m.now).toBeGreaterThanOrEqual(0);
      expect(m.before).toBeUndefined();
    }
    // No cAdvisor in this Prometheus: no container context, and no note about it either.
    expect(e.containerContext).toBeUndefined();

    // Patterns: the recorded app-1 error lines are two failed requests (threads 3 and 7) and one pool timeout.
    const appErrors = recordedLines().filter((l) => l.labels.host === 'app-1' && /error|exception|fatal|panic|critical|fail/i.test(l.line));
    expect(e.logPatterns).toMatchObject({ distinct: 2, lines: appErrors.length, capped: false });
    expect(e.logPatterns?.patterns.map((p) => [p.count, p.source])).toEqual([
      [2, 'api'],
      [1, 'api'],
    ]);
    expect(e.logPatterns?.patterns[0]!.example).toBe(appErrors.find((l) => l.line.includes('exec-7'))!.line);
    expect(e.logPatterns?.patterns[1]!.example).toBe(appErrors.find((l) => l.line.includes('HikariPool-1'))!.line);

    // Volume: every app-1 line by level, now and (the double serves the same lines again) in the hour before.
    const windowSeconds = Math.round((e.window.logEnd.getTime() - e.window.logStart.getTime()) / 1000);
    const app1 = recordedLines().filter((l) => l.labels.host === 'app-1');
    const count = (level: string) => app1.filter((l) => l.labels.level === level).length;
    expect(e.logVolume).toEqual({
      query: `sum by (level) (count_over_time({host="app-1"}[${windowSeconds}s]))`,
      windowSeconds,
      baselineSeconds: 3600,
      levels: ['error', 'info'].map((level) => ({
        level,
        count: count(level),
        before: count(level),
        ratio: expect.closeTo(3600 / windowSeconds, 9),
      })),
    });
    const instant = loki.requests.filter((r) => r.path === '/loki/api/v1/query').slice(-2);
    expect(instant.map((r) => [r.query.query, r.query.time]).sort()).toEqual(
      [
        [`sum by (level) (count_over_time({host="app-1"}[${windowSeconds}s]))`, toNanos(e.window.logEnd)],
        ['sum by (level) (count_over_time({host="app-1"}[3600s]))', toNanos(e.window.logStart)],
      ].sort(),
    );

    // Explore: the exact queries sent, with the windows they ran over.
    expect(e.exploreLinks).toEqual([
      { label: 'Metrics', datasource: 'prometheus', expr: CPU_METRIC, start: e.window.start, end: e.window.end },
      { label: 'Logs', datasource: 'loki', expr: e.logs!.query, start: e.window.logStart, end: e.window.logEnd },
    ]);
  });

  it.each([
    ['a plain value', 'api', '{container_name="api"}', true],
    // One matcher with an odd value: Loki accepts it and finds nothing, rather than every host's lines.
    ['a value that tries to leave the selector', 'nope"} or {host=~".+', '{container_name="nope\\"} or {host=~\\".+"}', false],
  ])('fills the rule’s vigil_logql selector with %s, escaped, and adds the error filter', async (_name, value, selector, found) => {
    const d = deps();
    const alert = cpuAlert(d.now, {
      labels: { alertname: 'HighCPU', instance: INSTANCE, job: 'node', service: value },
      annotations: { vigil_logql: '{container_name="${service}"}' },
    });
    const e = await enrichAlert(alert, d);
    expect(e.failures).toEqual([]);
    expect(e.logs?.query).toBe(selector + FILTER);
    const windowSeconds = Math.round((e.window.logEnd.getTime() - e.window.logStart.getTime()) / 1000);
    expect(e.logVolume?.query).toBe(`sum by (level) (count_over_time(${selector}[${windowSeconds}s]))`);
    expect(e.logs?.lines.every((l) => l.labels.container_name === value)).toBe(true);
    expect(e.logs!.count > 0).toBe(found);
  });

  it('uses a vigil_logql query with its own pipeline as it is', async () => {
    const d = deps();
    const e = await enrichAlert(cpuAlert(d.now, { annotations: { vigil_logql: '{host="app-1"} |= "HikariPool"' } }), d);
    expect(e.logs?.query).toBe('{host="app-1"} |= "HikariPool"');
    expect(e.logs?.count).toBe(1);
    expect(e.logs?.lines[0]!.line).toContain('HikariPool-1 - Connection is not available');
  });

  it('ignores an invalid vigil_logql with a note, and falls back to the labels', async () => {
    const d = deps();
    const e = await enrichAlert(cpuAlert(d.now, { annotations: { vigil_logql: 'rate({host="app-1"}[5m])' } }), d);
    expect(e.failures).toEqual([
      {
        backend: 'loki',
        what: 'vigil_logql',
        message: 'ignored: expected a LogQL log query starting with a stream selector like {app="api"}',
        words: { kind: 'ignored', detail: 'expected a LogQL log query starting with a stream selector like {app="api"}' },
      },
    ]);
    expect(e.logs?.query).toBe('{host="app-1"} |~ "(?i)(error|exception|fatal|panic|critical|fail)"');
  });

  it('queries the rule’s vigil_promql over the same window as an extra expression', async () => {
    const d = deps();
    const e = await enrichAlert(cpuAlert(d.now, { annotations: { vigil_promql: 'node_memory_MemTotal_bytes{instance="${instance}"} > 0' } }), d);
    expect(e.failures).toEqual([]);
    const expr = `node_memory_MemTotal_bytes{instance="${INSTANCE}"}`;
    expect(e.extraExpression?.expr).toBe(expr);
    expect(e.extraExpression?.threshold).toEqual({ op: '>', value: 0 });
    const direct = await directRange(expr, e.window.start, e.window.end, e.window.stepSeconds);
    expect(e.extraExpression?.series[0]!.latest).toBe(Number(direct[0]!.values.at(-1)![1]));
    expect(e.exploreLinks?.at(-1)).toEqual({ label: 'Extra', datasource: 'prometheus', expr, start: e.window.start, end: e.window.end });
  });

  it('passes on Prometheus’ words about a broken vigil_promql and keeps the rest', async () => {
    const d = deps();
    const e = await enrichAlert(cpuAlert(d.now, { annotations: { vigil_promql: 'sum(rate(x[5m])' } }), d);
    expect(e.failures).toHaveLength(1);
    expect(e.failures[0]).toMatchObject({ backend: 'prometheus', what: 'extra expression' });
    expect(e.failures[0]!.message).toMatch(/^Prometheus HTTP 400: bad_data: .*parse error/);
    expect(e.expression?.series).toHaveLength(1);
  });

  it('keeps a valid vigil_dashboard uid and says why an invalid one is ignored', async () => {
    const d = deps();
    const ok = await enrichAlert(cpuAlert(d.now, { annotations: { vigil_dashboard: 'rYdddlPWk' } }), d);
    expect(ok.dashboardUid).toBe('rYdddlPWk');
    const bad = await enrichAlert(cpuAlert(d.now, { annotations: { vigil_dashboard: '../admin/users' } }), d);
    expect(bad.dashboardUid).toBeUndefined();
    expect(bad.failures).toEqual([
      {
        backend: 'grafana',
        what: 'vigil_dashboard',
        message: 'ignored: expected a dashboard uid (letters, digits, - and _, at most 40)',
        words: { kind: 'bad-dashboard-uid' },
      },
    ]);
  });

  it('enriches at most maxAlerts alerts, firing first, asking for the targets once', async () => {
    let targetCalls = 0;
    const counting: EnrichDeps['prometheus'] = {
      queryRange: (...args) => prometheus.queryRange(...args),
      query: (...args) => prometheus.query(...args),
      targets: (...args) => {
        targetCalls++;
        return prometheus.targets(...args);
      },
    };
    const now = new Date(Date.now() - 3_000);
    const alerts = [
      cpuAlert(now, { fingerprint: 'resolved-1', status: 'resolved', endsAt: new Date(now.getTime() - 1_000) }),
      cpuAlert(now, { fingerprint: 'firing-1' }),
      cpuAlert(now, { fingerprint: 'firing-2' }),
    ];
    const notification = cpuGroup(alerts);
    const out = await enrichNotification(notification, {
      ...deps({ now }),
      prometheus: counting,
      config: enrichmentConfig({ maxAlerts: 2 }),
    });
    expect(out.notification).toBe(notification);
    expect(Object.keys(out.enrichments).sort()).toEqual(['firing-1', 'firing-2']);
    expect(targetCalls).toBe(1);
    for (const e of Object.values(out.enrichments)) {
      expect(e.failures).toEqual([]);
      expect(e.target?.health).toBe('up');
    }
  });

  /** A notification of the HighCPU rule holding `alerts`. */
  function cpuGroup(alerts: Alert[]): Notification {
    return {
      source: 'alertmanager',
      receiver: 'vigil',
      status: 'firing',
      groupKey: '{}:{alertname="HighCPU"}',
      groupLabels: { alertname: 'HighCPU' },
      commonLabels: { alertname: 'HighCPU' },
      commonAnnotations: {},
      truncatedAlerts: 0,
      alerts,
    };
  }

  it('times every enrichment query by backend, a query the alerts share once', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const now = new Date(Date.now() - 3_000);
    const notification = cpuGroup([cpuAlert(now, { fingerprint: 'firing-1' }), cpuAlert(now, { fingerprint: 'firing-2' })]);
    const out = await enrichNotification(notification, { ...deps({ now }), metrics });
    const { values } = await metrics.enrichmentQueryDuration.get();
    const count = (backend: string) => values.find((v) => v.metricName?.endsWith('_count') && v.labels.backend === backend)?.value;
    // Two alerts of one rule and host ask the same: its expression, its `up` history, /api/v1/targets,
    // its host context and its container context once; Loki the error lines and the volume now and an hour before.
    expect(count('prometheus')).toBe(5);
    expect(count('loki')).toBe(3);
    const [first, second] = [out.enrichments['firing-1']!, out.enrichments['firing-2']!];
    expect(first.failures).toEqual([]);
    expect(first.expression?.series.map((s) => s.labels)).toEqual([{ instance: INSTANCE }]);
    expect(first.target?.health).toBe('up');
    expect(first.logs?.count).toBeGreaterThan(0);
    expect(first.hostContext?.instance).toBe(INSTANCE);
    expect(second).toEqual({ ...first, fingerprint: 'firing-2' });
  });

  it('shares only the queries two alerts ask alike, and answers each alert for itself', async () => {
    const calls: string[] = [];
    const counting: Pick<EnrichDeps, 'prometheus' | 'loki'> = {
      prometheus: {
        queryRange: (...args) => (calls.push(`prometheus range ${args[0]}`), prometheus.queryRange(...args)),
        query: (...args) => (calls.push(`prometheus instant ${args[0]}`), prometheus.query(...args)),
        targets: (...args) => (calls.push('prometheus targets'), prometheus.targets(...args)),
      },
      loki: {
        queryRange: (...args) => (calls.push(`loki range ${args[0]}`), lokiClient.queryRange(...args)),
        query: (...args) => (calls.push(`loki instant ${args[0]}`), lokiClient.query(...args)),
      },
    };
    const now = new Date(Date.now() - 3_000);
    const other = 'app-9:9100';
    const alerts = [
      cpuAlert(now, { fingerprint: 'app-1' }),
      cpuAlert(now, { fingerprint: 'app-9', labels: { alertname: 'HighCPU', job: 'node', instance: other, severity: 'page' } }),
    ];
    const out = await enrichNotification(cpuGroup(alerts), { ...deps({ now }), ...counting });
    // The expression and the targets list once; `up`, host and container context, logs and volume per host.
    expect(calls.filter((c) => c.startsWith(`prometheus range ${CPU_METRIC}`))).toHaveLength(1);
    expect(calls.filter((c) => c === 'prometheus targets')).toHaveLength(1);
    expect(calls.filter((c) => c.startsWith('prometheus'))).toHaveLength(8);
    expect(calls.filter((c) => c.startsWith('loki'))).toHaveLength(6);
    expect(new Set(calls).size).toBe(calls.length);

    const [own, away] = [out.enrichments['app-1']!, out.enrichments['app-9']!];
    expect(own.failures).toEqual([]);
    expect(away.failures).toEqual([]);
    // The shared expression: app-9 has no series of its own, so both show app-1's.
    expect(away.expression).toEqual(own.expression);
    expect(own.target).toMatchObject({ instance: INSTANCE, health: 'up', upNow: 1 });
    expect(away.target).toEqual({ job: 'node', instance: other });
    expect(own.hostContext?.instance).toBe(INSTANCE);
    expect(away.hostContext).toBeUndefined();
    expect(own.logs).toMatchObject({ query: `{host="app-1"}${FILTER}` });
    expect(own.logs!.count).toBeGreaterThan(0);
    expect(away.logs).toEqual({ query: `{host="app-9"}${FILTER}`, count: 0, capped: false, lines: [] });
  });
});
