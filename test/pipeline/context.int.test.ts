import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  HOST_BASELINE_SECONDS,
  hostInstanceMatchers,
  hostOf,
  queryContainerContext,
  queryHostContext,
  summarizeContainerContext,
  summarizeHostContext,
  summarizeLogVolume,
} from '../../src/pipeline/context.js';
import { PSEUDO_FS } from '../../src/queries/catalog.js';
import { createPrometheusClient, type InstantSample, type PrometheusClient, type RangeSeries } from '../../src/queries/prometheus.js';
import { DEFAULT_CONTAINERS, startCadvisor, type CadvisorHandle } from '../support/cadvisor.js';
import { startNodeExporter, startPrometheus, type NodeExporterHandle, type PrometheusHandle } from '../support/procs.js';

const AT = new Date('2026-11-21T09:00:00Z');
const HOUR_BEFORE = new Date(AT.getTime() - HOST_BASELINE_SECONDS * 1000);
const series = (labels: Record<string, string>, points: Array<[Date, number]>): RangeSeries => ({
  labels,
  points: points.map(([at, value]) => ({ at, value })),
});
const sample = (labels: Record<string, string>, value: number): InstantSample => ({ labels, at: AT, value });

describe('hostOf and hostInstanceMatchers', () => {
  it.each([
    [{ instance: 'app-1:9100' }, 'app-1'],
    [{ instance: '10.0.0.5:8080', host: 'ignored' }, '10.0.0.5'],
    [{ instance: '[::1]:9100' }, '::1'],
    [{ host: 'db-1' }, 'db-1'],
    [{ job: 'node' }, undefined],
    [{ instance: '  ' }, undefined],
  ])('finds the host of %j: %s', (labels, host) => {
    expect(hostOf(labels)).toBe(host);
  });

  it('matches the host with or without a port, its dots literal, as /top does', () => {
    expect(hostInstanceMatchers('10.0.0.5')).toEqual([{ name: 'instance', op: '=~', value: '10\\.0\\.0\\.5(:\\d+)?' }]);
  });
});

describe('summarizeHostContext', () => {
  const tagged = (measure: string, instance: string, points: Array<[Date, number]>, extra: Record<string, string> = {}) =>
    series({ instance, measure, ...extra }, points);

  it('takes each measure at the start and an hour before, the fullest disk with its mount point', () => {
    const finding = summarizeHostContext(
      [
        tagged('cpu', 'app-1:9100', [
          [HOUR_BEFORE, 12],
          [AT, 93],
        ]),
        tagged('memory', 'app-1:9100', [
          [HOUR_BEFORE, 70.5],
          [AT, 71],
        ]),
        // topk per step: the fullest filesystem changed between the two times.
        tagged('disk', 'app-1:9100', [[HOUR_BEFORE, 80]], { mountpoint: '/data' }),
        tagged('disk', 'app-1:9100', [[AT, 88]], { mountpoint: '/' }),
        tagged('load', 'app-1:9100', [[AT, 1.9]]),
      ],
      'app-1:9100',
      AT,
    );
    expect(finding).toEqual({
      instance: 'app-1:9100',
      at: AT,
      measures: [
        { kind: 'cpu', now: 93, before: 12 },
        { kind: 'memory', now: 71, before: 70.5 },
        { kind: 'disk', now: 88, before: 80, mountpoint: '/' },
        { kind: 'load', now: 1.9 },
      ],
    });
  });

  it('prefers the alert’s own instance, else the node_exporter with most measures', () => {
    const other = tagged('cpu', 'app-1:9101', [[AT, 5]]);
    const own = tagged('cpu', 'app-1:9100', [[AT, 50]]);
    expect(summarizeHostContext([other, own], 'app-1:9100', AT)?.instance).toBe('app-1:9100');
    const rich = [tagged('cpu', 'app-1:9102', [[AT, 1]]), tagged('load', 'app-1:9102', [[AT, 0.1]])];
    expect(summarizeHostContext([other, ...rich], 'app-1:8080', AT)?.instance).toBe('app-1:9102');
  });

  it.each([
    ['no series at all', []],
    ['only NaN', [tagged('cpu', 'h:9100', [[AT, NaN]])]],
    ['points at neither time', [tagged('cpu', 'h:9100', [[new Date(AT.getTime() - 60_000), 3]])]],
  ])('finds nothing with %s', (_name, input) => {
    expect(summarizeHostContext(input, 'h:9100', AT)).toBeUndefined();
  });
});

