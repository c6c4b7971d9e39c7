import { z } from 'zod';
import { parseDuration } from '../config/duration.js';
import { getJson, getRaw, QueryError, sendJson, serverErrorText, type Backend, type CallOptions } from './http.js';
import { LABEL_NAME } from './promql.js';

export type { InstantSample, RangeSeries } from '../model.js';
import type { InstantSample, Point, RangeSeries } from '../model.js';

/** What an instant query returned, by result type. */
export type QueryResult =
  | { resultType: 'vector'; result: InstantSample[] }
  | { resultType: 'matrix'; result: RangeSeries[] }
  | { resultType: 'scalar'; result: Point }
  | { resultType: 'string'; result: { at: Date; value: string } };

/** One active scrape target, as /api/v1/targets describes it. */
export interface ScrapeTarget {
  labels: Record<string, string>;
  discoveredLabels: Record<string, string>;
  scrapePool?: string;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  /** Undefined when the last scrape succeeded. */
  lastError?: string;
  /** Undefined before the first scrape. */
  lastScrape?: Date;
  lastScrapeDurationSeconds?: number;
  /** The target's scrape interval in ms; undefined when Prometheus does not give it. */
  scrapeIntervalMs?: number;
}

/** Active and dropped targets. */
export interface Targets {
  active: ScrapeTarget[];
  dropped: Array<{ discoveredLabels: Record<string, string> }>;
}

/** Whether a backend says it is ready, with its own words (or why it could not be asked). */
export interface Readiness {
  ready: boolean;
  message: string;
}

/** Which series and time range a label values lookup covers (Prometheus' default: every series, all time). */
export interface LabelValuesOptions {
  /** Series selectors (`match[]`): only values of these series. */
  match?: readonly string[];
  start?: Date;
  end?: Date;
}

/** One alert of an alerting rule, as /api/v1/alerts describes it. */
export interface RuleAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'firing' | 'pending' | 'inactive';
  /** When the alert became pending; undefined when Prometheus gives none. */
  activeAt?: Date;
}

/** A Prometheus HTTP API client. Every call throws QueryError on failure. */
export interface PrometheusClient {
  /** Instant query at `time` (default: the server's now). */
  query(expr: string, time?: Date, opts?: CallOptions): Promise<QueryResult>;
  /** Range query; always a matrix. */
  queryRange(expr: string, start: Date, end: Date, stepSeconds: number, opts?: CallOptions): Promise<RangeSeries[]>;
  /** Scrape targets (GET /api/v1/targets). */
  targets(state?: 'active' | 'dropped' | 'any', opts?: CallOptions): Promise<Targets>;
  /** GET /-/ready; never throws. */
  ready(opts?: CallOptions): Promise<Readiness>;
  /** Alerts of the alerting rules (GET /api/v1/alerts), pending and firing. */
  alerts(opts?: CallOptions): Promise<RuleAlert[]>;
  /** Values of one label (GET /api/v1/label/<name>/values); throws on an invalid label name. */
  labelValues(name: string, opts?: LabelValuesOptions, callOpts?: CallOptions): Promise<string[]>;
  /**
   * Creates a TSDB snapshot (POST /api/v1/admin/tsdb/snapshot; needs --web.enable-admin-api) and
   * returns its name, the directory under `<data dir>/snapshots/`. Prometheus has no API to delete one.
   */
  snapshot(callOpts?: CallOptions): Promise<string>;
}

/** Parses Prometheus' sample value strings: "1.5", "NaN", "+Inf", "-Inf". */
export function parseSampleValue(text: string): number | undefined {
  switch (text) {
    case 'NaN':
      return NaN;
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
  }
  if (text.trim() === '') return undefined;
  const n = Number(text);
  return Number.isNaN(n) ? undefined : n;
}

/** Unix seconds with millisecond precision, as the query APIs accept. */
export function unixSeconds(d: Date): string {
  return (d.getTime() / 1000).toFixed(3);
}

/** A label set. */
export const labelsSchema = z.record(z.string(), z.string());

