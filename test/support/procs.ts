import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, stringify } from 'yaml';
import { freePort } from './ports.js';

// Harness that runs the real Debian Prometheus components on 127.0.0.1 for integration tests.

/** Path of the Debian node_exporter binary. */
export const NODE_EXPORTER_BIN = '/usr/bin/prometheus-node-exporter';
/** Path of the Debian Prometheus server binary. */
export const PROMETHEUS_BIN = '/usr/bin/prometheus';
/** Path of the Debian Alertmanager binary. */
export const ALERTMANAGER_BIN = '/usr/bin/prometheus-alertmanager';

const READY_DEADLINE_MS = 20_000;
const READY_POLL_MS = 100;
const TERM_GRACE_MS = 3_000;
const STDERR_TAIL_CHARS = 4_000;
const PORT_ATTEMPTS = 3;

/** Handle on a running node_exporter. */
export interface NodeExporterHandle {
  url: string;
  port: number;
  /** Temp dir the process runs in (removed by stop()). */
  dir: string;
  /** Kills the process (SIGTERM, SIGKILL after 3 s) and removes its temp dir. */
  stop(): Promise<void>;
}

/** One scrape job for the generated Prometheus config. */
export interface ScrapeJob {
  job: string;
  /** `host:port`, or a full `http://host:port/path` URL (its scheme and path are then used). */
  targets: string[];
  metricsPath?: string;
  /** This job's scrape_interval (e.g. '100ms'), default the global one. */
  scrapeInterval?: string;
  /** This job's scrape_timeout, at most its interval; default Prometheus' (10s, capped at the interval). */
  scrapeTimeout?: string;
}

/** Options of {@link startPrometheus}. */
export interface PrometheusOptions {
  scrapeConfigs?: ScrapeJob[];
  /** File name -> rule file YAML text, written beside prometheus.yml and listed in rule_files. */
  ruleFiles?: Record<string, string>;
  /** Full config override (written as prometheus.yml verbatim); ruleFiles are still written beside it. */
  configYaml?: string;
  /** Global scrape interval, default '1s'. */
  scrapeInterval?: string;
  /** Global rule evaluation interval, default '1s'. */
  evaluationInterval?: string;
  /** Alertmanager base URL (e.g. http://127.0.0.1:9093) that firing alerts are sent to. */
  alertmanagerUrl?: string;
  /** More command-line flags (e.g. a compose file's query and retention limits). */
  extraArgs?: readonly string[];
}

/** The `data` member of a Prometheus /api/v1/query answer. */
export interface PromQueryData {
  resultType: string;
  result: unknown[];
}

/** Handle on a running Prometheus server. */
export interface PrometheusHandle {
  url: string;
  port: number;
  /** Temp dir holding prometheus.yml, the rule files and data/. */
  dir: string;
  /** Absolute path of the config file Prometheus was started with. */
  configFile: string;
  /** Kills the process (SIGTERM, SIGKILL after 3 s) and removes its temp dir. */
  stop(): Promise<void>;
  /** Polls an instant query until its result is non-empty; rejects after timeoutMs (default 15 s; 2.42 waits ~5 s before its first scrape). */
  waitFor(query: string, timeoutMs?: number): Promise<void>;
  /** Runs one instant query and returns its `data`; throws on a non-success answer. */
  query(query: string): Promise<PromQueryData>;
}

