import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { APIMessage } from 'discord-api-types/v10';
import { Agent, request } from 'undici';
import { parse } from 'yaml';
import { eventually, startBot, type BotProcess } from '../test/e2e/bot.js';
import { DOUBLE_TOKEN, type DiscordDouble } from '../test/support/discord-double.js';
import { benchAlertmanagerBody } from './alerts.js';
import { defer } from './cleanup.js';
import { cpuSecondsOf, machineBusySeconds, memoryOf, ownCpuSeconds, treeCpuSecondsOf, type Memory } from './proc.js';
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
  /**
   * A PostgreSQL the bots store in (`storage.url`) instead of SQLite in each bot's temp dir, and
   * the pid of its postmaster (the CPU of its processes is measured).
   */
  postgres?: { url: string; pid: number };
  /** Replicas on `postgres` (default 1): the requests alternate between them; only the leader delivers. */
  replicas?: number;
  /** Tells this run's alerts from an earlier run's at the same Discord double (in their names); default none. */
  label?: string;
}

/** What one bot process used during the run. */
export interface BotUsage {
  /** Whether it led (ran the pipeline and delivered); a bot on SQLite always does. */
  leader: boolean;
  /** Requests it answered 202. */
  accepted: number;
  idle: Memory;
  after: Memory;
  /** CPU seconds it used from the first request until the last message arrived. */
  cpuS: number;
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
  /**
   * Each pipeline stage's own time, by stage (dedup, storm, enrich, render, outbox), ms. From render
   * on, a notification waits for the one before it to be recorded: those stages run one at a time.
   */
  stages: Record<string, Summary>;
  /** Discord requests the double found invalid against the OpenAPI spec. */
  invalidDiscordRequests: number;
  /** Each bot process, in the order they were started. */
  bots: BotUsage[];
  /** CPU seconds PostgreSQL's processes used over the same span; undefined on SQLite. */
  postgresCpuS?: number;
  /** CPU seconds the benchmark process used over the same span (load generator, Loki and Discord doubles). */
  benchCpuS: number;
  /**
   * CPU seconds the rest of the machine used over the same span: the machine's busy time less the
   * bots', PostgreSQL's and the benchmark process's (Prometheus, node_exporter, and whatever else runs).
   */
  otherCpuS: number;
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
  // merge: the compose file may give vigil its settings through a `<<: *anchor` shared by replicas.
  const compose = parse(readFileSync(COMPOSE, 'utf8'), { merge: true }) as { services: { vigil: { environment: Record<string, string> } } };
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

/**
 * Starts `vigil serve` as its own process (one per replica), loads it with webhooks, and waits for
 * every message.
 */
export async function runWebhookLoad(opts: WebhookLoadOptions): Promise<WebhookLoadResult> {
  const replicas = opts.replicas ?? 1;
  if (replicas > 1 && !opts.postgres) throw new Error('several replicas need PostgreSQL (opts.postgres)');
  const stops: Array<() => Promise<void>> = [];
  const runtimeEnv = composeRuntimeEnv();
  try {
    const bots: BotProcess[] = [];
    for (let n = 0; n < replicas; n += 1) {
      const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-'));
      stops.push(defer(() => rm(dir, { recursive: true, force: true })));
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
        sections: {
          // One message per webhook is what this section times: no storm folding (the storm section measures that).
          delivery: { storm: { enabled: false } },
          ...(opts.postgres ? { storage: { url: opts.postgres.url } } : {}),
        },
      });
      stops.push(defer(() => stopBot(bot)));
      bots.push(bot);
    }
    return { ...(await measure(bots, opts)), runtimeEnv };
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

async function measure(bots: BotProcess[], opts: WebhookLoadOptions): Promise<Omit<WebhookLoadResult, 'runtimeEnv'>> {
  const pids = bots.map((bot) => bot.child.pid!);
  const urls = bots.map((bot) => `${bot.url}/webhooks/alertmanager`);
  const warmUpPrefix = `${WARMUP_PREFIX}${opts.label ?? ''}`;
  const prefix = `${PREFIX}${opts.label ?? ''}`;
  const invalidBefore = opts.discord.invalid.length;
  // On PostgreSQL a replica serves before it leads: start once one leads.
  await eventually('a replica to lead', async () => ((await leading(bots)).some(Boolean) ? true : undefined), 30_000, 100);
  await sleep(1_000); // let start-up work (first outbox poll) settle
  const idle = pids.map(memoryOf);

  // Warm-up: the first notifications pay for JIT, lazy module loads and the Discord double
  // compiling its spec validators; they are not part of the steady state.
  const warmUp = await sendOpenLoop(urls, warmUpPrefix, opts.rate, WARMUP_REQUESTS);
  await waitForMessages(opts.discord, warmUpPrefix, warmUp.sentAtMs.length, opts.deliveryDeadlineMs);

  const postgresCpu = () => (opts.postgres ? treeCpuSecondsOf(opts.postgres.pid) : NaN);
  const cpuBefore = pids.map(cpuSecondsOf);
  const postgresCpuBefore = postgresCpu();
  const [machineBefore, benchBefore] = [machineBusySeconds(), ownCpuSeconds()];
  const load = await sendOpenLoop(urls, prefix, opts.rate, opts.rate * opts.durationS);
  const arrivals = await waitForMessages(opts.discord, prefix, load.sentAtMs.length, opts.deliveryDeadlineMs);
  const after = pids.map(memoryOf);
  const cpuS = pids.map((pid, n) => cpuSecondsOf(pid) - cpuBefore[n]!);
  const postgresCpuS = postgresCpu() - postgresCpuBefore;
  const [machineS, benchCpuS] = [machineBusySeconds() - machineBefore, ownCpuSeconds() - benchBefore];
  const otherCpuS = machineS - benchCpuS - cpuS.reduce((a, b) => a + b, 0) - (opts.postgres ? postgresCpuS : 0);
  const leaders = await leading(bots);

  const endToEnd = [...arrivals].map(([i, at]) => at - load.sentAtMs[i]!);
  const logged = pipelineTimes(bots.map((bot) => bot.output()).join('\n'), load.ids);
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
    pipeline: summarize(logged.pipeline),
    stages: Object.fromEntries(Object.entries(logged.stages).map(([stage, times]) => [stage, summarize(times)])),
    invalidDiscordRequests: opts.discord.invalid.length - invalidBefore,
    bots: bots.map((_, n) => ({ leader: leaders[n]!, accepted: load.acceptedBy[n] ?? 0, idle: idle[n]!, after: after[n]!, cpuS: cpuS[n]! })),
    ...(opts.postgres ? { postgresCpuS } : {}),
    benchCpuS,
    otherCpuS,
  };
}

