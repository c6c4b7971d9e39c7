import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { parse } from 'yaml';
import { chartFontFiles } from '../../src/render/chart-theme.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres } from '../support/postgres.js';
import {
  COMPOSE_DIR,
  composeValidator,
  ENV_EXAMPLE_ENTRIES,
  EXAMPLE_ENV,
  filledEnv,
  loadCompose,
  mountTarget,
  PORTS_RE,
  readText,
  REPO_ROOT,
  REQUIRED_FILLS,
  serviceEnvironment,
  services,
  splitVolume,
  yamlFile,
  type Dict,
} from './stack.js';

// The stack in deploy/compose, checked the way a reviewer would without a Docker engine: the
// Compose spec schema, the files each service mounts, the variables each file uses, the pinned
// images, the one published port, and the commands the healthchecks run (run here for real
// where the tool exists on this machine: bash's /dev/tcp, node's fetch).

/** Secrets that must never ship with a value: compose must refuse to start without them. */
const SECRETS = ['DISCORD_TOKEN', 'VIGIL_WEBHOOK_TOKEN', 'GF_ADMIN_PASSWORD'];
/**
 * Secrets of a profile: they never ship with a value either, but compose interpolates every service,
 * a profile's too, so the default stack must start without them (no `:?`, and no default value).
 */
const PROFILE_SECRETS = ['MYSQL_EXPORTER_PASSWORD', 'VIGIL_POSTGRES_PASSWORD'];

/**
 * Why an image reference is not pinned to a released version, or undefined when it is: a version tag
 * (x.y.z, `v` optional, a suffix such as `-alpine` allowed), never latest. PostgreSQL numbers its
 * releases major.minor, so its official image is pinned at that (17.9), with the distribution fixed
 * too (17.9-alpine3.23, 17.9-bookworm); a bare major (17, 17-alpine) moves with every release.
 */
function unpinned(ref: string): string | undefined {
  const tag = /^[^@]+:([^:/@]+)(@sha256:[0-9a-f]{64})?$/.exec(ref)?.[1];
  if (tag === undefined) return 'has no tag';
  if (tag === 'latest') return 'is latest';
  const version = ref.startsWith('postgres:') ? /^\d+\.\d+(-(alpine\d+\.\d+|bookworm|trixie))?$/ : /^v?\d+\.\d+\.\d+(-[\w.]+)?$/;
  return version.test(tag) ? undefined : 'is not a version';
}

/** Every path (`services.vigil.environment.X`) at which two interpolations of one compose file differ, with both values. */
function differences(a: unknown, b: unknown, path = ''): Array<{ path: string; a: unknown; b: unknown }> {
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => differences((a as Dict)[k], (b as Dict)[k], path ? `${path}.${k}` : k));
  }
  return a === b ? [] : [{ path, a, b }];
}

/** Every `${NAME...}` in the string values of a parsed YAML tree, as Vigil's loader reads them. */
function vigilVarNames(node: unknown, out = new Set<string>()): Set<string> {
  if (typeof node === 'string') for (const m of node.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)) out.add(m[1]!);
  else if (Array.isArray(node)) node.forEach((v) => vigilVarNames(v, out));
  else if (node && typeof node === 'object') Object.values(node).forEach((v) => vigilVarNames(v, out));
  return out;
}

const envEntries = ENV_EXAMPLE_ENTRIES;
const exampleEnv = EXAMPLE_ENV;
const stack = loadCompose('compose.yaml', filledEnv());
const agent = loadCompose('agent.yaml', filledEnv());
const vigilYaml = yamlFile('vigil.yaml');

