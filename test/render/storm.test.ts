import { describe, expect, it } from 'vitest';
import {
  renderStormDetails,
  renderStormMessage,
  renderStormSummary,
  renderStormThreadName,
  STORM_DETAILS_PER_MESSAGE,
  type StormAlertView,
} from '../../src/render/storm.js';
import type { StormLogVolume, StormMetric } from '../../src/render/storm-context.js';
import { expectWithinLimits, listedInstances, messageValidator, recorder, rng } from './helpers.js';
import { expectKorean, hangul } from './korean.js';

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

/** `n` alerts with Korean names and instances, one in ten very long. */
function koreanAlerts(n: number, seed = 1): StormAlertView[] {
  return alerts(n, seed).map((a, i) => ({
    ...a,
    labels: {
      ...a.labels,
      alertname: i % 10 === 0 ? `${hangul(300)}${i % 7}` : `디스크부족${i % 40}`,
      instance: i % 10 === 0 ? `서버-${hangul(300)}-${i}` : `서버-${i}`,
    },
  }));
}

describe('the storm in Korean', () => {
  const metric: StormMetric = {
    alertname: `디스크부족${hangul(200)}`,
    firing: 1234,
    query: 'node_filesystem_avail_bytes / node_filesystem_size_bytes',
    threshold: { op: '<', value: 0.1 },
    series: 1500,
    breaching: 1234,
    peaks: [{ labels: { instance: `서버-${hangul(100)}` }, value: 0.05 }],
    failures: ['프로메테우스 응답 없음'],
    queriedAt: NOW.toISOString(),
  };
  const logs: StormLogVolume = {
    label: 'container_name',
    sources: 50,
    uncovered: 7,
    query: 'sum by (container_name) (count_over_time({container_name=~"api"}[1800s]))',
    top: [
      { source: `결제-${hangul(60)}`, lines: 12_345 },
      { source: '주문', lines: 56 },
    ],
    total: 12_401,
    queriedAt: NOW.toISOString(),
  };
  const base = {
    startedAt: START,
    threads: true,
    now: NOW,
    alertmanagerUrl: 'https://am.example.com',
    grafanaUrl: 'https://grafana.example.com',
    locale: 'ko' as const,
    timeZone: 'Asia/Seoul',
  };

  it.each([1, 10, 1000, 5000])('writes the storm message of %i alerts with long Korean names in Korean, within every Discord limit', (n) => {
    const body = renderStormMessage({ ...base, alerts: koreanAlerts(n), metrics: [metric], metricsWindowMs: 30 * 60_000, logs }, recorder().warn);
    expectWithinLimits(body);
    expect(validate(body)).toEqual([]);
    expectKorean(body, ['container_name']);
    expect(body.embeds![0]!.title).toMatch(/^🌩️ 알림 폭주: [\d,]+개 그룹에서 알림 [\d,]+개 발생$/);
    expect(body.embeds![0]!.footer!.text).toBe('알림 폭주 모드: 이 채널의 새 알림은 이 메시지에 합쳐집니다 · 모든 알림은 스레드에 있습니다');
  });

  it('says in Korean what the metrics and logs did, digits grouped', () => {
    const context = renderStormMessage({ ...base, alerts: koreanAlerts(10), metrics: [metric], metricsWindowMs: 30 * 60_000, logs }, recorder().warn)
      .embeds![1]!;
    expect(context.title).toBe('📈 메트릭 추이 · 최근 30분');
    expect(context.description).toMatch(
      /^<t:\d+:R>에 알림 이름마다 한 번씩 그 이름의 모든 알림을 함께 조회하고, 알림 폭주의 모든 로그는 한 번에 조회했습니다\.$/,
    );
    expect(context.fields![0]!.name).toMatch(/ · 1,234개 발생$/);
    expect(context.fields![0]!.value).toContain('지금 시리즈 **1,500개 중 1,234개**가 임계값 초과');
    expect(context.fields![1]!.name).toBe('📜 container\\_name별 오류 로그 줄 수');
    expect(context.fields![1]!.value).toContain('**1.2만줄** (소스 50개 중 2개)');
    expect(context.fields![1]!.value).toContain('제외: container\\_name이(가) 다르거나 없는 발생 중 알림 7개');
  });

  it('says the storm is over in Korean, with the end in the configured zone named', () => {
    const body = renderStormMessage(
      { ...base, endedAt: new Date(START.getTime() + 12 * 60_000), alerts: koreanAlerts(5).map((a) => ({ ...a, status: 'resolved' as const })) },
      recorder().warn,
    );
    expect(body.embeds![0]!.title).toBe('🌤️ 알림 폭주 종료: 12분 동안 알림 5개');
    expect(body.embeds![0]!.description).toContain('✅ 알림 폭주의 모든 알림이 해결되었습니다.');
    expect(body.embeds![0]!.footer!.text).toBe('알림 폭주 모드 종료 12:12 KST · 모든 알림은 스레드에 있습니다');
    expectKorean(body);
  });

  it('names the end in the configured zone in English too, UTC by default as before', () => {
    const view = { startedAt: START, endedAt: new Date(START.getTime() + 12 * 60_000), alerts: alerts(5), threads: false, now: NOW };
    expect(renderStormMessage(view, recorder().warn).embeds![0]!.footer!.text).toBe('Storm mode ended 03:12 UTC · every alert is named in the replies');
    expect(renderStormMessage({ ...view, timeZone: 'Asia/Seoul' }, recorder().warn).embeds![0]!.footer!.text).toBe(
      'Storm mode ended 12:12 KST · every alert is named in the replies',
    );
  });

  it('names every alert once in Korean details messages, each within every Discord limit', () => {
    const all = koreanAlerts(700, 3);
    let rest = all;
    let first = 1;
    let counted = 0;
    while (rest.length) {
      const { body, named } = renderStormDetails(rest, first, recorder().warn, 'ko');
      expectWithinLimits(body);
      expect(validate(body)).toEqual([]);
      expectKorean(body);
      expect(body.embeds![0]!.title).toBe(`알림 폭주의 알림 ${first.toLocaleString('en')}–${(first + named - 1).toLocaleString('en')}`);
      // Each head line ends "· <t:…:t>부터" and counts its alerts (×N, else one).
      const heads = body.embeds!.flatMap((e) => e.description!.split('\n')).filter((l) => / · <t:\d+:t>부터$/.test(l));
      counted += heads.reduce((sum, l) => sum + Number(/\*\* ×(\d+) · /.exec(l)?.[1] ?? 1), 0);
      rest = rest.slice(named);
      first += named;
    }
    expect(counted).toBe(700);
  });

  it('sums the storm up in Korean within 2000 characters', () => {
    const list = koreanAlerts(300, 5);
    const firing = list.filter((a) => a.status === 'firing').length;
    const body = renderStormSummary({ ...base, endedAt: new Date(START.getTime() + 42 * 60_000), alerts: list }, recorder().warn);
    expectWithinLimits(body);
    expect(validate(body)).toEqual([]);
    expectKorean(body);
    expect(body.content).toMatch(
      new RegExp(`^🌤️ \\*\\*알림 폭주 종료\\*\\* \\(42분 만에\\): 알림 300개, 알림 이름 \\d+개, \\*\\*${firing}개 계속 발생 중\\*\\*\\.`),
    );
  });
});

describe('renderStormThreadName', () => {
  const at = new Date('2026-12-06T15:30:00Z');
  it.each([
    ['en', 'UTC', 'Alert storm 2026-12-06 15:30 UTC'],
    ['en', 'Asia/Seoul', 'Alert storm 2026-12-07 00:30 KST'],
    ['ko', 'Asia/Seoul', '알림 폭주 2026-12-07 00:30 KST'],
    ['en', 'Europe/Berlin', 'Alert storm 2026-12-06 16:30 CET'],
  ] as const)('names the thread in %s with the start in %s, the zone named', (locale, zone, want) => {
    const name = renderStormThreadName(at, zone, locale);
    expect(name).toBe(want);
    expect([...name].length).toBeLessThanOrEqual(100);
  });

  it('is in UTC and English by default, as before', () => {
    expect(renderStormThreadName(START)).toBe('Alert storm 2026-12-06 03:00 UTC');
  });
});
