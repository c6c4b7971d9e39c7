import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHOICE_CACHE_TTL_MS, filterChoices, labelValueChoices } from '../../src/commands/autocomplete.js';
import { stripPort } from '../../src/queries/promql.js';
import { createLokiClient, type LokiClient } from '../../src/queries/loki.js';
import { createPrometheusClient, type PrometheusClient } from '../../src/queries/prometheus.js';
import { loadLokiFixture, startLokiDouble, type LokiDoubleHandle } from '../support/loki-double.js';
import { startNodeExporter, startPrometheus, type NodeExporterHandle, type PrometheusHandle } from '../support/procs.js';

const names = (choices: Array<{ name: string; value: string }>) => choices.map((c) => c.value);

describe('filterChoices', () => {
  const values = ['nginx', 'api', 'mysql', 'Nginx-Exporter', 'worker-api'];

  it.each([
    ['', ['Nginx-Exporter', 'api', 'mysql', 'nginx', 'worker-api']],
    ['ngi', ['Nginx-Exporter', 'nginx']],
    ['api', ['api', 'worker-api']],
    ['SQL', ['mysql']],
    ['zzz', []],
  ])('typed %j -> %j (prefix matches first, then substrings, case-insensitive)', (typed, want) => {
    expect(names(filterChoices(values, typed))).toEqual(want);
  });

  it('offers every distinct value of at most 100 characters, in order (the router keeps the first 25)', () => {
    const many = [...Array.from({ length: 40 }, (_, i) => `svc-${String(i).padStart(2, '0')}`), 'svc-00', `svc-${'x'.repeat(100)}`];
    const choices = filterChoices(many, 'svc');
    expect(choices.map((c) => c.value)).toEqual(Array.from({ length: 40 }, (_, i) => `svc-${String(i).padStart(2, '0')}`));
    expect(choices[0]).toEqual({ name: 'svc-00', value: 'svc-00' });
    expect(choices.every((c) => c.name.length <= 100 && c.value.length <= 100)).toBe(true);
  });
});

describe('labelValueChoices against real Prometheus and the Loki double', () => {
  let node: NodeExporterHandle;
  let prom: PrometheusHandle;
  let loki: LokiDoubleHandle;
  let prometheus: PrometheusClient;
  let lokiClient: LokiClient;

  beforeAll(async () => {
    node = await startNodeExporter();
    loki = await startLokiDouble();
    prom = await startPrometheus({ scrapeConfigs: [{ job: 'node', targets: [`127.0.0.1:${node.port}`] }] });
    await prom.waitFor('up{job="node"} == 1');
    prometheus = createPrometheusClient({ url: prom.url, timeoutMs: 5_000 });
    lokiClient = createLokiClient({ url: loki.url, timeoutMs: 5_000 });
  });

  afterAll(async () => {
    await Promise.all([prom?.stop(), loki?.stop(), node?.stop()]);
  });

  /** Fresh clients per test, so one test's cache is not another's. */
  function deps(now = () => new Date()) {
    return {
      prometheus: createPrometheusClient({ url: prom.url, timeoutMs: 5_000 }),
      loki: createLokiClient({ url: loki.url, timeoutMs: 5_000 }),
      now,
    };
  }

  const labelRequests = (label: string) => loki.requests.filter((r) => r.path === `/loki/api/v1/label/${label}/values`).length;

  it('offers Loki container_name values, the ones Loki itself lists', async () => {
    const recorded = loadLokiFixture('label-values-container_name.json').response.json as { data: string[] };
    expect(names(await labelValueChoices('loki', 'container_name', '', deps()))).toEqual(recorded.data);
    expect(names(await labelValueChoices('loki', 'container_name', 'i', deps()))).toEqual(['api', 'nginx']);
  });

  it('offers Prometheus values of the series a selector matches, mapped (ports stripped)', async () => {
    expect(names(await labelValueChoices('prometheus', 'job', 'no', deps(), { match: ['up'] }))).toEqual(['node']);
    const hosts = await labelValueChoices('prometheus', 'instance', '', deps(), { match: ['up'], map: stripPort });
    expect(names(hosts)).toEqual(['127.0.0.1']);
    expect(names(await labelValueChoices('prometheus', 'job', '', deps(), { match: ['no_such_metric'] }))).toEqual([]);
  });

  it('asks the backend once per source and label within 30 s, again after', async () => {
    let nowMs = Date.now();
    const d = deps(() => new Date(nowMs));
    const before = labelRequests('container_name');
    await labelValueChoices('loki', 'container_name', 'a', d);
    await labelValueChoices('loki', 'container_name', 'ap', d);
    expect(labelRequests('container_name')).toBe(before + 1);
    await labelValueChoices('loki', 'host', '', d);
    expect(labelRequests('host')).toBeGreaterThan(0);
    nowMs += CHOICE_CACHE_TTL_MS + 1;
    expect(names(await labelValueChoices('loki', 'container_name', 'ap', d))).toEqual(['api']);
    expect(labelRequests('container_name')).toBe(before + 2);
  });

  it('keeps a bounded cache: the oldest lookup is dropped first', async () => {
    const d = deps();
    const before = labelRequests('l0');
    for (let i = 0; i <= 64; i++) await labelValueChoices('loki', `l${i}`, '', d);
    await labelValueChoices('loki', 'l1', '', d);
    expect(labelRequests('l1')).toBe(1);
    await labelValueChoices('loki', 'l0', '', d);
    expect(labelRequests('l0')).toBe(before + 2);
  });

  it('gives no choices when the backend is down, and does not remember the failure', async () => {
    const d = deps();
    await loki.setMode('down');
    try {
      expect(await labelValueChoices('loki', 'container_name', '', d)).toEqual([]);
    } finally {
      await loki.setMode('normal');
    }
    expect(names(await labelValueChoices('loki', 'container_name', 'my', d))).toEqual(['mysql']);
  });

  it('gives no choices, rather than throwing, for an invalid label name', async () => {
    expect(await labelValueChoices('prometheus', 'not a label', '', deps())).toEqual([]);
    expect(await labelValueChoices('loki', 'bad-label', '', deps())).toEqual([]);
  });

  it('gives up on a hanging backend well inside Discord’s 3 s', async () => {
    const slow = await startLokiDouble({ mode: 'slow', delayMs: 10_000 });
    try {
      const d = { ...deps(), loki: createLokiClient({ url: slow.url, timeoutMs: 5_000 }) };
      expect(await labelValueChoices('loki', 'container_name', '', d)).toEqual([]);
      expect(slow.requests).toHaveLength(1);
    } finally {
      await slow.stop();
    }
  });

  it('keeps per-client caches apart', async () => {
    const a = await labelValueChoices('prometheus', 'job', '', { prometheus, loki: lokiClient, now: () => new Date() }, { match: ['up'] });
    const other = await startPrometheus();
    try {
      const b = await labelValueChoices(
        'prometheus',
        'job',
        '',
        { ...deps(), prometheus: createPrometheusClient({ url: other.url, timeoutMs: 5_000 }) },
        { match: ['up'] },
      );
      expect(names(a)).toEqual(['node']);
      expect(names(b)).toEqual([]);
    } finally {
      await other.stop();
    }
  });
});
