// src/discord/djs.ts loads @discordjs/rest's CommonJS build; package.json's overrides keep one undici.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { DiscordAPIError, HTTPError, RateLimitError, REST } from '../../src/discord/djs.js';

const require = createRequire(import.meta.url);

describe('the Discord libraries Vigil loads', () => {
  it('@discordjs/rest resolves the project undici 7, so a single copy is loaded', () => {
    const own = createRequire(require.resolve('@discordjs/rest')).resolve('undici');
    expect(own).toBe(require.resolve('undici'));
    expect((require('undici/package.json') as { version: string }).version).toMatch(/^7\./);
  });

  it('@discordjs/ws is built for the same @discordjs/rest (one copy installed)', () => {
    expect(createRequire(require.resolve('@discordjs/ws')).resolve('@discordjs/rest')).toBe(require.resolve('@discordjs/rest'));
  });

  it.each([
    ['REST', REST],
    ['DiscordAPIError', DiscordAPIError],
    ['HTTPError', HTTPError],
    ['RateLimitError', RateLimitError],
  ] as const)('%s is the class of the CommonJS @discordjs/rest', (name, ours) => {
    expect((require('@discordjs/rest') as Record<string, unknown>)[name]).toBe(ours);
  });
});
