/**
 * Contract double of Discord's HTTP API (v10), on node:http at 127.0.0.1.
 *
 * Every request is checked against Discord's own OpenAPI 3.1 description in ../shared (loaded at
 * run time, never copied): path template and method, path parameters, the `Authorization: Bot`
 * header, and the JSON body (or a multipart body's `payload_json` part) against the operation's
 * requestBody schema. A request that fails is answered the way Discord would (400 Invalid Form
 * Body, 401, 404, 405) and recorded in `invalid`, so a test can assert the bot only sent valid
 * requests. Where the spec (a preview) and Discord's docs disagree, the docs win; each such rule
 * is marked "docs:" below.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import type { APIEmbed, APIMessage, APIUser } from 'discord-api-types/v10';

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
  /** Status the double answered with (0 while in progress or when the connection was dropped). */
  status: number;
}

/** A message as the double stores it: Discord's message object. */
export type StoredMessage = APIMessage;

/** A request the spec (or Discord's docs) does not allow. */
export interface InvalidRequest {
  method: string;
  path: string;
  errors: string[];
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

/** The running double. */
export interface DiscordDouble {
  /** Base URL without the version, as discord.js REST's `api` option wants it. */
  apiBaseUrl: string;
  requests: RecordedRequest[];
  messages: Map<string, StoredMessage>;
  /** Queues answers for the next requests that pass validation, in order. */
  failNext(responses: ScriptedResponse[]): void;
  invalid: InvalidRequest[];
  /** The bot user the double answers as the author of created messages. */
  botUser: APIUser;
  stop(): Promise<void>;
}

/** Options for startDiscordDouble. */
export interface DiscordDoubleOptions {
  /** The bot token requests must carry. */
  token?: string;
  /** When set, other channel ids are answered 404 Unknown Channel. */
  channels?: string[];
}

/** Token the double expects when none is given: shaped like a real one, valid nowhere. */
export const DOUBLE_TOKEN = 'MTIzNDU2Nzg5MDEyMzQ1Njc4.GdOubL.e-vigil-test-double-token-000000';

const API_PREFIX = '/api/v10';
const SPEC_ID = 'https://vigil.invalid/discord-openapi.json';
const SPEC_URL = new URL('../../../shared/discord/openapi.json', import.meta.url);
const DISCORD_EPOCH = 1_420_070_400_000n;
/** docs: "checked for uniqueness in the past few minutes". */
const NONCE_WINDOW_MS = 5 * 60_000;
/** docs: content is up to 2000 characters (the spec says 4000). */
const MAX_CONTENT = 2000;
/** docs: title, description, field.name, field.value, footer.text and author.name of all embeds together. */
const MAX_EMBED_TOTAL = 6000;
const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;

/** Starts the double on a free loopback port. */
export async function startDiscordDouble(opts: DiscordDoubleOptions = {}): Promise<DiscordDouble> {
  const state = new DoubleState(opts.token ?? DOUBLE_TOKEN, opts.channels);
  const server = createServer((req, res) => {
    state.handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { message: `double crashed: ${String(err)}`, code: 0 });
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
    invalid: state.invalid,
    botUser: state.botUser,
    failNext: (responses) => state.scripted.push(...responses),
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
}

interface SpecTools {
  routes: Route[];
  /** Validator for the schema at a JSON pointer inside the spec document. */
  validator(pointer: string[]): ValidateFunction;
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
  ajv.addSchema(spec as object, SPEC_ID);
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
}

const NOT_FOUND = { message: '404: Not Found', code: 0 };

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
  readonly invalid: InvalidRequest[] = [];
  readonly scripted: ScriptedResponse[] = [];
  readonly botUser: APIUser;
  private readonly nonces = new Map<string, { id: string; at: number }>();
  private seq = 0n;

  constructor(
    private readonly token: string,
    private readonly channels: string[] | undefined,
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
      this.invalid.push({ method, path: url.pathname, errors: checked.errors });
      reply(checked.status, checked.body);
      return;
    }
    const scripted = this.scripted.shift();
    if (scripted && !scripted.afterHandling) {
      await this.answerScripted(scripted, res, record);
      return;
    }
    const answer = this.route(checked, record.body as Body | undefined, url);
    if (scripted) {
      // A 2xx without a body of its own is the real answer, just late (delayMs) or lost (dropConnection).
      await this.answerScripted(scripted, res, record, scripted.status < 300 ? answer.body : undefined);
      return;
    }
    reply(answer.status, answer.body);
  }

  private async answerScripted(s: ScriptedResponse, res: ServerResponse, record: RecordedRequest, handledBody?: unknown): Promise<void> {
    if (s.delayMs) await new Promise((r) => setTimeout(r, s.delayMs));
    if (s.dropConnection) {
      res.socket?.destroy();
      return;
    }
    record.status = s.status;
    send(res, s.status, s.body ?? handledBody ?? defaultBody(s.status), s.headers);
  }

