import type { APIEmbed } from 'discord-api-types/v10';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logsButton } from '../../src/commands/buttons/logs.js';
import { logs } from '../../src/commands/logs.js';
import { createRouter } from '../../src/commands/router.js';
import type { CommandDeps, OptionValue } from '../../src/commands/types.js';
import type { Alert, Notification } from '../../src/model.js';
import { enrichNotification, type EnrichDeps } from '../../src/pipeline/enrich.js';
import type { AlertEnrichment } from '../../src/findings.js';
import { createLokiClient } from '../../src/queries/loki.js';
import { createPrometheusClient } from '../../src/queries/prometheus.js';
import { customId } from '../../src/render/buttons.js';
import { openDatabase, type Database } from '../../src/store/db.js';
import { createIncident } from '../../src/store/incidents.js';
import { recordingAutocomplete, recordingCommand, recordingComponent, type RecordedCall } from '../support/contexts.js';
import { testCommandDeps, testConfig } from '../support/deps.js';
import { LOKI_BIN, spreadLines, startLokiBackend, streamOf, type LokiBackend } from '../support/loki.js';
import type { PushStream } from '../support/procs.js';

/*
 * Every LogQL query Vigil builds, run against a real Loki when one is there (LOKI_BIN or `loki` on
 * PATH; the stack's own loki.yaml) and against the Loki double otherwise: enrichment lines and
 * patterns, the log volume against the hour before, a rule's own `vigil_logql`, /logs with each
 * option, the Logs button, container autocomplete, and injection attempts matched literally. The
 * lines are pushed through Loki's push API first, each test reading its own containers.
 */

const NOW = new Date();
const ago = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000);
/** The alert starts 10 minutes ago: its log window (5m each side) is 15..5 minutes ago, its baseline hour 75..15 minutes ago. */
const ALERT_START = ago(10);
const ERROR_LIKE = /error|exception|fatal|panic|critical|fail/i;

const EVIL_CONTAINER = 'x"} or vector(1) #';
const EVIL_TEXT = '"} |~ ".*';

interface Line {
  container: string;
  level: string;
  at: Date;
  line: string;
}

/** `n` lines of one container and level spread evenly between `from` and `to` minutes ago, oldest first. */
function spread(n: number, from: number, to: number, make: (i: number) => string, container: string, level: string): Line[] {
  return spreadLines(n, ago(from), ago(to), make).map((l) => ({ container, level, ...l }));
}

/** Everything pushed to Loki before the tests, by container and level. */
const LINES: Line[] = [
  // checkout: the incident. In its log window 12 JDBC errors, 3 fatal payment lines and 20 info lines.
  ...spread(12, 14.5, 6, (i) => `2026-12-06 ERROR c.e.OrderController : Unable to acquire JDBC Connection (pool=7, waited=${300 + i}ms)`, 'checkout', 'error'),
  ...spread(3, 13, 7, (i) => `FATAL payment gateway refused order ${4711 + i}`, 'checkout', 'error'),
  ...spread(20, 14.8, 5.2, (i) => `GET /health 200 ${i}ms`, 'checkout', 'info'),
  // Its hour before: 2 errors and 30 info lines.
  ...spread(2, 70, 20, (i) => `ERROR c.e.OrderController : slow query ${i}`, 'checkout', 'error'),
  ...spread(30, 74, 16, (i) => `GET /health 200 ${i}ms`, 'checkout', 'info'),
  // After the window: not an incident line, but recent for /logs.
  { container: 'checkout', level: 'error', at: ago(2), line: 'ERROR c.e.OrderController : after the window' },
  // gateway: logfmt lines, for a rule's own parser pipeline.
  ...spread(4, 14, 6, (i) => `level=error status=${i % 2 ? 502 : 404} path=/pay msg="upstream answered"`, 'gateway', 'error'),
  // The container with an injection attempt for a name, and a line holding a LogQL-looking text
  // (at times no other line has: lines of one nanosecond have no defined order).
  { container: EVIL_CONTAINER, level: 'error', at: ago(8.2), line: `ERROR literal ${EVIL_TEXT} here` },
  { container: EVIL_CONTAINER, level: 'error', at: ago(7.3), line: 'ERROR plain line of the evil container' },
  { container: 'checkout-worker', level: 'warn', at: ago(9.4), line: 'WARN queue slow' },
];

