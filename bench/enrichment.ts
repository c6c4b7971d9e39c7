import { configSchema } from '../src/config/schema.js';
import { chartNotification, earlyChartData } from '../src/pipeline/chart.js';
import type { ChartRenderer } from '../src/render/chart.js';
import { enrichAlert, enrichNotification } from '../src/pipeline/enrich.js';
import type { AlertEnrichment } from '../src/findings.js';
import type { Notification } from '../src/model.js';
import { createLokiClient } from '../src/queries/loki.js';
import { createPrometheusClient } from '../src/queries/prometheus.js';
import { parseWebhook } from '../src/webhooks/intake.js';
import { renderChart } from '../src/render/chart.js';
import { startDelayProxy } from '../test/support/delay-proxy.js';
import type { LokiDoubleHandle } from '../test/support/loki-double.js';
import { benchAlertmanagerBody } from './alerts.js';
import { elapsedMs, summarize, type Summary } from './stats.js';

/** What the enrichment benchmark queries. */
export interface EnrichmentOptions {
  prometheusUrl: string;
  loki: LokiDoubleHandle;
  /** Measured runs per case (after a few warm-up runs). */
  runs: number;
  /** enrichment.timeout, e.g. '1s'. */
  timeout: string;
}

/** Wall time of enrichAlert in one backend situation. */
export interface EnrichmentCase {
  name: string;
  wall: Summary;
  /** What the runs returned, e.g. "expression, target, logs" or "… + Loki failure". */
  outcome: string;
}

const WARMUP_RUNS = 3;
/** How late the slow Loki answers: far past the timeout, so only the timeout can end the wait. */
const SLOW_LOKI_DELAY_MS = 10_000;

interface Scenario {
  name: string;
  /** Puts the Loki double in the situation. */
  setUp(loki: LokiDoubleHandle): Promise<void>;
  /** The Loki failure the scenario must produce, if any (checked on every run). */
  lokiFailure?: RegExp;
}

const SCENARIOS: Scenario[] = [
  { name: 'all backends healthy', setUp: (loki) => loki.setMode('normal') },
  { name: 'Loki down (connection refused)', setUp: (loki) => loki.setMode('down'), lokiFailure: /unreachable/ },
  {
    name: 'Loki slower than the timeout',
    setUp: (loki) => loki.setMode('slow', SLOW_LOKI_DELAY_MS),
    lokiFailure: /timed out|timeout/i,
  },
];

/** Runs enrichAlert `runs` times per scenario, one run at a time, and summarises the wall times. */
export async function runEnrichment(opts: EnrichmentOptions): Promise<EnrichmentCase[]> {
  const config = configSchema.shape.enrichment.parse({ lookback: '10m', logWindow: '5m', timeout: opts.timeout });
  const deps = {
    prometheus: createPrometheusClient({ url: opts.prometheusUrl, timeoutMs: config.timeout }),
    loki: createLokiClient({ url: opts.loki.url, timeoutMs: config.timeout }),
    config,
  };
  const cases: EnrichmentCase[] = [];
  try {
    for (const scenario of SCENARIOS) {
      await scenario.setUp(opts.loki);
      const times: number[] = [];
      let last: AlertEnrichment | undefined;
      for (let i = 0; i < WARMUP_RUNS + opts.runs; i += 1) {
        const now = new Date();
        const start = process.hrtime.bigint();
        const result = await enrichAlert(benchNotification('BenchEnrich', now).alerts[0]!, { ...deps, now });
        const wall = elapsedMs(start);
        checkOutcome(scenario, result);
        if (i >= WARMUP_RUNS) times.push(wall);
        last = result;
      }
      cases.push({ name: scenario.name, wall: summarize(times), outcome: describe(last!) });
    }
  } finally {
    await opts.loki.setMode('normal');
  }
  return cases;
}

