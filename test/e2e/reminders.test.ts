// Alertmanager's repeat_interval with a real Alertmanager: each repeat of a still-firing group
// becomes one "still firing" line in its incident's thread, pinging again only where the route
// says mentions.onRepeat. (A copy within reminderMinGap staying a duplicate: test/store/notifications.test.ts.)
import type { APIMessage } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiscordDouble } from '../support/discord-double.js';
import { eventually } from '../support/eventually.js';
import type { AlertmanagerHandle } from '../support/procs.js';
import { startRoutedStack, type RoutedStack } from '../support/routed-stack.js';

const MAIN = '923456789012347001';
const DB = '923456789012347002';
const WEB = '923456789012347003';
const ROLE = '933456789012347001';
const TOKEN = 'reminders-e2e-webhook-token-0123456789';

let discord: DiscordDouble;
let alertmanager: AlertmanagerHandle;
let stack: RoutedStack | undefined;

beforeAll(async () => {
  stack = await startRoutedStack({
    channels: [MAIN, DB, WEB],
    webhookToken: TOKEN,
    // Alertmanager repeats every 3 s here (hours in production): a copy 2 s after the last is a reminder.
    delivery: { reminderMinGap: '2s' },
    routes: [
      { name: 'db', matchers: ['team="db"'], channelId: DB, mentions: { roles: [ROLE], onRepeat: true } },
      { name: 'web', matchers: ['team="web"'], channelId: WEB, mentions: { roles: [ROLE] } },
    ],
    alertmanager: () => ({ repeatInterval: '3s' }),
  });
  ({ discord, alertmanager } = stack);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

/** The reminder lines about an alert, posted outside its alert message's channel (in its thread). */
function reminders(alert: APIMessage | undefined, alertname: string): APIMessage[] {
  if (!alert) return [];
  return [...discord.messages.values()].filter(
    (m) => m.content?.includes(`🔁 Still firing after`) && m.content.includes(`: ${alertname},`) && m.channel_id !== alert.channel_id,
  );
}

describe('reminders from a real Alertmanager', () => {
  it('posts each repeat of a still-firing incident as one line in its thread, pinging again only with onRepeat', async () => {
    await alertmanager.postAlerts([
      { labels: { alertname: 'DbDown', team: 'db', severity: 'critical' } },
      { labels: { alertname: 'WebDown', team: 'web', severity: 'critical' } },
    ]);
    const alertOf = (channel: string) => [...discord.messages.values()].find((m) => m.channel_id === channel && m.embeds?.length);
    await eventually(
      'two reminders of each incident',
      () => (reminders(alertOf(DB), 'DbDown').length >= 2 && reminders(alertOf(WEB), 'WebDown').length >= 2 ? true : undefined),
      30_000,
    );
    const db = reminders(alertOf(DB), 'DbDown');
    const web = reminders(alertOf(WEB), 'WebDown');
    // One alert message each, never a second one for a repeat.
    expect(
      [...discord.messages.values()]
        .filter((m) => [MAIN, DB, WEB].includes(m.channel_id))
        .map((m) => m.channel_id)
        .sort(),
    ).toEqual([DB, WEB].sort());
    expect(db[0]!.content).toMatch(new RegExp(`^🔔 <@&${ROLE}>: 🔁 Still firing after \\d+s: DbDown, 1 alert$`));
    expect(web[0]!.content).toMatch(/^🔁 Still firing after \d+s: WebDown, 1 alert$/);
    const bodies = discord.requests
      .filter((r) => r.operationId === 'create_message' && JSON.stringify(r.body ?? {}).includes('Still firing'))
      .map((r) => r.body as { content: string; allowed_mentions: unknown });
    for (const b of bodies) {
      expect(b.allowed_mentions).toEqual(b.content.includes('DbDown') ? { parse: [], roles: [ROLE], users: [] } : { parse: [], replied_user: false });
    }
    expect(discord.invalid).toEqual([]);
  }, 45_000);
});
