import { translate } from '../../src/i18n/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCommandDeps, testConfig } from '../support/deps.js';
import { stringify } from 'yaml';
import { PNG } from 'pngjs';
import { createRouter } from '../../src/commands/router.js';
import { top, topChartSpec } from '../../src/commands/top.js';
import { topQueries } from '../../src/queries/catalog.js';
import { CHART_COLORS } from '../../src/render/chart-theme.js';
import { OptionError, type CommandDeps } from '../../src/commands/types.js';
import { startCadvisor, type CadvisorHandle } from '../support/cadvisor.js';
import { recordingAutocomplete, recordingCommand } from '../support/contexts.js';
import { freePort } from '../support/ports.js';
import { startPrometheus, type PrometheusHandle } from '../support/procs.js';

const MiB = 1024 * 1024;
/** An instance label that is PromQL, to prove a host is matched literally. */
const EVIL_INSTANCE = 'evil"} or vector(1) #';

/** The rows of the table in a reply, split into cells. */
function rows(content: string): string[][] {
  const m = /```\n([\s\S]*?)\n```/.exec(content);
  if (!m) throw new Error(`no table in: ${content}`);
  return m[1]!
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s{2,}/));
}

function percent(cell: string): number {
  const m = /^(\d+(?:\.\d+)?)%$/.exec(cell);
  if (!m) throw new Error(`not a percentage: ${cell}`);
  return Number(m[1]);
}

