import type { Config } from '../config/schema.js';
import { translate, type Locale } from '../i18n/index.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Notification, Clock } from '../model.js';
import type { Database } from '../store/db.js';
import { latestIncident } from '../store/incidents.js';
import { insertNotification } from '../store/notifications.js';
import type { Intercepted } from '../webhooks/routes.js';
import { outageAnnotations, outageNotification, restoredAnnotations, WATCHDOG_RECEIVER, watchdogFingerprint, watchdogGroupKey } from './alerts.js';
import { lastHeartbeat } from '../store/heartbeats.js';
import { heartbeatInterceptor } from './heartbeat.js';
import { configProbes, evaluateHeartbeat, failure, type Probe } from './probes.js';
import { OK, step, type CheckResult, type ComponentId, type ComponentState, type WatchdogEvent } from './state.js';

/** What the watchdog needs. */
export interface WatchdogDeps {
  db: Database;
  /** `locale`: the language of the outage alerts' summaries and descriptions (config `locale`); default 'en'. */
  config: Pick<Config, 'watchdog' | 'prometheus' | 'loki' | 'grafana' | 'alertmanager'> & { locale?: Locale };
  logger: Logger;
  now: Clock;
  /** Called after an outage notification is stored: wakes the pipeline worker. */
  onStored: () => void;
  /** The backend checks; default: every backend the config names (configProbes). */
  probes?: readonly Probe[];
  /** Sets vigil_watchdog_component_up after every check. */
  metrics?: Pick<Metrics, 'watchdogComponentUp'>;
}

/** What one round of checks found and which outages it raised or ended. */
export interface CheckReport {
  at: Date;
  results: Partial<Record<ComponentId, CheckResult>>;
  events: Array<{ component: ComponentId; event: WatchdogEvent }>;
}

/** The running watchdog. */
export interface Watchdog {
  /** Checks every watchdog.interval, the first time one interval after start. */
  start(): void;
  /** Runs one round of checks now (a round already running is joined, never doubled). */
  check(): Promise<CheckReport>;
  /** Where a component stands (undefined when it is not watched). */
  state(component: ComponentId): ComponentState | undefined;
  /** The webhook intake hook of the dead man's switch; absent without watchdog.heartbeat. */
  intercept?: (n: Notification, receivedAt: Date) => Promise<Intercepted>;
  /** Stops the timer and waits for a round in progress. */
  stop(): Promise<void>;
}

/** Why a failing component found firing in the store at start has no error text. */
const RESTORED_ERROR = 'raised before Vigil restarted';

