import { formatDuration } from '../config/duration.js';
import type { EnrichmentFailure, FailureWhat } from '../findings.js';
import { QueryError } from './http.js';
import type { LokiClient } from './loki.js';
import type { PrometheusClient } from './prometheus.js';

// How enrichment calls the backends: each call timed, each distinct call made once per
// notification, each bounded by its timeout and turned into a failure rather than thrown.

/** The query calls enrichment makes. */
export interface QueryClients {
  prometheus: Pick<PrometheusClient, 'queryRange' | 'targets' | 'query'>;
  loki: Pick<LokiClient, 'queryRange' | 'query'>;
}

/** Times a call by backend (prom-client's Histogram.startTimer). */
export interface CallTimer {
  startTimer(labels: { backend: string }): () => unknown;
}

type BackendId = EnrichmentFailure['backend'];

/** Slack past the clients' own timeout before the stage gives up on a call that ignores it. */
const GUARD_GRACE_MS = 250;

/** The clients with each call's wall time observed by backend (calls that fail or time out too). */
export function timedClients(deps: QueryClients, histogram?: CallTimer): QueryClients {
  if (!histogram) return { prometheus: deps.prometheus, loki: deps.loki };
  const time = <T>(backend: BackendId, call: () => Promise<T>): Promise<T> => {
    const end = histogram.startTimer({ backend });
    return call().finally(() => end());
  };
  return {
    prometheus: {
      queryRange: (...args) => time('prometheus', () => deps.prometheus.queryRange(...args)),
      query: (...args) => time('prometheus', () => deps.prometheus.query(...args)),
      targets: (...args) => time('prometheus', () => deps.prometheus.targets(...args)),
    },
    loki: {
      queryRange: (...args) => time('loki', () => deps.loki.queryRange(...args)),
      query: (...args) => time('loki', () => deps.loki.query(...args)),
    },
  };
}

/**
 * The clients with each distinct call made once per notification: alerts of one rule ask for the same
 * expression, target list, host and logs over the same window. A call is known by its arguments
 * before the call options (every caller passes the same config.timeout); a failure is shared too.
 */
export function sharingCalls(clients: QueryClients): QueryClients {
  const { prometheus, loki } = clients;
  return {
    prometheus: {
      queryRange: once(prometheus.queryRange.bind(prometheus), 4),
      query: once(prometheus.query.bind(prometheus), 2),
      targets: once(prometheus.targets.bind(prometheus), 1),
    },
    loki: {
      queryRange: once(loki.queryRange.bind(loki), 2),
      query: once(loki.query.bind(loki), 2),
    },
  };
}

/** `call` made once per distinct value of its first `optionsAt` arguments (the call options are left out of the key). */
function once<A extends unknown[], R>(call: (...args: A) => Promise<R>, optionsAt: number): (...args: A) => Promise<R> {
  const calls = new Map<string, Promise<R>>();
  return (...args) => {
    // Dates become ISO strings; a missing argument and an undefined one are the same call.
    const key = JSON.stringify(Array.from({ length: optionsAt }, (_, i) => args[i] ?? null));
    let pending = calls.get(key);
    if (!pending) {
      pending = call(...args);
      calls.set(key, pending);
    }
    return pending;
  };
}

export type Attempt<T> = { ok: true; value: T } | { ok: false; failure: EnrichmentFailure };

/**
 * Runs one query, bounded by `timeoutMs` (passed to the client, plus a guard in case a client
 * ignores it), and turns any error into an EnrichmentFailure.
 */
export async function attempt<T>(backend: BackendId, what: FailureWhat, timeoutMs: number, run: (timeoutMs: number) => Promise<T>): Promise<Attempt<T>> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new QueryError('timeout', `${backendName(backend)} timed out after ${formatDuration(timeoutMs)}`, undefined, {
            kind: 'timed-out',
            backend: backendName(backend),
            ms: timeoutMs,
          }),
        ),
      timeoutMs + GUARD_GRACE_MS,
    );
  });
  try {
    return { ok: true, value: await Promise.race([run(timeoutMs), guard]) };
  } catch (err) {
    const words = err instanceof QueryError ? err.words : undefined;
    return { ok: false, failure: { backend, what, message: failureMessage(err), ...(words ? { words } : {}) } };
  } finally {
    clearTimeout(timer);
  }
}

function backendName(backend: BackendId): string {
  return backend === 'loki' ? 'Loki' : backend === 'grafana' ? 'Grafana' : 'Prometheus';
}

function failureMessage(err: unknown): string {
  if (err instanceof QueryError) return err.message;
  const text = err instanceof Error ? err.message : String(err);
  return `unexpected error: ${text.slice(0, 200)}`;
}

/**
 * Runs tasks at most `limit` at a time; the others wait their turn, first come first served. A task
 * that waited `maxWaitMs` for its turn is not run: it rejects with a QueryError('timeout'), as its
 * caller has given up on it by then (so no abandoned call ever reaches the backend).
 */