describe('/top against a real Prometheus scraping cAdvisor-shaped exporters', () => {
  let nodeA: CadvisorHandle;
  let nodeB: CadvisorHandle;
  let evil: CadvisorHandle;
  let prom: PrometheusHandle;
  let empty: PrometheusHandle;

  beforeAll(async () => {
    [nodeA, nodeB, evil] = await Promise.all([
      startCadvisor(),
      startCadvisor({
        containers: [
          { name: 'worker', image: 'ghcr.io/acme/worker:2.0', cores: 0.75, memoryBytes: 256 * MiB },
          { name: 'api', image: 'ghcr.io/acme/api:1.4.2', cores: 0.1, memoryBytes: 128 * MiB },
        ],
      }),
      startCadvisor({ containers: [{ name: 'evil-twin', image: 'x', cores: 0.01, memoryBytes: MiB }] }),
    ]);
    // Hosts are named through `instance`, as a real scrape config of several machines does.
    const target = (h: CadvisorHandle, instance: string) => ({ targets: [h.target], labels: { instance } });
    const configYaml = stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      scrape_configs: [{ job_name: 'cadvisor', static_configs: [target(nodeA, 'node-a:8080'), target(nodeB, 'node-b:8080'), target(evil, EVIL_INSTANCE)] }],
    });
    [prom, empty] = await Promise.all([startPrometheus({ configYaml }), startPrometheus()]);
    // rate(...[5m]) is exact once five minutes of samples are in: all 6 named containers.
    await prom.waitFor('count(count_over_time(container_cpu_usage_seconds_total{name!=""}[5m]) >= 5) == 6', 40_000);
  });

  afterAll(async () => {
    await Promise.all([prom?.stop(), empty?.stop(), nodeA?.stop(), nodeB?.stop(), evil?.stop()]);
  });

  function deps(prometheusUrl = prom.url): CommandDeps {
    return testCommandDeps(testConfig({ prometheus: { url: prometheusUrl } }), { timeoutMs: 5_000 });
  }

  /** Runs /top through the router, as a transport would (it sets the defer's ephemeral default). */
  async function run(options: Record<string, string | number>, d = deps()) {
    const ctx = recordingCommand('top', options);
    await createRouter([top], [], d).handleCommand(ctx);
    return { ctx, content: ctx.lastReply()!.content! };
  }

  it('ranks the containers of a host by CPU with the right percentages of one core and their memory beside', async () => {
    const { ctx, content } = await run({ host: 'node-a' });
    expect(ctx.calls[0]).toEqual({ kind: 'defer', ephemeral: false });
    expect(content.split('\n')[0]).toBe('**Top 3 containers by CPU** on `node-a`');
    const table = rows(content);
    expect(table.map((r) => r[0])).toEqual(['api', 'db', 'nginx']);
    expect(Math.abs(percent(table[0]![1]!) - 50)).toBeLessThanOrEqual(5);
    expect(Math.abs(percent(table[1]![1]!) - 25)).toBeLessThanOrEqual(2.5);
    expect(Math.abs(percent(table[2]![1]!) - 5)).toBeLessThanOrEqual(0.5);
    expect(table.map((r) => r[2])).toEqual(['512 MiB', '1.5 GiB', '24 MiB']);
  });

  it('ranks by memory when asked, CPU still beside', async () => {
    const table = rows((await run({ host: 'node-a', resource: 'memory' })).content);
    expect(table.map((r) => [r[0], r[2]])).toEqual([
      ['db', '1.5 GiB'],
      ['api', '512 MiB'],
      ['nginx', '24 MiB'],
    ]);
    expect(Math.abs(percent(table[0]![1]!) - 25)).toBeLessThanOrEqual(2.5);
  });

  it('ranks across hosts with a host column, keeping at most limit, never the unnamed root cgroup', async () => {
    const { content } = await run({ limit: 3 });
    expect(content.split('\n')[0]).toBe('**Top 3 containers by CPU**');
    expect(rows(content).map((r) => [r[0], r[1]])).toEqual([
      ['worker', 'node-b'],
      ['api', 'node-a'],
      ['db', 'node-a'],
    ]);
    const all = rows((await run({ limit: 25 })).content);
    // Three hosts each have a root cgroup (name="") busier than any container: none may appear.
    expect(all.map((r) => r[0]).sort()).toEqual(['api', 'api', 'db', 'evil-twin', 'nginx', 'worker']);
  });

  it('accepts a host given with its port', async () => {
    expect(rows((await run({ host: 'node-b:8080' })).content).map((r) => r[0])).toEqual(['worker', 'api']);
  });

  it('matches a host like api"} or vector(1) # literally: no error, no injected series, nothing found', async () => {
    const { content } = await run({ host: 'api"} or vector(1) #' });
    expect(content).toBe('⚠️ No container on host `api"} or vector(1) #` in the cAdvisor metrics. Hosts: `evil"} or vector(1) #`, `node-a`, `node-b`');
  });

  it('finds the host whose instance really is that PromQL-looking text, and only it', async () => {
    expect(rows((await run({ host: EVIL_INSTANCE })).content).map((r) => r[0])).toEqual(['evil-twin']);
  });

  it('escapes regex metacharacters: node-. does not match node-a', async () => {
    expect((await run({ host: 'node-.' })).content).toMatch(/^⚠️ No container on host `node-\.`/);
  });

  it('attaches a bar chart as chart.png: one bar per container, as long as its CPU share', async () => {
    const { ctx } = await run({ host: 'node-a' });
    const files = ctx.lastReply()!.files!;
    expect(files.map((f) => f.name)).toEqual(['chart.png']);
    const img = PNG.sync.read(files[0]!.data);
    expect([img.width, img.height]).toEqual([800, 400]);
    // Bar colour pixels per image row; consecutive rows with a bar form one band per container.
    const n = Number.parseInt(CHART_COLORS.series[0].slice(1), 16);
    const widths = Array.from({ length: img.height }, (_, y) => {
      let w = 0;
      for (let x = 0; x < img.width; x++) {
        const i = (y * img.width + x) * 4;
        if (Math.abs(img.data[i]! - ((n >> 16) & 255)) + Math.abs(img.data[i + 1]! - ((n >> 8) & 255)) + Math.abs(img.data[i + 2]! - (n & 255)) <= 30) w++;
      }
      return w;
    });
    const bands: number[] = [];
    widths.forEach((w, y) => {
      if (w < 3) return;
      if (y > 0 && widths[y - 1]! >= 3) bands[bands.length - 1] = Math.max(bands.at(-1)!, w);
      else bands.push(w);
    });
    expect(bands).toHaveLength(3); // api 50%, db 25%, nginx 5% of one core
    expect(bands[1]! / bands[0]!).toBeGreaterThan(0.35);
    expect(bands[1]! / bands[0]!).toBeLessThan(0.65);
    expect(bands[2]! / bands[0]!).toBeLessThan(0.2);
  });

  it('says clearly when Prometheus has no cAdvisor metrics at all', async () => {
    expect((await run({}, deps(empty.url))).content).toBe(`⚠️ ${translate('en', 'commands.top.noCadvisor')}`);
  });

  it('surfaces a Prometheus failure to the router (which answers it ephemerally)', async () => {
    const gone = `http://127.0.0.1:${await freePort()}`;
    await expect(top.execute(recordingCommand('top', {}), deps(gone))).rejects.toThrow(/^Prometheus unreachable: /);
    const { ctx } = await run({}, deps(gone));
    expect(ctx.calls.at(-1)).toMatchObject({
      kind: 'reply',
      ephemeral: true,
      payload: { content: expect.stringMatching(/^❌ \/top failed: Prometheus unreachable: /) },
    });
  });

  it.each([
    ['limit', { limit: 0 }],
    ['limit', { limit: 26 }],
    ['limit', { limit: 2.5 }],
    ['resource', { resource: 'disk' }],
    ['host', { host: '' }],
    ['host', { host: 'h'.repeat(101) }],
  ])('rejects %s %j with an OptionError naming it, before deferring', async (option, options) => {
    const ctx = recordingCommand('top', options);
    const err = await top.execute(ctx, deps()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OptionError);
    expect((err as OptionError).option).toBe(option);
    expect(ctx.calls).toEqual([]);
  });

  it('completes hosts from the cAdvisor series’ instance values, ports stripped', async () => {
    const ctx = recordingAutocomplete('top', { name: 'host', value: 'node' });
    await top.autocomplete(ctx, deps());
    expect(ctx.calls).toEqual([{ kind: 'respond', choices: ['node-a', 'node-b'].map((v) => ({ name: v, value: v })) }]);
  });
});

