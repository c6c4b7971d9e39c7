/** What Vigil watches: the stack's backends, Prometheus' own scraping, and the dead man's switch. */
export type ComponentId = 'prometheus' | 'prometheus-targets' | 'loki' | 'grafana' | 'alertmanager' | 'heartbeat';

/** What one check of a component found; `unknown` (e.g. Prometheus itself is down) changes nothing. */
export type CheckResult = { status: 'ok' } | { status: 'fail'; error: string; shown?: string } | { status: 'unknown'; reason: string };

/** A failed check's error: `error` in English (logs), `shown` in the alerts' language when that is not English. */
export type CheckFailure = Extract<CheckResult, { status: 'fail' }>;

/** Where one component stands: ok -> failing(n) -> down -> ok. */
export type ComponentState =
  | { phase: 'ok' }
  | { phase: 'failing'; failures: number; since: Date; lastError: string }
  | { phase: 'down'; since: Date; failures: number; lastError: string };

/** A change the channel is told about: an outage begins (once), or it ends. */
export type WatchdogEvent =
  { kind: 'down'; since: Date; failures: number; error: string; shown?: string } | { kind: 'up'; since: Date; at: Date; lastError: string };

/** The state after one check, and the event it causes, if any. */
export interface Step {
  state: ComponentState;
  event?: WatchdogEvent;
}

/** The state every component starts in. */
export const OK: ComponentState = { phase: 'ok' };

/**
 * Advances one component's state machine by one check. `threshold` failed checks in a row raise
 * the outage (one `down` event); further failures only update the last error; the first success
 * ends it (one `up` event). Pure: the clock is passed in.
 */
export function step(state: ComponentState, result: CheckResult, threshold: number, now: Date): Step {
  if (result.status === 'unknown') return { state };
  if (result.status === 'ok') {
    if (state.phase !== 'down') return { state: OK };
    return { state: OK, event: { kind: 'up', since: state.since, at: now, lastError: state.lastError } };
  }
  if (state.phase === 'down') {
    return { state: { ...state, failures: state.failures + 1, lastError: result.error } };
  }
  const failures = state.phase === 'failing' ? state.failures + 1 : 1;
  const since = state.phase === 'failing' ? state.since : now;
  if (failures >= Math.max(1, threshold)) {
    return {
      state: { phase: 'down', since, failures, lastError: result.error },
      event: { kind: 'down', since, failures, error: result.error, ...(result.shown !== undefined ? { shown: result.shown } : {}) },
    };
  }
  return { state: { phase: 'failing', failures, since, lastError: result.error } };
}
