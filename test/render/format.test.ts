import { describe, expect, it } from 'vitest';
import {
  discordTimestamp,
  escapeMarkdown,
  formatAgo,
  formatClock,
  formatMonthDay,
  formatNumber,
  formatValue,
  inferUnit,
  isRealDate,
  isSecretKey,
  markdownLink,
  safeUrl,
  type Unit,
  zoneName,
} from '../../src/render/format.js';

describe('inferUnit', () => {
  it.each<[string, Unit]>([
    // The real expression of the Alertmanager fixture: a CPU rate turned into a percentage.
    ['100 - (avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 90', 'percent'],
    ['100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)', 'percent'],
    ['node_filesystem_avail_percent < 10', 'percent'],
    ['disk_used_pct > 90', 'percent'],
    ['slo_error_budget_ratio < 0.1', 'ratio'],
    ['slo_error_budget_ratio * 100 < 10', 'percent'],
    ['node_filesystem_avail_bytes{mountpoint="/"} / node_filesystem_size_bytes{mountpoint="/"} < 0.1', 'ratio'],
    ['sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) > 0.05', 'ratio'],
    ['node_memory_MemAvailable_bytes < 1e9', 'bytes'],
    ['container_memory_working_set_bytes', 'bytes'],
    ['rate(node_network_receive_bytes_total[5m])', 'bytes_per_second'],
    ['node_network_receive_bytes_total', 'bytes'],
    ['histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m]))) > 0.5', 'seconds'],
    ['rate(http_request_duration_seconds_sum[5m]) / rate(http_request_duration_seconds_count[5m])', 'seconds'],
    ['time() - node_boot_time_seconds < 600', 'seconds'],
    ['rate(process_cpu_seconds_total[1m]) > 0.9', 'cores'],
    ['sum by (pod) (rate(container_cpu_usage_seconds_total[5m]))', 'cores'],
    ['rate(node_pressure_io_waiting_seconds_total[5m])', 'seconds_per_second'],
    ['increase(node_cpu_seconds_total[1h])', 'seconds'],
    ['sum(rate(http_requests_total[5m])) by (job) > 100', 'requests_per_second'],
    ['irate(node_network_receive_errs_total[5m]) > 0', 'per_second'],
    ['increase(kube_pod_container_status_restarts_total[1h]) > 3', 'plain'],
    ['up == 0', 'plain'],
    ['node_load1 offset 5m > 4', 'plain'],
    ['', 'plain'],
  ])('infers %s as %s', (expr, unit) => {
    expect(inferUnit(expr)).toBe(unit);
  });

  it.each<[string, Unit]>([
    ['percent', 'percent'],
    ['percentunit', 'ratio'],
    ['bytes', 'bytes'],
    ['Bps', 'bytes_per_second'],
    ['s', 'seconds'],
    ['reqps', 'requests_per_second'],
    ['none', 'plain'],
  ])('lets a unit annotation of %s override the expression', (annotation, unit) => {
    expect(inferUnit('up == 0', { unit: annotation })).toBe(unit);
  });

  it('ignores an unknown unit annotation and falls back to the expression', () => {
    expect(inferUnit('node_memory_MemAvailable_bytes', { unit: 'furlongs' })).toBe('bytes');
  });

  it('does not take label values or strings for metric names', () => {
    expect(inferUnit('up{job="api_seconds_total", mode="percent"} == 0')).toBe('plain');
  });
});

describe('formatValue', () => {
  it.each<[number, Unit, string]>([
    [93.1, 'percent', '93.1%'],
    [95, 'percent', '95.0%'],
    [0.05, 'percent', '0.05%'],
    [0, 'percent', '0%'],
    [0.931, 'ratio', '93.1%'],
    [1536, 'bytes', '1.5 KiB'],
    [512, 'bytes', '512 B'],
    [1000, 'bytes', '1000 B'],
    [1048575, 'bytes', '1 MiB'],
    [5 * 1024 ** 3, 'bytes', '5 GiB'],
    [1536, 'bytes_per_second', '1.5 KiB/s'],
    [0.000234, 'seconds', '234µs'],
    [0.012, 'seconds', '12ms'],
    [12.3456, 'seconds', '12.3s'],
    [125, 'seconds', '2m 5s'],
    [3.2e-8, 'seconds', '32ns'],
    [-0.5, 'seconds', '-500ms'],
    [0.25, 'cores', '0.25 cores'],
    [1, 'cores', '1 core'],
    [0.5, 'seconds_per_second', '0.5 s/s'],
    [12.3456, 'requests_per_second', '12.3 req/s'],
    [1500, 'per_second', '1.5k/s'],
    [12.3456, 'plain', '12.3'],
    [1234567, 'plain', '1.23M'],
    [999_999, 'plain', '1M'],
    [-1234, 'plain', '-1.23k'],
    [0.000234, 'plain', '0.000234'],
    [42, 'plain', '42'],
    [Number.NaN, 'percent', 'NaN'],
    [Number.POSITIVE_INFINITY, 'bytes', '+Inf'],
    [Number.NEGATIVE_INFINITY, 'plain', '-Inf'],
  ])('formats %s %s as %s', (value, unit, text) => {
    expect(formatValue(value, unit)).toBe(text);
  });

  it('keeps 3 significant digits for plain numbers of every size', () => {
    expect(formatNumber(1e-7)).toBe('1e-7');
    expect(formatNumber(123.456)).toBe('123');
    expect(formatNumber(2.5e12)).toBe('2.5T');
  });
});

