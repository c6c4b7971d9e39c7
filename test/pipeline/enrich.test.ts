import { describe, expect, it } from 'vitest';
import { configSchema, type Config } from '../../src/config/schema.js';
import type { Alert } from '../../src/model.js';
import { enrichAlert, type EnrichDeps } from '../../src/pipeline/enrich.js';
import { extraPlan, logPlan } from '../../src/pipeline/plans.js';
import { findTarget, pickSeries, summarizeSeries, upHistory } from '../../src/pipeline/series.js';
import { type RangeSeries, type ScrapeTarget } from '../../src/queries/prometheus.js';

const T0 = Date.UTC(2026, 10, 21, 9);
const at = (s: number) => new Date(T0 + s * 1000);
const series = (labels: Record<string, string>, values: number[]): RangeSeries => ({
  labels,
  points: values.map((value, i) => ({ at: at(i * 10), value })),
});

describe('pickSeries', () => {
  const alertLabels = { alertname: 'HighCPU', instance: 'a:9100', job: 'node' };

  it('keeps the series whose labels all equal the alert’s, ignoring __name__', () => {
    const a = series({ __name__: 'up', instance: 'a:9100', job: 'node' }, [1]);
    const b = series({ __name__: 'up', instance: 'b:9100', job: 'node' }, [5]);
    expect(pickSeries([b, a], alertLabels)).toEqual([a]);
  });

  it('treats a series without labels (an aggregate) as matching', () => {
    const total = series({}, [3]);
    expect(pickSeries([total], alertLabels)).toEqual([total]);
  });

  it('falls back to at most 5 series by peak, NaN last, when none matches', () => {
    const all = [7, NaN, 1, 9, 3, 5, 8].map((v, i) => series({ instance: `x${i}` }, [0, v]));
    expect(pickSeries(all, alertLabels).map((s) => s.labels.instance)).toEqual(['x3', 'x6', 'x0', 'x5', 'x4']);
  });

  it('drops series without points', () => {
    expect(pickSeries([{ labels: {}, points: [] }], alertLabels)).toEqual([]);
  });
});

describe('summarizeSeries', () => {
  it.each([
    ['startsAt mid-series', [1, 5, 9, 4], 15, { atStart: 5, peak: 9, peakAt: at(20), latest: 4, latestAt: at(30), points: 4 }],
    ['startsAt on a point', [1, 5, 9, 4], 20, { atStart: 9, peak: 9, peakAt: at(20), latest: 4, latestAt: at(30), points: 4 }],
    ['startsAt before the first point', [2, 3], -5, { peak: 3, peakAt: at(10), latest: 3, latestAt: at(10), points: 2 }],
    ['NaN points around the peak', [NaN, 2, NaN], 0, { atStart: NaN, peak: 2, peakAt: at(10), latest: NaN, latestAt: at(20), points: 3 }],
    ['only NaN', [NaN, NaN], 100, { atStart: NaN, peak: NaN, peakAt: at(0), latest: NaN, latestAt: at(10), points: 2 }],
    ['+Inf wins the peak', [1, Infinity, 2], 0, { atStart: 1, peak: Infinity, peakAt: at(10), latest: 2, latestAt: at(20), points: 3 }],
  ])('summarizes %s', (_name, values, startsAtSeconds, want) => {
    expect(summarizeSeries(series({ i: 'x' }, values), at(startsAtSeconds))).toEqual({ labels: { i: 'x' }, ...want });
  });
});

describe('upHistory', () => {
  it.each([
    ['always up', [[1, 1, 1, 1]], { upRatio: 1, upNow: 1 }],
    ['down a quarter of the time, up now', [[1, 0, 1, 1]], { upRatio: 0.75, upNow: 1 }],
    ['down now', [[1, 1, 0, 0]], { upRatio: 0.5, upNow: 0 }],
    [
      'two instances, one down now',
      [
        [1, 1],
        [1, 0],
      ],
      { upRatio: 0.75, upNow: 0 },
    ],
    ['no up series', [], {}],
  ])('%s', (_name, values, want) => {
    expect(upHistory(values.map((v, i) => series({ instance: `i${i}` }, v)))).toEqual(want);
  });
});

describe('findTarget', () => {
  const t = (job: string, instance: string, health: ScrapeTarget['health']): ScrapeTarget => ({
    labels: { job, instance },
    discoveredLabels: {},
    scrapeUrl: `http://${instance}/metrics`,
    health,
  });
  const targets = [t('node', 'a:1', 'up'), t('node', 'b:1', 'down'), t('api', 'a:1', 'up')];

  it.each([
    ['job and instance', 'api', 'a:1', targets[2]],
    ['instance only (first match)', undefined, 'a:1', targets[0]],
    ['job only prefers a down target', 'node', undefined, targets[1]],
    ['unknown instance', 'node', 'z:1', undefined],
  ])('finds by %s', (_name, job, instance, want) => {
    expect(findTarget(targets, job, instance)).toBe(want);
  });
});

