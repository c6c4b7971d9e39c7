import type { APIEmbed } from 'discord-api-types/v10';
import { describe, expect, it } from 'vitest';
import { renderDigest, type DigestInput, type HostHeadroom } from '../../src/render/digest.js';
import { EMBED_FIELD_VALUE, EMBED_TOTAL } from '../../src/render/limits.js';
import { codePointLength, totalLength } from '../../src/render/truncate.js';
import { messageValidator } from './helpers.js';
import { expectKorean, hangul } from './korean.js';

const NOW = new Date('2026-11-21T08:00:00Z');
const GiB = 1024 ** 3;
const RED = 0xe74c3c;
const AMBER = 0xf1c40f;
const GREEN = 0x2ecc71;

function input(over: Partial<DigestInput> = {}): DigestInput {
  return {
    now: NOW,
    from: new Date(NOW.getTime() - 86_400_000),
    timezone: 'Europe/Berlin',
    incidents: {
      alertsFired: 7,
      alertsResolved: 5,
      alertsFiring: 2,
      incidentsOpened: 4,
      incidentsOpen: 1,
      noisiest: [
        { alertname: 'HostHighCpuLoad', count: 4 },
        { alertname: 'Disk_Full*', count: 2 },
      ],
      timeToAck: { count: 2, meanMs: 250_000 },
      timeToResolve: { count: 3, meanMs: 3_720_000 },
      open: [
        {
          id: 9,
          firing: [
            { alertname: 'DbDown', severity: 'critical', instance: 'db-1' },
            { alertname: 'DbDown', severity: 'critical', instance: 'db-2' },
          ],
          route: 'db',
          ackedBy: 'alice_*',
          startedAt: new Date('2026-11-21T07:00:00Z'),
        },
        { id: 8, firing: [{ alertname: 'DiskFull', severity: 'warning' }], startedAt: new Date('2026-11-21T06:00:00Z') },
      ],
    },
    deliveries: { webhooksReceived: 14, sent: 20, failed: 1, pending: 0 },
    targets: {
      ok: true,
      value: [
        { job: 'api', instance: '10.0.0.2:8080', downNow: false, availability: 0.979 },
        { job: 'node', instance: '127.0.0.1:9', downNow: true, availability: 0 },
      ],
    },
    headroom: {
      ok: true,
      value: [
        { instance: 'web-1:9100', disk: { mountpoint: '/', freeRatio: 0.6, freeBytes: 60 * GiB }, memory: { freeRatio: 0.5, freeBytes: 4 * GiB } },
        {
          instance: 'db-1:9100',
          disk: { mountpoint: '/var/lib/postgresql', freeRatio: 0.08, freeBytes: 8 * GiB },
          memory: { freeRatio: 0.41, freeBytes: 3.2 * GiB },
        },
      ],
    },
    snapshots: {
      last: { at: new Date('2026-11-21T02:00:00Z'), ok: true, snapshot: '20261121T020000Z-2be650b6d019eb54', kept: 7, pruned: 1 },
      succeeded: 1,
      failed: 0,
      pruning: true,
      retain: 7,
    },
    ...over,
  };
}

const warnings: Array<Record<string, unknown>> = [];
const warn = (_msg: string, details: Record<string, unknown>) => void warnings.push(details);

function embedOf(i: DigestInput): APIEmbed {
  const body = renderDigest(i, warn);
  expect(body.embeds).toHaveLength(1);
  return body.embeds[0]!;
}

const field = (e: APIEmbed, prefix: string) => e.fields?.find((f) => f.name.includes(prefix))?.value;

/** A day with no incidents at all. */
const CALM: DigestInput['incidents'] = {
  alertsFired: 0,
  alertsResolved: 0,
  alertsFiring: 0,
  incidentsOpened: 0,
  incidentsOpen: 0,
  noisiest: [],
  timeToAck: { count: 0 },
  timeToResolve: { count: 0 },
  open: [],
};

