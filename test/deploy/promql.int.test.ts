import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { createMetrics, metricsRoute, type Metrics } from '../../src/metrics.js';
import { createHttpServer, listen } from '../../src/server.js';
import { openDatabase } from '../../src/store/db.js';
import { DEFAULT_CONTAINERS, startCadvisor, type CadvisorHandle, type FakeContainer } from '../support/cadvisor.js';
import { eventually } from '../support/eventually.js';
import { loadLokiFixture, parseLogQL, startLokiDouble, type LokiDoubleHandle } from '../support/loki-double.js';
import { freePort } from '../support/ports.js';
import { startNodeExporter, startPrometheus, type NodeExporterHandle, type PromQueryData, type PrometheusHandle } from '../support/procs.js';

/*
 * Every query the Grafana provisioning holds (alert rules and dashboards) runs against real
 * backends: the Debian Prometheus scraping a real node_exporter, the cAdvisor-shaped exporter of
 * test/support/cadvisor.ts, and the bot's own /metrics (src/metrics.ts, real prom-client); LogQL
 * runs against the Loki contract double. Each must answer without error and with the result type
 * Grafana asks for, and the alert rules' three steps (A query, B reduce last, C threshold) are
 * replayed on the answers to show which series each rule would fire for.
 *
 * test/support/cadvisor.ts serves only container_cpu_usage_seconds_total and
 * container_memory_working_set_bytes. The rules and dashboards also read container_start_time_seconds,
 * container_oom_events_total, container_last_seen, container_spec_memory_limit_bytes and
 * container_network_{receive,transmit}_bytes_total, so the scrape target here is a small proxy that
 * serves the exporter's body plus those series, in cAdvisor's format (its HELP/TYPE text, the same
 * id/image/name labels, an explicit timestamp on every sample).
 */

const GRAFANA_DIR = new URL('../../deploy/compose/grafana/', import.meta.url);
const RULES_FILE = new URL('provisioning/alerting/rules.yaml', GRAFANA_DIR);
const DASHBOARD_DIR = new URL('dashboards/', GRAFANA_DIR);

// ------------------------------------------------------------------------------------------------
// Reading the provisioning files

interface DatasourceRef {
  type?: string;
  uid?: string;
}

interface RuleData {
  refId: string;
  datasourceUid: string;
  model: {
    expr?: string;
    type?: string;
    expression?: string;
    reducer?: string;
    settings?: { mode?: string };
    conditions?: Array<{ evaluator: { type: string; params: number[] } }>;
    instant?: boolean;
    queryType?: string;
  };
}

interface Rule {
  uid: string;
  title: string;
  condition: string;
  annotations: Record<string, string>;
  data: RuleData[];
}

interface RulesFile {
  groups: Array<{ name: string; rules: Rule[] }>;
}

interface Target {
  refId: string;
  expr?: string;
  datasource?: DatasourceRef;
  instant?: boolean;
  queryType?: string;
}

interface Panel {
  title: string;
  type: string;
  /** Minimum interval ("2m"): raises $__interval and $__rate_interval. */
  interval?: string;
  datasource?: DatasourceRef;
  targets?: Target[];
  panels?: Panel[];
}

interface TemplateVar {
  name: string;
  type: string;
  query?: string | { query?: string };
  datasource?: DatasourceRef;
  allValue?: string;
  current?: { value?: string | string[] };
}

interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating?: { list: TemplateVar[] };
}

/** One query a dashboard panel runs. */
interface PanelQuery {
  /** "Dashboard / panel / refId", for test names. */
  name: string;
  datasourceUid: string;
  /** The expression with Grafana's variables replaced by what "All" and the globals expand to. */
  expr: string;
  instant: boolean;
}

/** One query a dashboard variable runs to list its values. */
interface VariableQuery {
  name: string;
  datasourceUid: string;
  query: string;
}

