import { setTimeout as sleep } from 'node:timers/promises';
import { benchAlertmanagerBody, benchAlertName } from './alerts.js';
import { startBenchBot } from './bot.js';
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
export async function runSingleAlerts(opts: { prometheusUrl: string; lokiUrl: string; runtimeEnv: Record<string, string> }): Promise<SingleAlertResult> {
  const { discord, port, stop } = await startBenchBot({
    name: 'single',
    channelId: CHANNEL,
    webhookToken: WEBHOOK_TOKEN,
    ...opts,
    settings: { enrichmentTimeout: '1s', sections: { log: { level: 'info' } } },
  });
  try {
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
    await stop();
  }
}
