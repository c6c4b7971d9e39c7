import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIButtonComponentWithCustomId, RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseCustomId } from '../../src/commands/router.js';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import type { Notification } from '../../src/model.js';
import { flushAnnouncements, NOTE_INTERVAL_MS } from '../../src/pipeline/announce.js';
import { processNotification, type PipelineDeps } from '../../src/pipeline/index.js';
import { createLokiClient } from '../../src/queries/loki.js';
import { createPrometheusClient } from '../../src/queries/prometheus.js';
import { ackLine } from '../../src/render/alert.js';
import { alertButtons } from '../../src/render/buttons.js';
import { acknowledge } from '../../src/store/acks.js';
import { openDatabase, type SqliteDatabase } from '../../src/store/db.js';
import { latestIncident } from '../../src/store/incidents.js';
import { insertNotification, nextPendingNotification } from '../../src/store/notifications.js';
import type { OutboxRow } from '../../src/store/outbox.js';
import { createDrainer, type Drainer } from '../../src/discord/drain.js';
import { createRest } from '../../src/discord/rest.js';
import { pendingCount } from '../../src/store/outbox.js';
import { loadWebhook, messageValidator } from '../render/helpers.js';
import { DOUBLE_TOKEN, startDiscordDouble, type DiscordDouble } from '../support/discord-double.js';
import { testConfig } from '../support/deps.js';
import { splitByRoute } from '../../src/webhooks/route.js';
import { stuckAlerts } from '../../src/webhooks/sticky.js';
import { startLokiDouble, type LokiDoubleHandle } from '../support/loki-double.js';

const NOW = new Date('2026-11-21T09:00:00Z');
const ALICE = '111111111111111111';

let loki: LokiDoubleHandle;
let dir: string;
let db: SqliteDatabase;
let deps: PipelineDeps;
let validate: (body: unknown) => string[];

beforeAll(async () => {
  loki = await startLokiDouble();
  validate = messageValidator();
});
afterAll(async () => {
  await loki?.stop();
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-pipeline-'));
  db = openDatabase(join(dir, 'vigil.db'));
  const r = parseConfig(
    `webhook: { token: pipeline-test-token-0123456789 }
prometheus: { url: http://127.0.0.1:9 }
loki: { url: ${loki.url} }
discord: { token: discord-token-abcdefghijklmnop, applicationId: "123456789012345678", alertChannelId: "223456789012345678" }
enrichment: { timeout: 1s }`,
    {},
  );
  if (!r.ok) throw new Error(r.errors.join('\n'));
  deps = {
    db,
    // Nothing listens on port 9: metric enrichment fails fast and becomes a note, as in an outage.
    prometheus: createPrometheusClient({ url: r.config.prometheus.url, timeoutMs: 1000 }),
    loki: createLokiClient({ url: loki.url, timeoutMs: 1000 }),
    config: r.config,
    logger: createLogger({ level: 'silent' }),
    now: () => NOW,
  };
});
afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Stores a notification and runs it through every stage. */
async function process(n: Notification): Promise<void> {
  await insertNotification(db, n, NOW);
  const stored = (await nextPendingNotification(db))!;
  await processNotification(stored, deps);
}

function outbox(): Array<Pick<OutboxRow, 'id' | 'kind'> & { body: RESTPostAPIChannelMessageJSONBody }> {
  const rows = db.sqlite.prepare(`SELECT id, kind, body FROM outbox ORDER BY id`).all() as Array<{ id: number; kind: OutboxRow['kind']; body: string }>;
  return rows.map((r) => ({ id: r.id, kind: r.kind, body: JSON.parse(r.body) as RESTPostAPIChannelMessageJSONBody }));
}

async function incidentId(): Promise<number> {
  const n = loadWebhook('alertmanager-firing.json');
  return (await latestIncident(db, { source: n.source, receiver: n.receiver, groupKey: n.groupKey }))!.id;
}

/** The firing fixture with its first alert resolved (an update of the open incident). */
function oneResolved(): Notification {
  const n = loadWebhook('alertmanager-firing.json');
  const [first, ...rest] = n.alerts;
  return { ...n, alerts: [{ ...first!, status: 'resolved', endsAt: new Date('2026-11-21T08:58:00Z') }, ...rest] };
}

