import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { openDatabase, type SqliteDatabase } from '../../src/store/db.js';
import { createIncident } from '../../src/store/incidents.js';
import { deserialiseNotification } from '../../src/store/notifications.js';
import type { Notification } from '../../src/model.js';
import { recordHeartbeat } from '../../src/store/heartbeats.js';
import { createWatchdog, type WatchdogDeps } from '../../src/watchdog/index.js';
import type { Probe } from '../../src/watchdog/probes.js';
import type { CheckResult, ComponentId } from '../../src/watchdog/state.js';

const T0 = new Date('2026-03-01T10:00:00Z').getTime();
const MIN = 60_000;
const WATCHDOG_CHANNEL = '423456789012345678';

/** A probe whose answers the test sets, counting its runs. */
function scripted(component: ComponentId, dependsOn?: ComponentId) {
  const probe = {
    component,
    ...(dependsOn ? { dependsOn } : {}),
    result: { status: 'ok' } as CheckResult | Error,
    runs: 0,
    async run(): Promise<CheckResult> {
      probe.runs++;
      if (probe.result instanceof Error) throw probe.result;
      return probe.result;
    },
  };
  return probe;
}

const fail = (error: string): CheckResult => ({ status: 'fail', error });

/** Every Vigil-native notification stored, oldest first. */
function storedVigil(db: SqliteDatabase): Notification[] {
  const rows = db.sqlite.prepare(`SELECT body FROM notifications WHERE source = 'vigil' ORDER BY id`).all() as Array<{ body: string }>;
  return rows.map((r) => deserialiseNotification(r.body));
}

