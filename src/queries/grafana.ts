import { z } from 'zod';
import { getJson, type Backend, type CallOptions } from './http.js';
import type { ComparisonOp } from './promql.js';
import type { Clock } from '../model.js';

/*
 * Grafana-managed alert rules, read through Grafana's alerting provisioning API
 * (`GET /api/v1/provisioning/alert-rules/{uid}`, a `ProvisionedAlertRule`), and what Vigil can
 * query of them: each data query on a Prometheus or Loki datasource, and the threshold the
 * condition applies. A Grafana webhook carries no query, only the rule's page as generatorURL.
 */

/** A Grafana uid: letters, digits, - and _, at most 40. */
const UID = /^[A-Za-z0-9_-]{1,40}$/;

// Only parses the URL; nothing is ever fetched from it.
const PLACEHOLDER_BASE = 'http://generator.invalid';

/**
 * The alert rule uid in a Grafana alert's generatorURL: `/alerting/grafana/<uid>/view` (Grafana 9+)
 * or the older `/alerting/<uid>/edit`, under any sub-path; undefined for anything else. Never throws.
 */
export function ruleUidFromGeneratorURL(url: string | undefined): string | undefined {
  if (typeof url !== 'string' || !url) return undefined;
  let path: string;
  try {
    path = new URL(url, PLACEHOLDER_BASE).pathname;
  } catch {
    return undefined;
  }
  const m = /\/alerting\/grafana\/([^/]+)\/view\/?$/.exec(path) ?? /\/alerting\/([^/]+)\/edit\/?$/.exec(path);
  // A uid is letters, digits, - and _: nothing to decode, and anything else is no uid.
  const uid = m?.[1];
  return uid && UID.test(uid) && uid !== 'grafana' ? uid : undefined;
}

const querySchema = z.object({
  refId: z.string(),
  queryType: z.string().optional(),
  datasourceUid: z.string(),
  relativeTimeRange: z.object({ from: z.number(), to: z.number() }).partial().optional(),
  model: z.record(z.string(), z.unknown()).default({}),
});

/** The fields of Grafana's `ProvisionedAlertRule` Vigil reads; the rest are ignored. */
export const provisionedRuleSchema = z.object({
  uid: z.string(),
  title: z.string(),
  folderUID: z.string().optional(),
  ruleGroup: z.string().optional(),
  condition: z.string(),
  data: z.array(querySchema),
  /** Prometheus duration text, e.g. "5m"; "0s" when the rule fires at once. */
  for: z.string().optional(),
  updated: z.string().optional(),
  labels: z.record(z.string(), z.string()).nullish(),
  annotations: z.record(z.string(), z.string()).nullish(),
});

/** A Grafana alert rule as the provisioning API returns it (the fields Vigil reads). */
export type ProvisionedRule = z.output<typeof provisionedRuleSchema>;

/** A Grafana API client for alert rules. */
export interface GrafanaClient {
  /** GET /api/v1/provisioning/alert-rules/{uid}; throws QueryError (404 when there is no such rule). */
  alertRule(uid: string, callOpts?: CallOptions): Promise<ProvisionedRule>;
  /** GET /api/v1/provisioning/alert-rules: every rule the credentials may read; throws QueryError. */
  alertRules(callOpts?: CallOptions): Promise<ProvisionedRule[]>;
}

/** How Vigil signs in to Grafana: a service account token, or a user and password. */
export type GrafanaAuth = { token: string } | { user: string; password: string } | Record<string, never>;

/** Creates a Grafana client; `url` may carry a path prefix (Grafana under a sub-path). */
export function createGrafanaClient(opts: { url: string; timeoutMs: number; auth?: GrafanaAuth }): GrafanaClient {
  const auth = opts.auth ?? {};
  const backend: Backend = {
    name: 'Grafana',
    url: opts.url,
    timeoutMs: opts.timeoutMs,
    ...('token' in auth ? { bearerToken: auth.token } : {}),
    ...('user' in auth ? { basicAuth: { user: auth.user, password: auth.password } } : {}),
  };
  return {
    async alertRule(uid, callOpts) {
      if (!UID.test(uid)) throw new RangeError(`expected a Grafana rule uid, got ${JSON.stringify(uid.slice(0, 50))}`);
      return getJson(backend, `/api/v1/provisioning/alert-rules/${uid}`, {}, provisionedRuleSchema, callOpts);
    },
    async alertRules(callOpts) {
      return getJson(backend, '/api/v1/provisioning/alert-rules', {}, z.array(provisionedRuleSchema), callOpts);
    },
  };
}