/** Fails the benchmark when a run did not exercise what the scenario claims to measure. */
function checkOutcome(scenario: Scenario, r: AlertEnrichment): void {
  const lokiFailures = r.failures.filter((f) => f.backend === 'loki');
  const otherFailures = r.failures.filter((f) => f.backend !== 'loki');
  const problems: string[] = [];
  if (!r.expression || !r.target) problems.push('no Prometheus findings');
  if (otherFailures.length) problems.push(`Prometheus failed: ${otherFailures.map((f) => f.message).join('; ')}`);
  if (!scenario.lokiFailure && (!r.logs || r.logs.count === 0)) problems.push(`no log lines (${lokiFailures.map((f) => f.message).join('; ')})`);
  if (scenario.lokiFailure && !lokiFailures.some((f) => scenario.lokiFailure!.test(f.message))) {
    problems.push(`expected a Loki failure matching ${scenario.lokiFailure}, got ${JSON.stringify(r.failures)}`);
  }
  if (problems.length) throw new Error(`enrichment "${scenario.name}": ${problems.join('; ')}`);
}

/** "expression (1 series), target up, 12 log lines" or "…, Loki: <message>". */
function describe(r: AlertEnrichment): string {
  const parts = [
    r.expression ? `expression (${r.expression.series.length} series)` : undefined,
    r.target ? `target ${r.target.health ?? 'found'}` : undefined,
    r.logs ? `${r.logs.count} log lines` : undefined,
    ...r.failures.map((f) => `${f.backend === 'loki' ? 'Loki' : 'Prometheus'}: ${f.message}`),
  ];
  return parts.filter(Boolean).join(', ');
}

/** What one alert's enrichment with its chart took, run by run. */
export interface EnrichmentWithChart {
  runs: number;
  /** Latency a proxy added to every Prometheus and every Loki request (0: straight to the loopback backend). */
  delays: Delays;
  /** enrichNotification with chartNotification started once the expression is back, as the pipeline runs them. */
  total: Summary;
  /** The slowest single query of the same run. */
  slowest: Summary;
  /** Rendering the chart alone (the renderer's wall time). */
  render: Summary;
  /** From the start of the run until the rendering started (the alert's expression was back). */
  renderStart: Summary;
  /** total / slowest, run by run. */
  ratio: Summary;
  /** Runs whose chart rendering started before the last query was back. */
  overlapped: number;
  /** Queries each run made, e.g. 9. */
  queries: number;
  /** One run's expression range queries (must be 1: the chart reuses the enrichment's series). */
  expressionQueries: number;
  /** Size of the PNG of the last run. */
  pngBytes: number;
}

/** A query client whose every call's wall time (ms) is pushed to `times` and end (hrtime) to `ends`, failed calls too. */
function timed<T extends object>(client: T, times: number[], ends: bigint[]): T {
  return new Proxy(client, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const start = process.hrtime.bigint();
        return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args).finally(() => {
          times.push(elapsedMs(start));
          ends.push(process.hrtime.bigint());
        });
      };
    },
  });
}

/**
 * Runs the pipeline's enrichment and alert chart `runs` times, one run at a time, against healthy
 * backends (behind proxies adding `delays` per request when given): the chart starts as soon as
 * the expression is back, as in the pipeline; the whole wall time against its slowest single
 * query, and the chart rendering alone.
 */
export async function runEnrichmentWithChart(opts: EnrichmentOptions & { delays?: Delays }): Promise<EnrichmentWithChart> {
  const delays = opts.delays ?? { prometheus: 0, loki: 0 };
  const via = async (url: string, ms: number) => (ms > 0 ? startDelayProxy(url, ms) : undefined);
  const proxies = await Promise.all([via(opts.prometheusUrl, delays.prometheus), via(opts.loki.url, delays.loki)]);
  try {
    return await measureWithChart(opts, delays, proxies[0]?.url ?? opts.prometheusUrl, proxies[1]?.url ?? opts.loki.url);
  } finally {
    await Promise.all(proxies.map((p) => (p ? p.close() : Promise.resolve())));
  }
}

