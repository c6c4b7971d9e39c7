import type { APIEmbed } from 'discord-api-types/v10';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildLogsQuery, fetchLimit, logs, parseLogsOptions } from '../../src/commands/logs.js';
import { createRouter } from '../../src/commands/router.js';
import { OptionError, type CommandDeps, type OptionValue } from '../../src/commands/types.js';
import { messageValidator } from '../render/helpers.js';
import { recordingAutocomplete, recordingCommand } from '../support/contexts.js';
import { testCommandDeps, testConfig } from '../support/deps.js';
import { specSchemaErrors } from '../support/discord-double.js';
import { loadLokiFixture, startLokiDouble, type LokiDoubleHandle } from '../support/loki-double.js';

const ERROR_FILTER = '(?i)(error|exception|fatal|panic|critical|fail)';

/** The recorded lines, by container, oldest first (as the fixture holds them). */
function recorded(): Array<{ container: string; level: string; line: string }> {
  const json = loadLokiFixture('query_range-streams-all-forward.json').response.json as {
    data: { result: Array<{ stream: Record<string, string>; values: [string, string][] }> };
  };
  return json.data.result
    .flatMap((s) => s.values.map(([ns, line]) => ({ ns: BigInt(ns), container: s.stream.container_name!, level: s.stream.level!, line })))
    .sort((a, b) => (a.ns < b.ns ? -1 : 1));
}

let loki: LokiDoubleHandle;
let deps: CommandDeps;

beforeAll(async () => {
  loki = await startLokiDouble();
});
afterAll(async () => {
  await loki?.stop();
});
beforeEach(async () => {
  await loki.setMode('normal');
  loki.requests.length = 0;
  deps = testCommandDeps(testConfig({ loki: { url: loki.url } }), { timeoutMs: 2000 });
});

/** Runs /logs through the router, as a transport would. */
async function run(options: Record<string, OptionValue> = {}) {
  const ctx = recordingCommand('logs', options);
  await createRouter([logs], [], deps).handleCommand(ctx);
  return ctx;
}

function embedOf(ctx: Awaited<ReturnType<typeof run>>): APIEmbed {
  const reply = ctx.lastReply();
  expect(reply?.embeds).toHaveLength(1);
  return reply!.embeds![0]!;
}

