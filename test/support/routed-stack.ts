import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/log.js';
import { configSecrets, startVigil, type Vigil } from '../../src/main.js';
import { botConfig, FAST_DELIVERY, type ConfigSections } from './bot-config.js';
import { startDiscordDouble, type DiscordDouble } from './discord-double.js';
import { startAlertmanager, type AlertmanagerHandle, type AlertmanagerOptions } from './procs.js';

/** An in-process Vigil with routes, its Discord double and a real Alertmanager sending to it. */
export interface RoutedStack {
  discord: DiscordDouble;
  vigil: Vigil;
  alertmanager: AlertmanagerHandle;
  /** Vigil's log lines. */
  logs: string[];
  stop(): Promise<void>;
}

/**
 * Starts the Discord double (knowing `channels`, the first the alert channel), Vigil with `routes`
 * (no storms, no charts, fast retries) and a real Alertmanager posting to /webhooks/alertmanager;
 * `alertmanager(base)` adds its options, given that URL (for routes by URL).
 */
export async function startRoutedStack(opts: {
  channels: [string, ...string[]];
  webhookToken: string;
  routes: NonNullable<ConfigSections['routes']>;
  delivery?: ConfigSections['delivery'];
  alertmanager?: (base: string) => Partial<AlertmanagerOptions>;
}): Promise<RoutedStack> {
  const discord = await startDiscordDouble({ channels: opts.channels });
  const dir = mkdtempSync(join(tmpdir(), 'vigil-routed-'));
  const config = botConfig({
    dir,
    discordApiBaseUrl: discord.apiBaseUrl,
    channelId: opts.channels[0],
    webhookToken: opts.webhookToken,
    sections: {
      delivery: { ...FAST_DELIVERY, storm: { enabled: false }, ...opts.delivery },
      charts: { enabled: false },
      enrichment: { timeout: '1s' },
      routes: opts.routes,
    },
  });
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', secrets: configSecrets(config) }, { write: (s: string) => void logs.push(s) });
  const vigil = await startVigil(config, { logger });
  const base = `http://127.0.0.1:${vigil.port}/webhooks/alertmanager`;
  const alertmanager = await startAlertmanager({ webhookUrl: base, bearerToken: opts.webhookToken, ...opts.alertmanager?.(base) });
  return {
    discord,
    vigil,
    alertmanager,
    logs,
    async stop() {
      await alertmanager.stop();
      await vigil.stop();
      await discord.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
