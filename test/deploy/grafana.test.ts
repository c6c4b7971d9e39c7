import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { createHttpServer, listen } from '../../src/server.js';
import { openDatabase, type Database } from '../../src/store/db.js';
import { webhookRoutes } from '../../src/webhooks/routes.js';
import { fixtureBytes } from '../webhooks/fixtures.js';
import type { FileGroup } from '../support/grafana-double.js';
import { EXAMPLE_ENV, filledEnv, loadStackConfig, mountTarget, serviceEnvironment, services, yamlFile } from './stack.js';

/*
 * The Grafana provisioning in deploy/compose/grafana is consistent with itself and with the rest
 * of the stack: datasource uids used by rules and dashboards exist, dashboards are valid JSON with
 * unique uids, the alert rules are well-formed three-step rules, and the contact point reaches the
 * bot's service and port with the credential the bot checks. The last check runs the real chain:
 * a test .env -> compose environment of `grafana` and `vigil` -> Grafana's expansion of the contact
 * point -> the bot's webhook server configured from deploy/compose/vigil.yaml.
 * The queries themselves are run against real backends in promql.int.test.ts.
 */

const COMPOSE_DIR = new URL('../../deploy/compose/', import.meta.url);
const GRAFANA_DIR = new URL('grafana/', COMPOSE_DIR);
const DASHBOARD_DIR = new URL('dashboards/', GRAFANA_DIR);

function readYaml<T>(url: URL): T {
  return parse(readFileSync(url, 'utf8')) as T;
}

// ------------------------------------------------------------------------------------------------
// File shapes (the fields these checks read)

interface ProvisionedDatasource {
  name: string;
  type: string;
  uid: string;
  url: string;
  access?: string;
  isDefault?: boolean;
  jsonData?: { timeInterval?: string };
}

interface DashboardProvider {
  name: string;
  type: string;
  folder?: string;
  options: { path: string };
}

type RuleGroup = FileGroup & { interval: string };

interface ContactPoint {
  name: string;
  receivers: Array<{ uid: string; type: string; settings: Record<string, string> }>;
}

interface Policy {
  receiver: string;
  group_by?: string[];
  routes?: Policy[];
}

const datasourcesFile = readYaml<{ apiVersion: number; datasources: ProvisionedDatasource[] }>(
  new URL('provisioning/datasources/datasources.yaml', GRAFANA_DIR),
);
const providersFile = readYaml<{ apiVersion: number; providers: DashboardProvider[] }>(new URL('provisioning/dashboards/dashboards.yaml', GRAFANA_DIR));
const rulesFile = readYaml<{ apiVersion: number; groups: RuleGroup[] }>(new URL('provisioning/alerting/rules.yaml', GRAFANA_DIR));
const contactPointsFile = readYaml<{ apiVersion: number; contactPoints: ContactPoint[] }>(new URL('provisioning/alerting/contact-points.yaml', GRAFANA_DIR));
const policiesFile = readYaml<{ apiVersion: number; policies: Policy[] }>(new URL('provisioning/alerting/policies.yaml', GRAFANA_DIR));
const composeServices = services(yamlFile('compose.yaml'));

const dashboardFiles = readdirSync(DASHBOARD_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const rules = rulesFile.groups.flatMap((g) => g.rules);
const datasourceUids = new Map(datasourcesFile.datasources.map((d) => [d.uid, d.type]));

/** Grafana's server-side expressions: a datasource uid every rule may use besides the provisioned ones. */
const EXPRESSION_UID = '__expr__';
/** Grafana's global template variables a dashboard may use without defining them. */
const GRAFANA_GLOBALS = new Set(['__rate_interval', '__interval', '__interval_ms', '__range', '__range_s', '__auto', '__all']);

// ------------------------------------------------------------------------------------------------
// Helpers

/** Every `datasource` reference anywhere in a dashboard, with the JSON path where it sits. */
function datasourceRefs(node: unknown, path = '$'): Array<{ path: string; ref: unknown }> {
  if (Array.isArray(node)) return node.flatMap((v, i) => datasourceRefs(v, `${path}[${i}]`));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, v]) => (k === 'datasource' ? [{ path: `${path}.${k}`, ref: v }] : datasourceRefs(v, `${path}.${k}`)));
}