describe('renderDigest', () => {
  it('leads with the counts and mean times, titled with the date in the digest time zone', () => {
    const e = embedOf(input());
    expect(e.title).toBe('📊 Daily digest · Sat 21 Nov');
    expect(e.description).toContain(`since <t:${(NOW.getTime() - 86_400_000) / 1000}:f>`);
    expect(e.description).toContain('🔥 **7** alerts fired · ✅ **5** resolved · 4 new incidents');
    expect(e.description).toContain('🔴 **2** still firing in 1 open incident');
    expect(e.description).toContain('Acknowledged in **4m 10s** on average (2 incidents)');
    expect(e.description).toContain('Resolved in **1h 2m** on average (3 incidents)');
    expect(e.timestamp).toBe(NOW.toISOString());
  });

  it('dates the title in the configured zone (late evening UTC is the next day in Berlin)', () => {
    expect(embedOf(input({ now: new Date('2026-11-21T23:30:00Z') })).title).toBe('📊 Daily digest · Sun 22 Nov');
    expect(embedOf(input({ now: new Date('2026-11-21T23:30:00Z'), timezone: 'UTC' })).title).toBe('📊 Daily digest · Sat 21 Nov');
  });

  it('lists the open incidents first, newest first, with the route each went to and who has it', () => {
    expect(field(embedOf(input()), 'Open incidents')).toBe(
      [
        `🔴 **DbDown ×2** · since <t:${Date.parse('2026-11-21T07:00:00Z') / 1000}:R> · → db · 👀 alice\\_\\*`,
        `🟠 **DiskFull** · since <t:${Date.parse('2026-11-21T06:00:00Z') / 1000}:R> · nobody has it`,
      ].join('\n'),
    );
    expect(embedOf(input()).fields![0]!.name).toBe('🚨 Open incidents');
  });

  it('ranks the noisiest rules with markdown escaped', () => {
    expect(field(embedOf(input()), 'Noisiest')).toBe('1. **HostHighCpuLoad** · 4 alerts\n2. **Disk\\_Full\\*** · 2 alerts');
  });

  it('lists targets down now before recovered ones, with how much of the day they were up', () => {
    expect(field(embedOf(input()), 'Targets down')).toBe('🔴 **node** `127.0.0.1:9` · down now · 0% up\n🟠 **api** `10.0.0.2:8080` · recovered · 97.9% up');
  });

  it('shows each host tightest first, free share and size with units, naming the fullest mount', () => {
    const lines = field(embedOf(input()), 'Free now')!.split('\n');
    expect(lines).toEqual([
      '🔴 `db-1:9100` 💽 8.0% (8 GiB on `/var/lib/postgresql`) · 🧠 41.0% (3.2 GiB)',
      '🟢 `web-1:9100` 💽 60.0% (60 GiB on `/`) · 🧠 50.0% (4 GiB)',
    ]);
  });

  it('reports the last snapshot, what was kept and pruned, and delivery counts in the footer', () => {
    const e = embedOf(input());
    expect(field(e, 'snapshots')).toBe(`✅ \`20261121T020000Z-2be650b6d019eb54\` <t:${Date.parse('2026-11-21T02:00:00Z') / 1000}:R> · 7 kept, 1 pruned`);
    expect(e.footer?.text).toBe('📨 14 webhooks in · 📤 20 messages sent, 1 failed');
  });

  it.each([
    ['a target down now', input({ headroom: { ok: true, value: [] } }), RED],
    ['alerts fired but everything recovered', input({ targets: { ok: true, value: [] }, headroom: { ok: true, value: [] } }), AMBER],
    [
      'a calm day',
      input({
        incidents: { ...input().incidents, alertsFired: 0, alertsResolved: 0, alertsFiring: 0, incidentsOpen: 0, noisiest: [] },
        targets: { ok: true, value: [] },
        headroom: { ok: true, value: [{ instance: 'h:9100', memory: { freeRatio: 0.5, freeBytes: GiB } }] },
      }),
      GREEN,
    ],
  ])('is coloured for %s', (_name, i, color) => {
    expect(embedOf(i).color).toBe(color);
  });

  it('says a calm day plainly: nothing firing, no acks, every target up, no noisiest list', () => {
    const e = embedOf(
      input({
        incidents: CALM,
        targets: { ok: true, value: [] },
      }),
    );
    expect(e.description).toContain('✅ Nothing firing now');
    expect(e.description).toContain('⏱️ No incident acknowledged');
    expect(e.description).toContain('🩹 No incident resolved');
    expect(field(e, 'Noisiest')).toBeUndefined();
    expect(field(e, 'Open incidents')).toBeUndefined();
    expect(field(e, 'Targets down')).toBe('✅ Every target stayed up');
  });

  it("shows Prometheus' own error where its data is missing, without any credential", () => {
    const error = 'Prometheus unreachable: connect ECONNREFUSED http://admin:hunter2@prom:9090';
    const e = embedOf(input({ targets: { ok: false, error }, headroom: { ok: false, error } }));
    expect(field(e, 'Targets down')).toContain('⚠️ Prometheus could not say: Prometheus unreachable: connect ECONNREFUSED');
    expect(JSON.stringify(e)).not.toContain('hunter2');
  });

  it('reports failed snapshots and that pruning is off', () => {
    const e = embedOf(
      input({
        snapshots: {
          last: { at: new Date('2026-11-21T02:00:00Z'), ok: false, error: 'Prometheus HTTP 503: unavailable: admin APIs disabled' },
          succeeded: 0,
          failed: 1,
          pruning: false,
          retain: 7,
        },
      }),
    );
    const value = field(e, 'snapshots')!;
    expect(value).toContain('❌ Last run failed');
    expect(value).toContain('admin APIs disabled');
    expect(value).toContain('❌ 1 failed run in 24h · 0 succeeded');
    expect(value).toContain('Pruning off: set snapshots.dataDir to keep the last 7');
    expect(e.color).toBe(RED);
  });

  it('leaves the snapshot section out when snapshots are not configured', () => {
    const { snapshots: _unused, ...rest } = input();
    expect(field(embedOf(rest), 'snapshots')).toBeUndefined();
  });

  it('stays within Discord limits with hundreds of targets and hosts, saying how many more there are', () => {
    warnings.length = 0;
    const long = 'x'.repeat(300);
    const hosts: HostHeadroom[] = Array.from({ length: 200 }, (_, n) => ({
      instance: `${long}-${n}:9100`,
      disk: { mountpoint: `/${long}`, freeRatio: n / 200, freeBytes: n * GiB },
      memory: { freeRatio: 0.5, freeBytes: GiB },
    }));
    const e = embedOf(
      input({
        targets: { ok: true, value: Array.from({ length: 150 }, (_, n) => ({ job: long, instance: `${long}${n}`, downNow: n % 2 === 0, availability: 0.5 })) },
        headroom: { ok: true, value: hosts },
        incidents: { ...input().incidents, noisiest: Array.from({ length: 5 }, (_, n) => ({ alertname: `${long}${n}`, count: 5 - n })) },
      }),
    );
    expect(totalLength([e])).toBeLessThanOrEqual(EMBED_TOTAL);
    for (const f of e.fields ?? []) expect(codePointLength(f.value)).toBeLessThanOrEqual(EMBED_FIELD_VALUE);
    expect(field(e, 'Targets down')).toMatch(/\n\+14\d more targets$/);
    expect(field(e, 'Free now')).toMatch(/\n\+19\d more hosts, all with more room$/);
    expect(warnings).toEqual([]);
  });
});

