// A storm's context from the real Prometheus: the metric of its biggest alert names, queried once
// per name for all its alerts (a handful of samples back whatever the storm's size), shown by the
// storm message from its next edit; a Prometheus that is down is said, not thrown.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIEmbed } from 'discord-api-types/v10';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { queryStormContexts, STORM_CONTEXT_AFTER_MS, STORM_CONTEXT_NAMES } from '../../src/pipeline/storm-context.js';
import { flushStorms } from '../../src/pipeline/storm.js';
import { createPrometheusClient } from '../../src/queries/prometheus.js';
import { openDatabase, type SqliteDatabase } from '../../src/store/db.js';
import { enqueue } from '../../src/store/outbox.js';
import { recordStormAlerts, startStorm, updateStorm, type StormAlertInput } from '../../src/store/storms.js';
import { createIncident } from '../../src/store/incidents.js';
import { expectWithinLimits, messageValidator } from '../render/helpers.js';
import { startNodeExporter, startPrometheus, type NodeExporterHandle, type PrometheusHandle } from '../support/procs.js';

const CHANNEL = '423456789012345678';
const validate = messageValidator();

let nodeExporter: NodeExporterHandle;
let prometheus: PrometheusHandle;
let instance: string;
let dir: string;
let db: SqliteDatabase;

beforeAll(async () => {
  nodeExporter = await startNodeExporter();
  instance = `127.0.0.1:${nodeExporter.port}`;
  prometheus = await startPrometheus({ scrapeConfigs: [{ job: 'node', targets: [instance] }] });
  // Samples older than the subquery's step (3 s over the 5m lookback), so its points see data.
  await prometheus.waitFor('count_over_time(node_load1[1m]) >= 8', 30_000);
}, 60_000);
afterAll(async () => {
  await prometheus?.stop();
  await nodeExporter?.stop();
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-storm-context-'));
  db = openDatabase(join(dir, 'vigil.db'));
});
afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

