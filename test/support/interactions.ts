/**
 * Helpers to play Discord's side of interactions in tests: a test key pair, signing, and payloads
 * shaped like the ones Discord sends (discord-api-types), delivered over HTTP to a bot's
 * /interactions (answer handed to the Discord double) or built for the gateway double.
 */
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ComponentType,
  InteractionType,
  type APIApplicationCommandInteractionDataBasicOption,
  type APIApplicationCommandInteractionDataOption,
  type APIApplicationCommandAutocompleteInteraction,
  type APIChatInputApplicationCommandInteraction,
  type APIInteraction,
  type APIInteractionGuildMember,
  type APIMessage,
  type APIMessageComponentButtonInteraction,
  type APIPingInteraction,
  type APIUser,
} from 'discord-api-types/v10';
import type { OptionValue } from '../../src/commands/types.js';
import type { DiscordDouble, InteractionRecord } from './discord-double.js';

/** The application the test interactions belong to (also in the bots' test configs). */
export const TEST_APPLICATION_ID = '123456789012345678';
export const TEST_GUILD_ID = '222222222222222222';
export const TEST_CHANNEL_ID = '223456789012345678';
export const TEST_USER_ID = '111111111111111111';

/** An Ed25519 key pair standing in for the application's: the bot gets `publicKeyHex`. */
export interface TestKeys {
  publicKeyHex: string;
  privateKey: KeyObject;
}

/** Generates a fresh Ed25519 key pair; the public key as Discord shows it (64 hex characters). */
export function generateTestKeys(): TestKeys {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const x = publicKey.export({ format: 'jwk' }).x;
  if (!x) throw new Error('no raw public key in the JWK');
  return { publicKeyHex: Buffer.from(x, 'base64url').toString('hex'), privateKey };
}

/** The two headers Discord signs with: Ed25519 over `timestamp + body`. */
export function signatureHeaders(body: string, keys: TestKeys, timestampSeconds = Math.floor(Date.now() / 1000)): Record<string, string> {
  const timestamp = String(timestampSeconds);
  const signature = sign(null, Buffer.from(timestamp + body, 'utf8'), keys.privateKey).toString('hex');
  return { 'x-signature-ed25519': signature, 'x-signature-timestamp': timestamp };
}

let seq = 0n;
/** A fresh snowflake-shaped id. */
export function snowflake(): string {
  seq = (seq + 1n) & 0xfffn;
  return (((BigInt(Date.now()) - 1_420_070_400_000n) << 22n) | (2n << 17n) | seq).toString();
}

/** Who presses or types: a guild member with the given role ids. */
export interface Invoker {
  userId?: string;
  username?: string;
  roles?: string[];
}

function member(invoker: Invoker = {}): APIInteractionGuildMember {
  return {
    user: {
      id: invoker.userId ?? TEST_USER_ID,
      username: invoker.username ?? 'oncall',
      discriminator: '0',
      global_name: 'On Call',
      avatar: null,
    },
    roles: invoker.roles ?? [],
    premium_since: null,
    permissions: '2248473465835073',
    pending: false,
    nick: null,
    mute: false,
    deaf: false,
    joined_at: '2024-01-01T00:00:00.000000+00:00',
    flags: 0 as APIInteractionGuildMember['flags'],
  };
}

/** The fields every guild interaction carries. */
function envelope(invoker: Invoker | undefined) {
  return {
    id: snowflake(),
    application_id: TEST_APPLICATION_ID,
    token: `aW50ZXJhY3Rpb246${randomBytes(48).toString('base64url')}`,
    version: 1 as const,
    guild_id: TEST_GUILD_ID,
    guild: { id: TEST_GUILD_ID, locale: 'en-US', features: [] },
    channel_id: TEST_CHANNEL_ID,
    channel: { id: TEST_CHANNEL_ID, type: 0, name: 'alerts', guild_id: TEST_GUILD_ID },
    member: member(invoker),
    app_permissions: '2248473465835073',
    locale: 'en-US',
    guild_locale: 'en-US',
    entitlements: [],
    authorizing_integration_owners: { '0': TEST_GUILD_ID },
    context: 0,
    attachment_size_limit: 10_485_760,
  };
}

/** Option type for a value: strings 3, integers 4, booleans 5, other numbers 10. */
function optionType(v: OptionValue): ApplicationCommandOptionType {
  if (typeof v === 'boolean') return ApplicationCommandOptionType.Boolean;
  if (typeof v === 'number') return Number.isInteger(v) ? ApplicationCommandOptionType.Integer : ApplicationCommandOptionType.Number;
  return ApplicationCommandOptionType.String;
}