describe('topChartSpec', () => {
  const rows = [
    { name: 'db', instance: 'node-a:8080', cpuPercent: 25, memoryBytes: 1.5 * 1024 * MiB },
    { name: 'api', instance: 'node-a:8080', cpuPercent: 50, memoryBytes: 512 * MiB },
    { name: 'worker', instance: 'node-b:8080', memoryBytes: 256 * MiB },
  ];

  it('ranks bars by the chosen resource, names the host when several are listed, and skips missing values', () => {
    expect(topChartSpec(rows, { resource: 'cpu', limit: 10 })).toEqual({
      kind: 'bar',
      title: 'Top 2 containers by CPU (% of one core)',
      bars: [
        { label: 'api @ node-a', value: 50 },
        { label: 'db @ node-a', value: 25 },
      ],
      unit: 'percent',
    });
  });

  it('charts memory in bytes, one host without its name', () => {
    const spec = topChartSpec(rows.slice(0, 2), { resource: 'memory', limit: 1 });
    expect(spec).toMatchObject({ title: 'Top 1 container by memory (working set)', bars: [{ label: 'db', value: 1.5 * 1024 * MiB }], unit: 'bytes' });
  });
});

describe('topQueries', () => {
  it('ranks the chosen resource with topk and restricts the other to the same containers', () => {
    const q = topQueries({ resource: 'memory', limit: 5, host: 'a.b' });
    expect(q.memory).toBe('topk(5, sum by (name, instance) (container_memory_working_set_bytes{name!="",instance=~"a\\\\.b(:\\\\d+)?"}))');
    expect(q.cpu).toBe(
      'sum by (name, instance) (rate(container_cpu_usage_seconds_total{name!="",instance=~"a\\\\.b(:\\\\d+)?"}[5m])) * 100 and on (name, instance) ' + q.memory,
    );
  });
});
