import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import type { Alert, Notification } from '../../src/model.js';
import { alertChartSpec, chartNotification, chartSubject } from '../../src/pipeline/chart.js';
import { skipReason } from '../../src/render/chart.js';
import { QueryError } from '../../src/queries/http.js';
import { enrichNotification, type EnrichDeps } from '../../src/pipeline/enrich.js';
import { createGrafanaClient, createRuleLookup, type RuleLookup } from '../../src/queries/grafana.js';
import { createLokiClient } from '../../src/queries/loki.js';
import type { PrometheusClient, RangeSeries } from '../../src/queries/prometheus.js';
import { startGrafanaDouble, type GrafanaDoubleHandle } from '../support/grafana-double.js';
import { startLokiDouble, type LokiDoubleHandle } from '../support/loki-double.js';

const TOKEN = 'glsa_rules_pipeline_token_0123456789';
const TIMEOUT_MS = 800;
const NOW = new Date();

/** A Prometheus client that answers every range query with one series per asked expression, and records them. */
function recordingPrometheus(): Pick<PrometheusClient, 'queryRange' | 'targets' | 'query'> & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async queryRange(expr, start, end, step) {
      asked.push(expr);
      const points = [];
      for (let t = start.getTime(); t <= end.getTime(); t += step * 1000) points.push({ at: new Date(t), value: 75 });
      return [{ labels: { job: 'node', instance: 'app-1:9100' }, points }] satisfies RangeSeries[];
    },
    async targets() {
      return { active: [], dropped: [] };
    },
    async query() {
      return { resultType: 'vector', result: [] };
    },
  };
}

function grafanaAlert(uid: string, over: Partial<Alert> = {}): Alert {
  return {
    fingerprint: `fp-${uid}`,
    status: 'firing',
    labels: { alertname: 'HostHighCpu', job: 'node', instance: 'app-1:9100', container: 'api', grafana_folder: 'Vigil alerts' },
    annotations: {},
    startsAt: new Date(NOW.getTime() - 120_000),
    source: 'grafana',
    generatorURL: `http://grafana:3000/alerting/grafana/${uid}/view?orgId=1`,
    ...over,
  };
}

function notificationOf(alerts: Alert[]): Notification {
  return {
    source: 'grafana',
    receiver: 'vigil',
    status: 'firing',
    groupKey: 'g',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    truncatedAlerts: 0,
    alerts,
  };
}

let grafana: GrafanaDoubleHandle;
let loki: LokiDoubleHandle;
beforeAll(async () => {
  grafana = await startGrafanaDouble({ token: TOKEN });
  loki = await startLokiDouble();
});
afterAll(async () => {
  await grafana?.stop();
  await loki?.stop();
});
beforeEach(() => {
  grafana.setMode('normal');
  grafana.requests.length = 0;
});

function deps(prometheus = recordingPrometheus(), token = TOKEN): EnrichDeps & { prometheus: ReturnType<typeof recordingPrometheus> } {
  return {
    prometheus,
    loki: createLokiClient({ url: loki.url, timeoutMs: TIMEOUT_MS }),
    config: configSchema.shape.enrichment.parse({ lookback: '10m', logWindow: '5m', timeout: `${TIMEOUT_MS}ms` }),
    now: NOW,
    rules: createRuleLookup({
      client: createGrafanaClient({ url: grafana.url, timeoutMs: TIMEOUT_MS, auth: { token } }),
      uids: { prometheus: 'prometheus', loki: 'loki' },
      ttlMs: 60_000,
    }),
  };
}

/** A rule lookup against a Grafana double serving one rule (data in provisioning YAML), for the test `run`. */
async function withRule(uid: string, title: string, data: string, run: (rules: RuleLookup) => Promise<void>): Promise<void> {
  const custom = await startGrafanaDouble({
    token: TOKEN,
    rulesYaml: `groups:\n  - name: apps\n    folder: Apps\n    rules:\n      - uid: ${uid}\n        title: ${title}\n        condition: C\n        data:\n${data}`,
  });
  try {
    await run(
      createRuleLookup({
        client: createGrafanaClient({ url: custom.url, timeoutMs: TIMEOUT_MS, auth: { token: TOKEN } }),
        uids: { prometheus: 'prometheus', loki: 'loki' },
        ttlMs: 60_000,
      }),
    );
  } finally {
    await custom.stop();
  }
}

