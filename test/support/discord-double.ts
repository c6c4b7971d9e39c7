/**
 * Contract double of Discord's HTTP API (v10), on node:http at 127.0.0.1.
 *
 * Every request is checked against Discord's own OpenAPI 3.1 description in test/fixtures/discord (loaded at
 * run time): path template and method, path parameters, the `Authorization: Bot`
 * header, and the JSON body (or a multipart body's `payload_json` part) against the operation's
 * requestBody schema. A request that fails is answered the way Discord would (400 Invalid Form
 * Body, 401, 404, 405) and recorded in `invalid`, so a test can assert the bot only sent valid
 * requests. Where the spec (a preview) and Discord's docs disagree, the docs win; each such rule
 * is marked "docs:" below.
 *
 * Interactions: a test registers each interaction it delivers (over the gateway double, or over
 * HTTP to the bot's /interactions with the answer passed back here), and the double then plays
 * Discord's side of the exchange: one callback per interaction within 3 s, edits of @original and
 * follow-ups through the interaction webhook for 15 minutes, and a record of what the user saw.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DISCORD_RATE_LIMITS, RateLimiter, type DiscordRateLimits } from './discord-ratelimits.js';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import type { APIApplicationCommand, APIAttachment, APIEmbed, APIInteraction, APIMessage, APIThreadChannel, APIUser } from 'discord-api-types/v10';

/** One request the double received. */
export interface RecordedRequest {
  method: string;
  /** URL path, e.g. /api/v10/channels/123/messages. */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (or payload_json), undefined when there was none. */
  body: unknown;
  /** The spec's operationId, when the path and method matched one. */
  operationId?: string;
  /** The `files[n]` parts of a multipart body. */
  files?: UploadedFile[];
  /** Status the double answered with (0 while in progress or when the connection was dropped). */
  status: number;
  /** Refused with 429 by the rate limiter (nothing was done). */
  rateLimited?: boolean;
}

/** One `files[n]` part of a multipart request. */
export interface UploadedFile {
  /** The form field, `files[n]`. */
  field: string;
  /** n: the placeholder id `attachments` refers to it by. */
  index: number;
  filename: string;
  contentType: string;
  data: Buffer;
}

/** A message as the double stores it: Discord's message object. */
export type StoredMessage = APIMessage;

/** A request the spec (or Discord's docs) does not allow. */
export interface InvalidRequest {
  method: string;
  path: string;
  errors: string[];
}

/** A message an interaction produced, as the user saw it. */
export interface SeenMessage {
  id: string;
  content: string;
  embeds: APIEmbed[];
  components: unknown[];
  attachments: APIAttachment[];
  /** Only the invoking user saw it (flags 64). */
  ephemeral: boolean;
  /** The "thinking…" state of a deferred reply not edited yet. */
  loading: boolean;
  edits: number;
}

/** One interaction and Discord's side of its exchange. */
export interface InteractionRecord {
  id: string;
  token: string;
  applicationId: string;
  /** Interaction type (2 command, 3 component, 4 autocomplete). */
  type: number;
  channelId: string;
  /** The message a component sits on. */
  componentMessageId?: string;
  delivery: 'gateway' | 'http';
  receivedAt: number;
  /** The callback (initial response) Discord got, once. */
  callback?: { type: number; data?: Record<string, unknown>; at: number };
  /** The reply message (callback 4 or 5), edited through @original. */
  original?: SeenMessage;
  followUps: SeenMessage[];
  /** Autocomplete choices (callback 8). */
  choices?: Array<{ name: string; value: string | number }>;
  /** Settles when an HTTP-delivered interaction's answer has been handed to the double. */
  acknowledged: Promise<void>;
}

/** An HTTP-delivered interaction: the test passes the bot's HTTP answer back with `answer`. */
export interface HttpDelivery {
  record: InteractionRecord;
  /** Hands over the HTTP response; errors (spec, docs, deadline) are also recorded in `invalid`. */
  answer(status: number, body: unknown): string[];
}

/** Commands registered through the bulk overwrite endpoints. */
export interface RegisteredCommands {
  global?: APIApplicationCommand[];
  guilds: Map<string, APIApplicationCommand[]>;
}

/** An answer queued with failNext, used instead of the normal one. */
export interface ScriptedResponse {
  status: number;
  /** Default: with afterHandling and a 2xx status, the real answer; otherwise a Discord-shaped error. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Handle the request normally first (e.g. store the message), then answer this instead: a lost response. */
  afterHandling?: boolean;
  /** Destroy the socket instead of answering (status is ignored). */
  dropConnection?: boolean;
  /** Wait this long before answering (to run into the client's timeout). */
  delayMs?: number;
}

/** A public thread started on a message: Discord's thread channel object (type 11, id = the message's id). */
export type StoredThread = APIThreadChannel;

/** The running double. */
export interface DiscordDouble {
  /** Base URL without the version, as discord.js REST's `api` option wants it. */
  apiBaseUrl: string;
  requests: RecordedRequest[];
  messages: Map<string, StoredMessage>;
  /** Threads started from messages, by thread id (= the message's id); their messages are in `messages` with channel_id = the thread id. */
  threads: Map<string, StoredThread>;
  /** Queues answers for the next requests that pass validation, in order. */
  failNext(responses: ScriptedResponse[]): void;
  /** The bytes of every attachment stored, by attachment id (message.attachments[i].id). */
  attachmentData: Map<string, Buffer>;
  invalid: InvalidRequest[];
  /** The bot user the double answers as the author of created messages. */
  botUser: APIUser;
  /** Interactions by id, with what the user saw. */
  interactions: Map<string, InteractionRecord>;
  /** Registers an interaction delivered over the gateway: its callback comes through REST. */
  registerInteraction(payload: APIInteraction): InteractionRecord;
  /** Registers an interaction about to be POSTed to the bot; webhook calls wait for its answer. */
  beginHttpInteraction(payload: APIInteraction): HttpDelivery;
  commands: RegisteredCommands;
  /** The URL GET /gateway/bot answers (the gateway double's). */
  setGatewayUrl(url: string): void;
  /** The rate limiter (its `refused` counts the 429s by bucket); undefined with `rateLimits: false`. */
  rateLimiter: RateLimiter | undefined;
  stop(): Promise<void>;
}

/** Options for startDiscordDouble. */
export interface DiscordDoubleOptions {
  /** The bot token requests must carry. */
  token?: string;
  /** When set, other channel ids are answered 404 Unknown Channel. */
  channels?: string[];
  /** When set, command registration for other application ids is answered 404 Unknown Application. */
  applicationId?: string;
  /** What GET /gateway/bot answers (see setGatewayUrl). */
  gatewayUrl?: string;
  /**
   * The server the `channels` belong to, for what `vigil check-config --online` reads: the bot
   * user (GET /users/@me), each channel as a guild text channel with its permission overwrites
   * (GET /channels/{id}), the bot's member roles and the guild's roles with their permissions.
   */
  guild?: DoubleGuild;
  /**
   * Discord's rate limits (test/support/discord-ratelimits.ts): on by default, with Discord's
   * numbers, so every test that delivers meets what production meets; `false` for a test that
   * needs none, or other numbers for one that wants to meet them sooner.
   */
  rateLimits?: false | Partial<DiscordRateLimits>;
  /** The limiter's clock (epoch ms); Date.now by default. */
  now?: () => number;
  /** Channel webhooks: executing one (POST /webhooks/{id}/{token}) posts in its channel, as Alertmanager's Discord receiver does. */
  webhooks?: ChannelWebhook[];
}

/** A channel webhook of the double (Create Webhook's id and token). */
export interface ChannelWebhook {
  id: string;
  token: string;
  channelId: string;
}