/** Per bot, whether it leads: a bot on SQLite always does (its /healthz has no `cluster`). */
async function leading(bots: BotProcess[]): Promise<boolean[]> {
  return Promise.all(
    bots.map(async (bot) => {
      const health = (await (await fetch(`${bot.url}/healthz`)).json()) as { cluster?: { leader: boolean } };
      return health.cluster?.leader ?? true;
    }),
  );
}

interface LoadOutcome {
  ack: number[];
  lag: number[];
  errors: Record<string, number>;
  /** Wall-clock send time of request i (to compare with Discord message timestamps). */
  sentAtMs: number[];
  /** Notification ids the 202 answers returned. */
  ids: Set<number>;
  /** 202 answers per URL. */
  acceptedBy: number[];
}

/**
 * Sends `count` webhooks at fixed intervals without waiting for answers, request i to
 * `urls[i % urls.length]`; resolves when all answered.
 */
async function sendOpenLoop(urls: string[], prefix: string, rate: number, count: number): Promise<LoadOutcome> {
  const agent = new Agent({ keepAliveTimeout: 30_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
  const out: LoadOutcome = { ack: [], lag: [], errors: {}, sentAtMs: [], ids: new Set(), acceptedBy: urls.map(() => 0) };
  const bodies = Array.from({ length: count }, (_, i) => benchAlertmanagerBody(prefix, i));
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` };
  const bump = (key: string) => {
    out.errors[key] = (out.errors[key] ?? 0) + 1;
  };

  const sendOne = async (i: number) => {
    const start = process.hrtime.bigint();
    out.sentAtMs[i] = Date.now();
    try {
      const res = await request(urls[i % urls.length]!, { method: 'POST', headers, body: bodies[i], dispatcher: agent });
      const text = await res.body.text();
      if (res.statusCode !== 202) return bump(`HTTP ${res.statusCode}`);
      out.ack.push(elapsedMs(start));
      out.acceptedBy[i % urls.length]! += 1;
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

/**
 * Per notification in `ids`: time from its "webhook stored" to its "notification processed" log
 * line, and each pipeline stage's own time ("pipeline stage done"), by stage. `output` may join
 * several replicas' logs: one stores, the leader processes.
 */
function pipelineTimes(output: string, ids: Set<number>): { pipeline: number[]; stages: Record<string, number[]> } {
  const entries = output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg?: string; time?: number; notificationId?: number; stage?: string; ms?: number })
    .filter((e) => e.notificationId !== undefined && ids.has(e.notificationId) && e.time !== undefined);
  const stored = new Map(entries.filter((e) => e.msg === 'webhook stored').map((e) => [e.notificationId!, e.time!]));
  const pipeline: number[] = [];
  const stages: Record<string, number[]> = {};
  for (const e of entries) {
    const storedAt = stored.get(e.notificationId!);
    if (e.msg === 'notification processed' && storedAt !== undefined) pipeline.push(e.time! - storedAt);
    if (e.msg === 'pipeline stage done' && e.stage !== undefined && e.ms !== undefined) (stages[e.stage] ??= []).push(e.ms);
  }
  return { pipeline, stages };
}

/** SIGTERM, then SIGKILL if the bot has not exited after 5 s. */
async function stopBot(bot: BotProcess): Promise<void> {
  const exited = bot.kill('SIGTERM');
  const timedOut = await Promise.race([exited.then(() => false), sleep(5_000, true)]);
  if (timedOut) await bot.kill('SIGKILL');
}