/** A threshold a rule compares against: one bound (`> 70`), or a range. */
export type RuleThreshold = { op: ComparisonOp; value: number } | { range: 'within' | 'outside'; low: number; high: number; inclusive: boolean };

/** One data query of a rule on a datasource Vigil knows. */
export interface RuleQuery {
  refId: string;
  backend: 'prometheus' | 'loki';
  expr: string;
  /** A LogQL log query (lines), not a metric query; always false for PromQL. */
  logQuery: boolean;
}

/** What Vigil queries for one Grafana rule. */
export interface RulePlan {
  uid: string;
  title: string;
  /** The data query the condition reads (through reduce/math steps), when it is on a known datasource. */
  main?: RuleQuery;
  /** The threshold of the condition, when it is a threshold, classic condition or simple math comparison. */
  threshold?: RuleThreshold;
  /** Every data query on Prometheus or Loki, the main one included. */
  queries: RuleQuery[];
  /** Data queries on other datasources: named, not queried. */
  notQueried: Array<{ refId: string; datasourceUid: string }>;
  /** The condition in plain words: "A (last value) > 70". */
  condition: string;
  /** The rule's pending period ("5m"), unless it fires at once. */
  for?: string;
  group?: string;
  updated?: string;
}

/** Grafana's uid for server-side expressions (reduce, math, threshold, classic conditions). */
const EXPRESSION_UIDS = new Set(['__expr__', '-100']);

const EVALUATOR_OPS: Record<string, ComparisonOp> = { gt: '>', lt: '<', gte: '>=', lte: '<=', eq: '==', ne: '!=' };

/** Reads an evaluator ({ type: gt|lt|within_range|…, params: [...] }) as a threshold. */
function evaluatorThreshold(evaluator: unknown): RuleThreshold | undefined {
  const parsed = z.object({ type: z.string(), params: z.array(z.number()) }).safeParse(evaluator);
  if (!parsed.success) return undefined;
  const { type, params } = parsed.data;
  const op = EVALUATOR_OPS[type];
  if (op && params.length >= 1) return { op, value: params[0]! };
  const range = /^(within|outside)_range(_included)?$/.exec(type);
  if (range && params.length >= 2) {
    const [a, b] = [params[0]!, params[1]!];
    return { range: range[1] as 'within' | 'outside', low: Math.min(a, b), high: Math.max(a, b), inclusive: !!range[2] };
  }
  return undefined;
}

/** The refIds a server-side expression reads: `expression: "B"`, `$B` in math, classic conditions' query params. */
function inputsOf(model: Record<string, unknown>): string[] {
  const type = model.type;
  if (type === 'classic_conditions') {
    const conditions = z.array(z.object({ query: z.object({ params: z.array(z.string()) }) }).loose()).safeParse(model.conditions);
    return conditions.success ? conditions.data.flatMap((c) => c.query.params.slice(0, 1)) : [];
  }
  const expression = typeof model.expression === 'string' ? model.expression : '';
  if (type === 'math') return [...expression.matchAll(/\$\{?([A-Za-z0-9_]+)\}?/g)].map((m) => m[1]!);
  return expression ? [expression.trim()] : [];
}

/** The threshold a server-side expression applies to its input, when it is one Vigil can draw. */
function thresholdOf(model: Record<string, unknown>): RuleThreshold | undefined {
  const type = model.type;
  if (type === 'threshold' || type === 'classic_conditions') {
    const conditions = z.array(z.object({ evaluator: z.unknown() }).loose()).safeParse(model.conditions);
    return conditions.success && conditions.data.length === 1 ? evaluatorThreshold(conditions.data[0]!.evaluator) : undefined;
  }
  if (type === 'math' && typeof model.expression === 'string') {
    const m = /^\s*\$\{?[A-Za-z0-9_]+\}?\s*(>=|<=|==|!=|>|<)\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*$/i.exec(model.expression);
    if (m) return { op: m[1] as ComparisonOp, value: Number(m[2]) };
  }
  return undefined;
}

/** The reducer a reduce or classic condition applies, in words. */
function reducerOf(model: Record<string, unknown>): string | undefined {
  if (model.type === 'reduce' && typeof model.reducer === 'string') return model.reducer;
  if (model.type === 'classic_conditions') {
    const c = z.array(z.object({ reducer: z.object({ type: z.string() }) }).loose()).safeParse(model.conditions);
    if (c.success && c.data[0]) return c.data[0].reducer.type;
  }
  return undefined;
}

