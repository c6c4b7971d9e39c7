import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateHeartbeat, evaluateScraping, configProbes, probeTimeoutMs, type Probe, type TargetScrape } from '../../src/watchdog/probes.js';
import type { CheckResult } from '../../src/watchdog/state.js';
import { eventually } from '../support/eventually.js';
import { startLokiDouble, type LokiDoubleHandle } from '../support/loki-double.js';
import { freePort } from '../support/ports.js';
import { startNodeExporter, startPrometheus, type NodeExporterHandle, type PrometheusHandle } from '../support/procs.js';

const NOW = new Date('2026-03-01T10:00:00Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const target = (t: Partial<TargetScrape>): TargetScrape => ({
  job: 'node',
  instance: 'host:9100',
  health: 'up',
  lastScrape: ago(1000),
  intervalMs: 15_000,
  ...t,
});

describe('evaluateScraping', () => {
  it.each<[string, TargetScrape[], CheckResult['status'], RegExp?]>([
    ['one fresh target that is up is enough', [target({}), target({ health: 'down', lastError: 'refused' })], 'ok'],
    ['a target scraped just within 3 intervals counts', [target({ lastScrape: ago(45_000) })], 'ok'],
    ['no active target at all is a failure', [], 'fail', /^Prometheus has no active scrape targets$/],
    [
      'a target scraped longer ago than 3 intervals is stale',
      [target({ lastScrape: ago(45_001) })],
      'fail',
      /its only target was not scraped successfully: node\/host:9100 last scraped 45s ago$/,
    ],
    [
      'every target down names them with their errors',
      [target({ health: 'down', lastError: 'connection refused' }), target({ job: 'app', health: 'down' })],
      'fail',
      /none of 2 targets scraped successfully: node\/host:9100 down \(connection refused\); app\/host:9100 down$/,
    ],
    ['a target never scraped yet is not scraping', [target({ health: 'unknown', lastScrape: undefined })], 'fail', /never scraped/],
    [
      'more than three failing targets are counted, not listed',
      Array.from({ length: 5 }, (_, i) => target({ instance: `h${i}`, health: 'down' })),
      'fail',
      /h2 down; \+2 more$/,
    ],
  ])('%s', (_name, targets, status, error) => {
    const result = evaluateScraping(targets, NOW);
    expect(result.status).toBe(status);
    if (error) expect(result.status === 'fail' && result.error).toMatch(error);
  });
});

describe('evaluateHeartbeat', () => {
  const START = ago(3_600_000);
  it.each<[string, Date | undefined, Date, CheckResult]>([
    ['a recent heartbeat is ok', ago(60_000), START, { status: 'ok' }],
    ['a heartbeat exactly maxSilence old is still ok', ago(600_000), START, { status: 'ok' }],
    ['a heartbeat older than maxSilence trips the switch', ago(720_000), START, { status: 'fail', error: 'no Watchdog heartbeat for 12m' }],
    ['before any heartbeat, the start counts: within maxSilence it waits', undefined, ago(300_000), { status: 'ok' }],
    [
      'before any heartbeat, maxSilence after start it trips',
      undefined,
      ago(660_000),
      { status: 'fail', error: 'no Watchdog heartbeat since Vigil started 11m ago' },
    ],
    [
      'a remembered heartbeat older than the start counts from itself (restarts do not forget)',
      ago(700_000),
      ago(60_000),
      { status: 'fail', error: 'no Watchdog heartbeat for 11m 40s' },
    ],
  ])('%s', (_name, lastSeen, startedAt, expected) => {
    expect(evaluateHeartbeat({ alertname: 'Watchdog', ...(lastSeen ? { lastSeen } : {}), startedAt, now: NOW, maxSilenceMs: 600_000 })).toEqual(expected);
  });
});

describe('probeTimeoutMs', () => {
  it.each([
    [5_000, 2_500],
    [60_000, 10_000],
    [1_000, 1_000],
  ])('bounds a check at interval %i ms to %i ms', (interval, expected) => {
    expect(probeTimeoutMs(interval)).toBe(expected);
  });
});

