import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIEmbed, RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import type { Alert, Notification } from '../../src/model.js';
import { processNotification, type PipelineDeps } from '../../src/pipeline/index.js';
import { flushAnnouncements, NOTE_INTERVAL_MS } from '../../src/pipeline/announce.js';
import { DETAILS_HOLD_MS, flushStorms, STORM_EDIT_INTERVAL_MS, STORM_PACE_MS } from '../../src/pipeline/storm.js';
import { createLokiClient } from '../../src/queries/loki.js';
import { createPrometheusClient } from '../../src/queries/prometheus.js';
import { openDatabase, type SqliteDatabase } from '../../src/store/db.js';
import { insertNotification, nextPendingNotification, pendingNotificationCount } from '../../src/store/notifications.js';
import { PRIORITY, type OutboxRow } from '../../src/store/outbox.js';
import { activeStorm, stormAlerts } from '../../src/store/storms.js';
import { expectWithinLimits, listedInstances, messageValidator } from '../render/helpers.js';
import { expectKorean } from '../render/korean.js';

const CHANNEL = '223456789012345678';
const T0 = new Date('2026-12-06T03:00:00Z').getTime();

let dir: string;
let db: SqliteDatabase;
let deps: PipelineDeps;
let clock: number;
const validate = messageValidator();

function config(extra = '') {
  const r = parseConfig(
    `webhook: { token: storm-test-token-0123456789 }
prometheus: { url: http://127.0.0.1:9 }
loki: { url: http://127.0.0.1:9 }
alertmanager: { url: http://alertmanager:9093, publicUrl: https://am.example.com }
discord: { token: discord-token-abcdefghijklmnop, applicationId: "123456789012345678", alertChannelId: "${CHANNEL}" }
enrichment: { timeout: 200ms }
charts: { enabled: false }
delivery: { storm: { threshold: 3, window: 10s, quiet: 1m } }
${extra}`,
    {},
  );
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

function open(path: string, extra = ''): void {
  db = openDatabase(path);
  const cfg = config(extra);
  deps = {
    db,
    // Nothing listens on port 9: enrichment fails fast, as for any alert in an outage.
    prometheus: createPrometheusClient({ url: cfg.prometheus.url, timeoutMs: 200 }),
    loki: createLokiClient({ url: cfg.loki.url, timeoutMs: 200 }),
    config: cfg,
    logger: createLogger({ level: 'silent' }),
    now: () => new Date(clock),
  };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-storm-'));
  clock = T0;
  open(join(dir, 'vigil.db'));
});
afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

function alert(i: number, over: Partial<Alert> = {}, severity = 'warning'): Alert {
  return {
    fingerprint: `fp-${i}`,
    status: 'firing',
    labels: { alertname: i % 2 ? 'HostHighCpu' : 'ContainerRestarting', instance: `node-${i}:9100`, severity },
    annotations: { summary: `alert ${i}` },
    startsAt: new Date(T0 - 60_000),
    source: 'alertmanager',
    ...over,
  };
}

/** One Alertmanager group per alert (group_by: ['...']), as in the storm of the issue. */
function group(i: number, alerts: Alert[] = [alert(i)]): Notification {
  const firing = alerts.some((a) => a.status === 'firing');
  return {
    source: 'alertmanager',
    receiver: 'vigil',
    groupKey: `{}:{instance="node-${i}"}`,
    status: firing ? 'firing' : 'resolved',
    alerts,
    groupLabels: { instance: `node-${i}` },
    commonLabels: alerts[0]!.labels,
    commonAnnotations: {},
  } as unknown as Notification;
}

async function process(n: Notification): Promise<void> {
  await insertNotification(db, n, new Date(clock));
  const stored = (await nextPendingNotification(db))!;
  await processNotification(stored, deps);
}

function flush(): Promise<number> {
  return flushStorms({ db, config: deps.config, logger: deps.logger, now: new Date(clock) });
}

