import { setTimeout as sleep } from 'node:timers/promises';
import type { APIMessage } from 'discord-api-types/v10';
import { startDiscordDouble, type DiscordDouble } from '../test/support/discord-double.js';
import { startAlertmanager, startNodeExporter, startPrometheus, type PostableAlert } from '../test/support/procs.js';
import { startLokiDouble } from '../test/support/loki-double.js';
import { startBenchBot } from './bot.js';
import { defer } from './cleanup.js';
import { memoryOf, resetPeak } from './proc.js';

/** One storm scenario: how Alertmanager groups the alerts. */
export interface StormScenario {
  name: string;
  groupBy: string[];
}

/** What one side (Vigil, or Alertmanager's own Discord receiver) did with the storm. */
export interface StormSide {
  requests: number;
  refused429: number;
  /** Messages in the channel itself (what the channel's readers scroll through). */
  newMessages: number;
  /** Messages in threads (the storm's details, incidents' diagnostics). */
  threadMessages: number;
  edits: number;
  /** Alerts named in Discord by the end of the observation. */
  named: number;
  /** Storm start -> every alert named, s; undefined when not all were within the observation. */
  allNamedS?: number;
  /** Critical alert sent -> shown in Discord, s; undefined when it never showed. */
  criticalS?: number;
  /** Peak RSS of the process during the storm (VmHWM, reset as it starts), MiB (Vigil only: the peer is Alertmanager itself). */
  peakRssMiB?: number;
}

/** A scenario's outcome for both sides, from one run. */
export interface StormResult {
  scenario: StormScenario;
  vigil: StormSide;
  peer: StormSide;
}

/** The storm: ALERTS alerts over SPREAD_MS, one critical alert at CRITICAL_AT_MS. */
export const STORM = { alerts: 1000, spreadMs: 10_000, criticalAtMs: 5000, observeMs: 60_000, names: 10 } as const;

const CHANNEL = '423456789012345678';
const WEBHOOK_TOKEN = 'bench-storm-webhook-token-0123456789';
const PEER_CHANNEL = '623456789012345678';
const PEER_WEBHOOK = '523456789012345678';
const PEER_TOKEN = 'bench-peer-webhook-token';
const CRITICAL_INSTANCE = 'db-critical-1:5432';

function instanceOf(i: number): string {
  return `storm-${i}.example:9100`;
}

/** One metric of the real node_exporter per alert name: each alert carries its rule's expression, as Prometheus' alerts do. */
const EXPRESSIONS = [
  'node_load1',
  'node_load5',
  'node_load15',
  'node_memory_MemAvailable_bytes',
  'node_memory_MemTotal_bytes',
  'node_procs_running',
  'node_context_switches_total',
  'node_intr_total',
  'node_boot_time_seconds',
  'node_time_seconds',
].map((m) => `${m}{job="node"} >= 0`);

function generatorURL(prometheusUrl: string, expr: string): string {
  return `${prometheusUrl}/graph?g0.expr=${encodeURIComponent(expr)}&g0.tab=1`;
}

function alertOf(i: number, prometheusUrl: string): PostableAlert {
  return {
    labels: { alertname: `StormAlert${i % STORM.names}`, instance: instanceOf(i), severity: 'warning', job: 'node' },
    annotations: { summary: `storm alert ${i}` },
    generatorURL: generatorURL(prometheusUrl, EXPRESSIONS[i % STORM.names]!),
  };
}

function textOf(m: APIMessage): string {
  return [m.content, ...m.embeds.map((e) => [e.title, e.description, ...(e.fields ?? []).map((f) => `${f.name} ${f.value}`)].join('\n'))].join('\n');
}

/** How many of the storm's instances one double's messages name, and whether the critical one shows. */
function named(double: DiscordDouble): { count: number; critical: boolean } {
  const all = [...double.messages.values()].map(textOf).join('\n');
  let count = 0;
  for (let i = 0; i < STORM.alerts; i++) if (all.includes(instanceOf(i))) count++;
  return { count, critical: all.includes(CRITICAL_INSTANCE) || all.includes('DatabaseDown') };
}

function sideOf(
  double: DiscordDouble,
  channelId: string,
  started: number,
  allNamedAt: number | undefined,
  criticalAt: number | undefined,
  criticalSent: number,
  peakKb?: number,
): StormSide {
  const writes = double.requests.filter((r) => r.method !== 'GET');
  const messages = [...double.messages.values()];
  return {
    requests: writes.length,
    refused429: writes.filter((r) => r.status === 429).length,
    newMessages: messages.filter((m) => m.channel_id === channelId).length,
    threadMessages: messages.filter((m) => m.channel_id !== channelId).length,
    edits: writes.filter((r) => r.method === 'PATCH' && r.status === 200 && r.operationId === 'update_message').length,
    named: named(double).count,
    ...(allNamedAt !== undefined ? { allNamedS: (allNamedAt - started) / 1000 } : {}),
    ...(criticalAt !== undefined ? { criticalS: (criticalAt - criticalSent) / 1000 } : {}),
    ...(peakKb !== undefined ? { peakRssMiB: peakKb / 1024 } : {}),
  };
}