/** A guild of the double: roles (the @everyone role's id is the guild's), the bot's roles, channel overwrites. */
export interface DoubleGuild {
  id: string;
  botUserId: string;
  roles: Array<{ id: string; permissions: string; mentionable?: boolean }>;
  botRoles: string[];
  overwrites?: Record<string, Array<{ id: string; type: 0 | 1; allow: string; deny: string }>>;
}

/** Token the double expects when none is given: shaped like a real one, valid nowhere. */
export const DOUBLE_TOKEN = 'MTIzNDU2Nzg5MDEyMzQ1Njc4.GdOubL.e-vigil-test-double-token-000000';

const API_PREFIX = '/api/v10';
const SPEC_ID = 'https://vigil.invalid/discord-openapi.json';
const SPEC_URL = new URL('../fixtures/discord/openapi.json', import.meta.url);
const DISCORD_EPOCH = 1_420_070_400_000n;
/** docs: "checked for uniqueness in the past few minutes". */
const NONCE_WINDOW_MS = 5 * 60_000;
/** docs: content is up to 2000 characters (the spec says 4000). */
const MAX_CONTENT = 2000;
/** docs: title, description, field.name, field.value, footer.text and author.name of all embeds together. */
const MAX_EMBED_TOTAL = 6000;
const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;
/** docs: an interaction must be answered within 3 seconds. */
const CALLBACK_DEADLINE_MS = 3000;
/** docs: the upload limit of a message without boosts (10 MiB, all files together). */
const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
/** docs: each file parameter is named `files[n]`. */
const FILE_FIELD = /^files\[(\d+)\]$/;
/** docs: interaction tokens are valid for 15 minutes. */
const TOKEN_LIFETIME_MS = 15 * 60_000;
/** How long a webhook call waits for an HTTP-delivered interaction's answer to reach the double. */
const ACK_WAIT_MS = 5000;
/** Operations whose body is a message (docs rules apply). */
const MESSAGE_OPERATIONS = new Set(['create_message', 'update_message', 'execute_webhook', 'update_original_webhook_message', 'update_webhook_message']);
const CALLBACK_POINTER = [
  'paths',
  '/interactions/{interaction_id}/{interaction_token}/callback',
  'post',
  'requestBody',
  'content',
  'application/json',
  'schema',
];

/** Starts the double on a free loopback port. */
export async function startDiscordDouble(opts: DiscordDoubleOptions = {}): Promise<DiscordDouble> {
  const state = new DoubleState(opts.token ?? DOUBLE_TOKEN, opts.channels, opts.applicationId);
  // The message bodies' validators compile ahead: compiled at a bot's first post they took most of a
  // second on a busy machine, longer than the tests' delivery timeouts (the post then went twice).
  const { validator } = loadSpec();
  for (const method of ['post', 'patch'])
    validator([
      'paths',
      method === 'post' ? '/channels/{channel_id}/messages' : '/channels/{channel_id}/messages/{message_id}',
      method,
      'requestBody',
      'content',
      'application/json',
      'schema',
    ]);
  if (opts.gatewayUrl) state.gatewayUrl = opts.gatewayUrl;
  if (opts.guild) state.guild = opts.guild;
  if (opts.webhooks) state.channelWebhooks = opts.webhooks;
  if (opts.rateLimits !== false) state.limiter = new RateLimiter({ ...DISCORD_RATE_LIMITS, ...opts.rateLimits }, opts.now);
  const server = createServer((req, res) => {
    state.handle(req, res).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      // A bug of the double, not of the bot: still recorded, so `expect(discord.invalid).toEqual([])` fails on it.
      state.invalid.push({ method: req.method ?? '-', path: (req.url ?? '/').split('?')[0]!, errors: [`double crashed: ${message}`] });
      if (!res.headersSent) send(res, 500, { message: `double crashed: ${message}`, code: 0 });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    apiBaseUrl: `http://127.0.0.1:${port}/api`,
    requests: state.requests,
    messages: state.messages,
    threads: state.threads,
    invalid: state.invalid,
    botUser: state.botUser,
    interactions: state.interactions,
    registerInteraction: (payload) => state.registerInteraction(payload, 'gateway'),
    beginHttpInteraction: (payload) => state.beginHttpInteraction(payload),
    commands: state.commands,
    setGatewayUrl: (url) => (state.gatewayUrl = url),
    rateLimiter: state.limiter,
    failNext: (responses) => state.scripted.push(...responses),
    attachmentData: state.attachmentData,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// The spec: loading, route matching, schema validation

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: unknown;
}

interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema?: unknown }> };
  security?: Record<string, unknown>[];
}

type PathItem = { parameters?: Parameter[] } & Partial<Record<(typeof METHODS)[number], Operation>>;

interface Spec {
  paths: Record<string, PathItem>;
}

interface Route {
  template: string;
  regex: RegExp;
  params: string[];
  literals: number;
  item: PathItem;
}

interface Matched {
  route: Route;
  op: Operation;
  method: (typeof METHODS)[number];
  params: Record<string, string>;
  /** The rate limiter's headers for the answer (none with rateLimits: false). */
  rateHeaders?: Record<string, string>;
}

interface SpecTools {
  routes: Route[];
  /** Validator for the schema at a JSON pointer inside the spec document. */
  validator: (pointer: string[]) => ValidateFunction;
}

let specTools: SpecTools | undefined;

/** The spec, parsed and registered with Ajv once per test worker. */
function loadSpec(): SpecTools {
  if (specTools) return specTools;
  const spec = JSON.parse(readFileSync(SPEC_URL, 'utf8')) as Spec;
  // OpenAPI 3.1 schemas are JSON Schema 2020-12. strict: false lets OpenAPI-only keywords
  // (discriminator, x-discord-union) through; the whole document is one schema, so every
  // `#/components/schemas/X` $ref resolves inside it.
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  ajvFormats.default(ajv);
  ajv.addFormat('snowflake', { type: 'string', validate: (s) => /^\d+$/.test(s) && BigInt(s) < 2n ** 64n });
  ajv.addFormat('nonce', true);
  ajv.addFormat('int32', { type: 'number', validate: (n) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n) => Number.isInteger(n) });
  ajv.addFormat('double', { type: 'number', validate: (n) => Number.isFinite(n) });
  ajv.addSchema(spec, SPEC_ID);
  const cache = new Map<string, ValidateFunction>();
  const validator = (pointer: string[]): ValidateFunction => {
    const ref = `${SPEC_ID}#/${pointer.map((p) => encodeURIComponent(p.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/')}`;
    let v = cache.get(ref);
    if (!v) cache.set(ref, (v = ajv.compile({ $ref: ref })));
    return v;
  };
  const routes = Object.entries(spec.paths).map(([template, item]) => {
    const params: string[] = [];
    const pattern = template
      .split('/')
      .map((seg) => {
        const m = /^\{(\w+)\}$/.exec(seg);
        if (!m) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        params.push(m[1]!);
        return '([^/]+)';
      })
      .join('/');
    return { template, regex: new RegExp(`^${pattern}$`), params, literals: template.split('/').length - params.length, item };
  });
  specTools = { routes, validator };
  return specTools;
}

