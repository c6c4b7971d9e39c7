import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryError } from '../../src/queries/http.js';
import { createPrometheusClient, parseSampleValue, type PrometheusClient } from '../../src/queries/prometheus.js';
import { freePort } from '../support/ports.js';
import { startNodeExporter, startPrometheus, type NodeExporterHandle, type PrometheusHandle } from '../support/procs.js';

describe('parseSampleValue', () => {
  it.each([
    ['1.5', 1.5],
    ['-2', -2],
    ['1e+21', 1e21],
    ['NaN', NaN],
    ['+Inf', Infinity],
    ['-Inf', -Infinity],
  ])('reads %j as %d', (text, value) => {
    expect(parseSampleValue(text)).toBe(value);
  });

  it.each(['', 'abc', '1,5'])('refuses %j', (text) => {
    expect(parseSampleValue(text)).toBeUndefined();
  });
});

describe('Prometheus answers with unknown keys and native histograms', () => {
  it('keeps the float samples and ignores the rest', async () => {
    const body = {
      status: 'success',
      warnings: ['some warning'],
      data: {
        resultType: 'vector',
        result: [
          { metric: { __name__: 'a' }, value: [1700000000.5, '3'], extra: true },
          { metric: { __name__: 'h' }, histogram: [1700000000.5, { count: '2', sum: '1', buckets: [] }] },
        ],
        analysis: {},
      },
    };
    const server = createServer((_req, res) => res.end(JSON.stringify(body)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = createPrometheusClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, timeoutMs: 2_000 });
      await expect(client.query('a')).resolves.toEqual({
        resultType: 'vector',
        result: [{ labels: { __name__: 'a' }, at: new Date(1700000000500), value: 3 }],
      });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('Prometheus client against a real Prometheus', () => {
  let node: NodeExporterHandle;
  let prom: PrometheusHandle;
  let client: PrometheusClient;
  let downTarget = '';

  beforeAll(async () => {
    node = await startNodeExporter();
    downTarget = `127.0.0.1:${await freePort()}`;
    prom = await startPrometheus({
      scrapeConfigs: [
        { job: 'node', targets: [`127.0.0.1:${node.port}`] },
        { job: 'down', targets: [downTarget] },
      ],
      scrapeInterval: '1s',
    });
    await prom.waitFor('up{job="node"} == 1');
    await prom.waitFor('up{job="down"} == 0');
    client = createPrometheusClient({ url: prom.url, timeoutMs: 5_000 });
  });

  afterAll(async () => {
    await prom?.stop();
    await node?.stop();
  });

  it('reads a vector', async () => {
    const res = await client.query('up');
    expect(res.resultType).toBe('vector');
    if (res.resultType !== 'vector') return;
    const byJob = Object.fromEntries(res.result.map((s) => [s.labels.job, s.value]));
    expect(byJob).toEqual({ node: 1, down: 0 });
    expect(res.result[0]!.at).toBeInstanceOf(Date);
  });

  it('evaluates at the given time', async () => {
    const time = new Date(Date.now() - 1_500);
    const res = await client.query('time()', time);
    expect(res).toEqual({ resultType: 'scalar', result: { at: time, value: time.getTime() / 1000 } });
  });

  it('reads a string', async () => {
    const res = await client.query('"hello"');
    expect(res.resultType).toBe('string');
    expect(res.result).toMatchObject({ value: 'hello' });
  });

  it('reads a matrix', async () => {
    await prom.waitFor('count_over_time(up{job="node"}[10s]) >= 2');
    const res = await client.query('up{job="node"}[10s]');
    expect(res.resultType).toBe('matrix');
    if (res.resultType !== 'matrix') return;
    expect(res.result).toHaveLength(1);
    expect(res.result[0]!.points.length).toBeGreaterThanOrEqual(2);
    expect(res.result[0]!.points.every((p) => p.value === 1)).toBe(true);
  });

  it.each([
    ['vector(0) / 0', NaN],
    ['vector(1) / 0', Infinity],
    ['vector(-1) / 0', -Infinity],
  ])('reads %s as %d', async (expr, value) => {
    const res = await client.query(expr);
    expect(res.resultType === 'vector' && res.result[0]!.value).toBe(value);
  });

  it('runs a range query with one point per step', async () => {
    const end = new Date();
    const start = new Date(end.getTime() - 10_000);
    const series = await client.queryRange('vector(1) / 0', start, end, 2);
    expect(series).toHaveLength(1);
    expect(series[0]!.points).toHaveLength(6);
    expect(series[0]!.points.every((p) => p.value === Infinity)).toBe(true);
    expect(series[0]!.points[0]!.at.getTime()).toBe(start.getTime());
  });

  it('returns the node_exporter target as up, with its scrape details', async () => {
    const { active } = await client.targets();
    const t = active.find((x) => x.labels.job === 'node');
    expect(t).toMatchObject({ health: 'up', scrapeUrl: `${node.url}/metrics`, scrapePool: 'node' });
    expect(t!.labels.instance).toBe(`127.0.0.1:${node.port}`);
    expect(t!.lastError).toBeUndefined();
    expect(t!.lastScrape).toBeInstanceOf(Date);
    expect(Math.abs(t!.lastScrape!.getTime() - Date.now())).toBeLessThan(60_000);
    expect(t!.lastScrapeDurationSeconds).toBeGreaterThan(0);
  });

  it('returns a target nothing listens on as down, with the scrape error', async () => {
    const { active } = await client.targets('active');
    const t = active.find((x) => x.labels.job === 'down');
    expect(t).toMatchObject({ health: 'down', scrapeUrl: `http://${downTarget}/metrics` });
    expect(t!.lastError).toMatch(/connection refused/);
  });

  it('surfaces Prometheus’ own parse error for a bad expression', async () => {
    const err = await client.query('100 - (avg(rate(x[1m])) > ').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryError);
    expect(err).toMatchObject({ kind: 'http', status: 400 });
    expect((err as Error).message).toMatch(/^Prometheus HTTP 400: bad_data: .*parse error/);
  });

  it('surfaces Prometheus’ error for a bad range query', async () => {
    const now = new Date();
    const err = await client.queryRange('up', now, new Date(now.getTime() - 1000), 1).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'http', status: 400 });
    expect((err as Error).message).toMatch(/^Prometheus HTTP 400: bad_data: .*end timestamp must not be before start time/);
  });

  it('is ready, in its own words', async () => {
    await expect(client.ready()).resolves.toEqual({ ready: true, message: 'Prometheus Server is Ready.' });
  });

  it('is not ready when nothing listens', async () => {
    const res = await createPrometheusClient({ url: `http://${downTarget}`, timeoutMs: 1_000 }).ready();
    expect(res.ready).toBe(false);
    expect(res.message).toMatch(/^Prometheus unreachable: .*ECONNREFUSED/);
  });
});
