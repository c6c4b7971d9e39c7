import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import type { Notification } from '../../src/model.js';
import { renderAlertMessage } from '../../src/render/alert.js';
import { openDatabase, type SqliteDatabase } from '../../src/store/db.js';
import { createIncident } from '../../src/store/incidents.js';
import { deserialiseNotification } from '../../src/store/notifications.js';
import { COMPONENT_ALERTS, componentSummary, outageAnnotations, outageNotification } from '../../src/watchdog/alerts.js';
import { createWatchdog } from '../../src/watchdog/index.js';
import { evaluateHeartbeat, evaluateScraping, type Probe, type TargetScrape } from '../../src/watchdog/probes.js';
import type { CheckResult, ComponentId } from '../../src/watchdog/state.js';
import { expectWithinLimits, messageValidator } from '../render/helpers.js';
import { englishWords, expectKorean, hangul } from '../render/korean.js';

const NOW = new Date('2026-03-01T10:00:00Z');
const MIN = 60_000;
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const target = (t: Partial<TargetScrape>): TargetScrape => ({
  job: 'node',
  instance: 'host:9100',
  health: 'up',
  lastScrape: ago(1000),
  intervalMs: 15_000,
  ...t,
});
const hasHangul = /[\uac00-\ud7a3]/;

describe('outage alerts in Korean', () => {
  it.each(Object.keys(COMPONENT_ALERTS) as ComponentId[])('names the %s outage in Korean', (component) => {
    const summary = componentSummary(component, 'ko');
    expect(summary).toMatch(hasHangul);
    expect(englishWords(summary)).toEqual([]);
    expect(componentSummary(component)).not.toMatch(hasHangul);
  });

  it('says the failed checks and the last error in Korean', () => {
    expect(outageAnnotations('loki', { error: '연결 거부', failures: 1234 }, { intervalMs: 60_000, locale: 'ko' })).toEqual({
      summary: 'Loki 다운',
      description: '1,234회 연속 확인 실패 (1분마다 확인). 마지막 오류: 연결 거부',
    });
  });

  it('says in Korean that the alerting path is broken', () => {
    const heartbeat = evaluateHeartbeat({
      alertname: 'Watchdog',
      lastSeen: ago(720_000),
      startedAt: ago(3_600_000),
      now: NOW,
      maxSilenceMs: 600_000,
      locale: 'ko',
    });
    // The logs keep English; the alert says it in Korean.
    expect(heartbeat).toEqual({ status: 'fail', error: 'no Watchdog heartbeat for 12m', shown: '12분 동안 Watchdog 하트비트 없음' });
    const a = outageAnnotations(
      'heartbeat',
      { ...(heartbeat as { error: string; shown: string }), failures: 1 },
      { intervalMs: 60_000, heartbeat: { alertname: 'Watchdog', maxSilenceMs: 600_000 }, locale: 'ko' },
    );
    expect(a.summary).toBe('알림 경로 끊김: 12분 동안 Watchdog 하트비트 없음');
    expect(a.description).toBe(
      '항상 발생하는 Watchdog 알림(Alertmanager 또는 Grafana)이 10분마다 한 번 이상 와야 합니다. 알림이 아무에게도 전달되지 않고 있을 수 있습니다.',
    );
    expect(evaluateHeartbeat({ alertname: 'Watchdog', startedAt: ago(660_000), now: NOW, maxSilenceMs: 600_000, locale: 'ko' })).toEqual({
      status: 'fail',
      error: 'no Watchdog heartbeat since Vigil started 11m ago',
      shown: 'Vigil 시작(11분 전) 이후 Watchdog 하트비트 없음',
    });
  });

  it.each<[string, TargetScrape[], string]>([
    ['no target', [], 'Prometheus에 활성 스크레이프 타깃이 없습니다'],
    [
      'the only target stale',
      [target({ lastScrape: ago(45_001) })],
      'Prometheus 스크레이프 중단: 유일한 타깃의 스크레이프가 실패했습니다: node/host:9100 마지막 스크레이프 45초 전',
    ],
    [
      'every target down',
      [
        target({ health: 'down', lastError: 'connection refused' }),
        target({ job: 'app', health: 'down' }),
        target({ job: 'web', health: 'unknown', lastScrape: undefined }),
        ...Array.from({ length: 1234 }, (_, i) => target({ instance: `h${i}`, health: 'down' })),
      ],
      'Prometheus 스크레이프 중단: 타깃 1,237개 모두 스크레이프에 실패했습니다: node/host:9100 다운 (connection refused); app/host:9100 다운; web/host:9100 스크레이프된 적 없음; +1,234개 더',
    ],
  ])('says what the scraping check found in Korean: %s', (_name, targets, error) => {
    expect(evaluateScraping(targets, NOW, 'ko')).toEqual({ status: 'fail', error: expect.stringMatching(/^Prometheus /), shown: error });
  });
});

