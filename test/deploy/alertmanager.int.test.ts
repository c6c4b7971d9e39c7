import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkWebhookAuth } from '../../src/webhooks/auth.js';
import { parseWebhook } from '../../src/webhooks/intake.js';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/ports.js';
import { ALERTMANAGER_BIN } from '../support/procs.js';
import {
  COMPOSE_DIR,
  EXAMPLE_ENV,
  filledEnv,
  loadCompose,
  loadStackConfig,
  mountTarget,
  readText,
  serviceEnvironment,
  services,
  yamlFile,
  type Dict,
} from './stack.js';

// deploy/compose/alertmanager (--profile alertmanager): amtool's check, then the service exactly as
// compose starts it — its entrypoint script run by /bin/sh with the token in the environment,
// writing the credentials file and exec'ing the real Alertmanager with the shipped config — with
// only the container paths, the listen address and the Vigil host swapped for local ones. What
// reaches the Vigil stand-in must pass Vigil's own webhook authentication and parser.

const execFileAsync = promisify(execFile);
const CONFIG_FILE = join(COMPOSE_DIR, 'alertmanager', 'alertmanager.yml');
const TOKEN = 'alertmanager-test-webhook-token-0123456789';
/** The .env of these tests: the webhook token is TOKEN. */
const DOT_ENV = filledEnv({ VIGIL_WEBHOOK_TOKEN: TOKEN });

interface WebhookConfig {
  url: string;
  send_resolved?: boolean;
  http_config: { authorization: { type: string; credentials_file: string } };
}

interface Route extends Dict {
  receiver: string;
  routes?: Route[];
}

const shipped = yamlFile('alertmanager/alertmanager.yml') as unknown as { route: Route; receivers: { name: string; webhook_configs?: WebhookConfig[] }[] };
const service = services(loadCompose('compose.yaml', DOT_ENV).doc).alertmanager!;
const vigilWebhook = shipped.receivers.find((r) => r.name === 'vigil')!.webhook_configs![0]!;
/** The `sh -c` script of the entrypoint, after compose's interpolation (`$$` is a literal `$`). */
const entrypointScript = (service.entrypoint as string[])[2]!;

/** Replaces `from` with `to` in `text`, failing when `from` is not there (the script changed shape). */
function swap(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`entrypoint script has no "${from}": ${text}`);
  return text.replaceAll(from, to);
}

/** Every route of the tree, the root included. */
function allRoutes(route: Route): Route[] {
  return [route, ...(route.routes ?? []).flatMap(allRoutes)];
}

describe('alertmanager.yml', () => {
  it('passes amtool check-config', async () => {
    const { stdout } = await execFileAsync('/usr/bin/amtool', ['check-config', CONFIG_FILE], { timeout: 30_000 });
    expect(stdout).toContain('SUCCESS');
  });

  it("sends to Vigil's Alertmanager endpoint on the stack network, resolved alerts too, with a Bearer token from a file", () => {
    expect(vigilWebhook.url).toBe('http://vigil:8080/webhooks/alertmanager');
    expect(vigilWebhook.send_resolved).toBe(true);
    expect(vigilWebhook.http_config.authorization.type).toBe('Bearer');
    expect(readText('alertmanager/alertmanager.yml')).not.toMatch(/\bcredentials:/);
  });

  it('groups like the Grafana policy: by alertname and instance', () => {
    expect(shipped.route.receiver).toBe('vigil');
    expect(shipped.route.group_by).toEqual(['alertname', 'instance']);
  });

  it('is mounted where the entrypoint reads it, and the token file lands on the tmpfs the config names', () => {
    const target = mountTarget(service, './alertmanager/alertmanager.yml');
    expect(target).toBeDefined();
    expect(entrypointScript).toContain(`--config.file=${target}`);
    const tokenFile = vigilWebhook.http_config.authorization.credentials_file;
    expect(service.tmpfs as string[]).toContain(dirname(tokenFile));
    expect(entrypointScript).toContain(`"$VIGIL_WEBHOOK_TOKEN" > ${tokenFile}`);
    expect(serviceEnvironment('alertmanager', DOT_ENV).VIGIL_WEBHOOK_TOKEN).toBe(TOKEN);
    expect(() => serviceEnvironment('alertmanager', EXAMPLE_ENV)).toThrow(/refuse to start alertmanager: VIGIL_WEBHOOK_TOKEN/);
  });
});

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

