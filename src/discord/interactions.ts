import type { REST } from './djs.js';
import {
  InteractionResponseType,
  MessageFlags,
  Routes,
  type APIApplicationCommandOptionChoice,
  type APIInteractionResponse,
  type APIInteractionResponseCallbackData,
} from 'discord-api-types/v10';
import type { Router } from '../commands/router.js';
import type { AutocompleteContext, CommandContext, ComponentContext, ReplyPayload } from '../commands/types.js';
import { localeOfDiscord, translate, type Locale } from '../i18n/index.js';
import type { Logger } from '../log.js';
import type { Route } from '../server.js';
import { parseInteraction, type AutocompleteBase, type CommandBase, type ComponentBase, type Incoming } from './interaction-payload.js';
import { editMessage, rawFiles, type MessageFile } from './rest.js';
import { SeenIds } from './replay.js';
import { MAX_SIGNATURE_AGE_MS, type Verifier } from './verify.js';

// ---------------------------------------------------------------------------------------------
// Transport-neutral part: both the gateway client and the HTTP endpoint answer through this.

/** The part of the router a transport calls. */
/** What the transports use of the router; `defaultLocale` (config `locale`) words their own fallback note. */
export type InteractionRouter = Pick<Router, 'handleCommand' | 'handleAutocomplete' | 'handleComponent'> & Partial<Pick<Router, 'defaultLocale'>>;

/** The first answer to an interaction (Discord's interaction callback types Vigil uses). */
type InitialResponse =
  | { type: InteractionResponseType.DeferredChannelMessageWithSource; ephemeral: boolean }
  | { type: InteractionResponseType.ChannelMessageWithSource; payload: ReplyPayload; ephemeral: boolean }
  | { type: InteractionResponseType.DeferredMessageUpdate }
  | { type: InteractionResponseType.UpdateMessage; payload: ReplyPayload }
  | { type: InteractionResponseType.ApplicationCommandAutocompleteResult; choices: APIApplicationCommandOptionChoice[] };

/** What a transport must be able to do; the session decides which call an answer becomes. */
export interface Responder {
  /** The interaction callback (once, within Discord's 3 s). */
  initial(response: InitialResponse): Promise<void>;
  /** Edits `@original`: the deferred reply, or the component's message after a deferred update. */
  editOriginal(payload: ReplyPayload): Promise<void>;
  /** A follow-up message through the interaction webhook. */
  followUp(payload: ReplyPayload, ephemeral: boolean): Promise<void>;
  /** Edits a message the bot posted, through the channel endpoint (bot token). */
  editChannelMessage(channelId: string, messageId: string, payload: ReplyPayload): Promise<void>;
}

/**
 * The message body Vigil sends: no mention in a reply ever pings anyone (query output may hold
 * "@everyone"). Files are listed as attachments 0..n-1, the placeholders of their `files[n]` parts.
 */
export function messageBody(payload: ReplyPayload, flags?: number): APIInteractionResponseCallbackData {
  const body: APIInteractionResponseCallbackData = { allowed_mentions: { parse: [] } };
  if (payload.content !== undefined) body.content = payload.content;
  if (payload.embeds !== undefined) body.embeds = payload.embeds;
  if (payload.components !== undefined) body.components = payload.components;
  if (payload.files?.length) body.attachments = payload.files.map((f, i) => ({ id: String(i), filename: f.name }));
  if (flags !== undefined) body.flags = flags;
  return body;
}

/** The interaction callback body for an initial response, as Discord expects it. */
function callbackBody(r: InitialResponse): APIInteractionResponse {
  switch (r.type) {
    case InteractionResponseType.DeferredChannelMessageWithSource:
      return { type: r.type, data: r.ephemeral ? { flags: MessageFlags.Ephemeral } : {} };
    case InteractionResponseType.ChannelMessageWithSource:
      return { type: r.type, data: messageBody(r.payload, r.ephemeral ? MessageFlags.Ephemeral : undefined) };
    case InteractionResponseType.DeferredMessageUpdate:
      return { type: r.type };
    case InteractionResponseType.UpdateMessage:
      return { type: r.type, data: messageBody(r.payload) };
    case InteractionResponseType.ApplicationCommandAutocompleteResult:
      return { type: r.type, data: { choices: r.choices } };
  }
}

