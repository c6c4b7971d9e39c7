import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIEmbed } from 'discord-api-types/v10';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ackButton } from '../../src/commands/buttons/ack.js';
import { unackButton } from '../../src/commands/buttons/unack.js';
import { incidentLogWindow, logsButton } from '../../src/commands/buttons/logs.js';
import { createRouter, customId } from '../../src/commands/router.js';
import type { CommandDeps, ReplyPayload } from '../../src/commands/types.js';
import type { Config } from '../../src/config/schema.js';
import { toNanos } from '../../src/queries/loki.js';
import { ackLine, renderAlertMessage, withAcknowledgement } from '../../src/render/alert.js';
import { alertButtons } from '../../src/render/buttons.js';
import { getAck } from '../../src/store/acks.js';
import { endEscalation, getEscalation, scheduleEscalation } from '../../src/store/escalations.js';
import { openDatabase, type SqliteDatabase } from '../../src/store/db.js';
import { createIncident, type IncidentAlertState } from '../../src/store/incidents.js';
import { enqueue, get } from '../../src/store/outbox.js';
import { enrichment, loadWebhook, recorder } from '../render/helpers.js';
import { recordingComponent, testUser, type RecordedCall } from '../support/contexts.js';
import { testCommandDeps, testConfig } from '../support/deps.js';
import { specSchemaErrors } from '../support/discord-double.js';
import { loadLokiFixture, startLokiDouble, type LokiDoubleHandle } from '../support/loki-double.js';

const ROLE = '555555555555555555';
const ALICE = testUser([ROLE], '111111111111111111');
const BOB = { ...testUser([ROLE], '222222222222222222'), username: 'bob' };
const ERROR_FILTER = '(?i)(error|exception|fatal|panic|critical|fail)';

function config(lokiUrl: string, sections: Record<string, unknown> = {}): Config {
  return testConfig({ loki: { url: lokiUrl }, ...sections });
}

/** The recorded lines of a container that match the error-like filter, newest first. */
function recordedErrors(container: string): string[] {
  const json = loadLokiFixture('query_range-streams-all-forward.json').response.json as {
    data: { result: Array<{ stream: Record<string, string>; values: [string, string][] }> };
  };
  return json.data.result
    .filter((s) => s.stream.container_name === container)
    .flatMap((s) => s.values)
    .filter(([, line]) => /error|exception|fatal|panic|critical|fail/i.test(line))
    .sort(([a], [b]) => (BigInt(a) > BigInt(b) ? -1 : 1))
    .map(([, line]) => line);
}

/** The embeds of the real Alertmanager fixture as Vigil posted them. */
function postedEmbeds(now: Date): APIEmbed[] {
  const n = loadWebhook('alertmanager-firing.json');
  const enrichments = Object.fromEntries(n.alerts.map((a) => [a.fingerprint, enrichment(a, now)]));
  return renderAlertMessage({ enriched: { notification: n, enrichments }, state: 'firing', incidentStartedAt: n.alerts[0]!.startsAt, now }, recorder().warn)
    .embeds!;
}

let loki: LokiDoubleHandle;
let dir: string;
let db: SqliteDatabase;
let deps: CommandDeps;
let now: Date;

beforeAll(async () => {
  loki = await startLokiDouble();
});
afterAll(async () => {
  await loki?.stop();
});
beforeEach(async () => {
  await loki.setMode('normal');
  loki.requests.length = 0;
  dir = mkdtempSync(join(tmpdir(), 'vigil-buttons-'));
  db = openDatabase(join(dir, 'vigil.db'));
  now = new Date();
  deps = testCommandDeps(config(loki.url), { db, timeoutMs: 2000, now: () => now });
});
afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

function alertState(labels: Record<string, string>, startsAt: Date, over: Partial<IncidentAlertState> = {}): IncidentAlertState {
  return { status: 'firing', startsAt: startsAt.toISOString(), labels, ...over };
}

