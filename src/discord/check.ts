import { Routes } from 'discord-api-types/v10';
import type { REST } from './djs.js';
import type { APIChannel, APIGuildMember, APIRole, APIUser } from 'discord-api-types/v10';
import { translator, type Locale, type MessageKey, type T } from '../i18n/index.js';
import { classifyDeliveryError } from './classify.js';

/** One line of `vigil check-config --online`: what was checked, whether it is fine, in words (the configured language's). */
export interface OnlineCheck {
  ok: boolean;
  what: string;
  detail: string;
}

/** The permissions Vigil needs in an alert channel, by Discord's bit (docs: Permissions, Bitwise Permission Flags). */
export const CHANNEL_PERMISSIONS = {
  'View Channel': 1n << 10n,
  'Send Messages': 1n << 11n,
  'Embed Links': 1n << 14n,
  'Attach Files': 1n << 15n,
  'Read Message History': 1n << 16n,
} as const;

/** What a thread per incident needs as well (discord.threads). */
export const THREAD_PERMISSIONS = {
  'Create Public Threads': 1n << 35n,
  'Send Messages in Threads': 1n << 38n,
} as const;

/** Each permission's name as Discord's settings show it, in the catalog. */
const PERMISSION_NAMES = {
  'View Channel': 'cli.permission.viewChannel',
  'Send Messages': 'cli.permission.sendMessages',
  'Embed Links': 'cli.permission.embedLinks',
  'Attach Files': 'cli.permission.attachFiles',
  'Read Message History': 'cli.permission.readMessageHistory',
  'Create Public Threads': 'cli.permission.createPublicThreads',
  'Send Messages in Threads': 'cli.permission.sendMessagesInThreads',
} as const satisfies Record<keyof typeof CHANNEL_PERMISSIONS | keyof typeof THREAD_PERMISSIONS, MessageKey>;

/** A permission named by CHANNEL_PERMISSIONS or THREAD_PERMISSIONS, in words of `t`'s language. */
function permissionName(t: T, name: string): string {
  return t(PERMISSION_NAMES[name as keyof typeof PERMISSION_NAMES]);
}

const ADMINISTRATOR = 1n << 3n;
/** "Mention @everyone, @here, and All Roles": lets the bot ping a role that is not mentionable. */
const MENTION_EVERYONE = 1n << 17n;

/** A channel `check-config --online` checks: whether its incidents get threads, and which roles its routes ping there. */
export interface ChannelToCheck {
  name: string;
  id: string;
  /** Default: the `threads` argument (discord.threads). */
  threads?: boolean;
  /** Role ids the routes posting here ping (mentions and escalation). */
  pings?: readonly string[];
}
const ALL = (1n << 64n) - 1n;

/** A permission overwrite of a channel: a role's (type 0) or a member's (type 1). */
interface Overwrite {
  id: string;
  type: number;
  allow: string;
  deny: string;
}

/**
 * A member's permissions in a channel, as Discord computes them (docs: Permissions, "Permission
 * Overwrites"): the @everyone role's permissions and every role's of the member; all of them for
 * an administrator; then the @everyone overwrite, the member's roles' overwrites together, and the
 * member's own overwrite, each denying first, then allowing.
 */
export function channelPermissions(opts: {
  guildId: string;
  userId: string;
  memberRoles: readonly string[];
  roles: ReadonlyArray<{ id: string; permissions: string }>;
  overwrites: readonly Overwrite[];
}): bigint {
  const roleBits = new Map(opts.roles.map((r) => [r.id, BigInt(r.permissions)]));
  let perms = roleBits.get(opts.guildId) ?? 0n;
  for (const id of opts.memberRoles) perms |= roleBits.get(id) ?? 0n;
  if (perms & ADMINISTRATOR) return ALL;
  const apply = (o: { allow: bigint; deny: bigint }) => {
    perms &= ~o.deny;
    perms |= o.allow;
  };
  const bits = (o: Overwrite) => ({ allow: BigInt(o.allow), deny: BigInt(o.deny) });
  const everyone = opts.overwrites.find((o) => o.type === 0 && o.id === opts.guildId);
  if (everyone) apply(bits(everyone));
  const roles = opts.overwrites.filter((o) => o.type === 0 && opts.memberRoles.includes(o.id)).map(bits);
  apply({ allow: roles.reduce((a, o) => a | o.allow, 0n), deny: roles.reduce((d, o) => d | o.deny, 0n) });
  const member = opts.overwrites.find((o) => o.type === 1 && o.id === opts.userId);
  if (member) apply(bits(member));
  return perms;
}