function basicOptions(options: Record<string, OptionValue>, focused?: string): APIApplicationCommandInteractionDataBasicOption[] {
  return Object.entries(options).map(
    ([name, value]) =>
      ({ name, type: optionType(value), value, ...(name === focused ? { focused: true } : {}) }) as APIApplicationCommandInteractionDataBasicOption,
  );
}

function optionTree(options: Record<string, OptionValue>, subcommand?: string, focused?: string): APIApplicationCommandInteractionDataOption[] {
  const leaves = basicOptions(options, focused);
  return subcommand ? [{ name: subcommand, type: ApplicationCommandOptionType.Subcommand, options: leaves }] : leaves;
}

/** A slash command invocation (`/name [subcommand] options…`) in the test guild. */
export function commandInteraction(
  name: string,
  options: Record<string, OptionValue> = {},
  opts: { subcommand?: string; invoker?: Invoker } = {},
): APIChatInputApplicationCommandInteraction {
  return {
    ...envelope(opts.invoker),
    type: InteractionType.ApplicationCommand,
    data: { id: snowflake(), name, type: ApplicationCommandType.ChatInput, options: optionTree(options, opts.subcommand), guild_id: TEST_GUILD_ID },
  } as APIChatInputApplicationCommandInteraction;
}

/** An autocomplete request while the user types `focused` (its partial value included in `options`). */
export function autocompleteInteraction(
  name: string,
  focused: string,
  options: Record<string, OptionValue>,
  opts: { subcommand?: string; invoker?: Invoker } = {},
): APIApplicationCommandAutocompleteInteraction {
  return {
    ...envelope(opts.invoker),
    type: InteractionType.ApplicationCommandAutocomplete,
    data: { id: snowflake(), name, type: ApplicationCommandType.ChatInput, options: optionTree(options, opts.subcommand, focused), guild_id: TEST_GUILD_ID },
  } as APIApplicationCommandAutocompleteInteraction;
}

/** A message `author` posted just now in the test channel (no content, embeds or components unless `over` sets them), for button presses. */
export function botMessage(author: APIUser, over: Partial<APIMessage> = {}): APIMessage {
  return {
    id: snowflake(),
    channel_id: TEST_CHANNEL_ID,
    type: 0,
    content: '',
    embeds: [],
    components: [],
    author,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: [],
    pinned: false,
    ...over,
  };
}

/** A press of the button `customId` on `message` (a message the bot posted). */
export function buttonInteraction(customId: string, message: APIMessage, opts: { invoker?: Invoker } = {}): APIMessageComponentButtonInteraction {
  return {
    ...envelope(opts.invoker),
    channel_id: message.channel_id,
    channel: { id: message.channel_id, type: 0, name: 'alerts', guild_id: TEST_GUILD_ID },
    type: InteractionType.MessageComponent,
    message,
    data: { custom_id: customId, component_type: ComponentType.Button },
  } as APIMessageComponentButtonInteraction;
}

/** Discord's PING, sent when the endpoint URL is saved in the Developer Portal. */
export function pingInteraction(): APIPingInteraction {
  return {
    id: snowflake(),
    application_id: TEST_APPLICATION_ID,
    type: InteractionType.Ping,
    token: randomBytes(32).toString('base64url'),
    version: 1,
  } as APIPingInteraction;
}

/** What came back from a bot's /interactions. */
export interface HttpAnswer {
  status: number;
  body: unknown;
}

/** POSTs a raw body with the given headers to `${botUrl}/interactions`. */
export async function postInteraction(botUrl: string, body: string, headers: Record<string, string>): Promise<HttpAnswer> {
  const res = await fetch(`${botUrl}/interactions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // a non-JSON answer stays text
  }
  return { status: res.status, body: parsed };
}

/** What a delivered interaction produced: the HTTP answer, the double's record of the exchange, spec errors. */
export interface Delivered extends HttpAnswer {
  record: InteractionRecord;
  /** Why the HTTP answer is not a valid interaction callback (empty when it is). */
  errors: string[];
}

/**
 * Delivers an interaction the way Discord does in HTTP mode: registered with the Discord double,
 * signed with the test key, POSTed to the bot, and the bot's answer handed to the double (checked
 * against the spec's callback schema and the 3 s deadline) so later edits and follow-ups apply.
 */
export async function sendInteraction(botUrl: string, payload: APIInteraction, ctx: { keys: TestKeys; discord: DiscordDouble }): Promise<Delivered> {
  const delivery = ctx.discord.beginHttpInteraction(payload);
  const body = JSON.stringify(payload);
  const answer = await postInteraction(botUrl, body, signatureHeaders(body, ctx.keys));
  const errors = delivery.answer(answer.status, answer.body);
  return { ...answer, record: delivery.record, errors };
}
