import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLokiFixture, lokiFixtureFiles, startLokiDouble, type LokiDoubleHandle, type LokiFixture } from './loki-double.js';

interface Reply {
  status: number;
  contentType: string | null;
  text: string;
}

interface StreamResult {
  stream: Record<string, string>;
  values: Array<[string, string]>;
}

interface SuccessBody<T> {
  status: string;
  data: T;
}

interface StreamsBody {
  resultType: string;
  result: StreamResult[];
  stats: { summary: { totalEntriesReturned: number } };
}

async function get(double: LokiDoubleHandle, path: string, query: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(`${double.url}${path}?${new URLSearchParams(query).toString()}`);
  return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() };
}

/** The recorded data set: every line of query_range-streams-all-forward.json with its labels. */
const ALL = loadLokiFixture('query_range-streams-all-forward.json');
const RECORDED_STREAMS = (ALL.response.json as SuccessBody<StreamsBody>).data.result;
const RECORDED_LINES = RECORDED_STREAMS.flatMap((s) => s.values.map(([ns, line]) => ({ labels: s.stream, ns: BigInt(ns), line })));
const RECORDED_END = BigInt(ALL.request.query.end as string);
const NEWEST = RECORDED_LINES.reduce((m, l) => (l.ns > m ? l.ns : m), 0n);
const SEC = 1_000_000_000n;

/** Body without data.stats (which clients must ignore), and data lists in a stable order. */
function comparable(text: string): unknown {
  const body = JSON.parse(text) as { data?: unknown };
  if (Array.isArray(body.data)) {
    return { ...body, data: body.data.map((d) => JSON.stringify(d, Object.keys(d as object).sort())).sort() };
  }
  if (body.data && typeof body.data === 'object') {
    const { stats, ...rest } = body.data as { stats?: unknown };
    expect(stats).toMatchObject({ summary: expect.any(Object) });
    return { ...body, data: rest };
  }
  return body;
}

function expectedBody(fixture: LokiFixture): string {
  return fixture.response.json !== undefined ? JSON.stringify(fixture.response.json) : (fixture.response.text as string);
}

const FIXTURES = lokiFixtureFiles().map((file) => [file, loadLokiFixture(file)] as const);

describe('Loki double: recorded requests', () => {
  let recordedTimes: LokiDoubleHandle;
  let rebased: LokiDoubleHandle;

  beforeAll(async () => {
    // The fixtures were recorded against Loki 2.8, so the instant log query answers the 2.8 way here.
    recordedTimes = await startLokiDouble({ rebase: false, instantLogQueries: 'loki2' });
    rebased = await startLokiDouble({ instantLogQueries: 'loki2' });
  });

  afterAll(async () => {
    await Promise.all([recordedTimes.stop(), rebased.stop()]);
  });

  it('loads the recorded fixtures SOURCES.md lists (so the tables below are not empty)', () => {
    expect(FIXTURES.map(([f]) => f)).toEqual(
      expect.arrayContaining([
        'query_range-streams-errors.json',
        'query_range-streams-all-forward.json',
        'query_range-matrix-volume-by-level.json',
        'query-vector-errors-by-container.json',
        'query_range-empty.json',
        'query_range-parse-error.json',
        'query_range-limit-exceeded.json',
        'query-log-selector-instant.json',
        'labels.json',
        'label-values-container_name.json',
        'series.json',
      ]),
    );
  });

  it.each(FIXTURES)('reproduces %s exactly when the data keeps its recorded timestamps', async (_file, fx) => {
    const reply = await get(recordedTimes, fx.request.path, fx.request.query);
    expect(reply.status).toBe(fx.response.status);
    expect(reply.contentType).toBe(fx.response.contentType);
    if (fx.response.text !== undefined) expect(reply.text).toBe(fx.response.text);
    else expect(comparable(reply.text)).toEqual(comparable(expectedBody(fx)));
  });

  it.each(FIXTURES)('answers %s shifted to the present with the recorded status, type and shape', async (_file, fx) => {
    const end = BigInt(Date.now()) * 1_000_000n;
    const shift = end - RECORDED_END;
    const query = Object.fromEntries(
      Object.entries(fx.request.query).map(([k, v]) => [k, ['start', 'end', 'time'].includes(k) ? String(BigInt(v) + shift) : v]),
    );
    const reply = await get(rebased, fx.request.path, query);
    expect(reply.status).toBe(fx.response.status);
    expect(reply.contentType).toBe(fx.response.contentType);
    if (fx.response.text !== undefined) {
      expect(reply.text).toBe(fx.response.text);
      return;
    }
    const got = JSON.parse(reply.text) as SuccessBody<{ resultType?: string; result?: unknown[] }>;
    const want = fx.response.json as SuccessBody<{ resultType?: string; result?: unknown[] }>;
    expect(got.status).toBe('success');
    if (want.data.resultType === 'streams') {
      // The newest recorded line lands 30 s before the requested end; every line moves by the same amount.
      const moveBy = shift + (RECORDED_END - 30n * SEC - NEWEST);
      const shifted = (want.data.result as StreamResult[]).map((s) => ({
        stream: s.stream,
        values: s.values.map(([ns, line]) => [String(BigInt(ns) + moveBy), line]),
      }));
      expect(got.data.result).toEqual(shifted);
    } else if (want.data.resultType === 'vector') {
      const seconds = Number(end / 1_000_000n) / 1000;
      expect(got.data.result).toEqual([{ metric: { container_name: 'api' }, value: [seconds, '3'] }]);
    } else if (want.data.resultType === 'matrix') {
      const metrics = (r: unknown[] | undefined) => (r as Array<{ metric: unknown }>).map((s) => s.metric);
      expect(metrics(got.data.result)).toEqual(metrics(want.data.result));
      for (const series of got.data.result as Array<{ values: unknown[] }>) {
        for (const point of series.values) expect(point).toEqual([expect.any(Number), expect.stringMatching(/^\d+$/)]);
      }
    } else {
      expect(comparable(reply.text)).toEqual(comparable(expectedBody(fx)));
    }
  });
});

