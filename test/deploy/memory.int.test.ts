import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOKI_BIN } from '../support/loki.js';
import { lokiConfigForDir, startPrometheus, STACK_LOKI_CONFIG, type PrometheusHandle } from '../support/procs.js';
import { deepMerge } from '../support/bot-config.js';
import { composeValidator, filledEnv, loadCompose, readText, services, yamlFile, type Dict } from './stack.js';

// The stack's memory budget: compose.yaml's limits, compose.small.yaml's for a 1 GiB machine, and
// what keeps each service under its limit (GOMEMLIMIT for Go, Prometheus' retention and query
// limits, Loki's), applied by a real Prometheus and a real Loki.

const execFileAsync = promisify(execFile);

const base = loadCompose('compose.yaml', filledEnv());
const small = loadCompose('compose.small.yaml', filledEnv());
// As Compose merges the keys compose.small.yaml may use (checked below): mappings (services,
// environment, deploy) key by key, a sequence (command) replaced whole.
const merged = deepMerge(base.doc, small.doc);

/** A compose memory size (`448m`, `1g`) in MiB. */
function mib(size: unknown): number {
  const m = /^(\d+)([kmg])$/i.exec(String(size));
  if (!m) throw new Error(`not a memory size: ${String(size)}`);
  const n = Number(m[1]);
  return { k: n / 1024, m: n, g: n * 1024 }[m[2]!.toLowerCase() as 'k' | 'm' | 'g'];
}

/** A GOMEMLIMIT (`256MiB`) in MiB. */
function goMib(limit: string): number {
  const m = /^(\d+)(KiB|MiB|GiB)$/.exec(limit);
  if (!m) throw new Error(`not a GOMEMLIMIT: ${limit}`);
  return Number(m[1]) * { KiB: 1 / 1024, MiB: 1, GiB: 1024 }[m[2] as 'KiB' | 'MiB' | 'GiB'];
}

function limitOf(svc: Dict): number {
  return mib((((svc.deploy as Dict).resources as Dict).limits as Dict).memory);
}

/** The services that run without a profile, with their memory limits in MiB. */
function coreLimits(doc: Dict): Record<string, number> {
  return Object.fromEntries(
    Object.entries(services(doc))
      .filter(([, svc]) => svc.profiles === undefined)
      .map(([name, svc]) => [name, limitOf(svc)]),
  );
}

const sum = (limits: Record<string, number>) => Object.values(limits).reduce((a, b) => a + b, 0);

/** A flag's value in a command (`--name=value` or `-name=value`). */
function flag(command: unknown, name: string): string | undefined {
  const found = (command as string[]).find((a) => a.replace(/^--?/, '').startsWith(`${name}=`));
  return found?.slice(found.indexOf('=') + 1);
}

/** Bytes a Prometheus sample takes in a query's memory: an int64 timestamp and a float64 value. */
const SAMPLE_BYTES = 16;

/** The Go services: each reads GOMEMLIMIT (Prometheus 3 sets its own from the container limit, --auto-gomemlimit). */
const GO_SERVICES = ['loki', 'grafana', 'alloy', 'node-exporter', 'cadvisor'];

describe('the memory budget of compose.yaml', () => {
  it('gives the core stack at most 1.5 GiB of limits in all, and Vigil at most 160 MiB', () => {
    const limits = coreLimits(base.doc);
    expect(limits.vigil).toBeLessThanOrEqual(160);
    expect(sum(limits)).toBeLessThanOrEqual(1536);
    // The figure compose.small.yaml and deploy/compose/README.md quote.
    expect(readText('compose.small.yaml')).toContain(`compose.yaml's: ${sum(limits).toLocaleString('en')} MiB`);
    expect(readText('README.md')).toContain(`limits add up to ${sum(limits).toLocaleString('en')} MiB`);
  });
});

describe('compose.small.yaml, the stack on a 1 GiB machine', () => {
  it('is valid Compose once merged into compose.yaml', () => {
    expect(small.errors).toEqual([]);
    expect(composeValidator()(merged)).toEqual([]);
  });

  it("changes only commands, environments and memory limits of compose.yaml's core services", () => {
    const names = Object.keys(coreLimits(base.doc));
    for (const [name, svc] of Object.entries(services(yamlFile('compose.small.yaml')))) {
      expect(names, name).toContain(name);
      expect(['command', 'environment', 'deploy'], name).toEqual(expect.arrayContaining(Object.keys(svc)));
    }
  });

  it('gives the core stack at most 900 MiB of limits in all, none above its compose.yaml limit', () => {
    const limits = coreLimits(merged);
    expect(sum(limits)).toBeLessThanOrEqual(900);
    expect(readText('compose.small.yaml')).toContain(`add up to ${sum(limits)} MiB`);
    expect(readText('README.md')).toContain(`limits that add up to ${sum(limits)} MiB`);
    const before = coreLimits(base.doc);
    for (const [name, limit] of Object.entries(limits)) expect(limit, name).toBeLessThanOrEqual(before[name]!);
  });

  it('gives every Go service but Prometheus a GOMEMLIMIT', () => {
    for (const name of GO_SERVICES) expect((services(merged)[name]!.environment as Dict | undefined)?.GOMEMLIMIT, name).toBeDefined();
  });

  it('keeps a week of metrics, at most 1 GB, and every flag of compose.yaml', () => {
    const command = services(merged).prometheus!.command as string[];
    expect(flag(command, 'storage.tsdb.retention.time')).toBe('7d');
    expect(flag(command, 'storage.tsdb.retention.size')).toBe('1GB');
    const names = (c: string[]) => c.map((a) => a.split('=')[0]);
    expect(names(command)).toEqual(expect.arrayContaining(names(services(base.doc).prometheus!.command as string[])));
  });

  it('keeps a week of logs in Loki, and its config file', () => {
    const command = services(merged).loki!.command as string[];
    expect(flag(command, 'store.retention')).toBe('7d');
    expect(command).toContain('-config.file=/etc/loki/loki.yaml');
  });
});

