import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { parse } from 'yaml';
import { freePort } from './ports.js';

/*
 * Contract double of Grafana's alerting provisioning API, the part Vigil reads:
 * `GET /api/v1/provisioning/alert-rules/{uid}` answering a `ProvisionedAlertRule`, and
 * `GET /api/v1/provisioning/alert-rules` answering every rule (`ProvisionedAlertRules`).
 *
 * Where the shape comes from (Grafana 12): the `ProvisionedAlertRule` and `AlertQuery` types in
 * grafana/grafana `pkg/services/ngalert/api/tooling/definitions/provisioning_alert_rules.go`
 * (swagger model of the route, JSON keys `id uid orgID folderUID ruleGroup title condition data
 * updated noDataState execErrState for keep_firing_for annotations labels provenance isPaused
 * notification_settings record`; `for` is a Prometheus duration string), and the "Alerting
 * provisioning HTTP API" page of Grafana's HTTP API docs (route table, 200 with the rule, 404 for
 * an unknown uid). Every request needs a service account token (`Authorization: Bearer`) or basic
 * auth; without a valid one Grafana answers 401 `{"message":"Unauthorized"}`.
 *
 * The rules served are those of a Grafana file-provisioning YAML (by default the compose stack's own
 * deploy/compose/grafana/provisioning/alerting/rules.yaml), turned into the API's shape as
 * Grafana's provisioning does: the group's name becomes `ruleGroup`, its folder a folder uid,
 * `for` defaults to "0s", `provenance` is "file".
 */

/** The compose stack's provisioned alert rules. */
export const STACK_RULES_FILE = new URL('../../deploy/compose/grafana/provisioning/alerting/rules.yaml', import.meta.url);

/** Behaviour modes of the double. */
export type GrafanaDoubleMode = 'normal' | 'down' | 'slow' | 'error';

/** Options of {@link startGrafanaDouble}. */
export interface GrafanaDoubleOptions {
  /** File-provisioning YAML text of the rules served; default the stack's rules.yaml. */
  rulesYaml?: string;
  /** The service account token it accepts. */
  token?: string;
  /** The user and password it accepts with basic auth. */
  basic?: { user: string; password: string };
  mode?: GrafanaDoubleMode;
  /** Delay of every answer in 'slow' mode, default 10 s. */
  delayMs?: number;
  /** Answer a 401 with the credentials it got in the message, as a careless proxy might: for tests that they never reach a log. */
  echoCredentials?: boolean;
}

/** One request the double received, without its credentials. */
export interface GrafanaRequest {
  method: string;
  path: string;
  /** How it signed in: 'bearer', 'basic' or 'none' (whether valid or not). */
  auth: 'bearer' | 'basic' | 'none';
}

/** Handle on a running Grafana double. */
export interface GrafanaDoubleHandle {
  url: string;
  requests: GrafanaRequest[];
  /** The rules it serves, by uid, in the API's shape. */
  rules: Map<string, Record<string, unknown>>;
  setMode(mode: GrafanaDoubleMode, delayMs?: number): void;
  stop(): Promise<void>;
}

/** One query or expression step of a rule in Grafana's file-provisioning YAML. */
export interface FileRuleData {
  refId: string;
  datasourceUid: string;
  relativeTimeRange?: { from: number; to: number };
  model: Record<string, unknown> & {
    refId?: string;
    datasource?: { type?: string; uid?: string };
    type?: string;
    expression?: string;
    expr?: string;
    conditions?: Array<{ evaluator?: { type?: string; params?: number[] } }>;
  };
}

/** One alert rule in Grafana's file-provisioning YAML. */
export interface FileRule {
  uid: string;
  title: string;
  condition: string;
  for?: string;
  noDataState?: string;
  execErrState?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  data: FileRuleData[];
}

/** One rule group in Grafana's file-provisioning YAML. */
export interface FileGroup {
  orgId?: number;
  name: string;
  folder: string;
  interval?: string;
  rules: FileRule[];
}

/** A folder title as the uid Grafana's file provisioning gives a new folder (here: a slug). */
function folderUid(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 40);
}