describe('Loki double: LogQL selectors and line filters', () => {
  let loki: LokiDoubleHandle;
  beforeAll(async () => {
    loki = await startLokiDouble();
  });
  afterAll(() => loki.stop());

  type Line = (typeof RECORDED_LINES)[number];
  const cases: Array<[string, string, (l: Line) => boolean]> = [
    ['an equality matcher', '{compose_service="api"}', (l) => l.labels.compose_service === 'api'],
    ['several matchers together', '{job="docker", level="error"}', (l) => l.labels.level === 'error'],
    ['a regex matcher, fully anchored', '{container_name=~"api|nginx"}', (l) => ['api', 'nginx'].includes(l.labels.container_name as string)],
    ['a regex matcher that only matches a prefix', '{container_name=~"ap"}', () => false],
    ['a negative matcher', '{job="docker", container_name!="api"}', (l) => l.labels.container_name !== 'api'],
    ['a negative regex matcher', '{job="docker", container_name!~"api|mysql"}', (l) => l.labels.container_name === 'nginx'],
    ['a selector that matches nothing', '{compose_service="nope"}', () => false],
    ['a hex escape in a label value', '{compose_service="\\x61pi"}', (l) => l.labels.compose_service === 'api'],
    ['an escaped quote that stays inside the value', '{compose_service="a\\"pi"}', () => false],
    ['a case-sensitive contains filter', '{job="docker"} |= "Connection"', (l) => l.line.includes('Connection')],
    ['a regex filter with (?i)', '{job="docker"} |~ "(?i)connection"', (l) => /connection/i.test(l.line)],
    ['a regex filter without (?i) stays case-sensitive', '{job="docker"} |~ "error"', (l) => l.line.includes('error')],
    ['a negative contains filter', '{job="docker"} != "nio-8080"', (l) => !l.line.includes('nio-8080')],
    ['a negative regex filter', '{job="docker"} !~ "(?i)error|exception"', (l) => !/error|exception/i.test(l.line)],
    ['escaped quotes in a filter', '{job="docker"} |= "\\"level\\":\\"error\\""', (l) => l.line.includes('"level":"error"')],
    ['chained filters', '{job="docker"} |= "Connection" != "Hikari"', (l) => l.line.includes('Connection') && !l.line.includes('Hikari')],
    ['a raw backtick regex', '{job="docker"} |~ `\\d{3} \\d+ "-"`', (l) => /\d{3} \d+ "-"/.test(l.line)],
  ];

  it.each(cases)('applies %s: %s', async (_name, query, keep) => {
    const reply = await get(loki, '/loki/api/v1/query_range', { query, limit: '1000' });
    expect(reply.status).toBe(200);
    const body = JSON.parse(reply.text) as SuccessBody<StreamsBody>;
    expect(body.data.resultType).toBe('streams');
    const got = body.data.result.flatMap((s) => s.values.map(([, line]) => `${s.stream.container_name}: ${line}`)).sort();
    const want = RECORDED_LINES.filter(keep)
      .map((l) => `${l.labels.container_name}: ${l.line}`)
      .sort();
    expect(got).toEqual(want);
    expect(body.data.stats.summary.totalEntriesReturned).toBe(want.length);
  });

  it('returns the streams sorted by their label set, each with its own labels', async () => {
    const reply = await get(loki, '/loki/api/v1/query_range', { query: '{job="docker"}' });
    const body = JSON.parse(reply.text) as SuccessBody<StreamsBody>;
    expect(body.data.result.map((s) => s.stream)).toEqual(RECORDED_STREAMS.map((s) => s.stream));
  });
});

