import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBot } from '../test/e2e/bot.js';
import { DOUBLE_TOKEN, startDiscordDouble } from '../test/support/discord-double.js';
import { freePort } from '../test/support/ports.js';
import { benchAlertmanagerBody, benchAlertName } from './alerts.js';
import { defer } from './cleanup.js';
import { summarize, type Summary } from './stats.js';

/** One alert at a time, outside a storm: how many, and how far apart (6 in 10 s would start a storm). */
export const SINGLE = { alerts: 20, spacingMs: 2500, deadlineMs: 30_000 } as const;

const CHANNEL = '723456789012345678';
const WEBHOOK_TOKEN = 'bench-single-webhook-token-0123456789';
const PREFIX = 'BenchSingle';

/** What one alert at a time measured. */
export interface SingleAlertResult {
  /** Webhook sent -> its message stored by the Discord double, ms. */
  latency: Summary;
  /** Messages that had a chart attached. */
  charted: number;
  /** Discord requests refused with 429 (none expected at this pace). */
  refused429: number;
}

/**
 * Sends SINGLE.alerts Alertmanager notifications to `vigil serve` (compiled, the compose file's
 * NODE_OPTIONS) one at a time, SINGLE.spacingMs apart, each waited for until its message is at a
 * Discord double with Discord's rate limits; backends healthy (real Prometheus, the Loki double),
 * so each is enriched and charted as in production.
 */
export async function runSingleAlerts(opts: { prometheusUrl: string; lokiUrl: string; nodeOptions: string }): Promise<SingleAlertResult> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-single-'));
  const cleanups: Array<() => Promise<void>> = [];
  try {
    const discord = await startDiscordDouble({ channels: [CHANNEL] });
    cleanups.push(defer(() => discord.stop()));
    const port = await freePort();
    const bot = await startBot(
      {
        dir,
        prometheusUrl: opts.prometheusUrl,
        lokiUrl: opts.lokiUrl,
        discordApiBaseUrl: discord.apiBaseUrl,
        discordToken: DOUBLE_TOKEN,
        webhookToken: WEBHOOK_TOKEN,
        channelId: CHANNEL,
        enrichmentTimeout: '1s',
        nodeOptions: opts.nodeOptions,
        compiled: true,
        sections: { log: { level: 'info' } },
      },
      port,
    );
    cleanups.push(defer(() => bot.kill('SIGTERM')));
    const latencies: number[] = [];
    let charted = 0;
    for (let i = 0; i < SINGLE.alerts; i++) {
      const sent = Date.now();
      const res = await fetch(`http://127.0.0.1:${port}/webhooks/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
        body: benchAlertmanagerBody(PREFIX, i),
      });
      if (res.status !== 202) throw new Error(`single alert ${i}: HTTP ${res.status} ${await res.text()}`);
      const name = benchAlertName(PREFIX, i);
      for (;;) {
        const message = [...discord.messages.values()].find((m) => m.embeds?.[0]?.title?.includes(name));
        if (message) {
          latencies.push(Date.parse(message.timestamp) - sent);
          if (message.attachments.length > 0) charted++;
          break;
        }
        if (Date.now() - sent > SINGLE.deadlineMs) throw new Error(`single alert ${i} not at the Discord double within ${SINGLE.deadlineMs} ms`);
        await sleep(10);
      }
      await sleep(Math.max(0, sent + SINGLE.spacingMs - Date.now()));
    }
    return {
      latency: summarize(latencies),
      charted,
      refused429: discord.requests.filter((r) => r.status === 429).length,
    };
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