/** Why `value` does not match the spec's `#/components/schemas/<name>` (empty when it does). */
export function specSchemaErrors(name: string, value: unknown): string[] {
  const validate = loadSpec().validator(['components', 'schemas', name]);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`);
}

/** The spec route for a path; a literal segment beats a parameter (messages/bulk-delete). */
function matchRoute(routes: Route[], path: string): { route: Route; params: Record<string, string> } | undefined {
  let best: { route: Route; params: Record<string, string> } | undefined;
  for (const route of routes) {
    const m = route.regex.exec(path);
    if (!m || (best && best.route.literals >= route.literals)) continue;
    const params: Record<string, string> = {};
    route.params.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1]!)));
    best = { route, params };
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Discord-shaped errors

/** One failed check: where (body path) and Discord's error code and message for it. */
interface FieldError {
  path: (string | number)[];
  code: string;
  message: string;
}

/** An early answer with the reason it is recorded as invalid. */
interface Rejection {
  status: number;
  body: unknown;
  errors: string[];
  /** A 429 of the rate limiter: not an invalid request, answered with these headers. */
  rateLimited?: Record<string, string>;
}

const NOT_FOUND = { message: '404: Not Found', code: 0 };
/** What GET /gateway/bot names when the test started no gateway double: a host that never resolves. */
const NO_GATEWAY_URL = 'wss://gateway.invalid';

function invalidFormBody(errors: FieldError[], where: string): Rejection {
  const nested: Record<string, unknown> = {};
  for (const e of errors) {
    let node = nested;
    for (const seg of e.path) node = (node[String(seg)] ??= {}) as Record<string, unknown>;
    ((node._errors ??= []) as unknown[]).push({ code: e.code, message: e.message });
  }
  return {
    status: 400,
    body: { code: 50035, message: 'Invalid Form Body', errors: nested },
    errors: errors.map((e) => `${where}${e.path.length ? `.${e.path.join('.')}` : ''}: ${e.code} ${e.message}`),
  };
}

/** Ajv's errors in Discord's vocabulary (codes as Discord names them where known). */
function fromAjv(errors: ErrorObject[] | null | undefined): FieldError[] {
  const out = new Map<string, FieldError>();
  for (const e of errors ?? []) {
    const path: (string | number)[] = e.instancePath
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    let code = 'BASE_TYPE_INVALID';
    let message = e.message ?? 'invalid';
    const limit = (e.params as { limit?: number }).limit;
    if (e.keyword === 'required') {
      path.push((e.params as { missingProperty: string }).missingProperty);
      code = 'BASE_TYPE_REQUIRED';
      message = 'This field is required';
    } else if (e.keyword === 'maxLength' || e.keyword === 'maxItems') {
      code = 'BASE_TYPE_MAX_LENGTH';
      message = `Must be ${limit} or fewer in length.`;
    } else if (e.keyword === 'minLength' || e.keyword === 'minItems') {
      code = 'BASE_TYPE_MIN_LENGTH';
      message = `Must be ${limit} or more in length.`;
    } else if (e.keyword === 'maximum') {
      code = 'NUMBER_TYPE_MAX';
      message = `int value should be less than or equal to ${limit}.`;
    } else if (e.keyword === 'minimum') {
      code = 'NUMBER_TYPE_MIN';
      message = `int value should be greater than or equal to ${limit}.`;
    }
    out.set(`${path.join('.')}|${code}|${message}`, { path, code, message });
  }
  return [...out.values()];
}

// ---------------------------------------------------------------------------------------------
// docs-only rules for message bodies

type Body = Record<string, unknown>;

function embedsOf(body: Body): APIEmbed[] {
  return Array.isArray(body.embeds) ? (body.embeds as APIEmbed[]) : [];
}

function len(v: unknown): number {
  return typeof v === 'string' ? v.length : 0;
}

/** Rules from Discord's docs that the spec does not carry. */
function docRuleErrors(body: Body): FieldError[] {
  const errors: FieldError[] = [];
  if (len(body.content) > MAX_CONTENT) {
    errors.push({ path: ['content'], code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${MAX_CONTENT} or fewer in length.` });
  }
  let total = 0;
  embedsOf(body).forEach((embed, i) => {
    if (!embed || typeof embed !== 'object') return;
    // docs: footer.text and author.name are required when footer/author is given (spec: optional).
    if (embed.footer && len(embed.footer.text) === 0) {
      errors.push({ path: ['embeds', i, 'footer', 'text'], code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
    }
    if (embed.author && len(embed.author.name) === 0) {
      errors.push({ path: ['embeds', i, 'author', 'name'], code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
    }
    total += len(embed.title) + len(embed.description) + len(embed.footer?.text) + len(embed.author?.name);
    for (const f of embed.fields ?? []) total += len(f?.name) + len(f?.value);
  });
  if (total > MAX_EMBED_TOTAL) {
    errors.push({ path: ['embeds'], code: 'MAX_EMBED_SIZE_EXCEEDED', message: `Embed size exceeds maximum size of ${MAX_EMBED_TOTAL}` });
  }
  return errors;
}

/** Operations whose body is a list of application commands. */
const COMMAND_LIST_OPERATIONS = new Set(['bulk_set_application_commands', 'bulk_set_guild_application_commands']);

/**
 * The body as the spec's schema should see it. docs: default_member_permissions is a permission
 * bit set "represented as a string" (the spec types it as an integer); a digit string is checked
 * as the number it spells, anything else stays as sent and fails.
 */
function specView(operationId: string, value: unknown): unknown {
  if (!COMMAND_LIST_OPERATIONS.has(operationId) || !Array.isArray(value)) return value;
  return value.map((c: unknown) => {
    const perms = (c as Body | null)?.default_member_permissions;
    return typeof perms === 'string' && /^\d{1,17}$/.test(perms) ? { ...(c as Body), default_member_permissions: Number(perms) } : c;
  });
}

/** docs: a message needs at least one of content, embeds, sticker_ids, components, files or poll. */
function isEmptyMessage(body: Body): boolean {
  const nonEmpty = (v: unknown) => (Array.isArray(v) ? v.length > 0 : typeof v === 'string' ? v.length > 0 : v != null);
  return !['content', 'embeds', 'sticker_ids', 'components', 'poll', 'attachments'].some((k) => nonEmpty(body[k]));
}

// ---------------------------------------------------------------------------------------------
// The server

class DoubleState {
  readonly requests: RecordedRequest[] = [];
  readonly messages = new Map<string, StoredMessage>();
  readonly threads = new Map<string, StoredThread>();
  readonly invalid: InvalidRequest[] = [];
  readonly scripted: ScriptedResponse[] = [];
  readonly attachmentData = new Map<string, Buffer>();
  readonly botUser: APIUser;
  private readonly nonces = new Map<string, { id: string; at: number }>();
  private seq = 0n;

  readonly interactions = new Map<string, InteractionRecord>();
  readonly commands: RegisteredCommands = { guilds: new Map() };
  gatewayUrl: string | undefined;
  guild: DoubleGuild | undefined;
  limiter: RateLimiter | undefined;
  channelWebhooks: ChannelWebhook[] = [];
  private readonly settled = new Map<string, () => void>();

  constructor(
    private readonly token: string,
    private readonly channels: string[] | undefined,
    private readonly applicationId: string | undefined,
  ) {
    const user: APIUser = { id: this.snowflake(), username: 'vigil-double', discriminator: '0', global_name: null, avatar: null, bot: true };
    // The spec's UserResponse also requires these; discord-api-types types flags as an enum.
    this.botUser = Object.assign(user, { public_flags: 0, flags: 0, primary_guild: null });
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://double');
    const method = (req.method ?? 'GET').toUpperCase();
    const raw = await readBody(req);
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: undefined,
      status: 0,
    };
    this.requests.push(record);
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      send(res, status, body, headers);
    };

    const checked = await this.validate(method, url, req.headers, raw, record);
    if ('status' in checked) {
      if (checked.rateLimited) {
        record.rateLimited = true;
        reply(429, checked.body, checked.rateLimited);
        return;
      }
      this.invalid.push({ method, path: url.pathname, errors: checked.errors });
      reply(checked.status, checked.body);
      return;
    }
    const rateHeaders = checked.rateHeaders ?? {};
    const scripted = this.scripted.shift();
    if (scripted && !scripted.afterHandling) {
      await this.answerScripted(scripted, res, record, undefined, rateHeaders);
      return;
    }
    const answer = await this.route(checked, record.body as Body | undefined, url);
    if (scripted) {
      // A 2xx without a body of its own is the real answer, just late (delayMs) or lost (dropConnection).
      await this.answerScripted(scripted, res, record, scripted.status < 300 ? answer.body : undefined, rateHeaders);
      return;
    }
    reply(answer.status, answer.body, rateHeaders);
  }

  private async answerScripted(
    s: ScriptedResponse,
    res: ServerResponse,
    record: RecordedRequest,
    handledBody?: unknown,
    rateHeaders: Record<string, string> = {},
  ): Promise<void> {
    if (s.delayMs) await new Promise((r) => setTimeout(r, s.delayMs));
    if (s.dropConnection) {
      res.socket?.destroy();
      return;
    }
    record.status = s.status;
    send(res, s.status, s.body ?? handledBody ?? defaultBody(s.status), { ...rateHeaders, ...s.headers });
  }

  /** Every check the spec and docs ask for; the matched operation when all pass. */
  private async validate(method: string, url: URL, headers: IncomingHttpHeaders, raw: Buffer, record: RecordedRequest): Promise<Matched | Rejection> {
    const { routes, validator } = loadSpec();
    if (!url.pathname.startsWith(`${API_PREFIX}/`)) {
      return { status: 404, body: NOT_FOUND, errors: [`path must start with ${API_PREFIX}/`] };
    }
    // discord.js percent-encodes the "@" of @original; Discord decodes it like any URL.
    const path = url.pathname.slice(API_PREFIX.length).replace(/%40/gi, '@');
    const found = matchRoute(routes, path);
    if (!found) return { status: 404, body: NOT_FOUND, errors: [`no path in the spec matches ${path}`] };
    const m = method.toLowerCase() as (typeof METHODS)[number];
    const op = METHODS.includes(m) ? found.route.item[m] : undefined;
    if (!op) {
      return { status: 405, body: { message: '405: Method Not Allowed', code: 0 }, errors: [`${method} is not allowed on ${found.route.template}`] };
    }
    record.operationId = op.operationId;
    const matched: Matched = { route: found.route, op, method: m, params: found.params };

    // `{}` among the security alternatives (interaction and webhook-token endpoints): no header is fine, a wrong one is not.
    const botAuth = op.security?.some((s) => 'BotToken' in s) ?? false;
    const anonymous = op.security?.some((s) => Object.keys(s).length === 0) ?? false;
    if (botAuth && (headers.authorization !== undefined || !anonymous) && headers.authorization !== `Bot ${this.token}`) {
      const why = headers.authorization === undefined ? 'Authorization header missing' : 'Authorization is not "Bot <configured token>"';
      return { status: 401, body: { message: '401: Unauthorized', code: 0 }, errors: [why] };
    }

    // Past a bucket or the global limit: 429 before the body is read, nothing done, nothing counted (as Discord does).
    const limit = this.limiter?.take(method, found.route.template, found.params);
    if (limit && !limit.ok) return { status: 429, body: limit.body, errors: [], rateLimited: limit.headers };
    if (limit) matched.rateHeaders = limit.headers;

    // Discord answers a malformed id or query value with 400 Invalid Form Body naming the parameter.
    const paramErrors = this.checkParams(matched, url, validator);
    if (paramErrors.length) return invalidFormBody(paramErrors, 'params');

    const body = await parseBody(headers['content-type'], raw);
    if ('error' in body) {
      return { status: 400, body: { code: 50109, message: 'The request body contains invalid JSON.' }, errors: [body.error] };
    }
    record.body = body.value;
    if (body.files.length) {
      record.files = body.files;
      if (body.value && typeof body.value === 'object') uploads.set(body.value, body.files);
      const total = body.files.reduce((n, f) => n + f.data.length, 0);
      if (total > MAX_UPLOAD_BYTES) {
        return {
          status: 413,
          body: { message: 'Request entity too large', code: 40005 },
          errors: [`files: ${total} bytes, over the ${MAX_UPLOAD_BYTES} byte upload limit`],
        };
      }
    }
    if (!op.requestBody) return matched;
    if (body.value === undefined) {
      if (!op.requestBody.required) return matched;
      return { status: 400, body: { code: 50109, message: 'The request body contains invalid JSON.' }, errors: ['request body required'] };
    }
    const schemaPointer = ['paths', found.route.template, m, 'requestBody', 'content', 'application/json', 'schema'];
    const validate = validator(schemaPointer);
    if (!validate(specView(op.operationId, body.value))) return invalidFormBody(fromAjv(validate.errors), 'body');
    if (MESSAGE_OPERATIONS.has(op.operationId)) {
      const docErrors = docRuleErrors(body.value as Body);
      if (docErrors.length) return invalidFormBody(docErrors, 'body (docs)');
      if ((op.operationId === 'create_message' || op.operationId === 'execute_webhook') && isEmptyMessage(body.value as Body)) {
        return { status: 400, body: { code: 50006, message: 'Cannot send an empty message' }, errors: ['body: empty message'] };
      }
    }
    return matched;
  }

  /** Path parameters (always) and query parameters (when given) against their schemas. */
  private checkParams(matched: Matched, url: URL, validator: SpecTools['validator']): FieldError[] {
    const errors: FieldError[] = [];
    const declared: { p: Parameter; pointer: string[] }[] = [];
    (matched.route.item.parameters ?? []).forEach((p, i) =>
      declared.push({ p, pointer: ['paths', matched.route.template, 'parameters', String(i), 'schema'] }),
    );
    (matched.op.parameters ?? []).forEach((p, i) =>
      declared.push({ p, pointer: ['paths', matched.route.template, matched.method, 'parameters', String(i), 'schema'] }),
    );
    for (const { p, pointer } of declared) {
      if (!p.schema || (p.in !== 'path' && p.in !== 'query')) continue;
      const value = p.in === 'path' ? matched.params[p.name] : (url.searchParams.get(p.name) ?? undefined);
      if (value === undefined) {
        if (p.in === 'path' || p.required) errors.push({ path: [p.name], code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
        continue;
      }
      const validate = validator(pointer);
      // Query strings carry text; try the value as a number/boolean when the text is one.
      const candidates: unknown[] = [value];
      if (/^-?\d+(\.\d+)?$/.test(value)) candidates.push(Number(value));
      if (value === 'true' || value === 'false') candidates.push(value === 'true');
      if (candidates.some((c) => validate(c))) continue;
      const notSnowflake = (validate.errors ?? []).some(
        (e) => e.keyword === 'pattern' || (e.keyword === 'format' && (e.params as { format?: string }).format === 'snowflake'),
      );
      if (notSnowflake) {
        errors.push({ path: [p.name], code: 'NUMBER_TYPE_COERCE', message: `Value "${value}" is not snowflake.` });
      } else {
        for (const e of fromAjv(validate.errors)) errors.push({ ...e, path: [p.name, ...e.path] });
      }
    }
    return errors;
  }

  /** The double's behaviour for the operations it implements. */
  private async route(matched: Matched, body: Body | undefined, url: URL): Promise<{ status: number; body: unknown }> {
    const { channel_id: channelId, message_id: messageId } = matched.params;
    const interactionOp = await this.interactionRoute(matched, body, url);
    if (interactionOp) return interactionOp;
    if (channelId && this.channels && !this.channels.includes(channelId) && !this.threads.has(channelId)) {
      return { status: 404, body: { message: 'Unknown Channel', code: 10003 } };
    }
    switch (matched.op.operationId) {
      case 'create_message':
        return this.createMessage(channelId!, body ?? {});
      case 'update_message':
        return this.updateMessage(channelId!, messageId!, body ?? {});
      case 'get_message':
        return this.getMessage(channelId!, messageId!);
      case 'list_messages':
        return this.listMessages(channelId!, url);
      case 'create_thread_from_message':
        return this.createThread(channelId!, messageId!, body ?? {});
      case 'update_channel':
        return this.updateThread(channelId!, body ?? {});
      case 'get_channel': {
        const thread = this.threads.get(channelId!);
        if (thread) return { status: 200, body: thread };
        if (this.guild && this.channels?.includes(channelId!)) return { status: 200, body: this.textChannel(channelId!, this.guild) };
        return { status: 404, body: { message: 'Unknown Channel', code: 10003 } };
      }
      case 'get_my_user':
        if (!this.guild) break;
        return { status: 200, body: { id: this.guild.botUserId, username: 'vigil', discriminator: '0', global_name: null, avatar: null, bot: true } };
      case 'get_guild_member': {
        const g = this.guild;
        if (!g || matched.params.guild_id !== g.id) return { status: 404, body: { message: 'Unknown Guild', code: 10004 } };
        if (matched.params.user_id !== g.botUserId) return { status: 404, body: { message: 'Unknown Member', code: 10007 } };
        const user = { id: g.botUserId, username: 'vigil', discriminator: '0', global_name: null, avatar: null, bot: true };
        return { status: 200, body: { user, roles: g.botRoles, joined_at: '2026-01-01T00:00:00.000000+00:00', deaf: false, mute: false, flags: 0 } };
      }
      case 'list_guild_roles': {
        const g = this.guild;
        if (!g || matched.params.guild_id !== g.id) return { status: 404, body: { message: 'Unknown Guild', code: 10004 } };
        const roles = g.roles.map((r, i) => ({
          id: r.id,
          name: r.id === g.id ? '@everyone' : `role-${i}`,
          color: 0,
          hoist: false,
          position: i,
          permissions: r.permissions,
          managed: false,
          mentionable: r.mentionable ?? false,
          flags: 0,
        }));
        return { status: 200, body: roles };
      }
      default:
        break;
    }
    this.invalid.push({
      method: matched.method.toUpperCase(),
      path: matched.route.template,
      errors: [`${matched.op.operationId} is valid but not implemented by the double${this.guild ? '' : ' (without a guild)'}`],
    });
    return { status: 404, body: NOT_FOUND };
  }

  /** docs (Channel object): a guild text channel (type 0) with its permission overwrites. */
  private textChannel(id: string, g: DoubleGuild): Record<string, unknown> {
    return {
      id,
      type: 0,
      guild_id: g.id,
      name: `alerts-${id.slice(-4)}`,
      position: 0,
      parent_id: null,
      nsfw: false,
      permission_overwrites: g.overwrites?.[id] ?? [],
      topic: null,
      last_message_id: null,
      rate_limit_per_user: 0,
      flags: 0,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Interactions, their webhook, command registration, the gateway URL

  registerInteraction(payload: APIInteraction, delivery: 'gateway' | 'http'): InteractionRecord {
    const p = payload;
    let settle: () => void = () => undefined;
    const acknowledged = delivery === 'http' ? new Promise<void>((resolve) => (settle = resolve)) : Promise.resolve();
    const record: InteractionRecord = {
      id: p.id,
      token: p.token,
      applicationId: p.application_id,
      type: p.type,
      channelId: p.channel?.id ?? p.channel_id ?? '0',
      ...(p.message ? { componentMessageId: p.message.id } : {}),
      delivery,
      receivedAt: Date.now(),
      followUps: [],
      acknowledged,
    };
    // The message a button sits on exists in Discord: edits through @original land on it.
    if (p.message && !this.messages.has(p.message.id)) this.messages.set(p.message.id, p.message);
    this.interactions.set(record.id, record);
    this.settled.set(record.id, settle);
    return record;
  }

  beginHttpInteraction(payload: APIInteraction): HttpDelivery {
    const record = this.registerInteraction(payload, 'http');
    return {
      record,
      answer: (status, body) => {
        const errors = status === 200 ? this.applyCallback(record, body as Body) : [`the bot answered HTTP ${status}`];
        if (errors.length) this.invalid.push({ method: 'POST', path: '/interactions (HTTP answer)', errors });
        this.settled.get(record.id)?.();
        return errors;
      },
    };
  }

  /** Discord's handling of an interaction callback: at most one, within 3 s, of a type that fits. */
  private applyCallback(record: InteractionRecord, body: Body): string[] {
    const files = uploads.get(body) ?? [];
    if (record.callback) return ['Interaction has already been acknowledged (40060)'];
    if (Date.now() - record.receivedAt > CALLBACK_DEADLINE_MS)
      return [`answered after Discord's ${CALLBACK_DEADLINE_MS} ms deadline: Unknown interaction (10062)`];
    const validate = loadSpec().validator(CALLBACK_POINTER);
    if (!validate(body)) return fromAjv(validate.errors).map((e) => `callback.${e.path.join('.')}: ${e.code} ${e.message}`);
    const type = body.type as number;
    const allowed: Record<number, number[]> = { 1: [1], 2: [4, 5, 9], 3: [4, 5, 6, 7, 9], 4: [8], 5: [4, 5, 6, 7] };
    if (!(allowed[record.type] ?? []).includes(type)) return [`callback type ${type} does not answer an interaction of type ${record.type}`];
    const data = (body.data ?? undefined) as Body | undefined;
    if (data && (type === 4 || type === 7)) {
      const docErrors = docRuleErrors(data).map((e) => `callback.data.${e.path.join('.')}: ${e.code} ${e.message}`);
      if (docErrors.length) return docErrors;
    }
    if (type === 4 && isEmptyMessage(data ?? {})) return ['callback.data: Cannot send an empty message (50006)'];
    const unknown = data ? this.unknownAttachments(data, files, []) : [];
    if (unknown.length) return unknown.map((e) => `callback.data.${e.path.join('.')}: ${e.code} ${e.message}`);
    record.callback = { type, ...(data ? { data } : {}), at: Date.now() };
    const ephemeral = ((data?.flags as number | undefined) ?? 0) & 64 ? true : false;
    if (type === 4) record.original = this.seen(data ?? {}, ephemeral, false, files);
    if (type === 5) record.original = this.seen({}, ephemeral, true);
    if (type === 7 && record.componentMessageId) this.editStored(record.componentMessageId, data ?? {}, files);
    if (type === 8) record.choices = ((data?.choices ?? []) as InteractionRecord['choices']) ?? [];
    return [];
  }

  private seen(body: Body, ephemeral: boolean, loading: boolean, files: UploadedFile[] = []): SeenMessage {
    const attachments = this.attachmentsAfter(body, files, []);
    return {
      id: this.snowflake(),
      content: typeof body.content === 'string' ? body.content : '',
      embeds: this.embedsWith(body, attachments),
      components: Array.isArray(body.components) ? body.components : [],
      attachments,
      ephemeral,
      loading,
      edits: 0,
    };
  }

  private editSeen(m: SeenMessage, body: Body, files: UploadedFile[] = []): void {
    if ('content' in body) m.content = typeof body.content === 'string' ? body.content : '';
    m.attachments = this.attachmentsAfter(body, files, m.attachments);
    if ('embeds' in body) m.embeds = this.embedsWith(body, m.attachments);
    if ('components' in body) m.components = Array.isArray(body.components) ? body.components : [];
    m.loading = false;
    m.edits += 1;
  }

  private editStored(messageId: string, body: Body, files: UploadedFile[] = []): StoredMessage | undefined {
    const message = this.messages.get(messageId);
    if (!message) return undefined;
    const updated = { ...message, edited_timestamp: new Date().toISOString() } as StoredMessage & Record<string, unknown>;
    if ('content' in body) updated.content = typeof body.content === 'string' ? body.content : '';
    updated.attachments = this.attachmentsAfter(body, files, message.attachments);
    if ('embeds' in body) updated.embeds = this.embedsWith(body, updated.attachments);
    if ('components' in body) updated.components = (Array.isArray(body.components) ? body.components : []) as StoredMessage['components'];
    this.messages.set(messageId, updated);
    return updated;
  }

  // -------------------------------------------------------------------------------------------
  // Attachments (docs: Reference, Uploading Files / Editing Message Attachments)

  /** `attachments` entries that name neither a `files[n]` of the request nor an attachment the message has. */
  private unknownAttachments(body: Body, files: readonly UploadedFile[], existing: readonly APIAttachment[]): FieldError[] {
    if (!Array.isArray(body.attachments)) return [];
    return (body.attachments as Array<{ id?: unknown }>).flatMap((a, i) => {
      const id = String(a?.id);
      const known = files.some((f) => String(f.index) === id) || existing.some((e) => e.id === id);
      return known
        ? []
        : [
            {
              path: ['attachments', i, 'id'],
              code: 'ATTACHMENT_NOT_FOUND',
              message: `Unknown attachment ${id}: no files[${id}] part and no such attachment on the message`,
            },
          ];
    });
  }

  /**
   * The message's attachments after a create or edit: with an `attachments` list, exactly the
   * existing ones it names plus the new files whose placeholder it names (docs: on PATCH, files
   * not listed are removed); without one, the existing ones plus every new file.
   */
  private attachmentsAfter(body: Body, files: readonly UploadedFile[], existing: readonly APIAttachment[]): APIAttachment[] {
    const listed = Array.isArray(body.attachments) ? (body.attachments as Array<{ id?: unknown; filename?: unknown; description?: unknown }>) : undefined;
    if (!listed) return [...existing, ...files.map((f) => this.storeAttachment(f, undefined, undefined))];
    const out: APIAttachment[] = [];
    for (const item of listed) {
      const id = String(item?.id);
      const kept = existing.find((e) => e.id === id);
      const file = files.find((f) => String(f.index) === id);
      const description = typeof item.description === 'string' ? item.description : undefined;
      if (kept) out.push(description === undefined ? kept : { ...kept, description });
      else if (file) out.push(this.storeAttachment(file, typeof item.filename === 'string' ? item.filename : undefined, description));
    }
    return out;
  }

  private storeAttachment(file: UploadedFile, filename: string | undefined, description: string | undefined): APIAttachment {
    const id = this.snowflake();
    const name = filename ?? file.filename;
    const url = `https://cdn.discordapp.invalid/attachments/0/${id}/${encodeURIComponent(name)}`;
    this.attachmentData.set(id, file.data);
    const png = pngSize(file.data);
    return {
      id,
      filename: name,
      size: file.data.length,
      url,
      proxy_url: url.replace('cdn.', 'media.'),
      content_type: file.contentType,
      ...(png ? { width: png.width, height: png.height } : {}),
      ...(description !== undefined ? { description } : {}),
    };
  }

  /**
   * The embeds as Discord echoes them, an `attachment://name` image or thumbnail resolved to that
   * attachment's URL. docs: the name must be a file uploaded with the message; one that is not is
   * recorded in `invalid` (Discord shows no image then).
   */
  private embedsWith(body: Body, attachments: readonly APIAttachment[]): APIEmbed[] {
    return embedsOf(body).map((embed, i) => {
      const out = toEmbedResponse(embed);
      for (const key of ['image', 'thumbnail'] as const) {
        const url = out[key]?.url;
        if (!url?.startsWith('attachment://')) continue;
        const found = attachments.find((a) => a.filename === url.slice('attachment://'.length));
        if (found) {
          out[key] = { ...out[key], url: found.url, proxy_url: found.proxy_url, ...(found.width ? { width: found.width, height: found.height! } : {}) };
        } else {
          this.invalid.push({ method: '-', path: `embeds.${i}.${key}.url`, errors: [`${url} names no attachment of the message`] });
        }
      }
      return out;
    });
  }

  /** A SeenMessage as the message object the webhook endpoints answer with. */
  private asMessage(record: InteractionRecord, m: SeenMessage): StoredMessage {
    return {
      id: m.id,
      channel_id: record.channelId,
      type: 20,
      content: m.content,
      mentions: [],
      mention_roles: [],
      attachments: m.attachments,
      embeds: m.embeds,
      timestamp: new Date(record.receivedAt).toISOString(),
      edited_timestamp: m.edits ? new Date().toISOString() : null,
      flags: (m.ephemeral ? 64 : 0) | (m.loading ? 128 : 0),
      components: m.components as StoredMessage['components'],
      author: this.botUser,
      pinned: false,
      mention_everyone: false,
      tts: false,
      webhook_id: record.applicationId,
      application_id: record.applicationId,
    };
  }

  /** The interaction a webhook path names, once its callback is in; or Discord's error. */
  private async webhookInteraction(params: Record<string, string>): Promise<InteractionRecord | { status: number; body: unknown }> {
    const record = [...this.interactions.values()].find((r) => r.token === params.webhook_token && r.applicationId === params.webhook_id);
    if (!record) return { status: 404, body: { message: 'Unknown Webhook', code: 10015 } };
    await Promise.race([record.acknowledged, new Promise((r) => setTimeout(r, ACK_WAIT_MS))]);
    if (Date.now() - record.receivedAt > TOKEN_LIFETIME_MS) return { status: 401, body: { message: 'Invalid Webhook Token', code: 50027 } };
    if (!record.callback) return { status: 404, body: { message: 'Unknown Webhook', code: 10015 } };
    return record;
  }

  private async interactionRoute(matched: Matched, body: Body | undefined, url: URL): Promise<{ status: number; body: unknown } | undefined> {
    const op = matched.op.operationId;
    const p = matched.params;
    const reject = (errors: string[], answer: { status: number; body: unknown }) => {
      this.invalid.push({ method: matched.method.toUpperCase(), path: matched.route.template, errors });
      return answer;
    };
    switch (op) {
      case 'create_interaction_response': {
        const record = this.interactions.get(p.interaction_id!);
        if (!record || record.token !== p.interaction_token) {
          return reject(['no such interaction id/token'], { status: 404, body: { message: 'Unknown interaction', code: 10062 } });
        }
        if (record.delivery === 'http') {
          return reject(['callback over REST for an interaction delivered over HTTP (answer in the HTTP response)'], {
            status: 400,
            body: { message: 'Interaction has already been acknowledged.', code: 40060 },
          });
        }
        const errors = this.applyCallback(record, body ?? {});
        if (errors.length) return reject(errors, { status: 400, body: { message: errors[0], code: 50035 } });
        if (url.searchParams.get('with_response') !== 'true') return { status: 204, body: undefined };
        const response: Record<string, unknown> = { interaction: { id: record.id, type: record.type } };
        if (record.original) response.resource = { type: record.callback!.type, message: this.asMessage(record, record.original) };
        return { status: 200, body: response };
      }
      case 'update_original_webhook_message':
      case 'get_original_webhook_message': {
        const found = await this.webhookInteraction(p);
        if ('status' in found) return reject(['webhook call for an unknown or unacknowledged interaction'], found);
        const edit = op === 'update_original_webhook_message';
        const files = (body && uploads.get(body)) ?? [];
        const existing = found.original?.attachments ?? (found.componentMessageId ? this.messages.get(found.componentMessageId)?.attachments : undefined) ?? [];
        const unknown = edit && body ? this.unknownAttachments(body, files, existing) : [];
        if (unknown.length)
          return reject(
            unknown.map((e) => `body.${e.path.join('.')}: ${e.message}`),
            invalidFormBodyAnswer(unknown),
          );
        if (found.original) {
          if (edit) this.editSeen(found.original, body ?? {}, files);
          return { status: 200, body: this.asMessage(found, found.original) };
        }
        // After a deferred update (6) or an update (7), @original is the message the button is on.
        const onMessage =
          found.componentMessageId && (edit ? this.editStored(found.componentMessageId, body ?? {}, files) : this.messages.get(found.componentMessageId));
        if (onMessage) return { status: 200, body: onMessage };
        return reject(['@original does not exist for this interaction'], { status: 404, body: { message: 'Unknown Message', code: 10008 } });
      }
      case 'execute_webhook': {
        // A channel webhook (Alertmanager's discord_configs posts to one): a message in its channel.
        const hook = this.channelWebhooks.find((w) => w.id === p.webhook_id);
        if (hook) {
          if (hook.token !== p.webhook_token)
            return reject(['webhook token does not match'], { status: 401, body: { message: 'Invalid Webhook Token', code: 50027 } });
          const created = this.createMessage(hook.channelId, body ?? {});
          return url.searchParams.get('wait') === 'true' || created.status !== 200 ? created : { status: 204, body: undefined };
        }
        const found = await this.webhookInteraction(p);
        if ('status' in found) return reject(['follow-up for an unknown or unacknowledged interaction'], found);
        const files = (body && uploads.get(body)) ?? [];
        const unknown = body ? this.unknownAttachments(body, files, []) : [];
        if (unknown.length)
          return reject(
            unknown.map((e) => `body.${e.path.join('.')}: ${e.message}`),
            invalidFormBodyAnswer(unknown),
          );
        const m = this.seen(body ?? {}, (((body?.flags as number | undefined) ?? 0) & 64) !== 0, false, files);
        found.followUps.push(m);
        return url.searchParams.get('wait') === 'true' ? { status: 200, body: this.asMessage(found, m) } : { status: 204, body: undefined };
      }
      case 'update_webhook_message':
      case 'get_webhook_message': {
        const found = await this.webhookInteraction(p);
        if ('status' in found) return reject(['webhook call for an unknown or unacknowledged interaction'], found);
        const m = [found.original, ...found.followUps].find((x) => x?.id === p.message_id);
        if (!m) return { status: 404, body: { message: 'Unknown Message', code: 10008 } };
        if (op === 'update_webhook_message') this.editSeen(m, body ?? {}, (body && uploads.get(body)) ?? []);
        return { status: 200, body: this.asMessage(found, m) };
      }
      case 'bulk_set_application_commands':
      case 'bulk_set_guild_application_commands': {
        if (this.applicationId && p.application_id !== this.applicationId) {
          return reject([`application id ${p.application_id} is not the bot's`], { status: 404, body: { message: 'Unknown Application', code: 10002 } });
        }
        const list = ((body as unknown as Body[] | null) ?? []).map((c) => this.commandResponse(p.application_id!, c, p.guild_id));
        if (p.guild_id) this.commands.guilds.set(p.guild_id, list);
        else this.commands.global = list;
        return { status: 200, body: list };
      }
      case 'get_bot_gateway':
        // Discord answers every bot token here, and the bot asks it for more than connecting (its
        // outage probe). Without a gateway double the URL names a host that never resolves
        // (RFC 2606 .invalid), so a gateway-mode test that forgot setGatewayUrl fails to connect.
        return {
          status: 200,
          body: {
            url: this.gatewayUrl ?? NO_GATEWAY_URL,
            shards: 1,
            session_start_limit: { total: 1000, remaining: 999, reset_after: 86_400_000, max_concurrency: 1 },
          },
        };
      default:
        return undefined;
    }
  }

  private commandResponse(applicationId: string, c: Body, guildId: string | undefined): APIApplicationCommand {
    return {
      id: this.snowflake(),
      application_id: applicationId,
      version: this.snowflake(),
      type: (c.type as number | undefined) ?? 1,
      name: c.name as string,
      description: (c.description as string | undefined) ?? '',
      default_member_permissions: (c.default_member_permissions as string | null | undefined) ?? null,
      ...(guildId ? { guild_id: guildId } : {}),
      ...(Array.isArray(c.options) ? { options: c.options } : {}),
      ...(c.contexts !== undefined ? { contexts: c.contexts } : {}),
      nsfw: c.nsfw === true,
    } as APIApplicationCommand;
  }

  /**
   * docs (Start Thread from Message): a public thread whose id is the message's; one per message
   * (400 code 160004 for a second one); the message must exist in that channel.
   */
  private createThread(channelId: string, messageId: string, body: Body): { status: number; body: unknown } {
    const message = this.messages.get(messageId);
    if (!message || message.channel_id !== channelId) return { status: 404, body: { message: 'Unknown Message', code: 10008 } };
    if (this.threads.has(messageId)) return { status: 400, body: { message: 'A thread has already been created for this message', code: 160004 } };
    const now = new Date().toISOString();
    const thread = {
      id: messageId,
      type: 11,
      guild_id: '100000000000000001',
      parent_id: channelId,
      owner_id: this.botUser.id,
      name: body.name as string,
      flags: 0,
      last_message_id: null,
      rate_limit_per_user: 0,
      message_count: 0,
      member_count: 1,
      total_message_sent: 0,
      thread_metadata: {
        archived: false,
        auto_archive_duration: (body.auto_archive_duration as number | null | undefined) ?? 4320,
        archive_timestamp: now,
        locked: false,
        create_timestamp: now,
      },
    } as unknown as StoredThread;
    this.threads.set(messageId, thread);
    return { status: 201, body: thread };
  }

  /** PATCH /channels/{id} for a thread: name, archived, locked, auto_archive_duration; other channels are not the double's. */
  private updateThread(channelId: string, body: Body): { status: number; body: unknown } {
    const thread = this.threads.get(channelId);
    if (!thread) return { status: 404, body: { message: 'Unknown Channel', code: 10003 } };
    const meta = { ...thread.thread_metadata! };
    if (typeof body.archived === 'boolean' && body.archived !== meta.archived) {
      meta.archived = body.archived;
      meta.archive_timestamp = new Date().toISOString();
    }
    if (typeof body.locked === 'boolean') meta.locked = body.locked;
    if (typeof body.auto_archive_duration === 'number') meta.auto_archive_duration = body.auto_archive_duration;
    const updated = { ...thread, ...(typeof body.name === 'string' ? { name: body.name } : {}), thread_metadata: meta } as StoredThread;
    this.threads.set(channelId, updated);
    return { status: 200, body: updated };
  }

  /** A message into a thread: docs: a locked archived thread refuses it; an archived one that is not locked is unarchived by it. */
  private intoThread(threadId: string, messageId: string): { status: number; body: unknown } | undefined {
    const thread = this.threads.get(threadId);
    if (!thread) return undefined;
    const meta = thread.thread_metadata!;
    if (meta.archived && meta.locked) return { status: 400, body: { message: 'Thread is locked', code: 50083 } };
    const count = (thread.message_count ?? 0) + 1;
    this.threads.set(threadId, {
      ...thread,
      last_message_id: messageId,
      message_count: count,
      total_message_sent: count,
      thread_metadata: { ...meta, archived: false },
    });
    return undefined;
  }

  private createMessage(channelId: string, body: Body): { status: number; body: unknown } {
    const nonce = body.nonce as string | number | null | undefined;
    const nonceKey = nonce == null ? undefined : String(nonce);
    if (nonceKey !== undefined && body.enforce_nonce === true) {
      const seen = this.nonces.get(nonceKey);
      const existing = seen && Date.now() - seen.at < NONCE_WINDOW_MS ? this.messages.get(seen.id) : undefined;
      if (existing) return { status: 200, body: existing };
    }
    const ref = body.message_reference as { message_id: string; channel_id?: string; fail_if_not_exists?: boolean | null } | null | undefined;
    const referenced = ref ? this.messages.get(ref.message_id) : undefined;
    if (ref && !referenced && ref.fail_if_not_exists !== false) {
      return invalidFormBodyAnswer([{ path: ['message_reference'], code: 'REPLIES_UNKNOWN_MESSAGE', message: 'Unknown message' }]);
    }
    const files = uploads.get(body) ?? [];
    const unknown = this.unknownAttachments(body, files, []);
    if (unknown.length) return this.rejectBody('POST', '/channels/{channel_id}/messages', unknown);
    const attachments = this.attachmentsAfter(body, files, []);
    const id = this.snowflake();
    const refused = this.intoThread(channelId, id);
    if (refused) return refused;
    const message = {
      id,
      channel_id: channelId,
      type: referenced ? 19 : 0,
      content: typeof body.content === 'string' ? body.content : '',
      mentions: [],
      mention_roles: [],
      attachments,
      embeds: this.embedsWith(body, attachments),
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      flags: typeof body.flags === 'number' ? body.flags : 0,
      components: Array.isArray(body.components) ? body.components : [],
      author: this.botUser,
      pinned: false,
      mention_everyone: false,
      tts: body.tts === true,
      ...(nonceKey !== undefined && { nonce: nonce! }),
      ...(referenced && {
        message_reference: { type: 0, channel_id: referenced.channel_id, message_id: referenced.id },
        referenced_message: referenced,
      }),
    } as StoredMessage;
    this.messages.set(message.id, message);
    if (nonceKey !== undefined) this.nonces.set(nonceKey, { id: message.id, at: Date.now() });
    return { status: 200, body: message };
  }

  private updateMessage(channelId: string, messageId: string, body: Body): { status: number; body: unknown } {
    const message = this.messages.get(messageId);
    if (!message || message.channel_id !== channelId) return { status: 404, body: { message: 'Unknown Message', code: 10008 } };
    const files = uploads.get(body) ?? [];
    const unknown = this.unknownAttachments(body, files, message.attachments);
    if (unknown.length) return this.rejectBody('PATCH', '/channels/{channel_id}/messages/{message_id}', unknown);
    const updated = { ...message, edited_timestamp: new Date().toISOString() } as StoredMessage & Record<string, unknown>;
    if ('content' in body) updated.content = typeof body.content === 'string' ? body.content : '';
    updated.attachments = this.attachmentsAfter(body, files, message.attachments);
    if ('embeds' in body) updated.embeds = this.embedsWith(body, updated.attachments);
    if (typeof body.flags === 'number') updated.flags = body.flags;
    if ('components' in body) updated.components = (Array.isArray(body.components) ? body.components : []) as StoredMessage['components'];
    this.messages.set(messageId, updated);
    return { status: 200, body: updated };
  }

  /** A 400 Invalid Form Body for a body the handler found wrong, recorded in `invalid`. */
  private rejectBody(method: string, path: string, errors: FieldError[]): { status: number; body: unknown } {
    const r = invalidFormBody(errors, 'body');
    this.invalid.push({ method, path, errors: r.errors });
    return { status: r.status, body: r.body };
  }

  private getMessage(channelId: string, messageId: string): { status: number; body: unknown } {
    const message = this.messages.get(messageId);
    if (!message || message.channel_id !== channelId) return { status: 404, body: { message: 'Unknown Message', code: 10008 } };
    return { status: 200, body: message };
  }

  private listMessages(channelId: string, url: URL): { status: number; body: unknown } {
    const limit = Number(url.searchParams.get('limit') ?? 50);
    const before = url.searchParams.get('before');
    const after = url.searchParams.get('after');
    const list = [...this.messages.values()]
      .filter((msg) => msg.channel_id === channelId)
      .filter((msg) => (before ? BigInt(msg.id) < BigInt(before) : true))
      .filter((msg) => (after ? BigInt(msg.id) > BigInt(after) : true))
      .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1))
      .slice(0, limit);
    return { status: 200, body: list };
  }

  /** A new snowflake: ms since Discord's epoch, then a counter in the low bits. */
  private snowflake(): string {
    this.seq = (this.seq + 1n) & 0xfffn;
    return (((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | (1n << 17n) | this.seq).toString();
  }
}

function invalidFormBodyAnswer(errors: FieldError[]): { status: number; body: unknown } {
  const r = invalidFormBody(errors, 'body');
  return { status: r.status, body: r.body };
}

/** Discord echoes an embed with type "rich" and without the nulls it was sent. */
function toEmbedResponse(embed: APIEmbed): APIEmbed {
  const clean = Object.fromEntries(Object.entries(embed).filter(([, v]) => v !== null)) as APIEmbed;
  return { type: 'rich' as APIEmbed['type'], ...clean };
}

/** docs: a 429 body is message, retry_after, global (code only "for some limits", though the spec requires it). */
function defaultBody(status: number): unknown {
  if (status === 429) return { message: 'You are being rate limited.', retry_after: 0.1, global: false };
  if (status >= 500) return { message: `${status}: Internal Server Error`, code: 0 };
  return { message: `${status}: error`, code: 0 };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  // A 204 (No Content) carries neither a body nor a content type, as Discord sends it.
  if (body === undefined && status === 204) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The files of a multipart body, by the body object parsed from its payload_json. */
const uploads = new WeakMap<object, UploadedFile[]>();

/**
 * The JSON body, or a multipart body's payload_json part and its `files[n]` parts. docs: every
 * file part is named `files[n]` (unique) and carries a filename; Vigil sends no other fields.
 */
async function parseBody(contentType: string | undefined, raw: Buffer): Promise<{ value: unknown; files: UploadedFile[] } | { error: string }> {
  if (raw.length === 0) return { value: undefined, files: [] };
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  try {
    if (type === 'application/json') return { value: JSON.parse(raw.toString('utf8')), files: [] };
    if (type === 'multipart/form-data') {
      const form = await new Response(raw, { headers: { 'content-type': contentType! } }).formData();
      const files: UploadedFile[] = [];
      for (const [field, part] of form.entries()) {
        if (field === 'payload_json') continue;
        const index = FILE_FIELD.exec(field);
        if (!index) return { error: `multipart field "${field}" is neither payload_json nor files[n]` };
        if (typeof part === 'string' || !part.name) return { error: `multipart field ${field} has no filename in its Content-Disposition` };
        files.push({
          field,
          index: Number(index[1]),
          filename: part.name,
          contentType: part.type || 'application/octet-stream',
          data: Buffer.from(await part.arrayBuffer()),
        });
      }
      if (new Set(files.map((f) => f.index)).size !== files.length) return { error: 'multipart file fields are not uniquely named files[n]' };
      const payload = form.get('payload_json');
      return { value: typeof payload === 'string' ? JSON.parse(payload) : undefined, files };
    }
  } catch (err) {
    return { error: `body is not valid ${type}: ${(err as Error).message}` };
  }
  return { error: `unsupported content-type "${contentType ?? ''}"` };
}

/** Width and height from a PNG's IHDR chunk, when the bytes are a PNG. */
function pngSize(data: Buffer): { width: number; height: number } | undefined {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (data.length < 24 || !data.subarray(0, 8).equals(signature)) return undefined;
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
}