describe('Loki double: time range, limit and direction', () => {
  let loki: LokiDoubleHandle;
  // A fixed end in whole milliseconds, so the seconds and RFC3339 spellings name the same instant.
  const END_MS = 1_800_000_000_000;
  const END = BigInt(END_MS) * 1_000_000n;
  beforeAll(async () => {
    loki = await startLokiDouble();
  });
  afterAll(() => loki.stop());

  async function streams(query: Record<string, string>): Promise<StreamResult[]> {
    const reply = await get(loki, '/loki/api/v1/query_range', { query: '{job="docker"}', ...query });
    expect(reply.status).toBe(200);
    return (JSON.parse(reply.text) as SuccessBody<StreamsBody>).data.result;
  }

  const timestamps = (result: StreamResult[]) => result.flatMap((s) => s.values.map(([ns]) => BigInt(ns)));
  /** Rebased timestamp of a recorded line: the newest one sits at END - 30 s. */
  const rebased = (ns: bigint) => ns - NEWEST + END - 30n * SEC;

  it('puts the newest line 30 s before the requested end', async () => {
    const ts = timestamps(await streams({ end: String(END), limit: '1000' }));
    expect(ts.reduce((m, t) => (t > m ? t : m), 0n)).toBe(END - 30n * SEC);
    expect(ts).toHaveLength(RECORDED_LINES.length);
  });

  it('answers newest first by default and keeps the newest `limit` lines', async () => {
    const result = await streams({ end: String(END), limit: '2' });
    const newestTwo = [...RECORDED_LINES].sort((a, b) => (a.ns > b.ns ? -1 : 1)).slice(0, 2);
    expect(timestamps(result).sort()).toEqual(newestTwo.map((l) => rebased(l.ns)).sort());
    for (const s of result) expect(s.values.map(([ns]) => BigInt(ns))).toEqual(s.values.map(([ns]) => BigInt(ns)).sort((a, b) => (a > b ? -1 : 1)));
  });

  it('answers oldest first with direction=forward and keeps the oldest `limit` lines', async () => {
    const result = await streams({ end: String(END), limit: '2', direction: 'forward' });
    const oldestTwo = [...RECORDED_LINES].sort((a, b) => (a.ns < b.ns ? -1 : 1)).slice(0, 2);
    expect(timestamps(result).sort()).toEqual(oldestTwo.map((l) => rebased(l.ns)).sort());
  });

  it('defaults to 100 lines and accepts the maximum of 5000', async () => {
    expect(timestamps(await streams({ end: String(END) }))).toHaveLength(RECORDED_LINES.length);
    expect(timestamps(await streams({ end: String(END), limit: '5000' }))).toHaveLength(RECORDED_LINES.length);
  });

  // The data is rebased against the request's end, so the start decides how far back lines are kept.
  const window = { start: END - 100n * SEC, end: END };
  const inWindow = RECORDED_LINES.filter((l) => rebased(l.ns) >= window.start);
  const asSeconds = (ns: bigint) => (Number(ns / 1_000_000n) / 1000).toFixed(3);
  const asRfc3339 = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();

  it.each([
    ['nanosecond strings', String(window.start), String(window.end)],
    ['float seconds', asSeconds(window.start), asSeconds(window.end)],
    ['RFC3339', asRfc3339(window.start), asRfc3339(window.end)],
  ])('keeps lines from start on, given as %s', async (_name, start, end) => {
    const result = await streams({ start, end, limit: '1000' });
    expect(inWindow.length).toBeGreaterThan(0);
    expect(inWindow.length).toBeLessThan(RECORDED_LINES.length);
    expect(timestamps(result).sort()).toEqual(inWindow.map((l) => rebased(l.ns)).sort());
  });

  it('includes a line at exactly start and excludes one at exactly end (recorded timestamps)', async () => {
    const fixed = await startLokiDouble({ rebase: false });
    try {
      const sorted = RECORDED_LINES.map((l) => l.ns).sort((a, b) => (a < b ? -1 : 1));
      const [start, end] = [sorted[2] as bigint, sorted[6] as bigint];
      const reply = await get(fixed, '/loki/api/v1/query_range', { query: '{job="docker"}', start: String(start), end: String(end) });
      const result = (JSON.parse(reply.text) as SuccessBody<StreamsBody>).data.result;
      expect(timestamps(result).sort()).toEqual(sorted.slice(2, 6));
    } finally {
      await fixed.stop();
    }
  });

  it.each([
    ['5001', 'max entries limit per query exceeded, limit > max_entries_limit (5001 > 5000)'],
    ['0', 'limit must be a positive value'],
  ])('rejects limit=%s with a plain-text 400', async (limit, message) => {
    const reply = await get(loki, '/loki/api/v1/query_range', { query: '{job="docker"}', limit });
    expect(reply).toEqual({ status: 400, contentType: 'application/json; charset=UTF-8', text: message });
  });

  it('rejects an end before the start', async () => {
    const reply = await get(loki, '/loki/api/v1/query_range', { query: '{job="docker"}', start: String(END), end: String(END - SEC) });
    expect(reply.status).toBe(400);
    expect(reply.text).toBe('end timestamp must not be before or equal to start time');
  });
});