/** Where an interaction's answer stands. */
type State = 'pending' | 'deferredReply' | 'replied' | 'deferredUpdate' | 'updated' | 'responded';

/**
 * One interaction's answers, in order: the first becomes the callback, the later ones edits and
 * follow-ups. Calls are serialised so a deferral in flight is never overtaken by its edit.
 */
class Session {
  state: State = 'pending';
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly responder: Responder) {}

  /** Runs `op` after every earlier call has settled. */
  run<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.then(op);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Sends the interaction callback; the state follows from its type. */
  async initial(response: InitialResponse): Promise<void> {
    this.state = nextState(response);
    await this.responder.initial(response);
  }

  /** Answers with a message: the callback, the edit of a deferred reply, or a follow-up. */
  async answer(payload: ReplyPayload, ephemeral: boolean): Promise<void> {
    if (this.state === 'pending') {
      return this.initial({ type: InteractionResponseType.ChannelMessageWithSource, payload, ephemeral });
    }
    if (this.state === 'deferredReply') {
      this.state = 'replied';
      return this.responder.editOriginal(payload);
    }
    return this.responder.followUp(payload, ephemeral);
  }
}

function commandContext(base: CommandBase, s: Session): CommandContext {
  return {
    ...base,
    defer: (opts) =>
      s.run(async () => {
        // Without the router's flag the reply is not known yet: private, as the backstop's deferral.
        if (s.state === 'pending') await s.initial({ type: InteractionResponseType.DeferredChannelMessageWithSource, ephemeral: opts?.ephemeral ?? true });
      }),
    reply: (payload, opts) => s.run(() => s.answer(payload, opts?.ephemeral ?? false)),
    followUp: (payload, opts) => s.run(() => s.answer(payload, opts?.ephemeral ?? false)),
  };
}

function autocompleteContext(base: AutocompleteBase, s: Session): AutocompleteContext {
  return {
    ...base,
    respond: (choices) =>
      s.run(async () => {
        if (s.state === 'pending') {
          await s.initial({ type: InteractionResponseType.ApplicationCommandAutocompleteResult, choices });
        }
      }),
  };
}

function componentContext(base: ComponentBase, s: Session): ComponentContext {
  return {
    ...base,
    deferUpdate: () =>
      s.run(async () => {
        if (s.state === 'pending') await s.initial({ type: InteractionResponseType.DeferredMessageUpdate });
      }),
    updateMessage: (payload) =>
      s.run(async () => {
        if (s.state === 'pending') return s.initial({ type: InteractionResponseType.UpdateMessage, payload });
        if (s.state === 'deferredUpdate' || s.state === 'updated') {
          s.state = 'updated';
          return s.responder.editOriginal(payload);
        }
        // After a reply, @original is that reply: the button's message is edited as the bot's own message.
        return s.responder.editChannelMessage(base.message.channelId, base.message.id, payload);
      }),
    reply: (payload, opts) => s.run(() => s.answer(payload, opts?.ephemeral ?? true)),
    followUp: (payload, opts) => s.run(() => s.answer(payload, opts?.ephemeral ?? true)),
  };
}

/** The answer given when nothing else was: a deferral at the backstop, or a note when the handler ended silently. */
function fallback(incoming: Incoming, handlerDone: boolean, defaultLocale: Locale): InitialResponse {
  const { kind } = incoming;
  if (kind === 'autocomplete') return { type: InteractionResponseType.ApplicationCommandAutocompleteResult, choices: [] };
  if (kind === 'component') return { type: InteractionResponseType.DeferredMessageUpdate };
  const content = translate(localeOfDiscord(incoming.base.user.locale, defaultLocale), 'commands.router.noAnswer');
  return handlerDone
    ? { type: InteractionResponseType.ChannelMessageWithSource, payload: { content }, ephemeral: true }
    : // Ephemeral: the reply is not known yet and may hold sensitive data.
      { type: InteractionResponseType.DeferredChannelMessageWithSource, ephemeral: true };
}

