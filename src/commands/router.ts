import { scrubSecrets } from '../log.js';
import type { CommandOutcome, Metrics } from '../metrics.js';
import type { AutocompleteContext, ButtonHandler, Command, CommandContext, CommandDeps, ComponentContext, InteractionUser, ReplyPayload } from './types.js';
import { OptionError } from './types.js';
import { MAX_CHOICES } from './autocomplete.js';
import { tOf } from './locale.js';

export { customId, parseCustomId } from '../render/buttons.js';
import { parseCustomId } from '../render/buttons.js';
import { configSecrets } from '../config/secrets.js';

/** If a handler has not answered by then, the router defers so Discord's 3 s deadline is never missed. */
const DEFER_GRACE_MS = 1500;
/** Autocomplete must answer within Discord's 3 s; past this, it answers with no choices. */
const AUTOCOMPLETE_BUDGET_MS = 2500;

/**
 * The `commands.permissions` key a button action is checked against: its own, else the one it
 * undoes (Unacknowledge takes Acknowledge's roles: whoever may not take an incident may not give
 * one back either, and restart its escalation).
 */
export function permissionKey(action: string, permissions: Record<string, string[]>): string {
  return action in permissions ? action : (FALLBACK_PERMISSION[action] ?? action);
}

const FALLBACK_PERMISSION: Record<string, string> = { unack: 'ack' };

/** Whether `user` may use `key` (a command name or "buttons"): no allow list means everyone. */
export function isAllowed(user: InteractionUser, key: string, permissions: Record<string, string[]>): boolean {
  const allowed = permissions[key];
  if (!allowed || allowed.length === 0) return true;
  return user.roles.some((r) => allowed.includes(r));
}

/** The ephemeral flag a reply gets unless the handler says otherwise. */
export function defaultEphemeral(command: Command, options: CommandContext['options'], configDefault: boolean): boolean {
  const asked = options['ephemeral'];
  if (typeof asked === 'boolean') return asked;
  return command.sensitive ? configDefault : false;
}

/** A short, secret-free text for an unexpected error. */
function describe(err: unknown, secrets: string[]): string {
  const text = err instanceof Error ? err.message : String(err);
  return scrubSecrets(text, secrets).slice(0, 300);
}

/** Wraps a context so defer is idempotent, replies default to `ephemeral`, and a late handler is deferred in time. */
function guarded(ctx: CommandContext, ephemeral: boolean) {
  let deferred = false;
  let answered = false;
  const wrapped: CommandContext = {
    ...ctx,
    async defer(opts) {
      if (deferred || answered) return;
      deferred = true;
      await ctx.defer(opts ?? { ephemeral });
    },
    async reply(payload: ReplyPayload, opts) {
      answered = true;
      await ctx.reply(payload, { ephemeral: opts?.ephemeral ?? ephemeral });
    },
    followUp: (payload, opts) => ctx.followUp(payload, { ephemeral: opts?.ephemeral ?? ephemeral }),
  };
  const timer = setTimeout(() => {
    if (!answered) wrapped.defer({ ephemeral }).catch(() => undefined);
  }, DEFER_GRACE_MS);
  return { ctx: wrapped, done: () => clearTimeout(timer) };
}