describe('buttons on alert messages', () => {
  it('gives a created alert message the three buttons, naming the incident it created', async () => {
    await process(loadWebhook('alertmanager-firing.json'));
    const [create, ...others] = outbox();
    // The incident's thread and its details post carry no buttons.
    expect(others.map((r) => [r.kind, r.body.components])).toEqual([
      ['thread', undefined],
      ['thread-post', undefined],
    ]);
    expect(create!.kind).toBe('create');
    const id = await incidentId();
    expect(create!.body.components).toEqual(alertButtons(id, 'firing'));
    const row = create!.body.components![0] as { components: APIButtonComponentWithCustomId[] };
    const buttons = row.components;
    expect(buttons.map((b) => parseCustomId(b.custom_id))).toEqual([
      { action: 'silence1h', ref: String(id) },
      { action: 'ack', ref: String(id) },
      { action: 'logs', ref: String(id) },
    ]);
    expect(validate(create!.body)).toEqual([]);
  });

  it('keeps the acknowledgement, and Unacknowledge in place of Acknowledge, on a later edit of a firing incident', async () => {
    await process(loadWebhook('alertmanager-firing.json'));
    const id = await incidentId();
    await acknowledge(db, id, { userId: ALICE, username: 'alice', at: new Date('2026-11-21T08:56:00Z') });
    await process(oneResolved());
    const edit = outbox().find((r) => r.kind === 'edit')!;
    expect(edit.body.components).toEqual(alertButtons(id, 'acknowledged'));
    expect(edit.body.embeds![0]!.description!.startsWith(`${ackLine({ userId: ALICE, at: new Date('2026-11-21T08:56:00Z') })}\n\n`)).toBe(true);
    expect(validate(edit.body)).toEqual([]);
  });

  it('leaves only Logs on the resolved edit, keeps the acknowledgement, and puts no buttons on the resolve note', async () => {
    await process(loadWebhook('alertmanager-firing.json'));
    const id = await incidentId();
    await acknowledge(db, id, { userId: ALICE, username: 'alice', at: new Date('2026-11-21T08:56:00Z') });
    await process(loadWebhook('alertmanager-resolved.json'));
    const rows = outbox();
    const edit = rows.find((r) => r.kind === 'edit')!;
    const reply = rows.filter((r) => r.kind === 'thread-post').at(-1)!;
    expect(reply.body.content).toMatch(/^✅ Resolved/);
    expect(edit.body.embeds![0]!.title).toMatch(/RESOLVED/);
    expect(edit.body.components).toEqual(alertButtons(id, 'resolved'));
    expect(edit.body.embeds![0]!.description).toContain(`Acknowledged by <@${ALICE}>`);
    expect(reply.body.components).toBeUndefined();
  });

  it('shows no acknowledgement on an edit when nobody acknowledged', async () => {
    await process(loadWebhook('alertmanager-firing.json'));
    await process(oneResolved());
    expect(outbox().find((r) => r.kind === 'edit')!.body.embeds![0]!.description).not.toContain('Acknowledged');
  });

  it('gives a group that arrives already resolved a message with only Logs', async () => {
    await process(loadWebhook('alertmanager-resolved.json'));
    const [create] = outbox();
    expect(create!.kind).toBe('create');
    expect(create!.body.components).toEqual(alertButtons(await incidentId(), 'resolved'));
  });
});

