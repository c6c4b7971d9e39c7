import { describe, expect, it } from 'vitest';
import { DEFAULT_DATASOURCES } from '../../src/render/explore.js';
import { renderThreadDetails, renderThreadName, THREAD_NAME_MAX } from '../../src/render/thread.js';
import { enrichment, limitViolations, loadWebhook, recorder } from './helpers.js';

const NOW = new Date('2026-11-21T09:00:00Z');

describe('renderThreadName', () => {
  it.each([
    { what: 'the group alertname and a shared instance', common: { alertname: 'DiskFull', instance: 'db-1:9100' }, want: 'DiskFull on db-1:9100' },
    { what: 'only the name when the alerts share no place but their job', common: { alertname: 'HostHighCpuLoad', job: 'node' }, want: 'HostHighCpuLoad' },
    { what: 'one line when a label holds a newline', common: { alertname: 'Bad\nName' }, want: 'Bad Name' },
  ] as { what: string; common: Record<string, string>; want: string }[])('names the thread with $what', ({ common, want }) => {
    const n = loadWebhook('alertmanager-firing.json');
    expect(renderThreadName({ ...n, commonLabels: common, groupLabels: {} })).toBe(want);
  });

  it('stays within the 100 characters Discord allows', () => {
    const n = loadWebhook('alertmanager-firing.json');
    const name = renderThreadName({ ...n, commonLabels: { alertname: 'X'.repeat(300) }, groupLabels: {} });
    expect([...name]).toHaveLength(THREAD_NAME_MAX);
  });
});

