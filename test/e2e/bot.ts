import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deepMerge, writeBotConfig, type ConfigSections } from '../support/bot-config.js';
import { DOUBLE_TOKEN, startDiscordDouble, type DiscordDouble } from '../support/discord-double.js';
import { eventually } from '../support/eventually.js';
import { startLokiDouble, type LokiDoubleHandle } from '../support/loki-double.js';
import { freePort } from '../support/ports.js';
import { startNodeExporter, startPrometheus, type NodeExporterHandle, type PrometheusHandle, type ScrapeJob } from '../support/procs.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Settings of a bot under test; written to a YAML config in `dir` by test/support/bot-config.ts. */
export interface BotSettings {
  dir: string;
  prometheusUrl: string;
  lokiUrl: string;
  discordApiBaseUrl: string;
  discordToken: string;
  webhookToken: string;
  channelId: string;
  enrichmentTimeout?: string;
  /** Interactions transport; default http (no gateway double needed). */
  discordMode?: 'http' | 'gateway';
  /** The application public key (hex) the bot verifies interactions with. */
  publicKeyHex?: string;
  /** Further config sections (alertmanager, commands, charts, …), deep-merged over the e2e defaults. */
  sections?: ConfigSections;
  /** More environment for the bot process: the benchmark gives it the compose file's NODE_OPTIONS and malloc settings. */
  runtimeEnv?: Record<string, string>;
  /** Run the compiled dist/cli.js (build it first) instead of src/cli.ts through tsx, as the Docker image does. */
  compiled?: boolean;
}

/** A bot process started from src/cli.ts exactly as a user would (`vigil serve --config FILE`). */
export interface BotProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr (JSON log lines). */
  output(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Fast outbox retries and debug logs, so a delivery, a retry or a log line shows within a test. */
function e2eSections(s: BotSettings): ConfigSections {
  return {
    enrichment: { lookback: '10m', logWindow: '5m', timeout: s.enrichmentTimeout ?? '2s' },
    delivery: { minBackoff: '100ms', maxBackoff: '1s', pollInterval: '100ms' },
    log: { level: 'debug' },
  };
}

/** Starts `vigil serve` in a child process and waits for /healthz to answer 200. */
export async function startBot(s: BotSettings, port?: number): Promise<BotProcess> {
  const p = port ?? (await freePort());
  const config = writeBotConfig({
    dir: s.dir,
    port: p,
    prometheusUrl: s.prometheusUrl,
    lokiUrl: s.lokiUrl,
    discordApiBaseUrl: s.discordApiBaseUrl,
    channelId: s.channelId,
    mode: s.discordMode,
    publicKeyHex: s.publicKeyHex,
    webhookToken: s.webhookToken,
    discordToken: s.discordToken,
    sections: deepMerge(e2eSections(s), s.sections ?? {}),
  });
  const entry = s.compiled ? [join(REPO_ROOT, 'dist/cli.js')] : ['--import', 'tsx', join(REPO_ROOT, 'src/cli.ts')];
  const child = spawn(process.execPath, [...entry, 'serve', '--config', config.path], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ...config.env,
      ...s.runtimeEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${p}`;
  const healthy = async (): Promise<true | undefined> => {
    if (child.exitCode !== null) throw new Error(`bot exited with ${child.exitCode}:\n${out}`);
    const res = await fetch(`${url}/healthz`).catch(() => undefined); // not listening yet
    return res?.status === 200 ? true : undefined;
  };
  await eventually('the bot to become healthy', healthy, 30_000, 100).catch((err: Error) => {
    if (child.exitCode !== null) throw err;
    child.kill('SIGKILL');
    throw new Error(`${err.message}:\n${out}`);
  });
  return {
    url,
    port: p,
    child,
    output: () => out,
    kill: (signal) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}

/** What a bot under test runs against: a real node_exporter scraped by a real Prometheus, and the Loki and Discord doubles. */
export interface E2eStack {
  nodeExporter: NodeExporterHandle;
  /** node_exporter's `instance` label in Prometheus, `127.0.0.1:<port>` (job `node`). */
  nodeInstance: string;
  prometheus: PrometheusHandle;
  loki: LokiDoubleHandle;
  discord: DiscordDouble;
  /** Stops all four, the last started first; a failing stop does not keep the others from running. */
  stop(): Promise<void>;
}

/** Options of {@link startE2eStack}. */
export interface E2eStackOptions {
  /** Channels the Discord double knows (the alert channel). */
  channels: string[];
  /** The application id the Discord double serves interactions for. */
  applicationId?: string;
  /** Scrape jobs beside `node` (the node_exporter). */
  scrapeJobs?: ScrapeJob[];
  /** `false`: the Discord double without Discord's rate limits (a benchmark of the bot's own throughput). */
  rateLimits?: false;
}

/** Starts the stack; when a component fails to start, the ones already running are stopped before the error is thrown. */
export async function startE2eStack(opts: E2eStackOptions): Promise<E2eStack> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    const results = [];
    for (const s of stops.splice(0).reverse())
      results.push(
        await s().then(
          () => undefined,
          (err: unknown) => err,
        ),
      );
    const failed = results.find((err) => err !== undefined);
    if (failed !== undefined) throw failed instanceof Error ? failed : new Error('a component of the stack failed to stop', { cause: failed });
  };
  try {
    const nodeExporter = await startNodeExporter();
    stops.push(() => nodeExporter.stop());
    const nodeInstance = `127.0.0.1:${nodeExporter.port}`;
    const prometheus = await startPrometheus({ scrapeConfigs: [{ job: 'node', targets: [nodeInstance] }, ...(opts.scrapeJobs ?? [])] });
    stops.push(() => prometheus.stop());
    const loki = await startLokiDouble();
    stops.push(() => loki.stop());
    const discord = await startDiscordDouble({
      token: DOUBLE_TOKEN,
      channels: opts.channels,
      applicationId: opts.applicationId,
      ...(opts.rateLimits === false ? { rateLimits: false as const } : {}),
    });
    stops.push(() => discord.stop());
    return { nodeExporter, nodeInstance, prometheus, loki, discord, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** POSTs a webhook body to the bot as Grafana or Alertmanager would (bearer token); resolves to the status. */
export async function postWebhook(bot: Pick<BotProcess, 'url'>, sender: 'grafana' | 'alertmanager', token: string, body: string): Promise<number> {
  const res = await fetch(`${bot.url}/webhooks/${sender}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body,
  });
  await res.text();
  return res.status;
}

export { eventually, sleep } from '../support/eventually.js';
