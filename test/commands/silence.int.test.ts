import { translate } from '../../src/i18n/index.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { incidentMatchers, messageReference, silenceButton } from '../../src/commands/buttons/silence.js';
import { createRouter, customId } from '../../src/commands/router.js';
import { silenceCommand } from '../../src/commands/silence.js';
import { OptionError, type CommandDeps, type OptionValue } from '../../src/commands/types.js';
import { createAlertmanagerClient, type AlertmanagerClient, type Silence } from '../../src/queries/alertmanager.js';
import type { SilenceMatcher } from '../../src/config/matchers.js';
import { openDatabase, type Database } from '../../src/store/db.js';
import { createIncident, type IncidentAlertState } from '../../src/store/incidents.js';
import { messageValidator } from '../render/helpers.js';
import { recordingCommand, recordingComponent, testUser, type RecordedCall } from '../support/contexts.js';
import { testCommandDeps, testConfig } from '../support/deps.js';
import { specSchemaErrors } from '../support/discord-double.js';
import { freePort } from '../support/ports.js';
import { startAlertmanager, type AlertmanagerHandle } from '../support/procs.js';

const HOUR = 3_600_000;
const USER = testUser();
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** Handler deps with an Alertmanager when given, over `db` when given. */
function deps(amUrl?: string, db?: Database): CommandDeps {
  return testCommandDeps(testConfig(amUrl ? { alertmanager: { url: amUrl } } : {}), db ? { db } : {});
}

const eq = (name: string, value: string): SilenceMatcher => ({ name, value, isRegex: false, isEqual: true });
const re = (name: string, value: string): SilenceMatcher => ({ name, value, isRegex: true, isEqual: true });

/** Runs one /silence subcommand and returns the recording context. */
async function silence(d: CommandDeps, subcommand: string, options: Record<string, OptionValue> = {}) {
  const ctx = recordingCommand('silence', options, { subcommand });
  await silenceCommand.execute(ctx, d);
  return ctx;
}

/** The content of the one reply of a recorded run. */
function replyText(calls: RecordedCall[]): string {
  const replies = calls.filter((c) => c.kind === 'reply');
  expect(replies).toHaveLength(1);
  const r = replies[0]!;
  return 'payload' in r ? (r.payload.content ?? r.payload.embeds?.[0]?.description ?? '') : '';
}

it('registers with Manage Messages as the default permission, in a shape Discord accepts', () => {
  // discord-api-types and Discord's docs type the bit set as a string; the OpenAPI request schema
  // says integer (Discord takes both). The spec check therefore runs on the integer spelling.
  expect(silenceCommand.data.default_member_permissions).toBe('8192');
  const asInteger = { ...silenceCommand.data, default_member_permissions: Number(silenceCommand.data.default_member_permissions) };
  expect(specSchemaErrors('ApplicationCommandCreateRequest', asInteger)).toEqual([]);
  expect(silenceCommand.data.options.map((o) => o.name)).toEqual(['create', 'list', 'expire']);
});

