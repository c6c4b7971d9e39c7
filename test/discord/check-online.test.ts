import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDiscord } from '../../src/discord/check.js';
import { createRest } from '../../src/discord/rest.js';
import { DOUBLE_TOKEN, startDiscordDouble, type DiscordDouble } from '../support/discord-double.js';

const GUILD = '100000000000000001';
const BOT = '200000000000000002';
const ROLE = '300000000000000003';
const PINGABLE = '300000000000000005';
const SILENT = '300000000000000006';
const GONE = '300000000000000007';
const OPEN = '223456789012340001';
const CLOSED = '223456789012340002';
const UNKNOWN = '223456789012340099';
/** Every permission Vigil asks for, threads included. */
const NEEDED = ((1n << 10n) | (1n << 11n) | (1n << 14n) | (1n << 15n) | (1n << 16n) | (1n << 35n) | (1n << 38n)).toString();

describe('checkDiscord in the configured language', () => {
  let discord: DiscordDouble;

  beforeAll(async () => {
    discord = await startDiscordDouble({
      token: DOUBLE_TOKEN,
      channels: [OPEN, CLOSED],
      guild: {
        id: GUILD,
        botUserId: BOT,
        roles: [
          { id: GUILD, permissions: '0' },
          { id: ROLE, permissions: NEEDED },
          { id: PINGABLE, permissions: '0', mentionable: true },
          { id: SILENT, permissions: '0' },
        ],
        botRoles: [ROLE],
        // The bot may see CLOSED and nothing else there: every other permission is missing.
        overwrites: { [CLOSED]: [{ id: ROLE, type: 0, allow: '0', deny: (BigInt(NEEDED) & ~(1n << 10n)).toString() }] },
      },
    });
  });

  afterAll(async () => {
    await discord?.stop();
  });

  const rest = () => createRest({ token: DOUBLE_TOKEN, apiBaseUrl: discord.apiBaseUrl, timeoutMs: 2000 });
  const channels = [
    { name: 'alert channel', id: OPEN, pings: [PINGABLE, SILENT, GONE] },
    { name: 'route db channel', id: CLOSED },
    { name: 'watchdog channel', id: UNKNOWN },
  ];

  it('says it in English by default, as before', async () => {
    const lines = (await checkDiscord(rest(), channels, true)).map((c) => `${c.ok ? 'ok' : 'FAIL'} ${c.what}: ${c.detail}`);
    expect(lines.slice(0, 6)).toEqual([
      `ok Discord token: valid, bot vigil (${BOT})`,
      `ok alert channel ${OPEN}: #alerts-0001: the bot may view channel, send messages, embed links, attach files, read message history, create public threads, send messages in threads`,
      `ok alert channel ${OPEN}: role ${PINGABLE}: @role-2 is pinged by the bot's mentions`,
      `FAIL alert channel ${OPEN}: role ${SILENT}: @role-3 would not be pinged: allow anyone to @mention it (Server Settings > Roles), or give the bot "Mention @everyone, @here, and All Roles" in this channel`,
      `FAIL alert channel ${OPEN}: role ${GONE}: not a role of this channel's server: check the id in routes (right-click the role > Copy Role ID)`,
      `FAIL route db channel ${CLOSED}: #alerts-0002: the bot lacks Send Messages, Embed Links, Attach Files, Read Message History, Create Public Threads, Send Messages in Threads: allow them for the bot (or its role) in the channel's permissions`,
    ]);
    expect(lines[6]).toMatch(
      new RegExp(`^FAIL watchdog channel ${UNKNOWN}: 404.*: the bot cannot see this channel; check the id, and that the bot is in its server$`),
    );
    expect(discord.invalid).toEqual([]);
  });

  it('says it in Korean for ko, each permission by the name Discord’s Korean settings give it', async () => {
    const ko = [
      { ...channels[0]!, name: '알림 채널' },
      { ...channels[1]!, name: '라우트 db 채널' },
      { ...channels[2]!, name: '워치독 채널' },
    ];
    const lines = (await checkDiscord(rest(), ko, true, 'ko')).map((c) => `${c.ok ? 'ok' : 'FAIL'} ${c.what}: ${c.detail}`);
    expect(lines.slice(0, 6)).toEqual([
      `ok Discord 토큰: 유효함, 봇 vigil (${BOT})`,
      `ok 알림 채널 ${OPEN}: #alerts-0001: 봇 권한 있음: 채널 보기, 메시지 보내기, 링크 첨부, 파일 첨부, 메시지 기록 보기, 공개 스레드 만들기, 스레드에서 메시지 보내기`,
      `ok 알림 채널 ${OPEN}: 역할 ${PINGABLE}: @role-2: 봇의 멘션으로 호출됩니다`,
      `FAIL 알림 채널 ${OPEN}: 역할 ${SILENT}: @role-3: 호출되지 않습니다. 누구나 @멘션할 수 있게 허용하거나 (서버 설정 > 역할), 이 채널에서 봇에게 "@everyone, @here, 모든 역할 멘션하기" 권한을 줘야 합니다`,
      `FAIL 알림 채널 ${OPEN}: 역할 ${GONE}: 이 채널이 있는 서버의 역할이 아닙니다: routes 의 ID를 확인해야 합니다 (역할 우클릭 > 역할 ID 복사하기)`,
      `FAIL 라우트 db 채널 ${CLOSED}: #alerts-0002: 봇에게 권한이 없습니다: 메시지 보내기, 링크 첨부, 파일 첨부, 메시지 기록 보기, 공개 스레드 만들기, 스레드에서 메시지 보내기. 채널 권한에서 봇(또는 봇의 역할)에 허용해야 합니다`,
    ]);
    // Discord's own words of the failure stay as Discord said them.
    expect(lines[6]).toMatch(
      new RegExp(`^FAIL 워치독 채널 ${UNKNOWN}: 404.*: 봇이 이 채널을 볼 수 없습니다\\. 채널 ID와, 봇이 그 서버에 있는지 확인해야 합니다$`),
    );
  });

  it('says a refused token in Korean', async () => {
    const wrong = createRest({ token: 'MTIzNDU2Nzg5MDEyMzQ1Njc4.wrong.not-the-double-token-00000000', apiBaseUrl: discord.apiBaseUrl, timeoutMs: 2000 });
    const [token, ...rest] = await checkDiscord(wrong, channels, true, 'ko');
    expect(rest).toEqual([]);
    expect(token).toMatchObject({ ok: false, what: 'Discord 토큰' });
    expect(token!.detail).toMatch(/^401.*: discord\.token 을 확인해야 합니다 \(Developer Portal > Bot > Reset Token\)$/);
  });
});