describe('a Grafana alert enriched from its own rule', () => {
  it("runs the rule's query, keeps its threshold for the chart and reads the rule in words", async () => {
    const d = deps();
    const { enrichments } = await enrichNotification(notificationOf([grafanaAlert('vigil-host-cpu-high')]), d);
    const e = enrichments['fp-vigil-host-cpu-high']!;
    const expr = '100 * (1 - avg by (job, instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])))';
    expect(d.prometheus.asked).toContain(expr);
    expect(e.expression).toMatchObject({ expr, threshold: { op: '>', value: 70 }, series: [{ labels: { job: 'node', instance: 'app-1:9100' }, peak: 75 }] });
    expect(e.rule).toEqual({
      uid: 'vigil-host-cpu-high',
      title: 'HostHighCpu',
      condition: 'A (last) > 70',
      threshold: '> 70',
      for: '5m',
      folder: 'Vigil alerts',
      group: 'hosts',
      notQueried: [],
    });
    expect(e.exploreLinks?.[0]).toMatchObject({ label: 'Metrics', datasource: 'prometheus', expr });
    expect(e.failures).toEqual([]);
    const chart = await chartNotification(
      { notification: notificationOf([grafanaAlert('vigil-host-cpu-high')]), enrichments },
      { config: { charts: configSchema.shape.charts.parse({}) } },
    );
    expect(chart).toMatchObject({ status: 'rendered', expr });
  });

  it('looks a rule up once for a storm of its alerts', async () => {
    const d = deps();
    const alerts = Array.from({ length: 20 }, (_, i) =>
      grafanaAlert('vigil-host-memory-high', { fingerprint: `fp-${i}`, labels: { alertname: 'HostMemoryHigh', instance: `app-${i}:9100` } }),
    );
    await enrichNotification(notificationOf(alerts), { ...d, config: { ...d.config, maxAlerts: 20 } });
    expect(grafana.requests.filter((r) => r.path.endsWith('/vigil-host-memory-high'))).toHaveLength(1);
  });

  it("charts a Loki rule's LogQL metric query through Loki", async () => {
    const d = deps();
    const alert = grafanaAlert('vigil-error-log-rate', { labels: { alertname: 'ErrorLogRate', container_name: 'api', host: 'app-1' } });
    const { enrichments } = await enrichNotification(notificationOf([alert]), d);
    const e = enrichments[alert.fingerprint]!;
    expect(e.failures).toEqual([]);
    expect(e.expression?.expr).toMatch(/^sum by \(host, container_name\) \(count_over_time\(/);
    expect(e.expression?.threshold).toEqual({ op: '>', value: 10 });
    expect(d.prometheus.asked).toEqual([]);
    expect(loki.requests.some((r) => r.path === '/loki/api/v1/query_range' && r.query.query === e.expression!.expr && r.query.step)).toBe(true);
    expect(e.exploreLinks?.[0]).toMatchObject({ label: 'Metrics', datasource: 'loki' });
  });

  it.each([
    ['refuses the token', () => ({ token: 'glsa_wrong_token_99999' }), 'Grafana HTTP 401: Unauthorized'],
    ['fails', () => (grafana.setMode('error'), {}), 'Grafana HTTP 500: internal server error'],
    ['is down', () => (grafana.setMode('down'), {}), /^Grafana unreachable/],
    ['never answers', () => (grafana.setMode('slow', 10_000), {}), `Grafana timed out after ${TIMEOUT_MS}ms`],
    ['has no such rule', () => ({ uid: 'no-such-rule' }), 'Grafana HTTP 404'],
  ])('still enriches the rest, within the timeout, when Grafana %s', async (_what, setup, message) => {
    const { token, uid } = setup() as { token?: string; uid?: string };
    const d = deps(recordingPrometheus(), token);
    const alert = grafanaAlert(uid ?? 'vigil-host-cpu-high');
    const started = performance.now();
    const { enrichments } = await enrichNotification(notificationOf([alert]), d);
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + 500);
    const e = enrichments[alert.fingerprint]!;
    const failure = e.failures.find((f) => f.what === 'rule lookup');
    expect(failure?.backend).toBe('grafana');
    expect(failure?.message).toMatch(message);
    expect(failure?.message).not.toContain('glsa_');
    expect(e.expression).toBeUndefined();
    // The other queries went on: the logs of the alert's container came from Loki.
    expect(e.logs?.query).toContain('container_name="api"');
    const chart = await chartNotification({ notification: notificationOf([alert]), enrichments }, { config: { charts: configSchema.shape.charts.parse({}) } });
    expect(chart.status).toBe('skipped');
    expect(chart.status === 'skipped' && skipReason(chart.reason)).toMatch(/^rule not read: Grafana/);
  });

  it("reads the lines of a rule's own LogQL log query, and charts its metric query", async () => {
    const data = [
      `          - { refId: A, datasourceUid: loki, model: { expr: '{container_name="api"} |= "JDBC"' } }`,
      `          - { refId: B, datasourceUid: prometheus, model: { expr: 'up{job="api"}' } }`,
      `          - { refId: C, datasourceUid: __expr__, model: { type: threshold, expression: B, conditions: [{ evaluator: { type: lt, params: [1] } }] } }`,
    ].join('\n');
    await withRule('api-db-errors', 'ApiDbErrors', data, async (rules) => {
      const alert = grafanaAlert('api-db-errors', { labels: { alertname: 'ApiDbErrors', container: 'nginx' } });
      const { enrichments } = await enrichNotification(notificationOf([alert]), { ...deps(), rules });
      const e = enrichments[alert.fingerprint]!;
      expect(e.failures).toEqual([]);
      expect(e.logs?.query).toBe('{container_name="api"} |= "JDBC"');
      expect(e.logs?.lines.length).toBeGreaterThan(0);
      expect(e.logs?.lines.every((l) => l.line.includes('JDBC'))).toBe(true);
      expect(e.expression).toMatchObject({ expr: 'up{job="api"}', threshold: { op: '<', value: 1 } });
      expect(e.exploreLinks?.map((l) => [l.label, l.datasource, l.expr])).toEqual([
        ['Metrics', 'prometheus', 'up{job="api"}'],
        ['Logs', 'loki', '{container_name="api"} |= "JDBC"'],
      ]);
    });
  });

  it("says why there is no chart when the rule's own query fails", async () => {
    const failing = recordingPrometheus();
    failing.queryRange = async () => {
      throw new QueryError('http', 'Prometheus HTTP 400: parse error', 400);
    };
    const d = deps(failing);
    const alert = grafanaAlert('vigil-host-cpu-high');
    const { enrichments } = await enrichNotification(notificationOf([alert]), d);
    const chart = await chartNotification({ notification: notificationOf([alert]), enrichments }, { config: { charts: configSchema.shape.charts.parse({}) } });
    expect(chart).toEqual({ status: 'skipped', reason: { why: 'query-failed', detail: 'Prometheus HTTP 400: parse error' } });
  });

  it("runs the rule's query with Grafana's macros filled, and charts its threshold even when the query ends in 'or vector(0)'", async () => {
    const data = [
      `          - { refId: A, datasourceUid: prometheus, model: { expr: 'sum(rate(http_errors_total[$__rate_interval])) or vector(0)' } }`,
      `          - { refId: C, datasourceUid: __expr__, model: { type: threshold, expression: A, conditions: [{ evaluator: { type: gt, params: [5] } }] } }`,
    ].join('\n');
    await withRule('api-5xx', 'Api5xx', data, async (rules) => {
      const d = deps();
      const alert = grafanaAlert('api-5xx', { labels: { alertname: 'Api5xx' } });
      const { enrichments } = await enrichNotification(notificationOf([alert]), { ...d, rules });
      expect(d.prometheus.asked).toContain('sum(rate(http_errors_total[60s])) or vector(0)');
      const subject = chartSubject(notificationOf([alert]), { notification: notificationOf([alert]), enrichments })!;
      const spec = alertChartSpec(subject, enrichments[alert.fingerprint]!.expression!.chart!.series, { start: new Date(NOW.getTime() - 600_000), end: NOW });
      expect(spec.threshold).toEqual({ op: '>', value: 5 });
      expect(spec.title).toBe('sum(rate(http_errors_total[$__rate_interval])) or vector(0)');
    });
  });

  it('leaves an alert with an expression of its own, and one without a rule page, alone', async () => {
    const d = deps();
    await enrichNotification(
      notificationOf([
        grafanaAlert('vigil-host-cpu-high', { fingerprint: 'own', expr: 'up' }),
        grafanaAlert('x', { fingerprint: 'none', generatorURL: 'http://grafana:3000/d/abc' }),
      ]),
      d,
    );
    expect(grafana.requests).toEqual([]);
    expect(d.prometheus.asked).toContain('up');
    expect(d.prometheus.asked).not.toContain('100 * (1 - avg by (job, instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])))');
  });
});
