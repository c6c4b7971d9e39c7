// The replies of the slash commands rendered in Korean: the words are Korean, the data stays as it
// is, and long Korean input (names, comments, log lines) keeps every message within Discord's limits.
import { beforeAll, describe, expect, it } from 'vitest';
import type { ExploreTarget } from '../../src/findings.js';
import type { Silence } from '../../src/queries/alertmanager.js';
import type { InstantSample, QueryResult, RangeSeries, ScrapeTarget } from '../../src/queries/prometheus.js';
import { groupAlerts, groupListing, renderAlerts, type AlertsOverview } from '../../src/render/alerts.js';
import { DEFAULT_DATASOURCES, fitExploreLinks } from '../../src/render/explore.js';
import { renderHealth, summarizeTargets, type HealthReport } from '../../src/render/health.js';
import { EMBED_DESCRIPTION, EMBED_FIELD_VALUE, MESSAGE_CONTENT } from '../../src/render/limits.js';
import { renderLogsError, renderLogsMessage, type LogsMessageInput } from '../../src/render/logs.js';
import { renderInstant, renderQueryError, renderRange } from '../../src/render/query.js';
import { renderButtonSilenced, renderSilenceCreated, renderSilenceExpired, renderSilenceList, renderSilencedNotice } from '../../src/render/silences.js';
import { displayWidth, renderTable } from '../../src/render/table.js';
import { renderNoContainers, renderTop, type ContainerUsage } from '../../src/render/top.js';
import { codePointLength, fitMessage } from '../../src/render/truncate.js';
import { expectWithinLimits, messageValidator, recorder } from './helpers.js';

const NOW = new Date(Date.UTC(2026, 10, 21, 9, 0, 0));
const HANGUL = /[\uac00-\ud7a3]/;
/** A long Korean text: what a Korean team puts in names, comments and log lines. */
const LONG_KO = '결제 서비스 데이터베이스 연결 풀이 가득 찼습니다 '.repeat(40);

let validate: (body: unknown) => string[];
beforeAll(() => {
  validate = messageValidator();
});

/** Checks a message body against every Discord limit and its create-message schema. */
function expectValid(body: { content?: string; embeds?: unknown[] }): void {
  expectWithinLimits(body as Parameters<typeof expectWithinLimits>[0]);
  expect(validate(body)).toEqual([]);
}

describe('/health in Korean', () => {
  const target = (job: string, instance: string, health: ScrapeTarget['health'], over: Partial<ScrapeTarget> = {}): ScrapeTarget => ({
    labels: { job, instance },
    discoveredLabels: {},
    scrapePool: job,
    scrapeUrl: `http://${instance}/metrics`,
    health,
    ...(health === 'unknown' ? {} : { lastScrape: new Date(NOW.getTime() - 125_000), lastScrapeDurationSeconds: 0.0123 }),
    ...over,
  });
  const targets = [target('node', 'a:9100', 'up'), target('node', 'b:9100', 'down', { lastError: 'connection refused' }), target('blackbox', 'x', 'unknown')];
  const report = (over: Partial<HealthReport> = {}): HealthReport => ({
    jobs: summarizeTargets(targets, undefined, 'ko'),
    knownJobs: ['node', 'blackbox'],
    backends: [
      { name: 'Prometheus', ready: true, message: 'ready' },
      { name: 'Loki', ready: false, message: 'Loki: connect ECONNREFUSED' },
    ],
    locale: 'ko',
    ...over,
  });

  it('says what is down in Korean, with Korean durations, and keeps the data as it is', () => {
    const embed = renderHealth(report(), NOW);
    expect(embed.title).toBe('상태: 타깃 1개 다운, 백엔드 1개 준비 안 됨');
    const lines = embed.description!.split('\n');
    expect(lines).toContain('❌ **node** 1/2 정상');
    expect(lines).toContain('• `b:9100` · 마지막 스크레이프 2분 5초 전 · 소요 12.3ms');
    expect(lines).toContain('⏳ **blackbox** 0/1 정상 · 1개 아직 스크레이프 안 됨');
    expect(lines).toContain('✅ Prometheus 준비됨');
  });

  it('says all is well, and which job has no targets, in Korean', () => {
    const healthy = renderHealth(report({ jobs: summarizeTargets([target('node', 'a:9100', 'up')]), backends: [] }), NOW);
    expect(healthy.title).toBe('상태: 타깃 1/1 정상, 백엔드 0개 준비됨');
    const none = renderHealth(report({ job: 'nope', jobs: [] }), NOW);
    expect(none.description).toContain('⚠️ job이 `nope`인 스크레이프 타깃이 없습니다. job 목록: node, blackbox');
    expect(none.title).toBe('상태: 백엔드 1개 준비 안 됨');
  });

  it('stays within the limits with hundreds of Korean-named jobs and long Korean errors', () => {
    const many = Array.from({ length: 300 }, (_, i) =>
      target(`작업-${i}-${LONG_KO.slice(0, 40)}`, `호스트-${i}:9100`, i % 3 ? 'up' : 'down', { lastError: LONG_KO }),
    );
    const embed = renderHealth(report({ jobs: summarizeTargets(many, undefined, 'ko'), job: LONG_KO, targetsError: LONG_KO }), NOW);
    const { warn } = recorder();
    const body = fitMessage({ embeds: [embed] }, warn, 'en');
    expectValid(body);
    expect(body.embeds[0]!.title).toMatch(HANGUL);
  });
});