describe('renderThreadDetails', () => {
  const n = loadWebhook('alertmanager-firing.json');
  const [a] = n.alerts;
  const series = Array.from({ length: 8 }, (_, i) => ({
    labels: { instance: `host-${i}:9100` },
    atStart: 10 + i,
    peak: 90 + i,
    peakAt: new Date('2026-11-21T08:55:00Z'),
    latest: 50 + i,
    latestAt: NOW,
    points: 60,
  }));
  const full = enrichment(a!, NOW, {
    expression: { expr: '100 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[1m])) * 100', series, threshold: { op: '>', value: 80 } },
    logPatterns: {
      patterns: [
        { pattern: 'timeout after <num>ms calling <ip>', count: 42, example: 'timeout after 3000ms calling 10.0.0.7', exampleAt: NOW, firstAt: NOW },
        { pattern: 'user <id> login failed', count: 3, example: 'user 1234 login failed', exampleAt: NOW, firstAt: NOW },
      ],
      distinct: 2,
      lines: 45,
      capped: false,
    },
    logs: { query: '{container_name="api"}', count: 1, capped: false, lines: [{ at: NOW, line: 'GET /x?password=hunter2 failed', labels: {} }] },
    exploreLinks: [{ label: 'Metrics', datasource: 'prometheus', expr: 'up', start: new Date(NOW.getTime() - 600_000), end: NOW }],
    failures: [{ backend: 'loki', what: 'log volume', message: 'Loki timed out after 5s' }],
  });
  const body = renderThreadDetails(
    { enriched: { notification: n, enrichments: { [a!.fingerprint]: full } }, grafanaUrl: 'https://grafana.example', datasources: DEFAULT_DATASOURCES },
    recorder().warn,
  );
  const text = JSON.stringify(body.embeds);

  it('lists every series of the expression, not only the top few, with units and the threshold', () => {
    // The peak's time as Discord markup: each reader sees their own clock.
    const peak = `<t:${Date.parse('2026-11-21T08:55:00Z') / 1000}:T>`;
    for (let i = 0; i < 8; i++) expect(text).toContain(`host-${i}:9100: start ${10 + i}.0% → peak ${90 + i}.0% at ${peak} → now ${50 + i}.0%`);
    expect(text).toContain('threshold > 80');
  });

  it('gives every log pattern with its count and an example, and the lines with secrets masked', () => {
    // Times in a code block cannot be Discord markup: the zone they are in is named.
    expect(text).toContain('"name":"Log lines (1, UTC)"');
    expect(text).toContain('×42 timeout after <num>ms calling <ip>');
    expect(text).toContain('e.g. user 1234 login failed');
    expect(text).not.toContain('hunter2');
  });

  it('links the queries in Grafana Explore and says what is unavailable', () => {
    expect(text).toMatch(/\[Metrics\]\(https:\/\/grafana\.example\/explore\?/);
    expect(body.embeds![0]!.description).toBe('⚠️ log volume unavailable: Loki timed out after 5s');
  });

  it('details each enriched alert in its own embed, counts the rest, stays within limits and pings nobody', () => {
    expect(body.embeds).toHaveLength(1);
    expect(body.embeds![0]!.footer?.text).toBe('1 more alert without details here');
    expect(limitViolations(body)).toEqual([]);
    expect(body.allowed_mentions).toEqual({ parse: [] });
  });

  it('masks secrets and escapes markdown in every finding and failure it shows, not only in log lines', () => {
    const leaky = enrichment(a!, NOW, {
      expression: { expr: 'up', series: [{ ...series[0]!, labels: { instance: 'https://u:loki-pass@db-1:9100' } }, series[1]!] },
      hostContext: {
        instance: 'db-1:9100?token=abcd1234efgh5678',
        at: NOW,
        measures: [{ kind: 'disk', now: 91, before: 80, mountpoint: '/mnt/password=hunter2' }],
      },
      containerContext: { host: 'db-1', cpu: [{ name: 'api_password=hunter2', value: 50 }], memory: [], events: [{ name: '*bold*', kind: 'oom', count: 1 }] },
      logVolume: { query: '{x="y"}', windowSeconds: 600, baselineSeconds: 3600, levels: [{ level: 'secret=s3cr3tvalue', count: 3, before: 1, ratio: 3 }] },
      failures: [{ backend: 'loki', what: 'logs', message: 'HTTP 401 for https://u:loki-pass@loki:3100 password=hunter2' }],
    });
    const leakyBody = renderThreadDetails(
      { enriched: { notification: n, enrichments: { [a!.fingerprint]: leaky } }, datasources: DEFAULT_DATASOURCES },
      recorder().warn,
    );
    const shown = JSON.stringify(leakyBody.embeds);
    for (const secret of ['loki-pass', 'hunter2', 'abcd1234efgh5678', 's3cr3tvalue']) expect(shown).not.toContain(secret);
    expect(shown).toContain('\\\\*bold\\\\*'); // markdown escaped (JSON doubles the backslash)
    expect(limitViolations(leakyBody)).toEqual([]);
  });

  it("reads a Grafana alert's rule in words first: condition, pending period, folder, group, queries not run", () => {
    const withRule = {
      ...full,
      rule: {
        uid: 'r1',
        title: 'DbSlow',
        condition: 'A (last) > 0.5',
        threshold: '> 0.5',
        for: '5m',
        folder: 'Team *db*',
        group: 'db',
        notQueried: ['B (datasource mysql-prod)'],
      },
    };
    const out = renderThreadDetails(
      { enriched: { notification: n, enrichments: { [a!.fingerprint]: withRule } }, datasources: DEFAULT_DATASOURCES },
      recorder().warn,
    );
    const fields = out.embeds![0]!.fields!;
    expect(fields[0]).toEqual({
      name: 'Grafana rule',
      value: 'DbSlow: fires when A (last) \\> 0.5 for 5m\nfolder Team \\*db\\* · group db\nnot queried: B (datasource mysql-prod)',
    });
    expect(fields[1]!.name).toBe('Expression');
    expect(limitViolations(out)).toEqual([]);
  });

  it('cuts a long title at 256 characters without splitting a character', () => {
    const long = { ...n, alerts: [{ ...a!, labels: { ...a!.labels, alertname: '😀'.repeat(300) } }] };
    const body2 = renderThreadDetails(
      { enriched: { notification: long, enrichments: { [a!.fingerprint]: full } }, datasources: DEFAULT_DATASOURCES },
      recorder().warn,
    );
    const title = body2.embeds![0]!.title!;
    expect([...title]).toHaveLength(256);
    expect(title.endsWith('…')).toBe(true);
    expect(title).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/); // no half of an emoji
  });
});
