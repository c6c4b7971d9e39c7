import { describe, expect, it } from 'vitest';
import { EMBED_FIELD_NAME, EMBED_FIELD_VALUE, EMBED_TITLE, EMBED_DESCRIPTION } from '../../src/render/limits.js';
import { stormContextEmbed, type StormLogVolume, type StormMetric } from '../../src/render/storm-context.js';
import { codePointLength } from '../../src/render/truncate.js';
import { messageValidator } from './helpers.js';
import { expectKorean, hangul } from './korean.js';

const NOW = new Date('2026-12-06T03:04:00Z');
const validate = messageValidator();

const metric = (over: Partial<StormMetric> = {}): StormMetric => ({
  alertname: 'HostHighCpu',
  firing: 412,
  query: '100 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100',
  threshold: { op: '>', value: 90 },
  series: 430,
  breaching: 398,
  peaks: [
    { labels: { instance: 'db-1:9100' }, value: 99.2 },
    { labels: {}, value: 97 },
  ],
  failures: [],
  queriedAt: NOW.toISOString(),
  ...over,
});

const logs = (over: Partial<StormLogVolume> = {}): StormLogVolume => ({
  label: 'host',
  sources: 12,
  uncovered: 0,
  query: 'sum by (host) (count_over_time({host=~"a|b"} |~ "(?i)error"[1800s]))',
  top: [{ source: 'a', lines: 1234 }],
  total: 1234,
  queriedAt: NOW.toISOString(),
  ...over,
});

/** Every field, title and description within Discord's limits. */
function expectFits(embed: ReturnType<typeof stormContextEmbed>): void {
  expect(codePointLength(embed.title ?? '')).toBeLessThanOrEqual(EMBED_TITLE);
  expect(codePointLength(embed.description ?? '')).toBeLessThanOrEqual(EMBED_DESCRIPTION);
  for (const f of embed.fields ?? []) {
    expect(codePointLength(f.name)).toBeLessThanOrEqual(EMBED_FIELD_NAME);
    expect(codePointLength(f.value)).toBeLessThanOrEqual(EMBED_FIELD_VALUE);
  }
  expect(validate({ embeds: [embed] })).toEqual([]);
}

describe('stormContextEmbed', () => {
  it('is in English by default, as before', () => {
    const embed = stormContextEmbed([metric()], 30 * 60_000);
    expect(embed.title).toBe('📈 What the metrics did · last 30m');
    expect(embed.fields![0]!.name).toBe('HostHighCpu · 412 firing');
    expect(embed.fields![0]!.value).toContain('Peak: db-1:9100 99.2% · all 97.0%');
  });

  it.each([
    [
      'the metrics and logs',
      [metric()],
      logs(),
      '📈 메트릭 추이 · 최근 30분',
      '알림 이름마다 한 번씩 그 이름의 모든 알림을 함께 조회하고, 알림 폭주의 모든 로그는 한 번에 조회했습니다.',
    ],
    ['the metrics alone', [metric()], undefined, '📈 메트릭 추이 · 최근 30분', '알림 이름마다 한 번씩, 그 이름의 모든 알림을 함께 조회했습니다.'],
    ['the logs alone', [], logs(), '📜 로그 추이 · 최근 30분', '알림 폭주의 모든 로그를 한 번에 조회했습니다.'],
  ] as const)('says what %s did in Korean', (_what, metrics, volume, title, queried) => {
    const embed = stormContextEmbed(metrics, 30 * 60_000, volume, 'ko');
    expect(embed.title).toBe(title);
    expect(embed.description).toMatch(new RegExp(`^<t:\\d+:R>에 ${queried.replace(/\./g, '\\.')}$`));
    expectKorean({ embeds: [embed] }, ['host', 'HostHighCpu']);
    expectFits(embed);
  });

  it('says in Korean that no source had error lines, and the peaks of a series without an instance', () => {
    const embed = stormContextEmbed([metric()], 30 * 60_000, logs({ top: [], total: 0 }), 'ko');
    expect(embed.fields![0]!.value).toContain('최고: db-1:9100 99.2% · 전체 97.0%');
    expect(embed.fields![1]!.value).toContain('조회한 host 값 12개에 오류 로그 없음');
  });

  it('keeps five long Korean names, peaks and failures within every field limit', () => {
    const long = (i: number) =>
      metric({
        alertname: `${hangul(300)}${i}`,
        firing: 12_345,
        peaks: Array.from({ length: 3 }, (_, k) => ({ labels: { instance: `서버-${hangul(200)}-${k}` }, value: k })),
        failures: [`프로메테우스 ${hangul(500)}`],
      });
    const embed = stormContextEmbed(
      [1, 2, 3, 4, 5].map(long),
      30 * 60_000,
      logs({ top: [{ source: hangul(100), lines: 123_456 }], total: 123_456, uncovered: 4321 }),
      'ko',
    );
    expect(embed.fields).toHaveLength(6);
    expect(embed.fields![0]!.name).toMatch(/ · 12,345개 발생$/);
    expect(embed.fields![5]!.value).toContain('**12.3만줄** (소스 12개 중 1개)');
    expect(embed.fields![5]!.value).toContain('제외: host이(가) 다르거나 없는 발생 중 알림 4,321개');
    expectKorean({ embeds: [embed] }, ['host']);
    expectFits(embed);
  });
});

describe('the storm context’s failures', () => {
  // As stored with the storm (JSON): a date comes back as text; a storm stored before failures had words holds text alone.
  const stored = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
  const timedOut = { message: 'Prometheus timed out after 5s', words: { kind: 'timed-out' as const, backend: 'Prometheus', ms: 5000 } };
  const down = {
    message: 'Loki not queried: not answering since 03:00 UTC',
    words: { kind: 'not-answering' as const, backend: 'Loki', since: new Date('2026-12-06T03:00:00Z') },
  };

  it('says Vigil’s own failure words in Korean, as stored', () => {
    const embed = stormContextEmbed([metric({ failures: stored([timedOut]) })], 1_800_000, stored(logs({ top: [], total: undefined, failure: down })), 'ko');
    const text = JSON.stringify(embed);
    expect(text).toContain('⚠️ Prometheus 응답 시간 초과 (5초)');
    expect(text).toContain(`⚠️ Loki 조회 안 함: <t:${Date.parse('2026-12-06T03:00:00Z') / 1000}:t>부터 응답 없음`);
    // The alert name and the Loki label are the data's own.
    expectKorean({ embeds: [embed] }, ['HostHighCpu', 'host']);
    expect(validate({ embeds: [embed] })).toEqual([]);
  });

  it('says them word for word in English, and shows a failure stored as text alone as it is', () => {
    const embed = stormContextEmbed(
      [metric({ failures: [timedOut, 'HTTP 400: parse error'] })],
      1_800_000,
      logs({ top: [], total: undefined, failure: down }),
      'en',
    );
    const text = JSON.stringify(embed);
    expect(text).toContain('⚠️ Prometheus timed out after 5s');
    expect(text).toContain('⚠️ HTTP 400: parse error');
    expect(text).toContain('⚠️ Loki not queried: not answering since 03:00 UTC');
  });
});