type Row = Pick<OutboxRow, 'id' | 'kind' | 'orderKey' | 'priority' | 'status'> & { body: RESTPostAPIChannelMessageJSONBody };
function outbox(): Row[] {
  const rows = db.sqlite.prepare(`SELECT id, kind, order_key, priority, status, body FROM outbox ORDER BY id`).all() as Array<{
    id: number;
    kind: OutboxRow['kind'];
    order_key: string;
    priority: OutboxRow['priority'];
    status: OutboxRow['status'];
    body: string;
  }>;
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    orderKey: r.order_key,
    priority: r.priority,
    status: r.status,
    body: JSON.parse(r.body) as RESTPostAPIChannelMessageJSONBody,
  }));
}

const incidentCreates = () => outbox().filter((r) => r.kind === 'create' && r.orderKey.startsWith('incident:'));
const stormRows = () => outbox().filter((r) => r.orderKey.startsWith('storm:'));
const embed = (r: Row): APIEmbed => r.body.embeds![0]!;

describe('storm mode', () => {
  it('gives the first incidents of a burst their own messages, then folds the next into one storm message with a thread', async () => {
    for (let i = 1; i <= 3; i++) await process(group(i));
    expect(incidentCreates()).toHaveLength(3);
    expect(await activeStorm(db, CHANNEL)).toBeUndefined();

    for (let i = 4; i <= 20; i++) await process(group(i));
    expect(incidentCreates()).toHaveLength(3);
    expect(await pendingNotificationCount(db)).toBe(0);
    expect(await stormAlerts(db, (await activeStorm(db, CHANNEL))!.id)).toHaveLength(17);

    await flush();
    const storm = stormRows();
    expect(storm.map((r) => `${r.kind}:${r.priority}`)).toEqual([`create:${PRIORITY.firing}`, `thread:${PRIORITY.details}`]);
    const message = embed(storm[0]!);
    expect(message.title).toBe('🌩️ Alert storm: 17 alerts firing in 2 groups');
    expect(message.description).toContain('**17 firing** · 0 resolved · 2 alert names');
    expect(message.description).toContain('🟠 17 warning');
    expect(message.description).toMatch(/🟠 \*\*ContainerRestarting\*\* ×9 · for 1m\n└ `node-4:9100` `node-6:9100` `node-8:9100` \+6 more/);
    expect(message.description).toContain('https://am.example.com/#/alerts?filter=');
    expect(validate(storm[0]!.body)).toEqual([]);
    expectWithinLimits(storm[0]!.body);
  });

  /** Stores every notification first (a burst that arrived at once), then runs the pipeline over them, oldest first. */
  async function arriveTogether(ns: Notification[]): Promise<void> {
    for (const n of ns) await insertNotification(db, n, new Date(clock));
    for (let stored = await nextPendingNotification(db); stored; stored = await nextPendingNotification(db)) await processNotification(stored, deps);
  }

  it('folds a burst that arrived at once into the storm from its first incident when it is more than the threshold', async () => {
    await arriveTogether([1, 2, 3, 4].map((i) => group(i)));
    expect(incidentCreates()).toEqual([]);
    expect((await stormAlerts(db, (await activeStorm(db, CHANNEL))!.id)).map((a) => a.labels.instance)).toEqual([
      'node-1:9100',
      'node-2:9100',
      'node-3:9100',
      'node-4:9100',
    ]);
  });

  it('gives each incident of a burst no bigger than the threshold a message of its own, and folds the next', async () => {
    await arriveTogether([1, 2, 3].map((i) => group(i)));
    expect(incidentCreates()).toHaveLength(3);
    expect(await activeStorm(db, CHANNEL)).toBeUndefined();
    await arriveTogether([group(4)]);
    expect(incidentCreates()).toHaveLength(3);
    expect(await activeStorm(db, CHANNEL)).toBeDefined();
  });

  it('counts only what was queued within the window of an incident, not a later backlog', async () => {
    await insertNotification(db, group(1), new Date(clock));
    // Received a window later (the pipeline fell behind): not the burst incident 1 arrived in.
    for (const i of [2, 3, 4, 5]) await insertNotification(db, group(i), new Date(clock + 10_001));
    for (let stored = await nextPendingNotification(db); stored; stored = await nextPendingNotification(db)) await processNotification(stored, deps);
    expect(incidentCreates().map((r) => embed(r).description)).toEqual([expect.stringContaining('alert 1')]);
    expect((await stormAlerts(db, (await activeStorm(db, CHANNEL))!.id)).map((a) => a.labels.instance)).toEqual([
      'node-2:9100',
      'node-3:9100',
      'node-4:9100',
      'node-5:9100',
    ]);
  });

  it('counts neither queued updates of open incidents nor resolves nor repeats of the same group as new incidents', async () => {
    await arriveTogether([group(1)]);
    await arriveTogether([
      group(1, [alert(1), alert(101, { labels: { ...alert(101).labels } })]),
      group(1, [alert(1), alert(102)]),
      group(2),
      group(2, [alert(2), alert(103)]),
      group(3, [alert(3, { status: 'resolved', endsAt: new Date(clock) })]),
      group(4, [alert(4, { status: 'resolved', endsAt: new Date(clock) })]),
    ]);
    // Incident 1 was open; group 2 is one new group however often it was sent; 3 and 4 arrive resolved
    // (each posted as a resolved message of its own, never folded): no storm with a threshold of 3.
    expect(incidentCreates().map((r) => embed(r).title?.split(':')[0])).toEqual(['🔥 FIRING', '🔥 FIRING', '✅ RESOLVED', '✅ RESOLVED']);
    expect(await activeStorm(db, CHANNEL)).toBeUndefined();
  });

  it('edits the storm message at most once per edit window however many alerts joined, with the latest counts', async () => {
    for (let i = 1; i <= 10; i++) await process(group(i));
    await flush();
    for (let i = 11; i <= 30; i++) await process(group(i));
    // Within the window of the create: the change waits.
    clock += STORM_EDIT_INTERVAL_MS - 1;
    await flush();
    expect(stormRows().filter((r) => r.kind === 'edit')).toHaveLength(0);
    for (let i = 31; i <= 60; i++) await process(group(i));
    clock += 1;
    await flush();
    const edits = stormRows().filter((r) => r.kind === 'edit');
    expect(edits).toHaveLength(1);
    expect(embed(edits[0]!).title).toBe('🌩️ Alert storm: 57 alerts firing in 2 groups');
    // Nothing changed since: later flushes enqueue no edit.
    clock += STORM_EDIT_INTERVAL_MS;
    await flush();
    expect(stormRows().filter((r) => r.kind === 'edit')).toHaveLength(1);
  });

  it('names every alert of the storm exactly once, many to a details message, each within Discord limits', async () => {
    for (let i = 1; i <= 253; i++) await process(group(i));
    await flush();
    // 250 short instances (the first 3 incidents have messages of their own) do not fill a message: they wait for company.
    expect(stormRows().filter((r) => r.kind === 'thread-post')).toEqual([]);
    // After the hold every alert is named, all in one message.
    clock += DETAILS_HOLD_MS;
    await flush();
    const details = stormRows().filter((r) => r.kind === 'thread-post');
    expect(details.length).toBe(1);
    const named = listedInstances(details.flatMap((r) => r.body.embeds!.map((e) => e.description!)).join('\n'));
    expect(named.sort()).toEqual(Array.from({ length: 250 }, (_, k) => `node-${k + 4}:9100`).sort());
    for (const r of details) {
      expect(validate(r.body)).toEqual([]);
      expectWithinLimits(r.body);
    }
    expect(embed(details[0]!).title).toBe('Storm alerts 1–250');
    // Flushing again names nobody twice.
    clock += DETAILS_HOLD_MS;
    await flush();
    expect(stormRows().filter((r) => r.kind === 'thread-post')).toHaveLength(details.length);
  });

  it('posts a details message as soon as it is full, without waiting out the hold', async () => {
    for (let i = 1; i <= 603; i++) await process(group(i));
    await flush();
    const listed = () => {
      const details = stormRows().filter((r) => r.kind === 'thread-post');
      for (const r of details) expectWithinLimits(r.body);
      return { details, named: listedInstances(details.flatMap((r) => r.body.embeds!.map((e) => e.description!)).join('\n')) };
    };
    // 600 storm alerts with short instances: one full message (a few hundred) at once, the rest waits for company.
    const full = listed();
    expect(full.details).toHaveLength(1);
    expect(full.named.length).toBeGreaterThan(300);
    expect(full.named.length).toBeLessThan(600);
    clock += DETAILS_HOLD_MS;
    await flush();
    const all = listed();
    expect(all.details).toHaveLength(2);
    expect(all.named.sort()).toEqual(Array.from({ length: 600 }, (_, k) => `node-${k + 4}:9100`).sort());
  });

  it('still gives a critical alert its own message, ranked first, in the middle of a storm', async () => {
    for (let i = 1; i <= 10; i++) await process(group(i));
    await process(group(99, [alert(99, {}, 'critical')]));
    const critical = incidentCreates().at(-1)!;
    expect(incidentCreates()).toHaveLength(4);
    expect(critical.priority).toBe(PRIORITY.criticalFiring);
    expect(embed(critical).title).toContain('FIRING');
  });

  it("updates the storm message, never a message of their own, when a member's alerts resolve", async () => {
    for (let i = 1; i <= 10; i++) await process(group(i));
    await flush();
    const before = outbox().length;
    clock += STORM_EDIT_INTERVAL_MS;
    await process(group(7, [alert(7, { status: 'resolved', endsAt: new Date(clock) })]));
    expect(outbox()).toHaveLength(before);
    await flush();
    const edit = stormRows()
      .filter((r) => r.kind === 'edit')
      .at(-1)!;
    expect(embed(edit).description).toContain('**6 firing** · 1 resolved');
  });

  it('ends the storm after the quiet time with a final message and a summary, then posts incidents on their own again', async () => {
    for (let i = 1; i <= 12; i++) await process(group(i));
    await flush();
    clock += 60_000;
    await flush();
    const storm = stormRows();
    const final = storm.filter((r) => r.kind === 'edit').at(-1)!;
    expect(embed(final).title).toBe('🌤️ Alert storm over: 9 alerts in 1m');
    const summary = storm.filter((r) => r.kind === 'reply').at(-1)!;
    expect(summary.priority).toBe(PRIORITY.resolve);
    expect(summary.body.content).toMatch(/^🌤️ \*\*Storm over\*\* after 1m: 9 alerts in 2 names, \*\*9 still firing\*\*/);
    expectWithinLimits(summary.body);
    expect(await activeStorm(db, CHANNEL)).toBeUndefined();

    clock += 60_000;
    await process(group(200));
    expect(incidentCreates()).toHaveLength(4);
  });

  it('keeps the storm and who was named across a restart, and names only the newcomers', async () => {
    for (let i = 1; i <= 30; i++) await process(group(i));
    await flush();
    clock += DETAILS_HOLD_MS;
    await flush();
    const namedBefore = stormRows().filter((r) => r.kind === 'thread-post').length;
    await db.close();
    open(join(dir, 'vigil.db'));
    for (let i = 31; i <= 35; i++) await process(group(i));
    clock += DETAILS_HOLD_MS;
    await flush();
    expect(incidentCreates()).toHaveLength(3);
    expect(stormRows().filter((r) => r.kind === 'create')).toHaveLength(1);
    const details = stormRows().filter((r) => r.kind === 'thread-post');
    expect(details).toHaveLength(namedBefore + 1);
    expect(embed(details.at(-1)!).title).toBe('Storm alerts 28–32');
  });

  it('posts every incident on its own with storm mode off', async () => {
    await db.close();
    open(join(dir, 'off.db'), '');
    deps.config = { ...deps.config, delivery: { ...deps.config.delivery, storm: { ...deps.config.delivery.storm, enabled: false } } };
    for (let i = 1; i <= 12; i++) await process(group(i));
    await flush();
    expect(incidentCreates()).toHaveLength(12);
    expect(stormRows()).toEqual([]);
  });
});

