import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBot, type BotProcess, type BotSettings } from '../test/e2e/bot.js';
import { DOUBLE_TOKEN, startDiscordDouble, type DiscordDouble } from '../test/support/discord-double.js';
import { startGatewayDouble } from '../test/support/gateway-double.js';
import { TEST_APPLICATION_ID } from '../test/support/interactions.js';
import { freePort } from '../test/support/ports.js';
import { defer } from './cleanup.js';

/** A benchmarked bot and what it talks to; `stop` ends both and removes its directory. */
export interface BenchBot {
  bot: BotProcess;
  discord: DiscordDouble;
  port: number;
  stop: () => Promise<void>;
}

/**
 * `vigil serve`, compiled (as the Docker image runs it) with the given NODE_OPTIONS, in a temp
 * directory, talking to a Discord double of its own (Discord's rate limits on unless turned off),
 * over HTTP interactions or, with `gateway`, connected to a gateway double.
 */
export async function startBenchBot(opts: {
  name: string;
  channelId: string;
  webhookToken: string;
  prometheusUrl: string;
  lokiUrl: string;
  runtimeEnv: Record<string, string>;
  settings?: Partial<BotSettings>;
  /** Discord's rate limits in the double (default on). */
  rateLimits?: boolean;
  /** Gateway mode against a gateway double; resolves once the session is ready. */
  gateway?: boolean;
}): Promise<BenchBot> {
  const dir = await mkdtemp(join(tmpdir(), `vigil-bench-${opts.name}-`));
  const cleanups: Array<() => Promise<void>> = [defer(() => rm(dir, { recursive: true, force: true }))];
  const stop = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const discord = await startDiscordDouble({ channels: [opts.channelId], ...(opts.rateLimits === false ? { rateLimits: false } : {}) });
    cleanups.push(defer(() => discord.stop()));
    const gateway = opts.gateway
      ? await startGatewayDouble({ token: DOUBLE_TOKEN, user: discord.botUser, applicationId: TEST_APPLICATION_ID, heartbeatIntervalMs: 41_250 })
      : undefined;
    if (gateway) {
      cleanups.push(defer(() => gateway.stop()));
      discord.setGatewayUrl(gateway.url);
    }
    const port = await freePort();
    const bot = await startBot(
      {
        dir,
        prometheusUrl: opts.prometheusUrl,
        lokiUrl: opts.lokiUrl,
        discordApiBaseUrl: discord.apiBaseUrl,
        discordToken: DOUBLE_TOKEN,
        webhookToken: opts.webhookToken,
        channelId: opts.channelId,
        runtimeEnv: opts.runtimeEnv,
        compiled: true,
        ...(gateway ? { discordMode: 'gateway' as const } : {}),
        ...opts.settings,
      },
      port,
    );
    cleanups.push(defer(() => bot.kill('SIGTERM')));
    await gateway?.whenReady();
    return { bot, discord, port, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