describe('the compose service, run for real', () => {
  let dir: string;
  let tokenFile: string;
  let vigil: Server;
  let child: ChildProcess;
  let url: string;
  let stderr = '';
  const received: Received[] = [];

  /** The shipped config with the Vigil host, the token file and the group timers made local. */
  function localConfig(vigilPort: number): string {
    const config = structuredClone(shipped);
    const webhook = config.receivers.find((r) => r.name === 'vigil')!.webhook_configs![0]!;
    const shippedUrl = new URL(webhook.url);
    webhook.url = `http://127.0.0.1:${vigilPort}${shippedUrl.pathname}`;
    webhook.http_config.authorization.credentials_file = tokenFile;
    // Seconds instead of minutes; grouping and routing stay as shipped.
    for (const route of allRoutes(config.route)) {
      if (route.group_wait !== undefined || route === config.route) route.group_wait = '1s';
      if (route.group_interval !== undefined || route === config.route) route.group_interval = '1s';
    }
    return stringify(config);
  }

  /** Fails at once when Alertmanager has exited: nothing it should do can happen any more. */
  function assertRunning(): void {
    if (child.exitCode !== null) throw new Error(`alertmanager exited (${child.exitCode})`);
  }

  /** Rethrows a failed wait with what Alertmanager said last. */
  function withStderr(err: unknown): never {
    throw new Error(`${err instanceof Error ? err.message : String(err)}; alertmanager stderr: ${stderr.slice(-2000)}`, { cause: err });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-am-'));
    mkdirSync(join(dir, 'run'));
    mkdirSync(join(dir, 'data'));
    tokenFile = join(dir, 'run', 'webhook-token');
    vigil = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"accepted"}');
      });
    });
    await new Promise<void>((done) => vigil.listen(0, '127.0.0.1', done));
    const configPath = join(dir, 'alertmanager.yml');
    writeFileSync(configPath, localConfig((vigil.address() as AddressInfo).port));

    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    let script = swap(entrypointScript, vigilWebhook.http_config.authorization.credentials_file, tokenFile);
    script = swap(script, 'exec /bin/alertmanager ', `exec ${ALERTMANAGER_BIN} `);
    script = swap(script, '--config.file=/etc/alertmanager/alertmanager.yml', `--config.file=${configPath}`);
    script = swap(script, '--storage.path=/alertmanager', `--storage.path=${join(dir, 'data')}`);
    script = `${script} --web.listen-address=127.0.0.1:${port}`;
    child = spawn('/bin/sh', ['-c', script], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', VIGIL_WEBHOOK_TOKEN: TOKEN },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-8000)));
    await eventually('/-/ready', async () => {
      assertRunning();
      try {
        const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
        await res.arrayBuffer();
        return res.status === 200 ? true : undefined;
      } catch {
        return undefined;
      }
    }).catch(withStderr);
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
    }
    await new Promise<void>((done) => vigil?.close(() => done()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the token from the environment to a file only its user can read', () => {
    expect(readFileSync(tokenFile, 'utf8')).toBe(TOKEN);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
  });

  it("delivers a Prometheus rule alert that passes Vigil's webhook authentication and parser, and drops the Watchdog", async () => {
    const res = await fetch(`${url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { labels: { alertname: 'GrafanaDown', job: 'grafana', instance: 'grafana', severity: 'critical' }, annotations: { summary: 'Grafana is down' } },
        { labels: { alertname: 'Watchdog', severity: 'none' } },
      ]),
    });
    expect(res.status).toBe(200);
    const delivery = await eventually('a webhook at the Vigil stand-in', () => {
      assertRunning();
      return received[0];
    }).catch(withStderr);
    expect(delivery.path).toBe('/webhooks/alertmanager');

    const auth = checkWebhookAuth({ headers: delivery.headers, rawBody: delivery.body, now: new Date() }, loadStackConfig(DOT_ENV).webhook);
    expect(auth).toEqual({ ok: true, method: 'bearer' });

    const intake = parseWebhook('alertmanager', delivery.headers['content-type'], delivery.body, new Date());
    if (!intake.ok) throw new Error(intake.error);
    expect(intake.notification.receiver).toBe('vigil');
    expect(intake.notification.groupLabels).toEqual({ alertname: 'GrafanaDown', instance: 'grafana' });
    expect(intake.notification.alerts.map((a) => a.labels.alertname)).toEqual(['GrafanaDown']);

    const groups = (await (await fetch(`${url}/api/v2/alerts/groups`)).json()) as { receiver: { name: string }; alerts: { labels: Dict }[] }[];
    const byReceiver = Object.fromEntries(groups.map((g) => [g.receiver.name, g.alerts.map((a) => a.labels.alertname)]));
    expect(byReceiver).toEqual({ vigil: ['GrafanaDown'], blackhole: ['Watchdog'] });
    expect(received.every((r) => !r.body.toString().includes('"Watchdog"'))).toBe(true);
  });
});
