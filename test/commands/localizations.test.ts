import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/commands/index.js';
import { CATALOGS, type MessageKey } from '../../src/i18n/index.js';
import { hasHangul } from '../../src/render/chart-theme.js';
import { codePointLength } from '../../src/render/truncate.js';
import { createRest } from '../../src/discord/rest.js';
import { registerCommands } from '../../src/discord/register.js';
import { DOUBLE_TOKEN, startDiscordDouble } from '../support/discord-double.js';
import { TEST_APPLICATION_ID } from '../support/interactions.js';

/** Discord's limits on a command's or option's description and a choice's name (1 to 100 characters). */
const DESCRIPTION_MAX = 100;

interface Localizable {
  name: string;
  description?: string;
  description_localizations?: Record<string, string | null> | null;
  name_localizations?: Record<string, string | null> | null;
  options?: Localizable[];
  choices?: Array<{ name: string; name_localizations?: Record<string, string | null> | null }>;
}

/** Every description (command, subcommand, option) and every choice, with its path: "logs", "logs.level", "logs.level=error". */
function walk(
  item: Localizable,
  path: string,
): Array<{ path: string; kind: 'description' | 'choice'; en: string; ko: string | null | undefined; names?: unknown }> {
  const here = [{ path, kind: 'description' as const, en: item.description ?? '', ko: item.description_localizations?.ko, names: item.name_localizations }];
  const choices = (item.choices ?? []).map((c) => ({ path: `${path}=${c.name}`, kind: 'choice' as const, en: c.name, ko: c.name_localizations?.ko }));
  return [...here, ...choices, ...(item.options ?? []).flatMap((o) => walk(o, `${path}.${o.name}`))];
}

const entries = COMMANDS.flatMap((c) => walk(c.data as Localizable, c.data.name));

describe('Korean localizations of the slash commands', () => {
  it.each(entries.map((e) => [e.path, e.kind, e]))("%s: its %s has Korean text within Discord's limit", (_path, _kind, e) => {
    expect(e.ko).toBeTruthy();
    expect(hasHangul(e.ko!)).toBe(true);
    expect(codePointLength(e.ko!)).toBeLessThanOrEqual(DESCRIPTION_MAX);
  });

  it('takes every description and choice name, English and Korean, from one key of the commands catalog', () => {
    // A catalog message as a pattern: its {arguments} stand for any text.
    const pattern = (message: string) => new RegExp(`^${message.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '.+')}$`);
    const keys = (Object.keys(CATALOGS.en) as MessageKey[]).filter((k) => k.startsWith('commands.'));
    const unmatched = entries.filter((e) => !keys.some((k) => pattern(CATALOGS.en[k]).test(e.en) && pattern(CATALOGS.ko[k]).test(e.ko ?? '')));
    expect(unmatched.map((e) => e.path)).toEqual([]);
  });

  it('keeps every command and option name as it is: only descriptions and choices are localized', () => {
    expect(entries.filter((e) => e.names !== undefined).map((e) => e.path)).toEqual([]);
  });

  it('goes to Discord with the Korean localizations in one registration its OpenAPI spec accepts', async () => {
    const discord = await startDiscordDouble({ applicationId: TEST_APPLICATION_ID });
    try {
      await registerCommands(createRest({ token: DOUBLE_TOKEN, apiBaseUrl: discord.apiBaseUrl }), { applicationId: TEST_APPLICATION_ID, commands: COMMANDS });
      expect(discord.invalid).toEqual([]);
      const sent = discord.requests[0]!.body as Localizable[];
      expect(sent.map((c) => c.description_localizations?.ko)).toEqual(COMMANDS.map((c) => c.data.description_localizations?.ko));
      expect(sent.every((c) => hasHangul(c.description_localizations?.ko ?? ''))).toBe(true);
    } finally {
      await discord.stop();
    }
  });
});