const rulesFile = parse(readFileSync(RULES_FILE, 'utf8')) as RulesFile;
const rules: Rule[] = rulesFile.groups.flatMap((g) => g.rules);
const dashboards: Dashboard[] = readdirSync(DASHBOARD_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(new URL(f, DASHBOARD_DIR), 'utf8')) as Dashboard);

/** Seconds in a Prometheus-style duration (5m, 1h30m, 15s). */
function durationSeconds(text: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 };
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((m) => m[0]).join('') !== text) throw new Error(`not a duration: ${text}`);
  return parts.reduce((sum, m) => sum + Number(m[1]) * (units[m[2] as string] as number), 0);
}

/** The Prometheus datasource's scrape interval (jsonData.timeInterval), which Grafana's $__rate_interval builds on. */
const SCRAPE_SECONDS = (() => {
  const file = parse(readFileSync(new URL('provisioning/datasources/datasources.yaml', GRAFANA_DIR), 'utf8')) as {
    datasources: Array<{ uid: string; jsonData?: { timeInterval?: string } }>;
  };
  return durationSeconds(file.datasources.find((d) => d.uid === 'prometheus')?.jsonData?.timeInterval ?? '15s');
})();
/** Stands in for Grafana's auto interval (time range / panel width): one minute. */
const AUTO_INTERVAL_SECONDS = 60;

/**
 * Grafana's global variables for a panel: $__interval is the auto interval raised to the panel's
 * minimum interval; $__rate_interval is max($__interval + scrape interval, 4 x scrape interval).
 */
function globalVariables(panelInterval?: string): Record<string, string> {
  const interval = Math.max(AUTO_INTERVAL_SECONDS, panelInterval ? durationSeconds(panelInterval) : 0);
  const rateInterval = Math.max(interval + SCRAPE_SECONDS, 4 * SCRAPE_SECONDS);
  return { __interval: `${interval}s`, __auto: `${interval}s`, __rate_interval: `${rateInterval}s`, __range: '1h' };
}

/** The values a dashboard's own variables take when "All" (or nothing, for a text box) is selected. */
function variableValues(d: Dashboard): Record<string, string> {
  const values: Record<string, string> = {};
  for (const v of d.templating?.list ?? []) {
    if (v.type === 'textbox') values[v.name] = typeof v.current?.value === 'string' ? v.current.value : '';
    else values[v.name] = v.allValue ?? '.*';
  }
  return values;
}

/** Replaces $name, ${name} and ${name:format}; an unknown variable is an error (Grafana would leave it in). */
function substitute(expr: string, values: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const value = values[(braced ?? bare) as string];
    if (value === undefined) throw new Error(`unknown dashboard variable ${whole} in ${expr}`);
    return value;
  });
}

function flattenPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...flattenPanels(p.panels ?? [])]);
}

function panelQueries(d: Dashboard): PanelQuery[] {
  const values = variableValues(d);
  return flattenPanels(d.panels).flatMap((p) =>
    (p.targets ?? [])
      .filter((t) => typeof t.expr === 'string')
      .map((t) => ({
        name: `${d.title} / ${p.title} / ${t.refId}`,
        datasourceUid: t.datasource?.uid ?? p.datasource?.uid ?? '',
        expr: substitute(t.expr as string, { ...globalVariables(p.interval), ...values }),
        // Prometheus targets say instant: true; Loki ones queryType: "instant".
        instant: t.instant === true || t.queryType === 'instant',
      })),
  );
}

function variableQueries(d: Dashboard): VariableQuery[] {
  const values = { ...globalVariables(), ...variableValues(d) };
  return (d.templating?.list ?? [])
    .filter((v) => v.type === 'query')
    .map((v) => ({
      name: `${d.title} / $${v.name}`,
      datasourceUid: v.datasource?.uid ?? '',
      query: substitute(typeof v.query === 'string' ? v.query : (v.query?.query ?? ''), values),
    }));
}

