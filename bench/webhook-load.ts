import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { APIMessage } from 'discord-api-types/v10';
import { Agent, request } from 'undici';
import { parse } from 'yaml';
import { startBot, type BotProcess } from '../test/e2e/bot.js';
import { DOUBLE_TOKEN, type DiscordDouble } from '../test/support/discord-double.js';
import { benchAlertmanagerBody } from './alerts.js';
import { defer } from './cleanup.js';
import { cpuSecondsOf, memoryOf, type Memory } from './proc.js';
import { elapsedMs, summarize, type Summary } from './stats.js';

/** Where the bot under load sends and queries. */
export interface WebhookLoadOptions {
  prometheusUrl: string;
  lokiUrl: string;
  discord: DiscordDouble;
  channelId: string;
  /** Requests per second, sent on schedule whatever the answers (open loop). */
  rate: number;
  durationS: number;
  /** How long after the last request every message may take to reach the Discord double. */
  deliveryDeadlineMs: number;
}

/** What the load run measured. */
export interface WebhookLoadResult {
  sent: number;
  accepted: number;
  /** Non-202 answers by status, and transport errors by code. */
  errors: Record<string, number>;
  /** Request sent -> 202 body read, ms. */
  ack: Summary;
  /** How late each request left against its schedule, ms (the generator's own lag). */
  sendLag: Summary;
  delivered: number;
  /** First request sent -> last message stored by the Discord double, ms. */
  drainMs: number;
  /** Last request sent -> last message stored by the Discord double, ms. */
  tailMs: number;
  /** Request sent -> its message stored by the Discord double, ms. */
  endToEnd: Summary;
  /** Inside the bot, "webhook stored" -> "notification processed" log lines (dedup, enrich, render, enqueue), ms. */
  pipeline: Summary;
  /** Discord requests the double found invalid against the OpenAPI spec. */
  invalidDiscordRequests: number;
  idle: Memory;
  after: Memory;
  /** CPU seconds the bot used from the first request until the last message arrived. */
  botCpuS: number;
  /** The runtime environment the bot ran with (the compose file's: V8 flags and malloc settings). */
  runtimeEnv: Record<string, string>;
}

const COMPOSE = fileURLToPath(new URL('../deploy/compose/compose.yaml', import.meta.url));
const PREFIX = 'BenchAck';
const WARMUP_PREFIX = 'BenchWarmUp';
/** Notifications sent (at the benchmark rate) and delivered before the measured run. */
export const WARMUP_REQUESTS = 50;
const WEBHOOK_TOKEN = 'bench-webhook-token-0123456789abcdef';

/**
 * What the compose stack gives the bot's runtime (NODE_OPTIONS: V8's heap ceiling and threads;
 * MALLOC_*: glibc's malloc), so memory is measured as deployed.
 */
export function composeRuntimeEnv(): Record<string, string> {
  const compose = parse(readFileSync(COMPOSE, 'utf8')) as { services: { vigil: { environment: Record<string, string> } } };
  const env = Object.fromEntries(Object.entries(compose.services.vigil.environment).filter(([name]) => name === 'NODE_OPTIONS' || name.startsWith('MALLOC_')));
  if (!env['NODE_OPTIONS']) throw new Error(`${COMPOSE} sets no NODE_OPTIONS for vigil`);
  return env;
}

/** The runtime environment as one line for the report: `NAME=value NAME=value`. */
export function runtimeEnvLine(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
}

/** Starts `vigil serve` as its own process, loads it with webhooks, and waits for every message. */
export async function runWebhookLoad(opts: WebhookLoadOptions): Promise<WebhookLoadResult> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-'));
  const removeDir = defer(() => rm(dir, { recursive: true, force: true }));
  let stop = async () => {};
  const runtimeEnv = composeRuntimeEnv();
  try {
    const bot = await startBot({
      dir,
      prometheusUrl: opts.prometheusUrl,
      lokiUrl: opts.lokiUrl,
      discordApiBaseUrl: opts.discord.apiBaseUrl,
      discordToken: DOUBLE_TOKEN,
      webhookToken: WEBHOOK_TOKEN,
      channelId: opts.channelId,
      runtimeEnv,
      compiled: true,
      // One message per webhook is what this section times: no storm folding (the storm section measures that).
      sections: { delivery: { storm: { enabled: false } } },
    });
    stop = defer(() => stopBot(bot));
    return { ...(await measure(bot, opts)), runtimeEnv };
  } finally {
    await stop();
    await removeDir();
  }
}

