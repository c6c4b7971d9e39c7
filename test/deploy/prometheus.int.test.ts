import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LOG_LABEL_MAP } from '../../src/config/schema.js';
import { logSelectorForAlert } from '../../src/queries/promql.js';
import { freePort } from '../support/ports.js';
import { startNodeExporter, startPrometheus, type NodeExporterHandle, type PrometheusHandle } from '../support/procs.js';

// deploy/compose/prometheus checked by Debian's promtool, then loaded by a real Prometheus:
// the same prometheus.yml, rule files and file_sd target files, with each compose service name
// swapped for a loopback address (node-exporter -> a real node_exporter, cadvisor and vigil ->
// small exporters serving their metric names, everything else -> a closed port).

const execFileAsync = promisify(execFile);
const PROMETHEUS_DIR = fileURLToPath(new URL('../../deploy/compose/prometheus/', import.meta.url));
/** Where compose.yaml mounts the folder inside the container. */
const MOUNT = '/etc/prometheus';
const RULES_DIR = join(PROMETHEUS_DIR, 'rules');
const RULE_FILES = readdirSync(RULES_DIR)
  .filter((f) => f.endsWith('.yml'))
  .sort();

type Dict = Record<string, unknown>;

interface TargetGroup {
  targets: string[];
  labels?: Record<string, string>;
}

interface RuleFile {
  groups: { name: string; rules: ({ alert?: string; record?: string } & Dict)[] }[];
}

function readConfig(): Dict {
  return parse(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as Dict;
}

function scrapeConfigs(config: Dict): Dict[] {
  return config.scrape_configs as Dict[];
}

/** Copies the folder to a temp dir and points the config's container paths at the copy. */
function stageFolder(): { dir: string; configFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-prom-stage-'));
  cpSync(PROMETHEUS_DIR, dir, { recursive: true });
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, readFileSync(configFile, 'utf8').replaceAll(`${MOUNT}/`, `${dir}/`));
  return { dir, configFile };
}

async function promtool(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await execFileAsync('/usr/bin/promtool', args, { timeout: 30_000 });
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('promtool', () => {
  let stage: { dir: string; configFile: string };

  beforeAll(() => {
    stage = stageFolder();
  });

  afterAll(() => {
    rmSync(stage.dir, { recursive: true, force: true });
  });

  it('passes check config, with every rule file and file_sd target file it names', async () => {
    const { code, output } = await promtool(['check', 'config', stage.configFile]);
    expect(output).toContain('SUCCESS');
    expect(output).toContain(`SUCCESS: ${RULE_FILES.length} rule files found`);
    expect(output).not.toContain('WARNING');
    expect(code).toBe(0);
  });

  it.each(RULE_FILES)('passes check rules for rules/%s', async (file) => {
    const { code, output } = await promtool(['check', 'rules', join(RULES_DIR, file)]);
    expect(output).toContain('SUCCESS');
    expect(code).toBe(0);
  });

  it('fires the stack alerts with the labels and texts Vigil will post (promtool test rules)', async () => {
    const tests = {
      rule_files: RULE_FILES.map((f) => join(stage.dir, 'rules', f)),
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            { series: 'vigil_outbox_oldest_age_seconds{job="vigil",instance="vigil"}', values: '0 700x15' },
            { series: 'up{job="grafana",instance="grafana"}', values: '1 0x10' },
            { series: 'node_memory_MemAvailable_bytes{job="node",instance="nas"}', values: '250x5' },
            { series: 'node_memory_MemTotal_bytes{job="node",instance="nas"}', values: '1000x5' },
          ],
          alert_rule_test: [
            {
              eval_time: '1m',
              alertname: 'Watchdog',
              exp_alerts: [
                {
                  exp_labels: { severity: 'none' },
                  exp_annotations: {
                    summary: 'Always firing, to prove Prometheus -> Alertmanager -> Vigil works',
                    description: "This alert fires all the time. Vigil's heartbeat watches for it and warns when it stops arriving.",
                  },
                },
              ],
            },
            // 1m down is not yet an outage (for: 2m); 5m is.
            { eval_time: '2m', alertname: 'GrafanaDown', exp_alerts: [] },
            {
              eval_time: '5m',
              alertname: 'GrafanaDown',
              exp_alerts: [
                {
                  exp_labels: { severity: 'critical', job: 'grafana', instance: 'grafana' },
                  exp_annotations: {
                    summary: 'Grafana is down, so none of its alert rules are evaluated',
                    description:
                      "Prometheus has failed to scrape Grafana (grafana) for 2 minutes. Host, container and log alerts are Grafana's; until it is back, none of them can fire.",
                  },
                },
              ],
            },
            {
              eval_time: '10m',
              alertname: 'VigilOutboxStuck',
              exp_alerts: [
                {
                  exp_labels: { severity: 'critical', job: 'vigil', instance: 'vigil' },
                  exp_annotations: {
                    summary: 'Vigil has not delivered a Discord message for 11m 40s',
                    description:
                      "The oldest message in Vigil's outbox is 11m 40s old. Discord is unreachable, the bot token was revoked, or the bot lost access to the channel; see Vigil's logs.",
                  },
                },
              ],
            },
          ],
          promql_expr_test: [
            {
              expr: 'instance:node_memory_utilisation:ratio',
              eval_time: '2m',
              exp_samples: [{ labels: 'instance:node_memory_utilisation:ratio{job="node",instance="nas"}', value: 0.75 }],
            },
          ],
        },
      ],
    };
    const file = join(stage.dir, 'rules.test.yml');
    writeFileSync(file, stringify(tests));
    const { code, output } = await promtool(['test', 'rules', file]);
    expect(output).toContain('SUCCESS');
    expect(code).toBe(0);
  });
});

