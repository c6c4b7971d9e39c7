import type {
  APIActionRowComponent,
  APIComponentInMessageActionRow,
  APIEmbed,
  APIApplicationCommandOptionChoice,
  RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import type { Config } from '../config/schema.js';
import type { ChartRenderer } from '../render/chart.js';
import type { Logger } from '../log.js';
import type { LokiClient } from '../queries/loki.js';
import type { PrometheusClient } from '../queries/prometheus.js';
import type { Database } from '../store/db.js';
import type { Clock } from '../model.js';
import { translate, type MessageKey, type MessageValue, type T } from '../i18n/index.js';

/** A file sent with a reply (a chart); the transports upload it as multipart. */
interface ReplyFile {
  name: string;
  data: Buffer;
}

/** What a command answers with: the parts of a Discord message a reply, an edit or a follow-up share. */
export interface ReplyPayload {
  content?: string;
  embeds?: APIEmbed[];
  components?: APIActionRowComponent<APIComponentInMessageActionRow>[];
  /** Uploaded with the message (shown under it); an edit replaces the message's files with these. */
  files?: ReplyFile[];
}

/** Who invoked an interaction. */
export interface InteractionUser {
  id: string;
  username: string;
  /** Role ids of the member in the guild (empty in DMs). */
  roles: string[];
  /** The language of the user's Discord client ("ko", "en-US"), as the interaction says; replies follow it (see `locale.ts`). */
  locale?: string;
}

/** An option value as Discord sends it (strings, integers, numbers, booleans). */
export type OptionValue = string | number | boolean;

/**
 * The transport-neutral view of a slash command invocation: the gateway client and the HTTP
 * interactions endpoint both build one, so every handler serves both.
 */
export interface CommandContext {
  commandName: string;
  /** The subcommand (`/silence create` -> "create"), if any. */
  subcommand?: string;
  /** Option values by name (of the subcommand, when there is one). */
  options: Record<string, OptionValue>;
  user: InteractionUser;
  guildId?: string;
  channelId?: string;
  /** Acknowledges at once (Discord's 3 s deadline); the answer follows with `reply`. Without opts, the router's default ephemeral flag applies. */
  defer(opts?: { ephemeral: boolean }): Promise<void>;
  /** Answers: the initial response, or the edit of the deferred one. */
  reply(payload: ReplyPayload, opts?: { ephemeral?: boolean }): Promise<void>;
  /** Sends another message after the first answer (the interaction token lives 15 minutes). */
  followUp(payload: ReplyPayload, opts?: { ephemeral?: boolean }): Promise<void>;
}

/** An autocomplete request for one focused option. */
export interface AutocompleteContext {
  commandName: string;
  subcommand?: string;
  focused: { name: string; value: string };
  options: Record<string, OptionValue>;
  user: InteractionUser;
  /** The choices; the router keeps the first 25 (Discord's limit). */
  respond(choices: APIApplicationCommandOptionChoice<string>[]): Promise<void>;
}

/** A button press on one of Vigil's messages. */
export interface ComponentContext {
  customId: string;
  user: InteractionUser;
  guildId?: string;
  /** The message the button is on, as Discord sent it with the interaction. */
  message: { id: string; channelId: string; embeds: APIEmbed[] };
  /** Acknowledges at once; the message may be edited later with `updateMessage`. */
  deferUpdate(): Promise<void>;
  /** Edits the message the button is on (after deferUpdate, or as the initial response). */
  updateMessage(payload: ReplyPayload): Promise<void>;
  /** Answers with a new message (ephemeral by default: only the presser sees it). */
  reply(payload: ReplyPayload, opts?: { ephemeral?: boolean }): Promise<void>;
  followUp(payload: ReplyPayload, opts?: { ephemeral?: boolean }): Promise<void>;
}

/** What handlers may use: the same clients the pipeline uses. */
export interface CommandDeps {
  config: Config;
  prometheus: PrometheusClient;
  loki: LokiClient;
  db: Database;
  logger: Logger;
  now: Clock;
  /** Draws command charts (the bot's own chart workers); renderChart's shared ones when absent. */
  chartRenderer?: ChartRenderer;
}

/** A slash command: its registration data and its handler, as in discord.js's own template. */
export interface Command {
  data: RESTPostAPIChatInputApplicationCommandsJSONBody;
  /**
   * Whether the reply may hold sensitive data (log lines, query results): its `ephemeral` option
   * then defaults to `commands.ephemeral` from config instead of false.
   */
  sensitive?: boolean;
  execute(ctx: CommandContext, deps: CommandDeps): Promise<void>;
  autocomplete?(ctx: AutocompleteContext, deps: CommandDeps): Promise<void>;
}

/** A button handler, keyed by the action part of the custom id (`vigil:<action>:<ref>`). */
export interface ButtonHandler {
  action: string;
  execute(ctx: ComponentContext, ref: string, deps: CommandDeps): Promise<void>;
}

/** A catalog message and its values: text to be put in the language of whoever reads it. */
export interface Localized {
  key: MessageKey;
  values?: Record<string, MessageValue>;
}

/**
 * An option value that failed validation; the router answers it ephemerally, naming the option, in
 * the user's language. `message` (for logs) is the English text.
 */
export class OptionError extends Error {
  constructor(
    readonly option: string,
    /** Why, as a catalog message (or a text that is already what to show, e.g. a parser's own words). */
    readonly reason: Localized | string,
  ) {
    super(`${option}: ${typeof reason === 'string' ? reason : translate('en', reason.key, reason.values)}`);
    this.name = 'OptionError';
  }

  /** Why the value was refused, in the language of `t`. */
  describe(t: T): string {
    return typeof this.reason === 'string' ? this.reason : t(this.reason.key, this.reason.values);
  }
}
