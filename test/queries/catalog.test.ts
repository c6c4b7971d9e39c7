import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  cpuBusyPercent,
  errorLogs,
  filesystemUsedPercent,
  logVolumeByLevel,
  memoryUsedPercent,
  targetUp,
} from '../../src/queries/catalog.js';

const run = promisify(execFile);

describe('catalog queries', () => {
  it.each([
    [undefined, undefined, 'up'],
    ['node', undefined, 'up{job="node"}'],
    [undefined, '10.0.0.5:9100', 'up{instance="10.0.0.5:9100"}'],
    ['node', '10.0.0.5:9100', 'up{job="node",instance="10.0.0.5:9100"}'],
    ['', '', 'up'],
    ['we"ird', undefined, 'up{job="we\\"ird"}'],
  ])('targetUp(%j, %j) is %s', (job, instance, want) => {
    expect(targetUp(job, instance)).toBe(want);
  });

  it('filters error logs of a stream with an escaped regex', () => {
    expect(errorLogs('{container_name="api"}', '(?i)(error|exception)')).toBe('{container_name="api"} |~ "(?i)(error|exception)"');
    expect(errorLogs('{host="h"}', 'a\\d"')).toBe('{host="h"} |~ "a\\\\d\\""');
  });

  it('counts log lines per level over a range', () => {
    expect(logVolumeByLevel('{job="docker"}', 600)).toBe('sum by (level) (count_over_time({job="docker"}[600s]))');
  });

  it.each([0, 1.5, -60])('refuses a range of %d seconds', (seconds) => {
    expect(() => logVolumeByLevel('{job="docker"}', seconds)).toThrow(/whole seconds/);
  });

  it('scopes node queries to an instance when given', () => {
    expect(cpuBusyPercent('h:9100', 60)).toBe(
      '100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle",instance="h:9100"}[60s])))',
    );
    expect(memoryUsedPercent()).toBe('100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)');
    expect(filesystemUsedPercent('h:9100')).toContain('node_filesystem_avail_bytes{fstype!~"tmpfs|');
  });

  it('writes PromQL the real parser accepts (promtool check rules)', async () => {
    const exprs = [
      targetUp(),
      targetUp('node', 'a"b\\c\n:9100'),
      cpuBusyPercent(),
      cpuBusyPercent('h:9100', 120),
      memoryUsedPercent('h:9100'),
      filesystemUsedPercent(),
      filesystemUsedPercent('h:9100'),
    ];
    const dir = await mkdtemp(join(tmpdir(), 'vigil-catalog-'));
    try {
      const file = join(dir, 'rules.yml');
      const rules = exprs.map((expr, i) => ({ record: `vigil:catalog_${i}`, expr }));
      await writeFile(file, stringify({ groups: [{ name: 'catalog', rules }] }));
      const { stdout } = await run('/usr/bin/promtool', ['check', 'rules', file]);
      expect(stdout).toContain(`SUCCESS: ${exprs.length} rules found`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
