import { ApplicationCommandOptionType } from 'discord-api-types/v10';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/commands/index.js';
import type { Command } from '../../src/commands/types.js';
import { registerCommands } from '../../src/discord/register.js';
import { createRest } from '../../src/discord/rest.js';
import { DOUBLE_TOKEN, specSchemaErrors, startDiscordDouble, type DiscordDouble } from '../support/discord-double.js';
import { TEST_APPLICATION_ID, TEST_GUILD_ID } from '../support/interactions.js';

const LOCAL: Command[] = [
  {
    data: { name: 'ping', description: 'Answers pong' },
    async execute(ctx) {
      await ctx.reply({ content: 'pong' });
    },
  },
  {
    data: {
      name: 'mute',
      description: 'Changes state',
      default_member_permissions: '32',
      options: [{ type: ApplicationCommandOptionType.String, name: 'what', description: 'What', required: true }],
    },
    async execute(ctx) {
      await ctx.reply({ content: 'muted' });
    },
  },
];

let discord: DiscordDouble;

beforeEach(async () => {
  discord = await startDiscordDouble({ applicationId: TEST_APPLICATION_ID });
});

afterEach(async () => {
  await discord.stop();
});

const rest = () => createRest({ token: DOUBLE_TOKEN, apiBaseUrl: discord.apiBaseUrl });

describe('registerCommands', () => {
  it('bulk-overwrites the global commands with exactly the list, in one valid PUT', async () => {
    const done = await registerCommands(rest(), { applicationId: TEST_APPLICATION_ID, commands: LOCAL });
    expect(done).toEqual({ scope: 'global', names: ['ping', 'mute'] });
    expect(discord.requests.map((r) => [r.method, r.path, r.operationId, r.status])).toEqual([
      ['PUT', `/api/v10/applications/${TEST_APPLICATION_ID}/commands`, 'bulk_set_application_commands', 200],
    ]);
    expect(discord.requests[0]!.body).toEqual(LOCAL.map((c) => c.data));
    expect(discord.invalid).toEqual([]);
    for (const c of discord.commands.global ?? []) expect(specSchemaErrors('ApplicationCommandResponse', c)).toEqual([]);
    expect(discord.commands.global?.find((c) => c.name === 'mute')?.default_member_permissions).toBe('32');
  });

  it('registers in one guild when a guild id is given', async () => {
    const done = await registerCommands(rest(), { applicationId: TEST_APPLICATION_ID, guildId: TEST_GUILD_ID, commands: LOCAL });
    expect(done).toEqual({ scope: { guildId: TEST_GUILD_ID }, names: ['ping', 'mute'] });
    expect(discord.requests[0]).toMatchObject({
      method: 'PUT',
      path: `/api/v10/applications/${TEST_APPLICATION_ID}/guilds/${TEST_GUILD_ID}/commands`,
      operationId: 'bulk_set_guild_application_commands',
    });
    expect(discord.commands.global).toBeUndefined();
    expect(discord.commands.guilds.get(TEST_GUILD_ID)?.map((c) => c.name)).toEqual(['ping', 'mute']);
  });

  it('registers the real COMMANDS list as a body the spec accepts', async () => {
    const done = await registerCommands(rest(), { applicationId: TEST_APPLICATION_ID, commands: COMMANDS });
    expect(done.names).toEqual(COMMANDS.map((c) => c.data.name));
    expect(discord.invalid).toEqual([]);
  });

  it.each([
    ['en', 'Discord answered the bulk overwrite without a command list'],
    ['ko', 'Discord가 일괄 덮어쓰기에 명령 목록 없이 응답했습니다'],
  ] as const)('says in %s when Discord answers without a command list', async (locale, message) => {
    discord.failNext([{ status: 200, body: { message: 'not a list' } }]);
    await expect(registerCommands(rest(), { applicationId: TEST_APPLICATION_ID, commands: LOCAL, locale })).rejects.toThrow(message);
  });

  it("throws Discord's error when the token is refused", async () => {
    const wrong = createRest({ token: 'MTIzNDU2Nzg5MDEyMzQ1Njc4.wrong.not-the-double-token-00000000', apiBaseUrl: discord.apiBaseUrl });
    await expect(registerCommands(wrong, { applicationId: TEST_APPLICATION_ID, commands: LOCAL })).rejects.toThrow('401: Unauthorized');
  });
});
