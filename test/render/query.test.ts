import { describe, expect, it } from 'vitest';
import type { QueryResult, RangeSeries } from '../../src/queries/prometheus.js';
import {
  compactLabels,
  MAX_INSTANT_ROWS,
  MAX_RANGE_SERIES,
  renderInstant,
  renderQueryError,
  renderRange,
  seriesStats,
  splitLabels,
} from '../../src/render/query.js';
import { codePointLength } from '../../src/render/truncate.js';

const AT = new Date(Date.UTC(2026, 10, 21, 9));
const vector = (rows: Array<[Record<string, string>, number]>): QueryResult => ({
  resultType: 'vector',
  result: rows.map(([labels, value]) => ({ labels, at: AT, value })),
});
const range = (labels: Record<string, string>, values: number[]): RangeSeries => ({
  labels,
  points: values.map((value, i) => ({ at: new Date(AT.getTime() + i * 60_000), value })),
});

function tableLines(text: string): string[] {
  const m = /```\n([\s\S]*?)\n```/.exec(text);
  if (!m) throw new Error(`no code block in ${text}`);
  return m[1]!.split('\n');
}

describe('splitLabels', () => {
  it('separates the labels every series shares from the ones that tell them apart', () => {
    const split = splitLabels([
      { __name__: 'up', job: 'node', instance: 'a:9100' },
      { __name__: 'up', job: 'node', instance: 'b:9100' },
      { __name__: 'up', job: 'node', instance: 'c:9100', extra: 'x' },
    ]);
    expect(split).toEqual({ common: { __name__: 'up', job: 'node' }, distinguishing: ['extra', 'instance'] });
  });

  it('treats every label of a single series as shared', () => {
    expect(splitLabels([{ job: 'node' }])).toEqual({ common: { job: 'node' }, distinguishing: [] });
  });
});

describe('compactLabels', () => {
  it.each([
    [{ __name__: 'up', job: 'node' }, ['__name__', 'job'], 'up job=node'],
    [{ job: 'node', instance: 'a' }, ['instance'], 'instance=a'],
    [{}, [], '{}'],
  ])('%j -> %s', (labels, names, want) => {
    expect(compactLabels(labels, names)).toBe(want);
  });
});