describe('incidents with a message of their own while their channel is in a storm', () => {
  /** Incident 1 grows during the storm that incidents 4 to 6 started. */
  async function stormWithGrowingIncident(): Promise<Alert[]> {
    for (let i = 1; i <= 6; i++) await process(group(i));
    expect(await activeStorm(db, CHANNEL)).toBeDefined();
    return [alert(1)];
  }
  const edits = () =>
    db.sqlite.prepare(`SELECT id, next_attempt_at AS due, status FROM outbox WHERE kind = 'edit' AND order_key = 'incident:1' ORDER BY id`).all() as Array<{
      id: number;
      due: number;
      status: string;
    }>;
  const notes = () =>
    outbox().filter((r) => r.orderKey === 'incident:1' && r.kind === 'thread-post' && /Now firing/.test(r.body.content || (r.body.embeds?.[0]?.title ?? '')));
  const announce = () => flushAnnouncements({ db, config: deps.config, logger: deps.logger, now: new Date(clock) });

  it('holds their edits to one per STORM_PACE_MS and their notes likewise, then tells everything at once', async () => {
    const alerts = await stormWithGrowingIncident();
    const created = clock;
    clock += 1000;
    alerts.push(alert(101));
    await process(group(1, [...alerts]));
    // The edit is held until STORM_PACE_MS after the message was created; the first note goes (nothing was told since).
    expect(edits()).toEqual([expect.objectContaining({ due: created + STORM_PACE_MS, status: 'pending' })]);
    clock += 1000;
    alerts.push(alert(102));
    await process(group(1, [...alerts]));
    // A second edit waits for the same moment: the drainer sends only the newest.
    expect(edits().map((e) => e.due)).toEqual([created + STORM_PACE_MS, created + STORM_PACE_MS]);
    const told = notes().length;
    // Outside a storm the note would go after NOTE_INTERVAL_MS; in one it waits STORM_PACE_MS.
    clock += NOTE_INTERVAL_MS;
    await announce();
    expect(notes()).toHaveLength(told);
    clock += STORM_PACE_MS;
    await announce();
    expect(notes()).toHaveLength(told + 1);
    expect(notes().at(-1)!.body.content).toContain('node-102:9100');
  });

  it('sends at once an edit that brings a critical alert, and a resolve, taking the place of the held edits', async () => {
    const alerts = await stormWithGrowingIncident();
    clock += 1000;
    await process(group(1, [...alerts, alert(101)]));
    expect(edits()[0]!.due).toBeGreaterThan(clock);
    clock += 1000;
    await process(group(1, [...alerts, alert(101), alert(102, {}, 'critical')]));
    // Due now, and the held edit too: the drainer supersedes it with the newest.
    expect(edits().map((e) => e.due)).toEqual([clock, clock]);
    clock += 1000;
    // An update while the critical edit still waits (the channel's budget spent) never goes after it.
    await process(group(1, [...alerts, alert(101), alert(102, {}, 'critical'), alert(103)]));
    expect(edits().at(-1)!.due).toBe(clock);
    // Once they are sent, the next update is held again: STORM_PACE_MS after the last edit went.
    db.sqlite.prepare(`UPDATE outbox SET status = 'sent', updated_at = ? WHERE kind = 'edit'`).run(clock);
    const sentAt = clock;
    clock += 1000;
    await process(group(1, [...alerts, alert(101), alert(102, {}, 'critical'), alert(103), alert(104)]));
    expect(edits().at(-1)!.due).toBe(sentAt + STORM_PACE_MS);
    clock += 1000;
    const resolved = { status: 'resolved' as const, endsAt: new Date(clock) };
    await process(group(1, [alert(1, resolved), alert(101, resolved), alert(102, resolved, 'critical'), alert(103, resolved), alert(104, resolved)]));
    expect(edits()).toHaveLength(5);
    expect(edits().every((e) => e.due <= clock)).toBe(true);
  });

  it('tells a critical alert that waited for a note after NOTE_INTERVAL_MS, not STORM_PACE_MS', async () => {
    const alerts = await stormWithGrowingIncident();
    clock += 1000;
    await process(group(1, [...alerts, alert(101)]));
    const told = notes().length;
    clock += 1000;
    await process(group(1, [...alerts, alert(101), alert(102, {}, 'critical')]));
    // Told moments ago: it waits for company, as outside a storm, but no longer.
    expect(notes()).toHaveLength(told);
    clock += NOTE_INTERVAL_MS;
    await announce();
    expect(notes()).toHaveLength(told + 1);
    expect(notes().at(-1)!.body.content).toContain('node-102:9100');
  });

  it('paces nothing once the storm is over', async () => {
    const alerts = await stormWithGrowingIncident();
    clock += 61_000; // quiet: 1m
    await flush();
    expect(await activeStorm(db, CHANNEL)).toBeUndefined();
    await process(group(1, [...alerts, alert(101)]));
    expect(edits()).toEqual([expect.objectContaining({ due: clock })]);
  });
});