function incident(
  alerts: Record<string, IncidentAlertState>,
  over: { status?: 'firing' | 'resolved'; resolvedAt?: Date; route?: string } = {},
): Promise<number> {
  const starts = Object.values(alerts).map((a) => Date.parse(a.startsAt));
  return createIncident(
    db,
    {
      source: 'alertmanager',
      receiver: 'vigil',
      groupKey: '{}:{alertname="ApiErrors"}',
      status: over.status ?? 'firing',
      alerts,
      startedAt: new Date(Math.min(...starts)),
      ...(over.resolvedAt ? { resolvedAt: over.resolvedAt } : {}),
      ...(over.route ? { route: over.route } : {}),
    },
    now,
  );
}

const apiAlert = () => ({
  fp1: alertState({ alertname: 'ApiErrors', container: 'api', instance: 'app-1:8080', job: 'api' }, new Date(now.getTime() - 60_000)),
});

async function press(action: string, ref: string | number, opts: { user?: typeof ALICE; embeds?: APIEmbed[] } = {}) {
  const ctx = recordingComponent(customId(action, ref), { user: opts.user ?? ALICE, embeds: opts.embeds ?? postedEmbeds(now) });
  await createRouter([], [ackButton, unackButton, logsButton], deps).handleComponent(ctx);
  return ctx;
}

function payloadOf(call: RecordedCall | undefined): ReplyPayload {
  if (!call || !('payload' in call)) throw new Error(`expected a call with a payload, got ${JSON.stringify(call)}`);
  return call.payload;
}

