import type { REST } from './djs.js';
import { Routes, type RESTPutAPIApplicationCommandsResult } from 'discord-api-types/v10';
import type { Command } from '../commands/types.js';
import { translate, type Locale } from '../i18n/index.js';

/** Where the command list was registered and what Discord now holds there. */
export interface Registration {
  /** "global", or the guild id. */
  scope: 'global' | { guildId: string };
  names: string[];
}

/**
 * Bulk-overwrites the application's slash commands with `commands` (one PUT: commands missing
 * from the list are deleted), globally or in one guild (instant, for testing). An error of its own
 * (Discord answered without a list) is worded in `locale`, for `vigil register-commands` to print.
 */
export async function registerCommands(
  rest: REST,
  opts: { applicationId: string; guildId?: string | undefined; commands: readonly Command[]; locale?: Locale },
): Promise<Registration> {
  const route = opts.guildId ? Routes.applicationGuildCommands(opts.applicationId, opts.guildId) : Routes.applicationCommands(opts.applicationId);
  const result = (await rest.put(route, { body: opts.commands.map((c) => c.data) })) as RESTPutAPIApplicationCommandsResult;
  if (!Array.isArray(result)) throw new Error(translate(opts.locale ?? 'en', 'cli.register.noList'));
  return { scope: opts.guildId ? { guildId: opts.guildId } : 'global', names: result.map((c) => c.name) };
}
