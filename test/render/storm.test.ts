import { describe, expect, it } from 'vitest';
import { renderStormDetails, renderStormMessage, renderStormSummary, STORM_DETAILS_PER_MESSAGE, type StormAlertView } from '../../src/render/storm.js';
import type { StormLogVolume, StormMetric } from '../../src/render/storm-context.js';
import { expectWithinLimits, listedInstances, messageValidator, recorder, rng } from './helpers.js';

const START = new Date('2026-12-06T03:00:00Z');
const NOW = new Date('2026-12-06T03:04:00Z');
const validate = messageValidator();

/** `n` alerts with random names, severities and instances, some with hostile or very long values. */
function alerts(n: number, seed = 1): StormAlertView[] {
  const random = rng(seed);
  const severities = ['critical', 'warning', 'info', 'page', undefined];
  return Array.from({ length: n }, (_, i) => {
    const long = random() < 0.1;
    const severity = severities[Math.floor(random() * severities.length)];
    return {
      labels: {
        alertname: long ? `Very${'Long'.repeat(80)}Name${i % 7}` : `Alert${Math.floor(random() * 40)}`,
        instance: long ? `host-\`**${'x'.repeat(300)}**\`-${i}` : `node-${i}:9100`,
        ...(severity ? { severity } : {}),
      },
      status: random() < 0.2 ? 'resolved' : 'firing',
      startsAt: new Date(START.getTime() - Math.floor(random() * 3_600_000)),
    };
  });
}

describe('renderStormMessage', () => {
  it.each([1, 10, 1000, 5000])('fits %i alerts within every Discord limit and the spec', (n) => {
    const { warn } = recorder();
    const body = renderStormMessage(
      { startedAt: START, alerts: alerts(n), threads: true, now: NOW, alertmanagerUrl: 'https://am.example.com', grafanaUrl: 'https://grafana.example.com' },
      warn,
    );
    expectWithinLimits(body);
    expect(validate(body)).toEqual([]);
  });

  it('ranks critical groups first and counts what it cannot show', () => {
    const many = alerts(1000, 7);
    const body = renderStormMessage({ startedAt: START, alerts: many, threads: true, now: NOW }, recorder().warn);
    const text = body.embeds![0]!.description!;
    const firing = many.filter((a) => a.status === 'firing').length;
    expect(body.embeds![0]!.title).toMatch(new RegExp(`^🌩️ Alert storm: ${firing} alerts firing in \\d+ groups$`));
    const lines = text.split('\n').filter((l) => /^(🔴|🟠|🔵|⚪) \*\*/.test(l));
    expect(lines[0]!.startsWith('🔴')).toBe(true);
    expect(text).toMatch(/…and \d+ more groups? \(\d+ alerts?\)/);
  });

  it('links to Alertmanager and Grafana filtered to the alert names, escaped for the regex and the URL', () => {
    const body = renderStormMessage(
      {
        startedAt: START,
        alerts: [{ labels: { alertname: 'Disk.Full(sda)' }, status: 'firing', startsAt: START }],
        threads: false,
        now: NOW,
        alertmanagerUrl: 'https://am.example.com/',
        grafanaUrl: 'https://grafana.example.com',
      },
      recorder().warn,
    );
    const text = body.embeds![0]!.description!;
    expect(text).toContain(`[Alertmanager](https://am.example.com/#/alerts?filter=${encodeURIComponent('{alertname=~"Disk\\\\.Full\\\\(sda\\\\)"}')})`);
    expect(text).toContain(`[Grafana alerts](https://grafana.example.com/alerting/list?search=${encodeURIComponent('label:alertname=~Disk\\.Full\\(sda\\)')})`);
    expect(body.embeds![0]!.footer!.text).toContain('named in the replies');
  });

  it('says the storm is over, how long it lasted, and turns green when nothing fires any more', () => {
    const body = renderStormMessage(
      {
        startedAt: START,
        endedAt: new Date(START.getTime() + 12 * 60_000),
        alerts: alerts(5).map((a) => ({ ...a, status: 'resolved' as const })),
        threads: true,
        now: NOW,
      },
      recorder().warn,
    );
    expect(body.embeds![0]!.title).toBe('🌤️ Alert storm over: 5 alerts in 12m');
    expect(body.embeds![0]!.description).toContain('✅ Every alert of the storm is resolved.');
    expect(body.embeds![0]!.color).toBe(0x2ecc71);
  });
});

