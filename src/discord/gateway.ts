import { WebSocketManager, WebSocketShardEvents } from '@discordjs/ws';
import { GatewayDispatchEvents, GatewayIntentBits } from 'discord-api-types/v10';
import { scrubSecrets, type Logger } from '../log.js';
import { DiscordAPIError, type REST } from './djs.js';
import { SeenIds } from './replay.js';
import { restoreToken } from './rest.js';
import { parseInteraction } from './interaction-payload.js';
import { dispatchInteraction, interactionResponder, MAX_REMEMBERED_INTERACTIONS, restCallback, type InteractionRouter } from './interactions.js';

/** Settings of the gateway connection. */
interface GatewayOptions {
  token: string;
  /** The bot's REST client: GET /gateway/bot, interaction callbacks, edits and follow-ups. */
  rest: REST;
  router: InteractionRouter;
  logger: Logger;
  /** Waits between failed logins: doubling from min to max. */
  retryMinMs?: number;
  retryMaxMs?: number;
  backstopMs?: number;
}

/** A gateway connection that keeps trying in the background; the bot serves webhooks meanwhile. */
export interface Gateway {
  /** Starts connecting (returns at once; failures are logged and retried). */
  start(): void;
  /** Resolves once the session is ready (for tests and logs). */
  ready(): Promise<void>;
  /** Why the gateway is not connected now ("login failed: …"); undefined while it is. */
  notConnected(): string | undefined;
  /** Round trip of the last acknowledged heartbeat, in ms; undefined before the first. */
  latencyMs(): number | undefined;
  stop(): Promise<void>;
}

/** How long an interaction id is remembered against a second delivery: Discord drops an interaction not answered within 15 minutes. */
const INTERACTION_MEMORY_MS = 15 * 60_000;

/** Interactions need no privileged intent; Guilds is the least a bot identifies with. */
export const GATEWAY_INTENTS = GatewayIntentBits.Guilds;

/**
 * Close codes after which @discordjs/ws gives the session up instead of reconnecting (Discord's
 * gateway close codes), with what they mean. Vigil then logs in again with backoff.
 */
const FATAL_CLOSE_CODES = new Map([
  [4004, 'authentication failed: check discord.token'],
  [4010, 'invalid shard'],
  [4011, 'sharding required'],
  [4012, 'invalid API version'],
  [4013, 'invalid intents'],
  [4014, 'disallowed intents'],
]);

/** The longest wait between logins after a fatal close: at most about 150 IDENTIFYs a day. */
const FATAL_RETRY_MAX_MS = 10 * 60_000;

/** Why a login failed, in words an operator acts on. */
function loginError(err: unknown): string {
  if (err instanceof DiscordAPIError && err.status === 401) return 'Discord refused the bot token (401 Unauthorized): check discord.token';
  return err instanceof Error ? err.message : String(err);
}

/**
 * The gateway transport: @discordjs/ws's WebSocketManager (one shard, JSON, no cache of anything)
 * hands each INTERACTION_CREATE, validated as the HTTP endpoint validates its bodies, to the
 * router; answers go through REST. Login failures (Discord unreachable, bad token) are logged and
 * retried in the background, so the webhook side keeps working.
 */
