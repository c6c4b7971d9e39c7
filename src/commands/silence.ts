import { ApplicationCommandOptionType, PermissionFlagsBits } from 'discord-api-types/v10';
import { parseDuration } from '../config/duration.js';
import type { Config } from '../config/schema.js';
import { alertmanagerFromConfig, type AlertmanagerClient, type Silence } from '../queries/alertmanager.js';
import { MATCHERS_MAX_LENGTH, MatcherSyntaxError, parseMatchers, type SilenceMatcher } from '../config/matchers.js';
import { safeUrl } from '../render/format.js';
import { matcherErrorText, renderSilenceCreated, renderSilenceExpired, renderSilenceList } from '../render/silences.js';
import { fitMessage, warnTo } from '../render/truncate.js';
import { translate, type T } from '../i18n/index.js';
import { described, localeOf, tOf } from './locale.js';
import { OptionError, type Command, type CommandContext, type CommandDeps, type InteractionUser } from './types.js';

/** Shortest silence `/silence create` accepts: 1m. */
const SILENCE_MIN_MS = 60_000;
/** Longest silence `/silence create` accepts: 30d. */
const SILENCE_MAX_MS = 30 * 86_400_000;
/** Longest comment (Discord's option is capped at the same length). */
const COMMENT_MAX_LENGTH = 500;
/** A full silence id: Alertmanager and Grafana both use UUIDs. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The short id `/silence list` shows in bold (the first block), also accepted. */
const SHORT_ID = /^[0-9a-f]{8}$/i;

/** Who a silence is created by, as Alertmanager shows it: `username (id)`. */
export function createdBy(user: InteractionUser): string {
  return `${user.username} (${user.id})`;
}

/** The `matchers` option, parsed; a syntax error names the option and the position. */
function matchersOption(options: CommandContext['options'], t: T): SilenceMatcher[] {
  const raw = options['matchers'];
  if (typeof raw !== 'string') throw new OptionError('matchers', { key: 'commands.silence.error.matchers' });
  try {
    return parseMatchers(raw);
  } catch (err) {
    // What is wrong and where, in the user's language.
    if (err instanceof MatcherSyntaxError)
      throw new OptionError('matchers', { key: 'commands.silence.error.syntax', values: { error: matcherErrorText(err, t) } });
    throw err;
  }
}

/** The `duration` option in milliseconds: a Prometheus duration from 1m to 30d. */
function durationOption(options: CommandContext['options']): number {
  const raw = options['duration'];
  const ms = typeof raw === 'string' ? parseDuration(raw) : undefined;
  if (ms === undefined || ms < SILENCE_MIN_MS || ms > SILENCE_MAX_MS) {
    throw new OptionError(
      'duration',
      typeof raw === 'string' ? { key: 'commands.silence.error.durationGot', values: { got: raw.slice(0, 20) } } : { key: 'commands.silence.error.duration' },
    );
  }
  return ms;
}

/**
 * The `comment` option, or "via Vigil by <user>" in the configured language (the comment stays in
 * Alertmanager, read later by the whole team).
 */
function commentOption(options: CommandContext['options'], user: InteractionUser, deps: Pick<CommandDeps, 'config'>): string {
  const raw = options['comment'];
  if (raw === undefined || (typeof raw === 'string' && !raw.trim()))
    return translate(deps.config.locale, 'commands.silence.defaultComment', { user: user.username });
  if (typeof raw !== 'string' || raw.length > COMMENT_MAX_LENGTH) {
    throw new OptionError('comment', { key: 'commands.silence.error.comment', values: { max: COMMENT_MAX_LENGTH } });
  }
  return raw.trim();
}

/** The `id` option: a full silence id (UUID) or its first block of 8 hex digits. */
function idOption(options: CommandContext['options']): string {
  const raw = options['id'];
  const id = typeof raw === 'string' ? raw.trim() : '';
  if (!UUID.test(id) && !SHORT_ID.test(id)) {
    throw new OptionError('id', { key: 'commands.silence.error.id' });
  }
  return id.toLowerCase();
}

/** The silence's page in Alertmanager's own UI (at alertmanager.publicUrl, else url), only when alertmanager.url is configured. */
export function silencePageUrl(config: Pick<Config, 'alertmanager'>, id?: string): string | undefined {
  if (!config.alertmanager) return undefined;
  const base = config.alertmanager.publicUrl ?? config.alertmanager.url;
  return safeUrl(`${base}/#/silences${id ? `/${encodeURIComponent(id)}` : ''}`);
}