describe('.env.example', () => {
  it('documents every variable with a comment right above it', () => {
    const undocumented = envEntries.filter((e) => e.comment.length === 0).map((e) => e.name);
    expect(undocumented).toEqual([]);
  });

  it('declares each variable once', () => {
    const names = envEntries.map((e) => e.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });

  it.each([
    ['compose.yaml', stack.refs],
    ['agent.yaml', agent.refs],
  ])('holds every variable %s uses', (_file, refs) => {
    const missing = [...new Set(refs.map((r) => r.name))].filter((n) => !(n in exampleEnv));
    expect(missing).toEqual([]);
  });

  it('holds every variable vigil.yaml uses', () => {
    expect([...vigilVarNames(vigilYaml)].filter((n) => !(n in exampleEnv))).toEqual([]);
  });

  it('has no variable that no file uses', () => {
    const used = new Set([...stack.refs, ...agent.refs].map((r) => r.name));
    for (const name of vigilVarNames(vigilYaml)) used.add(name);
    // Compose reads these itself, from .env, to name the project and pick profiles.
    used.add('COMPOSE_PROJECT_NAME');
    used.add('COMPOSE_PROFILES');
    expect(envEntries.map((e) => e.name).filter((n) => !used.has(n))).toEqual([]);
  });

  it('leaves empty exactly the values the user must choose, and compose requires each of them', () => {
    const required = new Set([...stack.refs, ...agent.refs].filter((r) => r.modifier === ':?').map((r) => r.name));
    const emptyRequired = envEntries.filter((e) => e.value === '' && required.has(e.name)).map((e) => e.name);
    expect(emptyRequired.sort()).toEqual(Object.keys(REQUIRED_FILLS).sort());
  });

  it.each(PROFILE_SECRETS)('ships no value for the profile secret %s, and without it compose.yaml starts, every value it feeds left empty', (name) => {
    expect(exampleEnv[name]).toBe('');
    const refs = stack.refs.filter((r) => r.name === name);
    expect(refs.length).toBeGreaterThan(0);
    expect(
      refs.every((r) => ['', ':-', ':+'].includes(r.modifier)),
      JSON.stringify(refs),
    ).toBe(true);
    const without = loadCompose('compose.yaml', exampleEnv);
    const withIt = loadCompose('compose.yaml', { ...exampleEnv, [name]: 'profile-secret-0123456789abcdef' });
    expect(withIt.errors).toEqual(without.errors);
    const changed = differences(without.doc, withIt.doc);
    expect(changed.length).toBeGreaterThan(0);
    for (const { path, a, b } of changed) {
      expect(a, `${path} without ${name}`).toBe('');
      expect(String(b), path).toContain('profile-secret-0123456789abcdef');
    }
  });

  it.each(SECRETS)('ships no value for the secret %s, and compose.yaml refuses to start without it', (name) => {
    expect(exampleEnv[name]).toBe('');
    const refs = stack.refs.filter((r) => r.name === name);
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.every((r) => r.modifier === ':?')).toBe(true);
  });

  it('makes compose refuse to start while a required value is empty', () => {
    const { errors } = loadCompose('compose.yaml', exampleEnv);
    expect([...new Set(errors.map((e) => e.slice(0, e.indexOf(':'))))].sort()).toEqual(
      ['DISCORD_ALERT_CHANNEL_ID', 'DISCORD_APPLICATION_ID', 'DISCORD_TOKEN', 'GF_ADMIN_PASSWORD', 'VIGIL_WEBHOOK_TOKEN'].sort(),
    );
  });
});

describe('Compose spec schema', () => {
  const validate = composeValidator();

  it.each([
    ['compose.yaml', stack],
    ['agent.yaml', agent],
  ])('%s is valid after interpolation with the .env.example values', (_file, loaded) => {
    expect(loaded.errors).toEqual([]);
    expect(validate(loaded.doc)).toEqual([]);
  });

  it('rejects a misspelled service key, so a passing file is not a schema that accepts anything', () => {
    const broken = structuredClone<Dict>(stack.doc);
    (services(broken).loki as Dict).helthcheck = { test: ['CMD', 'true'] };
    const errors = validate(broken);
    expect(errors.some((e) => e.keyword === 'additionalProperties' && e.params.additionalProperty === 'helthcheck')).toBe(true);
  });

  it.each([
    ['0.0.0.0:3000:3000', true],
    ['3000:3000', true],
    ['192.0.2.10:9338:8080/tcp', true],
    [':3000:3000', false],
    ['3000:3000/icmp', false],
  ])('reads the port mapping %s as valid: %s', (mapping, valid) => {
    expect(PORTS_RE.test(mapping)).toBe(valid);
  });
});

describe.each([
  ['compose.yaml', () => stack.doc],
  ['agent.yaml', () => agent.doc],
])('%s services', (_file, docOf) => {
  const entries = () => Object.entries(services(docOf()));

  it('pins every image to a released version tag, never latest; a service without an image is built', () => {
    for (const [name, svc] of entries()) {
      if (svc.image === undefined) {
        expect(svc.build, `${name} has neither image nor build`).toBeDefined();
        continue;
      }
      const ref = typeof svc.image === 'string' ? svc.image : '';
      expect(unpinned(ref), `${name}: ${ref}`).toBeUndefined();
    }
  });

  it('gives every service a healthcheck, restart: unless-stopped and a memory limit', () => {
    for (const [name, svc] of entries()) {
      const test = (svc.healthcheck as Dict | undefined)?.test;
      expect(Array.isArray(test) && ['CMD', 'CMD-SHELL'].includes(String(test[0])), `${name} healthcheck`).toBe(true);
      expect(svc.restart, name).toBe('unless-stopped');
      const memory = (((svc.deploy as Dict | undefined)?.resources as Dict | undefined)?.limits as Dict | undefined)?.memory;
      expect(String(memory ?? svc.mem_limit), `${name} memory limit`).toMatch(/^\d+[kmg]$/i);
    }
  });

  it('mounts only files and folders that exist here, named volumes it declares, and host paths read-only', () => {
    const declared = Object.keys((docOf().volumes as Dict | undefined) ?? {});
    for (const [name, svc] of entries()) {
      for (const spec of (svc.volumes as string[] | undefined) ?? []) {
        const { source, target, mode } = splitVolume(spec);
        expect(target, `${name}: ${spec} is an anonymous volume`).not.toBe('');
        if (source.startsWith('.')) {
          expect(existsSync(resolve(COMPOSE_DIR, source)), `${name}: ${source} does not exist`).toBe(true);
        } else if (isAbsolute(source)) {
          expect(mode.split(',')).toContain('ro');
        } else {
          expect(declared, `${name}: volume ${source} is not declared`).toContain(source);
        }
      }
    }
  });

  it('keeps every service on the one stack network, with no host networking', () => {
    const networks = Object.keys(docOf().networks as Dict);
    const own = networks.find((n) => !((docOf().networks as Dict)[n] as Dict).external)!;
    for (const [name, svc] of entries()) {
      expect(svc.network_mode, name).toBeUndefined();
      expect(svc.networks as string[], name).toContain(own);
    }
  });
});