async function measure(bot: BotProcess, opts: WebhookLoadOptions): Promise<Omit<WebhookLoadResult, 'runtimeEnv'>> {
  const pid = bot.child.pid!;
  const url = `${bot.url}/webhooks/alertmanager`;
  await sleep(1_000); // let start-up work (first outbox poll) settle
  const idle = memoryOf(pid);

  // Warm-up: the first notifications pay for JIT, lazy module loads and the Discord double
  // compiling its spec validators; they are not part of the steady state.
  const warmUp = await sendOpenLoop(url, WARMUP_PREFIX, opts.rate, WARMUP_REQUESTS);
  await waitForMessages(opts.discord, WARMUP_PREFIX, warmUp.sentAtMs.length, opts.deliveryDeadlineMs);

  const cpuBefore = cpuSecondsOf(pid);
  const load = await sendOpenLoop(url, PREFIX, opts.rate, opts.rate * opts.durationS);
  const arrivals = await waitForMessages(opts.discord, PREFIX, load.sentAtMs.length, opts.deliveryDeadlineMs);
  const after = memoryOf(pid);
  const botCpuS = cpuSecondsOf(pid) - cpuBefore;

  const endToEnd = [...arrivals].map(([i, at]) => at - load.sentAtMs[i]!);
  const firstSent = Math.min(...load.sentAtMs);
  const lastArrival = Math.max(...arrivals.values());
  return {
    sent: load.sentAtMs.length,
    accepted: load.ack.length,
    errors: load.errors,
    ack: summarize(load.ack),
    sendLag: summarize(load.lag),
    delivered: arrivals.size,
    drainMs: lastArrival - firstSent,
    tailMs: lastArrival - Math.max(...load.sentAtMs),
    endToEnd: summarize(endToEnd),
    pipeline: summarize(pipelineTimes(bot.output(), load.ids)),
    invalidDiscordRequests: opts.discord.invalid.length,
    idle,
    after,
    botCpuS,
  };
}

interface LoadOutcome {
  ack: number[];
  lag: number[];
  errors: Record<string, number>;
  /** Wall-clock send time of request i (to compare with Discord message timestamps). */
  sentAtMs: number[];
  /** Notification ids the 202 answers returned. */
  ids: Set<number>;
}

/** Sends `count` webhooks at fixed intervals without waiting for answers; resolves when all answered. */
async function sendOpenLoop(url: string, prefix: string, rate: number, count: number): Promise<LoadOutcome> {
  const agent = new Agent({ keepAliveTimeout: 30_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
  const out: LoadOutcome = { ack: [], lag: [], errors: {}, sentAtMs: [], ids: new Set() };
  const bodies = Array.from({ length: count }, (_, i) => benchAlertmanagerBody(prefix, i));
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` };
  const bump = (key: string) => {
    out.errors[key] = (out.errors[key] ?? 0) + 1;
  };

  const sendOne = async (i: number) => {
    const start = process.hrtime.bigint();
    out.sentAtMs[i] = Date.now();
    try {
      const res = await request(url, { method: 'POST', headers, body: bodies[i], dispatcher: agent });
      const text = await res.body.text();
      if (res.statusCode !== 202) return bump(`HTTP ${res.statusCode}`);
      out.ack.push(elapsedMs(start));
      out.ids.add((JSON.parse(text) as { id: number }).id);
    } catch (err) {
      bump((err as { code?: string }).code ?? (err as Error).message);
    }
  };

  const inFlight: Promise<void>[] = [];
  const intervalMs = 1000 / rate;
  const t0 = performance.now() + 20;
  for (let i = 0; i < count; i += 1) {
    const due = t0 + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    out.lag.push(performance.now() - due);
    inFlight.push(sendOne(i));
  }
  await Promise.all(inFlight);
  await agent.close();
  return out;
}

/** Benchmark message index -> time the double stored it (ms since epoch), once all arrived. */
async function waitForMessages(discord: DiscordDouble, prefix: string, count: number, deadlineMs: number): Promise<Map<number, number>> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const arrivals = arrivalsOf(discord.messages.values(), prefix);
    if (arrivals.size >= count) return arrivals;
    if (Date.now() > deadline) {
      throw new Error(`only ${arrivals.size} of ${count} messages reached the Discord double within ${deadlineMs} ms`);
    }
    await sleep(50);
  }
}

function arrivalsOf(messages: Iterable<APIMessage>, prefix: string): Map<number, number> {
  const arrivals = new Map<number, number>();
  const titled = new RegExp(`${prefix}(\\d+)`);
  for (const m of messages) {
    const match = titled.exec(m.embeds?.[0]?.title ?? '');
    if (match) arrivals.set(Number(match[1]), Date.parse(m.timestamp));
  }
  return arrivals;
}

/** Per notification in `ids`: time from its "webhook stored" to its "notification processed" log line. */
function pipelineTimes(output: string, ids: Set<number>): number[] {
  const stored = new Map<number, number>();
  const times: number[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { msg?: string; time?: number; notificationId?: number };
    if (entry.notificationId === undefined || !ids.has(entry.notificationId) || entry.time === undefined) continue;
    if (entry.msg === 'webhook stored') stored.set(entry.notificationId, entry.time);
    const storedAt = stored.get(entry.notificationId);
    if (entry.msg === 'notification processed' && storedAt !== undefined) times.push(entry.time - storedAt);
  }
  return times;
}

/** SIGTERM, then SIGKILL if the bot has not exited after 5 s. */
async function stopBot(bot: BotProcess): Promise<void> {
  const exited = bot.kill('SIGTERM');
  const timedOut = await Promise.race([exited.then(() => false), sleep(5_000, true)]);
  if (timedOut) await bot.kill('SIGKILL');
}