describe('the Acknowledge button', () => {
  it('records who and when, and edits the message for everyone: ack line on top, buttons kept', async () => {
    const id = await incident(apiAlert());
    const embeds = postedEmbeds(now);
    const ctx = await press('ack', id, { embeds });
    expect(ctx.calls).toHaveLength(1);
    expect(ctx.calls[0]!.kind).toBe('updateMessage');
    const payload = payloadOf(ctx.calls[0]);
    const line = ackLine({ userId: ALICE.id, at: now });
    expect(payload.embeds![0]!.description).toBe(`${line}\n\n${embeds[0]!.description}`);
    expect(payload.embeds![0]!.title).toBe(embeds[0]!.title);
    expect(payload.embeds![0]!.fields).toEqual(embeds[0]!.fields);
    // Acknowledge gives way to Unacknowledge.
    expect(payload.components).toEqual(alertButtons(id, 'acknowledged'));
    expect(await getAck(db, id)).toMatchObject({ userId: ALICE.id, username: ALICE.username, at: now });
    expect(specSchemaErrors('MessageEditRequestPartial', payload)).toEqual([]);
  });

  it('puts the acknowledgement on the edits still waiting for the message (held during a storm), not on sent ones', async () => {
    const id = await incident(apiAlert());
    const create = await enqueue(db, { orderKey: `incident:${id}`, kind: 'create', channelId: '223456789012345678', body: { content: 'alert' } });
    db.sqlite.prepare('UPDATE incidents SET create_outbox_id = ? WHERE id = ?').run(create, id);
    const embeds = postedEmbeds(now);
    const edit = (due: number) =>
      enqueue(db, { orderKey: `incident:${id}`, kind: 'edit', channelId: '223456789012345678', body: { embeds }, targetId: create, dueAt: due }, now.getTime());
    const sent = await edit(now.getTime());
    db.sqlite.prepare(`UPDATE outbox SET status = 'sent' WHERE id = ?`).run(sent);
    const held = await edit(now.getTime() + 15_000);
    await press('ack', id, { embeds });
    const line = ackLine({ userId: ALICE.id, at: now });
    expect(((await get(db, held))!.body as { embeds: APIEmbed[] }).embeds[0]!.description).toBe(`${line}\n\n${embeds[0]!.description}`);
    expect(((await get(db, sent))!.body as { embeds: APIEmbed[] }).embeds[0]!.description).toBe(embeds[0]!.description);
  });

  it('keeps the first acknowledgement and tells a later presser who has it, only them', async () => {
    const id = await incident(apiAlert());
    await press('ack', id);
    const second = await press('ack', id, { user: BOB });
    expect(second.calls).toHaveLength(1);
    expect(second.calls[0]).toMatchObject({ kind: 'reply', ephemeral: true });
    expect(payloadOf(second.calls[0]).content).toBe(`👀 Already acknowledged by **${ALICE.username}** <t:${Math.floor(now.getTime() / 1000)}:R>.`);
    expect((await getAck(db, id))?.userId).toBe(ALICE.id);
  });

  it('tells the first presser they already have it', async () => {
    const id = await incident(apiAlert());
    await press('ack', id);
    const again = await press('ack', id);
    expect(payloadOf(again.calls[0]).content).toMatch(/^👀 Already acknowledged by you /);
  });

  it('does not acknowledge a resolved incident', async () => {
    const id = await incident(apiAlert(), { status: 'resolved', resolvedAt: now });
    const ctx = await press('ack', id);
    expect(ctx.calls).toEqual([{ kind: 'reply', payload: { content: expect.stringMatching(/already resolved/) }, ephemeral: true }]);
    expect(await getAck(db, id)).toBeUndefined();
  });

  it('answers ephemerally for an incident the store does not hold', async () => {
    const ctx = await press('ack', 999);
    expect(ctx.calls).toEqual([{ kind: 'reply', payload: { content: expect.stringMatching(/no longer in Vigil's store/) }, ephemeral: true }]);
  });

  it('keeps a message whose embeds the transport did not give, and says it beside it', async () => {
    const id = await incident(apiAlert());
    const ctx = await press('ack', id, { embeds: [] });
    expect(ctx.calls.map((c) => c.kind)).toEqual(['updateMessage', 'followUp']);
    expect(payloadOf(ctx.calls[0])).toEqual({ components: alertButtons(id, 'acknowledged') });
    expect(payloadOf(ctx.calls[1]).content).toMatch(/^👀 Acknowledged by \*\*oncall\*\* <t:\d+:R>$/);
  });

  it.each([
    { threads: true, posts: ['thread-post'] },
    { threads: false, posts: [] },
  ])('announces the acknowledgement in the incident thread through the outbox (threads: $threads)', async ({ threads, posts }) => {
    const base = config(loki.url);
    deps = { ...deps, config: { ...base, discord: { ...base.discord, threads } } };
    const id = await incident(apiAlert());
    const create = await enqueue(db, { orderKey: `incident:${id}`, kind: 'create', channelId: '223456789012345678', body: { content: 'alert' } });
    db.sqlite.prepare('UPDATE incidents SET create_outbox_id = ? WHERE id = ?').run(create, id);
    const ctx = await press('ack', id);
    expect(ctx.calls.map((c) => c.kind)).toEqual(['updateMessage']);
    const rows = db.sqlite.prepare(`SELECT id FROM outbox WHERE kind != 'create'`).pluck().all() as number[];
    expect((await Promise.all(rows.map((r) => get(db, r)))).map((row) => row!.kind)).toEqual(posts);
    if (threads) {
      expect(await get(db, rows[0]!)).toMatchObject({ targetId: create, orderKey: `incident:${id}`, channelId: '223456789012345678', status: 'pending' });
      expect((await get(db, rows[0]!))!.body).toEqual({
        content: `👀 Acknowledged by **${ALICE.username}** <t:${Math.floor(now.getTime() / 1000)}:R>`,
        allowed_mentions: { parse: [] },
      });
    }
  });

  it('is refused to a user without the role the config asks for "ack"', async () => {
    deps = { ...deps, config: config(loki.url, { commands: { permissions: { ack: [ROLE] } } }) };
    const id = await incident(apiAlert());
    const ctx = await press('ack', id, { user: testUser([]) });
    expect(ctx.calls[0]).toMatchObject({ kind: 'reply', ephemeral: true });
    expect(payloadOf(ctx.calls[0]).content).toMatch(/not allowed/);
    expect(await getAck(db, id)).toBeUndefined();
  });
});

describe('the Unacknowledge button', () => {
  it('gives the incident back: the ack line goes, Acknowledge comes back, anyone may take it again', async () => {
    const id = await incident(apiAlert());
    const embeds = postedEmbeds(now);
    const acked = payloadOf((await press('ack', id, { embeds })).calls[0]);
    const ctx = await press('unack', id, { user: BOB, embeds: acked.embeds! });
    expect(ctx.calls.map((c) => c.kind)).toEqual(['updateMessage']);
    const payload = payloadOf(ctx.calls[0]);
    expect(payload.embeds![0]!.description).toBe(embeds[0]!.description);
    expect(payload.components).toEqual(alertButtons(id, 'firing'));
    expect(specSchemaErrors('MessageEditRequestPartial', payload)).toEqual([]);
    expect(await getAck(db, id)).toBeUndefined();
    await press('ack', id, { user: BOB });
    expect((await getAck(db, id))?.userId).toBe(BOB.id);
  });

  it('is refused to a user without the roles "ack" asks for, when "unack" has none of its own', async () => {
    deps = { ...deps, config: config(loki.url, { commands: { permissions: { ack: [ROLE] } } }) };
    const id = await incident(apiAlert());
    await press('ack', id);
    const ctx = await press('unack', id, { user: testUser([]) });
    expect(ctx.calls[0]).toMatchObject({ kind: 'reply', ephemeral: true });
    expect(payloadOf(ctx.calls[0]).content).toMatch(/not allowed/);
    expect((await getAck(db, id))?.userId).toBe(ALICE.id);
  });

  it('says so, only to the presser, when nobody has the incident', async () => {
    const id = await incident(apiAlert());
    const ctx = await press('unack', id);
    expect(ctx.calls).toEqual([{ kind: 'reply', payload: { content: expect.stringMatching(/Nobody has acknowledged this alert/) }, ephemeral: true }]);
  });

  it('says who gave it back in the thread and takes up an escalation the acknowledgement stopped', async () => {
    deps = {
      ...deps,
      config: config(loki.url, { routes: [{ name: 'db', channelId: '223456789012345678', escalation: { after: '10m', roles: ['444444444444444444'] } }] }),
    };
    const id = await incident(apiAlert(), { route: 'db' });
    const create = await enqueue(db, { orderKey: `incident:${id}`, kind: 'create', channelId: '223456789012345678', body: { content: 'alert' } });
    db.sqlite.prepare('UPDATE incidents SET create_outbox_id = ? WHERE id = ?').run(create, id);
    await scheduleEscalation(db, id, 'db', now);
    await press('ack', id);
    await endEscalation(db, id, 'acknowledged');
    await press('unack', id, { user: BOB });
    expect(await getEscalation(db, id)).toEqual({ incidentId: id, route: 'db', step: 0, dueAt: new Date(now.getTime() + 600_000) });
    const posts = db.sqlite.prepare(`SELECT id FROM outbox WHERE kind = 'thread-post' ORDER BY id`).pluck().all() as number[];
    expect((await get(db, posts.at(-1)!))!.body).toEqual({
      content: '↩️ **bob** gave the incident back: nobody has it now; escalation takes up again',
      allowed_mentions: { parse: [] },
    });
  });
});

describe('the Logs button', () => {
  it("answers only the presser with the alert's own error-like lines over the incident window", async () => {
    const alerts = apiAlert();
    const id = await incident(alerts);
    const ctx = await press('logs', id);
    expect(ctx.calls.map((c) => c.kind)).toEqual(['deferUpdate', 'followUp']);
    expect(ctx.calls[1]).toMatchObject({ ephemeral: true });
    const embed = payloadOf(ctx.calls[1]).embeds![0]!;
    const lines = embed
      .description!.split('\n\n')[1]!
      .split('\n')
      .map((l) => /`([^`]*)`$/.exec(l)?.[1]);
    expect(lines).toEqual(recordedErrors('api'));
    expect(embed.title).toBe('📜 Logs · ApiErrors');
    const [q, ...more] = loki.requests.filter((r) => r.path === '/loki/api/v1/query_range').map((r) => r.query);
    expect(more).toEqual([]);
    expect(q!.query).toBe(`{container_name="api"} |~ "${ERROR_FILTER}"`);
    expect(q!.direction).toBe('backward');
    expect(q!.start).toBe(toNanos(new Date(Date.parse(alerts.fp1.startsAt) - 5 * 60_000)));
    expect(q!.end).toBe(toNanos(now));
  });

  it('ends the window at the resolution of a resolved incident', async () => {
    const startsAt = new Date(now.getTime() - 20 * 60_000);
    const endsAt = new Date(now.getTime() - 10 * 60_000);
    const id = await incident(
      { fp1: alertState({ alertname: 'ApiErrors', container: 'api' }, startsAt, { status: 'resolved', endsAt: endsAt.toISOString() }) },
      { status: 'resolved', resolvedAt: endsAt },
    );
    await press('logs', id);
    const q = loki.requests.find((r) => r.path === '/loki/api/v1/query_range')!.query;
    expect([q.start, q.end]).toEqual([toNanos(new Date(startsAt.getTime() - 5 * 60_000)), toNanos(endsAt)]);
  });

  it('queries each distinct selector of an alert group once and merges the lines newest first', async () => {
    const start = new Date(now.getTime() - 60_000);
    const id = await incident({
      a: alertState({ alertname: 'Errors', container: 'api' }, start),
      b: alertState({ alertname: 'Errors', container: 'mysql' }, start),
      c: alertState({ alertname: 'Errors', container: 'api', instance: 'other:1' }, start),
    });
    const ctx = await press('logs', id);
    const queries = loki.requests
      .filter((r) => r.path === '/loki/api/v1/query_range')
      .map((r) => r.query.query)
      .sort();
    expect(queries).toEqual([`{container_name="api"} |~ "${ERROR_FILTER}"`, `{container_name="mysql"} |~ "${ERROR_FILTER}"`]);
    const body = payloadOf(ctx.calls[1]).embeds![0]!.description!.split('\n\n')[1]!.split('\n');
    expect(body[0]).toContain('**mysql**');
    expect(body).toHaveLength(recordedErrors('api').length + recordedErrors('mysql').length);
  });

  it("shows Loki's error when Loki is down", async () => {
    await loki.setMode('down');
    const ctx = await press('logs', await incident(apiAlert()));
    expect(ctx.calls[1]).toMatchObject({ kind: 'followUp', ephemeral: true });
    expect(payloadOf(ctx.calls[1]).embeds![0]!.description).toMatch(/Loki could not answer: Loki unreachable/);
  });

  it('says why when no alert label selects logs, without asking Loki', async () => {
    const id = await incident({ fp1: alertState({ alertname: 'Lonely', severity: 'page' }, now) });
    const ctx = await press('logs', id);
    expect(ctx.calls).toEqual([{ kind: 'reply', payload: { content: expect.stringMatching(/^No label of this alert selects its logs/) }, ephemeral: true }]);
    expect(loki.requests).toEqual([]);
  });

  it('answers ephemerally for an incident the store does not hold', async () => {
    const ctx = await press('logs', 4242);
    expect(ctx.calls[0]).toMatchObject({ kind: 'reply', ephemeral: true });
    expect(loki.requests).toEqual([]);
  });
});

describe('incidentLogWindow', () => {
  const base = { id: 1, source: 'alertmanager' as const, receiver: 'r', groupKey: 'g', startedAt: new Date('2026-11-21T09:00:00Z') };
  const NOW = new Date('2026-11-21T10:00:00Z');
  it.each([
    [
      'a firing incident: from the earliest start minus logWindow to now',
      {
        status: 'firing' as const,
        alerts: { a: { status: 'firing' as const, startsAt: '2026-11-21T09:10:00Z' }, b: { status: 'firing' as const, startsAt: '2026-11-21T09:05:00Z' } },
      },
      ['2026-11-21T09:00:00.000Z', '2026-11-21T10:00:00.000Z'],
    ],
    [
      'a resolved incident: to its resolution',
      {
        status: 'resolved' as const,
        resolvedAt: new Date('2026-11-21T09:30:00Z'),
        alerts: { a: { status: 'resolved' as const, startsAt: '2026-11-21T09:10:00Z', endsAt: '2026-11-21T09:30:00Z' } },
      },
      ['2026-11-21T09:05:00.000Z', '2026-11-21T09:30:00.000Z'],
    ],
    [
      'a start in the future: anchored at now',
      { status: 'firing' as const, alerts: { a: { status: 'firing' as const, startsAt: '2026-11-21T11:00:00Z' } } },
      ['2026-11-21T09:55:00.000Z', '2026-11-21T10:00:00.000Z'],
    ],
  ])('%s', (_name, over, [start, end]) => {
    const w = incidentLogWindow({ ...base, ...over }, 5 * 60_000, NOW);
    expect([w.start.toISOString(), w.end.toISOString()]).toEqual([start, end]);
  });
});

describe('the languages of the buttons: the presser is answered in theirs, the alert message and its thread stay in the route’s', () => {
  const KO_USER = { ...ALICE, locale: 'ko' };
  const EN_USER = { ...BOB, locale: 'en-US' };
  const unix = () => Math.floor(now.getTime() / 1000);

  /** An incident on route `db`, whose messages are in `locale`, posted through the outbox (its thread posts go there too). */
  async function routed(locale: 'en' | 'ko'): Promise<number> {
    deps = { ...deps, config: config(loki.url, { routes: [{ name: 'db', channelId: '223456789012345678', locale }] }) };
    const id = await incident(apiAlert(), { route: 'db' });
    const create = await enqueue(db, { orderKey: `incident:${id}`, kind: 'create', channelId: '223456789012345678', body: { content: 'alert' } });
    db.sqlite.prepare('UPDATE incidents SET create_outbox_id = ? WHERE id = ?').run(create, id);
    return id;
  }

  async function threadPosts(): Promise<unknown[]> {
    const rows = await Promise.all(
      (db.sqlite.prepare(`SELECT id FROM outbox WHERE kind = 'thread-post' ORDER BY id`).pluck().all() as number[]).map((r) => get(db, r)),
    );
    return rows.map((row) => row!.body);
  }

  it('Acknowledge: an English presser edits a Korean alert in Korean, and is told in English who has it', async () => {
    const id = await routed('ko');
    const embeds = postedEmbeds(now);
    const ctx = await press('ack', id, { user: EN_USER, embeds });
    const payload = payloadOf(ctx.calls[0]);
    expect(payload.embeds).toEqual(withAcknowledgement(embeds, { userId: BOB.id, at: now }, recorder().warn, 'ko'));
    expect(payload.components).toEqual(alertButtons(id, 'acknowledged', 'alertmanager', 'ko'));
    expect(payload.embeds![0]!.description).toMatch(/[\uac00-\ud7a3]/);
    expect(await threadPosts()).toEqual([{ content: `👀 **bob** 님이 <t:${unix()}:R>에 확인했습니다`, allowed_mentions: { parse: [] } }]);
    const later = await press('ack', id, { user: { ...KO_USER } });
    expect(payloadOf(later.calls[0]).content).toBe(`👀 **bob** 님이 이미 <t:${unix()}:R>에 확인했습니다.`);
    const mine = await press('ack', id, { user: EN_USER });
    expect(payloadOf(mine.calls[0]).content).toBe(`👀 Already acknowledged by you <t:${unix()}:R>.`);
  });

  it('Acknowledge: a Korean presser edits an English alert in English, and is answered in Korean', async () => {
    const id = await routed('en');
    const embeds = postedEmbeds(now);
    const ctx = await press('ack', id, { user: KO_USER, embeds });
    const payload = payloadOf(ctx.calls[0]);
    expect(payload.embeds![0]!.description).toBe(`${ackLine({ userId: ALICE.id, at: now })}\n\n${embeds[0]!.description}`);
    expect(payload.components).toEqual(alertButtons(id, 'acknowledged'));
    expect(await threadPosts()).toEqual([{ content: `👀 Acknowledged by **oncall** <t:${unix()}:R>`, allowed_mentions: { parse: [] } }]);
    expect(payloadOf((await press('ack', id, { user: KO_USER })).calls[0]).content).toBe(`👀 이미 <t:${unix()}:R>에 직접 확인했습니다.`);
    const resolved = await incident(apiAlert(), { status: 'resolved', resolvedAt: now });
    expect(payloadOf((await press('ack', resolved, { user: KO_USER })).calls[0]).content).toBe('✅ 이미 해결된 알림입니다: 확인할 것이 없습니다.');
    expect(payloadOf((await press('ack', 999, { user: KO_USER })).calls[0]).content).toBe('이 알림은 더 이상 Vigil 저장소에 없어 확인할 수 없습니다.');
  });

  it('Unacknowledge: the thread hears it in the route’s language, the presser in theirs', async () => {
    const id = await routed('ko');
    expect(payloadOf((await press('unack', id, { user: EN_USER })).calls[0]).content).toBe(
      '👀 Nobody has acknowledged this alert: there is nothing to give back.',
    );
    expect(payloadOf((await press('unack', id, { user: KO_USER })).calls[0]).content).toBe('👀 아무도 이 알림을 확인하지 않았습니다: 반납할 것이 없습니다.');
    const acked = payloadOf((await press('ack', id, { user: KO_USER })).calls[0]);
    const ctx = await press('unack', id, { user: EN_USER, embeds: acked.embeds! });
    const payload = payloadOf(ctx.calls[0]);
    expect(payload.embeds![0]!.description).toBe(postedEmbeds(now)[0]!.description);
    expect(payload.components).toEqual(alertButtons(id, 'firing', 'alertmanager', 'ko'));
    expect((await threadPosts()).at(-1)).toEqual({
      content: '↩️ **bob** 님이 인시던트를 반납했습니다: 지금 담당자가 없습니다',
      allowed_mentions: { parse: [] },
    });
  });

  it('Logs: answers the presser in their language, whatever the route', async () => {
    const id = await routed('en');
    const ctx = await press('logs', id, { user: KO_USER });
    const embed = payloadOf(ctx.calls[1]).embeds![0]!;
    expect(embed.title).toBe('📜 로그 · ApiErrors');
    expect(embed.description!.split('\n')[0]).toMatch(/^오류성 로그 · <t:\d+:f> – <t:\d+:t> · 최신순$/);
    expect(embed.footer!.text.split('\n')[0]).toMatch(/^일치하는 로그 \d+줄/);
    const lonely = await incident({ fp1: alertState({ alertname: 'Lonely', severity: 'page' }, now) });
    expect(payloadOf((await press('logs', lonely, { user: KO_USER })).calls[0]).content).toMatch(/^이 알림의 레이블 중 로그를 고르는 것이 없습니다 \(/);
    expect(payloadOf((await press('logs', 4242, { user: KO_USER })).calls[0]).content).toMatch(/^이 알림은 더 이상 Vigil 저장소에 없어/);
  });

  it('refuses in the presser’s language', async () => {
    deps = { ...deps, config: config(loki.url, { commands: { permissions: { ack: [ROLE] } } }) };
    const id = await incident(apiAlert());
    const ctx = await press('ack', id, { user: { ...testUser([]), locale: 'ko' } });
    expect(payloadOf(ctx.calls[0]).content).toBe('⛔ 이 버튼을 쓸 권한이 없습니다: `commands.permissions`에 설정된 역할 중 하나가 필요합니다.');
    const unknown = await press('nope', id, { user: KO_USER });
    expect(payloadOf(unknown.calls[0]).content).toBe('이 Vigil이 처리하지 않는 버튼입니다 (오래된 메시지일 수 있습니다).');
  });
});
