import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Route, RouteRequest, RouteResponse } from '../server.js';
import type { Database } from '../store/db.js';
import { insertNotification } from '../store/notifications.js';
import { checkWebhookAuth } from './auth.js';
import { parseWebhook, type WebhookRoute } from './intake.js';

/** What the webhook routes need. */
export interface WebhookRouteDeps {
  db: Database;
  config: Config['webhook'];
  logger: Logger;
  now: () => Date;
  /** Called after a new notification is stored, so the pipeline picks it up at once. */
  onStored: () => void;
}

/** Authenticates, parses and durably stores one webhook; 202 only after the commit. */
function handleWebhook(route: WebhookRoute, req: RouteRequest, deps: WebhookRouteDeps): RouteResponse {
  const now = deps.now();
  const auth = checkWebhookAuth({ headers: req.headers, rawBody: req.body, now }, deps.config);
  if (!auth.ok) {
    deps.logger.warn({ path: req.path, reason: auth.reason }, 'webhook refused');
    return { status: 401, body: { error: auth.reason }, headers: { 'www-authenticate': 'Bearer realm="vigil"' } };
  }
  const parsed = parseWebhook(route, req.headers['content-type'], req.body, now);
  if (!parsed.ok) {
    deps.logger.warn({ path: req.path, status: parsed.status, error: parsed.error }, 'webhook rejected');
    return { status: parsed.status, body: { error: parsed.error } };
  }
  const n = parsed.notification;
  const stored = insertNotification(deps.db, n, now);
  deps.logger.info(
    { notificationId: stored.id, source: n.source, status: n.status, alerts: n.alerts.length, duplicate: stored.duplicate, auth: auth.method },
    stored.duplicate ? 'webhook duplicate acknowledged' : 'webhook stored',
  );
  if (!stored.duplicate) deps.onStored();
  return { status: 202, body: { status: 'accepted', id: stored.id, duplicate: stored.duplicate, alerts: n.alerts.length } };
}

/** `POST /webhooks/grafana`, `POST /webhooks/alertmanager` and `POST /webhooks` (either, by version). */
export function webhookRoutes(deps: WebhookRouteDeps): Route[] {
  const make = (path: string, route: WebhookRoute): Route => ({
    method: 'POST',
    path,
    readBody: true,
    handle: (req) => handleWebhook(route, req, deps),
  });
  return [make('/webhooks/grafana', 'grafana'), make('/webhooks/alertmanager', 'alertmanager'), make('/webhooks', 'any')];
}