describe('/top in Korean', () => {
  const rows: ContainerUsage[] = [
    { name: '결제-api', instance: 'node-a:8080', cpuPercent: 42.5, memoryBytes: 256 * 1024 * 1024 },
    { name: 'worker', instance: 'node-b:8080', cpuPercent: 3, memoryBytes: 64 * 1024 * 1024 },
  ];

  it('titles, heads and explains the table in Korean, aligned for wide characters', () => {
    const text = renderTop(rows, { resource: 'cpu', limit: 10 }, 'ko');
    const lines = text.split('\n');
    expect(lines[0]).toBe('**CPU 사용 상위 컨테이너 2개**');
    const table = lines.slice(2, 5);
    expect(table[0]).toMatch(/^컨테이너 +호스트 +CPU +메모리$/);
    // Every row ends in the same column: the Korean header and name count two columns a character.
    const widths = table.map(displayWidth);
    expect(new Set(widths).size).toBe(1);
    expect(lines.at(-1)).toBe('-# CPU: 코어 1개 대비 % (5분 rate) · 메모리: 워킹 셋(working set)');
    expect(renderTop(rows.slice(0, 1), { resource: 'memory', limit: 10, host: 'node-a' }, 'ko').split('\n')[0]).toBe(
      '**메모리 사용 상위 컨테이너 1개** (호스트 `node-a`)',
    );
  });

  it('explains an empty answer in Korean', () => {
    expect(renderNoContainers({ resource: 'cpu', limit: 10 }, [], 'ko')).toMatch(/^⚠️ Prometheus에 cAdvisor 메트릭이 없습니다/);
    expect(renderNoContainers({ resource: 'cpu', limit: 10, host: 'x' }, ['a', 'b'], 'ko')).toBe(
      '⚠️ cAdvisor 메트릭에 호스트 `x`의 컨테이너가 없습니다. 호스트 목록: `a`, `b`',
    );
    expect(renderNoContainers({ resource: 'memory', limit: 10 }, ['a'], 'ko')).toMatch(/메모리 워킹 셋/);
  });

  it('stays within the message limit with 25 long Korean container names', () => {
    const long = Array.from({ length: 25 }, (_, i) => ({
      name: `${i}-${LONG_KO}`,
      instance: `호스트-${i}-${LONG_KO}:8080`,
      cpuPercent: i,
      memoryBytes: i * 1e6,
    }));
    const content = renderTop(long, { resource: 'cpu', limit: 25, host: LONG_KO }, 'ko');
    expect(codePointLength(content)).toBeLessThanOrEqual(MESSAGE_CONTENT);
    expectValid({ content });
  });
});