describe('renderInstant', () => {
  it('shows a vector as a table of distinguishing labels and values with units, largest first', () => {
    const text = renderInstant(
      'node_memory_MemAvailable_bytes',
      vector([
        [{ __name__: 'node_memory_MemAvailable_bytes', job: 'node', instance: 'a:9100' }, 512 * 1024 ** 2],
        [{ __name__: 'node_memory_MemAvailable_bytes', job: 'node', instance: 'b:9100' }, 3 * 1024 ** 3],
      ]),
      'bytes',
    );
    expect(text.split('\n').slice(0, 2)).toEqual([
      '`node_memory_MemAvailable_bytes` · instant · 2 series',
      '-# all: node\\_memory\\_MemAvailable\\_bytes job=node',
    ]);
    expect(tableLines(text)).toEqual(['series             value', 'instance=b:9100    3 GiB', 'instance=a:9100  512 MiB']);
  });

  it('keeps the order of a query that sorts itself', () => {
    const text = renderInstant(
      'sort(x)',
      vector([
        [{ i: '1' }, 1],
        [{ i: '2' }, 2],
      ]),
      'plain',
    );
    expect(tableLines(text).slice(1)).toEqual(['i=1         1', 'i=2         2']);
  });

  it('lists at most 25 rows and counts the rest', () => {
    const rows = Array.from({ length: 30 }, (_, i): [Record<string, string>, number] => [{ i: String(i) }, i]);
    const text = renderInstant('x', vector(rows), 'plain');
    expect(tableLines(text)).toHaveLength(MAX_INSTANT_ROWS + 1);
    expect(text.endsWith('-# +5 more series')).toBe(true);
  });

  it('says so when the vector is empty', () => {
    expect(renderInstant('up == 2', vector([]), 'plain')).toBe('`up == 2` · instant · 0 series\nNo data: the result is an empty vector.');
  });

  it.each([
    ['a scalar', { resultType: 'scalar', result: { at: AT, value: 0.5 } }, 'ratio', '`x` · scalar\n**50.0%**'],
    ['a string', { resultType: 'string', result: { at: AT, value: 'hello' } }, 'plain', '`x` · string\n```\nhello\n```'],
  ] as const)('shows %s plainly', (_name, result, unit, want) => {
    expect(renderInstant('x', result as QueryResult, unit)).toBe(want);
  });

  it('summarises a range selector like a range query', () => {
    const text = renderInstant('up[5m]', { resultType: 'matrix', result: [range({ job: 'node' }, [1, 0, 1])] }, 'plain');
    expect(text.split('\n').slice(0, 2)).toEqual(['`up[5m]` · range selector · 1 series', '-# job=node']);
    expect(tableLines(text)[1]).toMatch(/^\{\}\s+0\s+1\s+1$/);
  });

  it('shows the labels of a single series in full above the table, its metric name in it', () => {
    const labels = { __name__: 'up', instance: 'a-rather-long-host-name.example.internal:9100', job: 'node' };
    const text = renderInstant('up', vector([[labels, 1]]), 'plain');
    expect(text.split('\n')[1]).toBe('-# up instance=a-rather-long-host-name.example.internal:9100 job=node');
    expect(tableLines(text)).toEqual(['series  value', 'up          1']);
  });

  it('shows a long query cut, on one line, with backticks neutralised', () => {
    const text = renderInstant(`sum(\n  rate(x_total[5m])\n) ${'+ 1 '.repeat(60)} \`oops\``, vector([]), 'plain');
    const head = text.split('\n')[0]!;
    expect(head.startsWith('`sum( rate(x_total[5m]) ) + 1')).toBe(true);
    expect(head).toContain('…` · instant');
    expect(head.match(/`/g)).toHaveLength(2);
  });
});

describe('seriesStats', () => {
  it.each([
    ['plain values', [3, 1, 4, 2], { min: 1, max: 4, last: 2 }],
    ['NaN ignored', [NaN, 5, NaN], { min: 5, max: 5, last: 5 }],
    ['only NaN', [NaN], { min: NaN, max: NaN, last: NaN }],
  ])('%s', (_name, values, want) => {
    expect(seriesStats(range({}, values))).toEqual(want);
  });
});

describe('renderRange', () => {
  it('shows min/max/last per series with units, highest max first, at most 10 series', () => {
    const series = Array.from({ length: 12 }, (_, i) =>
      range(
        { job: 'node', cpu: String(i) },
        [i, 2 * i, i + 1].map((v) => v / 100),
      ),
    );
    const text = renderRange('rate(node_cpu_seconds_total[1m])', series, 3_600_000, 15, 'cores');
    const lines = tableLines(text);
    expect(text.split('\n')[0]).toBe('`rate(node_cpu_seconds_total[1m])` · last 1h (step 15s) · 12 series');
    expect(text).toContain('-# all: job=node');
    expect(lines).toHaveLength(MAX_RANGE_SERIES + 1);
    expect(lines[0]).toMatch(/^series\s+min\s+max\s+last$/);
    expect(lines[1]).toMatch(/^cpu=11\s+0\.11 cores\s+0\.22 cores\s+0\.12 cores$/);
    expect(text.endsWith('-# +2 more series')).toBe(true);
    for (const line of lines) expect(codePointLength(line)).toBeLessThanOrEqual(48);
  });

  it('says so when the range holds no data', () => {
    expect(renderRange('x', [], 600_000, 5, 'plain')).toContain('No data in this range.');
  });
});

describe('renderQueryError', () => {
  it.each([
    ['Prometheus HTTP 400: bad_data: 1:5: parse error: unexpected "}"', '❌ Prometheus: bad\\_data: 1:5: parse error: unexpected "}"'],
    ['Prometheus HTTP 422: execution: many-to-many matching not allowed', '❌ Prometheus: execution: many-to-many matching not allowed'],
    ['Prometheus timed out after 5s', '❌ Prometheus timed out after 5s'],
  ])('shows %j in Prometheus’ own words', (message, want) => {
    expect(renderQueryError(message)).toBe(want);
  });
});