describe('Loki double: errors, instant queries and discovery', () => {
  let loki: LokiDoubleHandle;
  beforeAll(async () => {
    loki = await startLokiDouble();
  });
  afterAll(() => loki.stop());

  it.each([
    ['{compose_service="api"', 'parse error at line 1, col 23: syntax error: unexpected $end, expecting } or ,'],
    ['{compose_service="api" |= "x"', 'parse error at line 1, col 24: syntax error: unexpected |=, expecting } or ,'],
    ['{compose_service=api}', 'parse error at line 1, col 18: syntax error: unexpected IDENTIFIER, expecting STRING'],
    ['{compose_service}', 'parse error at line 1, col 17: syntax error: unexpected }, expecting = or =~ or !~ or !='],
    ['{job="docker"} |= ', 'parse error at line 1, col 19: syntax error: unexpected $end, expecting STRING or ip'],
    ['unk({job="docker"}[5m])', 'parse error at line 1, col 1: syntax error: unexpected IDENTIFIER'],
    ['{job="docker"} |= "unterminated', 'parse error at line 1, col 19: literal not terminated'],
    ['{job="docker"} |= "\\q"', 'parse error at line 1, col 19: invalid char escape'],
    [
      '{job=~".*"}',
      'parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will',
    ],
  ])("answers the malformed query %s with Loki's plain-text parse error", async (query, message) => {
    const reply = await get(loki, '/loki/api/v1/query_range', { query });
    expect(reply).toEqual({ status: 400, contentType: 'application/json; charset=UTF-8', text: message });
  });

  it.each([
    ['{job="docker"} | json', 'pipeline stage | json'],
    ['{job="docker"} |> "<_> error"', 'pattern line filter |>'],
    ['{job="docker"} !> "<_> error"', 'pattern line filter !>'],
    ['{job="docker"} |= ip("1.2.3.4")', 'ip() line filter'],
    ['{job="docker"} != ip("10.0.0.0/8")', 'ip() line filter'],
    ['count_over_time({job="docker"}[5m] offset 1m)', 'offset'],
    ['sum by (container_name) (rate({job="docker"} |= "error" [5m] offset 1h))', 'offset'],
    ['count_over_time({job="docker"}[5m]) > 1', 'binary operator >'],
    ['sum(count_over_time({job="docker"}[5m]) > 1)', 'binary operator >'],
    ['(rate({job="docker"}[1m]) * 60)', 'binary operator *'],
    ['sum(rate({job="docker"}[1m]) or rate({job="docker"}[5m]))', 'binary operator or'],
    ['avg_over_time({job="docker"} | unwrap bytes [5m])', 'function avg_over_time'],
  ])('answers the valid LogQL %s it does not implement with a loud 501 naming %s', async (query, what) => {
    const reply = await get(loki, '/loki/api/v1/query_range', { query });
    expect(reply.status).toBe(501);
    expect(reply.text).toContain(`unsupported LogQL (${what})`);
  });

  it("still answers an offset outside a range with Loki's parse error", async () => {
    const reply = await get(loki, '/loki/api/v1/query_range', { query: 'rate({job="docker"}[1m]) offset 5m' });
    expect(reply).toEqual({
      status: 400,
      contentType: 'application/json; charset=UTF-8',
      text: 'parse error at line 1, col 26: syntax error: unexpected IDENTIFIER',
    });
  });

  it('rejects a log selector on the instant endpoint like Loki 3 by default', async () => {
    const reply = await get(loki, '/loki/api/v1/query', { query: '{job="docker"}' });
    expect(reply).toEqual({
      status: 400,
      contentType: 'application/json; charset=UTF-8',
      text: 'log queries are not supported as an instant query type, please change your query to a range query type',
    });
  });

  it('answers a log selector on the instant endpoint with empty streams like Loki 2.8 when asked to', async () => {
    const loki2 = await startLokiDouble({ instantLogQueries: 'loki2' });
    try {
      const reply = await get(loki2, '/loki/api/v1/query', { query: '{job="docker"}' });
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.text)).toEqual(loadLokiFixture('query-log-selector-instant.json').response.json);
    } finally {
      await loki2.stop();
    }
  });

  const mysql = RECORDED_STREAMS.find((st) => st.stream.container_name === 'mysql')?.stream;
  const nginxBytes = RECORDED_LINES.filter((l) => l.labels.container_name === 'nginx').reduce((n, l) => n + Buffer.byteLength(l.line), 0);
  it.each([
    [
      'sum by (level) (count_over_time({job="docker"}[10m]))',
      [
        { metric: { level: 'error' }, value: '3' },
        { metric: { level: 'info' }, value: '4' },
        { metric: { level: 'warn' }, value: '2' },
      ],
    ],
    ['sum(rate({container_name="mysql"}[10m]))', [{ metric: {}, value: '0.0033333333333333335' }]],
    ['count_over_time({container_name="mysql"} |= "Aborted" [10m])', [{ metric: mysql, value: '1' }]],
    [
      'sum without (level, host, job, compose_service) (count_over_time({job="docker"}[10m]))',
      [
        { metric: { container_name: 'api' }, value: '5' },
        { metric: { container_name: 'mysql' }, value: '2' },
        { metric: { container_name: 'nginx' }, value: '2' },
      ],
    ],
    ['max(bytes_over_time({container_name="nginx"}[10m]))', [{ metric: {}, value: String(nginxBytes) }]],
    ['sum(count_over_time({job="docker"}[10s]))', []],
  ])('computes the instant metric query %s from the rebased data set', async (query, expected) => {
    const reply = await get(loki, '/loki/api/v1/query', { query, time: '1800000000' });
    const body = JSON.parse(reply.text) as SuccessBody<{ resultType: string; result: unknown[] }>;
    expect(body.data.resultType).toBe('vector');
    expect(body.data.result).toEqual(expected.map((e) => ({ metric: e.metric, value: [1800000000, e.value] })));
  });

  it('derives labels, label values and series from the lines inside the window', async () => {
    const recent = { end: String(BigInt(Date.now()) * 1_000_000n) };
    const labels = JSON.parse((await get(loki, '/loki/api/v1/labels', recent)).text) as SuccessBody<string[]>;
    expect(labels.data).toEqual(['compose_service', 'container_name', 'host', 'job', 'level']);
    const values = JSON.parse((await get(loki, '/loki/api/v1/label/host/values', recent)).text) as SuccessBody<string[]>;
    expect(values.data).toEqual(['app-1', 'db-1']);
    const series = JSON.parse((await get(loki, '/loki/api/v1/series', { ...recent, 'match[]': '{level="info"}' })).text) as SuccessBody<
      Array<Record<string, string>>
    >;
    expect(series.data.map((s) => s.container_name)).toEqual(['api', 'nginx']);
    // The newest line sits 30 s before end, so a 10 s window holds no line and no label.
    const endNs = BigInt(Date.now()) * 1_000_000n;
    const short = { start: String(endNs - 10n * SEC), end: String(endNs) };
    expect(JSON.parse((await get(loki, '/loki/api/v1/labels', short)).text)).toEqual({ status: 'success', data: [] });
  });

  it('answers /ready with 200 "ready"', async () => {
    const reply = await get(loki, '/ready');
    expect([reply.status, reply.text.trim()]).toEqual([200, 'ready']);
  });

  it('accepts a form-encoded POST like Loki does', async () => {
    const res = await fetch(`${loki.url}/loki/api/v1/query_range`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: '{container_name="mysql"}' }),
    });
    const body = (await res.json()) as SuccessBody<StreamsBody>;
    expect(body.data.result.map((s) => s.stream.container_name)).toEqual(['mysql']);
  });

  it('records every request with its method, path and parsed query', async () => {
    const before = loki.requests.length;
    await get(loki, '/loki/api/v1/labels', { start: '1', end: '2' });
    expect(loki.requests.slice(before)).toEqual([{ method: 'GET', path: '/loki/api/v1/labels', query: { start: '1', end: '2' } }]);
  });
});