describe('/alerts in Korean', () => {
  const overview = (over: Partial<AlertsOverview> = {}): AlertsOverview => ({
    firing: [
      { labels: { alertname: 'HighCPU', instance: 'web-1', severity: 'critical' }, startsAt: new Date(NOW.getTime() - 7_500_000) },
      { labels: { alertname: 'HighCPU', instance: 'web-2', severity: 'critical' }, startsAt: new Date(NOW.getTime() - 60_000) },
      { labels: { alertname: 'DiskFull', instance: 'db-1', severity: 'warning' }, startsAt: new Date(NOW.getTime() - 60_000), incident: { route: 'db' } },
    ],
    silenced: 2,
    inhibited: 1,
    pending: 0,
    source: 'Alertmanager',
    now: NOW,
    locale: 'ko',
    ...over,
  });

  it('titles, ages and counts in Korean', () => {
    const embed = renderAlerts(overview()).embeds![0]!;
    expect(embed.title).toBe('🔥 발생 중인 알림 3개 (그룹 2개)');
    expect(embed.description!.split('\n')[0]).toBe('🔴 **HighCPU** ×2 · 2시간 5분째');
    expect(embed.description).toContain('🟠 **DiskFull** · 1분째 · → db · 담당자 없음');
    expect(embed.footer!.text).toBe('Alertmanager · 🔕 사일런스 2개 · 억제 1개');
    expect(renderAlerts(overview({ firing: [] })).content).toBe('✅ 발생 중인 알림이 없습니다. (🔕 사일런스 2개 · 억제 1개)');
    expect(renderAlerts(overview({ firing: [], silenced: 0, inhibited: 0 })).content).toBe('✅ 발생 중인 알림이 없습니다.');
  });

  it('names an unnamed group and counts the groups that do not fit, in the language asked (storm and digest use these)', () => {
    const groups = groupAlerts([{ labels: {} }], 'ko');
    expect(groups[0]!.name).toBe('(alertname 없음)');
    const many = groupAlerts(
      Array.from({ length: 200 }, (_, i) => ({ labels: { alertname: `경보-${i}-${LONG_KO.slice(0, 60)}`, severity: 'critical' } })),
      'ko',
    );
    expect(groupListing(many, NOW, 1000, 'ko').at(-1)).toMatch(/^… \+ 그룹 \d+개 더 \(알림 \d+개\)$/);
    // Without a language: English, as before.
    expect(groupListing(many, NOW, 1000).at(-1)).toMatch(/^…and \d+ more groups \(\d+ alerts\)$/);
  });

  it('stays within the limits with hundreds of long Korean alert names and owners', () => {
    const firing = Array.from({ length: 300 }, (_, i) => ({
      labels: { alertname: `${LONG_KO.slice(0, 90)}-${i}`, instance: `${LONG_KO.slice(0, 50)}-${i}`, severity: i % 2 ? 'warning' : 'critical' },
      startsAt: new Date(NOW.getTime() - i * 60_000),
      incident: { route: LONG_KO.slice(0, 30), ackedBy: LONG_KO.slice(0, 80) },
    }));
    const { warn } = recorder();
    const body = fitMessage(renderAlerts(overview({ firing })), warn, 'en');
    expectValid(body);
    expect(codePointLength(body.embeds![0]!.description!)).toBeLessThanOrEqual(EMBED_DESCRIPTION);
    expect(body.embeds![0]!.title).toBe('🔥 발생 중인 알림 300개 (그룹 300개)');
  });
});

describe('/silence in Korean', () => {
  const matchers = [{ name: 'alertname', value: 'HighCPU', isRegex: false, isEqual: true }];
  const silence = (id: string, over: Partial<Silence> = {}): Silence => ({
    id,
    matchers,
    startsAt: NOW,
    endsAt: new Date(NOW.getTime() + 3_600_000),
    createdBy: '김온콜 (111111111111111111)',
    comment: '배포 중',
    state: 'active',
    ...over,
  });
  const ID = 'b0ba97a2-be32-4a26-8696-3001d56282f6';
  const end = Math.floor((NOW.getTime() + 3_600_000) / 1000);

  it('lists, confirms and announces silences in Korean', () => {
    const list = renderSilenceList({
      silences: [silence(ID), silence('5d33a8cd-30aa-4d83-95f0-92b6c6d705a9', { state: 'pending' })],
      source: 'Alertmanager',
      locale: 'ko',
    });
    const embed = list.embeds![0]!;
    expect(embed.title).toBe('🔕 사일런스 2개 (활성 1개, 대기 1개)');
    expect(embed.description!.split('\n').slice(0, 3)).toEqual([
      `🔕 **b0ba97a2** · 종료 <t:${end}:R>`,
      '`{alertname="HighCPU"}`',
      '만든 사람 김온콜 (111111111111111111) · 배포 중',
    ]);
    expect(embed.footer!.text).toBe('Alertmanager · /silence expire id:<id> 로 끝내기');
    expect(renderSilenceList({ silences: [], source: 'Alertmanager', locale: 'ko' }).content).toBe(
      '🔔 Alertmanager에 활성 또는 대기 중인 사일런스가 없습니다.',
    );
    const created = renderSilenceCreated({ id: ID, matchers, endsAt: new Date(end * 1000), url: 'http://am:9093/#/silences/x', locale: 'ko' }).content;
    expect(created.split('\n')).toEqual([
      '🔕 사일런스 설정: `{alertname="HighCPU"}`',
      `<t:${end}:f>까지 (<t:${end}:R>)`,
      `ID \`${ID}\` · [Alertmanager에서 열기](http://am:9093/#/silences/x)`,
    ]);
    expect(
      renderButtonSilenced({ id: ID, matchers, endsAt: new Date(end * 1000), locale: 'ko' })
        .content.split('\n')
        .at(-1),
    ).toBe(`되돌리기: \`/silence expire id:${ID}\``);
    expect(renderSilenceExpired({ id: ID, matchers }, '김온콜', 'ko').content).toBe(
      `🔔 **김온콜** 님이 사일런스를 끝냈습니다: \`${ID}\`. \`{alertname="HighCPU"}\`에 맞는 알림이 다시 옵니다.`,
    );
    expect(renderSilencedNotice('김온콜', ID, new Date(end * 1000), 'ko').content).toBe(
      `🔕 **김온콜** 님이 1시간 동안 사일런스했습니다 (<t:${end}:t>까지) · \`b0ba97a2\``,
    );
  });

  it('stays within the limits with many silences with long Korean comments and creators', () => {
    const silences = Array.from({ length: 200 }, (_, i) =>
      silence(`${String(i).padStart(8, '0')}-be32-4a26-8696-3001d56282f6`, {
        createdBy: LONG_KO,
        comment: LONG_KO,
        matchers: [{ name: 'alertname', value: LONG_KO, isRegex: false, isEqual: true }],
      }),
    );
    const { warn } = recorder();
    expectValid(fitMessage(renderSilenceList({ silences, source: 'Alertmanager', locale: 'ko' }), warn, 'en'));
    const longMatchers = [{ name: 'alertname', value: LONG_KO, isRegex: false, isEqual: true }];
    for (const body of [
      renderSilenceCreated({ id: ID, matchers: longMatchers, endsAt: NOW, url: `http://am/${'x'.repeat(400)}`, locale: 'ko' }),
      renderButtonSilenced({ id: ID, matchers: longMatchers, endsAt: NOW, locale: 'ko' }),
      renderSilenceExpired({ id: ID, matchers: longMatchers }, LONG_KO.slice(0, 32), 'ko'),
      renderSilencedNotice(LONG_KO.slice(0, 32), ID, NOW, 'ko'),
    ])
      expectValid(body);
  });
});

