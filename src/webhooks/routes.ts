import type { RouteConfig } from '../config/routes.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Metrics, WebhookOutcome } from '../metrics.js';
import type { Notification, Clock } from '../model.js';
import type { Route, RouteRequest, RouteResponse } from '../server.js';
import type { Database } from '../store/db.js';
import { clearStorageFault, isStorageFault, noteStorageFault } from '../store/faults.js';
import { insertNotification, insertReminder } from '../store/notifications.js';
import { checkWebhookAuth } from './auth.js';
import { parseWebhook, type WebhookRoute } from './intake.js';
import { splitByRoute, toRoute } from './route.js';
import { stuckAlerts } from './sticky.js';
import { FailureThrottle } from './throttle.js';

/** What an intake hook keeps of a notification (nothing: undefined), and how many alerts it dropped for which reason. */
export interface Intercepted {
  keep?: Notification;
  dropped: number;
  reason?: string;
}

/** What the webhook routes need. */
export interface WebhookRouteDeps {
  db: Database;
  config: Config['webhook'];
  /** The configured routes: by matchers on /webhooks/<source>, by name on /webhooks/<source>/<name>. */
  routes?: readonly RouteConfig[];
  /** delivery.reminderMinGap: an unchanged resend at least this long after the last copy is a reminder. */
  reminderMinGapMs: number;
  logger: Logger;
  now: Clock;
  /** Called after a new notification is stored, so the pipeline picks it up at once. */
  onStored: () => void;
  /** Counts webhooks by source and outcome when given. */
  metrics?: Pick<Metrics, 'webhooksReceived'>;
  /** Takes alerts out before storage (the watchdog's heartbeats): what is left to store, and how many were dropped why. */
  intercept?: (n: Notification, receivedAt: Date) => Promise<Intercepted>;
}

/** Bad credentials from one address within AUTH_FAILURE_WINDOW_MS answered 401; past them, 429 until the window passes. */
export const AUTH_FAILURE_BURST = 20;
export const AUTH_FAILURE_WINDOW_MS = 60_000;

/** Seconds a sender is asked to wait (`Retry-After`) when the storage failed: a disk that filled up is rarely freed sooner. */
export const STORAGE_RETRY_AFTER_S = 30;

/**
 * Authenticates, parses and durably stores one webhook, split by the routes its alerts match (or
 * all of it to the route its URL names); 202 only after the commit, 503 with Retry-After when the
 * storage fails.
 */