/** Every `expr` and variable `query` string in a dashboard. */
function queryTexts(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(queryTexts);
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, v]) => ((k === 'expr' || k === 'query' || k === 'definition') && typeof v === 'string' ? [v] : queryTexts(v)));
}

function variableNames(text: string): string[] {
  return [...text.matchAll(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g)].map((m) => (m[1] ?? m[2]) as string);
}

/** A Prometheus duration as Grafana's provisioning parses it (model.ParseDuration). */
function isPromDuration(text: string | undefined): boolean {
  return typeof text === 'string' && /^((\d+)(y|w|d|h|m|s|ms))+$/.test(text);
}

/**
 * Grafana's expansion of provisioning values (pkg/services/provisioning/values): the text is split
 * on `$$` (a literal `$`), then os.ExpandEnv replaces ${VAR} and $VAR, unset ones with ''.
 */
function grafanaExpand(text: string, env: Record<string, string>): string {
  return text
    .split('$$')
    .map((part) => part.replace(/\$\{([^}]*)\}|\$(\w+)/g, (_m, braced?: string, bare?: string) => env[(braced ?? bare) as string] ?? ''))
    .join('$');
}

/** A filled-in .env whose webhook token is `token`. */
function testDotEnv(token: string): Record<string, string> {
  return filledEnv({ VIGIL_WEBHOOK_TOKEN: token });
}

// ------------------------------------------------------------------------------------------------
// Datasources and the dashboard provider

describe('datasources.yaml', () => {
  it('provisions Prometheus (the default) and Loki with the fixed uids the stack uses', () => {
    expect(datasourcesFile.apiVersion).toBe(1);
    expect(Object.fromEntries(datasourceUids)).toEqual({ prometheus: 'prometheus', loki: 'loki' });
    expect(datasourcesFile.datasources.filter((d) => d.isDefault).map((d) => d.uid)).toEqual(['prometheus']);
  });

  it.each([
    ['prometheus', 'prometheus', '9090'],
    ['loki', 'loki', '3100'],
  ])('the %s datasource reaches the compose service %s on port %s, through the Grafana server', (uid, service, port) => {
    const ds = datasourcesFile.datasources.find((d) => d.uid === uid);
    const url = new URL(ds?.url ?? '');
    expect(url.hostname).toBe(service);
    expect(url.port).toBe(port);
    expect(Object.keys(composeServices)).toContain(service);
    expect(ds?.access).toBe('proxy');
  });

  it("gives Grafana Prometheus' scrape interval, which $__rate_interval is built on", () => {
    const prometheusYml = readYaml<{ global: { scrape_interval: string } }>(new URL('prometheus/prometheus.yml', COMPOSE_DIR));
    const ds = datasourcesFile.datasources.find((d) => d.uid === 'prometheus');
    expect(ds?.jsonData?.timeInterval).toBe(prometheusYml.global.scrape_interval);
  });

  it("Loki's listen port is the one the datasource uses", () => {
    const loki = readYaml<{ server?: { http_listen_port?: number } }>(new URL('loki/loki.yaml', COMPOSE_DIR));
    expect(String(loki.server?.http_listen_port ?? 3100)).toBe('3100');
  });
});

describe('dashboards.yaml', () => {
  it('loads the dashboards folder from the path compose mounts it at', () => {
    expect(providersFile.apiVersion).toBe(1);
    expect(providersFile.providers).toHaveLength(1);
    const provider = providersFile.providers[0]!;
    expect(provider.type).toBe('file');
    expect(mountTarget(composeServices.grafana!, './grafana/dashboards')).toBe(provider.options.path);
  });

  it('sits where Grafana reads provisioning files: compose mounts ./grafana/provisioning at /etc/grafana/provisioning', () => {
    expect(mountTarget(composeServices.grafana!, './grafana/provisioning')).toBe('/etc/grafana/provisioning');
  });
});

// ------------------------------------------------------------------------------------------------
// Dashboards

