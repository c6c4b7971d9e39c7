// A Discord that accepts connections and never answers (a black hole in front of the Discord double):
// while it lasts nothing is lost and no delivery waits out its own timeout in turn; once it answers
// again, every queued delivery goes out once, in the order the alerts came. The outage is scaled
// down (8 s with a 500 ms request timeout and at most 1 s between tries, where production has 15 s
// and 5 min): the same hold, probe and backoff that carry a 10-minute outage.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { configSecrets, startVigil, type Vigil } from '../../src/main.js';
import { firingNotification } from '../support/alertmanager-body.js';
import { botConfig } from '../support/bot-config.js';
import { startDelayProxy, type DelayProxy } from '../support/delay-proxy.js';
import { DOUBLE_TOKEN, startDiscordDouble, type DiscordDouble } from '../support/discord-double.js';
import { eventually } from '../support/eventually.js';

const CHANNEL = '923456789012345601';
const TOKEN = 'discord-blackhole-webhook-token-0123';
const ALERTS = 8;
const OUTAGE_MS = 8_000;

let discord: DiscordDouble;
let proxy: DelayProxy;
let vigil: Vigil;
let dir: string;
const logs: string[] = [];

beforeAll(async () => {
  discord = await startDiscordDouble({ channels: [CHANNEL] });
  proxy = await startDelayProxy(discord.apiBaseUrl);
  proxy.blackHole = true;
  dir = mkdtempSync(join(tmpdir(), 'vigil-discord-blackhole-'));
  const config = botConfig({
    dir,
    discordApiBaseUrl: proxy.url,
    channelId: CHANNEL,
    webhookToken: TOKEN,
    sections: {
      delivery: { timeout: '500ms', minBackoff: '100ms', maxBackoff: '1s', pollInterval: '100ms', storm: { enabled: false } },
      charts: { enabled: false },
      log: { level: 'debug' },
    },
  });
  const logger = createLogger({ level: 'debug', secrets: configSecrets(config) }, { write: (s: string) => void logs.push(s) });
  vigil = await startVigil(config, { logger });
});

afterAll(async () => {
  await vigil?.stop();
  await proxy?.close();
  await discord?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The alert messages at the double, as the alert index of each, in the order Discord stored them. */
function postedOrder(): number[] {
  return [...discord.messages.values()]
    .filter((m) => m.channel_id === CHANNEL)
    .map((m) => /^🔥 FIRING: Outage(\d+)$/.exec(m.embeds?.[0]?.title ?? '')?.[1])
    .filter((i): i is string => i !== undefined)
    .map(Number);
}

describe('a black-holed Discord', () => {
  it('keeps every alert while it lasts, then delivers each once, in order, once Discord answers again', async () => {
    for (let i = 0; i < ALERTS; i++) {
      const res = await fetch(`http://127.0.0.1:${vigil.port}/webhooks/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: firingNotification(`Outage${i}`),
      });
      expect(res.status).toBe(202);
      await sleep(50);
    }
    await sleep(OUTAGE_MS);
    expect(postedOrder()).toEqual([]);
    expect(proxy.swallowed).toBeGreaterThan(0);
    // Said once, when it began; not once per delivery or per try.
    expect(logs.filter((l) => l.includes('Discord does not answer'))).toHaveLength(1);
    // Nothing was given up on.
    expect(await vigil.db.get(`SELECT count(*) AS n FROM outbox WHERE status = 'failed'`)).toEqual({ n: 0 });

    proxy.blackHole = false;
    const back = Date.now();
    await eventually('every alert at Discord', () => (postedOrder().length >= ALERTS ? true : undefined), 15_000);
    // Within the longest wait between tries (1 s here) and the deliveries themselves.
    expect(Date.now() - back).toBeLessThan(8_000);
    expect(postedOrder()).toEqual(Array.from({ length: ALERTS }, (_, i) => i));
    await eventually(
      'the outbox empty',
      async () => (await vigil.db.get<{ n: number }>(`SELECT count(*) AS n FROM outbox WHERE status = 'pending'`))!.n === 0 || undefined,
      15_000,
    );
    expect(await vigil.db.get(`SELECT count(*) AS n FROM outbox WHERE status = 'failed'`)).toEqual({ n: 0 });
    // Once each: every alert message's POST reached Discord exactly once (none repeated after the outage).
    const posts = discord.requests.filter(
      (r) => r.operationId === 'create_message' && /Outage\d+/.test(JSON.stringify(r.body ?? {})) && r.path.includes(CHANNEL),
    );
    expect(posts.map((r) => r.status)).toEqual(Array.from({ length: ALERTS }, () => 200));
    expect(logs.some((l) => l.includes('Discord answers again'))).toBe(true);
    expect(logs.join('\n')).not.toContain(DOUBLE_TOKEN);
    expect(discord.invalid).toEqual([]);
  }, 60_000);
});