/** A threshold in words and symbols: "> 70", "outside 10..20". */
export function thresholdText(t: RuleThreshold): string {
  if ('op' in t) return `${t.op} ${t.value}`;
  return `${t.range} ${t.low}..${t.high}${t.inclusive ? ' (bounds included)' : ''}`;
}

/**
 * A rule's query with Grafana's interval macros filled for a range query of `stepSeconds` over
 * `rangeSeconds`, as Grafana fills them: `$__interval` and Loki's `$__auto` are the step,
 * `$__rate_interval` four steps (at least a minute), `$__range` the whole range (in seconds).
 */
export function fillGrafanaMacros(expr: string, stepSeconds: number, rangeSeconds: number): string {
  const s = (n: number) => `${Math.max(1, Math.round(n))}s`;
  return expr
    .replace(/\$__rate_interval\b|\$\{__rate_interval\}/g, s(Math.max(4 * stepSeconds, 60)))
    .replace(/\$__interval_ms\b|\$\{__interval_ms\}/g, String(Math.max(1, Math.round(stepSeconds * 1000))))
    .replace(/\$__interval\b|\$\{__interval\}/g, s(stepSeconds))
    .replace(/\$__auto\b|\$\{__auto\}/g, s(stepSeconds))
    .replace(/\$__range\b|\$\{__range\}/g, s(rangeSeconds));
}

/** Longest expression taken from a rule; anything longer is not queried. */
const MAX_EXPR_LENGTH = 16 * 1024;

/**
 * What Vigil queries for a rule: its Prometheus and Loki data queries (by the datasource uids
 * Grafana knows them by), the one the condition reads, and the condition's threshold. Pure.
 */
export function planFromRule(rule: ProvisionedRule, uids: { prometheus: string; loki: string }): RulePlan {
  const byRef = new Map(rule.data.map((q) => [q.refId, q]));
  const queries: RuleQuery[] = [];
  const notQueried: RulePlan['notQueried'] = [];
  for (const q of rule.data) {
    if (EXPRESSION_UIDS.has(q.datasourceUid)) continue;
    const expr = typeof q.model.expr === 'string' ? q.model.expr.trim() : '';
    const backend = q.datasourceUid === uids.prometheus ? 'prometheus' : q.datasourceUid === uids.loki ? 'loki' : undefined;
    if (!backend || !expr || expr.length > MAX_EXPR_LENGTH) {
      notQueried.push({ refId: q.refId, datasourceUid: q.datasourceUid });
      continue;
    }
    queries.push({ refId: q.refId, backend, expr, logQuery: backend === 'loki' && isLogQuery(expr) });
  }
  // Follow the condition down through the expression steps to the data query it reads.
  let threshold: RuleThreshold | undefined;
  let reducer: string | undefined;
  /** A math step Vigil cannot read as a comparison: its text stands for the condition. */
  let math: string | undefined;
  /** A math step between the threshold and the query changes the scale: the threshold is not the query's. */
  let rescaled = false;
  let ref: string | undefined = rule.condition;
  const seen = new Set<string>();
  while (ref && !seen.has(ref)) {
    seen.add(ref);
    const node = byRef.get(ref);
    if (!node || !EXPRESSION_UIDS.has(node.datasourceUid)) break;
    const own = thresholdOf(node.model);
    if (node.model.type === 'math' && !own) {
      math ??= typeof node.model.expression === 'string' ? node.model.expression.trim() : undefined;
      if (threshold) rescaled = true;
    }
    threshold ??= own;
    reducer ??= reducerOf(node.model);
    ref = inputsOf(node.model)[0];
  }
  const main = queries.find((q) => q.refId === ref);
  const subject = math ? `${ref ?? rule.condition} through ${JSON.stringify(math)}` : (ref ?? rule.condition);
  const condition = [subject, reducer ? `(${reducer})` : '', threshold ? thresholdText(threshold) : ''].filter(Boolean).join(' ');
  if (rescaled) threshold = undefined;
  const pending = rule.for && !/^0+[a-z]*$/.test(rule.for) ? rule.for : undefined;
  return {
    uid: rule.uid,
    title: rule.title,
    ...(main ? { main } : {}),
    ...(threshold ? { threshold } : {}),
    queries,
    notQueried,
    condition,
    ...(pending ? { for: pending } : {}),
    ...(rule.ruleGroup ? { group: rule.ruleGroup } : {}),
    ...(rule.updated ? { updated: rule.updated } : {}),
  };
}