function nextState(r: InitialResponse): State {
  switch (r.type) {
    case InteractionResponseType.DeferredChannelMessageWithSource:
      return 'deferredReply';
    case InteractionResponseType.ChannelMessageWithSource:
      return 'replied';
    case InteractionResponseType.DeferredMessageUpdate:
      return 'deferredUpdate';
    case InteractionResponseType.UpdateMessage:
      return 'updated';
    case InteractionResponseType.ApplicationCommandAutocompleteResult:
      return 'responded';
  }
}

/** Default backstop: Discord drops an interaction not answered within 3 s. */
const BACKSTOP_MS = 2500;

/**
 * Hands an interaction to the router with contexts over `responder`. If nothing answered after
 * `backstopMs`, it defers (the router defers earlier; this holds even when a handler blocks it);
 * if the handler ends without any answer, a short note (or an empty acknowledgement) goes out.
 */
export async function dispatchInteraction(
  router: InteractionRouter,
  incoming: Incoming,
  responder: Responder,
  opts: { logger: Logger; backstopMs?: number },
): Promise<void> {
  const session = new Session(responder);
  const answerIfPending = (handlerDone: boolean) =>
    session.run(async () => {
      if (session.state !== 'pending') return;
      await session.initial(fallback(incoming, handlerDone, router.defaultLocale ?? 'en'));
    });
  const timer = setTimeout(() => {
    answerIfPending(false).catch((err: unknown) => opts.logger.warn({ err }, 'backstop deferral failed'));
  }, opts.backstopMs ?? BACKSTOP_MS);
  try {
    if (incoming.kind === 'command') await router.handleCommand(commandContext(incoming.base, session));
    else if (incoming.kind === 'autocomplete') await router.handleAutocomplete(autocompleteContext(incoming.base, session));
    else await router.handleComponent(componentContext(incoming.base, session));
  } catch (err) {
    opts.logger.error({ err, kind: incoming.kind }, 'interaction handling failed');
  } finally {
    clearTimeout(timer);
  }
  await answerIfPending(true).catch((err: unknown) => opts.logger.warn({ err }, 'final acknowledgement failed'));
}

// ---------------------------------------------------------------------------------------------
// Answering: the callback through the transport, then edits and follow-ups through the interaction webhook.

/** How an interaction's first answer, its callback, reaches Discord. */
interface CallbackSender {
  /** Sends the callback body, and the files when {@link CallbackSender.carriesFiles}. */
  send(body: APIInteractionResponse, files: readonly MessageFile[] | undefined): Promise<void>;
  /** Whether the callback can carry files: a multipart POST can, the JSON HTTP response cannot. */
  carriesFiles: boolean;
}

/**
 * Answers an interaction: the callback through `callback` (the pending HTTP response, or a POST
 * over REST for the gateway), then edits and follow-ups through the interaction webhook. Calls come
 * serialised by the session, so nothing reaches the webhook before the callback was sent.
 */
export function interactionResponder(opts: { rest: REST; applicationId: string; token: string; callback: CallbackSender }): Responder {
  const { rest, applicationId, token, callback } = opts;
  const responder: Responder = {
    async initial(r) {
      if (r.type !== InteractionResponseType.ChannelMessageWithSource && r.type !== InteractionResponseType.UpdateMessage) {
        return callback.send(callbackBody(r), undefined);
      }
      if (!r.payload.files?.length || callback.carriesFiles) return callback.send(callbackBody(r), r.payload.files);
      // Files cannot ride in the JSON HTTP response: acknowledge now, then upload them with the edit of @original.
      await callback.send(
        callbackBody(
          r.type === InteractionResponseType.ChannelMessageWithSource
            ? { type: InteractionResponseType.DeferredChannelMessageWithSource, ephemeral: r.ephemeral }
            : { type: InteractionResponseType.DeferredMessageUpdate },
        ),
        undefined,
      );
      await responder.editOriginal(r.payload);
    },
    async editOriginal(payload) {
      await rest.patch(Routes.webhookMessage(applicationId, token, '@original'), { body: messageBody(payload), auth: false, ...rawFiles(payload.files) });
    },
    async followUp(payload, ephemeral) {
      await rest.post(Routes.webhook(applicationId, token), {
        body: messageBody(payload, ephemeral ? MessageFlags.Ephemeral : undefined),
        query: new URLSearchParams({ wait: 'true' }),
        auth: false,
        ...rawFiles(payload.files),
      });
    },
    async editChannelMessage(channelId, messageId, payload) {
      await editMessage(rest, channelId, messageId, messageBody(payload), payload.files);
    },
  };
  return responder;
}

