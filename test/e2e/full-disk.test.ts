// A full disk under the store, on a real small filesystem (a 4 MiB tmpfs mounted for the test):
// webhooks get 503 with Retry-After and nothing half-written is acknowledged, the process stays up,
// /healthz says why, and once space is back intake resumes by itself and every acknowledged alert
// reaches Discord.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firingNotification } from '../support/alertmanager-body.js';
import { DOUBLE_TOKEN, startDiscordDouble, type DiscordDouble } from '../support/discord-double.js';
import { startBot, type BotProcess } from './bot.js';

const CHANNEL = '823456789012345678';
const TOKEN = 'full-disk-webhook-token-0123456789';
const SIZE = '4m';

/** Mounts a tmpfs of SIZE on a new directory; the reason it cannot when the machine does not allow it (not root, no mount). */
function mountSmallDisk(): { dir: string; unmount: () => void } | { reason: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-full-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${SIZE}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    return {
      reason: `cannot mount a ${SIZE} tmpfs (${(err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message}); run the tests as root to include it`,
    };
  }
  return {
    dir,
    unmount: () => {
      execFileSync('umount', [dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const disk = mountSmallDisk();
if ('reason' in disk) console.log(`full-disk test skipped: ${disk.reason}`);

/** One Alertmanager notification of `alerts` alerts, each with a 2 KiB description (about `alerts` × 2 KiB stored). */
const notification = (name: string, alerts = 1): string => firingNotification(name, { alerts, annotations: { description: 'x'.repeat(2048) } });

// Skipped only where a tmpfs cannot be mounted (the reason is printed above); as root, as CI runs, it runs.
describe.skipIf('reason' in disk)('a full disk under the store', () => {
  const dir = 'dir' in disk ? disk.dir : '';
  let discord: DiscordDouble;
  let bot: BotProcess;

  beforeAll(async () => {
    discord = await startDiscordDouble({ channels: [CHANNEL] });
    bot = await startBot({
      dir,
      // Nothing listens on port 9: enrichment fails fast and says so; delivery is what this test is about.
      prometheusUrl: 'http://127.0.0.1:9',
      lokiUrl: 'http://127.0.0.1:9',
      discordApiBaseUrl: discord.apiBaseUrl,
      discordToken: DOUBLE_TOKEN,
      webhookToken: TOKEN,
      channelId: CHANNEL,
      enrichmentTimeout: '200ms',
      sections: { delivery: { storm: { enabled: false } }, charts: { enabled: false } },
    });
  }, 60_000);
  afterAll(async () => {
    await bot?.kill('SIGTERM');
    await discord?.stop();
    if ('unmount' in disk) disk.unmount();
  });

  const post = (body: string) =>
    fetch(`${bot.url}/webhooks/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body });
  const health = async () => (await (await fetch(`${bot.url}/healthz`)).json()) as { status: string; reason?: string };
  /** Messages in the channel whose title names exactly this alert (WhileFull1, not WhileFull10). */
  const messagesOf = (name: string) =>
    [...discord.messages.values()].filter((m) => m.channel_id === CHANNEL && new RegExp(`\\b${name}\\b`).test(m.embeds[0]?.title ?? ''));
  const posted = (name: string) => messagesOf(name).length > 0;

  it('answers 503 with Retry-After while the disk is full, stays up, says why, and delivers every acknowledged alert once space is back', async () => {
    expect((await post(notification('BeforeFull'))).status).toBe(202);

    // Fill the filesystem to the last byte.
    const filler = join(dir, 'filler');
    const fd = openSync(filler, 'w');
    const chunk = Buffer.alloc(64 * 1024, 1);
    try {
      for (;;) writeSync(fd, chunk);
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    try {
      for (;;) writeSync(fd, chunk.subarray(0, 512));
    } catch {
      // Full to the last block.
    } finally {
      closeSync(fd);
    }

    // Until SQLite has no room left, a notification may still commit (into space its files already hold): acknowledged, it must arrive.
    const acknowledged = ['BeforeFull'];
    let refused: Response | undefined;
    for (let i = 0; i < 40 && !refused; i++) {
      const name = `WhileFull${i}`;
      const res = await post(notification(name, 20));
      if (res.status === 202) acknowledged.push(name);
      else refused = res;
    }
    expect(refused?.status).toBe(503);
    expect(refused!.headers.get('retry-after')).toBe('30');
    expect(((await refused!.json()) as { error: string }).error).toMatch(/^not stored, storage failed \(SQLITE_FULL: database or disk is full\); retry later$/);
    const degraded = await health();
    expect(degraded.status).toBe('degraded');
    expect(degraded.reason).toMatch(/storage failed since .*SQLITE_FULL.*webhooks are answered 503 with Retry-After/);
    expect(bot.child.exitCode).toBeNull();

    // Space is back: the next webhook is stored, and health is ok again.
    rmSync(filler);
    expect((await post(notification('AfterFull'))).status).toBe(202);
    acknowledged.push('AfterFull');
    expect((await health()).status).toBe('ok');

    const deadline = Date.now() + 45_000;
    while (!acknowledged.every(posted) && Date.now() < deadline) await sleep(100);
    expect(acknowledged.filter((n) => !posted(n))).toEqual([]);
    // Each once.
    for (const name of acknowledged) expect(messagesOf(name), name).toHaveLength(1);
  }, 90_000);
});