describe('the watchdog with locale ko', () => {
  let db: SqliteDatabase;
  let clock: number;
  beforeEach(() => {
    db = openDatabase(':memory:');
    clock = NOW.getTime();
  });
  afterEach(async () => {
    await db.close();
  });

  const stored = (): Notification[] =>
    (db.sqlite.prepare(`SELECT body FROM notifications WHERE source = 'vigil' ORDER BY id`).all() as Array<{ body: string }>).map((r) =>
      deserialiseNotification(r.body),
    );

  function watchdog(probes: Probe[]) {
    return createWatchdog({
      db,
      config: {
        watchdog: { enabled: true, interval: MIN, failuresBeforeAlert: 2 },
        prometheus: { url: 'http://127.0.0.1:1' },
        loki: { url: 'http://127.0.0.1:1' },
        locale: 'ko',
      },
      logger: createLogger({ level: 'silent' }),
      now: () => new Date(clock),
      onStored: () => undefined,
      probes,
    });
  }

  it('raises the outage with Korean annotations, a probe that throws said in Korean', async () => {
    const loki: Probe = {
      component: 'loki',
      run: () => Promise.reject(new Error('boom')),
    };
    const wd = watchdog([loki]);
    for (let i = 0; i < 2; i++) {
      clock += MIN;
      await wd.check();
    }
    const [firing] = stored();
    expect(firing!.commonAnnotations).toEqual({ summary: 'Loki 다운', description: '2회 연속 확인 실패 (1분마다 확인). 마지막 오류: 예기치 않은 오류: boom' });
  });

  it('resolves an outage raised before a restart with Korean annotations', async () => {
    await createIncident(
      db,
      {
        source: 'vigil',
        receiver: 'watchdog',
        groupKey: 'vigil-watchdog:loki',
        status: 'firing',
        alerts: { 'vigil-watchdog-loki': { status: 'firing', startsAt: ago(30 * MIN).toISOString() } },
        startedAt: ago(30 * MIN),
      },
      NOW,
    );
    const ok: CheckResult = { status: 'ok' };
    const wd = watchdog([{ component: 'loki', run: () => Promise.resolve(ok) }]);
    clock += MIN;
    await wd.check();
    expect(stored()[0]!.commonAnnotations).toEqual({ summary: 'Loki 다운', description: 'Vigil 재시작 전에 발생한 알림입니다.' });
  });

  it('gives an alert message in Korean within every Discord limit, however long the error', () => {
    const annotations = outageAnnotations('prometheus-targets', { error: `수집 실패 ${hangul(3000)}`, failures: 3 }, { intervalMs: MIN, locale: 'ko' });
    const n = outageNotification({ component: 'prometheus-targets', status: 'firing', since: NOW, annotations });
    const body = renderAlertMessage(
      { enriched: { notification: n, enrichments: {} }, state: 'firing', incidentStartedAt: NOW, now: new Date(NOW.getTime() + MIN), locale: 'ko' },
      () => undefined,
    );
    expectWithinLimits(body);
    expect(messageValidator()(body)).toEqual([]);
    expect(JSON.stringify(body)).toContain('Prometheus가 타깃을 스크레이프하지 않음');
    // The alert's own names (its alertname, the component label) and the sender stay as they are.
    expectKorean(body, ['PrometheusNotScraping', 'prometheus-targets', 'component', 'severity', 'critical', 'watchdog']);
  });
});