/** The default error filter the enrichment appends to a bare selector. */
const FILTER = ' |~ "(?i)(error|exception|fatal|panic|critical|fail)"';

/** Config as the schema makes it (defaults included), with a short lookback for a young Prometheus. */
function enrichmentConfig(over: Record<string, unknown> = {}): Config['enrichment'] {
  return configSchema.shape.enrichment.parse({ lookback: '1m', logWindow: '5m', timeout: '1s', ...over });
}

describe('enrichment with a client that ignores its timeout', () => {
  it('still gives up after config.timeout', async () => {
    const never = new Promise<never>(() => {});
    const deps: EnrichDeps = {
      prometheus: { queryRange: () => never, query: () => never, targets: () => never },
      loki: { queryRange: () => never, query: () => never },
      config: enrichmentConfig({ timeout: '200ms' }),
      now: new Date(),
    };
    const alert: Alert = {
      fingerprint: 'f',
      status: 'firing',
      labels: { alertname: 'X', instance: 'h:1' },
      annotations: {},
      startsAt: new Date(),
      source: 'grafana',
      expr: 'up',
    };
    const e = await enrichAlert(alert, deps);
    // The expression query gets what is left of the timeout once the alert's plan is made: a few
    // milliseconds may be gone (tens on a loaded machine: the unit run failed once at 190), never more than the timeout.
    const expressionWait = Number(/^Prometheus timed out after (\d+)ms$/.exec(e.failures[0]?.message ?? '')?.[1]);
    expect(expressionWait).toBeGreaterThanOrEqual(150);
    expect(expressionWait).toBeLessThanOrEqual(200);
    expect(e.failures).toMatchObject([
      { backend: 'prometheus', what: 'expression', message: `Prometheus timed out after ${expressionWait}ms` },
      { backend: 'prometheus', what: 'target health', message: 'Prometheus timed out after 200ms' },
      { backend: 'prometheus', what: 'scrape status', message: 'Prometheus timed out after 200ms' },
      { backend: 'loki', what: 'logs', message: 'Loki timed out after 200ms' },
    ]);
  });
});

describe('logPlan and extraPlan', () => {
  const config = enrichmentConfig();
  const labels = { instance: 'app-1:9100', container: 'api', pod: 'api-7d9f"x' };

  it.each([
    [
      'no annotation: the selector from the labels',
      {},
      { query: `{container_name="api"}${FILTER}`, volumeSource: '{container_name="api"}', custom: false },
      [],
    ],
    [
      'a bare selector: the error filter added',
      { vigil_logql: '{app="orders", env="prod"}' },
      { query: `{app="orders", env="prod"}${FILTER}`, volumeSource: '{app="orders", env="prod"}', custom: true },
      [],
    ],
    [
      'a query with a pipeline: as it is',
      { vigil_logql: '{app="orders"} | json | level="error"' },
      { query: '{app="orders"} | json | level="error"', volumeSource: '{app="orders"} | json | level="error"', custom: true },
      [],
    ],
    [
      'a placeholder: filled escaped',
      { vigil_logql: '{pod="${pod}"}' },
      { query: `{pod="api-7d9f\\"x"}${FILTER}`, volumeSource: '{pod="api-7d9f\\"x"}', custom: true },
      [],
    ],
    [
      'a missing label: ignored with a note',
      { vigil_logql: '{pod="${namespace}"}' },
      { query: `{container_name="api"}${FILTER}`, volumeSource: '{container_name="api"}', custom: false },
      [{ backend: 'loki', what: 'vigil_logql', message: 'ignored: the alert has no label "namespace" for ${namespace}' }],
    ],
  ])('%s', (_name, annotations, plan, failures) => {
    expect(logPlan({ labels, annotations }, config)).toMatchObject({ plan, failures });
  });

  it.each([
    ['no annotation', {}, { failures: [] }],
    ['a query with placeholders', { vigil_promql: 'up{instance="${instance}"}' }, { expr: 'up{instance="app-1:9100"}', failures: [] }],
    [
      'a placeholder outside a string',
      { vigil_promql: 'up{instance=${instance}}' },
      { failures: [{ backend: 'prometheus', what: 'vigil_promql', message: 'ignored: expected ${label} placeholders only inside quoted strings' }] },
    ],
  ])('extra PromQL: %s', (_name, annotations, want) => {
    expect(extraPlan({ labels, annotations })).toMatchObject(want);
  });
});