describe('/silence against the real Alertmanager', () => {
  let am: AlertmanagerHandle;
  let client: AlertmanagerClient;
  let d: CommandDeps;

  beforeAll(async () => {
    am = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${await freePort()}/hook` });
    client = createAlertmanagerClient({ url: am.url, timeoutMs: 5_000 });
    d = deps(am.url);
  }, 30_000);

  afterAll(async () => {
    await am?.stop();
  });

  const byId = async (id: string): Promise<Silence | undefined> => (await client.silences()).find((s) => s.id === id);

  it('create: Alertmanager lists the silence with the matchers, the Discord user as creator, the comment and the end', async () => {
    const before = Date.now();
    const ctx = await silence(d, 'create', { matchers: '{alertname="HighCPU", instance=~"web-.*"}', duration: '2h', comment: 'deploy window' });
    const text = replyText(ctx.calls);
    const id = new RegExp(`ID \`(${UUID})\``).exec(text)?.[1];
    expect(id).toBeDefined();
    const s = await byId(id!);
    expect(s).toMatchObject({
      matchers: [eq('alertname', 'HighCPU'), re('instance', 'web-.*')],
      createdBy: `oncall (${USER.id})`,
      comment: 'deploy window',
      state: 'active',
    });
    expect(s!.endsAt.getTime() - before).toBeGreaterThanOrEqual(2 * HOUR - 1000);
    expect(s!.endsAt.getTime() - before).toBeLessThanOrEqual(2 * HOUR + 5000);
    const ends = Math.floor(s!.endsAt.getTime() / 1000);
    expect(text).toContain(`(<t:${ends}:R>)`);
    expect(text).toContain(`[open in Alertmanager](${am.url}/#/silences/${id})`);
    expect(messageValidator()(ctx.lastReply())).toEqual([]);
  });

  it('create: the comment defaults to "via Vigil by <user>"', async () => {
    const ctx = await silence(d, 'create', { matchers: 'alertname=DiskFull', duration: '1m' });
    const id = new RegExp(`ID \`(${UUID})\``).exec(replyText(ctx.calls))![1]!;
    expect((await byId(id))?.comment).toBe('via Vigil by oncall');
  });

  it('create: the silence really silences a matching alert, and only that one', async () => {
    await am.postAlerts([{ labels: { alertname: 'Flappy', instance: 'a:1' } }, { labels: { alertname: 'Flappy', instance: 'b:1' } }]);
    await silence(d, 'create', { matchers: 'alertname="Flappy",instance="a:1"', duration: '10m' });
    const flappy = (await client.alerts()).filter((a) => a.labels.alertname === 'Flappy');
    expect(Object.fromEntries(flappy.map((a) => [a.labels.instance, a.state]))).toEqual({ 'a:1': 'suppressed', 'b:1': 'active' });
  });

  it('list: shows active then pending silences with short and full id, matchers, end, creator and comment', async () => {
    const now = Date.now();
    const activeId = await client.createSilence({
      matchers: [eq('alertname', 'ListMe')],
      startsAt: new Date(now),
      endsAt: new Date(now + 5 * 60_000),
      createdBy: 'alice (1)',
      comment: 'db failover',
    });
    const pendingId = await client.createSilence({
      matchers: [eq('alertname', 'Later')],
      startsAt: new Date(now + HOUR),
      endsAt: new Date(now + 2 * HOUR),
      createdBy: 'bob (2)',
      comment: 'tonight',
    });
    const expiredId = await client.createSilence({
      matchers: [eq('alertname', 'Gone')],
      startsAt: new Date(now),
      endsAt: new Date(now + HOUR),
      createdBy: 'x',
      comment: '',
    });
    await client.expireSilence(expiredId);

    const ctx = await silence(d, 'list');
    expect(messageValidator()(ctx.lastReply())).toEqual([]);
    const embed = ctx.lastReply()!.embeds![0]!;
    expect(embed.url).toBe(`${am.url}/#/silences`);
    const text = embed.description!;
    const active = await byId(activeId);
    expect(text).toContain(
      [
        `🔕 **${activeId.slice(0, 8)}** · ends <t:${Math.floor(active!.endsAt.getTime() / 1000)}:R>`,
        '`{alertname="ListMe"}`',
        'by alice (1) · db failover',
        `\`${activeId}\``,
      ].join('\n'),
    );
    expect(text).toMatch(
      new RegExp(`⏳ \\*\\*${pendingId.slice(0, 8)}\\*\\* · starts <t:\\d+:R> · ends <t:\\d+:R>\\n\`\\{alertname="Later"\\}\`\\nby bob \\(2\\) · tonight`),
    );
    expect(text.indexOf(activeId)).toBeLessThan(text.indexOf(pendingId));
    expect(text).not.toContain(expiredId);
    expect(embed.title).toMatch(/^🔕 \d+ silences \(\d+ active, 1 pending\)$/);
  });

  it.each([
    ['the full id', (id: string) => id],
    ['the short id', (id: string) => id.slice(0, 8)],
    ['the full id in capitals', (id: string) => id.toUpperCase()],
  ])('expire by %s: Alertmanager reports the silence expired', async (_name, idFor) => {
    const now = Date.now();
    const id = await client.createSilence({
      matchers: [eq('alertname', 'ExpireMe')],
      startsAt: new Date(now),
      endsAt: new Date(now + HOUR),
      createdBy: 'x',
      comment: '',
    });
    const ctx = await silence(d, 'expire', { id: idFor(id) });
    expect((await byId(id))?.state).toBe('expired');
    expect(replyText(ctx.calls)).toBe(`🔔 Silence \`${id}\` expired by **oncall**: alerts matching \`{alertname="ExpireMe"}\` notify again.`);
  });

  it.each([
    [
      'an id Alertmanager does not know',
      () => '0b6d4c1e-9f3a-4d2b-8e6c-1a905d2b7e6c',
      /^⚠️ Silence `0b6d4c1e-9f3a-4d2b-8e6c-1a905d2b7e6c` is not in Alertmanager\./,
    ],
  ])('expire: %s is answered privately', async (_name, id, message) => {
    const ctx = await silence(d, 'expire', { id: id() });
    expect(replyText(ctx.calls)).toMatch(message);
    expect(ctx.calls.find((c) => c.kind === 'reply')).toMatchObject({ ephemeral: true });
  });

  it('expire: an already expired silence is answered privately', async () => {
    const now = Date.now();
    const id = await client.createSilence({
      matchers: [eq('alertname', 'Twice')],
      startsAt: new Date(now),
      endsAt: new Date(now + HOUR),
      createdBy: 'x',
      comment: '',
    });
    await client.expireSilence(id);
    const ctx = await silence(d, 'expire', { id });
    expect(replyText(ctx.calls)).toBe(`⚠️ Silence \`${id}\` is already expired. /silence list shows the active ones.`);
  });

  it.each<[string, string, Record<string, OptionValue>, RegExp]>([
    [
      'bad matchers',
      'create',
      { matchers: 'alertname="X" job="y"', duration: '1h' },
      /^matchers: Invalid matchers: expected , between matchers at position 15$/,
    ],
    [
      'a catch-all regex',
      'create',
      { matchers: 'alertname=~".*"', duration: '1h' },
      /^matchers: Invalid matchers: alertname=~"\.\*" \(at position 1\) matches every value/,
    ],
    [
      'a bad duration',
      'create',
      { matchers: 'alertname="X"', duration: 'soon' },
      /^duration: expected a duration like 30m, 1h or 2h30m, from 1m to 30d, got "soon"$/,
    ],
    ['31 days', 'create', { matchers: 'alertname="X"', duration: '31d' }, /^duration: .*from 1m to 30d, got "31d"$/],
    ['30 seconds', 'create', { matchers: 'alertname="X"', duration: '30s' }, /^duration: .*from 1m to 30d/],
    [
      'a too long comment',
      'create',
      { matchers: 'alertname="X"', duration: '1h', comment: 'x'.repeat(501) },
      /^comment: expected a text of at most 500 characters$/,
    ],
    ['a bad id', 'expire', { id: 'abc' }, /^id: expected a silence id like/],
    ['an id with a path', 'expire', { id: '../../-/reload' }, /^id: expected a silence id like/],
  ])('refuses %s with an OptionError naming the option, creating nothing', async (_name, sub, options, message) => {
    const count = (await client.silences()).length;
    const err = await silence(d, sub, options).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OptionError);
    expect((err as OptionError).message).toMatch(message);
    expect((await client.silences()).length).toBe(count);
  });

  it('through the router, an option error is answered privately and names the option', async () => {
    const router = createRouter([silenceCommand], [], d);
    const ctx = recordingCommand('silence', { matchers: 'alertname="X"', duration: '31d' }, { subcommand: 'create' });
    await router.handleCommand(ctx);
    expect(ctx.calls).toEqual([{ kind: 'reply', payload: { content: expect.stringMatching(/^⚠️ duration: /) }, ephemeral: true }]);
  });

  it("surfaces Alertmanager's own error text", async () => {
    await expect(silence(d, 'create', { matchers: 'alertname="X",job=~"("', duration: '1h' })).rejects.toThrow(
      /^Alertmanager HTTP 400: silence invalid: .*invalid regular expression/,
    );
  });
});

