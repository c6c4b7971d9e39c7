import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query, queryRequest } from '../../src/commands/query.js';
import { createRouter } from '../../src/commands/router.js';
import { OptionError, type CommandDeps } from '../../src/commands/types.js';
import { PNG } from 'pngjs';
import { CHART_COLORS } from '../../src/render/chart-theme.js';
import { formatValue } from '../../src/render/format.js';
import { testCommandDeps, testConfig } from '../support/deps.js';
import { recordingCommand } from '../support/contexts.js';
import { startNodeExporter, startPrometheus, type NodeExporterHandle, type PrometheusHandle } from '../support/procs.js';

function tableRows(content: string): string[][] {
  const m = /```\n([\s\S]*?)\n```/.exec(content);
  if (!m) throw new Error(`no table in: ${content}`);
  return m[1]!.split('\n').map((l) => l.trim().split(/\s{2,}/));
}

describe('/query against a real Prometheus scraping node_exporter', () => {
  let node: NodeExporterHandle;
  let prom: PrometheusHandle;

  beforeAll(async () => {
    node = await startNodeExporter();
    prom = await startPrometheus({ scrapeConfigs: [{ job: 'node', targets: [`127.0.0.1:${node.port}`] }] });
    await prom.waitFor('count_over_time(up{job="node"}[1m]) >= 2');
  });

  afterAll(async () => {
    await Promise.all([prom?.stop(), node?.stop()]);
  });

  function deps(ephemeralDefault = true): CommandDeps {
    return testCommandDeps(testConfig({ prometheus: { url: prom.url }, commands: { ephemeral: ephemeralDefault } }), { timeoutMs: 5_000 });
  }

  /** Runs /query through the router, as a transport would (it sets the defer's ephemeral default). */
  async function run(options: Record<string, string | boolean>, d = deps()) {
    const ctx = recordingCommand('query', options);
    await createRouter([query], [], d).handleCommand(ctx);
    return { ctx, content: ctx.lastReply()!.content! };
  }

  it('shows an instant vector as a table, deferring at once and privately by default', async () => {
    const { ctx, content } = await run({ promql: 'up' });
    expect(ctx.calls[0]).toEqual({ kind: 'defer', ephemeral: true });
    expect(content.split('\n').slice(0, 2)).toEqual(['`up` · instant · 1 series', `-# up instance=127.0.0.1:${node.port} job=node`]);
    expect(tableRows(content)).toEqual([
      ['series', 'value'],
      ['up', '1'],
    ]);
  });

  it('formats values with the unit inferred from the query', async () => {
    const { content } = await run({ promql: 'node_memory_MemTotal_bytes' });
    const direct = (await prom.query('node_memory_MemTotal_bytes')).result as Array<{ value: [number, string] }>;
    const value = tableRows(content)[1]![1];
    expect(value).toBe(formatValue(Number(direct[0]!.value[1]), 'bytes'));
    expect(value).toMatch(/^\d+(\.\d+)? [KMGT]iB$/);
  });

  it('keeps only the labels that tell series apart, naming the shared ones once', async () => {
    const { content } = await run({ promql: 'count by (mode, job) (node_cpu_seconds_total)' });
    expect(content).toContain('-# all: job=node');
    const names = tableRows(content)
      .slice(1)
      .map((r) => r[0]);
    expect(names).toContain('mode=idle');
    expect(names.every((n) => n!.startsWith('mode='))).toBe(true);
  });

  it.each([
    ['a scalar', '1 + 1', '`1 + 1` · scalar\n**2**'],
    ['a string', '"hello"', '`"hello"` · string\n```\nhello\n```'],
  ])('shows %s plainly', async (_name, promql, want) => {
    expect((await run({ promql })).content).toBe(want);
  });

  it('summarises a range query as min/max/last per series, step from the range', async () => {
    const { content } = await run({ promql: 'up', range: '1h' });
    expect(content.split('\n').slice(0, 2)).toEqual(['`up` · last 1h (step 15s) · 1 series', `-# up instance=127.0.0.1:${node.port} job=node`]);
    expect(tableRows(content)).toEqual([
      ['series', 'min', 'max', 'last'],
      ['up', '1', '1', '1'],
    ]);
  });

  it('shows at most 10 series of a range and counts the rest', async () => {
    const all = (await prom.query('count(node_cpu_seconds_total)')).result as Array<{ value: [number, string] }>;
    const total = Number(all[0]!.value[1]);
    expect(total).toBeGreaterThan(10);
    const { content } = await run({ promql: 'rate(node_cpu_seconds_total[1m])', range: '10m' });
    expect(tableRows(content)).toHaveLength(11);
    expect(content.split('\n').at(-1)).toBe(`-# +${total - 10} more series`);
    expect(tableRows(content)[1]![1]).toMatch(/cores?$/);
  });

  it('attaches a chart of a range as chart.png: one line per series in its own colour on the dark background', { timeout: 40_000 }, async () => {
    // A quarter of the minute in data, so each line runs well past its legend swatch.
    await prom.waitFor('count_over_time(node_memory_MemFree_bytes[1m]) >= 15', 30_000);
    const { ctx } = await run({ promql: '{__name__=~"node_memory_(MemTotal|MemAvailable|MemFree)_bytes"}', range: '1m' });
    const files = ctx.lastReply()!.files!;
    expect(files.map((f) => f.name)).toEqual(['chart.png']);
    const img = PNG.sync.read(files[0]!.data);
    expect([img.width, img.height]).toEqual([800, 400]);
    const count = (hex: string) => {
      const n = Number.parseInt(hex.slice(1), 16);
      let c = 0;
      for (let i = 0; i < img.data.length; i += 4) {
        if (Math.abs(img.data[i]! - ((n >> 16) & 255)) + Math.abs(img.data[i + 1]! - ((n >> 8) & 255)) + Math.abs(img.data[i + 2]! - (n & 255)) <= 30) c++;
      }
      return c;
    };
    // Three lines across the plot (a legend swatch alone is ~130 pixels); nothing in a fourth colour.
    for (const color of CHART_COLORS.series.slice(0, 3)) expect(count(color)).toBeGreaterThan(400);
    expect(count(CHART_COLORS.series[3])).toBe(0);
    expect(count(CHART_COLORS.background)).toBeGreaterThan(800 * 400 * 0.3);
  });

  it('attaches no chart to an instant query, an empty range, or when charts are disabled', async () => {
    expect((await run({ promql: 'up' })).ctx.lastReply()!.files).toBeUndefined();
    expect((await run({ promql: 'up{job="nothing-here"}', range: '5m' })).ctx.lastReply()!.files).toBeUndefined();
    const off = testCommandDeps(testConfig({ prometheus: { url: prom.url }, charts: { enabled: false } }), { timeoutMs: 5_000 });
    expect((await run({ promql: 'up', range: '5m' }, off)).ctx.lastReply()!.files).toBeUndefined();
  });

  it.each([
    ['instant', {}],
    ['range', { range: '5m' }],
  ])('shows a %s query error in Prometheus’ own words', async (kind, extra) => {
    const params: Record<string, string> = kind === 'instant' ? { query: 'sum(up' } : { query: 'sum(up', start: '0', end: '300', step: '15' };
    const raw = await fetch(`${prom.url}/api/v1/${kind === 'instant' ? 'query' : 'query_range'}?${new URLSearchParams(params).toString()}`);
    const body = (await raw.json()) as { errorType: string; error: string };
    const { content } = await run({ promql: 'sum(up', ...extra });
    expect(body.error).toContain('parse error');
    expect(content).toBe(`❌ Prometheus: ${body.errorType.replace(/_/g, '\\_')}: ${body.error}`);
  });

  it('answers publicly when the user asks for it', async () => {
    const { ctx } = await run({ promql: 'up', ephemeral: false });
    expect(ctx.calls[0]).toEqual({ kind: 'defer', ephemeral: false });
  });

  it('takes its privacy default from commands.ephemeral through the router', async () => {
    const ctx = recordingCommand('query', { promql: 'up' });
    await createRouter([query], [], deps(false)).handleCommand(ctx);
    expect(ctx.calls.map((c) => ('ephemeral' in c ? [c.kind, c.ephemeral] : [c.kind]))).toEqual([
      ['defer', false],
      ['reply', false],
    ]);
  });

  it.each([
    ['promql', { promql: '' }],
    ['promql', { promql: '   ' }],
    ['promql', { promql: `up${' '.repeat(1999)}` }],
    ['range', { promql: 'up', range: '10s' }],
    ['range', { promql: 'up', range: '8d' }],
    ['range', { promql: 'up', range: 'an hour' }],
  ])('rejects %s in %j with an OptionError naming it, before deferring', async (option, options) => {
    const ctx = recordingCommand('query', options);
    const err = await query.execute(ctx, deps()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OptionError);
    expect((err as OptionError).option).toBe(option);
    expect(ctx.calls).toEqual([]);
  });

  it('answers a bad range through the router ephemerally, naming the option', async () => {
    const ctx = recordingCommand('query', { promql: 'up', range: '8d' });
    await createRouter([query], [], deps(false)).handleCommand(ctx);
    expect(ctx.calls).toEqual([{ kind: 'reply', payload: { content: '⚠️ range: expected a duration like 1h, from 1m to 7d' }, ephemeral: true }]);
  });
});

describe('queryRequest', () => {
  it.each([
    [{ promql: ' up ' }, { expr: 'up' }],
    [
      { promql: 'up', range: '1m' },
      { expr: 'up', rangeMs: 60_000 },
    ],
    [
      { promql: 'up', range: '7d' },
      { expr: 'up', rangeMs: 7 * 86_400_000 },
    ],
    [{ promql: 'x'.repeat(2000) }, { expr: 'x'.repeat(2000) }],
  ])('accepts %j', (options, want) => {
    expect(queryRequest(options)).toEqual(want);
  });
});