/** Every pushed line at its own time: no two lines share a timestamp (checked below). */
function pushed(): PushStream[] {
  const byStream = new Map<string, Line[]>();
  for (const l of LINES) byStream.set(`${l.container}\u0000${l.level}`, [...(byStream.get(`${l.container}\u0000${l.level}`) ?? []), l]);
  return [...byStream.values()].map((ls) =>
    streamOf({ job: 'docker', container_name: ls[0]!.container, compose_service: ls[0]!.container, host: 'app-9', level: ls[0]!.level }, ls),
  );
}

/** The pushed lines that a query should return: in (from, to], newest first. */
function expected(filter: (l: Line) => boolean, from: Date, to: Date): Line[] {
  return LINES.filter((l) => filter(l) && l.at > from && l.at <= to).sort((a, b) => b.at.getTime() - a.at.getTime());
}

let loki: LokiBackend;
let dir: string;
let db: Database;
let deps: CommandDeps;

beforeAll(async () => {
  expect(new Set(LINES.map((l) => l.at.getTime())).size).toBe(LINES.length);
  loki = await startLokiBackend();
  await loki.push(pushed());
  dir = mkdtempSync(join(tmpdir(), 'vigil-logql-'));
  db = openDatabase(join(dir, 'vigil.db'));
  deps = testCommandDeps(testConfig({ loki: { url: loki.url } }), { db, timeoutMs: 5000, now: () => NOW });
}, 90_000);

afterAll(async () => {
  await db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  await loki?.stop();
});