/** Finds the silence an id (full, or the short first block) names among the listed ones. */
function findSilence(silences: readonly Silence[], id: string): Silence[] {
  return silences.filter((s) => (id.length === 8 ? s.id.toLowerCase().startsWith(`${id}-`) : s.id.toLowerCase() === id));
}

async function create(ctx: CommandContext, deps: CommandDeps, am: AlertmanagerClient): Promise<void> {
  const matchers = matchersOption(ctx.options, tOf(ctx, deps));
  const durationMs = durationOption(ctx.options);
  const comment = commentOption(ctx.options, ctx.user, deps);
  const startsAt = deps.now();
  const endsAt = new Date(startsAt.getTime() + durationMs);
  const id = await am.createSilence({ matchers, startsAt, endsAt, createdBy: createdBy(ctx.user), comment });
  deps.logger.info({ silenceId: id, matchers: matchers.length, durationMs }, 'silence created');
  const url = silencePageUrl(deps.config, id);
  await ctx.reply(renderSilenceCreated({ id, matchers, endsAt, ...(url ? { url } : {}), locale: localeOf(ctx, deps) }));
}

async function list(ctx: CommandContext, deps: CommandDeps, am: AlertmanagerClient): Promise<void> {
  const silences = await am.silences();
  const url = silencePageUrl(deps.config);
  await ctx.reply(
    fitMessage(
      renderSilenceList({ silences, source: am.name, ...(url ? { url } : {}), locale: localeOf(ctx, deps) }),
      warnTo(deps.logger),
      localeOf(ctx, deps),
    ),
  );
}

async function expire(ctx: CommandContext, deps: CommandDeps, am: AlertmanagerClient): Promise<void> {
  const t: T = tOf(ctx, deps);
  const id = idOption(ctx.options);
  const found = findSilence(await am.silences(), id);
  const live = found.filter((s) => s.state !== 'expired');
  if (live.length > 1) {
    await ctx.reply({ content: t('commands.silence.ambiguous', { id, count: live.length }) }, { ephemeral: true });
    return;
  }
  const silence = live[0];
  if (!silence) {
    const content = found.length ? t('commands.silence.alreadyExpired', { id }) : t('commands.silence.notFound', { id, source: am.name });
    await ctx.reply({ content }, { ephemeral: true });
    return;
  }
  await am.expireSilence(silence.id);
  deps.logger.info({ silenceId: silence.id }, 'silence expired');
  await ctx.reply(renderSilenceExpired(silence, ctx.user.username, localeOf(ctx, deps)));
}

const SUBCOMMANDS = { create, list, expire } as const;

/** `/silence create|list|expire`: Alertmanager silences (or Grafana's built-in Alertmanager's). */
export const silenceCommand = {
  data: {
    name: 'silence',
    ...described('commands.silence.description'),
    // Silences change what the team is told: hidden from members without Manage Messages unless a server admin allows more.
    default_member_permissions: String(PermissionFlagsBits.ManageMessages),
    options: [
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: 'create',
        ...described('commands.silence.create.description'),
        options: [
          {
            type: ApplicationCommandOptionType.String,
            name: 'matchers',
            ...described('commands.silence.create.matchers'),
            required: true,
            max_length: MATCHERS_MAX_LENGTH,
          },
          {
            type: ApplicationCommandOptionType.String,
            name: 'duration',
            ...described('commands.silence.create.duration'),
            required: true,
            max_length: 20,
          },
          {
            type: ApplicationCommandOptionType.String,
            name: 'comment',
            ...described('commands.silence.create.comment'),
            max_length: COMMENT_MAX_LENGTH,
          },
        ],
      },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: 'list',
        ...described('commands.silence.list.description'),
      },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: 'expire',
        ...described('commands.silence.expire.description'),
        options: [
          {
            type: ApplicationCommandOptionType.String,
            name: 'id',
            ...described('commands.silence.expire.id'),
            required: true,
            min_length: 8,
            max_length: 36,
          },
        ],
      },
    ],
  },
  async execute(ctx, deps) {
    const name = ctx.subcommand ?? '';
    const run = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name as keyof typeof SUBCOMMANDS] : undefined;
    if (!run) throw new Error(`unknown subcommand "${name}": expected create, list or expire`);
    const am = alertmanagerFromConfig(deps.config, deps.config.enrichment.timeout);
    if (!am) {
      await ctx.reply({ content: tOf(ctx, deps)('commands.silence.noAlertmanager') }, { ephemeral: true });
      return;
    }
    await run(ctx, deps, am);
  },
} satisfies Command;