describe('Explore links in alert messages', () => {
  it('use the datasource uids from grafana config', async () => {
    const r = parseConfig(
      `webhook: { token: pipeline-test-token-0123456789 }
prometheus: { url: http://127.0.0.1:9 }
loki: { url: ${loki.url} }
grafana: { url: https://grafana.example, prometheusUid: prom-main, lokiUid: logs-main }
discord: { token: discord-token-abcdefghijklmnop, applicationId: "123456789012345678", alertChannelId: "223456789012345678" }
enrichment: { timeout: 1s }`,
      {},
    );
    if (!r.ok) throw new Error(r.errors.join('\n'));
    deps = { ...deps, config: r.config };
    await process(loadWebhook('alertmanager-firing.json'));
    const text = JSON.stringify(outbox()[0]!.body);
    const links = [...text.matchAll(/https:\/\/grafana\.example\/explore\?[^)\s"\\]+/g)].map((m) => new URL(m[0]));
    expect(links.length).toBeGreaterThan(0);
    const uids = links.flatMap((u) =>
      Object.values(JSON.parse(u.searchParams.get('panes') ?? '{}') as Record<string, { datasource?: string }>).map((p) => p.datasource),
    );
    expect(uids).toContain('logs-main');
    expect(uids.every((uid) => uid === 'prom-main' || uid === 'logs-main')).toBe(true);
  });
});

describe('one thread per incident, through the drainer to the Discord double', () => {
  const CHANNEL = '223456789012345678';
  let discord: DiscordDouble;
  let drainer: Drainer;

  beforeEach(async () => {
    discord = await startDiscordDouble({ channels: [CHANNEL] });
    const rest = createRest({ token: DOUBLE_TOKEN, apiBaseUrl: discord.apiBaseUrl, timeoutMs: 2000 });
    drainer = createDrainer({ db, rest, logger: createLogger({ level: 'silent' }), minBackoffMs: 10, maxBackoffMs: 100, pollIntervalMs: 60_000 });
  });
  afterEach(async () => {
    await drainer.stop();
    await discord.stop();
  });

  function withThreads(enabled: boolean): void {
    deps = { ...deps, config: { ...deps.config, discord: { ...deps.config.discord, threads: enabled } } };
  }

  async function deliver(n: Notification): Promise<void> {
    await process(n);
    await drainer.drainOnce();
    expect(await pendingCount(db)).toBe(0);
  }

  const inChannel = () => [...discord.messages.values()].filter((m) => m.channel_id === CHANNEL);
  const inThread = (id: string) => [...discord.messages.values()].filter((m) => m.channel_id === id);
  const operations = () => discord.requests.map((r) => r.operationId);

  it('starts a thread on the alert message with the details, posts the resolve note there and archives it', async () => {
    await deliver(loadWebhook('alertmanager-firing.json'));
    const [alert, ...others] = inChannel();
    expect(others).toEqual([]);
    const thread = discord.threads.get(alert!.id)!;
    expect(thread).toMatchObject({ parent_id: CHANNEL, name: 'HostHighCpuLoad', thread_metadata: { archived: false, auto_archive_duration: 1440 } });
    const [details] = inThread(alert!.id);
    const fired = loadWebhook('alertmanager-firing.json').alerts;
    expect(details!.embeds.map((e) => e.title)).toEqual(fired.map((a) => `🔎 HostHighCpuLoad on ${a.labels.instance}`));
    // Prometheus is down here (port 9): the details say so rather than staying silent.
    expect(JSON.stringify(details!.embeds)).toMatch(/unavailable/);
    expect(operations()).toEqual(['create_message', 'create_thread_from_message', 'create_message']);

    await deliver(loadWebhook('alertmanager-resolved.json'));
    expect(inChannel().map((m) => m.id)).toEqual([alert!.id]);
    expect(discord.messages.get(alert!.id)!.embeds[0]!.title).toMatch(/RESOLVED/);
    const note = inThread(alert!.id).at(-1)!;
    expect(note.content).toMatch(/^✅ Resolved: HostHighCpuLoad ×2 after /);
    expect(discord.threads.get(alert!.id)!.thread_metadata).toMatchObject({ archived: true });
    expect(operations().slice(3)).toEqual(['update_message', 'create_message', 'update_channel']);
    expect(discord.invalid).toEqual([]);
  });

  it('posts "Now firing" into the thread when a new alert joins the incident', async () => {
    const full = loadWebhook('alertmanager-firing.json');
    await deliver({ ...full, alerts: full.alerts.slice(0, 1) });
    const [alert] = inChannel();
    // Past the note interval after the alert message: the note goes at once.
    deps = { ...deps, now: () => new Date(NOW.getTime() + NOTE_INTERVAL_MS) };
    await deliver(full);
    expect(inChannel()).toHaveLength(1);
    expect(inThread(alert!.id).at(-1)!.content).toMatch(/^🔥 Now firing: HostHighCpuLoad/);
    expect(discord.invalid).toEqual([]);
  });

  it('gathers alerts that start firing within seconds of the last note into one note', async () => {
    const full = loadWebhook('alertmanager-firing.json');
    const [a, b] = full.alerts;
    const third = { ...b!, fingerprint: 'third-alert', labels: { ...b!.labels, instance: 'third-host:9100' } };
    await deliver({ ...full, alerts: [a!] });
    const [alert] = inChannel();
    const at = (ms: number) => (deps = { ...deps, now: () => new Date(NOW.getTime() + ms) });
    at(1000);
    await deliver({ ...full, alerts: [a!, b!] });
    at(2000);
    await deliver({ ...full, alerts: [a!, b!, third] });
    // Two updates, no note yet: the alert message was just posted.
    expect(inThread(alert!.id).filter((m) => m.content.startsWith('🔥'))).toEqual([]);
    at(4999);
    expect(await flushAnnouncements({ db, config: deps.config, logger: deps.logger, now: deps.now() })).toBe(0);
    at(NOTE_INTERVAL_MS);
    expect(await flushAnnouncements({ db, config: deps.config, logger: deps.logger, now: deps.now() })).toBe(1);
    await drainer.drainOnce();
    const notes = inThread(alert!.id).filter((m) => m.content.startsWith('🔥'));
    expect(notes).toHaveLength(1);
    expect(notes[0]!.content).toContain(b!.labels.instance!);
    expect(notes[0]!.content).toContain('third-host:9100');
    // Told: nothing left for the next flush.
    at(3 * NOTE_INTERVAL_MS);
    expect(await flushAnnouncements({ db, config: deps.config, logger: deps.logger, now: deps.now() })).toBe(0);
  });

  it('tells the alerts still waiting together with the new ones when the next update comes after the interval', async () => {
    const full = loadWebhook('alertmanager-firing.json');
    const [a, b] = full.alerts;
    const third = { ...b!, fingerprint: 'third-alert', labels: { ...b!.labels, instance: 'third-host:9100' } };
    await deliver({ ...full, alerts: [a!] });
    const [alert] = inChannel();
    deps = { ...deps, now: () => new Date(NOW.getTime() + 1000) };
    await deliver({ ...full, alerts: [a!, b!] });
    deps = { ...deps, now: () => new Date(NOW.getTime() + NOTE_INTERVAL_MS) };
    await deliver({ ...full, alerts: [a!, b!, third] });
    const notes = inThread(alert!.id).filter((m) => m.content.startsWith('🔥'));
    expect(notes).toHaveLength(1);
    expect(notes[0]!.content).toContain(b!.labels.instance!);
    expect(notes[0]!.content).toContain('third-host:9100');
    expect(await flushAnnouncements({ db, config: deps.config, logger: deps.logger, now: new Date(NOW.getTime() + 4 * NOTE_INTERVAL_MS) })).toBe(0);
  });

  it('with discord.threads false, starts no thread and replies to the alert message in the channel', async () => {
    withThreads(false);
    await deliver(loadWebhook('alertmanager-firing.json'));
    await deliver(loadWebhook('alertmanager-resolved.json'));
    const [alert, reply, ...others] = inChannel();
    expect(others).toEqual([]);
    expect(reply).toMatchObject({ content: expect.stringMatching(/^✅ Resolved/), message_reference: { message_id: alert!.id } });
    expect(discord.threads.size).toBe(0);
    expect(operations()).toEqual(['create_message', 'update_message', 'create_message']);
    expect(discord.invalid).toEqual([]);
  });
});

describe('routes changed while an incident is open', () => {
  const DB_CHANNEL = '323456789012345678';
  const routes = () =>
    testConfig({ routes: [{ name: 'db', matchers: ['alertname=~".+"'], channelId: DB_CHANNEL, mentions: { roles: ['444444444444444444'] } }] }).routes;
  /** What intake does once the routes are added (a restart with a new config). */
  const routed = async (n: Notification) => {
    deps = { ...deps, config: { ...deps.config, routes: routes() } };
    return splitByRoute(n, deps.config.routes, await stuckAlerts(db, n, deps.config.routes));
  };
  const rows = () =>
    db.sqlite.prepare(`SELECT kind, channel_id, body FROM outbox ORDER BY id`).all() as Array<{ kind: string; channel_id: string; body: string }>;

  it('keeps the incident where it was posted until it resolves, instead of opening it again on its new route', async () => {
    const firing = loadWebhook('alertmanager-firing.json');
    await process(firing);
    const first = (await latestIncident(db, firing))!;
    const parts = await routed(loadWebhook('alertmanager-resolved.json'));
    // Its alerts stay with it: no route, the alert channel.
    expect(parts.map((p) => [p.route, p.channelId])).toEqual([[undefined, undefined]]);
    await process(parts[0]!);
    expect(rows().filter((r) => r.kind === 'create')).toHaveLength(1);
    expect(new Set(rows().map((r) => r.channel_id))).toEqual(new Set(['223456789012345678']));
    expect(await latestIncident(db, firing)).toMatchObject({ id: first.id, status: 'resolved' });
    expect(await latestIncident(db, { ...firing, route: 'db' })).toBeUndefined();
  });

  it('sends alerts the old incident never held to their new route, where they open an incident that pages', async () => {
    const firing = loadWebhook('alertmanager-firing.json');
    await process(firing);
    const added = { ...firing.alerts[0]!, fingerprint: 'brand-new-alert' };
    const parts = await routed({ ...firing, alerts: [...firing.alerts, added] });
    expect(parts.map((p) => [p.route ?? null, p.alerts.map((a) => a.fingerprint).includes('brand-new-alert')])).toEqual([
      ['db', true],
      [null, false],
    ]);
    // The part that stays is unchanged since the first notification: a duplicate at intake, nothing to process.
    expect((await insertNotification(db, parts[1]!, NOW)).duplicate).toBe(true);
    await process(parts[0]!);
    expect(await latestIncident(db, { ...firing, route: 'db' })).toMatchObject({ status: 'firing', route: 'db' });
    const created = rows().filter((r) => r.kind === 'create');
    expect(created.map((r) => r.channel_id)).toEqual(['223456789012345678', DB_CHANNEL]);
    expect((JSON.parse(created[1]!.body) as { content?: string }).content).toBe('🔔 <@&444444444444444444>');
  });
});

describe('the language of a route', () => {
  const KO_CHANNEL = '323456789012345678';
  const words = (body: RESTPostAPIChannelMessageJSONBody) => JSON.stringify([body.content, body.embeds, body.components]);

  beforeEach(() => {
    const config = testConfig({
      discord: { ...deps.config.discord, threads: false },
      routes: [{ name: 'db', matchers: ['alertname="HostHighCpuLoad"'], channelId: KO_CHANNEL, locale: 'ko' }],
    });
    deps = { ...deps, config: { ...deps.config, routes: config.routes, discord: config.discord } };
  });

  it('posts, edits and resolves a ko route’s incident in Korean, and the rest in the default English', async () => {
    const firing = loadWebhook('alertmanager-firing.json');
    const parts = splitByRoute(firing, deps.config.routes, await stuckAlerts(db, firing, deps.config.routes));
    expect(parts.map((p) => p.route ?? null)).toEqual(['db']);
    await process(parts[0]!);
    const other = {
      ...firing,
      groupKey: 'other',
      commonLabels: { alertname: 'Other' },
      groupLabels: {},
      alerts: firing.alerts.map((a) => ({ ...a, labels: { ...a.labels, alertname: 'Other' } })),
    };
    await process(splitByRoute(other, deps.config.routes, new Map())[0]!);
    const [ko, en] = outbox().filter((r) => r.kind === 'create');
    expect(ko!.body.embeds![0]!.title).toMatch(/^🔥 발생: HostHighCpuLoad/);
    expect(ko!.body.embeds![0]!.fields!.map((f) => f.name)).toContain('공통 레이블');
    const labels = (ko!.body.components![0] as { components: APIButtonComponentWithCustomId[] }).components.map((b) => b.label);
    expect(labels).toEqual(['1시간 사일런스', '확인', '로그']);
    expect(en!.body.embeds![0]!.title).toMatch(/^🔥 FIRING: Other/);
    expect(words(en!.body)).not.toMatch(/[\uac00-\ud7a3]/);

    const resolved = loadWebhook('alertmanager-resolved.json');
    await process(splitByRoute(resolved, deps.config.routes, await stuckAlerts(db, resolved, deps.config.routes))[0]!);
    const after = outbox();
    const edit = after.find((r) => r.kind === 'edit')!;
    expect(edit.body.embeds![0]!.title).toMatch(/^✅ 해결: /);
    expect(edit.body.embeds![0]!.description).toMatch(/만에 해결됨/);
    const reply = after.find((r) => r.kind === 'reply')!;
    expect(reply.body.content).toMatch(/^✅ 해결: HostHighCpuLoad.* \(\d+(초|분|시간|일)/);
    for (const r of after) expect(validate(r.body), r.kind).toEqual([]);
  });
});