export function createGateway(opts: GatewayOptions): Gateway {
  const { logger, rest } = opts;
  const manager = new WebSocketManager({ token: opts.token, intents: GATEWAY_INTENTS, rest });
  const secrets = [opts.token];
  const minMs = opts.retryMinMs ?? 1000;
  const maxMs = opts.retryMaxMs ?? 60_000;
  let stopped = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let markReady!: () => void;
  const readyPromise = new Promise<void>((resolve) => (markReady = resolve));
  let latency: number | undefined;
  let attempts = 0;
  const seen = new SeenIds(INTERACTION_MEMORY_MS, MAX_REMEMBERED_INTERACTIONS);
  /** A connect() is under way: its failure schedules the next try, not the close that caused it. */
  let connecting = false;
  /** Why the gateway last ended the session for good (a fatal close code). */
  let fatalClose: string | undefined;

  /** Why the last login failed, until one succeeds. */
  let loginFailure: string | undefined;
  /** Why the connection is down after it was up (@discordjs/ws reconnects by itself meanwhile). */
  let down: string | undefined = 'gateway not connected yet';

  const retryLater = (reason: string) => {
    if (stopped) return;
    // Every IDENTIFY counts against Discord's daily session starts (1,000): a refused session is asked again rarely.
    const ceiling = fatalClose ? Math.max(maxMs, FATAL_RETRY_MAX_MS) : maxMs;
    const wait = Math.min(ceiling, minMs * 2 ** attempts++);
    loginFailure = scrubSecrets(reason, secrets);
    logger.warn({ reason: loginFailure, retryInMs: wait }, 'gateway login failed; webhooks keep being served, retrying');
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => void login(), wait);
  };

  manager.on(WebSocketShardEvents.Ready, ({ data }) => {
    if (stopped) return void manager.destroy(); // a login that was under way when stop() came
    attempts = 0;
    loginFailure = undefined;
    down = undefined;
    logger.info({ user: data.user.username, applicationId: data.application.id }, 'gateway ready');
    markReady();
  });
  manager.on(WebSocketShardEvents.Resumed, () => (down = undefined));
  manager.on(WebSocketShardEvents.HeartbeatComplete, ({ latency: ms }) => (latency = ms));
  manager.on(WebSocketShardEvents.Error, ({ error }) => logger.warn({ err: scrubSecrets(error.message, secrets) }, 'gateway error'));
  manager.on(WebSocketShardEvents.Closed, ({ code }) => {
    if (stopped) return;
    down = `gateway disconnected (close code ${code})`;
    if (!FATAL_CLOSE_CODES.has(code)) return; // @discordjs/ws resumes or reconnects by itself
    fatalClose = `the gateway ended the session, ${FATAL_CLOSE_CODES.get(code)} (close code ${code})`;
    if (!connecting) void Promise.resolve(manager.destroy()).finally(() => retryLater(fatalClose!));
  });
  manager.on(WebSocketShardEvents.Dispatch, ({ data }) => {
    if (data.t !== GatewayDispatchEvents.InteractionCreate) return;
    const parsed = parseInteraction(data.d);
    if (!('interaction' in parsed)) {
      logger.debug({ reason: 'error' in parsed ? parsed.error : 'ping' }, 'interaction not handled');
      return;
    }
    const { interaction } = parsed;
    // Handled once even if a reconnect left two sessions open for a moment, or Discord replays a dispatch on resume.
    if (!seen.first(interaction.id)) {
      logger.warn({ interactionId: interaction.id }, 'interaction already handled: a second delivery ignored');
      return;
    }
    const responder = interactionResponder({
      rest,
      applicationId: interaction.applicationId,
      token: interaction.token,
      callback: restCallback(rest, interaction.id, interaction.token),
    });
    void dispatchInteraction(opts.router, interaction.incoming, responder, {
      logger: logger.child({ interactionId: interaction.id }),
      ...(opts.backstopMs !== undefined ? { backstopMs: opts.backstopMs } : {}),
    });
  });

  const login = async (): Promise<void> => {
    if (stopped) return;
    connecting = true;
    fatalClose = undefined;
    // @discordjs/rest forgets the token after any 401 (this client's or the drainer's): give it back before asking again.
    restoreToken(rest);
    try {
      await manager.connect();
    } catch (err) {
      await Promise.resolve(manager.destroy()).catch(() => undefined);
      retryLater(fatalClose ?? loginError(err));
    } finally {
      connecting = false;
    }
  };

  return {
    start() {
      void login();
    },
    ready: () => readyPromise,
    notConnected: () => (loginFailure ? `gateway login failed: ${loginFailure}` : down),
    latencyMs: () => latency,
    async stop() {
      stopped = true;
      down = 'gateway stopped';
      clearTimeout(retryTimer);
      await manager.destroy();
    },
  };
}