describe('time helpers', () => {
  const at = new Date('2026-11-21T08:51:25.079Z');

  it.each([
    ['R', '<t:1795251085:R>'],
    ['t', '<t:1795251085:t>'],
    ['F', '<t:1795251085:F>'],
  ] as const)('renders a %s timestamp as Discord markup', (style, markup) => {
    expect(discordTimestamp(at, style)).toBe(markup);
  });

  it.each([
    [125_000, '2m 5s ago'],
    [300, 'just now'],
    [-5000, 'in 5s'],
  ])('says %sms before now as "%s"', (ms, text) => {
    expect(formatAgo(new Date(at.getTime() - ms), at)).toBe(text);
  });

  it.each([
    ['UTC', '08:51:25', '08:51', '11-21'],
    ['Asia/Seoul', '17:51:25', '17:51', '11-21'],
    ['America/Los_Angeles', '00:51:25', '00:51', '11-21'],
    ['Pacific/Kiritimati', '22:51:25', '22:51', '11-21'],
    ['Pacific/Pago_Pago', '21:51:25', '21:51', '11-20'],
  ])('prints the time of day in %s, 24-hour, with and without seconds, and the day', (zone, clock, short, day) => {
    expect(formatClock(at, zone)).toBe(clock);
    expect(formatClock(at, zone, false)).toBe(short);
    expect(formatMonthDay(at, zone)).toBe(day);
  });

  it.each([
    ['UTC', 'UTC'],
    ['Asia/Seoul', 'KST'],
    ['Asia/Tokyo', 'JST'],
    ['Europe/Berlin', 'CET'],
    ['America/New_York', 'EST'],
    ['Asia/Kolkata', 'UTC+5:30'],
    ['America/Sao_Paulo', 'UTC-3'],
  ])('names %s as %s (an offset where English has no abbreviation it could be confused with)', (zone, name) => {
    expect(zoneName(zone, at)).toBe(name);
  });

  it('treats the senders\' 0001-01-01 "unset" date as not real', () => {
    expect(isRealDate(new Date('0001-01-01T00:00:00Z'))).toBe(false);
    expect(isRealDate(new Date('invalid'))).toBe(false);
    expect(isRealDate(at)).toBe(true);
  });
});

describe('escapeMarkdown', () => {
  it.each([
    ['a*b*c', 'a\\*b\\*c'],
    ['snake_case_name', 'snake\\_case\\_name'],
    ['`code`', '\\`code\\`'],
    ['a|b', 'a\\|b'],
    ['~~strike~~', '\\~\\~strike\\~\\~'],
    ['> quote', '\\> quote'],
    ['[x](http://e)', '\\[x\\](http://e)'],
    ['<@123>', '\\<@123\\>'],
    ['# heading\n  # again', '\\# heading\n  \\# again'],
    ['C:\\path', 'C:\\\\path'],
    ['issue #12', 'issue #12'],
  ])('escapes %j', (text, escaped) => {
    expect(escapeMarkdown(text)).toBe(escaped);
  });
});

describe('safeUrl', () => {
  it.each([
    ['https://user:pass@grafana.example/d/abc?orgId=1', 'https://grafana.example/d/abc?orgId=1'],
    ['http://localhost:9090/graph?g0.expr=up&g0.tab=1', 'http://localhost:9090/graph?g0.expr=up&g0.tab=1'],
    ['https://grafana.example/d/abc?orgId=1&auth_token=s3cr3t', 'https://grafana.example/d/abc?orgId=1'],
    ['javascript:alert(1)', undefined],
    ['ftp://files.example/x', undefined],
    ['not a url', undefined],
    ['', undefined],
    [`https://e.example/${'a'.repeat(2100)}`, undefined],
  ])('turns %j into %j', (raw, safe) => {
    expect(safeUrl(raw)).toBe(safe);
  });

  it('resolves a relative Grafana link against the base URL', () => {
    expect(safeUrl('/d/abc?viewPanel=2', 'https://grafana.example')).toBe('https://grafana.example/d/abc?viewPanel=2');
    expect(safeUrl('/d/abc')).toBeUndefined();
  });

  it('encodes parentheses so a URL cannot end a markdown link early', () => {
    expect(markdownLink('Source', 'http://p/graph?g0.expr=rate(x)')).toBe('[Source](http://p/graph?g0.expr=rate%28x%29)');
  });
});

describe('secrets', () => {
  // Masking free text is maskSecrets' job: test/render/mask.test.ts.
  it.each([
    ['token', true],
    ['__alertImageToken__', true],
    ['db_password', true],
    ['slack_webhook', true],
    ['client_secret', true],
    ['summary', false],
    ['runbook_url', false],
    ['author', false],
  ])('flags the key %s as secret: %s', (key, secret) => {
    expect(isSecretKey(key)).toBe(secret);
  });
});