/** Dispatches interactions to the static command and button lists; one router serves both transports. */
export function createRouter(commands: readonly Command[], buttons: readonly ButtonHandler[], deps: CommandDeps & { metrics?: Pick<Metrics, 'commands'> }) {
  const byName = new Map(commands.map((c) => [c.data.name, c]));
  const byAction = new Map(buttons.map((b) => [b.action, b]));
  // Names outside the static lists are counted as "unknown": a label value per stale name would grow without bound.
  const count = (command: string, outcome: CommandOutcome, by = 1) => deps.metrics?.commands.inc({ command, outcome }, by);
  // Known names start at 0, so the first invocation shows in rate() and increase().
  for (const name of byName.keys()) count(name, 'answered', 0);
  for (const action of byAction.keys()) count(`button:${action}`, 'answered', 0);
  const secrets = configSecrets(deps.config);
  const { permissions, ephemeral: ephemeralDefault } = deps.config.commands;

  return {
    /** The language of answers to a Discord client in a language Vigil does not speak (config `locale`). */
    defaultLocale: deps.config.locale,

    /** Runs a slash command: permission check, default ephemeral, deferral, errors as ephemeral replies. */
    async handleCommand(raw: CommandContext): Promise<void> {
      const command = byName.get(raw.commandName);
      const log = deps.logger.child({ command: raw.commandName, subcommand: raw.subcommand, userId: raw.user.id });
      const t = tOf(raw, deps);
      if (!command) {
        count('unknown', 'unknown');
        log.warn('unknown command');
        await raw.reply({ content: t('commands.router.unknownCommand', { name: raw.commandName }) }, { ephemeral: true });
        return;
      }
      if (!isAllowed(raw.user, raw.commandName, permissions)) {
        count(raw.commandName, 'refused');
        log.warn('command refused: missing role');
        await raw.reply({ content: t('commands.router.commandRefused', { name: raw.commandName }) }, { ephemeral: true });
        return;
      }
      const ephemeral = defaultEphemeral(command, raw.options, ephemeralDefault);
      const { ctx, done } = guarded(raw, ephemeral);
      try {
        await command.execute(ctx, deps);
        count(raw.commandName, 'answered');
        log.info('command answered');
      } catch (err) {
        if (err instanceof OptionError) {
          count(raw.commandName, 'option_error');
          log.info({ option: err.option }, 'command option rejected');
          await ctx.reply({ content: t('commands.router.optionError', { option: err.option, message: err.describe(t) }) }, { ephemeral: true });
        } else {
          count(raw.commandName, 'failed');
          log.error({ err }, 'command failed');
          await ctx.reply({ content: t('commands.router.failed', { name: raw.commandName, error: describe(err, secrets) }) }, { ephemeral: true });
        }
      } finally {
        done();
      }
    },

    /** Answers an autocomplete request within Discord's deadline, with no choices on error or timeout. */
    async handleAutocomplete(ctx: AutocompleteContext): Promise<void> {
      const command = byName.get(ctx.commandName);
      let responded = false;
      const respond: AutocompleteContext['respond'] = async (choices) => {
        if (responded) return;
        responded = true;
        await ctx.respond(choices.slice(0, MAX_CHOICES));
      };
      if (!command?.autocomplete) return respond([]);
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          command.autocomplete({ ...ctx, respond }, deps),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, AUTOCOMPLETE_BUDGET_MS))),
        ]);
      } catch (err) {
        deps.logger.warn({ err, command: ctx.commandName, option: ctx.focused.name }, 'autocomplete failed');
      } finally {
        clearTimeout(timer);
      }
      await respond([]);
    },

    /** Runs a button press on one of Vigil's messages. */
    async handleComponent(ctx: ComponentContext): Promise<void> {
      const parsed = parseCustomId(ctx.customId);
      const handler = parsed && byAction.get(parsed.action);
      const log = deps.logger.child({ button: parsed?.action, userId: ctx.user.id, messageId: ctx.message.id });
      const t = tOf(ctx, deps);
      if (!parsed || !handler) {
        count('button:unknown', 'unknown');
        log.warn({ customId: ctx.customId.slice(0, 100) }, 'unknown button');
        await ctx.reply({ content: t('commands.router.unknownButton') }, { ephemeral: true });
        return;
      }
      if (!isAllowed(ctx.user, 'buttons', permissions) || !isAllowed(ctx.user, permissionKey(parsed.action, permissions), permissions)) {
        count(`button:${parsed.action}`, 'refused');
        log.warn('button refused: missing role');
        await ctx.reply({ content: t('commands.router.buttonRefused') }, { ephemeral: true });
        return;
      }
      try {
        await handler.execute(ctx, parsed.ref, deps);
        count(`button:${parsed.action}`, 'answered');
        log.info('button handled');
      } catch (err) {
        count(`button:${parsed.action}`, 'failed');
        log.error({ err }, 'button failed');
        await ctx.followUp({ content: `❌ ${describe(err, secrets)}` }, { ephemeral: true }).catch(() => undefined);
      }
    },
  };
}

/** The router's interface, as transports see it. */
export type Router = ReturnType<typeof createRouter>;