/** The log lines of the answer, as rendered: the text inside each line's inline code. */
function shownLines(embed: APIEmbed): string[] {
  const body = embed.description!.split('\n\n')[1] ?? '';
  return body.split('\n').map((l) => /`([^`]*)`$/.exec(l)?.[1] ?? l);
}

function sentQueries(): Array<Record<string, string>> {
  return loki.requests.filter((r) => r.path === '/loki/api/v1/query_range').map((r) => r.query);
}

describe('/logs against the Loki double', () => {
  it('defers at once, then answers with the error-like lines of every container, newest first', async () => {
    const ctx = await run();
    expect(ctx.calls[0]).toEqual({ kind: 'defer', ephemeral: true });
    const expected = recorded()
      .filter((r) => /error|exception|fatal|panic|critical|fail/i.test(r.line))
      .reverse();
    const embed = embedOf(ctx);
    expect(shownLines(embed)).toEqual(expected.map((r) => r.line));
    const body = embed.description!.split('\n\n')[1]!.split('\n');
    expect(body.map((l) => /\*\*(\w+)\*\*/.exec(l)?.[1])).toEqual(expected.map((r) => r.container));
    expect(body.every((l) => /^<t:\d+:T> /.test(l))).toBe(true);
    expect(sentQueries()).toEqual([
      expect.objectContaining({ query: `{container_name=~".+"} |~ "${ERROR_FILTER}"`, direction: 'backward', limit: String(fetchLimit(20)) }),
    ]);
    expect(messageValidator()(ctx.lastReply())).toEqual([]);
  });

  it('asks Loki for the last `since` only', async () => {
    const before = Date.now();
    await run({ since: '2h' });
    const q = sentQueries()[0]!;
    const span = Number((BigInt(q.end!) - BigInt(q.start!)) / 1_000_000n);
    expect(span).toBe(2 * 3_600_000);
    expect(Number(BigInt(q.end!) / 1_000_000n)).toBeGreaterThanOrEqual(before);
  });

  it('narrows to one container and level without the error filter, and names the container once', async () => {
    const ctx = await run({ container: 'api', level: 'info' });
    const embed = embedOf(ctx);
    const expected = recorded()
      .filter((r) => r.container === 'api' && r.level === 'info')
      .reverse();
    expect(shownLines(embed)).toEqual(expected.map((r) => r.line));
    expect(embed.title).toBe('📜 Logs · api');
    expect(embed.description).not.toContain('**api**');
    expect(sentQueries()[0]!.query).toBe('{container_name="api",level="info"}');
  });

  it('keeps lines containing a literal text, the text escaped', async () => {
    const ctx = await run({ contains: 'JDBC Connection' });
    const expected = recorded()
      .filter((r) => r.line.includes('JDBC Connection'))
      .reverse();
    expect(expected.length).toBeGreaterThan(1);
    expect(shownLines(embedOf(ctx))).toEqual(expected.map((r) => r.line));
    expect(sentQueries()[0]!.query).toBe('{container_name=~".+"} |= "JDBC Connection"');
  });

  it('matches a regex-looking text literally: |= is not a regex', async () => {
    const ctx = await run({ contains: 'error|info' });
    expect(sentQueries()[0]!.query).toBe('{container_name=~".+"} |= "error|info"');
    expect(embedOf(ctx).description).toMatch(/No lines matched/);
  });

  it('matches an injection attempt in `container` literally: escaped in the LogQL, "no lines", no error', async () => {
    const ctx = await run({ container: 'api"} or vector(1) #' });
    expect(sentQueries()[0]!.query).toBe(`{container_name="api\\"} or vector(1) #"} |~ "${ERROR_FILTER}"`);
    const embed = embedOf(ctx);
    expect(embed.description).toMatch(/No lines matched/);
    expect(embed.description).not.toContain('❌');
    expect(ctx.calls.filter((c) => c.kind === 'reply')).toHaveLength(1);
  });

  it('matches quotes and backslashes in `contains` literally', async () => {
    const ctx = await run({ contains: '\\"} |~ ".*' });
    expect(sentQueries()[0]!.query).toBe('{container_name=~".+"} |= "\\\\\\"} |~ \\".*"');
    expect(embedOf(ctx).description).toMatch(/No lines matched/);
  });

  it('shows at most `limit` distinct lines and says how many there were', async () => {
    const ctx = await run({ limit: 2, level: 'error' });
    const embed = embedOf(ctx);
    expect(shownLines(embed)).toHaveLength(2);
    expect(embed.footer!.text).toMatch(/^3 matching lines · 2 of 3 distinct shown\n\{container_name=~"\.\+",level="error"\}$/);
    expect(sentQueries()[0]!.limit).toBe(String(fetchLimit(2)));
  });

  it('answers publicly when asked with ephemeral:false', async () => {
    const ctx = await run({ ephemeral: false });
    expect(ctx.calls[0]).toEqual({ kind: 'defer', ephemeral: false });
    expect(ctx.calls.at(-1)).toMatchObject({ kind: 'reply', ephemeral: false });
  });

  it.each([
    ['down', /Loki could not answer: Loki unreachable: .*ECONNREFUSED/],
    ['error', /Loki could not answer: Loki HTTP 500: internal error/],
  ] as const)('says clearly when Loki is %s, with the error Loki gave', async (mode, message) => {
    await loki.setMode(mode);
    const ctx = await run();
    const embed = embedOf(ctx);
    expect(embed.description).toMatch(message);
    expect(embed.footer!.text).toBe(`{container_name=~".+"} |~ "${ERROR_FILTER}"`);
    expect(ctx.calls.map((c) => c.kind)).toEqual(['defer', 'reply']);
  });
});