export function semaphore(limit: number, maxWaitMs = Infinity): <R>(task: () => Promise<R>) => Promise<R> {
  let active = 0;
  const waiting: Array<{ go: () => void }> = [];
  return async (task) => {
    if (active < limit) active++;
    else {
      // A finishing task hands its slot over directly (active stays the same).
      await new Promise<void>((resolve, reject) => {
        const waiter = { go: () => (clearTimeout(timer), resolve()) };
        const timer =
          maxWaitMs === Infinity
            ? undefined
            : setTimeout(() => {
                waiting.splice(waiting.indexOf(waiter), 1);
                reject(
                  new QueryError('timeout', `waited ${formatDuration(maxWaitMs)} for one of ${limit} query slots`, undefined, {
                    kind: 'queue-full',
                    ms: maxWaitMs,
                    slots: limit,
                  }),
                );
              }, maxWaitMs);
        waiting.push(waiter);
      });
    }
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next.go();
      else active--;
    }
  };
}

/** Methods a bounded client calls directly: a health check must not queue behind a burst of queries. */
const UNBOUNDED = new Set<PropertyKey>(['ready']);

/**
 * The client with every query method going through one semaphore of `limit` slots: whatever asks
 * (enrichment, storms, commands), at most `limit` calls are in flight to its backend at once; a
 * call that cannot start within `maxWaitMs` fails as a timeout without being made.
 */
export function boundedClient<T extends object>(client: T, limit: number, maxWaitMs = Infinity): T {
  return aroundQueries(client, semaphore(limit, maxWaitMs));
}

/** The client with each query method's calls run through `around` (`ready`, the health check, left as it is). */
function aroundQueries<T extends object>(client: T, around: (call: () => Promise<unknown>) => Promise<unknown>): T {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || UNBOUNDED.has(property)) return value;
      const method = value as (...args: unknown[]) => Promise<unknown>;
      return (...args: unknown[]) => around(() => method.apply(target, args));
    },
  });
}

/** Timeouts in a row after which a backend is taken for down and not asked any more (breakerClient). */
export const TIMEOUTS_TO_DOWN = 3;

/** How often a backend taken for down is asked again (one real call, the probe). */
export const DOWN_PROBE_MS = 30_000;

/** A timeout counts towards `down` when the call ran at least this share of the backend's own timeout (`timeoutMs`). */
const FULL_TIMEOUT_SHARE = 0.9;

/** What breakerClient reports as the backend goes down and comes back. */
export interface BreakerEvents {
  down(since: Date): void;
  up(downFor: number): void;
}

/**
 * The client with a breaker: after TIMEOUTS_TO_DOWN calls in a row timed out after the backend's
 * whole `timeoutMs` (a backend that accepts connections and never answers), calls fail at once with a QueryError('down', "Loki not
 * queried: not answering since 12:03 UTC") instead of each waiting out its timeout, so timeouts do
 * not add up; every DOWN_PROBE_MS one call goes through as a probe, and an answer (of any kind)
 * closes the breaker. `ready` (the health check) always goes through.
 */
export function breakerClient<T extends object>(client: T, opts: { name: string; now?: () => Date; events?: BreakerEvents; timeoutMs?: number }): T {
  const now = opts.now ?? (() => new Date());
  let timeouts = 0;
  let downSince: Date | undefined;
  let nextProbe = 0;
  let probing = false;
  const call = async (run: () => Promise<unknown>) => {
    const probe = downSince !== undefined;
    if (downSince) {
      if (probing || now().getTime() < nextProbe) {
        throw new QueryError('down', `${opts.name} not queried: not answering since ${downSince.toISOString().slice(11, 16)} UTC`, undefined, {
          kind: 'not-answering',
          backend: opts.name,
          since: downSince,
        });
      }
      probing = true;
    }
    const started = now().getTime();
    try {
      const value = await run();
      if (downSince) opts.events?.up(now().getTime() - downSince.getTime());
      timeouts = 0;
      downSince = undefined;
      return value;
    } catch (err) {
      // A caller's own shorter timeout (autocomplete, the tail of an enrichment) says nothing about the backend.
      const timedOut = err instanceof QueryError && err.kind === 'timeout' && now().getTime() - started >= FULL_TIMEOUT_SHARE * (opts.timeoutMs ?? 0);
      // Any answer, even an error, shows the backend is there: only silence counts.
      timeouts = timedOut ? timeouts + 1 : 0;
      if (!timedOut && downSince) {
        opts.events?.up(now().getTime() - downSince.getTime());
        downSince = undefined;
      }
      if (timeouts >= TIMEOUTS_TO_DOWN && !downSince) {
        downSince = now();
        opts.events?.down(downSince);
      }
      if (downSince) nextProbe = now().getTime() + DOWN_PROBE_MS;
      throw err;
    } finally {
      if (probe) probing = false;
    }
  };
  return aroundQueries(client, call);
}