/** `[unixSeconds, "value"]` -> Point. */
export const pointSchema = z.tuple([z.number(), z.string()]).transform(([t, v], ctx): Point => {
  const value = parseSampleValue(v);
  if (value === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a sample value, got "${v.slice(0, 40)}"` });
    return z.NEVER;
  }
  return { at: new Date(Math.round(t * 1000)), value };
});

// Native histogram samples carry `histogram(s)` instead of `value(s)`; they have no single value and are skipped.
/** A vector result (Prometheus and Loki metric queries). */
export const vectorSchema = z
  .array(z.object({ metric: labelsSchema, value: pointSchema.optional() }))
  .transform((rows) => rows.flatMap((r): InstantSample[] => (r.value ? [{ labels: r.metric, at: r.value.at, value: r.value.value }] : [])));

/** A matrix result (Prometheus and Loki metric range queries). */
export const matrixSchema = z
  .array(z.object({ metric: labelsSchema, values: z.array(pointSchema).optional() }))
  .transform((rows) => rows.flatMap((r): RangeSeries[] => (r.values?.length ? [{ labels: r.metric, points: r.values }] : [])));

const querySchema = z.discriminatedUnion('resultType', [
  z.object({ resultType: z.literal('vector'), result: vectorSchema }),
  z.object({ resultType: z.literal('matrix'), result: matrixSchema }),
  z.object({ resultType: z.literal('scalar'), result: pointSchema }),
  z.object({
    resultType: z.literal('string'),
    result: z.tuple([z.number(), z.string()]).transform(([t, value]) => ({ at: new Date(Math.round(t * 1000)), value })),
  }),
]);

/** The `{status:"success", data}` envelope of every Prometheus (and Loki) API answer. */
export function envelope<S extends z.ZodType>(data: S) {
  return z.object({ status: z.literal('success'), data });
}

/** Go's zero time: Prometheus' lastScrape before the first scrape. */
const NEVER_SCRAPED = /^0001-01-01T/;

const targetSchema = z
  .object({
    labels: labelsSchema,
    discoveredLabels: labelsSchema.default({}),
    scrapePool: z.string().optional(),
    scrapeUrl: z.string(),
    health: z.string(),
    lastError: z.string().default(''),
    lastScrape: z.string().optional(),
    lastScrapeDuration: z.number().optional(),
    scrapeInterval: z
      .string()
      .optional()
      .transform((v) => (v ? parseDuration(v) : undefined)),
  })
  .transform((t): ScrapeTarget => ({
    labels: t.labels,
    discoveredLabels: t.discoveredLabels,
    ...(t.scrapePool !== undefined ? { scrapePool: t.scrapePool } : {}),
    scrapeUrl: t.scrapeUrl,
    health: t.health === 'up' || t.health === 'down' ? t.health : 'unknown',
    ...(t.lastError ? { lastError: t.lastError } : {}),
    ...(t.lastScrape && !NEVER_SCRAPED.test(t.lastScrape) && !Number.isNaN(Date.parse(t.lastScrape)) ? { lastScrape: new Date(t.lastScrape) } : {}),
    ...(t.lastScrapeDuration !== undefined ? { lastScrapeDurationSeconds: t.lastScrapeDuration } : {}),
    ...(t.scrapeInterval ? { scrapeIntervalMs: t.scrapeInterval } : {}),
  }));

const targetsSchema = z.object({
  activeTargets: z
    .array(targetSchema)
    .nullish()
    .transform((v) => v ?? []),
  droppedTargets: z
    .array(z.object({ discoveredLabels: labelsSchema.default({}) }))
    .nullish()
    .transform((v) => v ?? []),
});

const ruleAlertsSchema = z.object({
  alerts: z
    .array(
      z.object({
        labels: labelsSchema,
        annotations: labelsSchema.default({}),
        state: z.enum(['firing', 'pending', 'inactive']),
        activeAt: z.string().optional(),
      }),
    )
    .transform((alerts) =>
      alerts.map(({ activeAt, ...a }): RuleAlert => {
        const at = activeAt === undefined ? NaN : Date.parse(activeAt);
        return Number.isNaN(at) || NEVER_SCRAPED.test(activeAt ?? '') ? a : { ...a, activeAt: new Date(at) };
      }),
    ),
});

/** Creates a Prometheus client; `url` may carry a path prefix and basic auth credentials. */
export function createPrometheusClient(opts: { url: string; timeoutMs: number }): PrometheusClient {
  const backend: Backend = { name: 'Prometheus', url: opts.url, timeoutMs: opts.timeoutMs };
  return {
    async query(expr, time, callOpts) {
      const params = { query: expr, time: time ? unixSeconds(time) : undefined };
      const res = await getJson(backend, '/api/v1/query', params, envelope(querySchema), callOpts);
      return res.data;
    },
    async queryRange(expr, start, end, stepSeconds, callOpts) {
      const params = { query: expr, start: unixSeconds(start), end: unixSeconds(end), step: stepSeconds };
      const schema = envelope(z.object({ resultType: z.literal('matrix'), result: matrixSchema }));
      const res = await getJson(backend, '/api/v1/query_range', params, schema, callOpts);
      return res.data.result;
    },
    async targets(state = 'active', callOpts) {
      const res = await getJson(backend, '/api/v1/targets', { state }, envelope(targetsSchema), callOpts);
      return { active: res.data.activeTargets, dropped: res.data.droppedTargets };
    },
    ready: (callOpts) => readiness(backend, '/-/ready', callOpts),
    async alerts(callOpts) {
      return (await getJson(backend, '/api/v1/alerts', {}, envelope(ruleAlertsSchema), callOpts)).data.alerts;
    },
    async labelValues(name, o = {}, callOpts) {
      if (!LABEL_NAME.test(name)) throw new Error(`invalid label name "${name}": expected [a-zA-Z_][a-zA-Z0-9_]*`);
      const params = {
        'match[]': o.match?.length ? o.match : undefined,
        start: o.start ? unixSeconds(o.start) : undefined,
        end: o.end ? unixSeconds(o.end) : undefined,
      };
      const schema = envelope(
        z
          .array(z.string())
          .nullish()
          .transform((v) => v ?? []),
      );
      return (await getJson(backend, `/api/v1/label/${name}/values`, params, schema, callOpts)).data;
    },
    async snapshot(callOpts) {
      const schema = envelope(z.object({ name: z.string().min(1) }));
      return (await sendJson(backend, 'POST', '/api/v1/admin/tsdb/snapshot', undefined, schema, callOpts)).data.name;
    },
  };
}

/** Asks a readiness endpoint; a non-2xx answer or a failure becomes `{ ready: false, message }`. */
export async function readiness(backend: Backend, path: string, opts?: CallOptions): Promise<Readiness> {
  try {
    const { status, text } = await getRaw(backend, path, {}, opts);
    const said = serverErrorText(text);
    if (status >= 200 && status <= 299) return { ready: true, message: said || `${backend.name} is ready` };
    return { ready: false, message: said ? `${backend.name} HTTP ${status}: ${said}` : `${backend.name} HTTP ${status}` };
  } catch (err) {
    if (err instanceof QueryError) return { ready: false, message: err.message };
    throw err;
  }
}