/**
 * One storm, both sides in one run: a real Alertmanager with two routes (`continue: true`), one to
 * `vigil serve` (compiled, with the compose file's NODE_OPTIONS and MALLOC_* settings) talking to a rate-limited Discord
 * double, one to Alertmanager's own `discord_configs` receiver talking to another.
 */
export async function runStorm(scenario: StormScenario, runtimeEnv: Record<string, string>): Promise<StormResult> {
  const cleanups: Array<() => Promise<void>> = [];
  const later = (fn: () => Promise<void>) => cleanups.push(defer(fn));
  try {
    const peerDiscord = await startDiscordDouble({ channels: [PEER_CHANNEL], webhooks: [{ id: PEER_WEBHOOK, token: PEER_TOKEN, channelId: PEER_CHANNEL }] });
    later(() => peerDiscord.stop());
    // Real backends behind Vigil, as in production: the first incidents are enriched and charted, the storm's metrics queried.
    const nodeExporter = await startNodeExporter();
    later(() => nodeExporter.stop());
    const prometheus = await startPrometheus({ scrapeConfigs: [{ job: 'node', targets: [`127.0.0.1:${nodeExporter.port}`] }] });
    later(() => prometheus.stop());
    const loki = await startLokiDouble();
    later(() => loki.stop());
    await prometheus.waitFor('count_over_time(node_load1[1m]) >= 8', 30_000);
    const {
      bot,
      discord: vigilDiscord,
      port,
      stop,
    } = await startBenchBot({
      name: 'storm',
      channelId: CHANNEL,
      webhookToken: WEBHOOK_TOKEN,
      prometheusUrl: prometheus.url,
      lokiUrl: loki.url,
      runtimeEnv,
      settings: { enrichmentTimeout: '1s', sections: { log: { level: 'info' } } },
    });
    later(stop);
    const alertmanager = await startAlertmanager({
      webhookUrl: `http://127.0.0.1:${port}/webhooks/alertmanager`,
      bearerToken: WEBHOOK_TOKEN,
      groupBy: scenario.groupBy,
      // A Discord webhook URL as Discord shows it, with the API version the double serves.
      peerDiscordWebhookUrl: `${peerDiscord.apiBaseUrl}/v10/webhooks/${PEER_WEBHOOK}/${PEER_TOKEN}`,
    });
    later(() => alertmanager.stop());
    await sleep(1000);

    // The peak during the storm, not the start-up's (modules compiling): VmHWM restarts here.
    resetPeak(bot.child.pid!);
    const started = Date.now();
    const batches = 10;
    let criticalSent: number | undefined;
    let peakKb = memoryOf(bot.child.pid!).peakKb;
    // Fed and watched at once: the critical alert's time counts from when it was sent, not from the end of the feed.
    const feed = (async () => {
      for (let b = 0; b < batches; b++) {
        const at = started + (b * STORM.spreadMs) / batches;
        await sleep(Math.max(0, at - Date.now()));
        const per = STORM.alerts / batches;
        await alertmanager.postAlerts(Array.from({ length: per }, (_, k) => alertOf(b * per + k, prometheus.url)));
        if (b === batches / 2) {
          criticalSent = Date.now();
          await alertmanager.postAlerts([
            {
              labels: { alertname: 'DatabaseDown', instance: CRITICAL_INSTANCE, severity: 'critical' },
              annotations: { summary: 'the database is down' },
              generatorURL: generatorURL(prometheus.url, 'up{job="node"} == 1'),
            },
          ]);
        }
      }
    })();
    const seen = {
      vigil: { all: undefined as number | undefined, critical: undefined as number | undefined },
      peer: { all: undefined as number | undefined, critical: undefined as number | undefined },
    };
    while (Date.now() - started < STORM.observeMs) {
      peakKb = Math.max(peakKb, memoryOf(bot.child.pid!).peakKb);
      for (const [side, double] of [
        ['vigil', vigilDiscord],
        ['peer', peerDiscord],
      ] as const) {
        const n = named(double);
        if (n.critical && seen[side].critical === undefined && criticalSent !== undefined) seen[side].critical = Date.now();
        if (n.count === STORM.alerts && seen[side].all === undefined) seen[side].all = Date.now();
      }
      if (seen.vigil.all && seen.peer.all && seen.vigil.critical && seen.peer.critical) break;
      await sleep(250);
    }
    await feed;
    peakKb = Math.max(peakKb, memoryOf(bot.child.pid!).peakKb);
    return {
      scenario,
      vigil: sideOf(vigilDiscord, CHANNEL, started, seen.vigil.all, seen.vigil.critical, criticalSent ?? started, peakKb),
      peer: sideOf(peerDiscord, PEER_CHANNEL, started, seen.peer.all, seen.peer.critical, criticalSent ?? started),
    };
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  }
}
