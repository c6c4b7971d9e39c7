import type { APIEmbed } from 'discord-api-types/v10';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromNanos, type LabelledLogEntry } from '../../src/queries/loki.js';
import { collapseLines, containerOf, renderLogsError, renderLogsMessage, type LogsMessageInput } from '../../src/render/logs.js';
import { loadLokiFixture } from '../support/loki-double.js';
import { expectWithinLimits, messageValidator, recorder } from './helpers.js';

let validate: (body: unknown) => string[];
beforeAll(() => {
  validate = messageValidator();
});

/** Every recorded line (the fixture Loki returned for `{job="docker"}`), newest first. */
function recordedEntries(): LabelledLogEntry[] {
  const json = loadLokiFixture('query_range-streams-all-forward.json').response.json as {
    data: { result: Array<{ stream: Record<string, string>; values: [string, string][] }> };
  };
  return json.data.result
    .flatMap((s) => s.values.map(([ns, line]) => ({ ns, at: fromNanos(ns), line, labels: s.stream })))
    .sort((a, b) => (BigInt(b.ns) > BigInt(a.ns) ? 1 : -1));
}

/** `entry` again, `seconds` later. */
function later(entry: LabelledLogEntry, seconds: number): LabelledLogEntry {
  const ns = (BigInt(entry.ns) + BigInt(seconds) * 1_000_000_000n).toString();
  return { ...entry, ns, at: fromNanos(ns) };
}

const END = new Date(Number(BigInt('1795251735072576965') / 1_000_000n));

function input(over: Partial<LogsMessageInput> = {}): LogsMessageInput {
  return {
    scope: 'all containers',
    filter: 'error-like lines',
    window: { start: new Date(END.getTime() - 15 * 60_000), end: END },
    relative: true,
    query: '{container_name=~".+"} |~ "(?i)(error|exception|fatal|panic|critical|fail)"',
    entries: recordedEntries(),
    capped: false,
    limit: 20,
    ...over,
  };
}

function render(over: Partial<LogsMessageInput> = {}): { embed: APIEmbed; lines: string[]; body: { embeds: APIEmbed[] }; warnings: number } {
  const { warn, calls } = recorder();
  const body = renderLogsMessage(input(over), warn);
  expect(body.embeds).toHaveLength(1);
  const embed = body.embeds[0]!;
  return { embed, body, lines: embed.description!.split('\n\n')[1]?.split('\n') ?? [], warnings: calls.length };
}

describe('collapseLines', () => {
  it('counts exact repeats once, at their newest time, in newest-first order', () => {
    const [a, b] = recordedEntries() as [LabelledLogEntry, LabelledLogEntry];
    const collapsed = collapseLines([later(a, 20), later(b, 10), a, later(a, -5)]);
    expect(collapsed.map((c) => [c.line, c.count])).toEqual([
      [a.line, 3],
      [b.line, 1],
    ]);
    expect(collapsed[0]!.at).toEqual(later(a, 20).at);
    expect(collapsed[0]!.firstAt).toEqual(later(a, -5).at);
  });

  it('keeps lines that differ by one character apart (exact duplicates only)', () => {
    const [a] = recordedEntries() as [LabelledLogEntry];
    expect(collapseLines([a, { ...a, line: `${a.line} ` }])).toHaveLength(2);
  });

  it('keeps the same text from two containers apart', () => {
    const [a] = recordedEntries() as [LabelledLogEntry];
    const other = { ...a, labels: { ...a.labels, container_name: 'worker' } };
    expect(collapseLines([a, other]).map((c) => c.container)).toEqual([a.labels.container_name, 'worker']);
  });

  it.each([
    [{ container_name: 'api', compose_service: 'svc' }, 'api'],
    [{ container: 'web' }, 'web'],
    [{ compose_service: 'svc' }, 'svc'],
    [{ host: 'app-1' }, undefined],
  ])('names the container of %j as %s', (labels, expected) => {
    expect(containerOf(labels)).toBe(expected);
  });
});

