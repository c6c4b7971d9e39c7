import { spawn } from 'node:child_process';
import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  filledEnv,
  loadCompose,
  loadStackConfig,
  mountTarget,
  readText,
  REPO_ROOT,
  REQUIRED_FILLS,
  serviceEnvironment,
  services,
  VIGIL_YAML_REL,
  type Dict,
} from './stack.js';

// deploy/compose/vigil.yaml: `vigil check-config` as a user runs it, with the environment compose
// gives the bot (.env.example's values, plus the secrets .env.example leaves for the user to
// choose), and the config's agreement with compose.yaml: service URLs, port, volumes, snapshots.

/** The compose services Vigil talks to, and the port each listens on (ISSUE4's shared names). */
const SERVICE_PORTS: Record<string, number> = { prometheus: 9090, loki: 3100, grafana: 3000, alertmanager: 9093 };

const dotEnv = filledEnv();
const stack = loadCompose('compose.yaml', dotEnv).doc;
const vigilService = services(stack).vigil!;
/** .env with --profile ha's password set: both replicas then get the bundled PostgreSQL's URL. */
const POSTGRES_PASSWORD = 'deploy-test-postgres-password-0123456789abcdef';
const haEnv = filledEnv({ VIGIL_POSTGRES_PASSWORD: POSTGRES_PASSWORD });

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node --import tsx src/cli.ts check-config --config deploy/compose/vigil.yaml` with exactly `env`. */
function checkConfig(env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'check-config', '--config', VIGIL_YAML_REL], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('vigil check-config on deploy/compose/vigil.yaml', () => {
  it('passes with the environment compose gives the vigil service', async () => {
    const run = await checkConfig(serviceEnvironment('vigil', dotEnv));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${VIGIL_YAML_REL}: OK`);
    expect(run.stdout).toMatch(/prometheus:\s+http:\/\/prometheus:9090/);
    expect(run.stdout).toMatch(/loki:\s+http:\/\/loki:3100/);
    // Grafana's rules are read with the stack's admin login, and links use the address people open.
    expect(run.stdout).toMatch(/grafana:\s+http:\/\/grafana:3000 \(links: http:\/\/localhost:3000\), rule lookup as user admin/);
    expect(run.stdout).not.toContain('warning:');
    // The summary says a secret is set, never what it is.
    for (const secret of [REQUIRED_FILLS.DISCORD_TOKEN!, REQUIRED_FILLS.VIGIL_WEBHOOK_TOKEN!, REQUIRED_FILLS.GF_ADMIN_PASSWORD!])
      expect(run.stdout).not.toContain(secret);
  });

  it('warns when Grafana links would use a compose host name a phone cannot open', async () => {
    const run = await checkConfig({ ...serviceEnvironment('vigil', dotEnv), GRAFANA_PUBLIC_URL: 'http://grafana:3000' });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      'warning: grafana links: http://grafana:3000 is a bare host name (a compose service?) that a phone cannot open; set grafana.publicUrl to the address people open',
    );
  });

  it.each(['vigil', 'vigil-2'])('passes for %s on SQLite while VIGIL_DATABASE_URL is empty (no VIGIL_POSTGRES_PASSWORD)', async (replica) => {
    const env = serviceEnvironment(replica, dotEnv);
    expect(env.VIGIL_DATABASE_URL).toBe('');
    const run = await checkConfig(env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^storage:\s+SQLite \/data\/vigil\.db \(one replica\)$/m);
    expect(run.stdout).not.toContain('PostgreSQL');
  });

  it.each(['vigil', 'vigil-2'])('passes for %s on the PostgreSQL of --profile ha, never printing its password', async (replica) => {
    const env = serviceEnvironment(replica, haEnv);
    expect(env.VIGIL_DATABASE_URL).toBe(`postgres://vigil:${POSTGRES_PASSWORD}@postgres:5432/vigil`);
    const run = await checkConfig(env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^storage:\s+PostgreSQL vigil@postgres:5432\/vigil \(10 connections per replica\), leader lease 15s$/m);
    expect(run.stdout).not.toContain('SQLite');
    expect(run.stdout).not.toContain('warning:');
    expect(run.stdout).not.toContain(POSTGRES_PASSWORD);
  });

  it('fails, naming the key and the variable, when .env lacks the bot token', async () => {
    const env = serviceEnvironment('vigil', dotEnv);
    delete env.DISCORD_TOKEN;
    const run = await checkConfig(env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('discord.token: environment variable DISCORD_TOKEN is not set');
  });
});

