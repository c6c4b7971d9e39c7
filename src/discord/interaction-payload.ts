// What Discord sends as an interaction, validated (either transport's payload) and turned into
// the transport-neutral view the router's contexts are built from.
import { ApplicationCommandOptionType } from 'discord-api-types/v10';
import { z } from 'zod';
import type { AutocompleteContext, CommandContext, ComponentContext, InteractionUser, OptionValue } from '../commands/types.js';

/** An option as Discord nests it (APIApplicationCommandInteractionDataOption). */
interface RawOption {
  name: string;
  type: number;
  value?: unknown;
  focused?: boolean;
  options?: readonly RawOption[];
}

/** Flattened options: the subcommand's name and its option values by name, plus the focused one. */
interface FlatOptions {
  subcommand?: string;
  options: Record<string, OptionValue>;
  focused?: { name: string; value: string };
}

/**
 * Flattens Discord's option tree: a SUB_COMMAND (inside a SUB_COMMAND_GROUP or not) gives the
 * subcommand name and its own options; the focused option (autocomplete) is reported apart.
 */
export function flattenOptions(options: readonly RawOption[] | undefined): FlatOptions {
  const out: FlatOptions = { options: {} };
  const walk = (list: readonly RawOption[] | undefined) => {
    for (const o of list ?? []) {
      const type = o.type as ApplicationCommandOptionType;
      if (type === ApplicationCommandOptionType.Subcommand || type === ApplicationCommandOptionType.SubcommandGroup) {
        if (type === ApplicationCommandOptionType.Subcommand) out.subcommand = o.name;
        walk(o.options);
        continue;
      }
      if (o.focused)
        out.focused = {
          name: o.name,
          value: typeof o.value === 'string' || typeof o.value === 'number' || typeof o.value === 'boolean' ? String(o.value) : '',
        };
      if (typeof o.value === 'string' || typeof o.value === 'number' || typeof o.value === 'boolean') {
        out.options[o.name] = o.value;
      }
    }
  };
  walk(options);
  return out;
}

/** The fields of a slash command invocation, without the answering methods. */
export type CommandBase = Omit<CommandContext, 'defer' | 'reply' | 'followUp'>;
/** The fields of an autocomplete request, without `respond`. */
export type AutocompleteBase = Omit<AutocompleteContext, 'respond'>;
/** The fields of a button press, without the answering methods. */
export type ComponentBase = Pick<ComponentContext, 'customId' | 'user' | 'message'>;

/** An interaction as both transports hand it over. */
export type Incoming = { kind: 'command'; base: CommandBase } | { kind: 'autocomplete'; base: AutocompleteBase } | { kind: 'component'; base: ComponentBase };

/** Discord's locales are short ("ko", "en-US", "zh-TW"); a longer value is no locale. */
const MAX_LOCALE_LENGTH = 16;
const snowflake = z.string().regex(/^\d{1,20}$/, 'expected a snowflake string');
const userSchema = z.object({ id: snowflake, username: z.string() });
const optionSchema: z.ZodType<RawOption> = z.lazy(() =>
  z.object({
    name: z.string().min(1),
    type: z.number().int(),
    value: z.union([z.string(), z.number(), z.boolean()]).optional(),
    focused: z.boolean().optional(),
    options: z.array(optionSchema).optional(),
  }),
);
const commandData = z.object({ name: z.string().min(1), options: z.array(optionSchema).optional() });
const base = z.object({
  id: snowflake,
  application_id: snowflake,
  token: z.string().min(1).max(1000),
  guild_id: snowflake.optional(),
  channel_id: snowflake.optional(),
  channel: z.object({ id: snowflake }).optional(),
  member: z.object({ user: userSchema, roles: z.array(snowflake) }).optional(),
  user: userSchema.optional(),
  // The user's client language ("ko", "en-US"); not on PING. Anything odd is ignored, never refused.
  locale: z.string().min(2).max(MAX_LOCALE_LENGTH).optional().catch(undefined),
});

/** The parts of an interaction payload Vigil reads, by interaction type. */
const interactionSchema = z.discriminatedUnion('type', [
  base.extend({ type: z.literal(1) }),
  base.extend({ type: z.literal(2), data: commandData }),
  base.extend({
    type: z.literal(3),
    data: z.object({ custom_id: z.string().min(1).max(100), component_type: z.number().int() }),
    message: z.object({ id: snowflake, channel_id: snowflake, embeds: z.array(z.record(z.string(), z.unknown())).default([]) }),
  }),
  base.extend({ type: z.literal(4), data: commandData }),
]);

/** A validated interaction payload. */
type InteractionPayload = z.output<typeof interactionSchema>;

/** Why a payload is refused, field by field. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/** The invoking user: `member.user` in a guild, `user` in a DM; roles only in a guild; their client's language when sent. */
function interactionUser(p: InteractionPayload): InteractionUser | undefined {
  const u = p.member?.user ?? p.user;
  return u && { id: u.id, username: u.username, roles: p.member?.roles ?? [], ...(p.locale !== undefined ? { locale: p.locale } : {}) };
}

/** Builds the transport-neutral view of a validated (non-PING) payload. */
function incomingFromPayload(p: InteractionPayload, user: InteractionUser): Incoming | undefined {
  const where = { ...(p.guild_id ? { guildId: p.guild_id } : {}), ...((p.channel_id ?? p.channel?.id) ? { channelId: p.channel_id ?? p.channel?.id } : {}) };
  switch (p.type) {
    case 2: {
      const flat = flattenOptions(p.data.options);
      return {
        kind: 'command',
        base: { commandName: p.data.name, ...(flat.subcommand ? { subcommand: flat.subcommand } : {}), options: flat.options, user, ...where },
      };
    }
    case 4: {
      const flat = flattenOptions(p.data.options);
      return {
        kind: 'autocomplete',
        base: {
          commandName: p.data.name,
          ...(flat.subcommand ? { subcommand: flat.subcommand } : {}),
          focused: flat.focused ?? { name: '', value: '' },
          options: flat.options,
          user,
        },
      };
    }
    case 3:
      return {
        kind: 'component',
        base: { customId: p.data.custom_id, user, message: { id: p.message.id, channelId: p.message.channel_id, embeds: p.message.embeds } },
      };
    default:
      return undefined;
  }
}

/** A supported interaction, validated and turned into what the router takes. */
export interface ParsedInteraction {
  id: string;
  applicationId: string;
  token: string;
  incoming: Incoming;
}

/** Validates an interaction payload (either transport's): a PING, an interaction to handle, or why it is refused. */
export function parseInteraction(json: unknown): { ping: true } | { interaction: ParsedInteraction } | { error: string } {
  const parsed = interactionSchema.safeParse(json);
  if (!parsed.success) return { error: `not a supported interaction: ${describeIssues(parsed.error)}` };
  const payload = parsed.data;
  if (payload.type === 1) return { ping: true };
  const user = interactionUser(payload);
  if (!user) return { error: 'member.user or user: required' };
  const incoming = incomingFromPayload(payload, user);
  if (!incoming) return { error: `interaction type ${payload.type} is not supported` };
  return { interaction: { id: payload.id, applicationId: payload.application_id, token: payload.token, incoming } };
}