describe('configProbes against the real Prometheus', () => {
  let nodeExporter: NodeExporterHandle;
  let scraping: PrometheusHandle;
  let idle: PrometheusHandle;
  let loki: LokiDoubleHandle;

  beforeAll(async () => {
    nodeExporter = await startNodeExporter();
    [scraping, idle, loki] = await Promise.all([
      startPrometheus({ scrapeConfigs: [{ job: 'node', targets: [`127.0.0.1:${nodeExporter.port}`] }] }),
      startPrometheus({ scrapeConfigs: [] }),
      startLokiDouble(),
    ]);
    await scraping.waitFor('up{job="node"} == 1');
  }, 60_000);

  afterAll(async () => {
    await Promise.all([scraping?.stop(), idle?.stop(), nodeExporter?.stop(), loki?.stop()]);
  });

  function probes(prometheusUrl: string, extra: { grafana?: string; alertmanager?: string } = {}): Map<string, Probe> {
    const list = configProbes({
      watchdog: { enabled: true, interval: 5_000, failuresBeforeAlert: 3 },
      prometheus: { url: prometheusUrl },
      loki: { url: loki.url },
      ...(extra.grafana ? { grafana: { url: extra.grafana } } : {}),
      ...(extra.alertmanager ? { alertmanager: { url: extra.alertmanager } } : {}),
    });
    return new Map(list.map((p) => [p.component, p]));
  }

  it('finds Prometheus ready and scraping, and Loki ready', async () => {
    const p = probes(scraping.url);
    expect([...p.keys()]).toEqual(['prometheus', 'prometheus-targets', 'loki']);
    expect(p.get('prometheus-targets')!.dependsOn).toBe('prometheus');
    expect(await p.get('prometheus')!.run(new Date())).toEqual({ status: 'ok' });
    expect(await p.get('prometheus-targets')!.run(new Date())).toEqual({ status: 'ok' });
    expect(await p.get('loki')!.run(new Date())).toEqual({ status: 'ok' });
  });

  it('judges freshness on Prometheus’ clock, not Vigil’s (a skewed clock raises nothing)', async () => {
    const skewed = new Date(Date.now() + 3_600_000);
    expect(await probes(scraping.url).get('prometheus-targets')!.run(skewed)).toEqual({ status: 'ok' });
  });

  it('reports a Prometheus that is up but scrapes nothing', async () => {
    const p = probes(idle.url);
    expect(await p.get('prometheus')!.run(new Date())).toEqual({ status: 'ok' });
    expect(await p.get('prometheus-targets')!.run(new Date())).toEqual({ status: 'fail', error: 'Prometheus has no active scrape targets' });
  });

  it('adds Grafana and Alertmanager only when configured, and reports a closed port as unreachable', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const p = probes(scraping.url, { grafana: closed, alertmanager: closed });
    expect([...p.keys()]).toEqual(['prometheus', 'prometheus-targets', 'loki', 'grafana', 'alertmanager']);
    const grafana = await p.get('grafana')!.run(new Date());
    const am = await p.get('alertmanager')!.run(new Date());
    expect(grafana.status === 'fail' && grafana.error).toMatch(/^Grafana unreachable: .*ECONNREFUSED/);
    expect(am.status === 'fail' && am.error).toMatch(/^Alertmanager unreachable: .*ECONNREFUSED/);
  });

  it('reports scraping as failed once the only target, the real node_exporter, is gone', async () => {
    await nodeExporter.stop();
    const targets = probes(scraping.url).get('prometheus-targets')!;
    const result = await eventually(
      'the scraping check to fail',
      async () => {
        const r = await targets.run(new Date());
        return r.status === 'ok' ? undefined : r;
      },
      15_000,
      200,
    );
    expect(result.status === 'fail' && result.error).toMatch(
      /^Prometheus is not scraping: its only target was not scraped successfully: node\/127\.0\.0\.1:\d+ down \(.*connection refused\)$/,
    );
  });
});
