import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs, promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startE2eStack } from '../test/e2e/bot.js';
import { cleanUp, defer } from './cleanup.js';
import { runEnrichment, runEnrichmentWithChart } from './enrichment.js';
import { machineFacts } from './proc.js';
import { bundleECharts } from '../scripts/echarts-bundle.js';
import { renderReport, spliceSection, storageSection, type StorageInput } from './report.js';
import { FUZZ, runFuzz } from './fuzz.js';
import { runSingleAlerts, SINGLE } from './single.js';
import { runSoak, SOAK } from './soak.js';
import { runStorageComparison } from './storage.js';
import { runStorm, type StormResult } from './storm.js';
import { composeRuntimeEnv, runWebhookLoad, type WebhookLoadResult } from './webhook-load.js';

// `npm run bench`: measures Vigil on this machine and writes BENCHMARKS.md. Exits non-zero only
// when a benchmark cannot run (a component fails, a message never arrives), never on slow numbers.
// `npm run bench -- --only storage`: measures section 8 (SQLite beside PostgreSQL) alone and
// replaces that section in the existing BENCHMARKS.md, leaving the others as they are.

const run = promisify(execFile);
const REPORT = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
const CHANNEL = '223456789012345678';
const LOAD = { rate: 50, durationS: 20, deliveryDeadlineMs: 90_000 };
/** Section 8: section 1's load, with more time for the last message (on PostgreSQL delivery may fall far behind). */
const STORAGE_LOAD = { ...LOAD, deliveryDeadlineMs: 300_000 };
const ENRICHMENT = { runs: 50, timeout: '1s' };
const WITH_CHART = { runs: 50, timeout: '1s' };
/**
 * Setups of section 3: loopback; both backends on another host (latency per request); and Loki
 * slower than Prometheus, as log queries scanning chunks over the window usually are.
 */
const CHART_SETUPS = [
  { name: 'loopback', delays: { prometheus: 0, loki: 0 } },
  { name: '+50 ms per request', delays: { prometheus: 50, loki: 50 } },
  { name: 'Prometheus +50 ms, Loki +250 ms', delays: { prometheus: 50, loki: 250 } },
] as const;

/** Section 4: the same 1,000 alerts as 1,000 groups and as 10 groups of 100. */
const STORM_SCENARIOS = [
  { name: '1,000 groups (`group_by: [...]`)', groupBy: ['...'] },
  { name: '10 groups of 100 (`group_by: [alertname]`)', groupBy: ['alertname'] },
];

/** The sections `--only` can produce alone, and the command that does. */
const ONLY = { storage: 'npm run bench -- --only storage' } as const;
type Only = keyof typeof ONLY;

function onlyOf(argv: string[]): Only | undefined {
  const { only } = parseArgs({ args: argv, options: { only: { type: 'string' } } }).values;
  if (only === undefined) return undefined;
  if (!Object.hasOwn(ONLY, only)) throw new Error(`--only ${only}: not a section that runs alone (${Object.keys(ONLY).join(', ')})`);
  return only as Only;
}

function step(text: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}`);
}

async function main(only: Only | undefined): Promise<void> {
  const started = Date.now();
  step('starting node_exporter, Prometheus, the Loki and Discord doubles');
  // The load and enrichment sections measure the bot itself: a Discord double without Discord's rate
  // limits (the storm section has them, with a double of its own).
  const stack = await startE2eStack({ channels: [CHANNEL], rateLimits: false });
  defer(() => stack.stop());
  const { prometheus, loki, discord } = stack;
  // The CPU expression uses rate(...[5m]): it needs two scrapes of node_exporter.
  await prometheus.waitFor('rate(node_cpu_seconds_total{job="node",mode="idle"}[5m])');

  step('npm run build: the load test runs the compiled bot, as the Docker image does');
  await bundleECharts();
  await run(process.execPath, [fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url)), '-p', 'tsconfig.build.json'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
  });
  const where = { prometheusUrl: prometheus.url, lokiUrl: loki.url, discord, channelId: CHANNEL };
  const storageInput = async (sqlite?: WebhookLoadResult): Promise<StorageInput> => {
    const storageStarted = Date.now();
    const runs = await runStorageComparison({ ...STORAGE_LOAD, ...where }, step, sqlite);
    const command = only ? ONLY[only] : 'npm run bench';
    return { ...runs, opts: STORAGE_LOAD, command, date: new Date(started), cpu: machineFacts()[0]!, totalS: (Date.now() - storageStarted) / 1000 };
  };
  if (only === 'storage') {
    const storage = await storageInput();
    const section = storageSection(storage);
    await writeFile(REPORT, spliceSection(await readFile(REPORT, 'utf8'), section, storage));
    console.log(`\n${section}\n`);
    step(`replaced section 8 of ${REPORT} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    return;
  }

  step(`webhook load: ${LOAD.rate} req/s for ${LOAD.durationS} s`);
  const load = await runWebhookLoad({ ...LOAD, ...where });
  // Section 8 right after section 1, whose run is its SQLite column.
  const storage = await storageInput(load);
  step(`enrichment: ${ENRICHMENT.runs} runs × 3 cases`);
  const cases = await runEnrichment({ ...ENRICHMENT, prometheusUrl: prometheus.url, loki });
  const setups = [];
  for (const setup of CHART_SETUPS) {
    step(`enrichment with the chart: ${WITH_CHART.runs} runs, ${setup.name}`);
    setups.push({ name: setup.name, result: await runEnrichmentWithChart({ ...WITH_CHART, prometheusUrl: prometheus.url, loki, delays: setup.delays }) });
  }

  const storms: StormResult[] = [];
  for (const scenario of STORM_SCENARIOS) {
    step(`storm: ${scenario.name}, Vigil beside Alertmanager's discord_configs`);
    storms.push(await runStorm(scenario, composeRuntimeEnv()));
  }

  step(`one alert at a time: ${SINGLE.alerts} alerts, ${SINGLE.spacingMs / 1000} s apart`);
  const single = await runSingleAlerts({ prometheusUrl: prometheus.url, lokiUrl: loki.url, runtimeEnv: composeRuntimeEnv() });

  step(`fuzz: ${FUZZ.bodies} generated bodies, ${FUZZ.inFlight} in flight`);
  const fuzz = await runFuzz({ prometheusUrl: prometheus.url, lokiUrl: loki.url, runtimeEnv: composeRuntimeEnv() });

  step(`idle in gateway mode, then the soak: ${SOAK.rate} alerts/s for ${SOAK.minutes} minutes`);
  const soak = await runSoak({ prometheusUrl: prometheus.url, lokiUrl: loki.url, runtimeEnv: composeRuntimeEnv() });

  const report = renderReport({
    date: new Date(started),
    machine: machineFacts(),
    load: { opts: LOAD, result: load },
    enrichment: { ...ENRICHMENT, cases },
    withChart: { timeout: WITH_CHART.timeout, setups },
    storms,
    single,
    fuzz,
    soak,
    storage,
    totalS: (Date.now() - started) / 1000,
  });
  await writeFile(REPORT, report);
  console.log(`\n${report}`);
  step(`wrote ${REPORT}`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`bench: ${signal}, cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  });
}

let code = 0;
try {
  await main(onlyOf(process.argv.slice(2)));
} catch (err) {
  console.error(`bench failed: ${(err as Error).stack ?? String(err)}`);
  code = 1;
} finally {
  await cleanUp();
}
process.exit(code);