describe('dashboards', () => {
  const parsed = dashboardFiles.map((f) => [f, JSON.parse(readFileSync(new URL(f, DASHBOARD_DIR), 'utf8')) as Record<string, unknown>] as const);

  it('has the hosts, containers, logs and Vigil dashboards', () => {
    expect(parsed.map(([, d]) => d.title).sort()).toEqual(['Containers', 'Hosts', 'Logs', 'Vigil']);
  });

  it.each(dashboardFiles)('%s is valid JSON with a uid, a title and panels', (file) => {
    const d = JSON.parse(readFileSync(new URL(file, DASHBOARD_DIR), 'utf8')) as Record<string, unknown>;
    expect(d.uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
    expect(typeof d.title).toBe('string');
    expect(typeof d.schemaVersion).toBe('number');
    expect(Array.isArray(d.panels) && d.panels.length > 0).toBe(true);
    // A provisioned dashboard must not carry a database id: Grafana would try to update that row.
    expect(d.id ?? null).toBeNull();
  });

  it('every dashboard has its own uid and title', () => {
    const uids = parsed.map(([, d]) => d.uid);
    const titles = parsed.map(([, d]) => d.title);
    expect(new Set(uids).size).toBe(uids.length);
    expect(new Set(titles).size).toBe(titles.length);
  });

  it.each(dashboardFiles)('%s refers to provisioned datasources by uid, with their type', (file) => {
    const d = parsed.find(([f]) => f === file)![1];
    const refs = datasourceRefs(d);
    expect(refs.length).toBeGreaterThan(0);
    for (const { path, ref } of refs) {
      expect(ref, path).toBeTypeOf('object');
      const { uid, type } = ref as { uid?: string; type?: string };
      expect(datasourceUids.has(uid ?? ''), `${path}: uid ${uid}`).toBe(true);
      expect(type, `${path}: type`).toBe(datasourceUids.get(uid ?? ''));
    }
  });

  it.each(dashboardFiles)('%s only uses variables it defines or Grafana globals', (file) => {
    const d = parsed.find(([f]) => f === file)![1] as { templating?: { list: Array<{ name: string }> } };
    const defined = new Set((d.templating?.list ?? []).map((v) => v.name));
    for (const text of queryTexts(d)) {
      for (const name of variableNames(text)) expect(defined.has(name) || GRAFANA_GLOBALS.has(name), `$${name} in ${text}`).toBe(true);
    }
  });

  it.each(dashboardFiles)('%s has unique panel ids, unique refIds per panel, and fits the 24-column grid', (file) => {
    const d = parsed.find(([f]) => f === file)![1] as {
      panels: Array<{ id: number; gridPos: { x: number; w: number }; targets?: Array<{ refId: string }> }>;
    };
    const ids = d.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of d.panels) {
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      const refIds = (p.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
    }
  });
});

// ------------------------------------------------------------------------------------------------
// Alert rules

const NO_DATA_STATES = ['NoData', 'Alerting', 'OK', 'KeepLast'];
const EXEC_ERR_STATES = ['Error', 'Alerting', 'OK', 'KeepLast'];
/** The severities Vigil colours alerts by (src/render/alert.ts). */
const SEVERITIES = ['critical', 'warning', 'info'];

describe('alert rules', () => {
  it('are apiVersion 1 groups with a folder and an evaluation interval', () => {
    expect(rulesFile.apiVersion).toBe(1);
    for (const g of rulesFile.groups) {
      expect(g.folder.trim()).not.toBe('');
      expect(isPromDuration(g.interval), `${g.name}: interval ${g.interval}`).toBe(true);
    }
  });

  it('have unique uids Grafana accepts and unique titles', () => {
    const uids = rules.map((r) => r.uid);
    for (const uid of uids) expect(uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
    expect(new Set(uids).size).toBe(uids.length);
    expect(new Set(rules.map((r) => r.title)).size).toBe(rules.length);
  });

  it.each([
    // title, query datasource, threshold evaluator, threshold, for (the issue's alert list)
    ['TargetDown', 'prometheus', 'lt', 1, '1m'],
    ['HostHighCpu', 'prometheus', 'gt', 70, '5m'],
    ['HostMemoryHigh', 'prometheus', 'gt', 90, '5m'],
    ['HostDiskSpaceLow', 'prometheus', 'lt', 10, '5m'],
    ['ContainerHighCpu', 'prometheus', 'gt', 0.8, '5m'],
    ['ContainerOomKilled', 'prometheus', 'gt', 0, '0s'],
    ['ContainerRestarting', 'prometheus', 'gt', 1, '0s'],
    ['ErrorLogRate', 'loki', 'gt', 10, '2m'],
  ] as const)('%s queries %s and fires when %s %s for %s', (title, datasource, op, threshold, pending) => {
    const rule = rules.find((r) => r.title === title);
    expect(rule, title).toBeDefined();
    expect(rule!.data.find((d) => d.datasourceUid !== EXPRESSION_UID)?.datasourceUid).toBe(datasource);
    const condition = rule!.data.find((d) => d.refId === rule!.condition);
    expect(condition?.model.type).toBe('threshold');
    expect(condition?.model.conditions?.[0]?.evaluator).toEqual({ type: op, params: [threshold] });
    expect(rule!.for).toBe(pending);
  });

  it.each(rules.map((r) => [r.title, r] as const))('%s: A query, B reduce, C threshold, wired by refId', (_title, rule) => {
    const refIds = rule.data.map((d) => d.refId);
    expect(new Set(refIds).size).toBe(refIds.length);
    expect(refIds).toContain(rule.condition);
    const queries = rule.data.filter((d) => d.datasourceUid !== EXPRESSION_UID);
    expect(queries).toHaveLength(1);
    expect(queries[0]!.relativeTimeRange?.from).toBeGreaterThan(0);
    expect(typeof queries[0]!.model.expr).toBe('string');
    for (const d of rule.data) {
      expect(d.model.refId, `${d.refId}: model.refId`).toBe(d.refId);
      if (d.datasourceUid === EXPRESSION_UID) {
        expect(['reduce', 'threshold', 'math', 'classic_conditions', 'resample']).toContain(d.model.type);
        if (d.model.expression !== undefined) expect(refIds, `${d.refId}: expression`).toContain(d.model.expression);
      }
    }
  });

  it.each(rules.map((r) => [r.title, r] as const))('%s: every datasourceUid is provisioned, and its model says the same', (_title, rule) => {
    for (const d of rule.data) {
      expect(d.datasourceUid === EXPRESSION_UID || datasourceUids.has(d.datasourceUid), `${d.refId}: ${d.datasourceUid}`).toBe(true);
      expect(d.model.datasource?.uid, `${d.refId}: model.datasource.uid`).toBe(d.datasourceUid);
      if (d.datasourceUid !== EXPRESSION_UID) expect(d.model.datasource?.type).toBe(datasourceUids.get(d.datasourceUid));
    }
  });

  it.each(rules.map((r) => [r.title, r] as const))('%s: pending period and no-data/error handling are valid', (_title, rule) => {
    expect(isPromDuration(rule.for), `for: ${rule.for}`).toBe(true);
    expect(NO_DATA_STATES).toContain(rule.noDataState);
    expect(EXEC_ERR_STATES).toContain(rule.execErrState);
  });

  it.each(rules.map((r) => [r.title, r] as const))('%s: a severity label Vigil knows, and no $ Grafana would expand in labels', (_title, rule) => {
    expect(SEVERITIES).toContain(rule.labels?.severity);
    for (const [k, v] of Object.entries(rule.labels ?? {})) expect(v, `label ${k}`).not.toContain('$');
  });

  it.each(rules.map((r) => [r.title, r] as const))('%s: summary and description templates read $labels and $values of its own steps', (_title, rule) => {
    const annotations = rule.annotations ?? {};
    expect(annotations.summary?.trim()).toBeTruthy();
    expect(annotations.description?.trim()).toBeTruthy();
    const expressionRefs = new Set(rule.data.filter((d) => d.datasourceUid === EXPRESSION_UID).map((d) => d.refId));
    for (const [key, text] of Object.entries(annotations)) {
      // Grafana takes annotations verbatim today; a ${...} would be expanded from its environment by some versions.
      expect(text, key).not.toContain('${');
      expect(text.split('{{').length, `${key}: balanced {{ }}`).toBe(text.split('}}').length);
      for (const m of text.matchAll(/\$values\.(\w+)/g)) expect(expressionRefs.has(m[1] as string), `${key}: $values.${m[1]}`).toBe(true);
    }
    expect(`${annotations.summary}${annotations.description}`).toMatch(/\$labels\.\w+/);
  });
});

// ------------------------------------------------------------------------------------------------
// Names the queries share with the rest of the stack

/** Every query expression of the rules and dashboards, with the datasource uid it runs on. */
function allQueries(): Array<{ uid: string; expr: string }> {
  const fromRules = rules.flatMap((r) =>
    r.data.filter((d) => typeof d.model.expr === 'string').map((d) => ({ uid: d.datasourceUid, expr: d.model.expr as string })),
  );
  type P = { datasource?: { uid?: string }; targets?: Array<{ expr?: string; datasource?: { uid?: string } }>; panels?: P[] };
  const panels = (list: P[]): P[] => list.flatMap((p) => [p, ...panels(p.panels ?? [])]);
  const fromDashboards = dashboardFiles.flatMap((f) =>
    panels((JSON.parse(readFileSync(new URL(f, DASHBOARD_DIR), 'utf8')) as { panels: P[] }).panels).flatMap((p) =>
      (p.targets ?? []).filter((t) => typeof t.expr === 'string').map((t) => ({ uid: t.datasource?.uid ?? p.datasource?.uid ?? '', expr: t.expr as string })),
    ),
  );
  return [...fromRules, ...fromDashboards];
}

describe('names shared with the rest of the stack', () => {
  it('every job="..." a Prometheus query selects is a scrape job of prometheus.yml', () => {
    const prometheusYml = readYaml<{ scrape_configs: Array<{ job_name: string }> }>(new URL('prometheus/prometheus.yml', COMPOSE_DIR));
    const jobs = new Set(prometheusYml.scrape_configs.map((c) => c.job_name));
    const selected = allQueries()
      .filter((q) => q.uid === 'prometheus')
      .flatMap((q) => [...q.expr.matchAll(/\bjob\s*=\s*"([^"]*)"/g)].map((m) => m[1] as string));
    expect(selected.length).toBeGreaterThan(0);
    for (const job of selected) expect(jobs.has(job), `job ${job}`).toBe(true);
  });

  it('every Loki label a LogQL query matches or groups by is one alloy sets', () => {
    const alloy = readFileSync(new URL('alloy/config.alloy', COMPOSE_DIR), 'utf8');
    const labels = new Set(
      allQueries()
        .filter((q) => q.uid === 'loki')
        .flatMap((q) => [
          ...[...q.expr.matchAll(/(\w+)\s*(?:=~|!~|!=|=)\s*"/g)].map((m) => m[1] as string),
          ...[...q.expr.matchAll(/\bby\s*\(([^)]*)\)/g)].flatMap((m) => (m[1] as string).split(',').map((l) => l.trim())),
        ]),
    );
    expect([...labels].sort()).toEqual(['container_name', 'host', 'job', 'level']);
    for (const label of labels) {
      // Set as `label = ...` / `"label" = ...`, written by a relabel rule, or extracted by a stage.
      const set = new RegExp(`(^|[^\\w])"?${label}"?\\s*=|(target_label|source)\\s*=\\s*"${label}"`, 'm');
      expect(alloy, `label ${label}`).toMatch(set);
    }
  });
});

// ------------------------------------------------------------------------------------------------
// Contact point, policy and the bot

describe('contact point and notification policy', () => {
  const contactPoint = contactPointsFile.contactPoints.find((c) => c.name === 'vigil');
  const receiver = contactPoint?.receivers[0];

  it('routes every alert to the provisioned vigil contact point, grouped by alertname and instance', () => {
    expect(policiesFile.apiVersion).toBe(1);
    expect(contactPointsFile.apiVersion).toBe(1);
    const names = new Set(contactPointsFile.contactPoints.map((c) => c.name));
    const walk = (p: Policy): Policy[] => [p, ...(p.routes ?? []).flatMap(walk)];
    const all = policiesFile.policies.flatMap(walk);
    for (const p of all) expect(names.has(p.receiver), `receiver ${p.receiver}`).toBe(true);
    expect(policiesFile.policies).toHaveLength(1);
    expect(policiesFile.policies[0]!.receiver).toBe('vigil');
    expect([...(policiesFile.policies[0]!.group_by ?? [])].sort()).toEqual(['alertname', 'instance']);
  });

  it('is one webhook with a Bearer credential from ${VIGIL_WEBHOOK_TOKEN}, never a literal token', () => {
    expect(contactPoint?.receivers).toHaveLength(1);
    expect(receiver?.type).toBe('webhook');
    expect(receiver?.settings.authorization_scheme).toBe('Bearer');
    expect(receiver?.settings.authorization_credentials).toBe('${VIGIL_WEBHOOK_TOKEN}');
  });

  it("posts to the compose service vigil on the bot's server.port, at its Grafana webhook path", () => {
    const url = new URL(receiver?.settings.url ?? '');
    expect(url.protocol).toBe('http:');
    expect(url.hostname).toBe('vigil');
    expect(Object.keys(composeServices)).toContain('vigil');
    expect(Number(url.port)).toBe(loadStackConfig(testDotEnv('t'.repeat(32))).server.port);
    expect(url.pathname).toBe('/webhooks/grafana');
  });

  it('VIGIL_WEBHOOK_TOKEN is what the bot reads as webhook.token, what compose gives Grafana, and what .env.example lists', () => {
    expect((yamlFile('vigil.yaml') as { webhook?: { token?: string } }).webhook?.token).toBe('${VIGIL_WEBHOOK_TOKEN}');
    expect(Object.keys(EXAMPLE_ENV)).toContain('VIGIL_WEBHOOK_TOKEN');
    const token = randomBytes(24).toString('hex');
    const dotEnv = testDotEnv(token);
    expect(serviceEnvironment('grafana', dotEnv).VIGIL_WEBHOOK_TOKEN).toBe(token);
    expect(loadStackConfig(dotEnv).webhook.token).toBe(token);
  });

  describe("a Grafana webhook sent with the contact point's settings", () => {
    const token = randomBytes(24).toString('hex');
    let server: Server | undefined;
    let db: Database | undefined;
    let base = '';
    let path = '';
    let authorization = '';

    beforeAll(async () => {
      const dotEnv = testDotEnv(token);
      const config = loadStackConfig(dotEnv);
      // What Grafana's container sees, and how it expands the contact point when it reads the file.
      const grafanaEnv = serviceEnvironment('grafana', dotEnv);
      const url = new URL(grafanaExpand(receiver?.settings.url ?? '', grafanaEnv));
      path = url.pathname;
      authorization = `${grafanaExpand(receiver?.settings.authorization_scheme ?? '', grafanaEnv)} ${grafanaExpand(
        receiver?.settings.authorization_credentials ?? '',
        grafanaEnv,
      )}`;
      db = openDatabase(':memory:');
      const routes = webhookRoutes({
        db,
        config: config.webhook,
        logger: createLogger({ level: 'silent' }),
        now: () => new Date(),
        onStored: () => undefined,
        reminderMinGapMs: config.delivery.reminderMinGap,
      });
      server = createHttpServer({ routes, bodyLimit: config.server.bodyLimit, logger: createLogger({ level: 'silent' }) });
      // The bot's own server on a loopback port standing in for vigil:8080.
      base = `http://127.0.0.1:${await listen(server, '127.0.0.1', 0)}`;
    });

    afterAll(async () => {
      server?.closeAllConnections();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      await db?.close();
    });

    const post = (auth: string) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: auth },
        body: fixtureBytes('grafana-firing.json'),
      });

    it('is accepted by the bot configured from deploy/compose/vigil.yaml', async () => {
      expect(authorization).toBe(`Bearer ${token}`);
      const res = await post(authorization);
      expect(res.status, await res.clone().text()).toBe(202);
      expect(((await res.json()) as { status: string }).status).toBe('accepted');
    });

    it('is refused when Grafana has a different token than the bot', async () => {
      const res = await post(`Bearer ${randomBytes(24).toString('hex')}`);
      expect(res.status).toBe(401);
    });
  });
});