/** Latency added per request to each backend, ms. */
export interface Delays {
  prometheus: number;
  loki: number;
}

async function measureWithChart(opts: EnrichmentOptions, delays: Delays, prometheusUrl: string, lokiUrl: string): Promise<EnrichmentWithChart> {
  const config = configSchema.shape.enrichment.parse({ lookback: '10m', logWindow: '5m', timeout: opts.timeout });
  const charts = configSchema.shape.charts.parse({});
  const prometheus = createPrometheusClient({ url: prometheusUrl, timeoutMs: config.timeout });
  const loki = createLokiClient({ url: lokiUrl, timeoutMs: config.timeout });
  await opts.loki.setMode('normal');
  const totals: number[] = [];
  const slowest: number[] = [];
  const renders: number[] = [];
  const renderStarts: number[] = [];
  const ratios: number[] = [];
  let overlapped = 0;
  let queries = 0;
  let expressionQueries = 0;
  let pngBytes = 0;
  for (let i = 0; i < WARMUP_RUNS + opts.runs; i += 1) {
    const now = new Date();
    const notification = benchNotification('BenchChart', now);
    const times: number[] = [];
    const ends: bigint[] = [];
    const ranges: string[] = [];
    let renderStart = 0n;
    let render = 0;
    const renderer: ChartRenderer = (spec, size, signal) => {
      renderStart = process.hrtime.bigint();
      return renderChart(spec, size, signal).finally(() => (render = elapsedMs(renderStart)));
    };
    const prom = timed(prometheus, times, ends);
    const countingProm: typeof prom = { ...prom, queryRange: (expr, ...rest) => (ranges.push(expr), prom.queryRange(expr, ...rest)) };
    const start = process.hrtime.bigint();
    // As the pipeline's enrich stage: the chart starts once the expression is back; both are awaited.
    const early = earlyChartData(notification);
    const enrichment = enrichNotification(notification, {
      prometheus: countingProm,
      loki: timed(loki, times, ends),
      config,
      now,
      onExpression: early.onExpression,
    });
    const [enriched, chart] = await Promise.all([enrichment, chartNotification(early.ready(enrichment), { config: { charts }, render: renderer })]);
    const total = elapsedMs(start);
    if (chart.status !== 'rendered') throw new Error(`enrichment with chart: no chart (${JSON.stringify(chart)})`);
    const failures = Object.values(enriched.enrichments).flatMap((e) => e.failures);
    if (failures.length) throw new Error(`enrichment with chart: failures ${JSON.stringify(failures)}`);
    const expr = enriched.enrichments[notification.alerts[0]!.fingerprint]?.expression?.expr;
    expressionQueries = ranges.filter((q) => q === expr).length;
    if (expressionQueries !== 1) throw new Error(`enrichment with chart: the expression was queried ${expressionQueries} times`);
    if (i < WARMUP_RUNS) continue;
    const worst = Math.max(...times);
    totals.push(total);
    slowest.push(worst);
    renders.push(render);
    renderStarts.push(Number(renderStart - start) / 1e6);
    ratios.push(total / worst);
    if (ends.some((e) => e > renderStart)) overlapped += 1;
    queries = times.length;
    pngBytes = chart.file.data.length;
  }
  return {
    runs: opts.runs,
    delays,
    total: summarize(totals),
    slowest: summarize(slowest),
    render: summarize(renders),
    renderStart: summarize(renderStarts),
    ratio: summarize(ratios),
    overlapped,
    queries,
    expressionQueries,
    pngBytes,
  };
}

/** The benchmark notification for `alertname`, normalised by the real intake code from the fixture-derived body. */
function benchNotification(alertname: string, now: Date): Notification {
  const parsed = parseWebhook('alertmanager', 'application/json', Buffer.from(benchAlertmanagerBody(alertname, 0)), now);
  if (!parsed.ok) throw new Error(`benchmark webhook body rejected: ${parsed.error}`);
  return parsed.notification;
}
