import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli.js';
import { createLogger } from '../src/log.js';
import { startVigil, type Vigil } from '../src/main.js';
import { localWebhookUrl, TEST_ALERTNAME, testAlertBody } from '../src/testalert.js';
import { readBotConfig, writeBotConfig, type BotConfigFile } from './support/bot-config.js';
import { startDiscordDouble, DOUBLE_TOKEN, type DiscordDouble } from './support/discord-double.js';
import { eventually } from './support/eventually.js';
import { freePort } from './support/ports.js';
import { testConfig } from './support/deps.js';

const CHANNEL = '223456789012345678';

/** A running bot with the Discord double, in `locale`, for test-alert to post through. */
interface Bot {
  dir: string;
  discord: DiscordDouble;
  vigil: Vigil;
  file: BotConfigFile;
}

async function startTestAlertBot(locale: 'en' | 'ko'): Promise<Bot> {
  const dir = mkdtempSync(join(tmpdir(), `vigil-testalert-${locale}-`));
  const discord = await startDiscordDouble({ token: DOUBLE_TOKEN });
  const file = writeBotConfig({
    dir,
    discordApiBaseUrl: discord.apiBaseUrl,
    channelId: CHANNEL,
    port: await freePort(),
    publicKeyHex: 'ab'.repeat(32),
    webhookToken: 'test-alert-token-0123456789',
    sections: { locale, enrichment: { timeout: '500ms' }, delivery: { minBackoff: '100ms', maxBackoff: '1s', pollInterval: '100ms' } },
  });
  const vigil = await startVigil(readBotConfig(file), { logger: createLogger({ level: 'silent' }) });
  return { dir, discord, vigil, file };
}

async function stopTestAlertBot(bot: Bot | undefined): Promise<void> {
  await bot?.vigil.stop();
  await bot?.discord.stop();
  if (bot) rmSync(bot.dir, { recursive: true, force: true });
}

describe('vigil test-alert', () => {
  let bot: Bot;
  let discord: DiscordDouble;
  let file: BotConfigFile;

  beforeAll(async () => {
    bot = await startTestAlertBot('en');
    ({ discord, file } = bot);
  });

  afterAll(() => stopTestAlertBot(bot));

  async function run(...args: string[]) {
    const out = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const code = await main(['test-alert', '--config', file.path, ...args], { ...process.env, ...file.env });
      return { code, out: out.mock.calls.flat().join('\n'), err: err.mock.calls.flat().join('\n') };
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  }

  function message(predicate: (title: string) => boolean) {
    return eventually(
      'the message at the Discord double',
      () => [...discord.messages.values()].find((x) => predicate(x.embeds?.[0]?.title ?? '')),
      10_000,
      100,
    );
  }

  it('posts a firing test alert that reaches the alert channel, then resolves the same message', async () => {
    const fired = await run();
    expect(fired).toMatchObject({ code: 0 });
    expect(fired.out).toMatch(/accepted by http:\/\/127\.0\.0\.1:\d+\/webhooks\/alertmanager/);
    const firing = await message((t) => t.includes(TEST_ALERTNAME) && t.includes('FIRING'));
    expect(firing.channel_id).toBe(CHANNEL);

    expect((await run('--resolve')).code).toBe(0);
    const resolved = await message((t) => t.includes(TEST_ALERTNAME) && t.includes('RESOLVED'));
    expect(resolved.id).toBe(firing.id);
    expect(discord.invalid).toEqual([]);
  });

  it('says clearly when no bot listens there', async () => {
    const port = await freePort();
    const r = await run('--url', `http://127.0.0.1:${port}/webhooks/alertmanager`);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/could not reach .* ECONNREFUSED .*is `vigil serve` running\?/);
  });

  it.each([
    ['0.0.0.0', 'http://127.0.0.1:8080/webhooks/alertmanager'],
    ['10.1.2.3', 'http://10.1.2.3:8080/webhooks/alertmanager'],
    ['::', 'http://127.0.0.1:8080/webhooks/alertmanager'],
  ])('reaches a bot bound to %s at %s', (host, url) => {
    expect(localWebhookUrl(testConfig({ server: { host, port: 8080 } }))).toBe(url);
  });
});

describe('vigil test-alert in Korean', () => {
  let bot: Bot;
  let discord: DiscordDouble;
  let file: BotConfigFile;

  beforeAll(async () => {
    bot = await startTestAlertBot('ko');
    ({ discord, file } = bot);
  });

  afterAll(() => stopTestAlertBot(bot));

  it('says what happened in Korean, and the alert it sends is worded in Korean within Discord’s limits', async () => {
    const out = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    let code: number;
    let printed: string;
    try {
      code = await main(['test-alert', '--config', file.path], { ...process.env, ...file.env });
      printed = out.mock.calls.flat().join('\n');
    } finally {
      out.mockRestore();
    }
    expect(code).toBe(0);
    expect(printed).toMatch(/^테스트 알림 접수됨 \(http:\/\/127\.0\.0\.1:\d+\/webhooks\/alertmanager\): 알림 채널에서 확인할 수 있습니다$/);
    const sent = await eventually(
      'the test alert at the Discord double',
      () => [...discord.messages.values()].find((m) => JSON.stringify(m).includes(TEST_ALERTNAME)),
      10_000,
      100,
    );
    const embed = JSON.stringify(sent.embeds);
    expect(embed).toContain('의 테스트 알림');
    expect(embed).toContain('Discord에서 이 글이 보이면 웹훅 → Vigil → Discord 경로가 동작합니다.');
    // The double checks every message against Discord's OpenAPI schema, its length limits included.
    expect(discord.invalid).toEqual([]);
  });
});

describe('testAlertBody', () => {
  const at = { resolved: false, startsAt: new Date(0), now: new Date(0), instance: 'vigil-test' };
  const annotations = (body: object) => (body as { commonAnnotations: { summary: string; description: string } }).commonAnnotations;

  it('is in English by default, as before', () => {
    expect(annotations(testAlertBody(at))).toEqual({
      summary: 'Test alert from `vigil test-alert`',
      description: 'If you can read this in Discord, the path webhook → Vigil → Discord works. Run `vigil test-alert --resolve` to resolve it.',
    });
  });

  it('is in Korean for ko, with the commands as they are', () => {
    const { summary, description } = annotations(testAlertBody({ ...at, locale: 'ko' }));
    expect(summary).toBe('`vigil test-alert` 의 테스트 알림');
    expect(description).toContain('`vigil test-alert --resolve`');
    expect(description).toMatch(/[\uac00-\ud7a3]/);
  });
});