/** A LogQL log query (a selector and pipeline) rather than a metric query (which has a range `[..]` in a function). */
function isLogQuery(expr: string): boolean {
  return expr.trimStart().startsWith('{') && !/\[\s*\d+[a-z]+\s*\]/i.test(expr.replace(/"(?:[^"\\]|\\.)*"|`[^`]*`/g, '""'));
}

/** Options of {@link createRuleLookup}. */
export interface RuleLookupOptions {
  client: GrafanaClient;
  uids: { prometheus: string; loki: string };
  /** How long a rule is reused, in ms. */
  ttlMs: number;
  /** Rules kept at most; the least recently used goes first. */
  maxEntries?: number;
  now?: Clock;
}

/** Looks up a rule's plan by uid, bounded by the caller's timeout; one Grafana call per uid per TTL. */
export type RuleLookup = (uid: string, callOpts: CallOptions) => Promise<RulePlan>;

/**
 * A cached rule lookup: a rule is read once per TTL, concurrent lookups of one uid share one
 * call (a storm of one rule makes one request), a failed lookup is forgotten at once, and at most
 * `maxEntries` rules are kept (least recently used first out).
 */
export function createRuleLookup(opts: RuleLookupOptions): RuleLookup {
  const max = opts.maxEntries ?? 256;
  const clock = opts.now ?? (() => new Date());
  const now = () => clock().getTime();
  const cache = new Map<string, { at: number; plan: Promise<RulePlan> }>();
  return (uid, callOpts) => {
    const hit = cache.get(uid);
    if (hit && now() - hit.at < opts.ttlMs) {
      cache.delete(uid);
      cache.set(uid, hit);
      return hit.plan;
    }
    cache.delete(uid);
    while (cache.size >= max) cache.delete(cache.keys().next().value!);
    const plan = opts.client.alertRule(uid, callOpts).then((rule) => planFromRule(rule, opts.uids));
    const entry = { at: now(), plan };
    cache.set(uid, entry);
    plan.catch(() => {
      if (cache.get(uid) === entry) cache.delete(uid);
    });
    return plan;
  };
}

/** Grafana's datasource uids of Prometheus and Loki as the bundled stack provisions them. */
const DEFAULT_DATASOURCE_UIDS = { prometheus: 'prometheus', loki: 'loki' } as const;

/** A config's `grafana` section, as far as rule lookups read it. */
type GrafanaSection = {
  url: string;
  token?: string | undefined;
  user?: string | undefined;
  password?: string | undefined;
  prometheusUid?: string | undefined;
  lokiUid?: string | undefined;
  ruleCacheTtl: number;
};

/** The credentials of a `grafana` section: its token, else its user and password, else none. */
function authOf(grafana: GrafanaSection): GrafanaAuth | undefined {
  if (grafana.token) return { token: grafana.token };
  if (grafana.user !== undefined && grafana.password !== undefined) return { user: grafana.user, password: grafana.password };
  return undefined;
}

/** Whether Grafana's alert rules can be read: how many, or that no credentials are set, or Grafana's error in `message`. */
export type RuleAccess = { ready: true; rules: number } | { ready: false; credentials: false } | { ready: false; credentials: true; message: string };

/** Whether Grafana's alert rules can be read with the config's credentials ("Grafana HTTP 401: Unauthorized"). Never throws. */
export async function ruleAccess(grafana: GrafanaSection, timeoutMs: number): Promise<RuleAccess> {
  const auth = authOf(grafana);
  if (!auth) return { ready: false, credentials: false };
  try {
    const rules = await createGrafanaClient({ url: grafana.url, timeoutMs, auth }).alertRules({ timeoutMs });
    return { ready: true, rules: rules.length };
  } catch (err) {
    return { ready: false, credentials: true, message: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * The rule lookup of a config's `grafana` section: with a token or a user and password (the
 * provisioning API wants one of them), else undefined (Grafana alerts go without their rule).
 */
export function ruleLookupFromConfig(
  grafana: GrafanaSection | undefined,
  timeoutMs: number,
  wrap: (client: GrafanaClient) => GrafanaClient = (client) => client,
): RuleLookup | undefined {
  const auth = grafana && authOf(grafana);
  if (!grafana || !auth) return undefined;
  return createRuleLookup({
    client: wrap(createGrafanaClient({ url: grafana.url, timeoutMs, auth })),
    uids: { prometheus: grafana.prometheusUid ?? DEFAULT_DATASOURCE_UIDS.prometheus, loki: grafana.lokiUid ?? DEFAULT_DATASOURCE_UIDS.loki },
    ttlMs: grafana.ruleCacheTtl,
  });
}