/** The rules of a file-provisioning YAML in the provisioning API's `ProvisionedAlertRule` shape. */
export function provisionedRules(yamlText: string, updated = new Date()): Map<string, Record<string, unknown>> {
  const file = parse(yamlText) as { groups?: FileGroup[] };
  const rules = new Map<string, Record<string, unknown>>();
  let id = 0;
  for (const group of file.groups ?? []) {
    for (const r of group.rules) {
      id += 1;
      rules.set(r.uid, {
        id,
        uid: r.uid,
        orgID: group.orgId ?? 1,
        folderUID: folderUid(group.folder),
        ruleGroup: group.name,
        title: r.title,
        condition: r.condition,
        data: r.data,
        updated: updated.toISOString(),
        noDataState: r.noDataState ?? 'NoData',
        execErrState: r.execErrState ?? 'Error',
        for: r.for ?? '0s',
        keep_firing_for: '0s',
        annotations: r.annotations ?? {},
        labels: r.labels ?? {},
        provenance: 'file',
        isPaused: false,
        notification_settings: null,
        record: null,
      });
    }
  }
  return rules;
}

/** Which credentials a request carries, and whether they are the accepted ones. */
function authOf(req: IncomingMessage, opts: GrafanaDoubleOptions): { kind: GrafanaRequest['auth']; ok: boolean; presented: string } {
  const header = req.headers.authorization ?? '';
  const bearer = /^Bearer (.+)$/.exec(header);
  if (bearer) return { kind: 'bearer', ok: opts.token !== undefined && bearer[1] === opts.token, presented: bearer[1]! };
  const basic = /^Basic (.+)$/.exec(header);
  if (basic) {
    const [user, ...rest] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
    const password = rest.join(':');
    return { kind: 'basic', ok: opts.basic !== undefined && user === opts.basic.user && password === opts.basic.password, presented: password };
  }
  return { kind: 'none', ok: false, presented: '' };
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (res.destroyed) return;
  if (body === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Starts the Grafana double on a free 127.0.0.1 port. */
export async function startGrafanaDouble(opts: GrafanaDoubleOptions = {}): Promise<GrafanaDoubleHandle> {
  const rules = provisionedRules(opts.rulesYaml ?? readFileSync(STACK_RULES_FILE, 'utf8'));
  const requests: GrafanaRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let mode = opts.mode ?? 'normal';
  let delayMs = opts.delayMs ?? 10_000;

  const answer = (req: IncomingMessage, res: ServerResponse, path: string): void => {
    const auth = authOf(req, opts);
    requests.push({ method: req.method ?? 'GET', path, auth: auth.kind });
    if (mode === 'down') {
      req.socket.destroy();
      return;
    }
    const reply = (status: number, body?: unknown) => {
      if (mode !== 'slow') return send(res, status, body);
      const timer = setTimeout(() => {
        timers.delete(timer);
        send(res, status, body);
      }, delayMs);
      timers.add(timer);
    };
    if (mode === 'error') return reply(500, { message: 'internal server error' });
    // Grafana's health endpoint needs no credentials.
    if (path === '/api/health') return reply(200, { commit: 'double', database: 'ok', version: '12.4.2' });
    if (!auth.ok) return reply(401, { message: opts.echoCredentials ? `Unauthorized: ${auth.presented}` : 'Unauthorized' });
    if (path === '/api/v1/provisioning/alert-rules') return reply(200, [...rules.values()]);
    const m = /^\/api\/v1\/provisioning\/alert-rules\/([^/]+)$/.exec(path);
    if (!m) return reply(404, { message: 'Not found' });
    if (req.method !== 'GET') return reply(405, { message: 'Method Not Allowed' });
    const rule = rules.get(decodeURIComponent(m[1]!));
    return rule ? reply(200, rule) : reply(404);
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    req.resume();
    req.on('end', () => answer(req, res, url.pathname));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    rules,
    setMode(m, d) {
      mode = m;
      if (d !== undefined) delayMs = d;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
