import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryError } from '../../src/queries/http.js';
import { createLokiClient, fromNanos, newestFirst, toNanos, type LokiClient } from '../../src/queries/loki.js';
import { freePort } from '../support/ports.js';

/** Real Loki 2.8 responses, one request/response pair per file (../fixtures/loki/SOURCES.md). */
const FIXTURE_DIR = new URL('../fixtures/loki/', import.meta.url);

interface Fixture {
  file: string;
  request: { method: string; path: string; query: Record<string, string> };
  response: { status: number; contentType: string; json?: unknown; text?: string };
}

const fixtures: Fixture[] = readdirSync(FIXTURE_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => ({ file, ...(JSON.parse(readFileSync(new URL(file, FIXTURE_DIR), 'utf8')) as Omit<Fixture, 'file'>) }));

/** Loki timestamps: our Dates keep milliseconds, so a recorded ns time matches within 1 ms. */
const TIME_PARAMS = new Set(['start', 'end', 'time']);

/** Whether a request carries exactly the recorded parameters (times within a millisecond). */
function sameRequest(url: URL, f: Fixture): boolean {
  if (url.pathname !== f.request.path) return false;
  const sent = [...new Set(url.searchParams.keys())].sort();
  if (sent.join() !== Object.keys(f.request.query).sort().join()) return false;
  return Object.entries(f.request.query).every(([key, want]) => {
    const got = url.searchParams.get(key) ?? '';
    if (!TIME_PARAMS.has(key)) return got === want;
    return /^\d+$/.test(got) && BigInt(got) - BigInt(want) <= 0n && BigInt(want) - BigInt(got) < 1_000_000n;
  });
}

/** Replays the recorded response of the fixture the request matches; 404 when none does. */
function replay(list: readonly Fixture[]): RequestListener {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://loki');
    const f = list.find((x) => sameRequest(url, x));
    if (!f) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`no fixture for ${url.pathname}${url.search}`);
      return;
    }
    res.writeHead(f.response.status, { 'content-type': f.response.contentType });
    res.end(f.response.text ?? JSON.stringify(f.response.json));
  };
}

async function serve(handler: RequestListener): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Calls the client method the recorded request belongs to, with the recorded arguments. */
function callFor(client: LokiClient, f: Fixture): Promise<unknown> {
  const q = f.request.query;
  const range = { start: q.start ? fromNanos(q.start) : undefined, end: q.end ? fromNanos(q.end) : undefined };
  const direction = q.direction as 'forward' | 'backward' | undefined;
  const labelValues = /^\/loki\/api\/v1\/label\/(\w+)\/values$/.exec(f.request.path);
  if (labelValues) return client.labelValues(labelValues[1]!, range);
  switch (f.request.path) {
    case '/loki/api/v1/query_range':
      return client.queryRange(q.query!, {
        start: range.start!,
        end: range.end!,
        ...(q.limit ? { limit: Number(q.limit) } : {}),
        ...(direction ? { direction } : {}),
        ...(q.step ? { step: Number(q.step) } : {}),
      });
    case '/loki/api/v1/query':
      return client.query(q.query!, { time: fromNanos(q.time!) });
    case '/loki/api/v1/labels':
      return client.labels(range);
    case '/loki/api/v1/series':
      return client.series([q['match[]']!], range);
    default:
      throw new Error(`no client call for ${f.request.path}`);
  }
}

type RawStream = { stream: Record<string, string>; values: string[][] };
type RawSeries = { metric: Record<string, string>; values?: [number, string][]; value?: [number, string] };

/** The client's expected answer, derived from the recorded JSON independently of the parser. */
function expected(json: unknown): unknown {
  const data = (json as { data: unknown }).data;
  if (Array.isArray(data)) return data;
  const { resultType, result } = data as { resultType: string; result: unknown[] };
  const at = (seconds: number) => new Date(seconds * 1000);
  switch (resultType) {
    case 'streams':
      return {
        resultType,
        result: (result as RawStream[]).map((s) => ({
          labels: s.stream,
          entries: s.values.map(([ns, line]) => ({ ns, line, at: new Date(Number(ns!.slice(0, -6))) })),
        })),
      };
    case 'matrix':
      return {
        resultType,
        result: (result as RawSeries[]).map((s) => ({
          labels: s.metric,
          points: s.values!.map(([t, v]) => ({ at: at(t), value: Number(v) })),
        })),
      };
    case 'vector':
      return {
        resultType,
        result: (result as RawSeries[]).map((s) => ({ labels: s.metric, at: at(s.value![0]), value: Number(s.value![1]) })),
      };
    default:
      throw new Error(`unexpected resultType ${resultType}`);
  }
}

let lokiUrl = '';
let server: Server;
let client: LokiClient;

beforeAll(async () => {
  ({ url: lokiUrl, server } = await serve(replay(fixtures)));
  client = createLokiClient({ url: lokiUrl, timeoutMs: 2_000 });
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('Loki client against every recorded Loki response', () => {
  it('has fixtures to replay', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(11);
  });

  it.each(fixtures.filter((f) => f.response.status === 200).map((f) => [f.file, f] as const))('parses %s into the recorded data', async (_file, f) => {
    await expect(callFor(client, f)).resolves.toEqual(expected(f.response.json));
  });

  it.each(fixtures.filter((f) => f.response.status !== 200).map((f) => [f.file, f] as const))('surfaces the plain-text error of %s', async (_file, f) => {
    const err = await callFor(client, f).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryError);
    expect(err).toMatchObject({
      kind: 'http',
      status: f.response.status,
      message: `Loki HTTP ${f.response.status}: ${f.response.text!.trim()}`,
    });
  });
});

