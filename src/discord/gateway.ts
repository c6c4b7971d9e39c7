import {
  Client,
  Events,
  GatewayIntentBits,
  GuildMember,
  MessageFlags,
  Options,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
  type InteractionEditReplyOptions,
  type InteractionReplyOptions,
  type InteractionUpdateOptions,
} from 'discord.js';
import { InteractionResponseType } from 'discord-api-types/v10';
import type { InteractionUser, ReplyPayload } from '../commands/types.js';
import { scrubSecrets, type Logger } from '../log.js';
import { dispatchInteraction, flattenOptions, messageBody, type Incoming, type InteractionRouter, type Responder } from './interactions.js';
import { editMessage, fetchRequest } from './rest.js';

/** Settings of the gateway connection. */
interface GatewayOptions {
  token: string;
  /** Base API URL without the version (config discord.apiBaseUrl); /gateway/bot is asked there. */
  apiBaseUrl: string;
  router: InteractionRouter;
  logger: Logger;
  /** Waits between failed logins: doubling from min to max. */
  retryMinMs?: number;
  retryMaxMs?: number;
  backstopMs?: number;
}

/** A gateway connection that keeps trying in the background; the bot serves webhooks meanwhile. */
export interface Gateway {
  client: Client;
  /** Starts connecting (returns at once; failures are logged and retried). */
  start(): void;
  /** Resolves once the client is ready (for tests and logs). */
  ready(): Promise<void>;
  /** Why the gateway is not connected now ("login failed: …"); undefined while it is. */
  notConnected(): string | undefined;
  stop(): Promise<void>;
}

/** Caches Vigil never reads are off: it only needs the interaction payloads themselves. */
const ZERO_CACHES = [
  'ApplicationCommandManager',
  'ApplicationEmojiManager',
  'AutoModerationRuleManager',
  'BaseGuildEmojiManager',
  'DMMessageManager',
  'EntitlementManager',
  'GuildBanManager',
  'GuildEmojiManager',
  'GuildForumThreadManager',
  'GuildInviteManager',
  'GuildMemberManager',
  'GuildMessageManager',
  'GuildScheduledEventManager',
  'GuildStickerManager',
  'GuildTextThreadManager',
  'MessageManager',
  'PresenceManager',
  'ReactionManager',
  'ReactionUserManager',
  'StageInstanceManager',
  'ThreadManager',
  'ThreadMemberManager',
  'UserManager',
  'VoiceStateManager',
] as const;

/** The discord.js client: Guilds intent only (interactions need no privileged intent), minimal caches. */
export function createClient(apiBaseUrl: string): Client {
  return new Client({
    intents: [GatewayIntentBits.Guilds],
    // fetch: multipart uploads (charts) fail through discord.js's default request; see fetchRequest.
    rest: { api: apiBaseUrl, makeRequest: fetchRequest },
    makeCache: Options.cacheWithLimits(Object.fromEntries(ZERO_CACHES.map((name) => [name, 0]))),
  });
}

/** discord.js message options for a payload (reply, edit, update); mentions never ping; files go as multipart. */
function editOptions(payload: ReplyPayload) {
  return {
    ...(payload.content !== undefined ? { content: payload.content } : {}),
    ...(payload.embeds !== undefined ? { embeds: payload.embeds } : {}),
    ...(payload.components !== undefined ? { components: payload.components } : {}),
    ...(payload.files?.length ? { files: payload.files.map((f) => ({ attachment: f.data, name: f.name })) } : {}),
    allowedMentions: { parse: [] as [] },
  } satisfies InteractionEditReplyOptions & InteractionUpdateOptions;
}

/** Reply options: the edit options plus the ephemeral flag. */
function replyOptions(payload: ReplyPayload, ephemeral: boolean): InteractionReplyOptions {
  return { ...editOptions(payload), ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}) };
}

type Answerable = ChatInputCommandInteraction | ButtonInteraction | AutocompleteInteraction;

/** Answers through discord.js's own interaction methods. */
function gatewayResponder(interaction: Answerable): Responder {
  const repliable = () => {
    if (interaction.isAutocomplete()) throw new Error('an autocomplete interaction only takes choices');
    return interaction;
  };
  const component = () => {
    if (!interaction.isButton()) throw new Error('only a button interaction can update its message');
    return interaction;
  };
  return {
    async initial(r) {
      switch (r.type) {
        case InteractionResponseType.DeferredChannelMessageWithSource:
          await repliable().deferReply(r.ephemeral ? { flags: MessageFlags.Ephemeral } : {});
          return;
        case InteractionResponseType.ChannelMessageWithSource:
          await repliable().reply(replyOptions(r.payload, r.ephemeral));
          return;
        case InteractionResponseType.DeferredMessageUpdate:
          await component().deferUpdate();
          return;
        case InteractionResponseType.UpdateMessage:
          await component().update(editOptions(r.payload));
          return;
        case InteractionResponseType.ApplicationCommandAutocompleteResult:
          if (!interaction.isAutocomplete()) throw new Error('choices answer only an autocomplete interaction');
          await interaction.respond(r.choices);
          return;
      }
    },
    async editOriginal(payload) {
      await repliable().editReply(editOptions(payload));
    },
    async followUp(payload, ephemeral) {
      await repliable().followUp(replyOptions(payload, ephemeral));
    },
    async editChannelMessage(channelId, messageId, payload) {
      await editMessage(interaction.client.rest, channelId, messageId, messageBody(payload), payload.files);
    },
  };
}