describe('Loki double: failure modes', () => {
  it('stops listening in mode down and listens on the same port again in mode normal', async () => {
    const loki = await startLokiDouble();
    try {
      await loki.setMode('down');
      await expect(fetch(`${loki.url}/ready`)).rejects.toThrow();
      await loki.setMode('normal');
      expect((await get(loki, '/ready')).status).toBe(200);
    } finally {
      await loki.stop();
    }
  });

  it('can start down and come up later', async () => {
    const loki = await startLokiDouble({ mode: 'down' });
    try {
      await expect(fetch(`${loki.url}/ready`)).rejects.toThrow();
      await loki.setMode('normal');
      expect((await get(loki, '/ready')).status).toBe(200);
    } finally {
      await loki.stop();
    }
  });

  it('answers the API with a plain-text 500 in mode error while /ready stays up', async () => {
    const loki = await startLokiDouble({ mode: 'error' });
    try {
      const reply = await get(loki, '/loki/api/v1/query_range', { query: '{job="docker"}' });
      expect([reply.status, reply.text]).toEqual([500, 'internal error']);
      expect((await get(loki, '/ready')).status).toBe(200);
    } finally {
      await loki.stop();
    }
  });

  it('holds answers back in mode slow and still delivers them', async () => {
    const delayMs = 300;
    const loki = await startLokiDouble({ mode: 'slow', delayMs });
    try {
      const started = performance.now();
      const reply = await get(loki, '/loki/api/v1/query_range', { query: '{container_name="nginx"}' });
      // A millisecond of slack: the timer and performance.now() round differently.
      expect(performance.now() - started).toBeGreaterThanOrEqual(delayMs - 1);
      expect(reply.status).toBe(200);
      expect((JSON.parse(reply.text) as SuccessBody<StreamsBody>).data.result).toHaveLength(1);
    } finally {
      await loki.stop();
    }
  });

  it('stop() does not wait for pending slow answers and drops their connections', async () => {
    const loki = await startLokiDouble({ mode: 'slow', delayMs: 60_000 });
    let settled = false;
    const pending = fetch(`${loki.url}/loki/api/v1/query_range?query=%7Bjob%3D%22docker%22%7D`).finally(() => {
      settled = true;
    });
    while (loki.requests.length === 0) await sleep(10);
    expect(settled).toBe(false);
    await loki.stop();
    await expect(pending).rejects.toThrow();
  });
});
