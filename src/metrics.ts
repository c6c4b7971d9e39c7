import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DELIVERY_ERROR_REASONS, type Clock } from './model.js';
import type { Route } from './server.js';
import type { Database } from './store/db.js';
import { oldestPendingCreatedAt, pendingCount, probeEnqueue } from './store/outbox.js';

const WEBHOOK_OUTCOMES = ['accepted', 'duplicate', 'unauthorized', 'invalid', 'error'] as const;
/** How a webhook request ended (`vigil_webhooks_received_total{outcome}`). */
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];
/** How a slash command or button press ended (`vigil_commands_total{outcome}`). */
export type CommandOutcome = 'answered' | 'option_error' | 'failed' | 'refused' | 'unknown';

/** Webhook sources as counted: the route's source, or `unknown` on /webhooks before the body says which. */
export const WEBHOOK_SOURCES = ['grafana', 'alertmanager', 'unknown'] as const;
/** Seconds; enrichment.timeout defaults to 5 s and is capped at 120 s. */
const QUERY_DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120];

/** Vigil's own metrics, on a registry of their own (never prom-client's global one). */
export interface Metrics {
  readonly registry: Registry;
  /** Webhook requests by source and outcome. */
  readonly webhooksReceived: Counter<'source' | 'outcome'>;
  /** Outbox delivery attempts by outcome (sent, retry, failed) and reason. */
  readonly deliveries: Counter<'outcome' | 'reason'>;
  /** Enrichment queries' wall time by backend (prometheus, loki). */
  readonly enrichmentQueryDuration: Histogram<'backend'>;
  /** Slash commands and button presses by name and outcome. */
  readonly commands: Counter<'command' | 'outcome'>;
  /** 429 answers from Discord's REST API. */
  readonly discordRateLimits: Counter;
  /** 1 when the watchdog last found a component up, 0 when down. */
  readonly watchdogComponentUp: Gauge<'component'>;
  /** Scheduled job runs by job and outcome. */
  readonly scheduledJobRuns: Counter<'job' | 'outcome'>;
}

/** What createMetrics reads at scrape time. */
export interface MetricsOptions {
  /** The store whose outbox depth and oldest age are reported; without it those two gauges are absent. */
  db?: Database;
  now?: Clock;
  /** prom-client's Node runtime metrics (default true). */
  defaultMetrics?: boolean;
}

/** Creates a registry with Vigil's metrics (label sets known in advance start at 0) and Node's runtime metrics. */
export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const metrics: Metrics = {
    registry,
    webhooksReceived: new Counter({
      name: 'vigil_webhooks_received_total',
      help: 'Webhook requests by source (grafana, alertmanager, unknown) and outcome (accepted, duplicate, unauthorized, invalid, error).',
      labelNames: ['source', 'outcome'],
      registers,
    }),
    deliveries: new Counter({
      name: 'vigil_deliveries_total',
      help: 'Outbox delivery attempts by outcome (sent, retry, failed) and reason (ok, reposted, or the failure class).',
      labelNames: ['outcome', 'reason'],
      registers,
    }),
    enrichmentQueryDuration: new Histogram({
      name: 'vigil_enrichment_query_duration_seconds',
      help: 'Wall time of enrichment queries by backend (prometheus, loki), failed and timed-out ones included.',
      labelNames: ['backend'],
      buckets: QUERY_DURATION_BUCKETS,
      registers,
    }),
    commands: new Counter({
      name: 'vigil_commands_total',
      help: 'Slash commands and button presses (command="button:<action>") by outcome (answered, option_error, failed, refused, unknown).',
      labelNames: ['command', 'outcome'],
      registers,
    }),
    discordRateLimits: new Counter({
      name: 'vigil_discord_rate_limits_total',
      help: '429 (rate limited) answers from the Discord REST API.',
      registers,
    }),
    watchdogComponentUp: new Gauge({
      name: 'vigil_watchdog_component_up',
      help: 'Whether the watchdog last found a monitoring component up (1) or down (0).',
      labelNames: ['component'],
      registers,
    }),
    scheduledJobRuns: new Counter({
      name: 'vigil_scheduled_job_runs_total',
      help: 'Scheduled job runs by job and outcome.',
      labelNames: ['job', 'outcome'],
      registers,
    }),
  };
  presetZeros(metrics);
  if (opts.db) registerOutboxGauges(registry, opts.db, opts.now ?? (() => new Date()));
  return metrics;
}

/** Known label sets start at 0, so rate() and increase() see the first event rather than a new series. */
function presetZeros(m: Metrics): void {
  for (const source of WEBHOOK_SOURCES) for (const outcome of WEBHOOK_OUTCOMES) m.webhooksReceived.inc({ source, outcome }, 0);
  m.deliveries.inc({ outcome: 'sent', reason: 'ok' }, 0);
  m.deliveries.inc({ outcome: 'sent', reason: 'reposted' }, 0);
  for (const reason of DELIVERY_ERROR_REASONS) {
    m.deliveries.inc({ outcome: 'retry', reason }, 0);
    m.deliveries.inc({ outcome: 'failed', reason }, 0);
  }
}