describe('big groups', () => {
  it('names every alert of a big group in its thread, many to a message, and every newly firing one when it grows', async () => {
    const first = Array.from({ length: 150 }, (_, i) => alert(1000 + i));
    await process(group(1, first));
    // The roster fits beside the details: one thread post, the details' embeds first, then the roster's.
    const posts = outbox().filter((r) => r.kind === 'thread-post');
    expect(posts).toHaveLength(1);
    const roster = posts[0]!.body.embeds!.filter((e) => e.title?.startsWith('Alerts ') || e.title === undefined);
    expect(posts[0]!.body.embeds![0]!.title).toMatch(/^🔎 /);
    expect(roster[0]!.title).toBe('Alerts 1–150 of 150');
    expectWithinLimits(posts[0]!.body);
    const named = listedInstances(roster.map((e) => e.description!).join('\n'));
    expect(named.sort()).toEqual(Array.from({ length: 150 }, (_, k) => `node-${1000 + k}:9100`).sort());
    expect(validate(posts[0]!.body)).toEqual([]);

    clock += NOTE_INTERVAL_MS;
    await process(group(1, [...first, ...Array.from({ length: 8 }, (_, i) => alert(2000 + i))]));
    const grown = outbox().filter((r) => r.kind === 'thread-post' && embed(r)?.title?.startsWith('🔥 Now firing'));
    expect(grown.map((r) => embed(r).title)).toEqual(['🔥 Now firing: 1–8 of 8 new alerts']);
    expect(listedInstances(embed(grown[0]!).description!).sort()).toEqual(Array.from({ length: 8 }, (_, k) => `node-${2000 + k}:9100`).sort());
  });

  it('keeps the one-line note for a few newly firing alerts', async () => {
    await process(group(1, [alert(1)]));
    clock += NOTE_INTERVAL_MS;
    await process(group(1, [alert(1), alert(2), alert(3)]));
    const note = outbox()
      .filter((r) => r.kind === 'thread-post')
      .at(-1)!;
    expect(note.body.content).toMatch(/^🔥 Now firing: /);
  });
});