const allPanelQueries = dashboards.flatMap(panelQueries);
const promPanelQueries = allPanelQueries.filter((q) => q.datasourceUid === 'prometheus');
const lokiPanelQueries = allPanelQueries.filter((q) => q.datasourceUid === 'loki');
const allVariableQueries = dashboards.flatMap(variableQueries);

function queryNode(rule: Rule): RuleData {
  const node = rule.data.find((d) => d.datasourceUid !== '__expr__');
  if (!node?.model.expr) throw new Error(`rule ${rule.title} has no datasource query`);
  return node;
}

const promRules = rules.filter((r) => queryNode(r).datasourceUid === 'prometheus');
const lokiRules = rules.filter((r) => queryNode(r).datasourceUid === 'loki');

function ruleNamed(title: string): Rule {
  const rule = rules.find((r) => r.title === title);
  if (!rule) throw new Error(`no alert rule titled ${title} in rules.yaml`);
  return rule;
}

// ------------------------------------------------------------------------------------------------
// Grafana's B (reduce) and C (threshold) steps, replayed on an instant vector

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

const EVALUATORS: Record<string, (v: number, p: number[]) => boolean> = {
  gt: (v, [a]) => v > (a as number),
  lt: (v, [a]) => v < (a as number),
  within_range: (v, [a, b]) => v > (a as number) && v < (b as number),
  outside_range: (v, [a, b]) => v < (a as number) || v > (b as number),
};

/** The label sets (and reduced values) the rule's condition is true for, given A's instant vector. */
function firingSeries(rule: Rule, vector: VectorSample[]): Array<{ labels: Record<string, string>; value: number }> {
  const byRef = new Map(rule.data.map((d) => [d.refId, d]));
  const condition = byRef.get(rule.condition);
  const reduce = condition?.model.type === 'threshold' ? byRef.get(condition.model.expression ?? '') : undefined;
  if (!condition || reduce?.model.type !== 'reduce' || reduce.model.reducer !== 'last') {
    throw new Error(`rule ${rule.title}: expected condition = threshold over a "last" reduce`);
  }
  const evaluator = condition.model.conditions?.[0]?.evaluator;
  const test = evaluator ? EVALUATORS[evaluator.type] : undefined;
  if (!evaluator || !test) throw new Error(`rule ${rule.title}: unknown threshold evaluator`);
  // An instant vector has one point per series, so "last" is that point; dropNN drops NaN.
  const reduced = vector
    .map((s) => ({ labels: s.metric, value: Number(s.value[1]) }))
    .filter((s) => !(reduce.model.settings?.mode === 'dropNN' && Number.isNaN(s.value)));
  return reduced.filter((s) => test(s.value, evaluator.params));
}

/** The label names an annotation template reads through `$labels.<name>`. */
function annotationLabels(rule: Rule): string[] {
  const names = Object.values(rule.annotations).flatMap((text) => [...text.matchAll(/\$labels\.(\w+)/g)].map((m) => m[1] as string));
  return [...new Set(names)].sort();
}

// ------------------------------------------------------------------------------------------------
// cAdvisor series missing from test/support/cadvisor.ts, served in cAdvisor's format

interface CgroupRow {
  id: string;
  image: string;
  name: string;
}

const MiB = 1024 * 1024;
/** A fixed boot time (unix seconds) the start times count from. */
const BOOT_SECONDS = 1_763_700_000;
/** How often `api` restarts, in proxy scrapes, before it settles: enough for ContainerRestarting. */
const API_RESTARTS = 3;
/** The scrape at which `db` is OOM-killed and restarted once. */
const DB_OOM_AT = 3;

/** The worker container burns 0.9 core: above ContainerHighCpu's 0.8 threshold; the others stay below. */
const CONTAINERS: readonly FakeContainer[] = [
  ...DEFAULT_CONTAINERS,
  { name: 'worker', image: 'ghcr.io/acme/worker:2.0.1', cores: 0.9, memoryBytes: 300 * MiB },
];
const MEMORY_LIMITS: Record<string, number> = { api: 1024 * MiB, db: 2048 * MiB, nginx: 0, worker: 512 * MiB };