/** The user and their role ids, whether discord.js cached the member or kept the raw payload. */
function interactionUser(interaction: Interaction): InteractionUser {
  const member = interaction.member;
  const roles = !member ? [] : member instanceof GuildMember ? [...member.roles.cache.keys()] : [...member.roles];
  return { id: interaction.user.id, username: interaction.user.username, roles };
}

/** The transport-neutral view of a discord.js interaction, or undefined for kinds Vigil does not handle. */
function incomingFromInteraction(interaction: Interaction): Incoming | undefined {
  const user = interactionUser(interaction);
  if (interaction.isChatInputCommand()) {
    const flat = flattenOptions(interaction.options.data);
    return {
      kind: 'command',
      base: {
        commandName: interaction.commandName,
        ...(flat.subcommand ? { subcommand: flat.subcommand } : {}),
        options: flat.options,
        user,
        ...(interaction.guildId ? { guildId: interaction.guildId } : {}),
        ...(interaction.channelId ? { channelId: interaction.channelId } : {}),
      },
    };
  }
  if (interaction.isAutocomplete()) {
    const flat = flattenOptions(interaction.options.data);
    return {
      kind: 'autocomplete',
      base: {
        commandName: interaction.commandName,
        ...(flat.subcommand ? { subcommand: flat.subcommand } : {}),
        focused: flat.focused ?? { name: '', value: '' },
        options: flat.options,
        user,
      },
    };
  }
  if (interaction.isButton()) {
    const m = interaction.message;
    return {
      kind: 'component',
      base: { customId: interaction.customId, user, message: { id: m.id, channelId: m.channelId, embeds: m.embeds.map((e) => e.toJSON()) } },
    };
  }
  return undefined;
}

/**
 * The gateway transport: a discord.js client that hands every interaction to the router. Login
 * failures (Discord unreachable, bad token) are logged and retried in the background, so the
 * webhook side keeps working.
 */
export function createGateway(opts: GatewayOptions): Gateway {
  const { logger } = opts;
  const client = createClient(opts.apiBaseUrl);
  const secrets = [opts.token];
  const minMs = opts.retryMinMs ?? 1000;
  const maxMs = opts.retryMaxMs ?? 60_000;
  let stopped = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let markReady!: () => void;
  const readyPromise = new Promise<void>((resolve) => (markReady = resolve));

  /** Why the last login failed, until one succeeds. */
  let loginFailure: string | undefined;
  /** Why the connection is down after it was up (discord.js reconnects by itself meanwhile). */
  let down: string | undefined = 'gateway not connected yet';
  client.on(Events.ShardReady, () => (down = undefined));
  client.on(Events.ShardResume, () => (down = undefined));
  client.on(Events.ShardReconnecting, () => (down = 'gateway reconnecting'));
  client.on(Events.ShardDisconnect, (event) => (down = `gateway disconnected (close code ${event.code})`));

  client.once(Events.ClientReady, (c) => {
    loginFailure = undefined;
    down = undefined;
    logger.info({ user: c.user.username, applicationId: c.application.id }, 'gateway ready');
    markReady();
  });
  client.on(Events.Error, (err) => logger.warn({ err: scrubSecrets(err.message, secrets) }, 'gateway client error'));
  client.on(Events.InteractionCreate, (interaction) => {
    const incoming = incomingFromInteraction(interaction);
    if (!incoming || !(interaction.isChatInputCommand() || interaction.isAutocomplete() || interaction.isButton())) {
      logger.debug({ type: interaction.type }, 'interaction kind not handled');
      return;
    }
    void dispatchInteraction(opts.router, incoming, gatewayResponder(interaction), {
      logger: logger.child({ interactionId: interaction.id }),
      ...(opts.backstopMs !== undefined ? { backstopMs: opts.backstopMs } : {}),
    });
  });

  const login = async (attempt: number): Promise<void> => {
    if (stopped) return;
    try {
      await client.login(opts.token);
    } catch (err) {
      if (stopped) return;
      const wait = Math.min(maxMs, minMs * 2 ** attempt);
      const reason = scrubSecrets(err instanceof Error ? err.message : String(err), secrets);
      loginFailure = reason;
      logger.warn({ reason, retryInMs: wait }, 'gateway login failed; webhooks keep being served, retrying');
      retryTimer = setTimeout(() => void login(attempt + 1), wait);
    }
  };

  return {
    client,
    start() {
      void login(0);
    },
    ready: () => readyPromise,
    notConnected: () => (loginFailure ? `gateway login failed: ${loginFailure}` : down),
    async stop() {
      stopped = true;
      clearTimeout(retryTimer);
      await client.destroy();
    },
  };
}
