import type { Config } from './schema.js';

function storagePasswords(url: string | undefined): string[] {
  if (!url) return [];
  try {
    // As written in the URL and as sent to the server: an error may quote either.
    const password = new URL(url).password;
    return password ? [password, decodeURIComponent(password)] : [];
  } catch {
    return [];
  }
}

/** Secrets from the config that must never reach a log line or a Discord message. */
export function configSecrets(config: Config): string[] {
  return [
    config.discord.token,
    config.webhook.token,
    config.webhook.hmacSecret,
    config.grafana?.token,
    config.grafana?.password,
    // The whole URL and its password alone: an error may quote either.
    config.storage.url,
    ...storagePasswords(config.storage.url),
  ].filter((s): s is string => typeof s === 'string' && s.length > 0);
}