/** The cgroups the exporter reports, read from its own body so the extra series carry identical labels. */
function cgroupRows(body: string): CgroupRow[] {
  const rows = new Map<string, CgroupRow>();
  for (const m of body.matchAll(/^container_memory_working_set_bytes\{id="([^"]*)",image="([^"]*)",name="([^"]*)"\}/gm)) {
    rows.set(m[1] as string, { id: m[1] as string, image: m[2] as string, name: m[3] as string });
  }
  return [...rows.values()];
}

function cadvisorLabels(row: CgroupRow, extra: Record<string, string> = {}): string {
  const all = { ...extra, id: row.id, image: row.image, name: row.name };
  return `{${Object.entries(all)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;
}

/**
 * The extra series at the `scrape`-th scrape (1-based): `api` restarts on each of its first scrapes,
 * `db` is OOM-killed and restarted once, the root cgroup (name="") counts OOM kills on every scrape
 * (a host-level kill outside any container) so a rule that forgets `name!=""` would fire for it.
 */
function extraCadvisorMetrics(rows: CgroupRow[], scrape: number, nowMs: number): string {
  const startTime = (r: CgroupRow): number => {
    if (r.name === '') return BOOT_SECONDS;
    if (r.name === 'api') return BOOT_SECONDS + 600 + 100 * Math.min(scrape, API_RESTARTS + 1);
    if (r.name === 'db') return BOOT_SECONDS + 600 + (scrape >= DB_OOM_AT ? 700 : 0);
    return BOOT_SECONDS + 600;
  };
  const ooms = (r: CgroupRow): number => (r.name === '' ? scrape : r.name === 'db' && scrape >= DB_OOM_AT ? 1 : 0);
  const limit = (r: CgroupRow): number => MEMORY_LIMITS[r.name] ?? 0;
  const metric = (name: string, help: string, type: string, value: (r: CgroupRow) => number, extra?: Record<string, string>) => [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} ${type}`,
    ...rows.map((r) => `${name}${cadvisorLabels(r, extra)} ${value(r)} ${nowMs}`),
  ];
  return [
    ...metric('container_last_seen', 'Last time a container was seen by the exporter', 'gauge', () => Math.floor(nowMs / 1000)),
    ...metric('container_network_receive_bytes_total', 'Cumulative count of bytes received', 'counter', () => 1500 * scrape, { interface: 'eth0' }),
    ...metric('container_network_transmit_bytes_total', 'Cumulative count of bytes transmitted', 'counter', () => 700 * scrape, { interface: 'eth0' }),
    ...metric('container_oom_events_total', 'Count of out of memory events observed for the container', 'counter', ooms),
    ...metric('container_spec_memory_limit_bytes', 'Memory limit for the container.', 'gauge', limit),
    ...metric('container_start_time_seconds', 'Start time of the container since unix epoch in seconds.', 'gauge', startTime),
  ].join('\n');
}

interface CadvisorProxy {
  target: string;
  scrapes(): number;
  stop(): Promise<void>;
}