/** A tiny exporter: GET /metrics answers the given text exposition. */
async function startExporter(text: string): Promise<{ server: Server; target: string }> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(text);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, target: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** cAdvisor's shape: the root cgroup, a host service's cgroup and a container, plus a machine series. */
const CADVISOR_METRICS = `# TYPE container_cpu_usage_seconds_total counter
container_cpu_usage_seconds_total{cpu="total",id="/",image="",name=""} 1500
container_cpu_usage_seconds_total{cpu="total",id="/system.slice/ssh.service",image="",name=""} 12
container_cpu_usage_seconds_total{cpu="total",id="/system.slice/docker-0123abcd.scope",image="nginx:1.27",name="web"} 340
# TYPE machine_cpu_cores gauge
machine_cpu_cores 4
`;

/** Vigil's outbox gauges, with a message stuck for 15 minutes. */
const VIGIL_METRICS = `# TYPE vigil_outbox_depth gauge
vigil_outbox_depth 3
# TYPE vigil_outbox_oldest_age_seconds gauge
vigil_outbox_oldest_age_seconds 900
`;

/** Maps the compose service targets of the config to loopback addresses. */
type TargetMap = (target: string) => string;

/** Rewrites one scrape config for the harness; file_sd files are rewritten into `dir`. */
function rewriteScrapeConfig(job: Dict, map: TargetMap, dir: string, closed: string): Dict {
  const out: Dict = { ...job };
  if (job.static_configs) {
    out.static_configs = (job.static_configs as TargetGroup[]).map((g) => ({ ...g, targets: g.targets.map(map) }));
  }
  if (job.file_sd_configs) {
    out.file_sd_configs = (job.file_sd_configs as { files: string[] }[]).map((sd) => ({
      ...sd,
      files: sd.files.map((file) => {
        const groups = parse(readFileSync(join(PROMETHEUS_DIR, file.slice(MOUNT.length + 1)), 'utf8')) as TargetGroup[];
        const copy = join(dir, basename(file));
        writeFileSync(copy, stringify(groups.map((g) => ({ ...g, targets: g.targets.map(map) }))));
        return copy;
      }),
    }));
  }
  if (job.dns_sd_configs) {
    // A DNS lookup would leave the machine: the profile service is a closed loopback port here.
    delete out.dns_sd_configs;
    out.static_configs = [{ targets: [closed] }];
  }
  return out;
}

