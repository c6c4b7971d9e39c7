import type { Point } from '../model.js';
import { z } from 'zod';
import { getJson, type Backend, type CallOptions } from './http.js';
import { LABEL_NAME } from './promql.js';
import {
  envelope,
  labelsSchema,
  matrixSchema,
  pointSchema,
  readiness,
  vectorSchema,
  type InstantSample,
  type RangeSeries,
  type Readiness,
} from './prometheus.js';

/** One log line of a stream. */
export interface LogEntry {
  at: Date;
  /** Loki's nanosecond timestamp, exact (a Date keeps milliseconds only). */
  ns: string;
  line: string;
  /** Structured metadata (Loki 3: a third element in `values`), when present. */
  metadata?: Record<string, string>;
}

/** One log stream: its labels and lines. */
export interface LogStream {
  labels: Record<string, string>;
  entries: LogEntry[];
}

/** A log line with the labels of its stream. */
export interface LabelledLogEntry extends LogEntry {
  labels: Record<string, string>;
}

/** What a range query returned: log streams, or a matrix for metric queries. */
export type LokiRangeResult = { resultType: 'streams'; result: LogStream[] } | { resultType: 'matrix'; result: RangeSeries[] };

/** What an instant query returned. */
export type LokiInstantResult =
  { resultType: 'streams'; result: LogStream[] } | { resultType: 'vector'; result: InstantSample[] } | { resultType: 'scalar'; result: Point };

/** Options of a range query; Loki defaults to limit 100, direction backward. */
export interface LokiRangeOptions {
  start: Date;
  end: Date;
  limit?: number;
  direction?: 'forward' | 'backward';
  /** Metric queries only: resolution step in seconds. */
  step?: number;
}

/** A time range for the label discovery endpoints. */
export interface TimeRange {
  start?: Date;
  end?: Date;
}

/** A Loki HTTP API client. Every call but ready() throws QueryError on failure. */
export interface LokiClient {
  /** GET /loki/api/v1/query_range. */
  queryRange(logql: string, opts: LokiRangeOptions, callOpts?: CallOptions): Promise<LokiRangeResult>;
  /** GET /loki/api/v1/query (Loki 3 refuses log selectors here with HTTP 400). */
  query(logql: string, opts?: { time?: Date; limit?: number; direction?: 'forward' | 'backward' }, callOpts?: CallOptions): Promise<LokiInstantResult>;
  /** GET /loki/api/v1/labels. */
  labels(range?: TimeRange, callOpts?: CallOptions): Promise<string[]>;
  /** GET /loki/api/v1/label/<name>/values. */
  labelValues(name: string, range?: TimeRange, callOpts?: CallOptions): Promise<string[]>;
  /** GET /loki/api/v1/series for one or more stream selectors. */
  series(match: readonly string[], range?: TimeRange, callOpts?: CallOptions): Promise<Array<Record<string, string>>>;
  /** GET /ready; never throws. */
  ready(callOpts?: CallOptions): Promise<Readiness>;
}

/** A Date as Loki's nanosecond timestamp string. */
export function toNanos(d: Date): string {
  return (BigInt(d.getTime()) * 1_000_000n).toString();
}

/** Loki's nanosecond timestamp string as a Date (millisecond precision). */
export function fromNanos(ns: string): Date {
  return new Date(Number(BigInt(ns) / 1_000_000n));
}

/** Loki 3 sends structured metadata either flat or as `{structuredMetadata, parsed}` (categorize-labels). */
function metadataOf(extra: unknown): Record<string, string> | undefined {
  const flat = labelsSchema.safeParse(extra);
  if (flat.success) return Object.keys(flat.data).length ? flat.data : undefined;
  const nested = z.object({ structuredMetadata: labelsSchema }).safeParse(extra);
  return nested.success && Object.keys(nested.data.structuredMetadata).length ? nested.data.structuredMetadata : undefined;
}

const entrySchema = z
  .tuple([z.string().regex(/^\d{1,20}$/, 'expected a nanosecond timestamp string'), z.string()], z.unknown())
  .transform(([ns, line, extra]): LogEntry => {
    const metadata = metadataOf(extra);
    return { at: fromNanos(ns), ns, line, ...(metadata ? { metadata } : {}) };
  });

const streamsSchema = z
  .array(z.object({ stream: labelsSchema.default({}), values: z.array(entrySchema) }))
  .transform((rows) => rows.map((r): LogStream => ({ labels: r.stream, entries: r.values })));

const rangeSchema = z.discriminatedUnion('resultType', [
  z.object({ resultType: z.literal('streams'), result: streamsSchema }),
  z.object({ resultType: z.literal('matrix'), result: matrixSchema }),
]);

const instantSchema = z.discriminatedUnion('resultType', [
  z.object({ resultType: z.literal('streams'), result: streamsSchema }),
  z.object({ resultType: z.literal('vector'), result: vectorSchema }),
  z.object({ resultType: z.literal('scalar'), result: pointSchema }),
]);

/** Creates a Loki client; `url` may carry a path prefix and basic auth credentials. */
export function createLokiClient(opts: { url: string; timeoutMs: number }): LokiClient {
  const backend: Backend = { name: 'Loki', url: opts.url, timeoutMs: opts.timeoutMs };
  const rangeParams = (r: TimeRange = {}) => ({
    start: r.start ? toNanos(r.start) : undefined,
    end: r.end ? toNanos(r.end) : undefined,
  });
  const strings = envelope(
    z
      .array(z.string())
      .nullish()
      .transform((v) => v ?? []),
  );
  return {
    async queryRange(logql, o, callOpts) {
      const params = { query: logql, ...rangeParams(o), limit: o.limit, direction: o.direction, step: o.step };
      const res = await getJson(backend, '/loki/api/v1/query_range', params, envelope(rangeSchema), callOpts);
      return res.data;
    },
    async query(logql, o = {}, callOpts) {
      const params = { query: logql, time: o.time ? toNanos(o.time) : undefined, limit: o.limit, direction: o.direction };
      const res = await getJson(backend, '/loki/api/v1/query', params, envelope(instantSchema), callOpts);
      return res.data;
    },
    async labels(range, callOpts) {
      return (await getJson(backend, '/loki/api/v1/labels', rangeParams(range), strings, callOpts)).data;
    },
    async labelValues(name, range, callOpts) {
      if (!LABEL_NAME.test(name)) throw new Error(`invalid Loki label name "${name}"`);
      return (await getJson(backend, `/loki/api/v1/label/${name}/values`, rangeParams(range), strings, callOpts)).data;
    },
    async series(match, range, callOpts) {
      const schema = envelope(
        z
          .array(labelsSchema)
          .nullish()
          .transform((v) => v ?? []),
      );
      return (await getJson(backend, '/loki/api/v1/series', { 'match[]': match, ...rangeParams(range) }, schema, callOpts)).data;
    },
    ready: (callOpts) => readiness(backend, '/ready', callOpts),
  };
}

/** All lines of all streams, newest first (Loki orders within a stream only). */
export function newestFirst(streams: readonly LogStream[]): LabelledLogEntry[] {
  const all = streams.flatMap((s) => s.entries.map((e) => ({ ...e, labels: s.labels })));
  return all.sort((a, b) => compareNanos(b.ns, a.ns));
}

function compareNanos(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
