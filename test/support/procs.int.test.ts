import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAlertmanager, startNodeExporter, startPrometheus, type AlertmanagerHandle, type NodeExporterHandle, type PrometheusHandle } from './procs.js';

const execFileAsync = promisify(execFile);

const TOKEN = 'harness-test-token';

interface WebhookAlert {
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

interface WebhookBody {
  version: string;
  status: string;
  receiver: string;
  groupLabels: Record<string, string>;
  alerts: WebhookAlert[];
}

interface Delivery {
  authorization: string | undefined;
  contentType: string | undefined;
  body: WebhookBody;
}

/** Tiny webhook receiver that records every POST. */
class Receiver {
  readonly deliveries: Delivery[] = [];
  private server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.deliveries.push({
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookBody,
      });
      res.writeHead(200).end();
    });
  });
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('receiver has no port');
    this.url = `http://127.0.0.1:${address.port}/alerts`;
  }

  /** Waits until a delivery for the given alertname group arrives. */
  async waitForGroup(alertname: string, timeoutMs = 10_000): Promise<Delivery> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.deliveries.find((d) => d.body.groupLabels.alertname === alertname);
      if (found) return found;
      await sleep(100);
    }
    throw new Error(`no webhook for ${alertname} within ${timeoutMs} ms; got ${JSON.stringify(this.deliveries)}`);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const RULES = `groups:
  - name: harness
    rules:
      - alert: HarnessNodeUp
        expr: up{job="node"} == 1
        labels:
          severity: info
        annotations:
          summary: node_exporter is being scraped
`;

describe('real Prometheus components', () => {
  const receiver = new Receiver();
  let node: NodeExporterHandle;
  let am: AlertmanagerHandle;
  let prom: PrometheusHandle;

  beforeAll(async () => {
    await receiver.start();
    [node, am] = await Promise.all([startNodeExporter(), startAlertmanager({ webhookUrl: receiver.url, bearerToken: TOKEN, groupWait: '1s' })]);
    prom = await startPrometheus({
      scrapeConfigs: [{ job: 'node', targets: [`127.0.0.1:${node.port}`] }],
      ruleFiles: { 'harness.rules.yml': RULES },
      alertmanagerUrl: am.url,
    });
  });

  afterAll(async () => {
    await Promise.all([prom?.stop(), am?.stop(), node?.stop()]);
    await receiver.close();
  });

  it('scrapes the real node_exporter until up{job="node"} is 1', async () => {
    await prom.waitFor('up{job="node"} == 1');
    const data = await prom.query('up{job="node"}');
    expect(data.resultType).toBe('vector');
    expect(data.result).toEqual([{ metric: { __name__: 'up', instance: `127.0.0.1:${node.port}`, job: 'node' }, value: [expect.any(Number), '1'] }]);
  });

  it('stores node_cpu_seconds_total samples from the scrape', async () => {
    await prom.waitFor('node_cpu_seconds_total{job="node"}');
    const data = await prom.query('count(node_cpu_seconds_total{job="node", mode="idle"})');
    const [sample] = data.result as Array<{ value: [number, string] }>;
    expect(Number(sample?.value[1])).toBeGreaterThanOrEqual(1);
  });

  it('loads the rule files written beside prometheus.yml', async () => {
    const res = await fetch(`${prom.url}/api/v1/rules`);
    const body = (await res.json()) as { data: { groups: Array<{ name: string; file: string; rules: Array<{ name: string }> }> } };
    expect(body.data.groups.map((g) => [g.name, g.file, g.rules.map((r) => r.name)])).toEqual([
      ['harness', `${prom.dir}/harness.rules.yml`, ['HarnessNodeUp']],
    ]);
  });

  it('delivers a posted alert to the webhook with the bearer token and a version 4 body', async () => {
    const labels = { alertname: 'HarnessPosted', severity: 'critical', service: 'api' };
    await am.postAlerts([{ labels, annotations: { summary: 'posted by the harness test' } }]);
    const delivery = await receiver.waitForGroup('HarnessPosted');
    expect(delivery.authorization).toBe(`Bearer ${TOKEN}`);
    expect(delivery.contentType).toMatch(/^application\/json/);
    expect(delivery.body).toMatchObject({ version: '4', status: 'firing', receiver: 'vigil' });
    expect(delivery.body.alerts).toHaveLength(1);
    expect(delivery.body.alerts[0]).toMatchObject({
      status: 'firing',
      labels,
      annotations: { summary: 'posted by the harness test' },
    });
  });

  it('routes an alert fired by a Prometheus rule through Alertmanager to the webhook', async () => {
    const delivery = await receiver.waitForGroup('HarnessNodeUp', 15_000);
    expect(delivery.body.alerts[0]?.labels).toMatchObject({
      alertname: 'HarnessNodeUp',
      job: 'node',
      instance: `127.0.0.1:${node.port}`,
      severity: 'info',
    });
  });

  it('postAlerts throws with the Alertmanager error text on a rejected alert', async () => {
    await expect(am.postAlerts([{ labels: {} }])).rejects.toThrow(/HTTP 400: .*label/i);
  });

  it('generates an Alertmanager config that amtool check-config accepts', async () => {
    const { stdout } = await execFileAsync('/usr/bin/amtool', ['check-config', am.configFile]);
    expect(stdout).toContain('SUCCESS');
    expect(stdout).toContain(' - 1 receivers');
  });

  it('rejects with the stderr tail when Prometheus cannot load its config', async () => {
    await expect(startPrometheus({ configYaml: 'scrape_configs: {not: a list}\n' })).rejects.toThrow(/prometheus exited .*stderr tail:[\s\S]*config/);
  });

  it('stop() kills the process and removes its temp dir', async () => {
    const extra = await startNodeExporter();
    expect(existsSync(extra.dir)).toBe(true);
    await extra.stop();
    expect(existsSync(extra.dir)).toBe(false);
    await expect(fetch(`${extra.url}/metrics`)).rejects.toThrow();
  });
});