describe('the released-version rule for images', () => {
  it.each([
    ['prom/prometheus:v3.13.0', undefined],
    ['grafana/loki:3.7.3', undefined],
    ['ghcr.io/google/cadvisor:v0.53.0', undefined],
    [`grafana/grafana:12.4.2@sha256:${'0'.repeat(64)}`, undefined],
    ['postgres:17.9-alpine3.23', undefined],
    ['postgres:17.9-bookworm', undefined],
    ['postgres:17.9', undefined],
    ['prom/prometheus', 'has no tag'],
    ['prom/prometheus:latest', 'is latest'],
    ['postgres:latest', 'is latest'],
    ['prom/prometheus:v3.13', 'is not a version'],
    ['grafana/grafana:12', 'is not a version'],
    ['postgres:17', 'is not a version'],
    ['postgres:17-alpine', 'is not a version'],
    ['postgres:17.9-alpine', 'is not a version'],
    ['postgres:alpine', 'is not a version'],
    ['bitnami/postgresql:17.9', 'is not a version'],
  ])('%s: %s', (ref, problem) => {
    expect(unpinned(ref)).toBe(problem);
  });
});

describe('compose.yaml', () => {
  const svc = (name: string) => services(stack.doc)[name]!;

  it('has the services of the stack, each under its agreed name', () => {
    expect(Object.keys(services(stack.doc)).sort()).toEqual(
      ['alertmanager', 'alloy', 'cadvisor', 'grafana', 'loki', 'mysqld-exporter', 'node-exporter', 'postgres', 'prometheus', 'vigil', 'vigil-2'].sort(),
    );
  });

  it('publishes nothing but Grafana on 3000', () => {
    const published = Object.entries(services(stack.doc)).filter(([, s]) => s.ports !== undefined);
    expect(published.map(([n]) => n)).toEqual(['grafana']);
    expect(svc('grafana').ports).toEqual(['0.0.0.0:3000:3000']);
  });

  it('uses one network, monitoring, plus the external app network that only mysqld-exporter joins', () => {
    const networks = stack.doc.networks as Record<string, Dict>;
    expect(Object.keys(networks).sort()).toEqual(['app', 'monitoring']);
    expect(networks.monitoring!.external).toBeUndefined();
    expect(networks.app!.external).toBe(true);
    const onApp = Object.entries(services(stack.doc)).filter(([, s]) => (s.networks as string[]).includes('app'));
    expect(onApp.map(([n]) => n)).toEqual(['mysqld-exporter']);
    expect(svc('mysqld-exporter').networks).toEqual(['monitoring', 'app']);
  });

  it('puts Alertmanager, mysqld-exporter, PostgreSQL and the second Vigil behind their profiles and nothing else', () => {
    const profiled = Object.entries(services(stack.doc))
      .filter(([, s]) => s.profiles !== undefined)
      .map(([n, s]) => [n, s.profiles])
      .sort(([a], [b]) => String(a).localeCompare(String(b)));
    expect(profiled).toEqual([
      ['alertmanager', ['alertmanager']],
      ['mysqld-exporter', ['mysql']],
      ['postgres', ['ha']],
      ['vigil-2', ['ha']],
    ]);
  });

  it('lets no service outside a profile depend on one inside a profile, and names only services of the file', () => {
    const all = services(stack.doc);
    for (const [name, s] of Object.entries(all)) {
      const deps = Array.isArray(s.depends_on) ? (s.depends_on as string[]) : Object.keys((s.depends_on as Dict | undefined) ?? {});
      for (const dep of deps) {
        expect(Object.keys(all), `${name} depends on ${dep}`).toContain(dep);
        // Compose refuses the default stack when a service of it depends on one whose profile is off.
        if (s.profiles === undefined) expect(all[dep]!.profiles, `${name} depends on ${dep}`).toBeUndefined();
      }
    }
  });

  it('runs Prometheus with retention by time and size, the admin API and the lifecycle API', () => {
    const command = svc('prometheus').command as string[];
    expect(command).toEqual(
      expect.arrayContaining([
        '--storage.tsdb.retention.time=15d',
        '--storage.tsdb.retention.size=5GB',
        '--web.enable-admin-api',
        '--web.enable-lifecycle',
        '--config.file=/etc/prometheus/prometheus.yml',
        '--storage.tsdb.path=/prometheus',
      ]),
    );
  });

  it('gives Grafana its admin password and the webhook token from .env, and no anonymous access', () => {
    const env = svc('grafana').environment as Dict;
    expect(env.GF_SECURITY_ADMIN_PASSWORD).toBe(REQUIRED_FILLS.GF_ADMIN_PASSWORD);
    expect(env.VIGIL_WEBHOOK_TOKEN).toBe(REQUIRED_FILLS.VIGIL_WEBHOOK_TOKEN);
    expect(env.GF_AUTH_ANONYMOUS_ENABLED).toBe('false');
  });

  it('mounts the Grafana provisioning where the dashboards provider looks', () => {
    const provider = parse(readText('grafana/provisioning/dashboards/dashboards.yaml')) as { providers: { options: { path: string } }[] };
    const targets = (svc('grafana').volumes as string[]).map((v) => splitVolume(v));
    expect(targets).toContainEqual({ source: './grafana/provisioning', target: '/etc/grafana/provisioning', mode: 'ro' });
    for (const p of provider.providers) {
      expect(targets.some((t) => t.source.startsWith('./') && p.options.path.startsWith(t.target))).toBe(true);
    }
  });

  it('builds vigil from the repository Dockerfile', () => {
    const build = svc('vigil').build as Dict;
    const context = resolve(COMPOSE_DIR, String(build.context));
    expect(context).toBe(resolve(REPO_ROOT));
    expect(existsSync(join(context, String(build.dockerfile)))).toBe(true);
  });

  it('shares the host label between Alloy and Prometheus file_sd', () => {
    const label = (svc('alloy').environment as Dict).HOST_LABEL;
    for (const file of ['prometheus/targets/node.yml', 'prometheus/targets/cadvisor.yml']) {
      const groups = parse(readText(file)) as { targets: string[]; labels: { instance: string } }[];
      const local = groups.find((g) => g.targets.some((t) => /^(node-exporter|cadvisor):/.test(t)));
      expect(local?.labels.instance, file).toBe(label);
    }
  });
});

