// The interaction's `locale` (the user's Discord client language) end to end: signed interactions
// POSTed to a running Vigil's /interactions, its answers handed to the Discord double (checked
// against Discord's OpenAPI spec), with the real commands and buttons.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIEmbed, APIInteraction } from 'discord-api-types/v10';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { customId } from '../../src/commands/router.js';
import { parseInteraction } from '../../src/discord/interaction-payload.js';
import { createLogger } from '../../src/log.js';
import { startVigil, type Vigil } from '../../src/main.js';
import { botConfig, CLOSED_URL } from '../support/bot-config.js';
import { startDiscordDouble, type DiscordDouble } from '../support/discord-double.js';
import { eventually } from '../support/eventually.js';
import {
  autocompleteInteraction,
  botMessage,
  buttonInteraction,
  commandInteraction,
  generateTestKeys,
  pingInteraction,
  postInteraction,
  sendInteraction,
  signatureHeaders,
  type TestKeys,
} from '../support/interactions.js';

/** `payload` as sent by a client in `locale` (undefined: the field left out, as on a PING). */
function inLocale<P extends APIInteraction>(payload: P, locale: unknown): P {
  const { locale: _sent, ...rest } = payload as P & { locale?: unknown };
  return (locale === undefined ? rest : { ...rest, locale }) as P;
}

describe('parseInteraction reads the client locale', () => {
  it.each([
    ['a command', commandInteraction('logs')],
    ['an autocomplete request', autocompleteInteraction('logs', 'container', { container: 'a' })],
    ['a button press', buttonInteraction(customId('ack', 1), botMessage({ id: '1', username: 'vigil', discriminator: '0', global_name: null, avatar: null }))],
  ])('of %s onto its user', (_what, payload) => {
    const parsed = parseInteraction(inLocale(payload, 'ko'));
    expect('interaction' in parsed && parsed.interaction.incoming.base.user.locale).toBe('ko');
  });

  it.each([
    ['left out', undefined],
    ['not a string', 42],
    ['too long to be a locale', 'x'.repeat(100)],
    ['empty', ''],
  ])('handles an interaction whose locale is %s, without one', (_what, locale) => {
    const parsed = parseInteraction(inLocale(commandInteraction('logs'), locale));
    expect('interaction' in parsed).toBe(true);
    if ('interaction' in parsed) expect(parsed.interaction.incoming.base.user).not.toHaveProperty('locale');
  });

  it('still answers a PING, which has no locale', () => {
    expect(parseInteraction(pingInteraction())).toEqual({ ping: true });
  });
});

describe('POST /interactions answers in the user’s language, else the configured one (ko)', () => {
  let discord: DiscordDouble;
  let keys: TestKeys;
  let vigil: Vigil;
  let url: string;
  let dir: string;

  beforeAll(async () => {
    discord = await startDiscordDouble();
    keys = generateTestKeys();
    dir = mkdtempSync(join(tmpdir(), 'vigil-interaction-locale-'));
    const config = botConfig({
      dir,
      discordApiBaseUrl: discord.apiBaseUrl,
      prometheusUrl: CLOSED_URL,
      lokiUrl: CLOSED_URL,
      mode: 'http',
      publicKeyHex: keys.publicKeyHex,
      sections: { locale: 'ko', enrichment: { timeout: '2s' } },
    });
    vigil = await startVigil(config, { logger: createLogger({ level: 'silent' }) });
    url = `http://127.0.0.1:${vigil.port}`;
  });

  afterAll(async () => {
    await vigil?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await discord?.stop();
  });

  afterEach(() => {
    // Every request the bot made to Discord was valid against the spec and the docs.
    expect(discord.invalid).toEqual([]);
  });

  /** Delivers `payload` as a client in `locale` would send it; the first answer's content once it is final. */
  async function answer(payload: APIInteraction, locale: unknown): Promise<{ content?: string; embeds?: APIEmbed[] }> {
    const sent = await sendInteraction(url, inLocale(payload, locale), { keys, discord });
    expect(sent.status).toBe(200);
    expect(sent.errors).toEqual([]);
    const original = await eventually('the answer', () => (sent.record.original && !sent.record.original.loading ? sent.record.original : undefined));
    return original;
  }

  it.each([
    ['ko', '🔕 사일런스에는 Alertmanager가 필요합니다'],
    ['en-US', '🔕 Silences need an Alertmanager'],
    ['en-GB', '🔕 Silences need an Alertmanager'],
    ['ja', '🔕 사일런스에는 Alertmanager가 필요합니다'],
    [undefined, '🔕 사일런스에는 Alertmanager가 필요합니다'],
    [42, '🔕 사일런스에는 Alertmanager가 필요합니다'],
  ])('answers /silence list from a client in %s', async (locale, start) => {
    const reply = await answer(commandInteraction('silence', {}, { subcommand: 'list' }), locale);
    expect(reply.content?.startsWith(start)).toBe(true);
  });

  it.each([
    ['ko', '⚠️ limit: 1~25 사이의 정수가 필요합니다'],
    ['en-US', '⚠️ limit: expected an integer from 1 to 25'],
  ])('names a bad option in %s', async (locale, content) => {
    const reply = await answer(commandInteraction('top', { limit: 99 }), locale);
    expect(reply.content).toBe(content);
  });

  it.each([
    ['ko', '상태: 타깃 알 수 없음, 백엔드 2개 준비 안 됨'],
    ['en-US', 'Health: targets unknown, 2 backends not ready'],
  ])('answers /health (deferred, then edited) in %s', async (locale, title) => {
    const reply = await answer(commandInteraction('health'), locale);
    expect(reply.embeds?.[0]?.title).toBe(title);
  });

  it.each([
    ['ko', '이 알림은 더 이상 Vigil 저장소에 없어 확인할 수 없습니다.'],
    ['en-US', "This alert is no longer in Vigil's store: it cannot be acknowledged."],
  ])('answers a button press in %s', async (locale, content) => {
    const message = botMessage(discord.botUser, { embeds: [{ title: '🔥 HighCPU', description: 'cpu 97 %' }] });
    const sent = await sendInteraction(url, inLocale(buttonInteraction(customId('ack', 987654), message), locale), { keys, discord });
    expect(sent.errors).toEqual([]);
    expect(sent.body).toMatchObject({ type: 4, data: { content, flags: 64 } });
  });

  it('still answers a PING with PONG', async () => {
    const body = JSON.stringify(pingInteraction());
    expect(await postInteraction(url, body, signatureHeaders(body, keys))).toEqual({ status: 200, body: { type: 1 } });
  });
});