describe('/silence without an Alertmanager', () => {
  it.each([
    ['create', { matchers: 'alertname="X"', duration: '1h' }],
    ['list', {}],
    ['expire', { id: '0b6d4c1e-9f3a-4d2b-8e6c-1a905d2b7e6c' }],
  ])('%s says how to configure one, privately', async (sub, options) => {
    const ctx = await silence(deps(), sub, options);
    expect(ctx.calls).toEqual([{ kind: 'reply', payload: { content: translate('en', 'commands.silence.noAlertmanager') }, ephemeral: true }]);
  });
});

describe('incidentMatchers', () => {
  const alert = (labels: Record<string, string>, status: 'firing' | 'resolved' = 'firing'): IncidentAlertState => ({
    status,
    startsAt: '2026-11-21T09:00:00Z',
    labels,
  });

  it.each<[string, IncidentAlertState[], SilenceMatcher[] | undefined]>([
    [
      'one alert: all its labels',
      [alert({ job: 'node', alertname: 'HighCPU', instance: 'web-1:9100' })],
      [eq('alertname', 'HighCPU'), eq('instance', 'web-1:9100'), eq('job', 'node')],
    ],
    [
      'several: the labels they share',
      [alert({ alertname: 'HighCPU', job: 'node', instance: 'web-1:9100' }), alert({ alertname: 'HighCPU', job: 'node', instance: 'web-2:9100' })],
      [eq('alertname', 'HighCPU'), eq('job', 'node')],
    ],
    [
      'sharing only their name (and severity): plus exactly their instances',
      [
        alert({ alertname: 'Down', severity: 'critical', instance: 'a.example:80', job: 'x' }),
        alert({ alertname: 'Down', severity: 'critical', instance: 'b.example:80', job: 'y' }),
      ],
      [eq('alertname', 'Down'), re('instance', 'a\\.example:80|b\\.example:80'), eq('severity', 'critical')],
    ],
    [
      'different names: exactly those names',
      [alert({ alertname: 'A', team: 'db' }), alert({ alertname: 'B', team: 'db' })],
      [re('alertname', 'A|B'), eq('team', 'db')],
    ],
    [
      'the firing ones when some are resolved',
      [alert({ alertname: 'X', instance: 'a' }), alert({ alertname: 'X', instance: 'b' }, 'resolved')],
      [eq('alertname', 'X'), eq('instance', 'a')],
    ],
    ['labels Alertmanager cannot match left out', [alert({ alertname: 'X', 'bad-name': 'v' })], [eq('alertname', 'X')]],
    ['no labels stored', [{ status: 'firing', startsAt: '2026-11-21T09:00:00Z' }], undefined],
  ])('%s', (_name, alerts, expected) => {
    expect(incidentMatchers({ alerts: Object.fromEntries(alerts.map((a, i) => [`fp${i}`, a])) })).toEqual(expected);
  });
});