describe("a storm's incidents later on", () => {
  async function stormOf10(): Promise<void> {
    for (let i = 1; i <= 10; i++) await process(group(i));
    await flush();
  }

  it('gives an incident of the storm a message of its own when a critical alert starts firing in it, and takes it out of the storm', async () => {
    await stormOf10();
    const storm = (await activeStorm(db, CHANNEL))!;
    clock += 1000;
    await process(group(5, [alert(5), alert(500, {}, 'critical')]));
    const own = incidentCreates().at(-1)!;
    expect(incidentCreates()).toHaveLength(4);
    expect(own.priority).toBe(PRIORITY.criticalFiring);
    expect(embed(own).title).toContain('FIRING');
    expect((await stormAlerts(db, storm.id)).some((a) => a.labels.instance === 'node-5:9100')).toBe(false);
    expect(await pendingNotificationCount(db)).toBe(0);
    // From now on it is an incident like any other: its resolve edits its own message.
    clock += 1000;
    await process(
      group(5, [alert(5, { status: 'resolved', endsAt: new Date(clock) }), alert(500, { status: 'resolved', endsAt: new Date(clock) }, 'critical')]),
    );
    const edits = outbox().filter((r) => r.kind === 'edit' && r.orderKey === own.orderKey);
    expect(edits.map((r) => embed(r).title)).toEqual([expect.stringContaining('RESOLVED')]);
  });

  it("pages the route's people when an incident leaves the storm for a message of its own (a critical alert started firing in it)", async () => {
    await db.close();
    open(join(dir, 'routed.db'), `routes: [{ name: db, channelId: "${CHANNEL}", mentions: { roles: ["444444444444444444"], severities: [critical] } }]`);
    const routed = (n: Notification): Notification => ({ ...n, route: 'db', channelId: CHANNEL });
    for (let i = 1; i <= 10; i++) await process(routed(group(i)));
    await flush();
    // Warnings: the first three got messages of their own, without a page; the rest joined the storm.
    expect(incidentCreates().map((r) => r.body.content ?? '')).toEqual(['', '', '']);
    clock += 1000;
    await process(routed(group(5, [alert(5), alert(500, {}, 'critical')])));
    const own = incidentCreates().at(-1)!;
    expect(incidentCreates()).toHaveLength(4);
    expect(own.body.content).toBe('🔔 <@&444444444444444444>');
    expect(own.body.allowed_mentions).toEqual({ parse: [], roles: ['444444444444444444'], users: [] });
  });

  it('gives an incident a message of its own when alerts start firing in it after its storm ended; a resolve stays with the storm', async () => {
    await stormOf10();
    clock += 60_000;
    await flush();
    expect(await activeStorm(db, CHANNEL)).toBeUndefined();
    const before = incidentCreates().length;
    await process(group(6, [alert(6, { status: 'resolved', endsAt: new Date(clock) })]));
    expect(incidentCreates()).toHaveLength(before);
    await process(group(8, [alert(8), alert(800)]));
    expect(incidentCreates()).toHaveLength(before + 1);
    expect(embed(incidentCreates().at(-1)!).title).toContain('FIRING');
  });

  it("still records a storm incident's resolve with the storm when storm mode was turned off since", async () => {
    await stormOf10();
    deps.config = { ...deps.config, delivery: { ...deps.config.delivery, storm: { ...deps.config.delivery.storm, enabled: false } } };
    clock += STORM_EDIT_INTERVAL_MS;
    await process(group(7, [alert(7, { status: 'resolved', endsAt: new Date(clock) })]));
    expect(await pendingNotificationCount(db)).toBe(0);
    expect(db.sqlite.prepare(`SELECT count(*) AS n FROM notifications WHERE status = 'failed'`).get()).toEqual({ n: 0 });
    await flush();
    expect(
      embed(
        stormRows()
          .filter((r) => r.kind === 'edit')
          .at(-1)!,
      ).description,
    ).toContain('1 resolved');
  });
});