describe('/query in Korean', () => {
  const vector = (rows: Array<[Record<string, string>, number]>): QueryResult => ({
    resultType: 'vector',
    result: rows.map(([labels, value]): InstantSample => ({ labels, value, at: NOW })),
  });
  const series = (labels: Record<string, string>, values: number[]): RangeSeries => ({
    labels,
    points: values.map((value, i) => ({ at: new Date(NOW.getTime() + i * 15_000), value })),
  });

  it('heads the tables and says what is empty in Korean', () => {
    const instant = renderInstant(
      'up',
      vector([
        [{ job: 'node', instance: 'a' }, 1],
        [{ job: 'node', instance: 'b' }, 0],
      ]),
      'plain',
      'ko',
    );
    expect(instant.split('\n')[0]).toBe('`up` · 현재 값 · 시리즈 2개');
    expect(instant).toContain('-# 공통: job=node');
    expect(instant).toMatch(/```\n시리즈 +값\n/);
    expect(renderInstant('up == 2', vector([]), 'plain', 'ko')).toBe('`up == 2` · 현재 값 · 시리즈 0개\n데이터 없음: 결과가 빈 벡터입니다.');
    expect(renderInstant('1', { resultType: 'scalar', result: { at: NOW, value: 1 } }, 'plain', 'ko').split('\n')[0]).toBe('`1` · 스칼라');
    const range = renderRange('rate(x[1m])', [series({ a: '1' }, [1, 2]), series({ a: '2' }, [3, 4])], 3_600_000, 15, 'plain', 'ko');
    expect(range.split('\n')[0]).toBe('`rate(x[1m])` · 최근 1시간 (간격 15초) · 시리즈 2개');
    expect(range).toMatch(/```\n시리즈 +최소 +최대 +마지막\n/);
    expect(renderRange('x', [], 600_000, 5, 'plain', 'ko')).toContain('이 구간에 데이터가 없습니다.');
  });

  it('stays within the message limit with long Korean label values', () => {
    const rows = Array.from({ length: 100 }, (_, i): [Record<string, string>, number] => [{ 서비스: `${LONG_KO}-${i}`, job: LONG_KO }, i]);
    const { warn } = recorder();
    for (const content of [
      renderInstant(`sum by (서비스) (${LONG_KO})`, vector(rows), 'plain', 'ko'),
      renderRange(
        LONG_KO,
        rows.map(([labels], i) => series(labels, [i, i + 1])),
        7 * 86_400_000,
        3600,
        'plain',
        'ko',
      ),
      renderQueryError(LONG_KO.repeat(3)),
    ]) {
      const body = fitMessage({ content }, warn, 'en');
      expectValid(body);
      expect(body.content).toMatch(HANGUL);
    }
  });
});