describe('Silence 1h button against the real Alertmanager', () => {
  let am: AlertmanagerHandle;
  let client: AlertmanagerClient;
  let db: Database;
  let d: CommandDeps;
  let incidentId: number;

  beforeAll(async () => {
    am = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${await freePort()}/hook` });
    client = createAlertmanagerClient({ url: am.url, timeoutMs: 5_000 });
    const labels = (host: string, job: string) => ({ alertname: 'NodeDown', instance: `${host}:9100`, job, severity: 'critical' });
    await am.postAlerts([{ labels: labels('web-1', 'web') }, { labels: labels('db-1', 'db') }, { labels: labels('web-9', 'web') }]);
    db = openDatabase(':memory:');
    const now = new Date();
    // The incident holds two of the three alerts Alertmanager has: web-9 is someone else's.
    incidentId = await createIncident(
      db,
      {
        source: 'alertmanager',
        receiver: 'vigil',
        groupKey: '{}:{alertname="NodeDown"}',
        status: 'firing',
        startedAt: now,
        alerts: {
          fp1: { status: 'firing', startsAt: now.toISOString(), labels: labels('web-1', 'web') },
          fp2: { status: 'firing', startsAt: now.toISOString(), labels: labels('db-1', 'db') },
        },
      },
      now,
    );
    d = deps(am.url, db);
  }, 30_000);

  beforeEach(() => {
    d = deps(am.url, db);
  });

  afterAll(async () => {
    await db?.close();
    await am?.stop();
  });

  it("silences exactly the incident's alerts for 1h, by the presser, linking the message; tells the presser and the team", async () => {
    const ctx = {
      ...recordingComponent(customId('silence1h', incidentId), { messageId: '444444444444444444', channelId: '333333333333333333' }),
      guildId: '222222222222222222',
    };
    const before = Date.now();
    await silenceButton.execute(ctx, String(incidentId), d);

    const silences = (await client.silences()).filter((s) => s.matchers.some((m) => m.value === 'NodeDown'));
    expect(silences).toHaveLength(1);
    const s = silences[0]!;
    expect(s.matchers).toEqual([eq('alertname', 'NodeDown'), re('instance', 'db-1:9100|web-1:9100'), eq('severity', 'critical')]);
    expect(s.createdBy).toBe(`oncall (${USER.id})`);
    expect(s.comment).toBe("Silenced from Vigil's alert message: https://discord.com/channels/222222222222222222/333333333333333333/444444444444444444");
    expect(s.endsAt.getTime() - before).toBeGreaterThanOrEqual(HOUR - 1000);
    expect(s.endsAt.getTime() - before).toBeLessThanOrEqual(HOUR + 5000);

    const states = Object.fromEntries((await client.alerts()).map((a) => [a.labels.instance, a.state]));
    expect(states).toEqual({ 'web-1:9100': 'suppressed', 'db-1:9100': 'suppressed', 'web-9:9100': 'active' });

    expect(ctx.calls.map((c) => [c.kind, 'ephemeral' in c ? c.ephemeral : undefined])).toEqual([
      ['deferUpdate', undefined],
      ['followUp', true],
      ['followUp', false],
    ]);
    const [privateAnswer, publicNote] = ctx.calls.flatMap((c) => (c.kind === 'followUp' ? [c] : []));
    expect(privateAnswer!.payload.content).toContain(`ID \`${s.id}\``);
    expect(privateAnswer!.payload.content).toContain(`(<t:${Math.floor(s.endsAt.getTime() / 1000)}:R>)`);
    expect(privateAnswer!.payload.content).toContain(`Undo: \`/silence expire id:${s.id}\``);
    expect(publicNote!.payload.content).toBe(
      `🔕 Silenced for 1h by **oncall** (until <t:${Math.floor(s.endsAt.getTime() / 1000)}:t>) · \`${s.id.slice(0, 8)}\``,
    );
    for (const c of [privateAnswer!, publicNote!]) expect(messageValidator()(c.payload)).toEqual([]);
  });

  it('names the message by id when the guild is unknown', () => {
    const ctx = recordingComponent('vigil:silence1h:1', { messageId: '444444444444444444', channelId: '333333333333333333' });
    expect(messageReference(ctx)).toBe('Discord message 444444444444444444 in channel 333333333333333333');
  });

  it.each([
    ['an incident that is not in the store', '999999', /^⚠️ This alert is no longer in Vigil's store, so it cannot be silenced from here/],
    ['a reference that is not an incident id', 'abc', /^⚠️ This alert is no longer in Vigil's store/],
  ])('answers %s privately, creating nothing', async (_name, ref, message) => {
    const count = (await client.silences()).length;
    const ctx = recordingComponent(customId('silence1h', ref));
    await silenceButton.execute(ctx, ref, d);
    expect(ctx.calls).toEqual([{ kind: 'reply', payload: { content: expect.stringMatching(message) }, ephemeral: true }]);
    expect((await client.silences()).length).toBe(count);
  });

  it('says how to configure an Alertmanager when none is', async () => {
    const ctx = recordingComponent(customId('silence1h', incidentId));
    await silenceButton.execute(ctx, String(incidentId), deps(undefined, db));
    expect(ctx.calls).toEqual([{ kind: 'reply', payload: { content: translate('en', 'commands.silence.noAlertmanager') }, ephemeral: true }]);
  });

  it.each([
    ['a Korean presser of an English alert', 'ko', 'en', 'ko', 'en'],
    ['an English presser of a Korean alert', 'en-US', 'ko', 'en', 'ko'],
  ] as const)('answers %s in their language, and tells the team (and Alertmanager) in the alert’s', async (_name, discordLocale, configured, presser, team) => {
    const localized = testCommandDeps(testConfig({ locale: configured, alertmanager: { url: am.url } }), { db });
    const ctx = recordingComponent(customId('silence1h', incidentId), { user: { ...USER, locale: discordLocale } });
    await silenceButton.execute(ctx, String(incidentId), localized);
    const [privateAnswer, publicNote] = ctx.calls.flatMap((c) => (c.kind === 'followUp' ? [c] : []));
    const id = new RegExp(`ID \`(${UUID})\``).exec(privateAnswer!.payload.content!)![1]!;
    const created = (await client.silences()).find((x) => x.id === id)!;
    const end = Math.floor(created.endsAt.getTime() / 1000);
    expect(privateAnswer!.payload.content!.split('\n')[0]).toEqual(
      presser === 'ko'
        ? '🔕 사일런스 설정: `{alertname="NodeDown", instance=~"db-1:9100|web-1:9100", severity="critical"}`'
        : expect.stringMatching(/^🔕 Silenced `/),
    );
    expect(privateAnswer!.payload.content!.split('\n').at(-1)).toBe(
      presser === 'ko' ? `되돌리기: \`/silence expire id:${id}\`` : `Undo: \`/silence expire id:${id}\``,
    );
    expect(publicNote!.payload.content).toBe(
      team === 'ko'
        ? `🔕 **oncall** 님이 1시간 동안 사일런스했습니다 (<t:${end}:t>까지) · \`${id.slice(0, 8)}\``
        : `🔕 Silenced for 1h by **oncall** (until <t:${end}:t>) · \`${id.slice(0, 8)}\``,
    );
    expect(created.comment).toBe(
      team === 'ko'
        ? 'Vigil 알림 메시지에서 사일런스: 채널 333333333333333333의 Discord 메시지 444444444444444444'
        : "Silenced from Vigil's alert message: Discord message 444444444444444444 in channel 333333333333333333",
    );
    const refused = recordingComponent(customId('silence1h', incidentId), { user: { ...USER, locale: discordLocale } });
    await silenceButton.execute(refused, String(incidentId), deps(undefined, db));
    expect(refused.calls[0]).toMatchObject({
      payload: {
        content: presser === 'ko' ? expect.stringMatching(/^🔕 사일런스에는 Alertmanager가 필요합니다/) : translate('en', 'commands.silence.noAlertmanager'),
      },
    });
  });
});