describe('renderStormDetails', () => {
  it('names the alerts in order, as many as fit, so that batches one after another name each alert once', () => {
    const all = alerts(700, 3);
    const named: string[] = [];
    let rest = all;
    let first = 1;
    let messages = 0;
    while (rest.length) {
      const { body, named: n } = renderStormDetails(rest, first, recorder().warn);
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThanOrEqual(STORM_DETAILS_PER_MESSAGE);
      expectWithinLimits(body);
      expect(validate(body)).toEqual([]);
      expect(body.embeds![0]!.title).toBe(`Storm alerts ${first}–${first + n - 1}`);
      // Within 6000 even counted in UTF-16 units (emoji count twice), as the Discord double counts.
      expect(body.embeds!.reduce((t, e) => t + (e.title?.length ?? 0) + e.description!.length, 0)).toBeLessThanOrEqual(6000);
      named.push(...listedInstances(body.embeds!.map((e) => e.description!).join('\n')));
      rest = rest.slice(n);
      first += n;
      messages++;
    }
    // Each alert's instance once: a long one cut (with its mark), hostile characters escaped.
    expect(named).toHaveLength(700);
    const expected = all.map((a) => a.labels.instance!);
    const whole = named.filter((i) => !i.endsWith('…')).sort();
    expect(whole).toEqual(
      expected
        .filter((i) => i.length <= 60)
        .map((i) => i.replace(/[\\`*_~|>]/g, '\\$&'))
        .sort(),
    );
    // About 100 alerts a message, one in ten with a long name and instance of its own.
    expect(messages).toBeLessThanOrEqual(7);
  });

  it('groups the alerts by state and name, most severe first: a head line, then the instances', () => {
    const list: StormAlertView[] = [
      { labels: { alertname: 'DiskFull', instance: 'db-1:9100', severity: 'warning' }, status: 'firing', startsAt: START },
      { labels: { alertname: 'Down', instance: 'api-1:9100', severity: 'critical' }, status: 'firing', startsAt: START },
      { labels: { alertname: 'DiskFull', instance: 'db-2:9100', severity: 'warning' }, status: 'firing', startsAt: new Date(START.getTime() - 60_000) },
      { labels: { alertname: 'DiskFull', instance: 'db-3:9100', severity: 'warning' }, status: 'resolved', startsAt: START },
    ];
    const { body, named } = renderStormDetails(list, 1, recorder().warn);
    expect(named).toBe(4);
    const since = (d: Date) => `<t:${d.getTime() / 1000}:t>`;
    expect(body.embeds![0]!.description).toBe(
      [
        `🔴 **Down** · since ${since(START)}`,
        'api-1:9100',
        `🟠 **DiskFull** ×2 · since ${since(new Date(START.getTime() - 60_000))}`,
        'db-1:9100, db-2:9100',
        `✅ **DiskFull** · since ${since(START)}`,
        'db-3:9100',
      ].join('\n'),
    );
  });
});

describe('renderStormSummary', () => {
  it('sums the storm up in one short message: duration, alerts, names, still firing, the top names with instances', () => {
    const list = alerts(300, 5);
    const firing = list.filter((a) => a.status === 'firing').length;
    const body = renderStormSummary(
      { startedAt: START, endedAt: new Date(START.getTime() + 42 * 60_000), alerts: list, threads: true, now: NOW },
      recorder().warn,
    );
    expectWithinLimits(body);
    expect(body.content).toMatch(new RegExp(`^🌤️ \\*\\*Storm over\\*\\* after 42m: 300 alerts in \\d+ names, \\*\\*${firing} still firing\\*\\*`));
    expect(body.content!.split('\n')).toHaveLength(6);
  });
});

describe('renderStormMessage links', () => {
  it('keeps both links whole however long and many the alert names are', () => {
    const many: StormAlertView[] = Array.from({ length: 200 }, (_, i) => ({
      labels: { alertname: `Service${i}HasAVeryLongAlertName${'x'.repeat(i % 30)}`, instance: `host-${i}:9100`, severity: 'warning' },
      status: 'firing',
      startsAt: START,
    }));
    const body = renderStormMessage(
      { startedAt: START, alerts: many, threads: true, now: NOW, alertmanagerUrl: 'https://am.example.com', grafanaUrl: 'https://grafana.example.com' },
      recorder().warn,
    );
    const text = body.embeds![0]!.description!;
    expectWithinLimits(body);
    expect(text).toMatch(
      /\[Alertmanager\]\(https:\/\/am\.example\.com\/#\/alerts\?filter=[^)\s…]+\) · \[Grafana alerts\]\(https:\/\/grafana\.example\.com\/alerting\/list\?search=[^)\s…]+\)$/,
    );
    expect(text).toContain('…and');
  });
});

describe('the storm message with what the metrics did', () => {
  const metric = (over: Partial<StormMetric> = {}): StormMetric => ({
    alertname: 'HostHighCpu',
    firing: 412,
    query: '100 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100',
    threshold: { op: '>', value: 90 },
    series: 430,
    breaching: 398,
    peaks: [
      { labels: { instance: 'db-1:9100' }, value: 99.2 },
      { labels: { instance: 'web-7:9100' }, value: 97 },
    ],
    failures: [],
    ...over,
  });
  const view = (metrics: StormMetric[], n = 1000) => ({
    startedAt: START,
    alerts: alerts(n, 11),
    threads: true,
    now: NOW,
    alertmanagerUrl: 'https://am.example.com',
    grafanaUrl: 'https://grafana.example.com',
    metrics,
    metricsWindowMs: 30 * 60_000,
  });
  const logVolume = (over: Partial<StormLogVolume> = {}): StormLogVolume => ({
    label: 'container_name',
    sources: 12,
    uncovered: 3,
    query: 'sum by (container_name) (count_over_time({container_name=~"api|db"} |~ "(?i)error"[1800s]))',
    top: [
      { source: 'api', lines: 12_345 },
      { source: 'db', lines: 1234 },
      { source: 'web', lines: 56 },
    ],
    total: 13_635,
    queriedAt: NOW.toISOString(),
    ...over,
  });

  it('shows per alert name the expression, its threshold with the unit, the series past it now and the peaks by instance, in a second embed', () => {
    const body = renderStormMessage(view([metric()]), recorder().warn);
    expect(validate(body)).toEqual([]);
    expectWithinLimits(body);
    const context = body.embeds![1]!;
    expect(context.title).toBe('📈 What the metrics did · last 30m');
    expect(context.fields).toEqual([
      {
        name: 'HostHighCpu · 412 firing',
        value:
          '`100 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100` > 90.0% · **398 of 430** series past it now\nPeak: db-1:9100 99.2% · web-7:9100 97.0%',
      },
    ]);
  });

  it.each([
    [
      'the busiest sources and the total',
      logVolume(),
      '**14k lines** from 3 of 12: api 12k · db 1.2k · web 56\nNot counted: 3 firing alerts with another container\\_name or none',
    ],
    ['that none had error lines', logVolume({ top: [], total: 0, uncovered: 0 }), 'no error lines from the 12 container\\_name values asked about'],
    [
      'that Loki did not answer',
      logVolume({ top: [], failure: 'Loki timed out after 5s' }),
      '⚠️ Loki timed out after 5s\nNot counted: 3 firing alerts with another container\\_name or none',
    ],
  ])("adds the storm's error log lines after the metrics, saying %s", (_what, logs, found) => {
    const body = renderStormMessage({ ...view([metric()]), logs }, recorder().warn);
    expect(validate(body)).toEqual([]);
    expectWithinLimits(body);
    const context = body.embeds![1]!;
    expect(context.fields!.map((f) => f.name)).toEqual(['HostHighCpu · 412 firing', '📜 Error log lines by container\\_name']);
    expect(context.fields![1]!.value).toBe(`\`${logVolume().query}\`\n${found}`);
    expect(context.description).toMatch(/^Queried once per alert name for all its alerts, and once for all the storm's logs, <t:\d+:R>\.$/);
  });

  it('shows the logs alone when no alert name had an expression, and nothing when no alert names a log source', () => {
    const alone = renderStormMessage({ ...view([]), logs: logVolume() }, recorder().warn).embeds![1]!;
    expect(alone.title).toBe('📜 What the logs did · last 30m');
    expect(alone.fields!.map((f) => f.name)).toEqual(['📜 Error log lines by container\\_name']);
    expect(alone.description).toMatch(/^Queried once for all the storm's logs, <t:\d+:R>\.$/);
    const nothing = renderStormMessage({ ...view([]), logs: logVolume({ label: '', sources: 0, query: '', top: [] }) }, recorder().warn);
    expect(nothing.embeds).toHaveLength(1);
  });

  it('keeps five long, hostile names within every Discord limit beside a listing of 1,000 alerts, its links whole, and says what failed', () => {
    const long = (i: number) =>
      metric({
        alertname: `Very*${'Long_'.repeat(60)}${i}`,
        query: `sum(rate(${'x'.repeat(900)}[5m]))`,
        peaks: Array.from({ length: 3 }, (_, k) => ({ labels: { instance: `\`${'h'.repeat(200)}\`-${k}` }, value: k })),
        failures: ['Prometheus timed out after 5s', 'x'.repeat(500)],
      });
    const { warn, calls } = recorder();
    const body = renderStormMessage(view([1, 2, 3, 4, 5].map(long)), warn);
    expectWithinLimits(body);
    expect(validate(body)).toEqual([]);
    expect(body.embeds![1]!.fields).toHaveLength(5);
    expect(body.embeds![1]!.fields![0]!.value).toContain('⚠️ Prometheus timed out after 5s');
    expect(body.embeds![0]!.description).toMatch(/\[Grafana alerts\]\(https:\/\/grafana\.example\.com\/alerting\/list\?search=[^)\s…]+\)$/);
    // Sized before it is put together: nothing had to be cut to fit.
    expect(calls).toEqual([]);
  });
});
