import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOKI_BIN } from '../support/loki.js';
import { lokiConfigForDir, startLoki, STACK_LOKI_CONFIG, type LokiHandle } from '../support/procs.js';

const execFileAsync = promisify(execFile);
const STACK_YAML = readFileSync(STACK_LOKI_CONFIG, 'utf8');

describe("the stack's loki.yaml moved to a temp dir", () => {
  it('moves every path under /loki below the dir and keeps the rest', () => {
    const moved = parse(lokiConfigForDir(STACK_YAML, '/tmp/x')) as Record<string, Record<string, unknown>>;
    const original = parse(STACK_YAML) as Record<string, Record<string, unknown>>;
    expect(moved.common?.path_prefix).toBe('/tmp/x');
    expect(moved.common?.storage).toEqual({ filesystem: { chunks_directory: '/tmp/x/chunks', rules_directory: '/tmp/x/rules' } });
    expect(moved.compactor?.working_directory).toBe('/tmp/x/compactor');
    expect(moved.limits_config).toEqual(original.limits_config);
    expect(moved.schema_config).toEqual(original.schema_config);
  });

  it('refuses a config that would still write under /loki', () => {
    expect(() => lokiConfigForDir('ruler:\n  rule_path: "/loki"\nother: "a /loki/x b"\n', '/tmp/x')).toThrow(/left in the Loki config/);
  });
});

// Skipped without a Loki binary (none ships with Debian): LOKI_BIN, or loki on PATH, runs these;
// .ci/run sets LOKI_BIN from the team's copy when it is there. See README "Tests".
describe.skipIf(!LOKI_BIN)("the stack's loki.yaml in a real Loki", () => {
  let loki: LokiHandle;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-loki-verify-'));
    loki = await startLoki({ binary: LOKI_BIN! });
  }, 90_000);
  afterAll(async () => {
    await loki?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('passes -verify-config', async () => {
    const file = join(dir, 'loki.yaml');
    writeFileSync(file, lokiConfigForDir(STACK_YAML, dir));
    const { stdout, stderr } = await execFileAsync(LOKI_BIN!, [`-config.file=${file}`, '-verify-config']);
    expect(`${stdout}${stderr}`).not.toMatch(/level=error|invalid|failed/i);
  });

  it('fails -verify-config on a broken config, so the check above can fail', async () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, `${lokiConfigForDir(STACK_YAML, dir)}\nlimits_config_typo:\n  x: 1\n`);
    await expect(execFileAsync(LOKI_BIN!, [`-config.file=${file}`, '-verify-config'])).rejects.toMatchObject({ code: 1 });
  });

  it('starts with it, reports ready, takes a push and answers a log query and a metric query', async () => {
    expect(await (await fetch(`${loki.url}/ready`)).text()).toMatch(/^ready/);
    const ns = BigInt(Date.now() - 30_000) * 1_000_000n;
    await loki.push([
      {
        stream: { job: 'docker', container_name: 'api', level: 'error' },
        values: [
          [`${ns}`, 'ERROR first'],
          [`${ns + 1_000_000_000n}`, 'ERROR second'],
        ],
      },
    ]);
    const q = new URLSearchParams({
      query: '{container_name="api"} |= "ERROR"',
      start: `${ns - 60_000_000_000n}`,
      end: `${ns + 60_000_000_000n}`,
      direction: 'backward',
    });
    const logs = (await (await fetch(`${loki.url}/loki/api/v1/query_range?${q.toString()}`)).json()) as {
      data: { resultType: string; result: Array<{ stream: Record<string, string>; values: [string, string][] }> };
    };
    expect(logs.data.resultType).toBe('streams');
    expect(logs.data.result.flatMap((s) => s.values.map((v) => v[1]))).toEqual(['ERROR second', 'ERROR first']);
    // Loki 3 adds service_name from container_name (discover_service_name's defaults): Vigil must not rely on exact label sets.
    expect(logs.data.result[0]!.stream).toMatchObject({ container_name: 'api', level: 'error', service_name: 'api' });
    const m = new URLSearchParams({ query: 'sum by (level) (count_over_time({job="docker"}[5m]))', time: `${ns + 60_000_000_000n}` });
    const metric = (await (await fetch(`${loki.url}/loki/api/v1/query?${m.toString()}`)).json()) as {
      data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
    };
    expect(metric.data.result).toEqual([{ metric: { level: 'error' }, value: [expect.any(Number), '2'] }]);
  });

  it('answers the log volume API the config enables (volume_enabled)', async () => {
    const now = Date.now();
    const q = new URLSearchParams({ query: '{job="docker"}', start: `${BigInt(now - 600_000) * 1_000_000n}`, end: `${BigInt(now) * 1_000_000n}` });
    const res = await fetch(`${loki.url}/loki/api/v1/index/volume?${q.toString()}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('success');
  });
});
