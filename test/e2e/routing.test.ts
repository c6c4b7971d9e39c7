// Routing with a real Alertmanager and its routing tree: alerts land in the channel their route
// names, by Vigil's matchers (one receiver URL) and by URL (a receiver per route); a new firing
// incident pages exactly the route's people for its severities, and nothing else ever pings.
import { readFileSync } from 'node:fs';
import type { APIMessage } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Vigil } from '../../src/main.js';
import type { DiscordDouble } from '../support/discord-double.js';
import { eventually } from '../support/eventually.js';
import type { AlertmanagerHandle, PostableAlert } from '../support/procs.js';
import { startRoutedStack, type RoutedStack } from '../support/routed-stack.js';

const MAIN = '923456789012345001';
const DB = '923456789012345002';
const WEB = '923456789012345003';
const ONCALL_ROLE = '933456789012345001';
const WEB_USER = '943456789012345001';
const TOKEN = 'routing-e2e-webhook-token-0123456789';

let discord: DiscordDouble;
let vigil: Vigil;
let alertmanager: AlertmanagerHandle;
let stack: RoutedStack | undefined;

beforeAll(async () => {
  stack = await startRoutedStack({
    channels: [MAIN, DB, WEB],
    webhookToken: TOKEN,
    routes: [
      { name: 'db', matchers: ['team="db"'], channelId: DB, mentions: { roles: [ONCALL_ROLE], severities: ['critical'] } },
      // Chosen by URL only: Alertmanager's tree sends team="web" to /webhooks/alertmanager/web.
      { name: 'web', channelId: WEB, mentions: { users: [WEB_USER] }, threads: false },
    ],
    alertmanager: (base) => ({ groupBy: ['alertname'], routes: [{ matchers: ['team="web"'], webhookUrl: `${base}/web` }] }),
  });
  ({ discord, vigil, alertmanager } = stack);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const alert = (alertname: string, labels: Record<string, string>, endsAt?: string): PostableAlert => ({
  labels: { alertname, ...labels },
  annotations: { summary: `${alertname}: @everyone look <@&999999999999999999>` },
  ...(endsAt ? { endsAt } : {}),
});

/** The alert messages (not thread posts) about an alert name, by channel. */
function alertMessages(alertname: string): APIMessage[] {
  return [...discord.messages.values()].filter((m) => [MAIN, DB, WEB].includes(m.channel_id) && (m.embeds?.[0]?.title ?? '').includes(alertname));
}

/** Every message create and edit the bot sent, with the allowed_mentions it carried. */
function sent(): Array<{ path: string; content?: string; allowed: unknown }> {
  return discord.requests
    .filter((r) => r.operationId === 'create_message' || r.operationId === 'update_message')
    .map((r) => {
      const body = (r.body ?? {}) as { content?: string; allowed_mentions?: unknown };
      return { path: r.path, ...(body.content !== undefined ? { content: body.content } : {}), allowed: body.allowed_mentions };
    });
}

/** allowed_mentions that let nothing ping: no parsing of the text, no ids, no reply ping. */
function pingsNoOne(allowed: unknown): boolean {
  const a = allowed as { parse?: unknown[]; roles?: unknown[]; users?: unknown[]; replied_user?: boolean } | undefined;
  return !!a && Array.isArray(a.parse) && a.parse.length === 0 && !a.roles?.length && !a.users?.length && a.replied_user !== true;
}

describe('routes with a real Alertmanager routing tree', () => {
  it('posts each alert in the channel of its route, by matchers and by URL, and splits a group that spans routes', async () => {
    await alertmanager.postAlerts([
      alert('DbDown', { team: 'db', severity: 'critical' }),
      alert('DbSlow', { team: 'db', severity: 'warning' }),
      alert('WebDown', { team: 'web', severity: 'warning' }),
      alert('Other', { team: 'ops', severity: 'critical' }),
      alert('DiskFull', { team: 'db', instance: 'db-1', severity: 'warning' }),
      alert('DiskFull', { team: 'ops', instance: 'ops-1', severity: 'warning' }),
    ]);
    await eventually('every alert message', () => (alertMessages('').length >= 6 ? true : undefined), 20_000);
    const where = (name: string) =>
      alertMessages(name)
        .map((m) => m.channel_id)
        .sort();
    expect(where('DbDown')).toEqual([DB]);
    expect(where('DbSlow')).toEqual([DB]);
    expect(where('WebDown')).toEqual([WEB]);
    expect(where('Other')).toEqual([MAIN]);
    // One Alertmanager group, two routes: a message in each channel.
    expect(where('DiskFull')).toEqual([MAIN, DB].sort());
    expect(discord.invalid).toEqual([]);
  }, 30_000);

  it("pages exactly the route's people on a new firing incident of its severities, and no one on any other message", () => {
    const page = (m: APIMessage | undefined) => m?.content ?? '';
    expect(page(alertMessages('DbDown')[0])).toBe(`🔔 <@&${ONCALL_ROLE}>`);
    expect(page(alertMessages('WebDown')[0])).toBe(`🔔 <@${WEB_USER}>`);
    for (const name of ['DbSlow', 'Other', 'DiskFull']) for (const m of alertMessages(name)) expect(page(m)).toBe('');
    const paging = sent().filter((s) => s.content?.startsWith('🔔'));
    expect(paging.map((s) => s.allowed)).toEqual(
      expect.arrayContaining([
        { parse: [], roles: [ONCALL_ROLE], users: [] },
        { parse: [], roles: [], users: [WEB_USER] },
      ]),
    );
    expect(paging).toHaveLength(2);
    // Every other request lets nothing ping: not the @everyone or role mention in the summary.
    for (const s of sent().filter((x) => !x.content?.startsWith('🔔'))) expect(pingsNoOne(s.allowed)).toBe(true);
  });

  it('edits the original message on resolve in its own channel, without a ping', async () => {
    const before = sent().length;
    const past = new Date(Date.now() - 1000).toISOString();
    await alertmanager.postAlerts([alert('DbDown', { team: 'db', severity: 'critical' }, past)]);
    await eventually('DbDown resolved', () => (alertMessages('DbDown')[0]?.embeds?.[0]?.title?.includes('RESOLVED') ? true : undefined), 20_000);
    expect(alertMessages('DbDown').map((m) => m.channel_id)).toEqual([DB]);
    const after = sent().slice(before);
    expect(after.length).toBeGreaterThan(0);
    for (const s of after) expect(pingsNoOne(s.allowed)).toBe(true);
  }, 30_000);

  it("takes a Grafana notification to the route its contact point's URL names, whatever its labels", async () => {
    const body = readFileSync(new URL('../fixtures/webhooks/grafana-firing.json', import.meta.url));
    const res = await fetch(`http://127.0.0.1:${vigil.port}/webhooks/grafana/web`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body,
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ routes: ['web'], duplicate: false });
    await eventually('the Grafana alert in the web channel', () => alertMessages('High memory usage')[0] ?? alertMessages('High CPU usage')[0]);
    expect(alertMessages('usage').map((m) => m.channel_id)).toEqual([WEB]);
    expect(alertMessages('usage')[0]!.content).toBe(`🔔 <@${WEB_USER}>`);
  }, 30_000);

  it('refuses a URL naming no route with 404 and the known names, and stores nothing', async () => {
    const count = async () => (await vigil.db.get<{ n: number }>('SELECT count(*) AS n FROM notifications'))!.n;
    const stored = await count();
    const res = await fetch(`http://127.0.0.1:${vigil.port}/webhooks/grafana/dbs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: '{}',
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'no route named "dbs": known routes are db, web; nothing stored', routes: ['db', 'web'] });
    expect(await count()).toBe(stored);
  });
});
