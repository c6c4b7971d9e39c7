import type { Server } from 'node:http';
import { BUTTONS, COMMANDS } from './commands/index.js';
import { createRouter } from './commands/router.js';
import type { ButtonHandler, Command } from './commands/types.js';
import type { Config } from './config/schema.js';
import { configSecrets } from './config/secrets.js';
import { RateBudget } from './discord/budget.js';
import { createDrainer } from './discord/drain.js';
import type { Gateway } from './discord/gateway.js';
import { interactionsRoute } from './discord/interactions.js';
import { createRest, probeDiscord, type DiscordRest } from './discord/rest.js';
import { createVerifier } from './discord/verify.js';
import { createLogger, type Logger } from './log.js';
import { createMetrics, metricsRoute, readinessRoute, type Metrics } from './metrics.js';
import { createPipelineWorker } from './pipeline/worker.js';
import { createPreviewRest } from './discord/preview.js';
import { previewRoutes } from './preview/routes.js';
import { ChartWorkers } from './render/chart-workers.js';
import type { ChartRenderer } from './render/chart.js';
import { backendClients } from './queries/clients.js';
import { scheduledJobs } from './schedule/index.js';
import { createScheduler, type Scheduler } from './schedule/scheduler.js';
import { createHttpServer, listen, type Route } from './server.js';
import { openStorage, type Database } from './store/db.js';
import { storageFault } from './store/faults.js';
import { pendingNotificationCount } from './store/notifications.js';
import { pendingCount } from './store/outbox.js';
import { createWatchdog, type Watchdog } from './watchdog/index.js';
import { webhookRoutes } from './webhooks/routes.js';
import type { Clock } from './model.js';
import { createLeaderElection, newReplicaId, type LeaderElection } from './cluster/leader.js';

/** A running Vigil: the HTTP server, the pipeline worker, the outbox drainer and the interaction transport. */
export interface Vigil {
  port: number;
  db: Database;
  logger: Logger;
  /** The gateway connection (discord.mode gateway), connecting in the background. */
  gateway?: Gateway;
  /** This instance's metrics registry (served on GET /metrics). */
  metrics: Metrics;
  /** The stack watchdog (watchdog.enabled); `check()` runs a round at once. */
  watchdog?: Watchdog;
  /** The scheduled jobs (digest, snapshots); `runNow(name)` runs one at once. */
  scheduler: Scheduler;
  /** The leader election (storage.url: several replicas); absent on SQLite, where this process does everything. */
  cluster?: LeaderElection;
  stop(): Promise<void>;
}

/** Options of startVigil; the command lists default to the static COMMANDS and BUTTONS. */
export interface StartOptions {
  logger?: Logger;
  now?: Clock;
  commands?: readonly Command[];
  buttons?: readonly ButtonHandler[];
  /**
   * What a leader does once it may have lost its lease (another replica may lead now): by default
   * it stops and exits with status 1, for its supervisor to restart it as a follower, as
   * Kubernetes' own controllers do.
   */
  onDeposed?: (why: string) => void;
}

export { configSecrets } from './config/secrets.js';