describe('createWatchdog with scripted probes', () => {
  let db: SqliteDatabase;
  let clock: number;
  let woken: number;
  const logger = createLogger({ level: 'silent' });

  beforeEach(() => {
    db = openDatabase(':memory:');
    clock = T0;
    woken = 0;
  });
  afterEach(async () => {
    await db.close();
  });

  function watchdog(probes: Probe[], over: Partial<WatchdogDeps['config']['watchdog']> = {}, extra: Partial<WatchdogDeps> = {}) {
    return createWatchdog({
      db,
      config: {
        watchdog: { enabled: true, interval: MIN, failuresBeforeAlert: 3, channelId: WATCHDOG_CHANNEL, ...over },
        prometheus: { url: 'http://127.0.0.1:1' },
        loki: { url: 'http://127.0.0.1:1' },
      },
      logger,
      now: () => new Date(clock),
      onStored: () => woken++,
      probes,
      ...extra,
    });
  }

  /** Advances the clock one interval and runs a round. */
  async function tick(wd: ReturnType<typeof watchdog>) {
    clock += MIN;
    return wd.check();
  }

  it('stores one firing notification after failuresBeforeAlert failed checks, none before and none after', async () => {
    const loki = scripted('loki');
    const wd = watchdog([loki]);
    await tick(wd);
    loki.result = fail('Loki unreachable: ECONNREFUSED');
    await tick(wd);
    await tick(wd);
    expect(storedVigil(db)).toEqual([]);
    expect(wd.state('loki')).toMatchObject({ phase: 'failing', failures: 2 });
    const third = await tick(wd);
    expect(third.events).toEqual([
      { component: 'loki', event: { kind: 'down', since: new Date(T0 + 2 * MIN), failures: 3, error: 'Loki unreachable: ECONNREFUSED' } },
    ]);
    await tick(wd);
    await tick(wd);
    const stored = storedVigil(db);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ status: 'firing', groupKey: 'vigil-watchdog:loki', channelId: WATCHDOG_CHANNEL });
    expect(stored[0]!.commonAnnotations.description).toBe('3 failed checks in a row (every 1m). Last error: Loki unreachable: ECONNREFUSED');
    expect(woken).toBe(1);
  });

  it('stores a resolved notification for the same alert when the component answers again', async () => {
    const loki = scripted('loki');
    loki.result = fail('Loki HTTP 503: Ingester not ready');
    const wd = watchdog([loki]);
    for (let i = 0; i < 3; i++) await tick(wd);
    loki.result = { status: 'ok' };
    await tick(wd);
    const [firing, resolved] = storedVigil(db);
    expect(resolved).toMatchObject({ status: 'resolved', groupKey: firing!.groupKey, commonAnnotations: firing!.commonAnnotations });
    expect(resolved!.alerts[0]).toMatchObject({ fingerprint: firing!.alerts[0]!.fingerprint, startsAt: new Date(T0 + MIN), endsAt: new Date(T0 + 4 * MIN) });
    expect(woken).toBe(2);
    expect(wd.state('loki')).toEqual({ phase: 'ok' });
  });

  it('does not run a dependent check while what it depends on fails, so one outage gives one message', async () => {
    const prometheus = scripted('prometheus');
    const targets = scripted('prometheus-targets', 'prometheus');
    prometheus.result = fail('Prometheus unreachable: ECONNREFUSED');
    targets.result = fail('never asked');
    const wd = watchdog([prometheus, targets]);
    for (let i = 0; i < 4; i++) await tick(wd);
    expect(targets.runs).toBe(0);
    expect(storedVigil(db).map((n) => n.alerts[0]!.labels.alertname)).toEqual(['PrometheusDown']);
    expect(wd.state('prometheus-targets')).toEqual({ phase: 'ok' });
  });

  it('counts a probe that throws as a failed check', async () => {
    const grafana = scripted('grafana');
    grafana.result = new Error('boom');
    const report = await tick(watchdog([grafana]));
    expect(report.results.grafana).toEqual({ status: 'fail', error: 'unexpected error: boom' });
  });

  it('joins a round already running instead of starting a second one', async () => {
    const loki = scripted('loki');
    const wd = watchdog([loki]);
    const [a, b] = [wd.check(), wd.check()];
    expect(a).toBe(b);
    await a;
    expect(loki.runs).toBe(1);
  });

  it('sets vigil_watchdog_component_up per component', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const loki = scripted('loki');
    const prometheus = scripted('prometheus');
    loki.result = fail('down');
    await tick(watchdog([loki, prometheus], {}, { metrics }));
    const values = (await metrics.watchdogComponentUp.get()).values.map((v) => [v.labels.component, v.value]);
    expect(Object.fromEntries(values)).toEqual({ loki: 0, prometheus: 1 });
  });

  describe('dead man’s switch', () => {
    const heartbeat = { alertname: 'Watchdog', maxSilence: 10 * MIN };

    it('waits maxSilence from start before the first heartbeat, then says the alerting path is broken', async () => {
      const wd = watchdog([], { heartbeat });
      clock = T0 + 10 * MIN;
      expect((await wd.check()).results.heartbeat).toEqual({ status: 'ok' });
      expect(storedVigil(db)).toEqual([]);
      clock = T0 + 11 * MIN;
      await wd.check();
      const [n] = storedVigil(db);
      expect(n!.alerts[0]!.labels).toEqual({ alertname: 'AlertingPathBroken', component: 'heartbeat', severity: 'critical' });
      expect(n!.commonAnnotations.summary).toBe('The alerting path is broken: no Watchdog heartbeat since Vigil started 11m ago');
    });

    it('resolves at the next check after heartbeats resume, and fires once per silence', async () => {
      const wd = watchdog([], { heartbeat });
      await recordHeartbeat(db, 'Watchdog', 'alertmanager', new Date(T0));
      clock = T0 + 12 * MIN;
      await wd.check();
      await wd.check();
      await recordHeartbeat(db, 'Watchdog', 'alertmanager', new Date(clock));
      clock += MIN;
      await wd.check();
      expect(storedVigil(db).map((n) => `${n.status}: ${n.commonAnnotations.summary}`)).toEqual([
        'firing: The alerting path is broken: no Watchdog heartbeat for 12m',
        'resolved: The alerting path is broken: no Watchdog heartbeat for 12m',
      ]);
    });

    it('remembers a heartbeat from before a restart: silence counts from it, not from the start', async () => {
      await recordHeartbeat(db, 'Watchdog', 'alertmanager', new Date(T0 - 8 * MIN));
      const wd = watchdog([], { heartbeat });
      clock = T0 + 3 * MIN;
      expect((await wd.check()).results.heartbeat).toEqual({ status: 'fail', error: 'no Watchdog heartbeat for 11m' });
    });

    it('intercepts only when a heartbeat is configured', () => {
      expect(watchdog([]).intercept).toBeUndefined();
      expect(watchdog([], { heartbeat }).intercept).toBeTypeOf('function');
    });
  });

  it('starts down for a component whose outage message is still firing after a restart: no second message, a resolve on recovery', async () => {
    const since = new Date(T0 - 30 * MIN);
    await createIncident(
      db,
      {
        source: 'vigil',
        receiver: 'watchdog',
        groupKey: 'vigil-watchdog:loki',
        status: 'firing',
        alerts: { 'vigil-watchdog-loki': { status: 'firing', startsAt: since.toISOString() } },
        startedAt: since,
      },
      new Date(T0),
    );
    const loki = scripted('loki');
    loki.result = fail('still down');
    const wd = watchdog([loki]);
    // The state comes back from the store at the start of the first round: after it, still down since the stored start.
    await tick(wd);
    expect(wd.state('loki')).toMatchObject({ phase: 'down', since });
    expect(storedVigil(db)).toEqual([]);
    loki.result = { status: 'ok' };
    await tick(wd);
    const [resolved] = storedVigil(db);
    expect(resolved!.alerts[0]).toMatchObject({ status: 'resolved', startsAt: since });
    expect(resolved!.commonAnnotations.summary).toBe('Loki is down');
  });

  describe('timer', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('runs the first check one interval after start, then every interval, and not after stop', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const loki = scripted('loki');
      const wd = watchdog([loki]);
      wd.start();
      await vi.advanceTimersByTimeAsync(MIN - 1);
      expect(loki.runs).toBe(0);
      await vi.advanceTimersByTimeAsync(1);
      expect(loki.runs).toBe(1);
      await vi.advanceTimersByTimeAsync(MIN);
      expect(loki.runs).toBe(2);
      await wd.stop();
      await vi.advanceTimersByTimeAsync(5 * MIN);
      expect(loki.runs).toBe(2);
    });
  });
});
