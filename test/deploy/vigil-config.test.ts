import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';

// deploy/compose/vigil.yaml: `vigil check-config` as a user runs it, with the environment compose
// gives the bot (.env.example's values, plus the secrets .env.example leaves for the user to
// choose), and the config's agreement with compose.yaml: service URLs, port, volumes, snapshots.

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COMPOSE_DIR = join(REPO_ROOT, 'deploy', 'compose');
const CONFIG_REL = 'deploy/compose/vigil.yaml';

/** What the user fills in .env; .env.example ships them empty. */
const USER_SECRETS: Record<string, string> = {
  DISCORD_TOKEN: 'MTIzNDU2Nzg5MDEyMzQ1Njc4.Gtest0.vigil-config-test-bot-token',
  DISCORD_APPLICATION_ID: '123456789012345678',
  DISCORD_ALERT_CHANNEL_ID: '223456789012345678',
  VIGIL_WEBHOOK_TOKEN: 'vigil-config-test-webhook-token-0123456789',
};

/** The compose services Vigil talks to, and the port each listens on (ISSUE4's shared names). */
const SERVICE_PORTS: Record<string, number> = { prometheus: 9090, loki: 3100, grafana: 3000, alertmanager: 9093 };

type Dict = Record<string, unknown>;

/** `NAME=value` pairs of .env.example. */
function exampleEnv(): Record<string, string> {
  const text = readFileSync(join(COMPOSE_DIR, '.env.example'), 'utf8');
  return Object.fromEntries(
    text
      .split('\n')
      .map((l) => /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
}

/** The environment compose hands the vigil service: .env values for the variables it lists. */
function vigilServiceEnv(): Record<string, string> {
  const env = { ...exampleEnv(), ...USER_SECRETS };
  const declared = vigilService().environment as Record<string, string>;
  const interpolate = (text: string) =>
    text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:[-?])([^}]*))?\}/g, (_m, v: string, mod: string | undefined, arg: string | undefined) => {
      const value = env[v] ?? '';
      if (value !== '') return value;
      if (mod === ':?') throw new Error(`compose would refuse to start: ${v}: ${arg}`);
      return mod === ':-' ? (arg ?? '') : '';
    });
  return Object.fromEntries(Object.entries(declared).map(([name, value]) => [name, interpolate(String(value))]));
}

function compose(): { services: Record<string, Dict>; volumes: Dict } {
  return parse(readFileSync(join(COMPOSE_DIR, 'compose.yaml'), 'utf8')) as { services: Record<string, Dict>; volumes: Dict };
}

function vigilService(): Dict {
  return compose().services.vigil!;
}

/** The container path a service mounts a named volume (or a ./file) at. */
function mountTarget(service: Dict, source: string): string | undefined {
  return (service.volumes as string[]).map((v) => v.split(':')).find(([s]) => s === source)?.[1];
}

function loadConfig(env: Record<string, string>): Config {
  const loaded = parseConfig(readFileSync(join(REPO_ROOT, CONFIG_REL), 'utf8'), env);
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
  return loaded.config;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node --import tsx src/cli.ts check-config --config deploy/compose/vigil.yaml` with exactly `env`. */
function checkConfig(env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'check-config', '--config', CONFIG_REL], {
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
    const run = await checkConfig(vigilServiceEnv());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${CONFIG_REL}: OK`);
    expect(run.stdout).toMatch(/prometheus:\s+http:\/\/prometheus:9090/);
    expect(run.stdout).toMatch(/loki:\s+http:\/\/loki:3100/);
    // The summary says a secret is set, never what it is.
    for (const secret of [USER_SECRETS.DISCORD_TOKEN!, USER_SECRETS.VIGIL_WEBHOOK_TOKEN!]) expect(run.stdout).not.toContain(secret);
  });

  it('fails, naming the key and the variable, when .env lacks the bot token', async () => {
    const env = vigilServiceEnv();
    delete env.DISCORD_TOKEN;
    const run = await checkConfig(env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('discord.token: environment variable DISCORD_TOKEN is not set');
  });
});

describe('vigil.yaml in the stack', () => {
  const config = loadConfig(vigilServiceEnv());

  it('runs in gateway mode with the watchdog, the daily digest and nightly snapshots on', () => {
    expect(config.discord.mode).toBe('gateway');
    expect(config.watchdog.enabled).toBe(true);
    expect(config.digest?.enabled).toBe(true);
    expect(config.snapshots?.enabled).toBe(true);
    expect(config.webhook.token).toBe(USER_SECRETS.VIGIL_WEBHOOK_TOKEN);
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
    expect(Object.keys(compose().services)).toContain(url.hostname);
  });

  it('listens on the port the healthcheck, Grafana and Alertmanager use', () => {
    const port = config.server.port;
    const healthcheck = ((vigilService().healthcheck as Dict).test as string[]).join(' ');
    expect(healthcheck).toContain(`http://127.0.0.1:${port}/healthz`);
    const contact = readFileSync(join(COMPOSE_DIR, 'grafana', 'provisioning', 'alerting', 'contact-points.yaml'), 'utf8');
    expect(contact).toContain(`http://vigil:${port}/webhooks/grafana`);
    const alertmanager = readFileSync(join(COMPOSE_DIR, 'alertmanager', 'alertmanager.yml'), 'utf8');
    expect(alertmanager).toContain(`http://vigil:${port}/webhooks/alertmanager`);
  });

  it('is the file compose mounts read-only at VIGIL_CONFIG', () => {
    const service = vigilService();
    const mount = (service.volumes as string[]).find((v) => v.startsWith('./vigil.yaml:'));
    expect(mount).toBe(`./vigil.yaml:${(service.environment as Dict).VIGIL_CONFIG}:ro`);
  });

  it('keeps its SQLite database on a named volume', () => {
    const target = mountTarget(vigilService(), 'vigil-data');
    expect(target).toBeDefined();
    expect(posix.dirname(config.storage.path)).toBe(target);
    expect(Object.keys(compose().volumes)).toContain('vigil-data');
  });

  it("prunes snapshots in Prometheus' data volume, mounted read-write where snapshots.dataDir says", () => {
    const services = compose().services;
    const promPath = (services.prometheus!.command as string[]).find((a) => a.startsWith('--storage.tsdb.path='))!.split('=')[1];
    expect(mountTarget(services.prometheus!, 'prometheus-data')).toBe(promPath);
    const mount = (vigilService().volumes as string[]).find((v) => v.startsWith('prometheus-data:'))!;
    expect(mount).toBe(`prometheus-data:${config.snapshots?.dataDir}`);
    expect((services.prometheus!.command as string[])).toContain('--web.enable-admin-api');
  });

  it('reads every variable it uses from the vigil service environment', () => {
    const text = readFileSync(join(REPO_ROOT, CONFIG_REL), 'utf8');
    const used = [...new Set([...text.matchAll(/^[^#\n]*\$\{([A-Za-z_][A-Za-z0-9_]*)/gm)].map((m) => m[1]!))];
    expect(used.length).toBeGreaterThan(0);
    const provided = Object.keys(vigilService().environment as Dict);
    expect(used.filter((v) => !provided.includes(v))).toEqual([]);
  });

});