describe('/logs options', () => {
  it.each([
    ['since', { since: '30s' }],
    ['since', { since: '8d' }],
    ['since', { since: 'soon' }],
    ['since', { since: 15 }],
    ['limit', { limit: 0 }],
    ['limit', { limit: 51 }],
    ['limit', { limit: 2.5 }],
    ['limit', { limit: '20' }],
    ['level', { level: 'verbose' }],
    ['container', { container: '   ' }],
    ['container', { container: 'x'.repeat(201) }],
    ['contains', { contains: '' }],
  ] as const)('rejects bad %s %j ephemerally, naming the option, before asking Loki', async (option, options) => {
    const ctx = await run(options);
    expect(ctx.calls).toHaveLength(1);
    expect(ctx.calls[0]).toMatchObject({ kind: 'reply', ephemeral: true });
    expect(ctx.lastReply()?.content).toMatch(new RegExp(`^⚠️ ${option}: expected`));
    expect(sentQueries()).toEqual([]);
  });

  it('throws an OptionError the router can name', () => {
    expect(() => parseLogsOptions({ since: '10d' })).toThrow(OptionError);
    try {
      parseLogsOptions({ since: '10d' });
    } catch (err) {
      expect((err as OptionError).option).toBe('since');
      expect((err as OptionError).message).toBe('since: expected a duration like 15m, from 1m to 7d');
    }
  });

  it.each([
    [{}, { sinceMs: 15 * 60_000, limit: 20 }],
    [
      { since: '1m', limit: 1 },
      { sinceMs: 60_000, limit: 1 },
    ],
    [
      { since: '7d', limit: 50 },
      { sinceMs: 7 * 86_400_000, limit: 50 },
    ],
    [
      { level: ' ERROR ', container: ' api ' },
      { sinceMs: 15 * 60_000, limit: 20, level: 'error', container: 'api' },
    ],
  ])('accepts %j', (options, expected) => {
    expect(parseLogsOptions(options)).toEqual(expected);
  });

  it.each([
    [{}, `{container_name=~".+"} |~ "${ERROR_FILTER}"`],
    [{ level: 'warn' as const }, '{container_name=~".+",level="warn"}'],
    [{ container: 'db', contains: 'dead"lock' }, '{container_name="db"} |= "dead\\"lock"'],
    [{ container: 'a\nb' }, `{container_name="a\\nb"} |~ "${ERROR_FILTER}"`],
  ])('builds the LogQL of %j with escaped values', (o, expected) => {
    expect(buildLogsQuery(o, ERROR_FILTER)).toBe(expected);
  });

  it("registers with the option names of the issue and Discord's spec accepts it", () => {
    expect(logs.data.options.map((o) => o.name)).toEqual(['container', 'level', 'contains', 'since', 'limit', 'ephemeral']);
    expect(specSchemaErrors('ApplicationCommandCreateRequest', logs.data)).toEqual([]);
    expect(logs.sensitive).toBe(true);
  });
});

describe('/logs container autocomplete', () => {
  it('offers the container names Loki knows, filtered by what was typed', async () => {
    const router = createRouter([logs], [], deps);
    const all = recordingAutocomplete('logs', { name: 'container', value: '' });
    await router.handleAutocomplete(all);
    expect(all.calls[0]).toEqual({ kind: 'respond', choices: ['api', 'mysql', 'nginx'].map((v) => ({ name: v, value: v })) });
    const typed = recordingAutocomplete('logs', { name: 'container', value: 'ng' });
    await router.handleAutocomplete(typed);
    expect(typed.calls[0]).toEqual({ kind: 'respond', choices: [{ name: 'nginx', value: 'nginx' }] });
  });
});