  /** Every check the spec and docs ask for; the matched operation when all pass. */
  private async validate(
    method: string,
    url: URL,
    headers: IncomingHttpHeaders,
    raw: Buffer,
    record: RecordedRequest,
  ): Promise<Matched | Rejection> {
    const { routes, validator } = loadSpec();
    if (!url.pathname.startsWith(`${API_PREFIX}/`)) {
      return { status: 404, body: NOT_FOUND, errors: [`path must start with ${API_PREFIX}/`] };
    }
    const path = url.pathname.slice(API_PREFIX.length);
    const found = matchRoute(routes, path);
    if (!found) return { status: 404, body: NOT_FOUND, errors: [`no path in the spec matches ${path}`] };
    const m = method.toLowerCase() as (typeof METHODS)[number];
    const op = METHODS.includes(m) ? found.route.item[m] : undefined;
    if (!op) {
      return { status: 405, body: { message: '405: Method Not Allowed', code: 0 }, errors: [`${method} is not allowed on ${found.route.template}`] };
    }
    record.operationId = op.operationId;
    const matched: Matched = { route: found.route, op, method: m, params: found.params };

    if (op.security?.some((s) => 'BotToken' in s) && headers.authorization !== `Bot ${this.token}`) {
      const why = headers.authorization === undefined ? 'Authorization header missing' : 'Authorization is not "Bot <configured token>"';
      return { status: 401, body: { message: '401: Unauthorized', code: 0 }, errors: [why] };
    }

    // Discord answers a malformed id or query value with 400 Invalid Form Body naming the parameter.
    const paramErrors = this.checkParams(matched, url, validator);
    if (paramErrors.length) return invalidFormBody(paramErrors, 'params');

    const body = await parseBody(headers['content-type'], raw);
    if ('error' in body) {
      return { status: 400, body: { code: 50109, message: 'The request body contains invalid JSON.' }, errors: [body.error] };
    }
    record.body = body.value;
    if (!op.requestBody) return matched;
    if (body.value === undefined) {
      if (!op.requestBody.required) return matched;
      return { status: 400, body: { code: 50109, message: 'The request body contains invalid JSON.' }, errors: ['request body required'] };
    }
    const schemaPointer = ['paths', found.route.template, m, 'requestBody', 'content', 'application/json', 'schema'];
    const validate = validator(schemaPointer);
    if (!validate(body.value)) return invalidFormBody(fromAjv(validate.errors), 'body');
    if (op.operationId === 'create_message' || op.operationId === 'update_message') {
      const docErrors = docRuleErrors(body.value as Body);
      if (docErrors.length) return invalidFormBody(docErrors, 'body (docs)');
      if (op.operationId === 'create_message' && isEmptyMessage(body.value as Body)) {
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
      const value = p.in === 'path' ? matched.params[p.name] : url.searchParams.get(p.name) ?? undefined;
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
      const notSnowflake = (validate.errors ?? []).some((e) => e.keyword === 'pattern' || (e.keyword === 'format' && (e.params as { format?: string }).format === 'snowflake'));
      if (notSnowflake) {
        errors.push({ path: [p.name], code: 'NUMBER_TYPE_COERCE', message: `Value "${value}" is not snowflake.` });
      } else {
        for (const e of fromAjv(validate.errors)) errors.push({ ...e, path: [p.name, ...e.path] });
      }
    }
    return errors;
  }

  /** The double's behaviour for the operations it implements. */
  private route(matched: Matched, body: Body | undefined, url: URL): { status: number; body: unknown } {
    const { channel_id: channelId, message_id: messageId } = matched.params;
    if (channelId && this.channels && !this.channels.includes(channelId)) {
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
      default:
        this.invalid.push({
          method: matched.method.toUpperCase(),
          path: matched.route.template,
          errors: [`${matched.op.operationId} is valid but not implemented by the double`],
        });
        return { status: 404, body: NOT_FOUND };
    }
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
    const message = {
      id: this.snowflake(),
      channel_id: channelId,
      type: referenced ? 19 : 0,
      content: typeof body.content === 'string' ? body.content : '',
      mentions: [],
      mention_roles: [],
      attachments: [],
      embeds: embedsOf(body).map(toEmbedResponse),
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
    const updated = { ...message, edited_timestamp: new Date().toISOString() } as StoredMessage & Record<string, unknown>;
    if ('content' in body) updated.content = typeof body.content === 'string' ? body.content : '';
    if ('embeds' in body) updated.embeds = embedsOf(body).map(toEmbedResponse);
    if (typeof body.flags === 'number') updated.flags = body.flags;
    if ('components' in body) updated.components = (Array.isArray(body.components) ? body.components : []) as StoredMessage['components'];
    this.messages.set(messageId, updated);
    return { status: 200, body: updated };
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
  return { type: 'rich' as APIEmbed['type'], ...clean } as APIEmbed;
}

/** docs: a 429 body is message, retry_after, global (code only "for some limits", though the spec requires it). */
function defaultBody(status: number): unknown {
  if (status === 429) return { message: 'You are being rate limited.', retry_after: 0.1, global: false };
  if (status >= 500) return { message: `${status}: Internal Server Error`, code: 0 };
  return { message: `${status}: error`, code: 0 };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The JSON body, or a multipart body's payload_json part. */
async function parseBody(contentType: string | undefined, raw: Buffer): Promise<{ value: unknown } | { error: string }> {
  if (raw.length === 0) return { value: undefined };
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  try {
    if (type === 'application/json') return { value: JSON.parse(raw.toString('utf8')) };
    if (type === 'multipart/form-data') {
      const form = await new Response(raw, { headers: { 'content-type': contentType! } }).formData();
      const payload = form.get('payload_json');
      return { value: typeof payload === 'string' ? JSON.parse(payload) : undefined };
    }
  } catch (err) {
    return { error: `body is not valid ${type}: ${(err as Error).message}` };
  }
  return { error: `unsupported content-type "${contentType ?? ''}"` };
}