describe('summarizeContainerContext', () => {
  it('ranks CPU and memory, turns restarts and extrapolated OOM increases into whole events', () => {
    const finding = summarizeContainerContext(
      [
        sample({ name: 'db', resource: 'cpu' }, 25),
        sample({ name: 'api', resource: 'cpu' }, 50),
        sample({ name: 'api', resource: 'memory' }, 512),
        sample({ name: 'api', resource: 'restarts' }, 2),
        sample({ name: 'db', resource: 'oom' }, 1.2),
        sample({ name: 'nginx', resource: 'oom' }, 0.4),
        sample({ name: '', resource: 'cpu' }, 150),
      ],
      'app-1',
    );
    expect(finding).toEqual({
      host: 'app-1',
      cpu: [
        { name: 'api', value: 50 },
        { name: 'db', value: 25 },
      ],
      memory: [{ name: 'api', value: 512 }],
      events: [
        { name: 'api', kind: 'restart', count: 2 },
        { name: 'db', kind: 'oom', count: 1 },
        { name: 'nginx', kind: 'oom', count: 1 },
      ],
    });
  });

  it('finds nothing when cAdvisor reports nothing for the host', () => {
    expect(summarizeContainerContext([], 'app-1')).toBeUndefined();
  });
});

describe('summarizeLogVolume', () => {
  const v = (level: string | undefined, value: number) => sample(level === undefined ? {} : { level }, value);

  it.each([
    ['errors 36× the usual rate', [v('error', 36)], [v('error', 12)], 300, [{ level: 'error', count: 36, before: 12, ratio: expect.closeTo(36, 9) }]],
    ['a level new in the window', [v('error', 5)], [v('info', 100)], 300, [{ level: 'error', count: 5, before: 0 }]],
    ['about the usual rate', [v('info', 10)], [v('info', 120)], 300, [{ level: 'info', count: 10, before: 120, ratio: expect.closeTo(1, 9) }]],
    ['lines without a level', [v(undefined, 4)], [], 60, [{ level: '', count: 4, before: 0 }]],
  ])('%s', (_name, now, before, seconds, levels) => {
    expect(summarizeLogVolume('q', now, before, seconds).levels).toEqual(levels);
  });

  it('puts the most severe level first, whatever the counts', () => {
    const levels = summarizeLogVolume('q', [v('info', 500), v('debug', 900), v('warn', 3), v('ERROR', 1), v('fatal', 1), v('custom', 7)], [], 60).levels;
    expect(levels.map((l) => l.level)).toEqual(['fatal', 'ERROR', 'warn', 'info', 'debug', 'custom']);
  });
});

/**
 * A cAdvisor-shaped exporter of container restarts and OOM kills: `api` restarts (its start time
 * changes) and `db` is OOM-killed (its counter goes 0 → 1) after the first `after` scrapes.
 */