/** Options of {@link startAlertmanager}. */
export interface AlertmanagerOptions {
  webhookUrl: string;
  /** More webhook_configs in the same receiver (every notification goes to each): replicas of one Vigil. */
  moreWebhookUrls?: string[];
  bearerToken?: string;
  /** Default '1s'. */
  groupWait?: string;
  /** Default '1s'. */
  groupInterval?: string;
  /** Default '1h'. */
  repeatInterval?: string;
  resolveTimeout?: string;
  /** The route's group_by; default ['alertname']. `['...']` makes every alert a group of its own. */
  groupBy?: string[];
  /**
   * Also sends every notification to Alertmanager's own Discord receiver (discord_configs) at this
   * webhook URL: a second route with `continue: true` beside Vigil's, as a team comparing both would.
   */
  peerDiscordWebhookUrl?: string;
  /**
   * Child routes of the tree, tried in order before the default receiver: alerts matching one go
   * to its own webhook receiver (a routing tree mapped onto Vigil's routes by URL).
   */
  routes?: Array<{ matchers: string[]; webhookUrl: string }>;
}

/** An alert in the shape Alertmanager's POST /api/v2/alerts accepts. */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
}

/** Handle on a running Alertmanager. */
export interface AlertmanagerHandle {
  url: string;
  port: number;
  /** Temp dir holding alertmanager.yml and the storage files. */
  dir: string;
  /** Absolute path of the generated config file (for `amtool check-config`). */
  configFile: string;
  /** Kills the process (SIGTERM, SIGKILL after 3 s) and removes its temp dir. */
  stop(): Promise<void>;
  /** POSTs alerts to /api/v2/alerts; throws with the response body on a non-2xx answer. */
  postAlerts(alerts: PostableAlert[]): Promise<void>;
}

interface Tracked {
  child: ChildProcess;
  dir: string;
}

const live = new Set<Tracked>();
let exitHookInstalled = false;

/** Kills every child still alive when the test process exits (exit handlers must be synchronous). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const tracked of live) {
      if (isRunning(tracked.child)) tracked.child.kill('SIGKILL');
      rmSync(tracked.dir, { recursive: true, force: true });
    }
    live.clear();
  });
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Environment for children: no proxy variables, so loopback traffic can never leave the host. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(https?|all|no)_proxy$/i.test(key)) env[key] = value;
  }
  return env;
}

/** Keeps the last few thousand characters a stream produced. */
class OutputTail {
  private text = '';

  append(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-STDERR_TAIL_CHARS);
  }

  toString(): string {
    return this.text.trim();
  }
}

interface Running {
  child: ChildProcess;
  port: number;
  url: string;
  stderr: OutputTail;
  exited: Promise<void>;
}

interface LaunchSpec {
  name: string;
  binary: string;
  dir: string;
  args(port: number): string[];
  readyPath: string;
  /** How long readiness may take, default READY_DEADLINE_MS. */
  readyDeadlineMs?: number;
}

/** Spawns the binary on a fresh port and waits for readiness, retrying when the port was taken meanwhile. */
async function launch(spec: LaunchSpec): Promise<Running> {
  installExitHook();
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt += 1) {
    const port = await freePort();
    const running = spawnChild(spec, port);
    try {
      await waitReady(spec.name, running, `${running.url}${spec.readyPath}`, spec.readyDeadlineMs);
      return running;
    } catch (err) {
      await terminate(running.child, running.exited);
      lastError = err as Error;
      if (!running.stderr.toString().includes('address already in use')) break;
    }
  }
  throw lastError ?? new Error(`${spec.name} did not start`);
}

function spawnChild(spec: LaunchSpec, port: number): Running {
  if (process.env.VIGIL_TEST_UNIT === '1') {
    // npm run test:unit promises no external binary: a test that needs one is an integration test.
    throw new Error(`npm run test:unit starts no external binary, and this test starts ${spec.binary}: name its file *.int.test.ts (or move it to test/e2e/)`);
  }
  const child = spawn(spec.binary, spec.args(port), {
    cwd: spec.dir,
    env: childEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr = new OutputTail();
  child.stderr?.on('data', (chunk: Buffer) => stderr.append(chunk));
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (err) => {
      stderr.append(`spawn failed: ${err.message}`);
      resolve();
    });
  });
  // A forgotten handle must not keep the test worker alive; the exit hook still kills it.
  child.unref();
  (child.stderr as (NodeJS.ReadableStream & { unref?: () => void }) | null)?.unref?.();
  const tracked = { child, dir: spec.dir };
  live.add(tracked);
  void exited.then(() => live.delete(tracked));
  return { child, port, url: `http://127.0.0.1:${port}`, stderr, exited };
}