/** The names of the permissions `wanted` that `perms` lacks. */
export function missingPermissions(perms: bigint, wanted: Record<string, bigint>): string[] {
  return Object.entries(wanted)
    .filter(([, bit]) => (perms & bit) === 0n)
    .map(([name]) => name);
}

/** Why a Discord call failed, in one line (Discord's own words and code). */
function failure(err: unknown): string {
  return classifyDeliveryError(err).message;
}

/**
 * Checks with Discord that the bot token is valid and that the bot may post alerts in each channel:
 * sees it, may send, embed, attach (and start threads when `threads`). Says so in `locale`
 * (Discord's own error words stay as they are). Never throws.
 */
export async function checkDiscord(rest: REST, channels: readonly ChannelToCheck[], threads: boolean, locale: Locale = 'en'): Promise<OnlineCheck[]> {
  const t = translator(locale);
  let me: APIUser;
  try {
    me = (await rest.get(Routes.user('@me'))) as APIUser;
  } catch (err) {
    return [{ ok: false, what: t('cli.check.token'), detail: t('cli.check.tokenRefused', { failure: failure(err) }) }];
  }
  const out: OnlineCheck[] = [{ ok: true, what: t('cli.check.token'), detail: t('cli.check.tokenValid', { username: me.username, id: me.id }) }];
  const guilds = new Map<string, Promise<{ member: APIGuildMember; roles: APIRole[] }>>();
  for (const { name, id, ...c } of channels) {
    const wanted: Record<string, bigint> = { ...CHANNEL_PERMISSIONS, ...((c.threads ?? threads) ? THREAD_PERMISSIONS : {}) };
    const what = `${name} ${id}`;
    try {
      const channel = (await rest.get(Routes.channel(id))) as APIChannel & { guild_id?: string; permission_overwrites?: Overwrite[] };
      if (!channel.guild_id) {
        out.push({ ok: false, what, detail: t('cli.check.notServerChannel') });
        continue;
      }
      const guildId = channel.guild_id;
      let guild = guilds.get(guildId);
      if (!guild) {
        guild = Promise.all([rest.get(Routes.guildMember(guildId, me.id)), rest.get(Routes.guildRoles(guildId))]).then(([member, roles]) => ({
          member: member as APIGuildMember,
          roles: roles as APIRole[],
        }));
        guilds.set(guildId, guild);
      }
      const { member, roles } = await guild;
      const perms = channelPermissions({ guildId, userId: me.id, memberRoles: member.roles, roles, overwrites: channel.permission_overwrites ?? [] });
      const missing = missingPermissions(perms, wanted);
      const label = 'name' in channel && channel.name ? `#${channel.name}` : t('cli.check.theChannel');
      out.push(
        missing.length
          ? { ok: false, what, detail: t('cli.check.lacks', { channel: label, missing: missing.map((p) => permissionName(t, p)).join(', ') }) }
          : {
              ok: true,
              what,
              detail: t('cli.check.may', {
                channel: label,
                permissions: Object.keys(wanted)
                  .map((p) => permissionName(t, p).toLocaleLowerCase(locale))
                  .join(', '),
              }),
            },
      );
      for (const roleId of c.pings ?? []) out.push(pingCheck(t, t('cli.check.role', { channel: what, roleId }), roles, roleId, perms));
    } catch (err) {
      out.push({ ok: false, what, detail: t('cli.check.unseen', { failure: failure(err) }) });
    }
  }
  return out;
}

/** Whether the bot's mention of a role pings it: the role exists, and is mentionable or the bot may mention all roles there. */
function pingCheck(t: T, what: string, roles: readonly APIRole[], roleId: string, perms: bigint): OnlineCheck {
  const role = roles.find((r) => r.id === roleId);
  if (!role) return { ok: false, what, detail: t('cli.check.roleMissing') };
  if (role.mentionable || (perms & MENTION_EVERYONE) !== 0n) return { ok: true, what, detail: t('cli.check.rolePinged', { role: role.name }) };
  return { ok: false, what, detail: t('cli.check.roleSilent', { role: role.name }) };
}