async function handleWebhook(
  route: WebhookRoute,
  req: RouteRequest,
  deps: WebhookRouteDeps,
  throttle: FailureThrottle,
  named?: string,
): Promise<RouteResponse> {
  const now = deps.now();
  // Before the body is parsed, /webhooks (either source) does not know which sender it is.
  const routeSource = route === 'any' ? 'unknown' : route;
  const count = (source: string, outcome: WebhookOutcome) => deps.metrics?.webhooksReceived.inc({ source, outcome });
  const auth = checkWebhookAuth({ headers: req.headers, rawBody: req.body, now }, deps.config);
  if (!auth.ok) {
    count(routeSource, 'unauthorized');
    const slowed = throttle.fail(req.remoteAddress ?? 'unknown');
    if (slowed) {
      // Logged once per burst: a sender hammering bad credentials must not flood the log either.
      if (slowed.first)
        deps.logger.warn({ path: req.path, address: req.remoteAddress, burst: AUTH_FAILURE_BURST }, 'webhook credentials failing repeatedly: answering 429');
      return {
        status: 429,
        body: { error: `too many requests with bad credentials from this address; retry in ${slowed.retryAfterS} s` },
        headers: { 'retry-after': String(slowed.retryAfterS) },
      };
    }
    deps.logger.warn({ path: req.path, reason: auth.reason }, 'webhook refused');
    return { status: 401, body: { error: auth.reason }, headers: { 'www-authenticate': 'Bearer realm="vigil"' } };
  }
  const routes = deps.routes ?? [];
  const target = named === undefined ? undefined : routes.find((r) => r.name === named);
  if (named !== undefined && !target) {
    count(routeSource, 'invalid');
    const known = routes.map((r) => r.name);
    deps.logger.warn({ path: req.path }, 'webhook for an unknown route refused');
    return {
      status: 404,
      body: {
        error: `no route named "${named.slice(0, 64)}": ${known.length ? `known routes are ${known.join(', ')}` : 'the config lists no routes'}; nothing stored`,
        routes: known,
      },
    };
  }
  const parsed = parseWebhook(route, req.headers['content-type'], req.body, now);
  if (!parsed.ok) {
    count(routeSource, 'invalid');
    deps.logger.warn({ path: req.path, status: parsed.status, error: parsed.error }, 'webhook rejected');
    return { status: parsed.status, body: { error: parsed.error } };
  }
  // The dead man's switch takes its heartbeats out here: stored, one would be posted on every resend.
  const taken = await deps.intercept?.(parsed.notification, now);
  const dropped = taken?.dropped ? { dropped: { reason: taken.reason ?? 'intercepted', alerts: taken.dropped } } : {};
  if (taken && !taken.keep) {
    count(parsed.notification.source, 'accepted');
    deps.logger.info({ source: parsed.notification.source, ...dropped }, 'webhook accepted, nothing left to store');
    return { status: 202, body: { status: 'accepted', alerts: 0, ...dropped } };
  }
  const n = taken?.keep ?? parsed.notification;
  const parts = target ? [toRoute(n, target)] : splitByRoute(n, routes, await stuckAlerts(deps.db, n, routes));
  let results: Array<{ id: number; duplicate: boolean; reminder?: boolean }>;
  try {
    // One commit for all parts: a 503 leaves none of them stored, a 202 all.
    results = await deps.db.transaction(async () => {
      const stored: typeof results = [];
      for (const p of parts) {
        const one = await insertNotification(deps.db, p, now);
        // The sender's repeat of an unchanged group, hours later: a still-firing reminder, not a duplicate to drop.
        const reminder = one.duplicate ? await insertReminder(deps.db, one.id, p, now, deps.reminderMinGapMs) : undefined;
        stored.push(reminder === undefined ? one : { id: reminder, duplicate: false, reminder: true });
      }
      return stored;
    });
    clearStorageFault(deps.db);
  } catch (err) {
    count(n.source, 'error');
    if (!isStorageFault(err)) throw err;
    // Rolled back, so nothing is acknowledged: the sender keeps it and retries (Alertmanager and Grafana both do on 5xx).
    const fault = noteStorageFault(deps.db, err, now);
    deps.logger.error({ source: n.source, code: fault.code, since: fault.since.toISOString() }, 'webhook not stored: the storage failed');
    return {
      status: 503,
      body: { error: `not stored, storage failed (${fault.code}: ${fault.message}); retry later` },
      headers: { 'retry-after': String(STORAGE_RETRY_AFTER_S) },
    };
  }
  // A duplicate only when every part was stored before (a resend routed the same way).
  const duplicate = results.every((r) => r.duplicate);
  count(n.source, duplicate ? 'duplicate' : 'accepted');
  const routed = parts.some((p) => p.route !== undefined) ? { routes: parts.map((p) => p.route ?? null) } : {};
  const reminders = results.some((r) => r.reminder) ? { reminder: true } : {};
  deps.logger.info(
    { notificationId: results[0]!.id, source: n.source, status: n.status, alerts: n.alerts.length, duplicate, auth: auth.method, ...routed, ...reminders },
    duplicate ? 'webhook duplicate acknowledged' : reminders.reminder ? 'webhook stored as a reminder' : 'webhook stored',
  );
  if (!duplicate) deps.onStored();
  const ids = results.length > 1 ? { ids: results.map((r) => r.id) } : {};
  return { status: 202, body: { status: 'accepted', id: results[0]!.id, ...ids, duplicate, alerts: n.alerts.length, ...routed, ...reminders, ...dropped } };
}

/** `POST /webhooks/grafana`, `POST /webhooks/alertmanager` and `POST /webhooks` (either, by version). */
export function webhookRoutes(deps: WebhookRouteDeps): Route[] {
  const throttle = new FailureThrottle({ burst: AUTH_FAILURE_BURST, windowMs: AUTH_FAILURE_WINDOW_MS, maxAddresses: 10_000 }, () => deps.now().getTime());
  const make = (path: string, route: WebhookRoute): Route => ({
    method: 'POST',
    path,
    readBody: true,
    handle: (req) => handleWebhook(route, req, deps, throttle),
  });
  // /webhooks/<source>/<route name>: the whole notification to that route.
  const named = (source: 'grafana' | 'alertmanager'): Route => ({
    method: 'POST',
    path: `/webhooks/${source}/`,
    prefix: true,
    readBody: true,
    handle: (req) => handleWebhook(source, req, deps, throttle, decodeName(req.path.slice(`/webhooks/${source}/`.length))),
  });
  return [
    make('/webhooks/grafana', 'grafana'),
    make('/webhooks/alertmanager', 'alertmanager'),
    make('/webhooks', 'any'),
    named('grafana'),
    named('alertmanager'),
  ];
}

/** A route name from the URL: percent-decoded, a trailing slash dropped; a malformed escape stays as sent (no route has it). */
function decodeName(segment: string): string {
  const name = segment.replace(/\/$/, '');
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}
