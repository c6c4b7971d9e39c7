// A storm's error logs from Loki (the real binary when LOKI_BIN is set, else the Loki double): one
// query for the log sources of all its alerts, per source, shown by the storm message from its
// next edit; values match literally; it is asked again only once alerts joined and a minute passed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIEmbed } from 'discord-api-types/v10';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { queryStormContexts, STORM_CONTEXT_AFTER_MS, STORM_LOG_SOURCES, STORM_LOGS_EVERY_MS } from '../../src/pipeline/storm-context.js';
import { flushStorms } from '../../src/pipeline/storm.js';
import { createLokiClient, type LokiClient } from '../../src/queries/loki.js';
import { createPrometheusClient } from '../../src/queries/prometheus.js';
import type { StormLogVolume } from '../../src/render/storm-context.js';
import { openDatabase, type SqliteDatabase } from '../../src/store/db.js';
import { createIncident } from '../../src/store/incidents.js';
import { enqueue } from '../../src/store/outbox.js';
import { recordStormAlerts, startStorm, stormLogs, updateStorm } from '../../src/store/storms.js';
import { expectWithinLimits, messageValidator } from '../render/helpers.js';
import { spreadLines, startLokiBackend, streamOf, type LokiBackend } from '../support/loki.js';

const CHANNEL = '423456789012345678';
const validate = messageValidator();
/** Lines are pushed into the 5 minutes before NOW; every query runs at NOW. */
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);

let loki: LokiBackend;
let dir: string;
let db: SqliteDatabase;

beforeAll(async () => {
  loki = await startLokiBackend();
  const from = new Date(NOW.getTime() - 240_000);
  const to = new Date(NOW.getTime() - 10_000);
  const lines = (n: number, text: string) => spreadLines(n, from, to, (i) => `${text} ${i}`);
  await loki.push([
    streamOf({ host: 'host-0', job: 'app' }, lines(30, 'ERROR payment failed')),
    streamOf({ host: 'host-0', job: 'sidecar' }, lines(10, 'info all good')),
    streamOf({ host: 'host-1', job: 'app' }, lines(5, 'panic: nil map')),
    streamOf({ host: 'host-2', job: 'app' }, lines(8, 'info all good')),
    // Not in the storm: a host of its own, and one a dot left unescaped would take for host-3.example.
    streamOf({ host: 'elsewhere', job: 'app' }, lines(50, 'ERROR elsewhere')),
    streamOf({ host: 'host-3xexample', job: 'app' }, lines(20, 'ERROR decoy')),
    streamOf({ host: 'host-3.example', job: 'app' }, lines(2, 'fatal: disk')),
  ]);
}, 60_000);
afterAll(async () => {
  await loki?.stop();
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-storm-logs-'));
  db = openDatabase(join(dir, 'vigil.db'));
});
afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