async function startEventsExporter(after = 3): Promise<{ target: string; stop(): Promise<void> }> {
  let scrapes = 0;
  const server: Server = createServer((_req, res) => {
    const later = scrapes++ >= after;
    const body = [
      '# TYPE container_start_time_seconds gauge',
      `container_start_time_seconds{id="/docker/api",image="api:1",name="api"} ${later ? 1795251600 : 1795250000}`,
      `container_start_time_seconds{id="/docker/db",image="db:1",name="db"} 1795250000`,
      '# TYPE container_oom_events_total counter',
      `container_oom_events_total{id="/docker/api",image="api:1",name="api"} 0`,
      `container_oom_events_total{id="/docker/db",image="db:1",name="db"} ${later ? 1 : 0}`,
      '',
    ].join('\n');
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    target: `127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('context queries against real Prometheus, node_exporter and cAdvisor-shaped exporters', () => {
  let node: NodeExporterHandle;
  let cadvisor: CadvisorHandle;
  let otherHost: CadvisorHandle;
  let events: Awaited<ReturnType<typeof startEventsExporter>>;
  let prom: PrometheusHandle;
  let client: PrometheusClient;

  beforeAll(async () => {
    [node, cadvisor, otherHost, events] = await Promise.all([
      startNodeExporter(),
      startCadvisor(),
      startCadvisor({ containers: [{ name: 'worker', image: 'worker:2', cores: 0.9, memoryBytes: 4096 * 1024 * 1024 }] }),
      startEventsExporter(),
    ]);
    // Machines are named through `instance`, as a real scrape config of several hosts does.
    const at = (target: string, instance: string) => ({ targets: [target], labels: { instance } });
    prom = await startPrometheus({
      configYaml: stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        scrape_configs: [
          { job_name: 'node', static_configs: [at(`127.0.0.1:${node.port}`, 'app-1:9100')] },
          { job_name: 'cadvisor', static_configs: [at(cadvisor.target, 'app-1:8080'), at(otherHost.target, 'app-2:8080')] },
          { job_name: 'cadvisor-events', static_configs: [at(events.target, 'app-1:8080')] },
        ],
      }),
    });
    client = createPrometheusClient({ url: prom.url, timeoutMs: 5_000 });
    await prom.waitFor('count(count_over_time(container_cpu_usage_seconds_total{name!=""}[5m]) >= 5) == 4', 40_000);
    await prom.waitFor('changes(container_start_time_seconds{name="api"}[1m]) > 0 and on() increase(container_oom_events_total{name="db"}[1m]) > 0');
    await prom.waitFor('count_over_time(node_cpu_seconds_total{mode="idle"}[1m]) >= 3');
  }, 60_000);

  afterAll(async () => {
    await prom?.stop();
    await Promise.all([node?.stop(), cadvisor?.stop(), otherHost?.stop(), events?.stop()]);
  });

  /** An instant query at `at`, straight to Prometheus' HTTP API (not through the client under test). */
  async function instant(expr: string, at: Date): Promise<Array<{ metric: Record<string, string>; value: number }>> {
    const params = new URLSearchParams({ query: expr, time: (at.getTime() / 1000).toFixed(3) });
    const body = (await (await fetch(`${prom.url}/api/v1/query?${params.toString()}`)).json()) as {
      data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
    };
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  it('reads the host’s CPU, memory, fullest disk and load per core as Prometheus holds them', async () => {
    // Seconds back, so every sample up to it is in; an hour earlier this Prometheus has no data.
    const at = new Date(Date.now() - 2_000);
    const host = await queryHostContext(client, 'app-1:9100', at);
    expect(host?.instance).toBe('app-1:9100');
    const I = '{instance="app-1:9100"}';
    const idle = `node_cpu_seconds_total{mode="idle",instance="app-1:9100"}`;
    const [cpu] = await instant(`100 * (1 - avg(rate(${idle}[5m])))`, at);
    const [memory] = await instant(`100 * (1 - node_memory_MemAvailable_bytes${I} / node_memory_MemTotal_bytes${I})`, at);
    const [load] = await instant(`node_load1${I} / scalar(count(${idle}))`, at);
    const disks = await instant(
      `100 * (1 - node_filesystem_avail_bytes{fstype!~"${PSEUDO_FS}",instance="app-1:9100"} / node_filesystem_size_bytes{fstype!~"${PSEUDO_FS}",instance="app-1:9100"})`,
      at,
    );
    const fullest = disks.sort((a, b) => b.value - a.value)[0];
    const want = [
      { kind: 'cpu', now: cpu!.value },
      { kind: 'memory', now: memory!.value },
      ...(fullest ? [{ kind: 'disk', now: fullest.value, mountpoint: fullest.metric.mountpoint }] : []),
      { kind: 'load', now: load!.value },
    ];
    expect(host?.measures).toEqual(want);
    expect(cpu!.value).toBeGreaterThanOrEqual(0);
    expect(memory!.value).toBeGreaterThan(0);
    expect(memory!.value).toBeLessThan(100);
  });

  it('finds the same node_exporter from an alert on another port of that host (the cAdvisor target)', async () => {
    const host = await queryHostContext(client, 'app-1:8080', new Date(Date.now() - 2_000));
    expect(host?.instance).toBe('app-1:9100');
  });

  it('finds no host context for a host without node_exporter', async () => {
    expect(await queryHostContext(client, 'app-2:8080', new Date(Date.now() - 2_000))).toBeUndefined();
  });

  it('ranks the host’s containers by average CPU and peak memory, and only that host’s', async () => {
    const end = new Date(Date.now() - 2_000);
    const found = await queryContainerContext(client, 'app-1', { start: new Date(end.getTime() - 300_000), end });
    const byCores = [...DEFAULT_CONTAINERS].sort((a, b) => b.cores - a.cores);
    const byMemory = [...DEFAULT_CONTAINERS].sort((a, b) => b.memoryBytes - a.memoryBytes);
    expect(found?.host).toBe('app-1');
    expect(found?.cpu.map((r) => r.name)).toEqual(byCores.map((c) => c.name));
    found?.cpu.forEach((r, i) => expect(r.value).toBeCloseTo(byCores[i]!.cores * 100, -1));
    expect(found?.memory).toEqual(byMemory.map((c) => ({ name: c.name, value: c.memoryBytes })));
  });

  it('reports the restart and the OOM kill in the window', async () => {
    const end = new Date(Date.now() - 1_000);
    const found = await queryContainerContext(client, 'app-1', { start: new Date(end.getTime() - 120_000), end });
    expect(found?.events).toEqual([
      { name: 'db', kind: 'oom', count: 1 },
      { name: 'api', kind: 'restart', count: 1 },
    ]);
  });

  it('finds the other host’s containers apart', async () => {
    const end = new Date(Date.now() - 2_000);
    const found = await queryContainerContext(client, 'app-2', { start: new Date(end.getTime() - 300_000), end });
    expect(found?.cpu.map((r) => r.name)).toEqual(['worker']);
    expect(found?.events).toEqual([]);
  });
});