describe('renderLogsMessage', () => {
  it('lists one line per entry, newest first, with <t:…:T> times and the container when several are asked for', () => {
    const { embed, lines } = render();
    const entries = recordedEntries();
    expect(lines).toHaveLength(entries.length);
    lines.forEach((line, i) => {
      const e = entries[i]!;
      expect(line.startsWith(`<t:${Math.floor(e.at.getTime() / 1000)}:T> **${e.labels.container_name}** \``)).toBe(true);
    });
    expect(embed.title).toBe('📜 Logs · all containers');
    expect(embed.description!.split('\n')[0]).toBe('Error-like lines · last 15m · newest first');
  });

  it('shows "×N" for repeated lines and says how many were distinct', () => {
    const entries = recordedEntries();
    const repeated = [later(entries[0]!, 2), later(entries[0]!, 1), ...entries];
    const { lines, embed } = render({ entries: repeated });
    expect(lines[0]).toMatch(/^<t:\d+:T> \*\*mysql\*\* ×3 `/);
    expect(lines).toHaveLength(entries.length);
    expect(embed.footer!.text.split('\n')[0]).toBe(`${repeated.length} matching lines · ${entries.length} distinct`);
  });

  it('leaves the container out of each line when the request named one', () => {
    const api = recordedEntries().filter((e) => e.labels.container_name === 'api');
    const { lines, embed } = render({ container: 'api', entries: api });
    expect(lines.every((l) => !l.includes('**api**'))).toBe(true);
    expect(embed.title).toBe('📜 Logs · api');
  });

  it('shows the query small at the bottom, in the footer', () => {
    const { embed } = render();
    expect(embed.footer!.text.split('\n')[1]).toBe(input().query);
  });

  it('shows at most `limit` distinct lines and says how many more there were', () => {
    const { lines, embed } = render({ limit: 3 });
    expect(lines).toHaveLength(3);
    expect(embed.footer!.text).toContain(`3 of ${recordedEntries().length} distinct shown`);
  });

  it('marks counts as "at least" when Loki stopped at its line limit', () => {
    expect(render({ capped: true }).embed.footer!.text).toMatch(/^9\+ matching lines/);
  });

  it('says plainly that no lines matched', () => {
    const { embed } = render({ entries: [] });
    expect(embed.description).toMatch(/No lines matched/);
    expect(embed.footer!.text).toMatch(/^0 matching lines/);
  });

  it('shows an incident window as times, and dates too when it spans more than a day', () => {
    const start = new Date(END.getTime() - 10 * 60_000);
    expect(render({ relative: false, window: { start, end: END } }).embed.description!.split('\n')[0]).toBe(
      `Error-like lines · <t:${Math.floor(start.getTime() / 1000)}:f> – <t:${Math.floor(END.getTime() / 1000)}:t> · newest first`,
    );
    const week = render({ window: { start: new Date(END.getTime() - 7 * 86_400_000), end: END } });
    expect(week.embed.description!.split('\n')[0]).toContain('last 7d');
    expect(week.lines[0]).toMatch(/^<t:\d+:f> /);
  });

  it('keeps a backtick in a line from ending the code span, and scrubs secrets', () => {
    const [e] = recordedEntries() as [LabelledLogEntry];
    const { lines } = render({ entries: [{ ...e, line: 'login failed for `root` password=hunter2 ```x```' }] });
    const code = lines[0]!.slice(lines[0]!.indexOf('`'));
    expect(code.match(/`/g)).toHaveLength(2);
    expect(code).not.toContain('hunter2');
    expect(code).toContain('password=[redacted]');
  });

  it('shows an empty line as such instead of an empty code span', () => {
    const [e] = recordedEntries() as [LabelledLogEntry];
    expect(render({ entries: [{ ...e, line: '   ' }] }).lines[0]).toMatch(/\*\(empty line\)\*$/);
  });

  it('stays within every Discord limit with 50 long lines, cutting lines before dropping them', () => {
    const [e] = recordedEntries() as [LabelledLogEntry];
    const many = Array.from({ length: 60 }, (_, i) => ({ ...later(e, -i), line: `${i} ${'x'.repeat(3000)}` }));
    const { body, lines, warnings } = render({ entries: many, limit: 50 });
    expectWithinLimits(body);
    expect(validate(body)).toEqual([]);
    expect(lines.length).toBeGreaterThan(20);
    expect(lines.at(-1)).toMatch(/^\*\+\d+ more lines not shown \(message size limit\)\*$/);
    expect(lines[0]).toContain('…');
    expect(warnings).toBeGreaterThan(0);
  });

  it("gives a body Discord's OpenAPI spec accepts", () => {
    expect(validate(render().body)).toEqual([]);
  });
});

describe('renderLogsError', () => {
  it("shows Loki's own words and the query that failed", () => {
    const { warn } = recorder();
    const body = renderLogsError(
      { scope: 'all containers', query: '{container_name=~".+"', message: 'Loki HTTP 400: parse error : syntax error: unexpected $end' },
      warn,
    );
    const embed = body.embeds[0]!;
    expect(embed.description).toBe('❌ Loki could not answer: Loki HTTP 400: parse error : syntax error: unexpected $end');
    expect(embed.footer!.text).toBe('{container_name=~".+"');
    expect(validate(body)).toEqual([]);
  });
});