describe('Loki stream parsing', () => {
  const errors = fixtures.find((f) => f.file === 'query_range-streams-errors.json')!;
  const allForward = fixtures.find((f) => f.file === 'query_range-streams-all-forward.json')!;

  /** Serves one modified copy of a fixture's JSON body for any request. */
  async function parseModified(mutate: (json: { data: { result: RawStream[] } & Record<string, unknown> }) => void) {
    const json = structuredClone(errors.response.json) as { data: { result: RawStream[] } & Record<string, unknown> };
    mutate(json);
    const { url, server: s } = await serve((_req, res) => res.end(JSON.stringify(json)));
    try {
      return await createLokiClient({ url, timeoutMs: 2_000 }).queryRange('{x="y"}', { start: new Date(0), end: new Date(1) });
    } finally {
      s.closeAllConnections();
      s.close();
    }
  }

  it('tolerates unknown keys such as encodingFlags (Loki 3)', async () => {
    const res = await parseModified((json) => {
      json.data.encodingFlags = ['categorize-labels'];
      (json.data.result[0] as Record<string, unknown>).shard = 3;
    });
    expect(res.resultType).toBe('streams');
    expect(res.result).toHaveLength(1);
  });

  it.each([
    ['flat structured metadata', { trace_id: 'abc123' }, { trace_id: 'abc123' }],
    ['categorized structured metadata', { structuredMetadata: { trace_id: 'abc123' }, parsed: { level: 'error' } }, { trace_id: 'abc123' }],
    ['an empty third element', {}, undefined],
  ])('keeps the line when values carry %s', async (_name, third, metadata) => {
    const res = await parseModified((json) => {
      const v = json.data.result[0]!.values[0]! as unknown[];
      v.push(third);
    });
    const first = res.result[0] as { entries: Array<{ line: string; metadata?: unknown }> };
    const rawLine = (errors.response.json as { data: { result: RawStream[] } }).data.result[0]!.values[0]![1];
    expect(first.entries[0]!.line).toBe(rawLine);
    expect(first.entries[0]!.metadata).toEqual(metadata);
  });

  it('rejects a timestamp that is not a nanosecond string, naming the field', async () => {
    const err = await parseModified((json) => {
      json.data.result[0]!.values[0]![0] = '2026-11-21T09:00:00Z';
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'invalid-response' });
    expect((err as Error).message).toMatch(/data\.result\.0\.values\.0\.0: expected a nanosecond timestamp string/);
  });

  it('orders lines of several streams newest first', async () => {
    const res = await callFor(client, allForward);
    const streams = (res as { result: Parameters<typeof newestFirst>[0] }).result;
    const merged = newestFirst(streams);
    const allNs = streams.flatMap((s) => s.entries.map((e) => e.ns));
    expect(merged.map((e) => e.ns)).toEqual([...allNs].sort((a, b) => (BigInt(b) > BigInt(a) ? 1 : BigInt(b) < BigInt(a) ? -1 : 0)));
    expect(merged).toHaveLength(allNs.length);
    expect(new Set(merged.map((e) => e.labels.container_name)).size).toBeGreaterThan(1);
  });
});

describe('Loki timestamps', () => {
  it.each([
    ['1795251564072576965', '2026-11-21T08:59:24.072Z'],
    ['0', '1970-01-01T00:00:00.000Z'],
    ['999999', '1970-01-01T00:00:00.000Z'],
  ])('reads %s ns as %s', (ns, iso) => {
    expect(fromNanos(ns).toISOString()).toBe(iso);
  });

  it('writes a Date as nanoseconds', () => {
    expect(toNanos(new Date('2026-11-21T08:59:24.072Z'))).toBe('1795251564072000000');
  });
});

describe('Loki failures', () => {
  it('names Loki and the timeout when it is slow', async () => {
    const { url, server: slow } = await serve((_req, res) => void setTimeout(() => res.end('{}'), 5_000).unref());
    try {
      const err = await createLokiClient({ url, timeoutMs: 200 })
        .queryRange('{job="docker"}', { start: new Date(0), end: new Date(1000) })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'timeout', message: 'Loki timed out after 200ms' });
    } finally {
      slow.closeAllConnections();
      slow.close();
    }
  });

  it('says Loki is unreachable when nothing listens', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const err = await createLokiClient({ url, timeoutMs: 1_000 })
      .queryRange('{job="docker"}', { start: new Date(0), end: new Date(1000) })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'network' });
    expect((err as Error).message).toMatch(/^Loki unreachable: .*ECONNREFUSED/);
  });

  it('refuses a label name that would change the request path', async () => {
    await expect(client.labelValues('../../admin')).rejects.toThrow('invalid Loki label name');
  });
});

describe('Loki readiness', () => {
  it.each([
    [200, 'ready\n', { ready: true, message: 'ready' }],
    [
      503,
      'Ingester not ready: waiting for 15s after being ready\n',
      { ready: false, message: 'Loki HTTP 503: Ingester not ready: waiting for 15s after being ready' },
    ],
  ])('answers HTTP %i as %j', async (status, body, want) => {
    const { url, server: s } = await serve((req, res) => {
      if (req.url === '/ready') res.writeHead(status).end(body);
      else res.writeHead(404).end();
    });
    try {
      await expect(createLokiClient({ url, timeoutMs: 1_000 }).ready()).resolves.toEqual(want);
    } finally {
      s.closeAllConnections();
      s.close();
    }
  });

  it('is not ready when nothing listens', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const res = await createLokiClient({ url, timeoutMs: 1_000 }).ready();
    expect(res.ready).toBe(false);
    expect(res.message).toMatch(/^Loki unreachable/);
  });
});
