// src/discord/djs.ts loads @discordjs/rest's CommonJS build, the very copy discord.js requires, so
// that errors thrown by the gateway client's REST are `instanceof` the classes delivery checks.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiscordAPIError, HTTPError, RateLimitError, REST } from '../../src/discord/djs.js';

const require = createRequire(import.meta.url);

describe('the REST classes delivery uses', () => {
  it('are the copy of @discordjs/rest that discord.js itself loads (one copy installed)', () => {
    const fromDiscordJs = createRequire(require.resolve('discord.js')).resolve('@discordjs/rest');
    expect(fromDiscordJs).toBe(require.resolve('@discordjs/rest'));
    expect(dirname(fromDiscordJs)).toMatch(/node_modules\/@discordjs\/rest\/dist$/);
  });

  it.each([
    ['REST', REST],
    ['DiscordAPIError', DiscordAPIError],
    ['HTTPError', HTTPError],
    ['RateLimitError', RateLimitError],
  ] as const)('%s is the class discord.js exports', async (name, ours) => {
    const djs = (await import('discord.js')) as unknown as Record<string, unknown>;
    expect(djs[name]).toBe(ours);
  });
});