describe.each([
  ['compose.yaml', base.doc],
  ['compose.small.yaml', merged],
])('%s', (_file, doc) => {
  it('sets each GOMEMLIMIT at 70-85% of its container limit', () => {
    const set = Object.entries(services(doc)).filter(([, svc]) => (svc.environment as Dict | undefined)?.GOMEMLIMIT !== undefined);
    expect(set.length).toBeGreaterThan(0);
    for (const [name, svc] of set) {
      const ratio = goMib(String((svc.environment as Dict).GOMEMLIMIT)) / limitOf(svc);
      expect(ratio, name).toBeGreaterThanOrEqual(0.7);
      expect(ratio, name).toBeLessThanOrEqual(0.85);
    }
  });

  it("lets one Prometheus query hold at most a third of Prometheus' limit", () => {
    const prometheus = services(doc).prometheus!;
    const samples = Number(flag(prometheus.command, 'query.max-samples'));
    expect(samples).toBeGreaterThan(0);
    expect((samples * SAMPLE_BYTES) / 2 ** 20).toBeLessThanOrEqual(limitOf(prometheus) / 3);
  });
});

/** A Prometheus duration in seconds, or a size in bytes in binary units (1GB is read as 1GiB); any other value as it is. */
function asPrinted(value: string): string | number {
  const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000, B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
  const parts = [...value.replace(/iB/g, 'B').matchAll(/(\d+)([a-zA-Z]+)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value.replace(/iB/g, 'B') || parts.some((p) => !(p[2]! in UNITS))) return value;
  return parts.reduce((total, p) => total + Number(p[1]) * UNITS[p[2]!]!, 0);
}

describe("compose.small.yaml's Prometheus flags in a real Prometheus", () => {
  let prometheus: PrometheusHandle;
  // Its own paths and listen address come from the test support; the limits from the file.
  const limits = (services(merged).prometheus!.command as string[]).filter((a) => /^--(query|storage\.tsdb\.retention)\./.test(a));

  beforeAll(async () => {
    prometheus = await startPrometheus({ extraArgs: limits });
  }, 60_000);
  afterAll(async () => {
    await prometheus?.stop();
  });

  it('starts with them and reports them as its flags', async () => {
    expect(limits.length).toBe(4);
    const flags = ((await (await fetch(`${prometheus.url}/api/v1/status/flags`)).json()) as { data: Record<string, string> }).data;
    for (const arg of limits) {
      const [name, value] = arg.replace(/^--/, '').split('=') as [string, string];
      expect(asPrinted(flags[name]!), name).toBe(asPrinted(value));
    }
  });
});

/** A top-level section of the config Loki prints (-print-config-stderr), parsed. */
function printedSection(printed: string, name: string): Dict {
  const lines = printed.split('\n');
  const start = lines.indexOf(`${name}:`);
  if (start < 0) throw new Error(`no ${name} in Loki's printed config`);
  const end = lines.findIndex((l, i) => i > start && /^\S/.test(l));
  return (parse(lines.slice(start, end < 0 ? undefined : end).join('\n')) as Dict)[name] as Dict;
}

// Skipped without a Loki binary (none ships with Debian): LOKI_BIN, or loki on PATH, runs it; see README "Tests".
describe.skipIf(!LOKI_BIN)("compose.small.yaml's Loki flags in a real Loki", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-loki-small-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('override loki.yaml: a week of retention, two queries at a time, at most 500 series', async () => {
    const file = join(dir, 'loki.yaml');
    writeFileSync(file, lokiConfigForDir(readFileSync(STACK_LOKI_CONFIG, 'utf8'), dir));
    const flags = (services(merged).loki!.command as string[]).filter((a) => !a.startsWith('-config.file='));
    const { stderr } = await execFileAsync(LOKI_BIN!, [`-config.file=${file}`, ...flags, '-verify-config', '-print-config-stderr'], { maxBuffer: 64 << 20 });
    const limitsConfig = printedSection(stderr, 'limits_config');
    expect(limitsConfig.retention_period).toBe('1w');
    expect(limitsConfig.max_query_series).toBe(500);
    expect(limitsConfig.max_query_parallelism).toBe(2);
    expect(printedSection(stderr, 'querier').max_concurrent).toBe(2);
    const cache = (((printedSection(stderr, 'query_range').results_cache as Dict).cache as Dict).embedded_cache as Dict).max_size_mb;
    expect(cache).toBe(8);
  });
});