/** Serves the exporter's /metrics with the extra series appended; one upstream scrape per scrape. */
async function startCadvisorProxy(upstream: CadvisorHandle): Promise<CadvisorProxy> {
  let served = 0;
  const server: Server = createServer((req, res) => {
    void (async () => {
      if (req.url?.split('?')[0] !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      const body = await (await fetch(`${upstream.url}/metrics`)).text();
      served += 1;
      const extra = extraCadvisorMetrics(cgroupRows(body), served, Date.now());
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(`${body}${extra}\n`);
    })().catch((err: Error) => res.writeHead(500).end(err.message));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    target: `127.0.0.1:${port}`,
    scrapes: () => served,
    stop: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

// ------------------------------------------------------------------------------------------------
// The bot's own /metrics, with some activity so rates and quantiles have data

interface VigilEndpoint {
  target: string;
  metrics: Metrics;
  stop(): Promise<void>;
}

/** Enrichment latencies (s) recorded every tick: p95 lands in the (0.1, 0.25] and (0.25, 0.5] buckets. */
const PROMETHEUS_QUERY_SECONDS = 0.12;
const LOKI_QUERY_SECONDS = 0.4;

/** Serves the bot's real metrics registry (src/metrics.ts) over its real HTTP server, with steady activity. */
async function startVigilMetrics(): Promise<VigilEndpoint> {
  const db = openDatabase(':memory:');
  const metrics = createMetrics({ db });
  const server = createHttpServer({ routes: [metricsRoute(metrics)], bodyLimit: 1024, logger: createLogger({ level: 'silent' }) });
  const port = await listen(server, '127.0.0.1', 0);
  const timer = setInterval(() => {
    metrics.webhooksReceived.inc({ source: 'grafana', outcome: 'accepted' });
    metrics.deliveries.inc({ outcome: 'sent', reason: 'ok' });
    metrics.commands.inc({ command: 'alerts', outcome: 'answered' });
    metrics.enrichmentQueryDuration.observe({ backend: 'prometheus' }, PROMETHEUS_QUERY_SECONDS);
    metrics.enrichmentQueryDuration.observe({ backend: 'loki' }, LOKI_QUERY_SECONDS);
  }, 250);
  return {
    target: `127.0.0.1:${port}`,
    metrics,
    stop: async () => {
      clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
    },
  };
}

// ------------------------------------------------------------------------------------------------
// Harness

let nodeExporter: NodeExporterHandle | undefined;
let cadvisor: CadvisorHandle | undefined;
let proxy: CadvisorProxy | undefined;
let vigil: VigilEndpoint | undefined;
let prometheus: PrometheusHandle | undefined;
let loki: LokiDoubleHandle | undefined;
let deadTarget = '';

function prom(): PrometheusHandle {
  if (!prometheus) throw new Error('Prometheus did not start');
  return prometheus;
}

async function rangeQuery(expr: string): Promise<PromQueryData> {
  const end = Math.floor(Date.now() / 1000);
  const params = new URLSearchParams({ query: expr, start: String(end - 300), end: String(end), step: '15' });
  const res = await fetch(`${prom().url}/api/v1/query_range?${params.toString()}`, { signal: AbortSignal.timeout(5_000) });
  const body = (await res.json()) as { status: string; data?: PromQueryData; error?: string };
  if (res.status !== 200 || body.status !== 'success' || !body.data) {
    throw new Error(`Prometheus range query ${expr} failed: HTTP ${res.status}: ${body.error ?? ''}`);
  }
  return body.data;
}

async function seriesLabelValues(selector: string, label: string): Promise<string[]> {
  const params = new URLSearchParams({ 'match[]': selector });
  const res = await fetch(`${prom().url}/api/v1/series?${params.toString()}`, { signal: AbortSignal.timeout(5_000) });
  const body = (await res.json()) as { status: string; data?: Array<Record<string, string>>; error?: string };
  if (res.status !== 200 || body.status !== 'success' || !body.data) {
    throw new Error(`Prometheus series ${selector} failed: HTTP ${res.status}: ${body.error ?? ''}`);
  }
  return [...new Set(body.data.map((s) => s[label]).filter((v): v is string => v !== undefined))];
}

async function lokiGet(path: string, params: Record<string, string>): Promise<{ status: number; body: string }> {
  if (!loki) throw new Error('the Loki double did not start');
  const res = await fetch(`${loki.url}${path}?${new URLSearchParams(params).toString()}`, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: await res.text() };
}

beforeAll(async () => {
  nodeExporter = await startNodeExporter();
  cadvisor = await startCadvisor({ containers: CONTAINERS });
  proxy = await startCadvisorProxy(cadvisor);
  vigil = await startVigilMetrics();
  loki = await startLokiDouble();
  // Nothing listens on this port: the `dead` job's `up` is 0.
  deadTarget = `127.0.0.1:${await freePort()}`;
  prometheus = await startPrometheus({
    scrapeConfigs: [
      { job: 'node', targets: [`127.0.0.1:${nodeExporter.port}`] },
      { job: 'cadvisor', targets: [proxy.target] },
      { job: 'vigil', targets: [vigil.target] },
      { job: 'dead', targets: [deadTarget] },
    ],
  });
  await prometheus.waitFor('up{job="dead"} == 0', 20_000);
  // rate() and changes() need samples: the exporter's clock has to catch up (6 scrapes) and `api`
  // has to have restarted API_RESTARTS times.
  await eventually('the cAdvisor exporter to serve 5 minutes of history', () => (cadvisor?.caughtUp() ? true : undefined));
  await prometheus.waitFor(`changes(container_start_time_seconds{name="api"}[15m]) >= ${API_RESTARTS}`, 20_000);
  await prometheus.waitFor('rate(container_cpu_usage_seconds_total{name="worker"}[5m]) > 0.89', 20_000);
  await prometheus.waitFor('rate(node_cpu_seconds_total{mode="idle"}[5m])', 20_000);
  await prometheus.waitFor('rate(vigil_enrichment_query_duration_seconds_count{backend="loki"}[1m]) > 0', 20_000);
}, 90_000);

afterAll(async () => {
  await Promise.allSettled([prometheus?.stop(), nodeExporter?.stop(), proxy?.stop(), cadvisor?.stop(), vigil?.stop(), loki?.stop()]);
});

// ------------------------------------------------------------------------------------------------
// Alert rules

describe('Grafana alert rules on Prometheus', () => {
  it('finds Prometheus and Loki rules to check', () => {
    expect(promRules.length).toBeGreaterThanOrEqual(7);
    expect(lokiRules.length).toBeGreaterThanOrEqual(1);
  });

  it.each(promRules.map((r) => [r.title, r] as const))('%s: query A answers an instant vector', async (_title, rule) => {
    const node = queryNode(rule);
    expect(node.model.instant).toBe(true);
    const data = await prom().query(node.model.expr as string);
    expect(data.resultType).toBe('vector');
    expect(data.result.length).toBeGreaterThan(0);
  });

  it.each(promRules.map((r) => [r.title, r] as const))('%s: every label its annotations read is on the series it evaluates', async (_title, rule) => {
    const data = await prom().query(queryNode(rule).model.expr as string);
    const wanted = annotationLabels(rule);
    for (const s of data.result as VectorSample[]) {
      for (const label of wanted) expect(s.metric, `${rule.title}: $labels.${label}`).toHaveProperty(label);
    }
  });

  it('TargetDown fires for the unreachable target and no other', async () => {
    const rule = ruleNamed('TargetDown');
    const data = await prom().query(queryNode(rule).model.expr as string);
    const firing = firingSeries(rule, data.result as VectorSample[]);
    expect(firing.map((s) => s.labels.instance)).toEqual([deadTarget]);
    expect(firing[0]?.labels.job).toBe('dead');
  });

  it.each(['HostHighCpu', 'HostMemoryHigh'])('%s gives one percentage per host, labelled job and instance', async (title) => {
    const data = await prom().query(queryNode(ruleNamed(title)).model.expr as string);
    const result = data.result as VectorSample[];
    expect(result).toHaveLength(1);
    expect(Object.keys(result[0]!.metric).sort()).toEqual(['instance', 'job']);
    expect(result[0]!.metric.instance).toBe(`127.0.0.1:${nodeExporter?.port}`);
    const value = Number(result[0]!.value[1]);
    expect(value).toBeGreaterThanOrEqual(0);
    expect(value).toBeLessThanOrEqual(100);
  });

  it('HostDiskSpaceLow sees real filesystems only, each as a free percentage', async () => {
    const data = await prom().query(queryNode(ruleNamed('HostDiskSpaceLow')).model.expr as string);
    const result = data.result as VectorSample[];
    expect(result.length).toBeGreaterThan(0);
    for (const s of result) {
      expect(s.metric.fstype).not.toMatch(/^(tmpfs|ramfs|devtmpfs|overlay|squashfs|nsfs|autofs)$|^fuse\./);
      expect(Number(s.value[1])).toBeGreaterThanOrEqual(0);
      expect(Number(s.value[1])).toBeLessThanOrEqual(100);
    }
  });

  it('ContainerHighCpu fires for the container above 0.8 core only, not for the root cgroup', async () => {
    const rule = ruleNamed('ContainerHighCpu');
    const data = await prom().query(queryNode(rule).model.expr as string);
    const result = data.result as VectorSample[];
    expect(result.map((s) => s.metric.name).sort()).toEqual(['api', 'db', 'nginx', 'worker']);
    const firing = firingSeries(rule, result);
    expect(firing.map((s) => s.labels.name)).toEqual(['worker']);
    expect(firing[0]!.value).toBeCloseTo(0.9, 5);
  });

  it('ContainerOomKilled fires for the OOM-killed container, not for host-level kills in the root cgroup', async () => {
    const rule = ruleNamed('ContainerOomKilled');
    const data = await prom().query(queryNode(rule).model.expr as string);
    const firing = firingSeries(rule, data.result as VectorSample[]);
    expect(firing.map((s) => s.labels.name)).toEqual(['db']);
  });

  it('ContainerRestarting fires for the crash-looping container, not for a single restart', async () => {
    const rule = ruleNamed('ContainerRestarting');
    const data = await prom().query(queryNode(rule).model.expr as string);
    const result = data.result as VectorSample[];
    const restarts = Object.fromEntries(result.map((s) => [s.metric.name, Number(s.value[1])]));
    expect(restarts.db).toBe(1);
    expect(restarts.api).toBeGreaterThanOrEqual(API_RESTARTS);
    expect(firingSeries(rule, result).map((s) => s.labels.name)).toEqual(['api']);
  });
});

describe('Grafana alert rules on Loki', () => {
  it.each(lokiRules.map((r) => [r.title, r] as const))('%s parses as a LogQL metric query', (_title, rule) => {
    expect(parseLogQL(queryNode(rule).model.expr as string).kind).not.toBe('log');
  });

  it('ErrorLogRate counts error-like lines per host and container, whatever their level label says', async () => {
    const rule = ruleNamed('ErrorLogRate');
    const node = queryNode(rule);
    expect(node.model.queryType).toBe('instant');
    const { status, body } = await lokiGet('/loki/api/v1/query', { query: node.model.expr as string });
    expect(status, body).toBe(200);
    const data = (JSON.parse(body) as { data: { resultType: string; result: VectorSample[] } }).data;
    expect(data.resultType).toBe('vector');
    // Independent count over the recorded lines: container and file streams, error-like text (any case).
    const recorded = loadLokiFixture('query_range-streams-all-forward.json').response.json as {
      data: { result: Array<{ stream: Record<string, string>; values: Array<[string, string]> }> };
    };
    const expected: Record<string, number> = {};
    for (const s of recorded.data.result.filter((r) => ['docker', 'files'].includes(r.stream.job ?? ''))) {
      const hits = s.values.filter(([, line]) => /(error|exception|fatal|panic|critical)/i.test(line)).length;
      if (hits > 0) expected[`${s.stream.host}/${s.stream.container_name}`] = (expected[`${s.stream.host}/${s.stream.container_name}`] ?? 0) + hits;
    }
    const got = Object.fromEntries(data.result.map((s) => [`${s.metric.host}/${s.metric.container_name}`, Number(s.value[1])]));
    expect(got).toEqual(expected);
    // The mysql line is a JSON "level":"error" inside a stream alloy labelled warn.
    expect(Object.keys(got)).toContain('db-1/mysql');
    for (const s of data.result) {
      expect(Object.keys(s.metric).sort()).toEqual(['container_name', 'host']);
      for (const label of annotationLabels(rule)) expect(s.metric).toHaveProperty(label);
    }
    // A handful of errors in 5 minutes is not a rate worth a page (threshold: more than 10).
    expect(firingSeries(rule, data.result)).toEqual([]);
  });
});

// ------------------------------------------------------------------------------------------------
// Dashboards

describe('dashboard queries on Prometheus', () => {
  it('finds Prometheus panel queries in the hosts, containers and Vigil dashboards', () => {
    const dashboardsWithProm = new Set(promPanelQueries.map((q) => q.name.split(' / ')[0]));
    expect([...dashboardsWithProm].sort()).toEqual(['Containers', 'Hosts', 'Vigil']);
  });

  it.each(promPanelQueries.map((q) => [q.name, q] as const))('%s runs with data of the type the panel asks for', async (_name, q) => {
    const data = q.instant ? await prom().query(q.expr) : await rangeQuery(q.expr);
    expect(data.resultType).toBe(q.instant ? 'vector' : 'matrix');
    // Every panel has data here: a misspelt metric or label would answer an empty result.
    expect(data.result.length, q.expr).toBeGreaterThan(0);
  });

  it("charts the enrichment p95 per backend from the bot's histogram", async () => {
    const q = promPanelQueries.find((p) => p.expr.includes('histogram_quantile'));
    expect(q).toBeDefined();
    const data = await prom().query(q!.expr);
    const p95 = Object.fromEntries((data.result as VectorSample[]).map((s) => [s.metric.backend, Number(s.value[1])]));
    expect(p95.prometheus).toBeGreaterThan(0.1);
    expect(p95.prometheus).toBeLessThanOrEqual(0.25);
    expect(p95.loki).toBeGreaterThan(0.25);
    expect(p95.loki).toBeLessThanOrEqual(0.5);
  });

  it.each(allVariableQueries.filter((v) => v.datasourceUid === 'prometheus').map((v) => [v.name, v] as const))('variable %s lists values', async (_name, v) => {
    const m = /^label_values\((.+),\s*(\w+)\)$/.exec(v.query);
    expect(m, v.query).not.toBeNull();
    expect(await seriesLabelValues(m![1] as string, m![2] as string)).not.toEqual([]);
  });
});

describe('dashboard queries on Loki', () => {
  it('finds the Loki panel queries of the logs dashboard', () => {
    expect(lokiPanelQueries.length).toBeGreaterThanOrEqual(4);
    expect(new Set(lokiPanelQueries.map((q) => q.name.split(' / ')[0]))).toEqual(new Set(['Logs']));
  });

  it.each(lokiPanelQueries.map((q) => [q.name, q] as const))('%s parses and runs over the last hour', async (_name, q) => {
    const parsed = parseLogQL(q.expr);
    const end = BigInt(Date.now()) * 1_000_000n;
    const { status, body } = await lokiGet('/loki/api/v1/query_range', {
      query: q.expr,
      start: String(end - 3_600_000_000_000n),
      end: String(end),
      step: '60',
      limit: '100',
    });
    expect(status, body).toBe(200);
    const data = (JSON.parse(body) as { data: { resultType: string; result: unknown[] } }).data;
    expect(data.resultType).toBe(parsed.kind === 'log' ? 'streams' : 'matrix');
    expect(data.result.length, q.expr).toBeGreaterThan(0);
  });

  it.each(allVariableQueries.filter((v) => v.datasourceUid === 'loki').map((v) => [v.name, v] as const))('variable %s lists values', async (_name, v) => {
    const m = /^label_values\((\w+)\)$/.exec(v.query);
    expect(m, v.query).not.toBeNull();
    const { status, body } = await lokiGet(`/loki/api/v1/label/${m![1]}/values`, {});
    expect(status, body).toBe(200);
    expect((JSON.parse(body) as { data: string[] }).data).not.toEqual([]);
  });
});