/** Creates the watchdog: the backend probes, the dead man's switch, one state machine per component. */
export function createWatchdog(deps: WatchdogDeps): Watchdog {
  const { config, db, logger } = deps;
  const wd = config.watchdog;
  const locale = config.locale ?? 'en';
  const startedAt = deps.now();
  const probes: Probe[] = [...(deps.probes ?? configProbes(config))];
  const heartbeat = wd.heartbeat;
  if (heartbeat) {
    probes.push({
      component: 'heartbeat',
      // One missed deadline is already maxSilence without a heartbeat: no streak to wait for.
      threshold: 1,
      run: async (now) =>
        evaluateHeartbeat({
          alertname: heartbeat.alertname,
          lastSeen: (await lastHeartbeat(db, heartbeat.alertname))?.lastSeen,
          startedAt,
          now,
          maxSilenceMs: heartbeat.maxSilence,
          locale,
        }),
    });
  }
  const annotationOptions = {
    intervalMs: wd.interval,
    heartbeat: heartbeat && { alertname: heartbeat.alertname, maxSilenceMs: heartbeat.maxSilence },
    locale,
  };
  const thresholdOf = (p: Probe) => p.threshold ?? wd.failuresBeforeAlert;
  const states = new Map<ComponentId, ComponentState>();
  // An outage raised before a restart stays raised: its state comes back from the store before the first round.
  const restored = (async () => {
    for (const p of probes) states.set(p.component, await restoredState(db, p.component, thresholdOf(p)));
  })();
  // A store that cannot be read fails the first round (logged there), not the process.
  restored.catch(() => undefined);
  const raised = new Map<ComponentId, Record<string, string>>();
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let current: Promise<CheckReport> | undefined;

  /** Runs every probe (dependents after what they depend on) and advances each state machine. */
  async function runRound(): Promise<CheckReport> {
    await restored;
    const results: Partial<Record<ComponentId, CheckResult>> = {};
    const at = deps.now();
    const independent = probes.filter((p) => !p.dependsOn);
    const dependent = probes.filter((p) => p.dependsOn);
    await Promise.all(independent.map(async (p) => (results[p.component] = await safeRun(p, at, locale))));
    await Promise.all(
      dependent.map(async (p) => {
        const base = results[p.dependsOn!];
        results[p.component] = base?.status === 'ok' ? await safeRun(p, at, locale) : { status: 'unknown', reason: `${p.dependsOn} is not answering` };
      }),
    );
    const now = deps.now();
    const events: CheckReport['events'] = [];
    for (const p of probes) {
      const result = results[p.component]!;
      const before = states.get(p.component) ?? OK;
      const next = step(before, result, thresholdOf(p), now);
      states.set(p.component, next.state);
      if (result.status !== 'unknown') deps.metrics?.watchdogComponentUp.set({ component: p.component }, result.status === 'ok' ? 1 : 0);
      if (next.event) events.push({ component: p.component, event: next.event });
    }
    if (events.length > 0) await publish(events, now);
    logger.debug({ results: summarize(results) }, 'watchdog check');
    return { at, results, events };
  }

  /** Stores one notification per event for the pipeline (which renders, delivers and edits on resolve). */
  async function publish(events: CheckReport['events'], now: Date): Promise<void> {
    let stored = false;
    for (const { component, event } of events) {
      const annotations =
        event.kind === 'down' ? outageAnnotations(component, event, annotationOptions) : (raised.get(component) ?? restoredAnnotations(component, locale));
      if (event.kind === 'down') raised.set(component, annotations);
      else raised.delete(component);
      const n = outageNotification({
        component,
        status: event.kind === 'down' ? 'firing' : 'resolved',
        since: event.since,
        ...(event.kind === 'up' ? { endedAt: event.at } : {}),
        annotations,
        ...(wd.channelId ? { channelId: wd.channelId } : {}),
      });
      const result = await insertNotification(db, n, now);
      stored ||= !result.duplicate;
      const details = { component, notificationId: result.id, since: event.since.toISOString() };
      if (event.kind === 'down') logger.warn({ ...details, error: event.error }, 'watchdog: component down');
      else logger.info({ ...details, lastError: event.lastError }, 'watchdog: component back');
    }
    if (stored) deps.onStored();
  }

  function check(): Promise<CheckReport> {
    current ??= runRound().finally(() => {
      current = undefined;
    });
    return current;
  }

  function schedule(): void {
    if (!running) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      check()
        .catch((err: unknown) => logger.error({ err }, 'watchdog check failed'))
        .finally(schedule);
    }, wd.interval);
    // The watchdog alone never keeps the process alive.
    timer.unref();
  }

  return {
    start() {
      if (running) return;
      running = true;
      schedule();
      logger.info({ interval: wd.interval, failuresBeforeAlert: wd.failuresBeforeAlert, components: probes.map((p) => p.component) }, 'watchdog started');
    },
    check,
    state: (component) => states.get(component),
    ...(heartbeat ? { intercept: heartbeatInterceptor(db, heartbeat.alertname) } : {}),
    async stop() {
      running = false;
      clearTimeout(timer);
      await current?.catch(() => undefined);
    },
  };
}

/** A probe's result; an unexpected throw is a failed check, not a crashed watchdog. */
async function safeRun(p: Probe, at: Date, locale: Locale): Promise<CheckResult> {
  try {
    return await p.run(at);
  } catch (err) {
    const error = (err instanceof Error ? err.message : String(err)).slice(0, 200);
    return failure(locale, (l) => translate(l, 'watchdog.unexpected', { error }));
  }
}

/**
 * A component whose outage message is still firing in the store (Vigil restarted mid-outage)
 * starts down: no second message while it stays down, and a resolve when it comes back.
 */
async function restoredState(db: Database, component: ComponentId, threshold: number): Promise<ComponentState> {
  const incident = await latestIncident(db, { source: 'vigil', receiver: WATCHDOG_RECEIVER, groupKey: watchdogGroupKey(component) });
  if (incident?.status !== 'firing') return OK;
  const startsAt = incident.alerts[watchdogFingerprint(component)]?.startsAt;
  const since = startsAt ? new Date(startsAt) : incident.startedAt;
  return { phase: 'down', since, failures: threshold, lastError: RESTORED_ERROR };
}

function summarize(results: CheckReport['results']): Record<string, string> {
  return Object.fromEntries(
    Object.entries(results).map(([c, r]) => [c, r.status === 'fail' ? `fail: ${r.error}` : r.status === 'unknown' ? `unknown: ${r.reason}` : 'ok']),
  );
}
