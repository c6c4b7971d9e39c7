import { describe, expect, it } from 'vitest';
import { DEFAULT_DATASOURCES } from '../../src/render/explore.js';
import { renderThreadDetails, renderThreadName, THREAD_NAME_MAX } from '../../src/render/thread.js';
import { enrichment, limitViolations, loadWebhook, messageValidator, recorder } from './helpers.js';
import { expectKorean, hangul } from './korean.js';

const NOW = new Date('2026-11-21T09:00:00Z');

/** `count` series of a CPU expression, rising with their number, each on `instance(i)`. */
function seriesOf(count: number, instance: (i: number) => string) {
  return Array.from({ length: count }, (_, i) => ({
    labels: { instance: instance(i) },
    atStart: 10 + i,
    peak: 90 + i,
    peakAt: new Date('2026-11-21T08:55:00Z'),
    latest: 50 + i,
    latestAt: NOW,
    points: 60,
  }));
}

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
  const series = seriesOf(8, (i) => `host-${i}:9100`);
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

describe('the thread in Korean', () => {
  const n = loadWebhook('alertmanager-firing.json');
  const validate = messageValidator();
  const long = hangul(400);
  /** Every alert of the group with long Korean labels. */
  const korean = {
    ...n,
    commonLabels: { alertname: `디스크부족${long}`, instance: `서버-${long}` },
    groupLabels: {},
    alerts: n.alerts.map((a, i) => ({ ...a, labels: { ...a.labels, alertname: `디스크부족${long}`, instance: `서버-${i}-${long}` } })),
  };
  const [a] = korean.alerts;
  const series = seriesOf(40, (i) => `서버-${i}-${hangul(60)}`);
  const full = enrichment(a!, NOW, {
    rule: {
      uid: 'r1',
      title: `디스크 규칙 ${hangul(100)}`,
      condition: 'A (last) > 0.5',
      for: '5m',
      folder: `운영 ${hangul(50)}`,
      group: '디스크',
      notQueried: ['B (데이터소스 mysql)'],
    },
    expression: { expr: '100 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[1m])) * 100', series, threshold: { op: '>', value: 80 } },
    extraExpression: { expr: 'node_load1', series: [] },
    hostContext: {
      instance: `서버-${hangul(100)}`,
      at: NOW,
      measures: [
        { kind: 'cpu', now: 91, before: 40 },
        { kind: 'memory', now: 70 },
        { kind: 'disk', now: 95, before: 90, mountpoint: `/데이터/${hangul(80)}` },
        { kind: 'load', now: 2.5, before: 0.5 },
      ],
    },
    containerContext: {
      host: `서버-${hangul(80)}`,
      cpu: [{ name: `결제-${hangul(60)}`, value: 50 }],
      memory: [{ name: '주문', value: 1024 ** 3 }],
      events: [
        { name: '결제', kind: 'oom', count: 2 },
        { name: '주문', kind: 'restart', count: 1234 },
      ],
    },
    logVolume: {
      query: '{x="y"}',
      windowSeconds: 600,
      baselineSeconds: 3600,
      levels: [
        { level: '오류', count: 1, before: 0 },
        { level: '경고', count: 30, before: 10, ratio: 3 },
        { level: '', count: 5, before: 5 },
      ],
    },
    logPatterns: {
      patterns: [{ pattern: `결제 실패 <num> ${hangul(300)}`, count: 42, example: `결제 실패 3000 ${hangul(300)}`, exampleAt: NOW, firstAt: NOW }],
      distinct: 1,
      lines: 1234,
      capped: true,
    },
    logs: {
      query: '{container_name="결제"}',
      count: 5000,
      capped: true,
      lines: Array.from({ length: 30 }, () => ({ at: NOW, line: `결제 실패: ${hangul(300)}`, labels: {} })),
    },
    exploreLinks: [
      { label: 'Metrics', datasource: 'prometheus', expr: 'up', start: new Date(NOW.getTime() - 600_000), end: NOW },
      { label: 'Logs', datasource: 'loki', expr: '{container_name="결제"}', start: new Date(NOW.getTime() - 600_000), end: NOW },
    ],
    failures: [
      { backend: 'loki', what: 'log volume', message: `Loki 응답 시간 초과 ${hangul(300)}` },
      { backend: 'prometheus', what: 'vigil_promql', message: '표현식 오류' },
    ],
  });
  const { warn } = recorder();
  const body = renderThreadDetails(
    {
      enriched: { notification: korean, enrichments: { [a!.fingerprint]: full } },
      grafanaUrl: 'https://grafana.example',
      datasources: DEFAULT_DATASOURCES,
      timeZone: 'Asia/Seoul',
      locale: 'ko',
    },
    warn,
  );
  const embed = body.embeds![0]!;
  const field = (prefix: string) => embed.fields!.find((f) => f.name.startsWith(prefix))?.value;

  it('details every finding in Korean, within every Discord limit and the spec', () => {
    expect(limitViolations(body)).toEqual([]);
    expect(validate(body)).toEqual([]);
    // The names kept: the sender's condition and time, the cAdvisor and Loki label values in the input.
    expectKorean(body, ['last', 'mysql']);
    expect(embed.title!.startsWith('🔎 디스크부족')).toBe(true);
  });

  it('says each finding in Korean words', () => {
    expect(embed.description).toContain('⚠️ 로그량 조회 실패: Loki 응답 시간 초과');
    expect(embed.description).toContain('⚠️ vigil\\_promql 조회 실패: 표현식 오류');
    expect(field('Grafana 규칙')).toMatch(
      /^디스크 규칙 [^\n]+: A \(last\) \\> 0\.5 상태가 5m 지속되면 발생\n폴더 운영 [^\n]+ · 그룹 디스크\n조회하지 않음: B \(데이터소스 mysql\)$/,
    );
    expect(field('표현식')).toContain('(임계값 > 80)');
    expect(field('표현식')).toMatch(/• 서버-0-[^:]+: 시작 10\.0% → 최고 90\.0% \(<t:\d+:T>\) → 현재 50\.0%/);
    expect(field('추가 쿼리 (vigil_promql)')).toContain('구간에 데이터 없음');
    expect(field('호스트 ')).toContain('• CPU 사용률: 91.0% (1시간 전 40.0%)');
    expect(field('호스트 ')).toContain('• 메모리: 70.0% (1시간 전 없음)');
    expect(field('호스트 ')).toContain('• 부하: 코어당 2.5 (1시간 전 코어당 0.5)');
    expect(field('서버-')).toContain('⚠️ 결제: OOM 종료 ×2');
    expect(field('서버-')).toContain('⚠️ 주문: 재시작 ×1,234');
    expect(field('로그량')).toBe('• 오류: 1줄 (직전 1시간에는 없음)\n• 경고: 30줄 (평소 대비 3배)\n• 레벨 없음: 5줄');
    expect(embed.fields!.map((f) => f.name)).toContain('로그 패턴 (1,234+줄 중 1종)');
    expect(embed.fields!.map((f) => f.name)).toContain('로그 줄 (5,000+, KST)');
    expect(field('로그 패턴')).toContain('\n  예: 결제 실패 3000');
    expect(field('탐색(Explore)')).toMatch(/^\[메트릭\]\(https:\/\/grafana\.example\/explore\?[^)]+\) · \[로그\]\(/);
  });

  it('names the thread in Korean within 100 characters', () => {
    const name = renderThreadName(korean, 'ko');
    expect([...name]).toHaveLength(THREAD_NAME_MAX);
    expect(name.startsWith('디스크부족')).toBe(true);
    expect(renderThreadName({ ...korean, commonLabels: { alertname: '디스크부족', instance: '서버-1' } }, 'ko')).toBe('디스크부족 · 서버-1');
    expect(renderThreadName({ ...korean, commonLabels: {}, alerts: [] }, 'ko')).toBe('알림');
    expect(renderThreadName({ ...korean, commonLabels: {}, alerts: [] })).toBe('Alert');
  });

  it('says in Korean when nothing was enriched, and counts the alerts without details', () => {
    const none = renderThreadDetails({ enriched: { notification: korean, enrichments: {} }, datasources: DEFAULT_DATASOURCES, locale: 'ko' }, recorder().warn);
    expect(none.content).toBe('🔎 상세 정보 없음: 알림에 추가 정보가 없습니다.');
    const many = { ...korean, truncatedAlerts: 1233 };
    const counted = renderThreadDetails(
      { enriched: { notification: many, enrichments: { [a!.fingerprint]: full } }, datasources: DEFAULT_DATASOURCES, locale: 'ko' },
      recorder().warn,
    );
    expect(counted.embeds!.at(-1)!.footer!.text).toBe(`+ 알림 ${(many.alerts.length + 1233 - 1).toLocaleString('en')}개 더 (여기에는 상세 정보 없음)`);
  });
});
