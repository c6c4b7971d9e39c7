import { describe, expect, it } from 'vitest';
import { DEFAULT_LOG_LABEL_MAP } from '../../src/config/schema.js';
import {
  endOfString,
  escapeLabelValue,
  escapeRegex,
  lineFilter,
  logSelectorForAlert,
  matcher,
  quote,
  selector,
  splitThreshold,
  stripPort,
} from '../../src/queries/promql.js';

describe('escapeLabelValue', () => {
  it.each([
    ['plain', 'plain'],
    ['say "hi"', 'say \\"hi\\"'],
    ['back\\slash', 'back\\\\slash'],
    ['trailing\\', 'trailing\\\\'],
    ['\\"', '\\\\\\"'],
    ['line1\nline2', 'line1\\nline2'],
    ['a\r\tb', 'a\\r\\tb'],
    ['\b\f\v', '\\b\\f\\v'],
    ['nul\x00 bell\x07 esc\x1b del\x7f', 'nul\\x00 bell\\x07 esc\\x1b del\\x7f'],
    ['ünïcødé ☃ 日本語 🚀', 'ünïcødé ☃ 日本語 🚀'],
    ['lone \uD800 surrogate', 'lone \uFFFD surrogate'],
    ['close}brace)paren', 'close}brace)paren'],
  ])('escapes %j as %j', (value, escaped) => {
    expect(escapeLabelValue(value)).toBe(escaped);
  });

  it.each(['"} or vector(1) or up{x="', 'x\\"}', '\\', 'a\n"}', '`raw`'])(
    'keeps %j inside one string literal (no unescaped quote, no raw newline)',
    (value) => {
      const inner = escapeLabelValue(value);
      // Every quote is preceded by an odd number of backslashes: it is escaped.
      for (const m of inner.matchAll(/(\\*)"/g)) expect(m[1]!.length % 2).toBe(1);
      // An odd run of trailing backslashes would escape the closing quote.
      expect(/\\*$/.exec(inner)![0].length % 2).toBe(0);
      expect(inner).not.toMatch(/[\n\r]/);
      expect(JSON.parse(`"${inner.replace(/\\x([0-9a-f]{2})/g, '\\u00$1').replace(/\\v/g, '\\u000b')}"`)).toBe(value);
    },
  );
});

describe('escapeRegex', () => {
  it.each([
    ['api-1', 'api-1'],
    ['10.0.0.1:9100', '10\\.0\\.0\\.1:9100'],
    ['a.b*c+d?e(f)g[h]i{j}k|l^m$n\\o', 'a\\.b\\*c\\+d\\?e\\(f\\)g\\[h\\]i\\{j\\}k\\|l\\^m\\$n\\\\o'],
  ])('quotes %j as %j', (value, quoted) => {
    expect(escapeRegex(value)).toBe(quoted);
  });

  it.each(['a.b', 'x(y)*', '[0-9]+', '^$', 'a\\d'])('makes %j match only itself', (value) => {
    const re = new RegExp(`^(?:${escapeRegex(value)})$`);
    expect(re.test(value)).toBe(true);
    expect(re.test(`${value}x`)).toBe(false);
  });
});

describe('matcher and selector', () => {
  it.each([
    ['job', '=', 'node', 'job="node"'],
    ['instance', '!=', 'a:1', 'instance!="a:1"'],
    ['container_name', '=~', 'api|web', 'container_name=~"api|web"'],
    ['_x9', '!~', 'a"b', '_x9!~"a\\"b"'],
  ] as const)('renders %s %s %j', (name, op, value, want) => {
    expect(matcher(name, op, value)).toBe(want);
  });

  it.each(['', '9job', 'job-name', 'a.b', 'job"', 'job}', 'jöb', 'a b', '__name__ or x'])('refuses the label name %j', (name) => {
    expect(() => matcher(name, '=', 'x')).toThrow(/invalid label name/);
  });

  it('refuses an unknown operator', () => {
    expect(() => matcher('job', '==' as never, 'x')).toThrow(/invalid matcher operator/);
  });

  it('renders a selector from specs, with defaults to equality', () => {
    expect(
      selector([
        { name: 'a', value: 'x' },
        { name: 'b', op: '=~', value: 'y.*' },
      ]),
    ).toBe('{a="x",b=~"y.*"}');
  });

  it('renders a selector from a record, with a metric name', () => {
    expect(selector({ job: 'node', instance: 'h:9100' }, 'up')).toBe('up{job="node",instance="h:9100"}');
  });

  it('renders a bare metric when there is no matcher', () => {
    expect(selector([], 'up')).toBe('up');
  });

  it.each([
    [[], ''],
    [[], 'bad metric'],
    [[{ name: 'a', value: 'x' }], 'up}or{'],
  ])('refuses %j with metric %j', (specs, metric) => {
    expect(() => selector(specs, metric)).toThrow();
  });

  it('builds a LogQL line filter that cannot leave its string', () => {
    expect(lineFilter('(?i)(error|"fatal")\\d')).toBe('|~ "(?i)(error|\\"fatal\\")\\\\d"');
    expect(quote('x')).toBe('"x"');
  });
});

describe('stripPort', () => {
  it.each([
    ['10.0.0.5:9100', '10.0.0.5'],
    ['node-1.example:9100', 'node-1.example'],
    ['[::1]:9100', '::1'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['app-1', 'app-1'],
    ['::1', '::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['host:notaport', 'host:notaport'],
  ])('reads %j as host %j', (instance, host) => {
    expect(stripPort(instance)).toBe(host);
  });
});

describe('logSelectorForAlert', () => {
  it.each([
    ['container -> container_name', { container: 'api' }, '{container_name="api"}'],
    ['compose_service', { compose_service: 'api' }, '{compose_service="api"}'],
    ['instance loses its port as host', { instance: '10.0.0.5:9100' }, '{host="10.0.0.5"}'],
    ['host stays as it is', { host: 'app-1' }, '{host="app-1"}'],
    ['first alert label in map order wins', { name: 'from-name', container: 'from-container', container_name: 'cn' }, '{container_name="from-container"}'],
    [
      'a container label wins over the host (an instance rarely names the log host)',
      { container_name: 'api', instance: 'node-exporter:9100' },
      '{container_name="api"}',
    ],
    [
      'several workload labels together',
      { container_name: 'api', compose_service: 'shop', instance: 'app-1:9100' },
      '{container_name="api",compose_service="shop"}',
    ],
    ['instance beats host (map order)', { host: 'h', instance: 'i:1' }, '{host="i"}'],
    ['job alone is used', { job: 'docker', alertname: 'X' }, '{job="docker"}'],
    ['job is dropped when another label is present', { job: 'node', instance: 'app-1:9100' }, '{host="app-1"}'],
    ['values are escaped', { container: 'a"} or {b="' }, '{container_name="a\\"} or {b=\\""}'],
    ['empty values are ignored', { container: '', compose_service: 'api' }, '{compose_service="api"}'],
  ])('%s', (_name, labels, want) => {
    expect(logSelectorForAlert(labels, DEFAULT_LOG_LABEL_MAP)).toBe(want);
  });

  it('is undefined when no mapped label is present', () => {
    expect(logSelectorForAlert({ alertname: 'HighCPU', severity: 'page' }, DEFAULT_LOG_LABEL_MAP)).toBeUndefined();
  });

  it('follows a custom map', () => {
    const map = { pod: 'pod', namespace: 'namespace', instance: 'node' };
    expect(logSelectorForAlert({ namespace: 'prod', pod: 'api-7f9', instance: 'n1:9100' }, map)).toBe('{pod="api-7f9",namespace="prod",node="n1:9100"}');
  });
});

describe('endOfString', () => {
  it.each([
    ['"abc" x', 4],
    [`'abc' x`, 4],
    ['`abc` x', 4],
    ['"a\\"b" x', 5],
    [`'a\\'b' x`, 5],
    [`'\\'' x`, 3],
    ['`a\\` x', 3],
    ['"a\\\\" x', 4],
    ['"abc', -1],
    [`'a\\'`, -1],
    ['"a\nb"', -1],
    [`'a\nb'`, -1],
    ['`a\nb`', 4],
  ])('finds the end of %j at %d', (text, end) => {
    expect(endOfString(text, 0)).toBe(end);
  });
});

describe('splitThreshold', () => {
  it.each([
    ['up == 0', 'up', '==', 0],
    ['node_load1 > 4', 'node_load1', '>', 4],
    ['x >= 0.5', 'x', '>=', 0.5],
    ['x <= -1e3', 'x', '<=', -1000],
    ['x != 1', 'x', '!=', 1],
    ['x > bool 2', 'x', '>', 2],
    [
      '100 - (avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[1m])) * 100) > 90',
      '100 - (avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[1m])) * 100)',
      '>',
      90,
    ],
    [
      'rate(http_requests_total{code=~"5.."}[5m]) / rate(http_requests_total[5m]) > 0.05',
      'rate(http_requests_total{code=~"5.."}[5m]) / rate(http_requests_total[5m])',
      '>',
      0.05,
    ],
    [
      'node_filesystem_avail_bytes{mountpoint="/"} / node_filesystem_size_bytes < .1',
      'node_filesystem_avail_bytes{mountpoint="/"} / node_filesystem_size_bytes',
      '<',
      0.1,
    ],
    ['x{a="b > 3"} < 10', 'x{a="b > 3"}', '<', 10],
    ['a > b > 3', 'a > b', '>', 3],
    ['x > 5 # page when above five', 'x', '>', 5],
    [`label_replace(x, "a", '\\' > 1', "", "") > 2`, `label_replace(x, "a", '\\' > 1', "", "")`, '>', 2],
  ])('strips %j to %j (%s %d)', (expr, stripped, op, value) => {
    expect(splitThreshold(expr)).toEqual({ expr: stripped, threshold: { op, value } });
  });

  it.each([
    'up',
    '(up == 0)',
    'x > y',
    'x > 90 and y',
    'x > 90 or on() vector(0)',
    'x > 90 unless y',
    'x{a=">"}',
    'x > 90 + 5',
    'sum(x > 90)',
    '> 90',
    'x{a="\\"> 1"}',
  ])('leaves %j as it is', (expr) => {
    expect(splitThreshold(expr)).toEqual({ expr });
  });
});

/**
 * Escaping proven against the real PromQL parser: a tiny /metrics endpoint exposes one series per
 * hostile label value, real Prometheus scrapes it, and each value, once escaped, must select
 * exactly its own series, by `=` and by `=~` with escapeRegex.
 */
