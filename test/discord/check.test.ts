import { describe, expect, it } from 'vitest';
import { channelPermissions, CHANNEL_PERMISSIONS, missingPermissions, THREAD_PERMISSIONS } from '../../src/discord/check.js';

const GUILD = '100000000000000001';
const BOT = '200000000000000002';
const ROLE = '300000000000000003';
const OTHER = '300000000000000004';
const bit = (...names: Array<keyof typeof CHANNEL_PERMISSIONS | keyof typeof THREAD_PERMISSIONS>) =>
  names.reduce((a, n) => a | ({ ...CHANNEL_PERMISSIONS, ...THREAD_PERMISSIONS } as Record<string, bigint>)[n]!, 0n).toString();
const EVERYTHING_NEEDED = bit(
  'View Channel',
  'Send Messages',
  'Embed Links',
  'Attach Files',
  'Read Message History',
  'Create Public Threads',
  'Send Messages in Threads',
);

describe("channelPermissions: Discord's permission overwrite order", () => {
  const base = { guildId: GUILD, userId: BOT, memberRoles: [ROLE] };
  it.each([
    [
      "the @everyone role and the member's roles together",
      [
        { id: GUILD, permissions: bit('View Channel') },
        { id: ROLE, permissions: bit('Send Messages') },
      ],
      [],
      ['Embed Links', 'Attach Files', 'Read Message History'],
    ],
    [
      'an administrator, whatever the overwrites deny',
      [
        { id: GUILD, permissions: '0' },
        { id: ROLE, permissions: (1n << 3n).toString() },
      ],
      [{ id: GUILD, type: 0, allow: '0', deny: EVERYTHING_NEEDED }],
      [],
    ],
    [
      'the @everyone overwrite denying what the roles give',
      [{ id: GUILD, permissions: EVERYTHING_NEEDED }],
      [{ id: GUILD, type: 0, allow: '0', deny: bit('Attach Files') }],
      ['Attach Files'],
    ],
    [
      'a role overwrite allowing back what @everyone denies',
      [{ id: GUILD, permissions: EVERYTHING_NEEDED }],
      [
        { id: GUILD, type: 0, allow: '0', deny: bit('View Channel') },
        { id: ROLE, type: 0, allow: bit('View Channel'), deny: '0' },
      ],
      [],
    ],
    [
      'a role the bot does not have: its overwrite does not count',
      [{ id: GUILD, permissions: EVERYTHING_NEEDED }],
      [{ id: OTHER, type: 0, allow: '0', deny: bit('Send Messages') }],
      [],
    ],
    [
      'the member overwrite last, over its roles',
      [{ id: GUILD, permissions: EVERYTHING_NEEDED }],
      [
        { id: ROLE, type: 0, allow: bit('Embed Links'), deny: '0' },
        { id: BOT, type: 1, allow: '0', deny: bit('Embed Links') },
      ],
      ['Embed Links'],
    ],
  ])('counts %s', (_what, roles, overwrites, missing) => {
    const perms = channelPermissions({ ...base, roles, overwrites });
    expect(missingPermissions(perms, CHANNEL_PERMISSIONS)).toEqual(missing);
  });

  it('names the thread permissions only when they are asked for', () => {
    const perms = channelPermissions({
      ...base,
      roles: [{ id: GUILD, permissions: bit('View Channel', 'Send Messages', 'Embed Links', 'Attach Files', 'Read Message History') }],
      overwrites: [],
    });
    expect(missingPermissions(perms, CHANNEL_PERMISSIONS)).toEqual([]);
    expect(missingPermissions(perms, { ...CHANNEL_PERMISSIONS, ...THREAD_PERMISSIONS })).toEqual(['Create Public Threads', 'Send Messages in Threads']);
  });
});
