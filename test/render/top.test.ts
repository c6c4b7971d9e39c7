import { translate } from '../../src/i18n/index.js';
import { describe, expect, it } from 'vitest';
import type { InstantSample } from '../../src/queries/prometheus.js';
import { joinUsage, rankUsage, renderNoContainers, renderTop, type ContainerUsage } from '../../src/render/top.js';
import { codePointLength } from '../../src/render/truncate.js';

const AT = new Date(Date.UTC(2026, 10, 21, 9));
const MiB = 1024 * 1024;
const sample = (name: string, instance: string, value: number): InstantSample => ({ labels: { name, instance }, at: AT, value });

const ROWS: ContainerUsage[] = [
  { name: 'nginx', instance: 'node-a:8080', cpuPercent: 5, memoryBytes: 24 * MiB },
  { name: 'api', instance: 'node-a:8080', cpuPercent: 50, memoryBytes: 512 * MiB },
  { name: 'db', instance: 'node-a:8080', cpuPercent: 25, memoryBytes: 1536 * MiB },
];

/** The table rows between the fences. */
function tableLines(text: string): string[] {
  const m = /```\n([\s\S]*?)\n```/.exec(text);
  if (!m) throw new Error(`no code block in ${text}`);
  return m[1]!.split('\n');
}

describe('joinUsage', () => {
  it('puts CPU and memory of the same container and instance on one row', () => {
    const rows = joinUsage(
      [sample('api', 'a:1', 50), sample('api', 'b:1', 10)],
      [sample('api', 'b:1', 100), sample('api', 'a:1', 200), sample('db', 'a:1', 300)],
    );
    expect(rows).toEqual([
      { name: 'api', instance: 'a:1', cpuPercent: 50, memoryBytes: 200 },
      { name: 'api', instance: 'b:1', cpuPercent: 10, memoryBytes: 100 },
      { name: 'db', instance: 'a:1', memoryBytes: 300 },
    ]);
  });
});

describe('rankUsage', () => {
  it.each([
    ['cpu', ['api', 'db', 'nginx']],
    ['memory', ['db', 'api', 'nginx']],
  ] as const)('ranks by %s, highest first', (resource, order) => {
    expect(rankUsage(ROWS, resource, 10).map((r) => r.name)).toEqual(order);
  });

  it('puts containers without the ranked value (or NaN) last and keeps at most limit', () => {
    const rows: ContainerUsage[] = [{ name: 'x', instance: 'i', memoryBytes: 1 }, { name: 'y', instance: 'i', cpuPercent: NaN }, ...ROWS];
    expect(rankUsage(rows, 'cpu', 4).map((r) => r.name)).toEqual(['api', 'db', 'nginx', 'x']);
  });
});

describe('renderTop', () => {
  it('shows an aligned table with CPU % and memory with units, ranked by the chosen resource', () => {
    const text = renderTop(ROWS, { resource: 'cpu', limit: 10 });
    expect(text.split('\n')[0]).toBe('**Top 3 containers by CPU** on `node-a`');
    expect(tableLines(text)).toEqual(['container    CPU      MEM', 'api        50.0%  512 MiB', 'db         25.0%  1.5 GiB', 'nginx       5.0%   24 MiB']);
    expect(text).toContain('% of one core');
  });

  it('adds a host column when containers of several hosts are listed, and stays phone-wide', () => {
    const rows = [...ROWS, { name: 'worker-with-a-rather-long-name', instance: 'node-b.example.internal:8080', cpuPercent: 75, memoryBytes: 2 * MiB }];
    const lines = tableLines(renderTop(rows, { resource: 'cpu', limit: 2 }));
    expect(lines[0]).toMatch(/^container\s+host\s+CPU\s+MEM$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual([expect.stringMatching(/^worker-.*…$/), 'api']);
    expect(lines[1]).toContain('node-b');
    expect(lines[1]).not.toContain(':8080');
    for (const line of lines) expect(codePointLength(line)).toBeLessThanOrEqual(44);
  });

  it('shows a dash for a value Prometheus did not return', () => {
    const lines = tableLines(renderTop([{ name: 'api', instance: 'a', memoryBytes: MiB }], { resource: 'memory', limit: 5 }));
    expect(lines[1]).toMatch(/^api\s+-\s+1 MiB$/);
  });

  it('names the asked host in inline code that a backtick cannot close', () => {
    expect(renderTop(ROWS, { resource: 'memory', limit: 3, host: 'a`b' }).split('\n')[0]).toBe("**Top 3 containers by memory** on `a'b`");
  });
});

describe('renderNoContainers', () => {
  it('says plainly that cAdvisor is not scraped when no series exist', () => {
    expect(renderNoContainers({ resource: 'cpu', limit: 10 }, [])).toBe(`⚠️ ${translate('en', 'commands.top.noCadvisor')}`);
    expect(translate('en', 'commands.top.noCadvisor')).toBe(
      'No cAdvisor metrics in Prometheus: is cadvisor scraped? (container_cpu_usage_seconds_total is missing)',
    );
  });

  it('lists the hosts that do exist when the asked host has no containers', () => {
    expect(renderNoContainers({ resource: 'cpu', limit: 10, host: 'nope' }, ['node-a', 'node-b'])).toBe(
      '⚠️ No container on host `nope` in the cAdvisor metrics. Hosts: `node-a`, `node-b`',
    );
  });

  it('explains a missing CPU rate right after cAdvisor starts', () => {
    expect(renderNoContainers({ resource: 'cpu', limit: 10 }, ['node-a'])).toContain('needs two scrapes');
  });
});