/** Wires everything together and starts serving. */
export async function startVigil(config: Config, opts: StartOptions = {}): Promise<Vigil> {
  const secrets = configSecrets(config);
  const logger = opts.logger ?? createLogger({ level: config.log.level, secrets });
  const now = opts.now ?? (() => new Date());
  if (!config.webhook.token && config.webhook.insecure) {
    logger.warn(`webhook.insecure is set: webhooks${config.discord.mode === 'preview' ? ' and the preview page' : ''} are accepted without authentication`);
  }

  const db = await openStorage(config.storage);
  // This process among the replicas sharing storage.url: the leader lease's and the outbox claims' holder.
  const replicaId = newReplicaId();
  const metrics = createMetrics({ db, now: now });
  // Everything that queries a backend (alerts, storms, commands) shares one client per backend: bounded, with a breaker.
  const { prometheus, loki, rules } = backendClients(config, { logger, now });
  const preview = config.discord.mode === 'preview';
  // Preview mode: what would go to Discord is applied to a local copy, shown at GET /preview.
  // Discord's rate limits run on Discord's clock: real time, whatever clock the bot is given.
  const budget = new RateBudget();
  const rest = createRest({ token: config.discord.token, apiBaseUrl: config.discord.apiBaseUrl, timeoutMs: config.delivery.timeout, metrics, budget });
  const delivery: DiscordRest = preview ? createPreviewRest({ db, now: now }) : rest;

  const drainer = createDrainer({
    db,
    rest: delivery,
    logger,
    now: now,
    minBackoffMs: config.delivery.minBackoff,
    maxBackoffMs: config.delivery.maxBackoff,
    pollIntervalMs: config.delivery.pollInterval,
    secrets,
    metrics,
    // Whether Discord answers at all, asked when a delivery got no answer (GET /gateway/bot: cheap, never refused for the channel).
    ...(preview ? {} : { budget, probe: () => probeDiscord(rest) }),
    // Replicas: an item is claimed before each attempt, for as long as the leader's lease lasts.
    ...(config.storage.url ? { claims: { holder: replicaId, ttlMs: config.cluster.leaseTtl } } : {}),
  });
  // This bot's own chart thread: stop() terminates it, whatever other bots in the process do.
  const charts = new ChartWorkers();
  const chartRenderer: ChartRenderer = (spec, size, signal) => charts.render(spec, size, signal);
  const worker = createPipelineWorker({
    db,
    prometheus,
    loki,
    config,
    logger,
    now,
    metrics,
    chartRenderer,
    // The chart thread starts with the first alert that may be charted, loading while its queries run, and ends when idle.
    warmCharts: () => charts.warm(),
    ...(rules ? { rules } : {}),
    onDelivered: () => drainer.wake(),
  });

  const scheduler = createScheduler({
    jobs: scheduledJobs(config, { db, logger, now, onEnqueued: () => drainer.wake() }),
    db,
    logger,
    now,
    metrics,
  });

  const watchdog = config.watchdog.enabled ? createWatchdog({ db, config, logger, now, metrics, onStored: () => worker.wake() }) : undefined;

  const health: Route = {
    method: 'GET',
    path: '/healthz',
    handle: async () => {
      const counts = { pendingNotifications: await pendingNotificationCount(db), pendingDeliveries: await pendingCount(db) };
      const about = { storage: db.dialect, ...counts, ...(cluster ? { cluster: await cluster.status() } : {}) };
      const fault = storageFault(db);
      // Still 200: the process is alive, and restarting it would not free the disk.
      if (!fault) return { status: 200, body: { status: 'ok', ...about } };
      const reason = `storage failed since ${fault.since.toISOString()} (${fault.code}: ${fault.message}); webhooks are answered 503 with Retry-After until a write succeeds`;
      return { status: 200, body: { status: 'degraded', reason, ...about } };
    },
  };
  const router = createRouter(opts.commands ?? COMMANDS, opts.buttons ?? BUTTONS, { config, prometheus, loki, db, logger, now, metrics, chartRenderer });
  const interactionRoutes: Route[] =
    config.discord.mode === 'http' && config.discord.publicKey
      ? [interactionsRoute({ verify: createVerifier(config.discord.publicKey, now), router, rest, logger, now })]
      : [];
  // Gateway mode: connects in the background once started; an unreachable Discord never stops webhook intake.
  // @discordjs/ws (and ws) is loaded only in gateway mode.
  const gateway =
    config.discord.mode === 'gateway' ? (await import('./discord/gateway.js')).createGateway({ token: config.discord.token, rest, router, logger }) : undefined;
  const server: Server = createHttpServer({
    routes: [
      health,
      readinessRoute({
        db,
        now: now,
        holds: () => drainer.holds(),
        // Only the leader holds the gateway session: a follower is ready without one.
        ...(gateway ? { gateway: () => (cluster && !cluster.isLeader() ? undefined : gateway.notConnected()) } : {}),
      }),
      metricsRoute(metrics),
      ...webhookRoutes({
        db,
        config: config.webhook,
        routes: config.routes,
        reminderMinGapMs: config.delivery.reminderMinGap,
        logger,
        now,
        onStored: () => worker.wake(),
        metrics,
        ...(watchdog?.intercept ? { intercept: watchdog.intercept } : {}),
      }),
      ...interactionRoutes,
      ...(preview ? previewRoutes({ db, config, now }) : []),
    ],
    bodyLimit: config.server.bodyLimit,
    logger,
  });
  const port = await listen(server, config.server.host, config.server.port);
  // Everything that must run once across replicas; every replica takes webhooks and interactions.
  let leading = false;
  const lead = async () => {
    leading = true;
    worker.start();
    watchdog?.start();
    drainer.start();
    await scheduler.start();
    gateway?.start();
  };
  // Deliveries first: what must not happen twice stops before anything else.
  const stopLeading = async () => {
    if (!leading) return;
    leading = false;
    await drainer.stop();
    await worker.stop();
    await scheduler.stop();
    await watchdog?.stop();
    await gateway?.stop();
  };
  // Filled once serving: a deposed leader stops through it.
  const running: { vigil?: Vigil } = {};
  const cluster: LeaderElection | undefined = config.storage.url
    ? createLeaderElection({
        db,
        logger,
        now,
        ttlMs: config.cluster.leaseTtl,
        replicaId,
        onElected: lead,
        onDeposed: (why) => {
          // The election stopped with it: this process does not lead again (its scheduler and gateway are spent).
          if (opts.onDeposed) {
            void stopLeading().finally(() => opts.onDeposed?.(why));
            return;
          }
          logger.fatal({ why }, 'exiting: a leader that may have lost its lease must not deliver; restarted, it follows');
          const stopped = stopLeading().then(() => running.vigil?.stop());
          void Promise.race([stopped, new Promise((r) => setTimeout(r, 5000).unref())]).finally(() => process.exit(1));
        },
      })
    : undefined;
  if (cluster) cluster.start();
  else await lead();
  if (preview) {
    const host = config.server.host === '0.0.0.0' || config.server.host === '::' ? '127.0.0.1' : config.server.host;
    logger.info(
      { preview: `http://${host.includes(':') ? `[${host}]` : host}:${port}/preview` },
      `preview mode: nothing goes to Discord; open the preview page${config.webhook.token ? ' (any user name, the webhook token as password)' : ''} and send an alert (npx vigil test-alert)`,
    );
  }
  logger.info(
    {
      host: config.server.host,
      port,
      interactions: config.discord.mode,
      commands: (opts.commands ?? COMMANDS).length,
      pendingNotifications: await pendingNotificationCount(db),
      pendingDeliveries: await pendingCount(db),
      storage: db.dialect,
      ...(cluster ? { replica: cluster.replicaId, leaseTtlMs: config.cluster.leaseTtl } : {}),
    },
    'vigil serving',
  );

  let stopped = false;
  const vigil: Vigil = {
    port,
    db,
    logger,
    metrics,
    ...(gateway ? { gateway } : {}),
    ...(watchdog ? { watchdog } : {}),
    scheduler,
    ...(cluster ? { cluster } : {}),
    async stop() {
      if (stopped) return;
      stopped = true;
      // No election while stopping: a follower must not start leading what is being stopped.
      await cluster?.stopTrying();
      await gateway?.stop();
      await watchdog?.stop();
      await scheduler.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await worker.stop();
      await charts.close();
      await drainer.stop();
      // Given up last, once nothing of this replica delivers any more: another takes over at once.
      await cluster?.stop();
      await db.close();
      logger.info('vigil stopped');
    },
  };
  running.vigil = vigil;
  return vigil;
}
