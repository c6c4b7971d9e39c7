import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { z } from 'zod';
import { loadConfig } from '../../src/config/load.js';
import type { Config, configSchema } from '../../src/config/schema.js';
import { DOUBLE_TOKEN } from './discord-double.js';
import { TEST_APPLICATION_ID, TEST_CHANNEL_ID } from './interactions.js';

/** Config sections as written in YAML (durations as text like "50ms"), any key left out. */
export type ConfigSections = DeepPartial<z.input<typeof configSchema>>;

type DeepPartial<T> = T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** What an in-process test bot is configured with; the rest stays at the loader's defaults. */
export interface BotConfigOptions {
  /** Temp dir: holds the store (vigil.db) and the written config (vigil.yaml). */
  dir: string;
  /** The Discord double's REST base URL. */
  discordApiBaseUrl: string;
  /** discord.alertChannelId; default TEST_CHANNEL_ID. */
  channelId?: string;
  /** discord.applicationId; default TEST_APPLICATION_ID. */
  applicationId?: string;
  /** Default CLOSED_URL. */
  prometheusUrl?: string;
  /** Default CLOSED_URL. */
  lokiUrl?: string;
  /** server.port; default 0 (the kernel picks one, read it from `vigil.port`). */
  port?: number;
  /** Interactions transport; default http, which needs no gateway double. */
  mode?: 'http' | 'gateway';
  /** The application public key (hex) interactions are verified with; default DUMMY_PUBLIC_KEY in http mode, none in gateway mode. */
  publicKeyHex?: string;
  /** Default BOT_WEBHOOK_TOKEN. */
  webhookToken?: string;
  /** Default the Discord double's token. */
  discordToken?: string;
  /** Further settings, deep-merged over the ones above (e.g. `{ server: { bodyLimit: 4096 }, log: { level: 'debug' } }`). */
  sections?: ConfigSections;
}

/** A written config file and the environment its `${VAR}` secret references resolve with. */
export interface BotConfigFile {
  path: string;
  env: Record<string, string>;
}

/** A loopback URL nobody listens on (the discard port): queries to it fail fast with ECONNREFUSED. */
export const CLOSED_URL = 'http://127.0.0.1:9';

/** A well-formed public key no interaction is ever signed with: http mode without interaction tests. */
export const DUMMY_PUBLIC_KEY = `${'0'.repeat(63)}1`;

/** Webhook token of a test bot whose test does not choose one. */
export const BOT_WEBHOOK_TOKEN = 'bot-config-test-webhook-token-0123456789';

/** Outbox retries and idle polling in tens of milliseconds, so a delivery or a retry shows within a test. */
export const FAST_DELIVERY = { minBackoff: '50ms', maxBackoff: '1s', pollInterval: '50ms' } as const;

/** Writes the bot's config to `dir/vigil.yaml`; the tokens stay `${VAR}` references that `env` resolves. */
export function writeBotConfig(opts: BotConfigOptions): BotConfigFile {
  const document = deepMerge(baseSections(opts), opts.sections ?? {});
  const path = join(opts.dir, 'vigil.yaml');
  writeFileSync(path, stringify(document));
  return {
    path,
    env: { T_WEBHOOK_TOKEN: opts.webhookToken ?? BOT_WEBHOOK_TOKEN, T_DISCORD_TOKEN: opts.discordToken ?? DOUBLE_TOKEN },
  };
}

/** Reads a written config back through the real loader; throws with every error it names. */
export function readBotConfig(file: BotConfigFile): Config {
  const loaded = loadConfig(file.path, file.env);
  if (!loaded.ok) throw new Error(`test config is invalid:\n${loaded.errors.join('\n')}`);
  return loaded.config;
}

/** An in-process bot's config, written to `dir/vigil.yaml` and validated by the real loader. */
export function botConfig(opts: BotConfigOptions): Config {
  return readBotConfig(writeBotConfig(opts));
}

/** The sections every test bot has: loopback server, token-protected webhooks, the Discord double, a store in `dir`. */
function baseSections(opts: BotConfigOptions): Record<string, unknown> {
  const mode = opts.mode ?? 'http';
  const publicKey = opts.publicKeyHex ?? (mode === 'http' ? DUMMY_PUBLIC_KEY : undefined);
  return {
    server: { host: '127.0.0.1', port: opts.port ?? 0 },
    webhook: { token: '${T_WEBHOOK_TOKEN}' },
    prometheus: { url: opts.prometheusUrl ?? CLOSED_URL },
    loki: { url: opts.lokiUrl ?? CLOSED_URL },
    discord: {
      token: '${T_DISCORD_TOKEN}',
      applicationId: opts.applicationId ?? TEST_APPLICATION_ID,
      alertChannelId: opts.channelId ?? TEST_CHANNEL_ID,
      apiBaseUrl: opts.discordApiBaseUrl,
      mode,
      ...(publicKey === undefined ? {} : { publicKey }),
    },
    storage: { path: join(opts.dir, 'vigil.db') },
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `over` merged into `base` key by key, recursing into objects; an undefined value leaves the base's. */
export function deepMerge<T extends object>(base: T, over: object): T {
  const out = { ...base } as Record<string, unknown>;
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out as T;
}