describe('/logs in Korean', () => {
  const END = NOW;
  const input = (over: Partial<LogsMessageInput> = {}): LogsMessageInput => ({
    scope: '모든 컨테이너',
    filter: '오류성 로그',
    window: { start: new Date(END.getTime() - 15 * 60_000), end: END },
    relative: true,
    query: '{container_name=~".+"}',
    entries: [
      { ns: '1', at: new Date(END.getTime() - 1000), line: '연결 실패: 결제 DB', labels: { container_name: 'api' } },
      { ns: '0', at: new Date(END.getTime() - 2000), line: '연결 실패: 결제 DB', labels: { container_name: 'api' } },
    ],
    capped: false,
    limit: 20,
    locale: 'ko',
    ...over,
  });

  it('titles, heads and counts in Korean', () => {
    const { warn } = recorder();
    const embed = renderLogsMessage(input(), warn).embeds[0]!;
    expect(embed.title).toBe('📜 로그 · 모든 컨테이너');
    expect(embed.description!.split('\n')[0]).toBe('오류성 로그 · 최근 15분 · 최신순');
    expect(embed.footer!.text.split('\n')[0]).toBe('일치하는 로그 2줄 · 서로 다른 로그 1줄');
    expect(renderLogsMessage(input({ entries: [] }), warn).embeds[0]!.description).toBe(
      '오류성 로그 · 최근 15분 · 최신순\n\n이 구간에 일치하는 로그가 없습니다.',
    );
    expect(renderLogsError({ scope: '모든 컨테이너', query: 'q', message: 'timeout', locale: 'ko' }, warn).embeds[0]!.description).toBe(
      '❌ Loki가 답하지 못했습니다: timeout',
    );
  });

  it('stays within the limits with 50 long Korean log lines from Korean-named containers', () => {
    const entries = Array.from({ length: 1000 }, (_, i) => ({
      ns: String(1000 - i),
      at: new Date(END.getTime() - i * 1000),
      line: `${i} ${LONG_KO}`,
      labels: { container_name: `${LONG_KO.slice(0, 60)}-${i % 50}` },
    }));
    const { warn } = recorder();
    const body = renderLogsMessage(input({ entries, capped: true, limit: 50, scope: LONG_KO, filter: `${LONG_KO} 포함 로그`, query: LONG_KO }), warn);
    expectValid(body);
    const embed = body.embeds[0]!;
    expect(embed.footer!.text.split('\n')[0]).toMatch(/^일치하는 로그 1,000줄 이상 · 서로 다른 \d+줄 중 \d+줄 표시$/);
    expect(embed.description).toMatch(/\*\+ 로그 \d+줄 더 \(메시지 크기 제한으로 생략\)\*$/);
    expectValid(renderLogsError({ scope: LONG_KO, query: LONG_KO, message: LONG_KO, locale: 'ko' }, warn));
  });
});

describe('tables with wide characters', () => {
  it('pads and cuts Korean cells by the columns they take, so the columns line up', () => {
    const table = renderTable(
      [
        { header: '이름', shrink: true },
        { header: '값', align: 'right' },
      ],
      [
        ['짧음', '1'],
        ['아주 긴 컨테이너 이름이 계속 이어집니다 정말 깁니다', '22'],
        ['ascii-name', '333'],
      ],
      { maxWidth: 30 },
    );
    const lines = table.split('\n');
    expect(new Set(lines.map(displayWidth)).size).toBe(1);
    expect(Math.max(...lines.map(displayWidth))).toBeLessThanOrEqual(30);
    expect(lines[2]).toMatch(/…\s+22$/);
  });
});

describe('Explore links in Korean', () => {
  it('marks a link that lost its query in the language asked', () => {
    const target: ExploreTarget = { label: '로그', datasource: 'loki', expr: `{a="${'x'.repeat(900)}"}`, start: NOW, end: NOW };
    const fitted = fitExploreLinks('http://grafana:3000', [target], DEFAULT_DATASOURCES, EMBED_FIELD_VALUE, 'ko');
    expect(fitted.text).toMatch(/^\[로그 \(구간만\)\]\(http/);
    expect(codePointLength(fitted.text)).toBeLessThanOrEqual(EMBED_FIELD_VALUE);
    expect(fitExploreLinks('http://grafana:3000', [target], DEFAULT_DATASOURCES, EMBED_FIELD_VALUE).text).toMatch(/^\[로그 \(window only\)\]/);
  });
});