describe('compose.yaml, --profile ha', () => {
  const PASSWORD = 'deploy-test-postgres-password-0123456789abcdef';
  const ha = loadCompose('compose.yaml', filledEnv({ VIGIL_POSTGRES_PASSWORD: PASSWORD }));
  const svc = (name: string, doc = stack.doc) => services(doc)[name]!;
  const url = (service: string, doc: Dict) => (svc(service, doc).environment as Dict).VIGIL_DATABASE_URL;

  it('runs the official PostgreSQL on the stack network only, publishing nothing, its data on a named volume', () => {
    const postgres = svc('postgres');
    expect(String(postgres.image)).toMatch(/^postgres:17\.\d+-/);
    expect(postgres.ports).toBeUndefined();
    expect(postgres.expose).toBeUndefined();
    expect(postgres.networks).toEqual(['monitoring']);
    // PGDATA of the official image for PostgreSQL up to 17 (18's moved to /var/lib/postgresql/18/docker).
    expect(mountTarget(postgres, 'postgres-data')).toBe('/var/lib/postgresql/data');
    expect(Object.keys(stack.doc.volumes as Dict)).toContain('postgres-data');
  });

  it('gives PostgreSQL the vigil user and database, and the password from .env (empty there: the image refuses to initialise)', () => {
    expect(svc('postgres').environment).toEqual({ POSTGRES_USER: 'vigil', POSTGRES_DB: 'vigil', POSTGRES_PASSWORD: '' });
    expect(svc('postgres', ha.doc).environment).toEqual({ POSTGRES_USER: 'vigil', POSTGRES_DB: 'vigil', POSTGRES_PASSWORD: PASSWORD });
  });

  it('builds vigil-2 from the same x-vigil block as vigil: image, user, environment, healthcheck, restart, limit, network, logs', () => {
    const shared = stack.doc['x-vigil'] as Dict;
    expect(Object.keys(shared).sort()).toEqual(['build', 'deploy', 'environment', 'healthcheck', 'logging', 'networks', 'restart', 'user'].sort());
    for (const key of Object.keys(shared)) {
      expect(svc('vigil')[key], `vigil.${key}`).toEqual(shared[key]);
      expect(svc('vigil-2')[key], `vigil-2.${key}`).toEqual(shared[key]);
    }
  });

  it('leaves vigil as it was without the profile: no profile, SQLite on vigil-data, after Prometheus and Loki only', () => {
    const vigil = svc('vigil');
    expect(vigil.profiles).toBeUndefined();
    expect(mountTarget(vigil, 'vigil-data')).toBe('/data');
    expect(vigil.depends_on).toEqual(['prometheus', 'loki']);
    expect(url('vigil', stack.doc)).toBe('');
  });

  it("mounts in vigil-2 what the bot reads (vigil.yaml, Prometheus' data for snapshots) where vigil does, and no SQLite volume", () => {
    for (const source of ['./vigil.yaml', 'prometheus-data']) expect(mountTarget(svc('vigil-2'), source), source).toBe(mountTarget(svc('vigil'), source));
    expect(svc('vigil-2').volumes).toEqual((svc('vigil').volumes as string[]).filter((v) => !v.startsWith('vigil-data:')));
  });

  it('starts vigil-2 once PostgreSQL is healthy, after Prometheus (which creates their shared volume) and Loki', () => {
    expect(svc('vigil-2').depends_on).toEqual({
      prometheus: { condition: 'service_started' },
      loki: { condition: 'service_started' },
      postgres: { condition: 'service_healthy' },
    });
  });

  it("cannot make vigil wait for postgres: the Compose schema here refuses depends_on's required: false", () => {
    // vigil runs without the profile too, so its dependency on postgres would have to be optional.
    const optional = structuredClone<Dict>(stack.doc);
    svc('vigil', optional).depends_on = { prometheus: { condition: 'service_started' }, postgres: { condition: 'service_healthy', required: false } };
    expect(composeValidator()(optional).some((e) => e.keyword === 'additionalProperties' && e.params.additionalProperty === 'required')).toBe(true);
  });

  it('gives both replicas no database URL without VIGIL_POSTGRES_PASSWORD: SQLite', () => {
    expect(url('vigil', stack.doc)).toBe('');
    expect(url('vigil-2', stack.doc)).toBe('');
  });

  it("gives both replicas, once VIGIL_POSTGRES_PASSWORD is set, the URL of the postgres service's user, password and database", () => {
    expect(ha.errors).toEqual([]);
    for (const replica of ['vigil', 'vigil-2']) {
      const target = new URL(String(url(replica, ha.doc)));
      const postgres = svc('postgres', ha.doc);
      const env = postgres.environment as Dict;
      expect(target.protocol, replica).toBe('postgres:');
      expect(target.hostname, replica).toBe('postgres');
      expect(Object.keys(services(ha.doc))).toContain(target.hostname);
      expect((postgres.healthcheck as Dict).test, replica).toContain(`--port=${target.port}`);
      expect(decodeURIComponent(target.username), replica).toBe(env.POSTGRES_USER);
      expect(decodeURIComponent(target.password), replica).toBe(env.POSTGRES_PASSWORD);
      expect(target.pathname, replica).toBe(`/${String(env.POSTGRES_DB)}`);
    }
  });

  it('lets a VIGIL_DATABASE_URL in .env name another PostgreSQL instead', () => {
    const own = 'postgres://vigil:elsewhere@db.example.org:5432/vigil';
    const doc = loadCompose('compose.yaml', filledEnv({ VIGIL_POSTGRES_PASSWORD: PASSWORD, VIGIL_DATABASE_URL: own })).doc;
    expect(url('vigil', doc)).toBe(own);
    expect(url('vigil-2', doc)).toBe(own);
  });

  it('gives the container the URL as compose interpolates it', () => {
    expect(serviceEnvironment('vigil', filledEnv()).VIGIL_DATABASE_URL).toBe('');
    expect(serviceEnvironment('vigil-2', filledEnv({ VIGIL_POSTGRES_PASSWORD: PASSWORD })).VIGIL_DATABASE_URL).toBe(
      `postgres://vigil:${PASSWORD}@postgres:5432/vigil`,
    );
  });
});