/** Outbox depth and oldest age, read from the store on every scrape; NaN when the store cannot be read. */
function registerOutboxGauges(registry: Registry, db: Database, now: Clock): void {
  new Gauge({
    name: 'vigil_outbox_depth',
    help: 'Outbox items waiting for delivery (due or backing off).',
    registers: [registry],
    async collect() {
      this.set(await readStore(db, () => pendingCount(db)));
    },
  });
  new Gauge({
    name: 'vigil_outbox_oldest_age_seconds',
    help: 'Age of the oldest outbox item waiting for delivery; 0 when none waits.',
    registers: [registry],
    async collect() {
      this.set(await readStore(db, () => outboxOldestAgeSeconds(db, now().getTime())));
    },
  });
}

/** Seconds since the oldest pending outbox item was enqueued; 0 when none is pending. */
export async function outboxOldestAgeSeconds(db: Database, nowMs: number): Promise<number> {
  const oldest = await oldestPendingCreatedAt(db);
  return oldest === undefined ? 0 : Math.max(0, (nowMs - oldest) / 1000);
}

/** A store reading for a gauge; a closed or broken store must not fail the whole scrape. */
async function readStore(db: Database, read: () => Promise<number>): Promise<number> {
  if (db.closed) return Number.NaN;
  try {
    return await read();
  } catch {
    return Number.NaN;
  }
}

/** `GET /metrics`: the registry in Prometheus' text format. */
export function metricsRoute(metrics: Pick<Metrics, 'registry'>): Route {
  return {
    method: 'GET',
    path: '/metrics',
    handle: async () => ({
      status: 200,
      body: await metrics.registry.metrics(),
      headers: { 'content-type': metrics.registry.contentType },
    }),
  };
}

/** Whether the store takes writes, and SQLite's own words when it does not. */
export type StoreCheck = { ok: true } | { ok: false; reason: string };

/** How long the readiness probe waits for the write lock before calling the store not writable. */
export const READY_LOCK_WAIT_MS = 250;

/**
 * Proves the store takes writes: an outbox item is enqueued under the write lock in a transaction
 * that is always rolled back. Catches a closed connection, a read-only database and a lock held
 * elsewhere (waiting at most `lockWaitMs`, not the store's usual busy timeout).
 */
export async function checkStoreWritable(db: Database, lockWaitMs = READY_LOCK_WAIT_MS): Promise<StoreCheck> {
  if (db.closed) return { ok: false, reason: 'store not writable: the database connection is closed' };
  try {
    await probeEnqueue(db, Math.max(0, Math.round(lockWaitMs)));
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `store not writable: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** What the outbox holds back because Discord refuses something (the drainer's `holds()`). */
interface HeldDeliveries {
  token: boolean;
  channels: ReadonlyArray<{ channelId: string; message: string }>;
}

/** Why deliveries are held, in one line; undefined when none is. */
function heldReason(h: HeldDeliveries): string | undefined {
  if (h.token) return 'deliveries held: Discord rejects the bot token (discord.token)';
  if (h.channels.length) return `deliveries held: Discord refuses ${h.channels.map((c) => `channel ${c.channelId} (${c.message})`).join(', ')}`;
  return undefined;
}

/**
 * `GET /readyz`: 200 when the store takes writes and Discord takes what Vigil sends; 503 with
 * `{ status, reason }` while the store cannot commit, deliveries are held (a rejected token, a
 * channel the bot may not use) or the gateway is not connected. Discord merely unreachable is not
 * a reason: the outbox accepts and holds every message meanwhile.
 */
export function readinessRoute(deps: {
  db: Database;
  now?: Clock;
  lockWaitMs?: number;
  /** The drainer's holds. */
  holds?: () => Promise<HeldDeliveries>;
  /** Why the gateway is not connected (gateway mode), undefined while it is. */
  gateway?: () => string | undefined;
}): Route {
  const now = deps.now ?? (() => new Date());
  return {
    method: 'GET',
    path: '/readyz',
    handle: async () => {
      const store = await checkStoreWritable(deps.db, deps.lockWaitMs);
      if (!store.ok) return { status: 503, body: { status: 'not ready', reason: store.reason } };
      const held = deps.holds ? heldReason(await deps.holds()) : undefined;
      const gateway = deps.gateway?.();
      const reason = held ?? gateway;
      if (reason) return { status: 503, body: { status: 'not ready', reason } };
      return {
        status: 200,
        body: {
          status: 'ready',
          store: 'writable',
          outbox: { pending: await pendingCount(deps.db), oldestAgeSeconds: await outboxOldestAgeSeconds(deps.db, now().getTime()) },
        },
      };
    },
  };
}