/** Polls the readiness URL until it answers 200, the process dies, or the deadline passes. */
async function waitReady(name: string, running: Running, readyUrl: string, deadlineMs = READY_DEADLINE_MS): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let lastStatus = 'no answer';
  while (Date.now() < deadline) {
    if (!isRunning(running.child) || running.child.pid === undefined) {
      await running.exited;
      throw new Error(
        `${name} exited (code ${running.child.exitCode}, signal ${running.child.signalCode}) before becoming ready; stderr tail:\n${running.stderr}`,
      );
    }
    try {
      const res = await fetch(readyUrl, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      lastStatus = `HTTP ${res.status}`;
    } catch (err) {
      lastStatus = (err as Error).message;
    }
    await sleep(READY_POLL_MS);
  }
  throw new Error(`${name} not ready at ${readyUrl} within ${deadlineMs} ms (last: ${lastStatus}); stderr tail:\n${running.stderr}`);
}

/** SIGTERM, then SIGKILL if the process is still alive after the grace period. */
async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (!isRunning(child) || child.pid === undefined) return;
  child.kill('SIGTERM');
  const ac = new AbortController();
  const graceOver = sleep(TERM_GRACE_MS, 'timeout' as const, { signal: ac.signal }).catch(() => 'aborted' as const);
  const outcome = await Promise.race([exited.then(() => 'exited' as const), graceOver]);
  ac.abort();
  if (outcome === 'timeout' && isRunning(child)) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Builds an idempotent stop(): kill the process, then remove its temp dir. */
function stopper(running: Running, dir: string): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      await terminate(running.child, running.exited);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
}