describe('agent.yaml', () => {
  it('runs the agents only, publishing node-exporter and cAdvisor on AGENT_BIND_ADDRESS and nothing else', () => {
    const svcs = services(agent.doc);
    expect(Object.keys(svcs).sort()).toEqual(['alloy', 'cadvisor', 'node-exporter']);
    expect(svcs['node-exporter']!.ports).toEqual([`${REQUIRED_FILLS.AGENT_BIND_ADDRESS}:9100:9100`]);
    expect(svcs.cadvisor!.ports).toEqual([`${REQUIRED_FILLS.AGENT_BIND_ADDRESS}:9338:8080`]);
    expect(svcs.alloy!.ports).toBeUndefined();
  });

  it.each(['node-exporter', 'cadvisor', 'alloy'])('runs %s as the stack does: same image, command, healthcheck and limit', (name) => {
    const mine = services(agent.doc)[name]!;
    const central = services(stack.doc)[name]!;
    for (const key of ['image', 'command', 'healthcheck', 'deploy', 'restart']) {
      expect(mine[key], `${name}.${key}`).toEqual(central[key]);
    }
  });
});

describe('healthcheck commands', () => {
  it.each([
    // image prefix -> the program its healthcheck may run (what the image ships)
    ['prometheus', 'wget'],
    ['alertmanager', 'wget'],
    ['node-exporter', 'wget'],
    ['mysqld-exporter', 'wget'],
    ['grafana', 'wget'],
    ['cadvisor', 'wget'],
    ['loki', '/usr/bin/loki'],
    ['alloy', 'bash'],
    ['vigil', 'node'],
    ['vigil-2', 'node'],
    ['postgres', 'pg_isready'],
  ])('%s runs %s, which its image ships', (name, program) => {
    const test = (services(stack.doc)[name]!.healthcheck as Dict).test as string[];
    expect(test[0]).toBe('CMD');
    expect(test[1]).toBe(program);
  });

  describe('run for real against a local HTTP server', () => {
    let server: Server;
    let port = 0;
    let status = 200;

    beforeAll(async () => {
      server = createServer((req, res) => {
        res.writeHead(['/-/ready', '/healthz', '/readyz'].includes(req.url ?? '') ? status : 404, { 'content-type': 'text/plain' });
        res.end('ok\n');
      });
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      port = (server.address() as AddressInfo).port;
    });

    afterAll(async () => {
      await new Promise<void>((done) => server.close(() => done()));
    });

    /** Runs a healthcheck's argv (after CMD) with its fixed port swapped for the test server's. */
    function run(argv: string[], fixedPort: number): Promise<number | null> {
      const swapped = argv.map((a) => a.replaceAll(`127.0.0.1/${fixedPort}`, `127.0.0.1/${port}`).replaceAll(`127.0.0.1:${fixedPort}`, `127.0.0.1:${port}`));
      const program = swapped[0] === 'node' ? process.execPath : swapped[0]!;
      return new Promise((done, fail) => {
        const child = spawn(program, swapped.slice(1), { stdio: 'ignore' });
        child.once('error', fail);
        child.once('exit', (code) => done(code));
      });
    }

    it.each([
      ['alloy', 12345],
      ['vigil', 8080],
      ['vigil-2', 8080],
    ])('%s: healthy on 200, unhealthy on 503', async (name, fixedPort) => {
      const argv = ((services(stack.doc)[name]!.healthcheck as Dict).test as string[]).slice(1);
      status = 200;
      expect(await run(argv, fixedPort)).toBe(0);
      status = 503;
      expect(await run(argv, fixedPort)).not.toBe(0);
    });
  });

  describe('run for real against a local PostgreSQL', () => {
    /** postgres' healthcheck (after CMD) against `port` instead of the container's 5432, its exit status. */
    function pgIsReady(port: number): Promise<number | null> {
      const argv = ((services(stack.doc).postgres!.healthcheck as Dict).test as string[]).slice(1);
      expect(argv).toContain('--port=5432');
      const swapped = argv.map((a) => (a === '--port=5432' ? `--port=${port}` : a));
      return new Promise((done, fail) => {
        const child = spawn(swapped[0]!, swapped.slice(1), { stdio: 'ignore' });
        child.once('error', fail);
        child.once('exit', (code) => done(code));
      });
    }

    it('postgres: healthy while the server takes connections over TCP, unhealthy once it stops', async () => {
      const pg = await startPostgres();
      try {
        expect(await pgIsReady(pg.port)).toBe(0);
      } finally {
        await pg.stop();
      }
      expect(await pgIsReady(pg.port)).not.toBe(0);
    }, 90_000);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
  // Instructions with their continuation lines joined, comments dropped.
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const froms = instructions.filter((l) => l.startsWith('FROM '));
  const finalStage = instructions.slice(instructions.lastIndexOf(froms.at(-1)!));

  it('builds in two stages on the same pinned Node 22 LTS image', () => {
    expect(froms).toHaveLength(2);
    const images = froms.map((f) => f.split(/\s+/)[1]);
    expect(images[0]).toBe(images[1]);
    expect(images[0]).toMatch(/^node:22\.\d+\.\d+-[a-z-]+$/);
  });

  it('compiles better-sqlite3 in the build stage, with python3, make and g++', () => {
    const buildStage = instructions.slice(0, instructions.indexOf(froms[1]!));
    const apt = buildStage.find((l) => l.includes('apt-get install'));
    expect(apt).toMatch(/\bpython3\b.*\bmake\b.*\bg\+\+/);
    expect(buildStage.some((l) => /RUN npm ci\b/.test(l))).toBe(true);
    expect(buildStage.some((l) => /npm prune --omit=dev/.test(l))).toBe(true);
  });

  it('keeps of Pretendard only what charts read (its regular and bold OpenType files) and its licence', () => {
    const prune = instructions.find((l) => l.includes('find node_modules/pretendard'))!;
    const command = /(find node_modules\/pretendard .*-delete)/.exec(prune)![1]!;
    // The package's tree as empty files: the same names, none of its 70 MB.
    const tmp = mkdtempSync(join(tmpdir(), 'vigil-prune-'));
    try {
      const pkg = join(REPO_ROOT, 'node_modules/pretendard');
      const files = execFileSync('find', ['.', '-type', 'f'], { cwd: pkg, encoding: 'utf8' }).trim().split('\n');
      for (const f of files) {
        mkdirSync(dirname(join(tmp, 'node_modules/pretendard', f)), { recursive: true });
        writeFileSync(join(tmp, 'node_modules/pretendard', f), '');
      }
      execFileSync('sh', ['-c', command], { cwd: tmp });
      const kept = execFileSync('find', ['.', '-type', 'f'], { cwd: join(tmp, 'node_modules/pretendard'), encoding: 'utf8' })
        .trim()
        .split('\n')
        .sort();
      const read = chartFontFiles({ hangul: true })
        .filter((f) => f.includes('/pretendard/'))
        .map((f) => `./${relative(pkg, f)}`);
      expect(read).toHaveLength(2);
      expect(kept).toEqual([...read, './dist/LICENSE.txt', './package.json'].sort());
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('runs as an unprivileged user in the final stage', () => {
    const user = finalStage.filter((l) => l.startsWith('USER '));
    expect(user).toHaveLength(1);
    expect(user[0]).not.toMatch(/USER\s+(root|0)\b/);
    expect(finalStage.some((l) => l.startsWith('COPY') && !l.includes('--from=build'))).toBe(false);
  });

  it('checks /readyz with the same node command as compose.yaml', () => {
    const line = finalStage.find((l) => l.startsWith('HEALTHCHECK'))!;
    const argv = JSON.parse(line.slice(line.indexOf('CMD') + 3).trim()) as string[];
    const composeTest = (services(stack.doc).vigil!.healthcheck as Dict).test as string[];
    expect(argv).toEqual(composeTest.slice(1));
  });

  it('copies only sources that exist and that .dockerignore lets into the context', () => {
    const ignored = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('!'));
    const sources = instructions.filter((l) => l.startsWith('COPY ') && !l.includes('--from=')).flatMap((l) => l.split(/\s+/).slice(1, -1));
    expect(sources.length).toBeGreaterThan(0);
    // .dockerignore globs: `*` within a path segment, `**/` any depth; a match on a parent folder counts.
    const globs = ignored.map(
      (p) =>
        new RegExp(
          `^${p
            .split('**/')
            .map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*'))
            .join('(?:.*/)?')}$`,
        ),
    );
    const isIgnored = (path: string) => path.split('/').some((_s, i, parts) => globs.some((g) => g.test(parts.slice(0, i + 1).join('/'))));
    expect(isIgnored('deploy/compose/.env')).toBe(true);
    expect(isIgnored('README.md')).toBe(true);
    for (const source of sources) {
      expect(existsSync(join(REPO_ROOT, source)), source).toBe(true);
      expect(isIgnored(source), `${source} is ignored`).toBe(false);
    }
    // The secrets and local state that must never reach the image.
    expect(ignored).toEqual(expect.arrayContaining(['**/.env', '**/*.db', 'node_modules', 'data']));
  });
});

/** The body of the `loki.process "NAME"` block of an Alloy file (up to its closing brace at column 0). */
function alloyBlock(text: string, header: string): string {
  const start = text.indexOf(`${header} {`);
  if (start < 0) throw new Error(`no block ${header}`);
  return text.slice(start, text.indexOf('\n}\n', start) + 2);
}

/** Decodes an Alloy double-quoted string body (`\\` and `\"` escapes). */
function alloyString(raw: string): string {
  return raw.replace(/\\(["\\])/g, '$1');
}

/** The `attribute = "..."` values of a block, decoded. */
function alloyStrings(block: string, attribute: string): string[] {
  return [...block.matchAll(new RegExp(`${attribute}\\s*=\\s*"((?:[^"\\\\]|\\\\.)*)"`, 'g'))].map((m) => alloyString(m[1]!));
}

/** An RE2 expression as a JS RegExp: `(?P<name>` groups, a leading `(?i)` flag. */
function re2(expression: string): RegExp {
  const caseless = expression.startsWith('(?i)');
  return new RegExp(expression.replace(/^\(\?i\)/, '').replace(/\(\?P</g, '(?<'), caseless ? 'i' : '');
}

describe('Alloy log pipeline', () => {
  const config = readText('alloy/config.alloy');
  const agentConfig = readText('alloy/agent.alloy');
  const levels = alloyBlock(config, 'loki.process "levels"');
  const levelRegexes = alloyStrings(levels, 'expression').map(re2);
  const template = alloyStrings(levels, 'template')[0]!;

  /** The first level regex that matches and the group it filled, as stage.regex extracts it. */
  function extract(line: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const re of levelRegexes) {
      for (const [k, v] of Object.entries(re.exec(line)?.groups ?? {})) if (v !== undefined) out[k] = v;
    }
    return out;
  }

  it.each([
    ['2024-05-01T10:00:00.123Z  WARN 1 --- [           main] o.s.b.SpringApplication : slow start', 'level_token', 'WARN'],
    ['2024-05-01 10:00:00.123 ERROR 4242 --- [nio-8080-exec-1] c.e.Api : request failed', 'level_token', 'ERROR'],
    ['10:00:00.123 [main] INFO  com.example.App - started', 'level_token', 'INFO'],
    ['ERROR:root:database unreachable', 'level_token', 'ERROR'],
    ['2024/05/01 10:00:00 [crit] 12#12: *1 connect() failed', 'level_nginx', 'crit'],
    ['ts=2024-05-01T10:00:00Z level=warn msg="disk slow"', 'level_word', 'warn'],
    ['{"time":"2024-05-01T10:00:00Z","level":"ERROR","msg":"boom"}', 'level_word', 'ERROR'],
    ['{"level":50,"time":1714557600000,"msg":"delivery failed"}', 'level_number', '50'],
  ])('finds the level in %s', (line, group, value) => {
    expect(extract(line)[group]).toBe(value);
  });

  it.each([
    'GET /health 200 3ms',
    '192.0.2.1 - - [01/May/2024:10:00:00 +0000] "GET /information HTTP/1.1" 200 12 "-" "curl"',
    'Starting the application, errors will be reported',
  ])('leaves the level unset when the line has none: %s', (line) => {
    expect(extract(line)).toEqual({});
  });

  it('maps every word the regexes can capture to one of trace|debug|info|warn|error|fatal', () => {
    const words = new Set<string>();
    for (const re of levelRegexes) {
      for (const alt of re.source.matchAll(/\(\?<level_\w+>([^)]*)\)/g)) {
        // Word alternatives; the numeric group ([1-6]0, pino's levels) is listed below.
        for (const w of alt[1]!.split('|')) if (/^[a-z]+$/i.test(w)) words.add(w.toLowerCase());
      }
    }
    expect([...words]).toEqual(
      expect.arrayContaining(['trace', 'debug', 'info', 'notice', 'warn', 'warning', 'error', 'err', 'crit', 'critical', 'alert', 'emerg', 'fatal', 'panic']),
    );
    for (const n of ['10', '20', '30', '40', '50', '60']) words.add(n);
    const mapped = new Set([...template.matchAll(/eq \$w "([^"]+)"/g)].map((m) => m[1]!));
    expect([...words].filter((w) => !mapped.has(w))).toEqual([]);
    expect(new Set([...template.matchAll(/\}\}(trace|debug|info|warn|error|fatal)\{\{/g)].map((m) => m[1]))).toEqual(
      new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']),
    );
  });

  it('starts a new file entry on a dated or addressed line and keeps a stack trace with the line before it', () => {
    const firstline = re2(alloyStrings(alloyBlock(config, 'loki.process "files"'), 'firstline')[0]!);
    const trace = [
      '2024-05-01 10:00:00.123 ERROR 1 --- [main] c.e.Api : request failed',
      'java.lang.IllegalStateException: boom',
      '\tat com.example.Api.handle(Api.java:42)',
      'Caused by: java.io.IOException: reset',
      '\t... 12 more',
    ];
    expect(trace.map((l) => firstline.test(l))).toEqual([true, false, false, false, false]);
    expect(firstline.test('192.0.2.1 - - [01/May/2024:10:00:00 +0000] "GET / HTTP/1.1" 500 1 "-" "-"')).toBe(true);
    expect(firstline.test('2024/05/01 10:00:00 [error] 12#12: upstream timed out')).toBe(true);
  });

  it('labels nginx access lines by status class', () => {
    const files = alloyBlock(config, 'loki.process "files"');
    const status = re2(alloyStrings(files, 'expression')[0]!);
    const cls = (line: string) => status.exec(line)?.groups?.status_class;
    expect(cls('192.0.2.1 - - [01/May/2024:10:00:00 +0000] "GET /api HTTP/1.1" 502 157 "-" "curl/8"')).toBe('5');
    expect(cls('192.0.2.1 - alice [01/May/2024:10:00:00 +0000] "POST /login HTTP/1.1" 401 0 "-" "-"')).toBe('4');
    expect(cls('2024-05-01 10:00:00 INFO started')).toBeUndefined();
  });

  it('labels container logs docker and file logs files, with the host from HOST_LABEL', () => {
    expect(config).toMatch(/labels\s*=\s*\{\s*job\s*=\s*"docker",\s*host\s*=\s*coalesce\(sys\.env\("HOST_LABEL"\)/);
    expect(config).toMatch(/"job"\s*=\s*"files",\s*"host"\s*=\s*coalesce\(sys\.env\("HOST_LABEL"\)/);
    for (const label of ['container_name', 'compose_service']) expect(config).toContain(`target_label  = "${label}"`);
  });

  it('gives the agent the same pipeline as the monitoring host, only another Loki endpoint', () => {
    const section = (t: string) =>
      t.slice(
        t.indexOf('// ---------------------------------------------------------------- container logs'),
        t.indexOf('// ---------------------------------------------------------------- Loki'),
      );
    expect(section(agentConfig)).toBe(section(config));
    expect(agentConfig).toContain('url = sys.env("LOKI_PUSH_URL")');
  });

  it.each([
    ['compose.yaml', () => stack.doc, config],
    ['agent.yaml', () => agent.doc, agentConfig],
  ])('gets every environment variable it reads from %s', (_file, docOf, text) => {
    const env = (services(docOf()).alloy!.environment as Dict) ?? {};
    const read = [...text.matchAll(/sys\.env\("([A-Z_]+)"\)/g)].map((m) => m[1]!);
    expect(read.length).toBeGreaterThan(0);
    expect(read.filter((n) => !(n in env))).toEqual([]);
  });

  it('mounts the app log folder read-only where the file source looks', () => {
    const mount = (services(stack.doc).alloy!.volumes as string[]).map(splitVolume).find((v) => v.target === '/var/log/apps');
    expect(mount).toEqual({ source: '/var/log/apps', target: '/var/log/apps', mode: 'ro' });
    expect(config).toContain('"__path__" = "/var/log/apps/**/*.log"');
  });
});
