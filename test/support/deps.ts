import type { CommandDeps } from '../../src/commands/types.js';
import { configSchema, type Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { createLokiClient } from '../../src/queries/loki.js';
import { createPrometheusClient } from '../../src/queries/prometheus.js';
import type { Database } from '../../src/store/db.js';
import { openDatabase } from '../../src/store/db.js';
import { TEST_APPLICATION_ID, TEST_CHANNEL_ID } from './interactions.js';

/** Bot token used in test configs; no real Discord ever sees it. */
export const TEST_DISCORD_TOKEN = 'discord-token-abcdefghijklmnop';

/** The smallest valid config file (literal secrets, no ${VAR}): append sections to try them through the loader. */
export const MINIMAL_CONFIG_YAML = `
webhook:    { token: a-webhook-token-0123456789 }
prometheus: { url: http://prometheus:9090 }
loki:       { url: http://loki:3100 }
discord:
  token: bot-token-abcdefghijklmnop
  applicationId: "123456789012345678"
  alertChannelId: "223456789012345678"
`;

/** A valid config for tests: closed loopback ports for the backends unless `sections` says otherwise. */
export function testConfig(sections: Record<string, unknown> = {}): Config {
  return configSchema.parse({
    webhook: { insecure: true },
    prometheus: { url: 'http://127.0.0.1:9' },
    loki: { url: 'http://127.0.0.1:9' },
    discord: { token: TEST_DISCORD_TOKEN, applicationId: TEST_APPLICATION_ID, alertChannelId: TEST_CHANNEL_ID },
    ...sections,
  });
}

/** What command handlers get: real clients for the config's backends, an in-memory store unless given, a silent logger. */
export function testCommandDeps(config: Config, opts: { db?: Database; timeoutMs?: number; now?: () => Date } = {}): CommandDeps {
  const timeoutMs = opts.timeoutMs ?? config.enrichment.timeout;
  return {
    config,
    prometheus: createPrometheusClient({ url: config.prometheus.url, timeoutMs }),
    loki: createLokiClient({ url: config.loki.url, timeoutMs }),
    db: opts.db ?? openDatabase(':memory:'),
    logger: createLogger({ level: 'silent' }, { write: () => undefined }),
    now: opts.now ?? (() => new Date()),
  };
}