describe('renderDigest in Korean', () => {
  const validate = messageValidator();
  const long = hangul(300);
  const korean = (over: Partial<DigestInput> = {}): DigestInput =>
    input({
      locale: 'ko',
      timezone: 'Asia/Seoul',
      incidents: {
        ...input().incidents,
        alertsFired: 1234,
        noisiest: [
          { alertname: '디스크부족', count: 4 },
          { alertname: `응답지연${long}`, count: 1 },
        ],
        open: [
          { id: 9, firing: [{ alertname: '디비다운', severity: 'critical', instance: 'db-1' }], route: '디비', ackedBy: '김철수', startedAt: NOW },
          { id: 8, firing: [], startedAt: NOW },
        ],
      },
      targets: {
        ok: true,
        value: [
          { job: '결제', instance: '10.0.0.2:8080', downNow: false, availability: 0.979 },
          { job: '주문', instance: '127.0.0.1:9', downNow: true, availability: 0 },
        ],
      },
      deliveries: { webhooksReceived: 14, sent: 20, failed: 1, pending: 2 },
      ...over,
    });

  it('says everything in Korean, the date in Korean in the digest time zone', () => {
    const e = embedOf(korean());
    expect(e.title).toBe('📊 일일 요약 · 11월 21일 (토)');
    expect(e.description).toBe(
      [
        `지난 24시간, <t:${(NOW.getTime() - 86_400_000) / 1000}:f>부터`,
        '🔥 알림 **1,234**개 발생 · ✅ **5**개 해결 · 새 인시던트 4개',
        '🔴 열린 인시던트 1개에서 알림 **2**개 계속 발생 중',
        '⏱️ 평균 **4분 10초** 만에 확인 (인시던트 2개)',
        '🩹 평균 **1시간 2분** 만에 해결 (인시던트 3개)',
      ].join('\n'),
    );
    expect(e.fields!.map((f) => f.name)).toEqual([
      '🚨 열린 인시던트',
      '🔊 알림이 가장 많은 규칙',
      '🎯 24시간 동안 다운된 타깃',
      '💾 현재 여유 공간: 여유가 가장 적은 디스크 · 메모리',
      '📸 Prometheus 스냅샷',
    ]);
    expect(field(e, '열린 인시던트')).toBe(
      [
        `🔴 **디비다운** · <t:${NOW.getTime() / 1000}:R>부터 · → 디비 · 👀 김철수`,
        `⚪ **발생 중인 알림 없음** · <t:${NOW.getTime() / 1000}:R>부터 · 담당자 없음`,
      ].join('\n'),
    );
    expect(field(e, '규칙')).toContain('1. **디스크부족** · 알림 4개');
    expect(field(e, '타깃')).toBe('🔴 **주문** `127.0.0.1:9` · 지금 다운 · 가동률 0%\n🟠 **결제** `10.0.0.2:8080` · 복구됨 · 가동률 97.9%');
    expect(field(e, '여유 공간')).toContain('🔴 `db-1:9100` 💽 8.0% (`/var/lib/postgresql` 여유 8 GiB) · 🧠 41.0% (3.2 GiB)');
    expect(field(e, '스냅샷')).toContain('· 7개 보관, 1개 정리');
    expect(e.footer!.text).toBe('📨 웹훅 14건 수신 · 📤 메시지 20건 전송, 실패 1건, 대기 2건');
    expectKorean({ embeds: [e] });
  });

  it('says a calm day, missing data and failed snapshots in Korean', () => {
    const e = embedOf(
      korean({
        incidents: CALM,
        targets: { ok: false, error: '연결 거부' },
        headroom: { ok: true, value: [] },
        snapshots: { last: { at: NOW, ok: false }, succeeded: 0, failed: 1, pruning: false, retain: 7 },
      }),
    );
    expect(e.description).toContain('✅ 지금 발생 중인 알림 없음');
    expect(e.description).toContain('⏱️ 확인된 인시던트 없음');
    expect(e.description).toContain('🩹 해결된 인시던트 없음');
    expect(field(e, '타깃')).toBe('⚠️ Prometheus 조회 실패: 연결 거부');
    expect(field(e, '여유 공간')).toBe('node_exporter 호스트 없음 (node_filesystem, node_memory 메트릭 없음)');
    expect(field(e, '스냅샷')).toBe(
      [
        `❌ <t:${NOW.getTime() / 1000}:R>에 마지막 실행 실패: 알 수 없는 오류`,
        '❌ 24시간 동안 1회 실패 · 0회 성공',
        '정리 꺼짐: snapshots.dataDir을 설정하면 최근 7개만 보관합니다',
      ].join('\n'),
    );
    expectKorean({ embeds: [e] });
    expect(embedOf(korean({ snapshots: { succeeded: 0, failed: 0, pruning: true, retain: 7 } })).fields!.at(-1)!.value).toBe('아직 스냅샷 없음');
  });

  it('says in either language that a target or host has no job or instance label', () => {
    const over = {
      targets: { ok: true as const, value: [{ job: '', instance: '', downNow: true }] },
      headroom: { ok: true as const, value: [{ instance: '', memory: { freeRatio: 0.5, freeBytes: GiB } }] },
    };
    const ko = embedOf(korean(over));
    expect(field(ko, '타깃')).toBe('🔴 **(job 없음)** (instance 없음) · 지금 다운');
    expect(field(ko, '여유 공간')).toBe('🟢 (instance 없음) 🧠 50.0% (1 GiB)');
    const en = embedOf(input(over));
    expect(field(en, 'Targets down')).toBe('🔴 **(no job)** (no instance) · down now');
  });

  it('stays within Discord limits with hundreds of long Korean targets, hosts and incidents, saying how many more there are', () => {
    warnings.length = 0;
    const hosts: HostHeadroom[] = Array.from({ length: 200 }, (_, n) => ({
      instance: `${long}-${n}:9100`,
      disk: { mountpoint: `/${long}`, freeRatio: n / 200, freeBytes: n * GiB },
      memory: { freeRatio: 0.5, freeBytes: GiB },
    }));
    const body = renderDigest(
      korean({
        targets: { ok: true, value: Array.from({ length: 150 }, (_, n) => ({ job: long, instance: `${long}${n}`, downNow: n % 2 === 0, availability: 0.5 })) },
        headroom: { ok: true, value: hosts },
        incidents: {
          ...korean().incidents,
          noisiest: Array.from({ length: 5 }, (_, n) => ({ alertname: `${long}${n}`, count: 5 - n })),
          open: Array.from({ length: 50 }, (_, n) => ({
            id: n,
            firing: [{ alertname: `${long}${n}`, severity: 'warning' }],
            route: '운영',
            ackedBy: long,
            startedAt: NOW,
          })),
        },
        snapshots: { last: { at: NOW, ok: false, error: `스냅샷 ${long}` }, succeeded: 0, failed: 3, pruning: false, retain: 7 },
      }),
      warn,
    );
    const e = body.embeds[0]!;
    expect(totalLength([e])).toBeLessThanOrEqual(EMBED_TOTAL);
    for (const f of e.fields ?? []) expect(codePointLength(f.value)).toBeLessThanOrEqual(EMBED_FIELD_VALUE);
    expect(validate(body)).toEqual([]);
    expectKorean(body);
    expect(field(e, '타깃')).toMatch(/\n\+ 타깃 14\d개 더$/);
    expect(field(e, '여유 공간')).toMatch(/\n\+ 호스트 19\d개 더 \(모두 여유가 더 많음\)$/);
    expect(field(e, '열린 인시던트')).toMatch(/\n\+ 열린 인시던트 \d+개 더$/);
  });
});