function config(prometheusUrl: string) {
  const r = parseConfig(
    `webhook: { token: storm-context-token-0123456789 }
prometheus: { url: ${prometheusUrl} }
loki: { url: http://127.0.0.1:9 }
discord: { token: discord-token-abcdefghijklmnop, applicationId: "123456789012345678", alertChannelId: "${CHANNEL}" }
enrichment: { lookback: 5m, timeout: 2s }`,
    {},
  );
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

/** A storm started `ageMs` ago whose message is enqueued, with `count` alerts per name (each its own incident). */
async function storm(names: Record<string, { expr?: string; count: number }>, ageMs: number, now: Date): Promise<number> {
  const started = new Date(now.getTime() - ageMs);
  const s = await startStorm(db, CHANNEL, started);
  const create = await enqueue(db, { orderKey: `storm:${s.id}`, kind: 'create', channelId: CHANNEL, body: { content: 'storm' } }, started.getTime());
  await updateStorm(db, s.id, { createOutboxId: create });
  let n = 0;
  for (const [alertname, { expr, count }] of Object.entries(names)) {
    for (let i = 0; i < count; i++, n++) {
      const labels = { alertname, instance: `host-${n}:9100` };
      const incident = await createIncident(
        db,
        { source: 'alertmanager', receiver: 'vigil', groupKey: `{}:{n="${n}"}`, status: 'firing', alerts: {}, startedAt: started },
        started,
      );
      const alert: StormAlertInput = { fingerprint: `fp-${n}`, labels, status: 'firing', startsAt: started, ...(expr ? { expr } : {}) };
      await recordStormAlerts(db, s.id, incident, [alert], started, true);
    }
  }
  return s.id;
}

/** What queryStormContexts needs, at `now`, against the real Prometheus unless told otherwise. */
function depsAt(now: Date, url = prometheus.url, timeoutMs = 2000) {
  return { db, prometheus: createPrometheusClient({ url, timeoutMs }), config: config(url), logger: createLogger({ level: 'silent' }), now };
}

/** The storm message's edits once the storm is flushed at `now`. */
async function edits(now: Date): Promise<Array<{ body: { embeds: APIEmbed[] } }>> {
  await flushStorms({ db, config: config('http://127.0.0.1:9'), logger: createLogger({ level: 'silent' }), now });
  return (db.sqlite.prepare(`SELECT body FROM outbox WHERE kind = 'edit' ORDER BY id`).all() as Array<{ body: string }>).map((r) => ({
    body: JSON.parse(r.body) as { embeds: APIEmbed[] },
  }));
}
const contextOf = (edit: { body: { embeds: APIEmbed[] } }) => edit.body.embeds[1]!;

describe('storm context', () => {
  it("shows each big alert name's metric in the storm message, from one query per name for all its alerts, with threshold, series past it and peaks", async () => {
    const now = new Date();
    await storm(
      { HostLoad: { expr: 'node_load1 >= 0', count: 40 }, ScrapeUp: { expr: 'up == 1', count: 12 }, NoExpr: { count: 30 } },
      STORM_CONTEXT_AFTER_MS + 1000,
      now,
    );
    const deps = depsAt(now);
    expect(await queryStormContexts(deps)).toBe(2);
    const [edit] = await edits(now);
    expect(validate(edit!.body)).toEqual([]);
    expectWithinLimits(edit!.body);
    expect(edit!.body.embeds[0]!.title).toMatch(/^🌩️ Alert storm: 82 alerts firing/);
    const embed = contextOf(edit!);
    expect(embed.title).toBe('📈 What the metrics did · last 5m');
    // Most firing first; a name without an expression has nothing to query.
    expect(embed.fields!.map((f) => f.name)).toEqual(['HostLoad · 40 firing', 'ScrapeUp · 12 firing']);
    const [load, up] = embed.fields!.map((f) => f.value);
    // One node_exporter: one series, past the threshold now, its peak named by its instance.
    expect(load).toMatch(/^`node_load1` >= 0 · \*\*1 of 1\*\* series past it now\nPeak: 127\.0\.0\.1:\d+ \d/);
    expect(load).toContain(instance);
    // up: node_exporter and Prometheus' own target, if scraped; every one up.
    expect(up).toMatch(/^`up` == 1 · \*\*(\d) of \1\*\* series past it now\nPeak: /);
    // Done once: the next run queries nothing, and later edits still show it (it is stored).
    expect(await queryStormContexts(deps)).toBe(0);
    await recordStormAlerts(
      db,
      1,
      1,
      [{ fingerprint: 'fp-new', labels: { alertname: 'HostLoad', instance: 'late:9100' }, status: 'firing', startsAt: now }],
      now,
      true,
    );
    const later = await edits(new Date(now.getTime() + 60_000));
    expect(later).toHaveLength(2);
    expect(contextOf(later[1]!).fields).toEqual(embed.fields);
  });

  it(`waits until the storm is ${STORM_CONTEXT_AFTER_MS / 1000} s old, and queries at most ${STORM_CONTEXT_NAMES} names in all`, async () => {
    const now = new Date();
    const names = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`Name${i}`, { expr: 'node_load1 > 1000000', count: 8 - i }]));
    await storm(names, 2000, now);
    const deps = depsAt(now);
    expect(await queryStormContexts(deps)).toBe(0);
    const later = { ...deps, now: new Date(now.getTime() + STORM_CONTEXT_AFTER_MS) };
    expect(await queryStormContexts(later)).toBe(STORM_CONTEXT_NAMES);
    const fields = contextOf((await edits(later.now))[0]!).fields!;
    expect(fields.map((f) => f.name)).toEqual(['Name0 · 8 firing', 'Name1 · 7 firing', 'Name2 · 6 firing', 'Name3 · 5 firing', 'Name4 · 4 firing']);
    // Nothing past a threshold no load reaches.
    expect(fields[0]!.value).toContain('**0 of 1** series past it now');
    expect(await queryStormContexts(later)).toBe(0);
  });

  it('reads a storm again only once an alert joined it since it last looked', async () => {
    const now = new Date();
    const id = await storm({ HostLoad: { expr: 'node_load1 >= 0', count: 2 } }, STORM_CONTEXT_AFTER_MS, now);
    const looked = new Map<number, number>();
    expect(await queryStormContexts(depsAt(now), looked)).toBe(1);
    // A new name slipped in without a join (no new incident): not looked for.
    const late = (fp: string) => ({
      fingerprint: fp,
      labels: { alertname: 'ScrapeUp', instance: fp },
      status: 'firing' as const,
      startsAt: now,
      expr: 'up == 1',
    });
    await recordStormAlerts(db, id, 1, [late('up-1')], now, false);
    expect(await queryStormContexts(depsAt(now), looked)).toBe(0);
    // A new incident joins later: the storm is read again and the new name queried.
    const joined = new Date(now.getTime() + 1000);
    await recordStormAlerts(db, id, 2, [late('up-2')], joined, true);
    expect(await queryStormContexts(depsAt(joined), looked)).toBe(1);
    expect(looked.has(id)).toBe(true);
    // Once the storm ended, it is forgotten: `looked` holds active storms only, however many came and went.
    await updateStorm(db, id, { endedAt: joined });
    expect(await queryStormContexts(depsAt(joined), looked)).toBe(0);
    expect(looked.has(id)).toBe(false);
  });

  it.each([
    ['a comment at the end of its expression', 'node_load1 # the one-minute load\n>= 0', 1],
    ['a `bool` comparison (which keeps every series)', 'node_load1 > bool 1000000', 0],
  ])('queries an alert with %s as its meaning says', async (_name, expr, past) => {
    const now = new Date();
    await storm({ HostLoad: { expr, count: 3 } }, STORM_CONTEXT_AFTER_MS, now);
    const deps = depsAt(now);
    expect(await queryStormContexts(deps)).toBe(1);
    const value = contextOf((await edits(now))[0]!).fields![0]!.value;
    expect(value).not.toContain('⚠️');
    expect(value).toContain(`**${past} of 1** series past it now`);
    expect(value).toMatch(/\nPeak: 127\.0\.0\.1:\d+ /);
  });

  it('says what failed when Prometheus does not answer', async () => {
    const now = new Date();
    await storm({ HostLoad: { expr: 'node_load1 >= 0', count: 3 } }, STORM_CONTEXT_AFTER_MS, now);
    const deps = depsAt(now, 'http://127.0.0.1:9', 500);
    expect(await queryStormContexts(deps)).toBe(1);
    const value = contextOf((await edits(now))[0]!).fields![0]!.value;
    expect(value).toMatch(/^`node_load1` >= 0\n⚠️ /);
    expect(value).not.toContain('Peak');
  });
});
