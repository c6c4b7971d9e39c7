import type { APIEmbed } from 'discord-api-types/v10';
import type { AutocompleteContext, CommandContext, ComponentContext, InteractionUser, OptionValue, ReplyPayload } from '../../src/commands/types.js';

/** One call a handler made on its context. */
export type RecordedCall =
  | { kind: 'defer'; ephemeral?: boolean }
  | { kind: 'reply' | 'followUp' | 'updateMessage'; payload: ReplyPayload; ephemeral?: boolean }
  | { kind: 'deferUpdate' }
  | { kind: 'respond'; choices: Array<{ name: string; value: string }> };

/** A user with no roles unless given. */
export function testUser(roles: string[] = [], id = '111111111111111111'): InteractionUser {
  return { id, username: 'oncall', roles };
}

/** A CommandContext that records what the handler did, for tests of handlers without a transport. */
export function recordingCommand(
  commandName: string,
  options: Record<string, OptionValue> = {},
  opts: { subcommand?: string; user?: InteractionUser } = {},
): CommandContext & { calls: RecordedCall[]; lastReply(): ReplyPayload | undefined } {
  const calls: RecordedCall[] = [];
  return {
    commandName,
    ...(opts.subcommand ? { subcommand: opts.subcommand } : {}),
    options,
    user: opts.user ?? testUser(),
    guildId: '222222222222222222',
    channelId: '333333333333333333',
    calls,
    async defer(o) {
      // Without opts the router's default would apply; a handler run without the router records none.
      calls.push({ kind: 'defer', ...(o ? { ephemeral: o.ephemeral } : {}) });
    },
    async reply(payload, o) {
      calls.push({ kind: 'reply', payload, ...(o?.ephemeral !== undefined ? { ephemeral: o.ephemeral } : {}) });
    },
    async followUp(payload, o) {
      calls.push({ kind: 'followUp', payload, ...(o?.ephemeral !== undefined ? { ephemeral: o.ephemeral } : {}) });
    },
    lastReply() {
      const replies = calls.filter((c) => c.kind === 'reply');
      const last = replies.at(-1);
      return last && 'payload' in last ? last.payload : undefined;
    },
  };
}

/** An AutocompleteContext that records the choices. */
export function recordingAutocomplete(
  commandName: string,
  focused: { name: string; value: string },
  options: Record<string, OptionValue> = {},
): AutocompleteContext & { calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  return {
    commandName,
    focused,
    options,
    user: testUser(),
    calls,
    async respond(choices) {
      calls.push({ kind: 'respond', choices: choices.map((c) => ({ name: c.name, value: String(c.value) })) });
    },
  };
}

/** A ComponentContext (button press) that records what the handler did. */
export function recordingComponent(
  customId: string,
  opts: { user?: InteractionUser; messageId?: string; channelId?: string; embeds?: APIEmbed[] } = {},
): ComponentContext & { calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  return {
    customId,
    user: opts.user ?? testUser(),
    message: { id: opts.messageId ?? '444444444444444444', channelId: opts.channelId ?? '333333333333333333', embeds: opts.embeds ?? [] },
    calls,
    async deferUpdate() {
      calls.push({ kind: 'deferUpdate' });
    },
    async updateMessage(payload) {
      calls.push({ kind: 'updateMessage', payload });
    },
    async reply(payload, o) {
      calls.push({ kind: 'reply', payload, ...(o?.ephemeral !== undefined ? { ephemeral: o.ephemeral } : {}) });
    },
    async followUp(payload, o) {
      calls.push({ kind: 'followUp', payload, ...(o?.ephemeral !== undefined ? { ephemeral: o.ephemeral } : {}) });
    },
  };
}