describe(`LogQL end to end, against ${LOKI_BIN ? 'a real Loki' : 'the Loki double'}`, () => {
  function alert(labels: Record<string, string>, annotations: Record<string, string> = {}): Alert {
    return {
      fingerprint: 'fp-1',
      status: 'firing',
      labels: { alertname: 'CheckoutErrors', ...labels },
      annotations,
      startsAt: ALERT_START,
      source: 'alertmanager',
    };
  }

  async function enrich(a: Alert): Promise<AlertEnrichment> {
    const notification: Notification = {
      source: 'alertmanager',
      receiver: 'vigil',
      status: 'firing',
      groupKey: '{}:{alertname="CheckoutErrors"}',
      groupLabels: {},
      commonLabels: a.labels,
      commonAnnotations: {},
      truncatedAlerts: 0,
      alerts: [a],
    };
    const enrichDeps: EnrichDeps = {
      // No Prometheus here: its queries fail at once and only add notes.
      prometheus: createPrometheusClient({ url: 'http://127.0.0.1:9', timeoutMs: 500 }),
      loki: createLokiClient({ url: loki.url, timeoutMs: 5000 }),
      config: { ...deps.config.enrichment, timeout: 5000 },
      now: NOW,
    };
    const { enrichments } = await enrichNotification(notification, enrichDeps);
    return enrichments[a.fingerprint]!;
  }

  describe('enrichment', () => {
    it("finds the alert's error-like lines of its log window, newest first, and groups them by pattern", async () => {
      const e = await enrich(alert({ container: 'checkout' }));
      expect(e.failures.filter((f) => f.backend === 'loki')).toEqual([]);
      const want = expected((l) => l.container === 'checkout' && ERROR_LIKE.test(l.line), ago(15), ago(5));
      expect(want).toHaveLength(15);
      expect(e.logs?.query).toBe(`{container_name="checkout"} |~ "(?i)(error|exception|fatal|panic|critical|fail)"`);
      expect(e.logs?.count).toBe(15);
      expect(e.logs?.capped).toBe(false);
      expect(e.logs?.lines.map((l) => l.line)).toEqual(want.slice(0, 5).map((l) => l.line));
      expect(e.logs?.lines.every((l) => l.labels?.container_name === 'checkout')).toBe(true);
      expect(e.logPatterns?.distinct).toBe(2);
      expect(e.logPatterns?.patterns.map((p) => [p.count, p.source])).toEqual([
        [12, 'checkout'],
        [3, 'checkout'],
      ]);
      expect(e.logPatterns?.patterns[0]!.example).toBe(want.find((l) => l.line.includes('JDBC'))!.line);
      expect(e.logPatterns?.patterns[1]!.example).toBe(want.find((l) => l.line.startsWith('FATAL'))!.line);
    });

    it('counts the lines per level in the window against the hour before it', async () => {
      const e = await enrich(alert({ container: 'checkout' }));
      expect(e.logVolume?.query).toBe('sum by (level) (count_over_time({container_name="checkout"}[600s]))');
      expect(e.logVolume?.windowSeconds).toBe(600);
      expect(e.logVolume?.baselineSeconds).toBe(3600);
      const levels = e.logVolume?.levels.map((l) => ({ ...l, ratio: l.ratio === undefined ? undefined : Number(l.ratio.toFixed(3)) }));
      // error: 15 in 600 s against 2 in 3600 s is 45 times the rate; info: 20 against 30 is 4 times.
      expect(levels).toEqual([
        { level: 'error', count: 15, before: 2, ratio: 45 },
        { level: 'info', count: 20, before: 30, ratio: 4 },
      ]);
    });

    it("uses a rule's own vigil_logql selector, its ${label} placeholder filled and escaped, with the error filter", async () => {
      const e = await enrich(alert({ container: 'checkout', service: 'checkout' }, { vigil_logql: '{container_name="${service}", level="error"}' }));
      expect(e.logs?.query).toBe('{container_name="checkout", level="error"} |~ "(?i)(error|exception|fatal|panic|critical|fail)"');
      expect(e.logs?.count).toBe(15);
      expect(e.logVolume?.levels.map((l) => [l.level, l.count, l.before])).toEqual([['error', 15, 2]]);
    });

    it("uses a rule's own vigil_logql pipeline as it is, for the lines and the volume", async () => {
      const e = await enrich(alert({ container: 'checkout' }, { vigil_logql: '{container_name="checkout"} |= "FATAL" != "order 4713"' }));
      expect(e.logs?.query).toBe('{container_name="checkout"} |= "FATAL" != "order 4713"');
      expect(e.logs?.lines.map((l) => l.line)).toEqual(['FATAL payment gateway refused order 4712', 'FATAL payment gateway refused order 4711']);
      expect(e.logVolume?.levels.map((l) => [l.level, l.count, l.before])).toEqual([['error', 2, 0]]);
    });

    // Skipped without a Loki binary: the double implements no parser stages (it answers 501 for
    // `| logfmt`). Setting LOKI_BIN (as .ci/run does) runs it.
    it.skipIf(!LOKI_BIN)('runs a vigil_logql with a parser and a label filter on a real Loki', async () => {
      expect(loki.kind).toBe('loki');
      const e = await enrich(alert({ container: 'gateway' }, { vigil_logql: '{container_name="gateway"} | logfmt | status >= 500' }));
      expect(e.failures.filter((f) => f.backend === 'loki')).toEqual([]);
      expect(e.logs?.lines.map((l) => l.line)).toEqual(
        expected((l) => l.container === 'gateway' && l.line.includes('status=502'), ago(15), ago(5)).map((l) => l.line),
      );
      expect(e.logVolume?.levels.reduce((n, l) => n + l.count, 0)).toBe(2);
    });

    it('matches an injection attempt in an alert label literally', async () => {
      const e = await enrich(alert({ container: EVIL_CONTAINER }));
      expect(e.failures.filter((f) => f.backend === 'loki')).toEqual([]);
      expect(e.logs?.lines.map((l) => l.line).sort()).toEqual(
        LINES.filter((l) => l.container === EVIL_CONTAINER)
          .map((l) => l.line)
          .sort(),
      );
      expect(e.logVolume?.levels.map((l) => [l.level, l.count])).toEqual([['error', 2]]);
    });

    it('fills an injection attempt into a vigil_logql placeholder escaped, never as LogQL', async () => {
      const e = await enrich(alert({ container: EVIL_CONTAINER }, { vigil_logql: '{container_name="${container}"} |= "${container}"' }));
      expect(e.failures.filter((f) => f.backend === 'loki')).toEqual([]);
      expect(e.logs?.count).toBe(0);
      expect(e.logVolume?.levels).toEqual([]);
    });
  });

  describe('/logs', () => {
    async function run(options: Record<string, OptionValue>): Promise<APIEmbed> {
      const ctx = recordingCommand('logs', options);
      await createRouter([logs], [], deps).handleCommand(ctx);
      const reply = ctx.lastReply();
      expect(reply?.embeds).toHaveLength(1);
      return reply!.embeds![0]!;
    }

    /** The lines of the answer, as rendered: the text inside each line's inline code. */
    function shown(embed: APIEmbed): string[] {
      const body = embed.description!.split('\n\n')[1] ?? '';
      return body.split('\n').map((l) => /`([^`]*)`$/.exec(l)?.[1] ?? l);
    }

    it('shows the newest 20 error-like lines of every container over the last 15 minutes by default', async () => {
      const want = expected((l) => ERROR_LIKE.test(l.line), ago(15), NOW);
      expect(want).toHaveLength(22);
      // The gateway repeats two lines twice each: repeats are shown once, counted.
      const distinct = [...new Set(want.map((l) => l.line))];
      expect(distinct).toHaveLength(20);
      const embed = await run({});
      expect(shown(embed)).toEqual(distinct);
      expect(new Set(want.map((l) => l.container))).toEqual(new Set(['checkout', 'gateway', EVIL_CONTAINER]));
    });

    it('narrows to a container, a level, a literal text, a time range and a number of lines', async () => {
      const all = expected((l) => l.container === 'checkout' && l.level === 'error' && l.line.includes('JDBC'), ago(30), NOW);
      expect(all).toHaveLength(12);
      const embed = await run({ container: 'checkout', level: 'error', contains: 'JDBC', since: '30m', limit: 3 });
      expect(shown(embed)).toEqual(all.slice(0, 3).map((l) => l.line));
      expect(embed.description).toMatch(/12/);
    });

    it('shows a level without the error filter, over a longer range', async () => {
      const want = expected((l) => l.container === 'checkout' && l.level === 'info', ago(120), NOW);
      expect(want).toHaveLength(50);
      expect(shown(await run({ container: 'checkout', level: 'info', since: '2h', limit: 4 }))).toEqual(want.slice(0, 4).map((l) => l.line));
    });

    it('matches an injection attempt in `container` and `contains` literally', async () => {
      const evil = LINES.filter((l) => l.container === EVIL_CONTAINER).sort((a, b) => b.at.getTime() - a.at.getTime());
      expect(shown(await run({ container: EVIL_CONTAINER, level: 'error' }))).toEqual(evil.map((l) => l.line));
      expect(shown(await run({ contains: EVIL_TEXT }))).toEqual([`ERROR literal ${EVIL_TEXT} here`]);
      const none = await run({ container: 'api"} or vector(1) #' });
      expect(none.description).toMatch(/no (matching )?lines|nothing/i);
    });
  });

  it('the Logs button shows the error-like lines of the incident window of its alerts', async () => {
    const id = await createIncident(
      db,
      {
        source: 'alertmanager',
        receiver: 'vigil',
        groupKey: '{}:{alertname="CheckoutErrors"}',
        status: 'firing',
        alerts: { fp1: { status: 'firing', startsAt: ALERT_START.toISOString(), labels: { alertname: 'CheckoutErrors', container: 'checkout' } } },
        startedAt: ALERT_START,
      },
      NOW,
    );
    const ctx = recordingComponent(customId('logs', id));
    await createRouter([], [logsButton], deps).handleComponent(ctx);
    const call = ctx.calls[1] as Extract<RecordedCall, { payload: unknown }>;
    expect(call.kind).toBe('followUp');
    const body = call.payload
      .embeds![0]!.description!.split('\n\n')[1]!
      .split('\n')
      .map((l: string) => /`([^`]*)`$/.exec(l)?.[1]);
    const want = expected((l) => l.container === 'checkout' && ERROR_LIKE.test(l.line), ago(15), NOW);
    expect(body).toEqual(want.map((l) => l.line));
  });

  it("the watchdog's readiness probe finds this Loki ready", async () => {
    expect(await createLokiClient({ url: loki.url, timeoutMs: 2000 }).ready()).toMatchObject({ ready: true });
  });

  it('offers the container names Loki knows for /logs, filtered by what was typed', async () => {
    const router = createRouter([logs], [], deps);
    const typed = recordingAutocomplete('logs', { name: 'container', value: 'check' });
    await router.handleAutocomplete(typed);
    expect(typed.calls[0]).toEqual({ kind: 'respond', choices: ['checkout', 'checkout-worker'].map((v) => ({ name: v, value: v })) });
    const all = recordingAutocomplete('logs', { name: 'container', value: '' });
    await router.handleAutocomplete(all);
    const names = (all.calls[0] as Extract<RecordedCall, { kind: 'respond' }>).choices.map((c) => c.value);
    expect(names).toEqual(['checkout', 'checkout-worker', 'gateway', EVIL_CONTAINER].sort());
  });
});
