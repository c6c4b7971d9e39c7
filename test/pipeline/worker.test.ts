// The pipeline worker processes notifications side by side (their queries overlap, so a slow
// backend's waits do not add up), yet the channel sees them in the order they came, one group
// never runs twice at once, and storm detection still counts the notifications in flight.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import type { Notification } from '../../src/model.js';
import { createPipelineWorker, PIPELINE_CONCURRENCY } from '../../src/pipeline/worker.js';
import { createLokiClient, type LokiClient } from '../../src/queries/loki.js';
import { createPrometheusClient } from '../../src/queries/prometheus.js';
import { openDatabase, type SqliteDatabase } from '../../src/store/db.js';
import { insertNotification, pendingNotificationCount } from '../../src/store/notifications.js';
import { eventually } from '../support/eventually.js';
import { startLokiDouble, type LokiDoubleHandle } from '../support/loki-double.js';

const CHANNEL = '223456789012345678';
const NOW = new Date();

let loki: LokiDoubleHandle;
let dir: string;
let db: SqliteDatabase;

beforeAll(async () => {
  loki = await startLokiDouble();
});
afterAll(async () => {
  await loki?.stop();
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-worker-'));
  db = openDatabase(join(dir, 'vigil.db'));
});
afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

function config(storm: boolean) {
  const r = parseConfig(
    `webhook: { token: worker-test-token-0123456789 }
prometheus: { url: http://127.0.0.1:9 }
loki: { url: ${loki.url} }
discord: { token: discord-token-abcdefghijklmnop, applicationId: "123456789012345678", alertChannelId: "${CHANNEL}", threads: false }
enrichment: { timeout: 5s }
charts: { enabled: false }
delivery: { storm: { enabled: ${storm}, threshold: 6, window: 60s } }`,
    {},
  );
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

/** One notification of one alert on service `svc-<i>` (its logs are asked for by that container name); `group` defaults to its own. */
function notification(i: number, opts: { group?: number; status?: 'firing' | 'resolved' } = {}): Notification {
  const status = opts.status ?? 'firing';
  return {
    source: 'alertmanager',
    receiver: 'vigil',
    groupKey: `{}:{svc="${opts.group ?? i}"}`,
    status,
    alerts: [
      {
        fingerprint: `fp-${opts.group ?? i}`,
        status,
        labels: { alertname: `Slow${opts.group ?? i}`, container: `svc-${i}`, severity: 'warning' },
        annotations: { summary: `alert ${i}` },
        startsAt: new Date(NOW.getTime() - 60_000),
        ...(status === 'resolved' ? { endsAt: new Date(NOW.getTime() - 1000) } : {}),
        source: 'alertmanager',
      },
    ],
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
  } as unknown as Notification;
}

/**
 * The Loki client, each log query held `delayOf(i)` ms for service `svc-<i>`; `inFlight` tracks the
 * services with a query open at any moment, `most` the largest number of them at once, `first` and
 * `last` when each service's first query started and its last one ended.
 */
function slowLoki(delayOf: (i: number) => number) {
  const real = createLokiClient({ url: loki.url, timeoutMs: 5000 });
  const open = new Map<number, number>();
  const seen = { most: 0, first: new Map<number, number>(), last: new Map<number, number>() };
  const hold = async <T>(logql: string, call: () => Promise<T>): Promise<T> => {
    const i = Number(/svc-(\d+)/.exec(logql)?.[1] ?? -1);
    open.set(i, (open.get(i) ?? 0) + 1);
    seen.most = Math.max(seen.most, open.size);
    if (!seen.first.has(i)) seen.first.set(i, performance.now());
    try {
      await sleep(delayOf(i));
      return await call();
    } finally {
      seen.last.set(i, performance.now());
      const n = open.get(i)! - 1;
      if (n === 0) open.delete(i);
      else open.set(i, n);
    }
  };
  const client: LokiClient = {
    ...real,
    queryRange: (logql, opts, callOpts) => hold(logql, () => real.queryRange(logql, opts, callOpts)),
    query: (logql, opts, callOpts) => hold(logql, () => real.query(logql, opts, callOpts)),
  };
  return { client, seen };
}

function worker(loki: LokiClient, storm: boolean, concurrency?: number) {
  const c = config(storm);
  return createPipelineWorker({
    db,
    config: c,
    // Nothing listens on port 9: metric queries fail at once and become notes.
    prometheus: createPrometheusClient({ url: c.prometheus.url, timeoutMs: 1000 }),
    loki,
    logger: createLogger({ level: 'silent' }),
    now: () => new Date(),
    ...(concurrency !== undefined ? { concurrency } : {}),
  });
}

/** The alert messages queued (creates and edits), oldest first, by the summary they carry. */
function queued(): Array<{ kind: string; summary: string; targetId: number | null; id: number }> {
  const rows = db.sqlite.prepare(`SELECT id, kind, body, target_id AS targetId FROM outbox WHERE kind IN ('create', 'edit') ORDER BY id`).all() as Array<{
    id: number;
    kind: string;
    body: string;
    targetId: number | null;
  }>;
  return rows.map((r) => ({ id: r.id, kind: r.kind, targetId: r.targetId, summary: /alert \d+/.exec(r.body)?.[0] ?? '' }));
}

describe('the pipeline worker', () => {
  it(`enriches up to ${PIPELINE_CONCURRENCY} notifications at once, and queues their messages in the order they came`, async () => {
    const count = 10;
    // The later the alert, the faster its logs come back: processed strictly side by side, they would finish in reverse.
    const { client, seen } = slowLoki((i) => (count - i) * 40);
    for (let i = 0; i < count; i++) await insertNotification(db, notification(i), NOW);
    expect(await worker(client, false).runOnce()).toBe(count);
    expect(seen.most).toBe(PIPELINE_CONCURRENCY);
    expect(queued().map((q) => q.summary)).toEqual(Array.from({ length: count }, (_, i) => `alert ${i}`));
    expect(await pendingNotificationCount(db)).toBe(0);
  });

  it('keeps the order when a notification between two others stops early (a resolve of a resolved incident)', async () => {
    const { client } = slowLoki((i) => (i === 0 ? 400 : 10));
    // Group 1 fired and resolved: its late resolve below is skipped at once, without a query.
    await insertNotification(db, notification(1), NOW);
    await insertNotification(db, notification(1, { status: 'resolved' }), NOW);
    expect(await worker(client, false).runOnce()).toBe(2);
    const late = notification(1, { status: 'resolved' });
    await insertNotification(db, notification(0), NOW);
    await insertNotification(db, { ...late, alerts: [{ ...late.alerts[0]!, endsAt: new Date(NOW.getTime() - 500) }] }, NOW);
    await insertNotification(db, notification(2), NOW);
    expect(await worker(client, false).runOnce()).toBe(3);
    const decisions = db.sqlite.prepare(`SELECT decision FROM notifications ORDER BY id`).all() as Array<{ decision: string }>;
    expect(decisions.map((d) => d.decision)).toEqual(['new-incident', 'all-resolved', 'new-incident', 'already-resolved', 'new-incident']);
    expect(
      queued()
        .filter((q) => q.kind === 'create')
        .map((q) => q.summary),
    ).toEqual(['alert 1', 'alert 0', 'alert 2']);
  });

  it('takes a notification stored during a pass into a free slot at once (wake), not after the slow one in flight', async () => {
    const { client, seen } = slowLoki((i) => (i === 0 ? 1000 : 10));
    const w = worker(client, false);
    await insertNotification(db, notification(0), NOW);
    w.start();
    await sleep(100);
    await insertNotification(db, notification(1), NOW);
    w.wake();
    await eventually('both notifications processed', async () => ((await pendingNotificationCount(db)) === 0 ? true : undefined), 5000);
    await w.stop();
    expect(seen.first.get(1)).toBeLessThan(seen.last.get(0)!);
  });

  it('on stop, finishes the notifications in flight and leaves the rest pending', async () => {
    const { client } = slowLoki(() => 300);
    const w = worker(client, false);
    for (let i = 0; i < 2 * PIPELINE_CONCURRENCY; i++) await insertNotification(db, notification(i), NOW);
    w.start();
    await sleep(100);
    await w.stop();
    expect(queued()).toHaveLength(PIPELINE_CONCURRENCY);
    expect(await pendingNotificationCount(db)).toBe(PIPELINE_CONCURRENCY);
  });

  it("tells of a new alert once when its waiting note goes out while the incident's next update is in flight", async () => {
    let t = NOW.getTime();
    const { client } = slowLoki((i) => (i === 50 ? 600 : 10));
    const c = config(false);
    const w = createPipelineWorker({
      db,
      config: c,
      prometheus: createPrometheusClient({ url: c.prometheus.url, timeoutMs: 1000 }),
      loki: client,
      logger: createLogger({ level: 'silent' }),
      now: () => new Date(t),
    });
    /** Group g with these alerts firing, each on svc-50 (whose logs take 600 ms). */
    const g = (names: string[]): Notification => {
      const one = notification(50, { group: 50 });
      return { ...one, alerts: names.map((name) => ({ ...one.alerts[0]!, fingerprint: `fp-${name}`, labels: { ...one.alerts[0]!.labels, alertname: name } })) };
    };
    await insertNotification(db, g(['NoteA']), new Date(t));
    await w.runOnce();
    // NoteX starts firing 4.6 s after the message: its note waits for NOTE_INTERVAL_MS (5 s).
    t += 4600;
    await insertNotification(db, g(['NoteA', 'NoteX']), new Date(t));
    await w.runOnce();
    // NoteY at 5.2 s: its update is in flight (no flush yet, the last was 0.6 s ago) when NoteX's note goes out.
    t += 600;
    await insertNotification(db, g(['NoteA', 'NoteX', 'NoteY']), new Date(t));
    w.start();
    await sleep(100);
    t += 2000;
    await insertNotification(db, notification(7), new Date(t));
    w.wake();
    await eventually('every notification processed', async () => ((await pendingNotificationCount(db)) === 0 ? true : undefined), 5000);
    await w.stop();
    const notes = (db.sqlite.prepare(`SELECT body FROM outbox WHERE kind IN ('reply', 'thread-post')`).all() as Array<{ body: string }>).map((r) => r.body);
    expect(notes.filter((b) => b.includes('NoteX'))).toHaveLength(1);
  });

  it('enriches one notification at a time with concurrency 1', async () => {
    const { client, seen } = slowLoki(() => 20);
    for (let i = 0; i < 4; i++) await insertNotification(db, notification(i), NOW);
    expect(await worker(client, false, 1).runOnce()).toBe(4);
    expect(seen.most).toBe(1);
  });

  it("never runs two notifications of one group at once: the group's resolve edits the message its firing created", async () => {
    const { client, seen } = slowLoki(() => 100);
    // svc-0 and svc-2 are one group (group 0): firing, then resolved.
    await insertNotification(db, notification(0, { group: 0 }), NOW);
    await insertNotification(db, notification(1), NOW);
    await insertNotification(db, notification(2, { group: 0, status: 'resolved' }), NOW);
    await insertNotification(db, notification(3), NOW);
    expect(await worker(client, false).runOnce()).toBe(4);
    const incidents = db.sqlite.prepare(`SELECT count(*) AS n FROM incidents WHERE group_key = ?`).get('{}:{svc="0"}') as { n: number };
    expect(incidents.n).toBe(1);
    const messages = queued();
    const created = messages.find((m) => m.kind === 'create' && m.summary === 'alert 0')!;
    const resolved = messages.find((m) => m.kind === 'edit')!;
    expect(resolved.targetId).toBe(created.id);
    // Group 0's second notification asked Loki only after its first was done with it.
    expect(seen.first.get(2)).toBeGreaterThanOrEqual(seen.last.get(0)!);
    expect(seen.most).toBeGreaterThan(1);
    expect(messages.filter((m) => m.kind === 'create').map((m) => m.summary)).toEqual(['alert 0', 'alert 1', 'alert 3']);
  });

  it('never runs two parts of one group split across routes at once: both may decide on the same incident', async () => {
    const { client, seen } = slowLoki(() => 100);
    await insertNotification(db, { ...notification(0, { group: 0 }), route: 'db', channelId: '323456789012345678' }, NOW);
    await insertNotification(db, notification(1, { group: 0 }), NOW);
    expect(await worker(client, false).runOnce()).toBe(2);
    expect(seen.first.get(1)).toBeGreaterThanOrEqual(seen.last.get(0)!);
  });

  it('with storm mode, decides one new incident at a time: a burst that starts with a few alerts gets one message, then its storm', async () => {
    const { client, seen } = slowLoki(() => 200);
    const w = worker(client, true);
    // Three arrive first; side by side, each would find only two queued (threshold 6) and get a message of its own.
    for (let i = 0; i < 3; i++) await insertNotification(db, notification(i), NOW);
    const pass = w.runOnce();
    await sleep(50);
    for (let i = 3; i < 13; i++) await insertNotification(db, notification(i), NOW);
    await pass;
    await w.runOnce();
    expect(seen.most).toBe(1);
    const storms = db.sqlite.prepare(`SELECT count(*) AS n FROM storms`).get() as { n: number };
    expect(storms.n).toBe(1);
    expect(queued().filter((m) => m.kind === 'create' && m.summary !== '')).toHaveLength(1);
    expect(await pendingNotificationCount(db)).toBe(0);
  });

  it('with storm mode, still updates and resolves incidents side by side', async () => {
    const { client, seen } = slowLoki(() => 200);
    for (let i = 0; i < 4; i++) await insertNotification(db, notification(i), NOW);
    expect(await worker(client, false).runOnce()).toBe(4);
    for (let i = 0; i < 4; i++) await insertNotification(db, notification(i, { status: 'resolved' }), NOW);
    seen.most = 0;
    expect(await worker(client, true).runOnce()).toBe(4);
    expect(seen.most).toBe(PIPELINE_CONCURRENCY);
  });
});

describe('a notification another replica finished meanwhile', () => {
  it('is dropped with everything this worker recorded for it rolled back: no incident, no message', async () => {
    const { id } = await insertNotification(db, notification(1), NOW);
    // Another replica (the new leader, while this one was paused past its lease) records it while this one enriches.
    const slow = slowLoki(() => 300);
    const w = worker(slow.client, false);
    const processing = w.runOnce();
    await eventually('the enrichment to start', () => (slow.seen.first.size > 0 ? true : undefined));
    db.sqlite.prepare(`UPDATE notifications SET status = 'done', decision = 'new incident' WHERE id = ?`).run(id);
    expect(await processing).toBe(1);
    expect(queued()).toEqual([]);
    expect(db.sqlite.prepare('SELECT count(*) AS n FROM incidents').get()).toEqual({ n: 0 });
    expect(db.sqlite.prepare('SELECT status, decision FROM notifications WHERE id = ?').get(id)).toEqual({ status: 'done', decision: 'new incident' });
  });
});
