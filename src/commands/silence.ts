import { ApplicationCommandOptionType, PermissionFlagsBits } from 'discord-api-types/v10';
import { parseDuration } from '../config/duration.js';
import type { Config } from '../config/schema.js';
import { alertmanagerFromConfig, type AlertmanagerClient, type Silence } from '../queries/alertmanager.js';
import { MATCHERS_MAX_LENGTH, MatcherSyntaxError, parseMatchers, type SilenceMatcher } from '../config/matchers.js';
import { safeUrl } from '../render/format.js';
import { renderSilenceCreated, renderSilenceExpired, renderSilenceList } from '../render/silences.js';
import { fitMessage, warnTo } from '../render/truncate.js';
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

/** Said when neither Alertmanager nor Grafana's built-in one is configured. */
export const NO_ALERTMANAGER =
  "🔕 Silences need an Alertmanager: set `alertmanager.url` in the config, or `grafana.url` and `grafana.token` (a service account token) for Grafana's built-in Alertmanager.";

/** Who a silence is created by, as Alertmanager shows it: `username (id)`. */
export function createdBy(user: InteractionUser): string {
  return `${user.username} (${user.id})`;
}

/** The `matchers` option, parsed; a syntax error names the option and the position. */
function matchersOption(options: CommandContext['options']): SilenceMatcher[] {
  const raw = options['matchers'];
  if (typeof raw !== 'string') throw new OptionError('matchers', 'required: label matchers like alertname="HighCPU",job="node"');
  try {
    return parseMatchers(raw);
  } catch (err) {
    if (err instanceof MatcherSyntaxError) throw new OptionError('matchers', err.message);
    throw err;
  }
}

/** The `duration` option in milliseconds: a Prometheus duration from 1m to 30d. */
function durationOption(options: CommandContext['options']): number {
  const raw = options['duration'];
  const ms = typeof raw === 'string' ? parseDuration(raw) : undefined;
  if (ms === undefined || ms < SILENCE_MIN_MS || ms > SILENCE_MAX_MS) {
    const got = typeof raw === 'string' ? `, got "${raw.slice(0, 20)}"` : '';
    throw new OptionError('duration', `expected a duration like 30m, 1h or 2h30m, from 1m to 30d${got}`);
  }
  return ms;
}

/** The `comment` option, or "via Vigil by <user>". */
function commentOption(options: CommandContext['options'], user: InteractionUser): string {
  const raw = options['comment'];
  if (raw === undefined || (typeof raw === 'string' && !raw.trim())) return `via Vigil by ${user.username}`;
  if (typeof raw !== 'string' || raw.length > COMMENT_MAX_LENGTH) {
    throw new OptionError('comment', `expected a text of at most ${COMMENT_MAX_LENGTH} characters`);
  }
  return raw.trim();
}

/** The `id` option: a full silence id (UUID) or its first block of 8 hex digits. */
function idOption(options: CommandContext['options']): string {
  const raw = options['id'];
  const id = typeof raw === 'string' ? raw.trim() : '';
  if (!UUID.test(id) && !SHORT_ID.test(id)) {
    throw new OptionError('id', 'expected a silence id like 8c4e1f2a-0b6d-4c1e-9f3a-5d2b7e6c1a90 (or its first 8 characters), as /silence list shows');
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
  const matchers = matchersOption(ctx.options);
  const durationMs = durationOption(ctx.options);
  const comment = commentOption(ctx.options, ctx.user);
  const startsAt = deps.now();
  const endsAt = new Date(startsAt.getTime() + durationMs);
  const id = await am.createSilence({ matchers, startsAt, endsAt, createdBy: createdBy(ctx.user), comment });
  deps.logger.info({ silenceId: id, matchers: matchers.length, durationMs }, 'silence created');
  const url = silencePageUrl(deps.config, id);
  await ctx.reply(renderSilenceCreated({ id, matchers, endsAt, ...(url ? { url } : {}) }));
}

async function list(ctx: CommandContext, deps: CommandDeps, am: AlertmanagerClient): Promise<void> {
  const silences = await am.silences();
  const url = silencePageUrl(deps.config);
  await ctx.reply(fitMessage(renderSilenceList({ silences, source: am.name, ...(url ? { url } : {}) }), warnTo(deps.logger)));
}

async function expire(ctx: CommandContext, deps: CommandDeps, am: AlertmanagerClient): Promise<void> {
  const id = idOption(ctx.options);
  const found = findSilence(await am.silences(), id);
  const live = found.filter((s) => s.state !== 'expired');
  if (live.length > 1) {
    await ctx.reply({ content: `⚠️ \`${id}\` starts ${live.length} silences' ids: give the full id (see /silence list).` }, { ephemeral: true });
    return;
  }
  const silence = live[0];
  if (!silence) {
    const why = found.length ? 'is already expired' : `is not in ${am.name}`;
    await ctx.reply({ content: `⚠️ Silence \`${id}\` ${why}. /silence list shows the active ones.` }, { ephemeral: true });
    return;
  }
  await am.expireSilence(silence.id);
  deps.logger.info({ silenceId: silence.id }, 'silence expired');
  await ctx.reply(renderSilenceExpired(silence, ctx.user.username));
}

const SUBCOMMANDS = { create, list, expire } as const;

/** `/silence create|list|expire`: Alertmanager silences (or Grafana's built-in Alertmanager's). */
export const silenceCommand = {
  data: {
    name: 'silence',
    description: 'Create, list or expire Alertmanager silences',
    description_localizations: { ko: 'Alertmanager 사일런스 만들기, 목록 보기, 끝내기' },
    // Silences change what the team is told: hidden from members without Manage Messages unless a server admin allows more.
    default_member_permissions: String(PermissionFlagsBits.ManageMessages),
    options: [
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: 'create',
        description: 'Silence alerts matching label matchers for a while',
        description_localizations: { ko: '레이블 매처에 맞는 알림을 한동안 사일런스' },
        options: [
          {
            type: ApplicationCommandOptionType.String,
            name: 'matchers',
            description: 'Label matchers, like alertname="HighCPU",job="node"',
            description_localizations: { ko: '레이블 매처, 예: alertname="HighCPU",job="node"' },
            required: true,
            max_length: MATCHERS_MAX_LENGTH,
          },
          {
            type: ApplicationCommandOptionType.String,
            name: 'duration',
            description: 'How long, like 30m, 1h or 2h30m (1m to 30d)',
            description_localizations: { ko: '얼마 동안: 30m, 1h, 2h30m 처럼 (1m~30d)' },
            required: true,
            max_length: 20,
          },
          {
            type: ApplicationCommandOptionType.String,
            name: 'comment',
            description: 'Why (default: via Vigil by you)',
            description_localizations: { ko: '이유 (기본: Vigil에서 내가 만듦)' },
            max_length: COMMENT_MAX_LENGTH,
          },
        ],
      },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: 'list',
        description: 'Active and pending silences',
        description_localizations: { ko: '활성 및 대기 중인 사일런스' },
      },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: 'expire',
        description: 'End a silence now',
        description_localizations: { ko: '사일런스를 지금 끝내기' },
        options: [
          {
            type: ApplicationCommandOptionType.String,
            name: 'id',
            description: 'Silence id (full, or its first 8 characters)',
            description_localizations: { ko: '사일런스 ID (전체 또는 앞 8자)' },
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
      await ctx.reply({ content: NO_ALERTMANAGER }, { ephemeral: true });
      return;
    }
    await run(ctx, deps, am);
  },
} satisfies Command;