describe('vigil.yaml in the stack', () => {
  const config = loadStackConfig(dotEnv);

  it('runs in gateway mode with the watchdog, the daily digest and nightly snapshots on', () => {
    expect(config.discord.mode).toBe('gateway');
    expect(config.watchdog.enabled).toBe(true);
    expect(config.digest?.enabled).toBe(true);
    expect(config.snapshots?.enabled).toBe(true);
    expect(config.webhook.token).toBe(REQUIRED_FILLS.VIGIL_WEBHOOK_TOKEN);
    expect(config.webhook.insecure).toBe(false);
  });

  it.each([
    ['prometheus', () => config.prometheus.url],
    ['loki', () => config.loki.url],
    ['grafana', () => config.grafana?.url],
  ])('reaches %s by its compose service name and port', (name, urlOf) => {
    const url = new URL(urlOf()!);
    expect(url.hostname).toBe(name);
    expect(Number(url.port)).toBe(SERVICE_PORTS[name]);
    expect(Object.keys(services(stack))).toContain(url.hostname);
  });

  it('listens on the port the healthcheck, Grafana and Alertmanager use', () => {
    const port = config.server.port;
    const healthcheck = ((vigilService.healthcheck as Dict).test as string[]).join(' ');
    expect(healthcheck).toContain(`http://127.0.0.1:${port}/readyz`);
    const contact = readText('grafana/provisioning/alerting/contact-points.yaml');
    expect(contact).toContain(`http://vigil:${port}/webhooks/grafana`);
    const alertmanager = readText('alertmanager/alertmanager.yml');
    expect(alertmanager).toContain(`http://vigil:${port}/webhooks/alertmanager`);
  });

  it.each(['vigil', 'vigil-2'])('is the file compose mounts read-only at VIGIL_CONFIG in %s', (replica) => {
    const mount = (services(stack)[replica]!.volumes as string[]).find((v) => v.startsWith('./vigil.yaml:'));
    expect(mount).toBe(`./vigil.yaml:${serviceEnvironment(replica, dotEnv).VIGIL_CONFIG}:ro`);
  });

  it('resolves its storage to SQLite without VIGIL_POSTGRES_PASSWORD, and to the postgres service with it, in both replicas', () => {
    expect(config.storage.url).toBeUndefined();
    expect(config.storage.path).toBe('/data/vigil.db');
    expect(loadStackConfig(dotEnv, 'vigil-2').storage.url).toBeUndefined();
    for (const replica of ['vigil', 'vigil-2']) {
      const ha = loadStackConfig(haEnv, replica);
      expect(ha.storage.url, replica).toBe(`postgres://vigil:${POSTGRES_PASSWORD}@postgres:5432/vigil`);
      expect(new URL(ha.storage.url!).hostname).toBe('postgres');
      expect(Object.keys(services(stack))).toContain('postgres');
      expect(ha.storage.poolSize, replica).toBe(10);
      expect(ha.cluster.leaseTtl, replica).toBe(15_000);
    }
  });

  it('keeps its SQLite database on a named volume', () => {
    const target = mountTarget(vigilService, 'vigil-data');
    expect(target).toBeDefined();
    expect(posix.dirname(config.storage.path)).toBe(target);
    expect(Object.keys(stack.volumes as Dict)).toContain('vigil-data');
  });

  it("prunes snapshots in Prometheus' data volume, mounted read-write where snapshots.dataDir says (in both replicas: the leader prunes)", () => {
    const prometheus = services(stack).prometheus!;
    const promPath = (prometheus.command as string[]).find((a) => a.startsWith('--storage.tsdb.path='))!.split('=')[1];
    expect(mountTarget(prometheus, 'prometheus-data')).toBe(promPath);
    for (const replica of [vigilService, services(stack)['vigil-2']!]) {
      const mount = (replica.volumes as string[]).find((v) => v.startsWith('prometheus-data:'))!;
      expect(mount).toBe(`prometheus-data:${config.snapshots?.dataDir}`);
    }
    expect(prometheus.command as string[]).toContain('--web.enable-admin-api');
  });

  it.each(['vigil', 'vigil-2'])('reads every variable it uses from the %s service environment', (replica) => {
    const text = readText('vigil.yaml');
    const used = [...new Set([...text.matchAll(/^[^#\n]*\$\{([A-Za-z_][A-Za-z0-9_]*)/gm)].map((m) => m[1]!))];
    expect(used.length).toBeGreaterThan(0);
    expect(used).toContain('VIGIL_DATABASE_URL');
    const provided = Object.keys(services(stack)[replica]!.environment as Dict);
    expect(used.filter((v) => !provided.includes(v))).toEqual([]);
  });
});
