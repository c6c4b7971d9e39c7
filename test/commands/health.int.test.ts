import type { APIEmbed } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCommandDeps, testConfig } from '../support/deps.js';
import { health } from '../../src/commands/health.js';
import { createRouter } from '../../src/commands/router.js';
import { OptionError, type CommandDeps } from '../../src/commands/types.js';
import { createPrometheusClient } from '../../src/queries/prometheus.js';
import { startCadvisor, type CadvisorHandle } from '../support/cadvisor.js';
import { recordingAutocomplete, recordingCommand } from '../support/contexts.js';
import { startLokiDouble, type LokiDoubleHandle } from '../support/loki-double.js';
import { startGrafanaDouble } from '../support/grafana-double.js';
import { freePort } from '../support/ports.js';

const GRAFANA_TOKEN = 'glsa_health_test_token_0123456789';
import {
  startAlertmanager,
  startNodeExporter,
  startPrometheus,
  type AlertmanagerHandle,
  type NodeExporterHandle,
  type PrometheusHandle,
} from '../support/procs.js';

describe('/health against real Prometheus, node_exporter, Alertmanager, a closed port and the Loki double', () => {
  let node: NodeExporterHandle;
  let cadvisor: CadvisorHandle;
  let prom: PrometheusHandle;
  let am: AlertmanagerHandle;
  let loki: LokiDoubleHandle;
  /** Nothing listens here: Prometheus' scrapes of it are refused. */
  let deadPort: number;
  /** Nothing listens here either: stands in for an unreachable Grafana. */
  let grafanaPort: number;

  beforeAll(async () => {
    deadPort = await freePort();
    grafanaPort = await freePort();
    [node, cadvisor, loki] = await Promise.all([startNodeExporter(), startCadvisor(), startLokiDouble()]);
    am = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${deadPort}/hook` });
    prom = await startPrometheus({
      scrapeConfigs: [
        { job: 'node', targets: [`127.0.0.1:${node.port}`] },
        { job: 'cadvisor', targets: [cadvisor.target] },
        { job: 'dead', targets: [`127.0.0.1:${deadPort}`] },
      ],
    });
    await Promise.all([prom.waitFor('up{job="dead"} == 0'), prom.waitFor('up{job="node"} == 1'), prom.waitFor('up{job="cadvisor"} == 1')]);
  });

  afterAll(async () => {
    await Promise.all([prom?.stop(), am?.stop(), loki?.stop(), node?.stop(), cadvisor?.stop()]);
  });

  function deps(over: { prometheusUrl?: string; lokiUrl?: string; grafana?: boolean; timeout?: string } = {}): CommandDeps {
    return testCommandDeps(
      testConfig({
        prometheus: { url: over.prometheusUrl ?? prom.url },
        loki: { url: over.lokiUrl ?? loki.url },
        alertmanager: { url: am.url },
        ...(over.grafana === false ? {} : { grafana: { url: `http://127.0.0.1:${grafanaPort}` } }),
        enrichment: { timeout: over.timeout ?? '3s' },
      }),
    );
  }

  /** Runs /health through the router, as a transport would (it sets the defer's ephemeral default). */
  async function run(options: Record<string, string> = {}, d = deps()) {
    const ctx = recordingCommand('health', options);
    await createRouter([health], [], d).handleCommand(ctx);
    const embed = ctx.lastReply()?.embeds?.[0] as APIEmbed;
    return { ctx, embed, lines: embed.description!.split('\n') };
  }

  it('reports the target on a closed port as down with Prometheus’ own lastError, scrape age and duration', async () => {
    const { ctx, embed, lines } = await run();
    expect(ctx.calls[0]).toEqual({ kind: 'defer', ephemeral: false });
    const dead = (await createPrometheusClient({ url: prom.url, timeoutMs: 5_000 }).targets()).active.find((t) => t.labels['job'] === 'dead')!;
    expect(dead.lastError).toContain('connection refused');
    expect(embed.title).toBe('Health: 1 target down, 2 backends not ready');
    expect(embed.color).toBe(0xe74c3c);
    const at = lines.indexOf('❌ **dead** 0/1 up');
    expect(at).toBeGreaterThanOrEqual(0);
    expect(lines[at + 1]).toMatch(new RegExp(`^• \`127\\.0\\.0\\.1:${deadPort}\` · last scrape (just now|\\d+s ago) · took \\S+$`));
    expect(lines[at + 2]).toBe(`↳ ${dead.lastError}`);
    expect(lines[at + 2]).toMatch(/dial tcp 127\.0\.0\.1:\d+: connect: connection refused/);
    expect(lines.indexOf('✅ cadvisor 1/1 · node 1/1 up')).toBeGreaterThan(at);
  });

  it('checks Prometheus, Loki, Alertmanager and Grafana, the one that is not ready first', async () => {
    const { lines } = await run();
    expect(lines[0]).toMatch(/^❌ Grafana unreachable: .*ECONNREFUSED/);
    expect(lines[1]).toBe('❌ Grafana rules: not read: set grafana.token, or grafana.user and grafana.password');
    expect(lines.at(-1)).toBe('✅ Prometheus · Loki · Alertmanager ready');
  });

  it.each([
    ['can be read', { token: GRAFANA_TOKEN }, '✅ Prometheus · Loki · Alertmanager · Grafana · Grafana rules ready'],
    ['are refused', { user: 'admin', password: 'wrong-password' }, '❌ Grafana rules: Grafana HTTP 401: Unauthorized'],
  ])('says whether Grafana alert rules %s with the configured credentials', async (_what, creds, line) => {
    const grafana = await startGrafanaDouble({ token: GRAFANA_TOKEN });
    try {
      const d = testCommandDeps(
        testConfig({ prometheus: { url: prom.url }, loki: { url: loki.url }, alertmanager: { url: am.url }, grafana: { url: grafana.url, ...creds } }),
      );
      const { lines } = await run({ job: 'node' }, d);
      expect(lines).toContain(line);
    } finally {
      await grafana.stop();
    }
  });

  it('is green for a job whose targets are all up, with the configured backends ready', async () => {
    const { embed, lines } = await run({ job: 'node' }, deps({ grafana: false }));
    expect(embed).toMatchObject({ title: 'Health: 1/1 target of node up, 3 backends ready', color: 0x2ecc71 });
    expect(lines).toEqual(['✅ node 1/1 up', '✅ Prometheus · Loki · Alertmanager ready']);
  });

  it('names the jobs that exist when the asked job has no target', async () => {
    const { lines } = await run({ job: 'nope' }, deps({ grafana: false }));
    expect(lines).toContain('⚠️ No scrape target has job `nope`. Jobs: cadvisor, dead, node');
  });

  it('reports Loki down in its client’s words', async () => {
    const down = await startLokiDouble({ mode: 'down' });
    try {
      const { lines } = await run({ job: 'node' }, deps({ lokiUrl: down.url, grafana: false }));
      expect(lines[0]).toMatch(/^❌ Loki unreachable: .*ECONNREFUSED/);
      expect(lines.at(-1)).toBe('✅ Prometheus · Alertmanager ready');
    } finally {
      await down.stop();
    }
  });

  it('bounds every check by enrichment.timeout: a hanging Loki is reported as timed out', async () => {
    const slow = await startLokiDouble({ mode: 'slow', delayMs: 10_000 });
    try {
      const { lines } = await run({ job: 'node' }, deps({ lokiUrl: slow.url, grafana: false, timeout: '1s' }));
      expect(lines[0]).toBe('❌ Loki timed out after 1s');
    } finally {
      await slow.stop();
    }
  });

  it('still answers when Prometheus itself is unreachable', async () => {
    const { embed, lines } = await run({}, deps({ prometheusUrl: `http://127.0.0.1:${deadPort}`, grafana: false }));
    expect(embed.title).toBe('Health: targets unknown, 1 backend not ready');
    expect(lines[0]).toMatch(/^❌ Prometheus unreachable: /);
    expect(lines[1]).toMatch(/^❌ Scrape targets unknown: Prometheus unreachable: /);
  });

  it.each([
    ['an empty', ''],
    ['a blank', '   '],
    ['a 101-character', 'j'.repeat(101)],
  ])('rejects %s job with an OptionError naming job', async (_name, job) => {
    const ctx = recordingCommand('health', { job });
    const err = await health.execute(ctx, deps()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OptionError);
    expect((err as OptionError).option).toBe('job');
    expect(ctx.calls).toEqual([]);
  });

  it('answers a bad option through the router ephemerally, naming the option', async () => {
    const d = deps();
    const ctx = recordingCommand('health', { job: '' });
    await createRouter([health], [], d).handleCommand(ctx);
    expect(ctx.calls).toEqual([{ kind: 'reply', payload: { content: '⚠️ job: expected a scrape job name of 1 to 100 characters' }, ephemeral: true }]);
  });

  it('completes job names from Prometheus’ up series, prefix matches first', async () => {
    const ctx = recordingAutocomplete('health', { name: 'job', value: 'd' });
    await health.autocomplete(ctx, deps());
    expect(ctx.calls).toEqual([{ kind: 'respond', choices: ['dead', 'cadvisor', 'node'].map((v) => ({ name: v, value: v })) }]);
  });
});
