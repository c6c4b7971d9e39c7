import type { Config } from './schema.js';

/** Secrets from the config that must never reach a log line or a Discord message. */
export function configSecrets(config: Config): string[] {
  return [config.discord.token, config.webhook.token, config.webhook.hmacSecret, config.grafana?.token, config.grafana?.password].filter(
    (s): s is string => typeof s === 'string' && s.length > 0,
  );
}