describe('storm mode in a Korean route', () => {
  beforeEach(async () => {
    await db.close();
    open(
      join(dir, 'ko.db'),
      `timezone: Asia/Seoul
routes: [{ name: ops, channelId: "${CHANNEL}", locale: ko }]`,
    );
  });

  it('posts the storm message, its thread, details, end and summary in Korean, clock times in the configured zone', async () => {
    for (let i = 1; i <= 20; i++) await process(group(i));
    await flush();
    clock += DETAILS_HOLD_MS;
    await flush();
    clock += 60_000;
    await flush();
    const storm = stormRows();
    const create = storm.find((r) => r.kind === 'create')!;
    expect(embed(create).title).toBe('🌩️ 알림 폭주: 2개 그룹에서 알림 17개 발생');
    expect(embed(create).description).toContain('**발생 17** · 해결됨 0 · 알림 이름 2개');
    expect(embed(create).description).toContain('🟠 경고 17');
    // Started 03:00 UTC: the thread is named at 12:00 in Seoul.
    expect(storm.find((r) => r.kind === 'thread')!.body).toEqual({ name: '알림 폭주 2026-12-06 12:00 KST', auto_archive_duration: 1440 });
    const details = storm.filter((r) => r.kind === 'thread-post');
    expect(details.map((r) => embed(r).title)).toEqual(['알림 폭주의 알림 1–17']);
    const final = storm.filter((r) => r.kind === 'edit').at(-1)!;
    expect(embed(final).title).toBe('🌤️ 알림 폭주 종료: 1분 5초 동안 알림 17개');
    expect(embed(final).footer!.text).toBe('알림 폭주 모드 종료 12:01 KST · 모든 알림은 스레드에 있습니다');
    const summary = storm.filter((r) => r.kind === 'reply').at(-1)!;
    expect(summary.body.content).toMatch(/^🌤️ \*\*알림 폭주 종료\*\* \(1분 5초 만에\): 알림 17개, 알림 이름 2개, \*\*17개 계속 발생 중\*\*\. /);
    for (const r of [create, ...details, final, summary]) {
      expect(validate(r.body)).toEqual([]);
      expectWithinLimits(r.body);
      expectKorean(r.body, ['HostHighCpu', 'ContainerRestarting', 'node']);
    }
  });
});
