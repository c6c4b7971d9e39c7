import type { Server } from 'node:http';
import type { Config } from './config/schema.js';
import { createDrainer } from './discord/drain.js';
import { createRest } from './discord/rest.js';
import { createLogger, type Logger } from './log.js';
import { createPipelineWorker } from './pipeline/index.js';
import { createLokiClient } from './queries/loki.js';
import { createPrometheusClient } from './queries/prometheus.js';
import { createHttpServer, listen, type Route } from './server.js';
import { openDatabase, type Database } from './store/db.js';
import { pendingNotificationCount } from './store/notifications.js';
import { pendingCount } from './store/outbox.js';
import { webhookRoutes } from './webhooks/routes.js';

/** A running Vigil: the HTTP server, the pipeline worker and the outbox drainer. */
export interface Vigil {
  port: number;
  db: Database;
  logger: Logger;
  stop(): Promise<void>;
}

/** Secrets from the config that must never reach a log line. */
export function configSecrets(config: Config): string[] {
  return [config.discord.token, config.webhook.token, config.webhook.hmacSecret, config.grafana?.token].filter(
    (s): s is string => typeof s === 'string' && s.length > 0,
  );
}

/** Wires everything together and starts serving. */
export async function startVigil(config: Config, opts: { logger?: Logger; now?: () => Date } = {}): Promise<Vigil> {
  const logger = opts.logger ?? createLogger({ level: config.log.level, secrets: configSecrets(config) });
  const now = opts.now ?? (() => new Date());
  if (!config.webhook.token && config.webhook.insecure) {
    logger.warn('webhook.insecure is set: webhooks are accepted without authentication');
  }

  const db = openDatabase(config.storage.path);
  const prometheus = createPrometheusClient({ url: config.prometheus.url, timeoutMs: config.enrichment.timeout });
  const loki = createLokiClient({ url: config.loki.url, timeoutMs: config.enrichment.timeout });
  const rest = createRest({ token: config.discord.token, apiBaseUrl: config.discord.apiBaseUrl });

  const drainer = createDrainer({
    db,
    rest,
    logger,
    now: () => now().getTime(),
    minBackoffMs: config.delivery.minBackoff,
    maxBackoffMs: config.delivery.maxBackoff,
    pollIntervalMs: config.delivery.pollInterval,
    secrets: configSecrets(config),
  });
  const worker = createPipelineWorker({
    db,
    prometheus,
    loki,
    config,
    logger,
    now,
    onDelivered: () => drainer.wake(),
  });

  const health: Route = {
    method: 'GET',
    path: '/healthz',
    handle: () => ({
      status: 200,
      body: { status: 'ok', pendingNotifications: pendingNotificationCount(db), pendingDeliveries: pendingCount(db) },
    }),
  };
  const server: Server = createHttpServer({
    routes: [health, ...webhookRoutes({ db, config: config.webhook, logger, now, onStored: () => worker.wake() })],
    bodyLimit: config.server.bodyLimit,
    logger,
  });
  const port = await listen(server, config.server.host, config.server.port);
  worker.start();
  drainer.start();
  logger.info(
    { host: config.server.host, port, pendingNotifications: pendingNotificationCount(db), pendingDeliveries: pendingCount(db) },
    'vigil serving',
  );

  let stopped = false;
  return {
    port,
    db,
    logger,
    async stop() {
      if (stopped) return;
      stopped = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await worker.stop();
      await drainer.stop();
      db.close();
      logger.info('vigil stopped');
    },
  };
}