/** Creates the temp dir, launches, and removes the dir again if the launch fails. */
async function launchInTempDir(
  prefix: string,
  prepare: (dir: string) => Promise<void>,
  spec: Omit<LaunchSpec, 'dir' | 'args'> & { args(port: number, dir: string): string[] },
): Promise<{ running: Running; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  try {
    await prepare(dir);
    const running = await launch({ ...spec, dir, args: (port) => spec.args(port, dir) });
    return { running, dir };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Starts the real node_exporter (default collectors) on a free 127.0.0.1 port; ready when /metrics answers 200. */
export async function startNodeExporter(): Promise<NodeExporterHandle> {
  const { running, dir } = await launchInTempDir('vigil-node-exporter-', async () => {}, {
    name: 'node_exporter',
    binary: NODE_EXPORTER_BIN,
    readyPath: '/metrics',
    args: (port) => [`--web.listen-address=127.0.0.1:${port}`],
  });
  return { url: running.url, port: running.port, dir, stop: stopper(running, dir) };
}

/** Splits a scrape target into Prometheus' host:port plus the scheme/path a URL target carries. */
function parseTarget(target: string): { host: string; scheme?: string; path?: string } {
  if (!target.includes('://')) return { host: target };
  const url = new URL(target);
  return {
    host: url.host,
    scheme: url.protocol.replace(/:$/, ''),
    ...(url.pathname !== '/' ? { path: url.pathname } : {}),
  };
}

/** One scrape_configs entry for a job. */
function scrapeJobConfig(job: ScrapeJob): Record<string, unknown> {
  const parsed = job.targets.map(parseTarget);
  const first = parsed[0];
  const metricsPath = job.metricsPath ?? first?.path;
  return {
    job_name: job.job,
    ...(job.scrapeInterval !== undefined ? { scrape_interval: job.scrapeInterval } : {}),
    ...(job.scrapeTimeout !== undefined ? { scrape_timeout: job.scrapeTimeout } : {}),
    ...(first?.scheme !== undefined ? { scheme: first.scheme } : {}),
    ...(metricsPath !== undefined ? { metrics_path: metricsPath } : {}),
    static_configs: [{ targets: parsed.map((t) => t.host) }],
  };
}

/** The `alerting` section that points Prometheus at one Alertmanager. */
function alertingConfig(alertmanagerUrl: string): Record<string, unknown> {
  const url = new URL(alertmanagerUrl);
  return {
    alertmanagers: [
      {
        scheme: url.protocol.replace(/:$/, ''),
        ...(url.pathname !== '/' ? { path_prefix: url.pathname } : {}),
        static_configs: [{ targets: [url.host] }],
      },
    ],
  };
}

/** Renders prometheus.yml from the options (pure; used when no configYaml override is given). */
export function prometheusConfigYaml(opts: PrometheusOptions): string {
  const config: Record<string, unknown> = {
    global: {
      scrape_interval: opts.scrapeInterval ?? '1s',
      evaluation_interval: opts.evaluationInterval ?? '1s',
    },
  };
  const ruleFileNames = Object.keys(opts.ruleFiles ?? {});
  if (ruleFileNames.length > 0) config.rule_files = ruleFileNames;
  if (opts.alertmanagerUrl !== undefined) config.alerting = alertingConfig(opts.alertmanagerUrl);
  config.scrape_configs = (opts.scrapeConfigs ?? []).map(scrapeJobConfig);
  return stringify(config);
}

/** Rejects rule file names that would escape the temp dir. */
function safeFileName(name: string): string {
  if (name === '' || basename(name) !== name || name === '.' || name === '..') {
    throw new Error(`ruleFiles: "${name}" must be a plain file name without directories`);
  }
  return name;
}

/** Runs one instant query against a Prometheus base URL and returns its data. */
async function promQuery(baseUrl: string, query: string): Promise<PromQueryData> {
  const res = await fetch(`${baseUrl}/api/v1/query?${new URLSearchParams({ query }).toString()}`, {
    signal: AbortSignal.timeout(5_000),
  });
  const body = (await res.json()) as { status?: string; data?: PromQueryData; error?: string };
  if (res.status !== 200 || body.status !== 'success' || body.data === undefined) {
    throw new Error(`Prometheus query ${query} failed: HTTP ${res.status}: ${body.error ?? JSON.stringify(body)}`);
  }
  return body.data;
}

/** Polls until the query's result is non-empty. */
async function waitForResult(baseUrl: string, query: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    try {
      const data = await promQuery(baseUrl, query);
      if (data.result.length > 0) return;
      last = `empty ${data.resultType} result`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(200);
  }
  throw new Error(`Prometheus query ${query} had no result within ${timeoutMs} ms (last: ${last})`);
}

/** Starts the real Prometheus server with a generated (or given) config in a temp dir; ready when /-/ready answers 200. */
export async function startPrometheus(opts: PrometheusOptions = {}): Promise<PrometheusHandle> {
  const prepare = async (dir: string): Promise<void> => {
    for (const [name, text] of Object.entries(opts.ruleFiles ?? {})) {
      await writeFile(join(dir, safeFileName(name)), text);
    }
    await writeFile(join(dir, 'prometheus.yml'), opts.configYaml ?? prometheusConfigYaml(opts));
  };
  const { running, dir } = await launchInTempDir('vigil-prometheus-', prepare, {
    name: 'prometheus',
    binary: PROMETHEUS_BIN,
    readyPath: '/-/ready',
    args: (port, d) => [
      `--config.file=${join(d, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(d, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      '--web.enable-admin-api',
      ...(opts.extraArgs ?? []),
    ],
  });
  return {
    url: running.url,
    port: running.port,
    dir,
    configFile: join(dir, 'prometheus.yml'),
    stop: stopper(running, dir),
    waitFor: (query, timeoutMs = 15_000) => waitForResult(running.url, query, timeoutMs),
    query: (query) => promQuery(running.url, query),
  };
}

/** Renders alertmanager.yml: every alert goes to the single webhook receiver `vigil` (pure). */
export function alertmanagerConfigYaml(opts: AlertmanagerOptions): string {
  const webhook: Record<string, unknown> = { url: opts.webhookUrl, send_resolved: true };
  if (opts.bearerToken !== undefined) {
    webhook.http_config = { authorization: { type: 'Bearer', credentials: opts.bearerToken } };
  }
  const config: Record<string, unknown> = {
    ...(opts.resolveTimeout !== undefined ? { global: { resolve_timeout: opts.resolveTimeout } } : {}),
    route: {
      receiver: 'vigil',
      group_by: opts.groupBy ?? ['alertname'],
      group_wait: opts.groupWait ?? '1s',
      group_interval: opts.groupInterval ?? '1s',
      repeat_interval: opts.repeatInterval ?? '1h',
      ...(opts.peerDiscordWebhookUrl ? { routes: [{ receiver: 'vigil', continue: true }, { receiver: 'discord' }] } : {}),
      ...(opts.routes ? { routes: opts.routes.map((r, i) => ({ receiver: `vigil-${i}`, matchers: r.matchers })) } : {}),
    },
    receivers: [
      { name: 'vigil', webhook_configs: [webhook, ...(opts.moreWebhookUrls ?? []).map((url) => ({ ...webhook, url }))] },
      ...(opts.routes ?? []).map((r, i) => ({ name: `vigil-${i}`, webhook_configs: [{ ...webhook, url: r.webhookUrl }] })),
      ...(opts.peerDiscordWebhookUrl ? [{ name: 'discord', discord_configs: [{ webhook_url: opts.peerDiscordWebhookUrl, send_resolved: true }] }] : []),
    ],
  };
  return stringify(config);
}

/** POSTs alerts to Alertmanager's v2 API, throwing with the body text on a non-2xx answer. */
async function postAlertsTo(baseUrl: string, alerts: PostableAlert[]): Promise<void> {
  const res = await fetch(`${baseUrl}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(alerts),
    signal: AbortSignal.timeout(5_000),
  });
  const text = await res.text();
  if (res.status < 200 || res.status > 299) {
    throw new Error(`Alertmanager rejected the alerts: HTTP ${res.status}: ${text}`);
  }
}

/** Starts the real Alertmanager (clustering disabled) with a generated config; ready when /-/ready answers 200. */
export async function startAlertmanager(opts: AlertmanagerOptions): Promise<AlertmanagerHandle> {
  const prepare = (dir: string): Promise<void> => writeFile(join(dir, 'alertmanager.yml'), alertmanagerConfigYaml(opts));
  const { running, dir } = await launchInTempDir('vigil-alertmanager-', prepare, {
    name: 'alertmanager',
    binary: ALERTMANAGER_BIN,
    readyPath: '/-/ready',
    args: (port, d) => [
      `--config.file=${join(d, 'alertmanager.yml')}`,
      `--storage.path=${d}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // Empty disables the gossip cluster: no extra port, no peer settling before notifications.
      '--cluster.listen-address=',
    ],
  });
  return {
    url: running.url,
    port: running.port,
    dir,
    configFile: join(dir, 'alertmanager.yml'),
    stop: stopper(running, dir),
    postAlerts: (alerts) => postAlertsTo(running.url, alerts),
  };
}

/** The compose stack's own Loki config, which the test Loki runs with (paths and ports moved). */
export const STACK_LOKI_CONFIG = new URL('../../deploy/compose/loki/loki.yaml', import.meta.url);

/**
 * A real Loki single binary: `LOKI_BIN` when set (it must then be executable: a wrong path fails
 * loudly rather than quietly testing the double), else `loki` on PATH; undefined when neither.
 */
export function lokiBinary(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const given = env.LOKI_BIN?.trim();
  if (given) {
    accessSync(given, constants.X_OK);
    return given;
  }
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'loki');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this PATH entry
    }
  }
  return undefined;
}

/**
 * A Loki config for a temp dir: every path under the container's `/loki` moved below `dir`, the
 * rest of the YAML unchanged. Throws when the result still names `/loki` (a new path the stack added).
 */
export function lokiConfigForDir(yamlText: string, dir: string): string {
  const move = (value: unknown): unknown => {
    if (typeof value === 'string') return value === '/loki' || value.startsWith('/loki/') ? dir + value.slice('/loki'.length) : value;
    if (Array.isArray(value)) return value.map(move);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, move(v)]));
    return value;
  };
  const text = stringify(move(parse(yamlText)));
  if (/(^|[\s"'])\/loki(\/|$|\s)/m.test(text)) throw new Error(`a path under /loki was left in the Loki config:\n${text}`);
  return text;
}

/** One stream for Loki's push API: its labels and `[ns timestamp, line]` values. */
export interface PushStream {
  stream: Record<string, string>;
  values: Array<[string, string]>;
}

/** Handle on a running Loki. */
export interface LokiHandle {
  url: string;
  port: number;
  /** Temp dir holding loki.yaml and Loki's data. */
  dir: string;
  configFile: string;
  /** Sends streams through POST /loki/api/v1/push; throws with Loki's answer unless 204. */
  push(streams: PushStream[]): Promise<void>;
  /** Kills the process (SIGTERM, SIGKILL after 3 s) and removes its temp dir. */
  stop(): Promise<void>;
}

/** Pushes streams to a Loki (or the double) at baseUrl, the way a log agent does. */
export async function pushToLoki(baseUrl: string, streams: PushStream[]): Promise<void> {
  const res = await fetch(`${baseUrl}/loki/api/v1/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ streams }),
  });
  const body = await res.text();
  if (res.status !== 204) throw new Error(`Loki refused the push: HTTP ${res.status} ${body.trim()}`);
}

/**
 * Starts a real Loki single binary (see {@link lokiBinary}) on 127.0.0.1 with the stack's own
 * loki.yaml (or `configYaml`), its data in a temp dir; ready when /ready answers 200, about 10 s
 * on: the query frontend waits for the scheduler ring. The ingester's 15 s warm-up is cut to 1 s.
 * (A shorter `-frontend.scheduler-dns-lookup-period` makes /ready say ready while queries hang.)
 */
export async function startLoki(opts: { binary?: string; configYaml?: string } = {}): Promise<LokiHandle> {
  const binary = opts.binary ?? lokiBinary();
  if (!binary) throw new Error('no Loki binary: set LOKI_BIN or put loki on PATH');
  const grpcPort = await freePort();
  const prepare = async (dir: string): Promise<void> => {
    await writeFile(join(dir, 'loki.yaml'), lokiConfigForDir(opts.configYaml ?? readFileSync(STACK_LOKI_CONFIG, 'utf8'), dir));
  };
  const { running, dir } = await launchInTempDir('vigil-loki-', prepare, {
    name: 'loki',
    binary,
    readyPath: '/ready',
    readyDeadlineMs: 60_000,
    args: (port, d) => [
      `-config.file=${join(d, 'loki.yaml')}`,
      '-server.http-listen-address=127.0.0.1',
      `-server.http-listen-port=${port}`,
      '-server.grpc-listen-address=127.0.0.1',
      `-server.grpc-listen-port=${grpcPort}`,
      '-ingester.min-ready-duration=1s',
      '-ingester.final-sleep=0s',
    ],
  });
  return {
    url: running.url,
    port: running.port,
    dir,
    configFile: join(dir, 'loki.yaml'),
    push: (streams) => pushToLoki(running.url, streams),
    stop: stopper(running, dir),
  };
}