function config() {
  const r = parseConfig(
    `webhook: { token: storm-logs-token-0123456789 }
prometheus: { url: http://127.0.0.1:9 }
loki: { url: ${loki.url} }
discord: { token: discord-token-abcdefghijklmnop, applicationId: "123456789012345678", alertChannelId: "${CHANNEL}" }
enrichment: { lookback: 5m, timeout: 2s }`,
    {},
  );
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

let alertNo = 0;
/** Adds firing alerts with these labels to the storm (each its own incident), joined at `at`. */
async function join_(stormId: number, labels: ReadonlyArray<Record<string, string>>, at: Date): Promise<void> {
  for (const l of labels) {
    const n = alertNo++;
    const incident = await createIncident(
      db,
      { source: 'alertmanager', receiver: 'vigil', groupKey: `{}:{n="${n}"}`, status: 'firing', alerts: {}, startedAt: at },
      at,
    );
    await recordStormAlerts(
      db,
      stormId,
      incident,
      [{ fingerprint: `fp-${n}`, labels: { alertname: 'HostDown', ...l }, status: 'firing', startsAt: at }],
      at,
      true,
    );
  }
}

/** A storm whose message is enqueued, started STORM_CONTEXT_AFTER_MS before NOW. */
async function storm(labels: ReadonlyArray<Record<string, string>>): Promise<number> {
  const started = new Date(NOW.getTime() - STORM_CONTEXT_AFTER_MS);
  const s = await startStorm(db, CHANNEL, started);
  await updateStorm(db, s.id, {
    createOutboxId: await enqueue(db, { orderKey: `storm:${s.id}`, kind: 'create', channelId: CHANNEL, body: { content: 'storm' } }, started.getTime()),
  });
  await join_(s.id, labels, started);
  return s.id;
}

/** Counts the Loki queries it passes on. */
function counting(client: LokiClient): { client: Pick<LokiClient, 'query'>; queries: string[] } {
  const queries: string[] = [];
  return { client: { query: (q, o, c) => (queries.push(q), client.query(q, o, c)) }, queries };
}

function depsAt(now: Date, lokiClient: Pick<LokiClient, 'query'>) {
  return {
    db,
    prometheus: createPrometheusClient({ url: 'http://127.0.0.1:9', timeoutMs: 200 }),
    loki: lokiClient,
    config: config(),
    logger: createLogger({ level: 'silent' }),
    now,
  };
}

/** The storm message's last edit once flushed at `now`: its context embed. */
async function contextEmbed(now: Date): Promise<APIEmbed> {
  await flushStorms({ db, config: config(), logger: createLogger({ level: 'silent' }), now });
  const row = db.sqlite.prepare(`SELECT body FROM outbox WHERE kind = 'edit' ORDER BY id DESC LIMIT 1`).get() as { body: string };
  const body = JSON.parse(row.body) as { embeds: APIEmbed[] };
  expect(validate(body)).toEqual([]);
  expectWithinLimits(body);
  return body.embeds[1]!;
}

const HOSTS = ['host-0:9100', 'host-1:9100', 'host-2:9100', 'host-3.example:9100', 'host-4:9100'].map((instance) => ({ instance }));

describe(`storm error logs (${process.env.LOKI_BIN ? 'real Loki' : 'Loki double'} per LOKI_BIN)`, () => {
  it("counts the error lines of every storm alert's log source in one query, the busiest first, values matched literally", async () => {
    // Five alerts name a host (instance without its port), one names a container: the host label covers most.
    const id = await storm([...HOSTS, { container: 'api' }]);
    const lokiClient = counting(createLokiClient({ url: loki.url, timeoutMs: 2000 }));
    await queryStormContexts(depsAt(NOW, lokiClient.client));
    expect(lokiClient.queries).toHaveLength(1);
    const logs = (await stormLogs<StormLogVolume>(db, id))!;
    expect(logs).toMatchObject({ label: 'host', sources: 5, uncovered: 1, total: 37 });
    expect(logs.query).toContain('host=~"host-0|host-1|host-2|host-3\\\\.example|host-4"');
    expect(logs.top).toEqual([
      { source: 'host-0', lines: 30 },
      { source: 'host-1', lines: 5 },
      { source: 'host-3.example', lines: 2 },
    ]);

    const context = await contextEmbed(NOW);
    const field = context.fields!.find((f) => f.name === '📜 Error log lines by host')!;
    expect(field.value).toContain('**37 lines** from 3 of 5: host-0 30 · host-1 5 · host-3.example 2');
    expect(field.value).toContain('Not counted: 1 firing alert with another host or none');
    expect(context.description).toMatch(/^Queried once for all the storm's logs, <t:\d+:R>\.$/);
  });

  it(`asks about the ${STORM_LOG_SOURCES} sources with the most alerts, in one query however many there are`, async () => {
    const many = Array.from({ length: STORM_LOG_SOURCES + 20 }, (_, i) => ({ instance: `busy-${i}:9100` }));
    // host-0 has three alerts: first among the 50 asked about; 49 of the 70 busy ones follow, 21 are left out.
    const id = await storm([...many, { instance: 'host-0:9100' }, { instance: 'host-0:9101' }, { instance: 'host-0:9102' }]);
    const lokiClient = counting(createLokiClient({ url: loki.url, timeoutMs: 2000 }));
    await queryStormContexts(depsAt(NOW, lokiClient.client));
    expect(lokiClient.queries).toHaveLength(1);
    const logs = (await stormLogs<StormLogVolume>(db, id))!;
    expect(logs).toMatchObject({ sources: STORM_LOG_SOURCES, uncovered: 21, top: [{ source: 'host-0', lines: 30 }], total: 30 });
    expect(logs.query).toMatch(/host=~"host-0\|busy-0\|/);
  });

  it('asks again only once alerts joined and a minute passed since it last asked', async () => {
    const id = await storm(HOSTS);
    const lokiClient = counting(createLokiClient({ url: loki.url, timeoutMs: 2000 }));
    const looked = new Map<number, number>();
    await queryStormContexts(depsAt(NOW, lokiClient.client), looked);
    expect(lokiClient.queries).toHaveLength(1);
    // Alerts joined, but within the minute: not again.
    await join_(id, [{ instance: 'host-9:9100' }], new Date(NOW.getTime() + 1000));
    await queryStormContexts(depsAt(new Date(NOW.getTime() + STORM_LOGS_EVERY_MS - 1), lokiClient.client), looked);
    expect(lokiClient.queries).toHaveLength(1);
    // The minute passed, and alerts had joined since: once more, with the newcomer.
    await queryStormContexts(depsAt(new Date(NOW.getTime() + STORM_LOGS_EVERY_MS), lokiClient.client), looked);
    expect(lokiClient.queries).toHaveLength(2);
    expect(lokiClient.queries[1]).toContain('host-9');
    // Nobody joined since: never again, however long it waits.
    await queryStormContexts(depsAt(new Date(NOW.getTime() + 5 * STORM_LOGS_EVERY_MS), lokiClient.client), looked);
    expect(lokiClient.queries).toHaveLength(2);
  });

  it('says in the storm message that Loki did not answer, and asks nothing when no alert names a log source', async () => {
    const down = await storm(HOSTS);
    await queryStormContexts(depsAt(NOW, createLokiClient({ url: 'http://127.0.0.1:9', timeoutMs: 500 })));
    expect((await stormLogs<StormLogVolume>(db, down))!.failure).toMatchObject({ message: expect.stringMatching(/Loki/) });
    expect((await contextEmbed(NOW)).fields!.find((f) => f.name === '📜 Error log lines by host')!.value).toMatch(/⚠️ .*Loki/);

    db.sqlite.prepare(`UPDATE storms SET ended_at = ?`).run(NOW.getTime());
    const none = await storm([{ service: 'nothing-maps-this' }]);
    const lokiClient = counting(createLokiClient({ url: loki.url, timeoutMs: 2000 }));
    await queryStormContexts(depsAt(NOW, lokiClient.client));
    expect(lokiClient.queries).toEqual([]);
    expect(await stormLogs<StormLogVolume>(db, none)).toMatchObject({ sources: 0, uncovered: 1 });
  });
});