/** The callback as a POST through REST (the gateway's way): files go with it as multipart. */
export function restCallback(rest: REST, interactionId: string, token: string): CallbackSender {
  return {
    carriesFiles: true,
    async send(body, files) {
      await rest.post(Routes.interactionCallback(interactionId, token), { body, auth: false, ...rawFiles(files) });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// HTTP transport: Discord POSTs interactions to /interactions; the first answer is the HTTP response.

/** What the /interactions route needs. */
interface InteractionsRouteDeps {
  verify: Verifier;
  router: InteractionRouter;
  /** discord.js REST (bot token) for edits and follow-ups after the first answer. */
  rest: REST;
  logger: Logger;
  backstopMs?: number;
  /** The clock the replay window counts by (the verifier's). */
  now?: () => Date;
}

/** Interaction ids remembered against replays: far more than a team's bot sees in the 10-minute window, about 1 MiB at most. */
export const MAX_REMEMBERED_INTERACTIONS = 10_000;

/**
 * `POST /interactions` (Discord's "Interactions Endpoint URL"): verifies the Ed25519 signature,
 * validates the payload, answers PING with PONG, refuses an interaction id it already handled
 * within the signature window (409: a replay is never handled twice) and hands everything else to
 * the router; the first answer goes back as the HTTP response body.
 */
export function interactionsRoute(deps: InteractionsRouteDeps): Route {
  const { logger } = deps;
  const now = deps.now ?? (() => new Date());
  const seen = new SeenIds(2 * MAX_SIGNATURE_AGE_MS, MAX_REMEMBERED_INTERACTIONS, () => now().getTime());
  return {
    method: 'POST',
    path: '/interactions',
    readBody: true,
    async handle(req) {
      const verified = deps.verify(req.headers, req.body);
      if (!verified.ok) {
        logger.warn({ reason: verified.reason }, 'interaction refused: bad signature');
        return { status: 401, body: { error: verified.reason } };
      }
      let json: unknown;
      try {
        json = JSON.parse(req.body.toString('utf8'));
      } catch {
        return { status: 400, body: { error: 'body is not JSON' } };
      }
      const parsed = parseInteraction(json);
      if ('error' in parsed) return { status: 422, body: { error: parsed.error } };
      if ('ping' in parsed) return { status: 200, body: { type: InteractionResponseType.Pong } };
      const { interaction } = parsed;
      if (!seen.first(interaction.id)) {
        logger.warn({ interactionId: interaction.id }, 'interaction refused: already handled (a replay)');
        return { status: 409, body: { error: `interaction ${interaction.id} was already handled` } };
      }

      let resolveInitial!: (body: APIInteractionResponse) => void;
      const initial = new Promise<APIInteractionResponse>((resolve) => (resolveInitial = resolve));
      let markSent!: () => void;
      const sent = new Promise<void>((resolve) => (markSent = resolve));
      // The callback is this request's response; webhook calls wait until the server has written it.
      const callback: CallbackSender = {
        carriesFiles: false,
        async send(body) {
          resolveInitial(body);
          await sent;
        },
      };
      const responder = interactionResponder({ rest: deps.rest, applicationId: interaction.applicationId, token: interaction.token, callback });
      void dispatchInteraction(deps.router, interaction.incoming, responder, {
        logger: logger.child({ interactionId: interaction.id }),
        ...(deps.backstopMs !== undefined ? { backstopMs: deps.backstopMs } : {}),
      });
      const body = await initial;
      // The server writes the response right after this handler returns.
      setImmediate(markSent);
      return { status: 200, body };
    },
  };
}