/** The shipped config with 1s intervals, loopback targets and rule files beside it. */
function harnessConfig(map: TargetMap, dir: string, closed: string): Dict {
  const config = readConfig();
  const global = config.global as Dict;
  Object.assign(global, { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' });
  config.rule_files = RULE_FILES;
  config.alerting = { alertmanagers: [{ static_configs: [{ targets: [closed] }] }] };
  config.scrape_configs = scrapeConfigs(config).map((job) => rewriteScrapeConfig(job, map, dir, closed));
  return config;
}

/** Every target of the rewritten config, file_sd files included. */
function allTargets(config: Dict): string[] {
  return scrapeConfigs(config).flatMap((job) => [
    ...((job.static_configs as TargetGroup[] | undefined) ?? []).flatMap((g) => g.targets),
    ...((job.file_sd_configs as { files: string[] }[] | undefined) ?? []).flatMap((sd) =>
      sd.files.flatMap((f) => (parse(readFileSync(f, 'utf8')) as TargetGroup[]).flatMap((g) => g.targets)),
    ),
  ]);
}

interface ApiRule {
  name: string;
  health: string;
  lastError?: string;
  lastEvaluation: string;
}

async function rules(url: string): Promise<ApiRule[]> {
  const res = await fetch(`${url}/api/v1/rules`, { signal: AbortSignal.timeout(5_000) });
  const body = (await res.json()) as { data: { groups: { rules: ApiRule[] }[] } };
  return body.data.groups.flatMap((g) => g.rules);
}

/** Polls /api/v1/rules until every rule has been evaluated at least once. */
async function evaluatedRules(url: string, expected: number, timeoutMs = 20_000): Promise<ApiRule[]> {
  const deadline = Date.now() + timeoutMs;
  let last: ApiRule[] = [];
  while (Date.now() < deadline) {
    last = await rules(url);
    if (last.length === expected && last.every((r) => !r.lastEvaluation.startsWith('0001-'))) return last;
    await sleep(200);
  }
  throw new Error(`rules not all evaluated within ${timeoutMs} ms: ${JSON.stringify(last.map((r) => [r.name, r.lastEvaluation]))}`);
}

describe('the shipped config in a real Prometheus', () => {
  let nodeExporter: NodeExporterHandle;
  let cadvisor: { server: Server; target: string };
  let vigil: { server: Server; target: string };
  let prometheus: PrometheusHandle;
  let dir: string;
  let config: Dict;

  const ruleTexts = Object.fromEntries(RULE_FILES.map((f) => [f, readFileSync(join(RULES_DIR, f), 'utf8')]));
  const ruleCount = Object.values(ruleTexts).reduce((n, text) => n + (parse(text) as RuleFile).groups.reduce((m, g) => m + g.rules.length, 0), 0);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-prom-sd-'));
    [nodeExporter, cadvisor, vigil] = await Promise.all([startNodeExporter(), startExporter(CADVISOR_METRICS), startExporter(VIGIL_METRICS)]);
    const closed = `127.0.0.1:${await freePort()}`;
    const known: Record<string, string> = {
      'node-exporter:9100': `127.0.0.1:${nodeExporter.port}`,
      'cadvisor:8080': cadvisor.target,
      'vigil:8080': vigil.target,
    };
    config = harnessConfig((t) => known[t] ?? closed, dir, closed);
    prometheus = await startPrometheus({ configYaml: stringify(config), ruleFiles: ruleTexts });
  });

  afterAll(async () => {
    await prometheus?.stop();
    await nodeExporter?.stop();
    for (const s of [cadvisor, vigil]) if (s) await new Promise<void>((done) => s.server.close(() => done()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('scrapes only loopback addresses once the service names are mapped', () => {
    const targets = allTargets(config);
    expect(targets.length).toBeGreaterThanOrEqual(scrapeConfigs(config).length);
    expect(targets.filter((t) => !t.startsWith('127.0.0.1:'))).toEqual([]);
  });

  it('evaluates every rule of every rule file without an error', async () => {
    const evaluated = await evaluatedRules(prometheus.url, ruleCount);
    expect(evaluated.map((r) => r.name).sort()).toEqual(
      Object.values(ruleTexts)
        .flatMap((t) => (parse(t) as RuleFile).groups.flatMap((g) => g.rules.map((r) => r.alert ?? r.record!)))
        .sort(),
    );
    const unhealthy = evaluated.filter((r) => r.health !== 'ok' || (r.lastError ?? '') !== '');
    expect(unhealthy).toEqual([]);
  });

  it('names the node-exporter target after the host, from the file_sd labels', async () => {
    await prometheus.waitFor('up{job="node",instance="monitoring"} == 1');
    const up = await prometheus.query('up{job="node"}');
    expect(up.result).toHaveLength(1);
  });

  it('scrapes Vigil and cAdvisor, and drops host-service cgroups but keeps the root and containers', async () => {
    await prometheus.waitFor('up{job="vigil",instance="vigil"} == 1');
    await prometheus.waitFor('up{job="cadvisor",instance="monitoring"} == 1');
    await prometheus.waitFor('machine_cpu_cores{job="cadvisor"}');
    const cpu = await prometheus.query('container_cpu_usage_seconds_total{job="cadvisor"}');
    const ids = (cpu.result as { metric: Record<string, string> }[]).map((r) => r.metric.id).sort();
    expect(ids).toEqual(['/', '/system.slice/docker-0123abcd.scope']);
  });

  it('records host ratios from the real node_exporter, between 0 and 1', async () => {
    for (const name of [
      'instance:node_memory_utilisation:ratio',
      'instance:node_cpu_utilisation:ratio_rate5m',
      'instance_mountpoint:node_filesystem_avail:ratio',
    ]) {
      const query = `${name}{job="node",instance="monitoring"}`;
      await prometheus.waitFor(query);
      const values = ((await prometheus.query(query)).result as { value: [number, string] }[]).map((r) => Number(r.value[1]));
      expect(values.length, name).toBeGreaterThan(0);
      for (const v of values) {
        expect(v, name).toBeGreaterThanOrEqual(0);
        expect(v, name).toBeLessThanOrEqual(1);
      }
    }
  });

  it("labels targets so Vigil's log selector finds the logs: a stack service by compose service, a host by host", async () => {
    await prometheus.waitFor('up{job="node"} == 1');
    const up = (await prometheus.query('up')).result as { metric: Record<string, string> }[];
    const selectors = Object.fromEntries(up.map((r) => [r.metric.job!, logSelectorForAlert(r.metric, DEFAULT_LOG_LABEL_MAP)]));
    const composeServices = Object.keys((parse(readFileSync(join(PROMETHEUS_DIR, '..', 'compose.yaml'), 'utf8')) as { services: Dict }).services);
    for (const job of ['prometheus', 'loki', 'grafana', 'alloy', 'vigil']) {
      expect(selectors[job], job).toBe(`{compose_service="${job}"}`);
      expect(composeServices).toContain(job);
    }
    expect(selectors.node).toBe('{host="monitoring"}');
    expect(selectors.cadvisor).toBe('{host="monitoring"}');
  });

  it('fires the Watchdog and puts the stuck outbox on its way to an alert', async () => {
    await prometheus.waitFor('ALERTS{alertname="Watchdog",alertstate="firing"}');
    await prometheus.waitFor('ALERTS{alertname="VigilOutboxStuck",alertstate="pending",job="vigil",instance="vigil"}');
  });
});
