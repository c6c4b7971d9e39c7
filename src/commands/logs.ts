import { ApplicationCommandOptionType } from 'discord-api-types/v10';
import { parseDuration } from '../config/duration.js';
import { QueryError } from '../queries/http.js';
import { newestFirst, type LabelledLogEntry, type LogStream } from '../queries/loki.js';
import { lineFilter, quote, selector, type MatcherSpec } from '../queries/promql.js';
import { renderLogsError, renderLogsMessage, type LogsMessage } from '../render/logs.js';
import { warnTo } from '../render/truncate.js';
import { translator, type Locale, type MessageKey, type T } from '../i18n/index.js';
import { failureCause } from '../render/finding-text.js';
import { labelValueChoices } from './autocomplete.js';
import { choice, described, localeOf, tOf } from './locale.js';
import { OptionError, type Command, type CommandDeps, type OptionValue } from './types.js';

/** Levels the `level` option accepts, as the log agent labels them. */
const LOG_LEVELS = ['critical', 'fatal', 'error', 'warn', 'info', 'debug'] as const;
/** The levels' choice names (the value sent stays the English one). */
const LEVEL_NAMES = {
  critical: 'commands.logs.level.critical',
  fatal: 'commands.logs.level.fatal',
  error: 'commands.logs.level.error',
  warn: 'commands.logs.level.warn',
  info: 'commands.logs.level.info',
  debug: 'commands.logs.level.debug',
} as const satisfies Record<(typeof LOG_LEVELS)[number], MessageKey>;

/** Loki label holding the container name (what the compose stack's log agent sets). */
const CONTAINER_LABEL = 'container_name';
const LEVEL_LABEL = 'level';
const DEFAULT_SINCE_MS = 15 * 60_000;
const MIN_SINCE_MS = 60_000;
const MAX_SINCE_MS = 7 * 86_400_000;
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 50;
const MAX_TEXT_LENGTH = 200;
/** Lines fetched per line shown, so repeats collapse into counts rather than filling the answer. */
const FETCH_PER_LINE = 10;
/** Loki refuses more than 5000 (max_entries_limit_per_query); far fewer are ever worth reading. */
const MAX_FETCH = 1000;

/** The validated options of a /logs request. */
interface LogsOptions {
  container?: string;
  level?: (typeof LOG_LEVELS)[number];
  contains?: string;
  sinceMs: number;
  limit: number;
}

/** A free-text option: trimmed, 1..200 characters, or undefined when not given; `error` says what was expected. */
function textOption(options: Record<string, OptionValue>, name: string, error: MessageKey): string | undefined {
  const raw = options[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !raw.trim() || raw.length > MAX_TEXT_LENGTH) {
    throw new OptionError(name, { key: error, values: { max: MAX_TEXT_LENGTH } });
  }
  return raw.trim();
}

/** Validates the options of /logs; throws OptionError naming the first bad one. */
export function parseLogsOptions(options: Record<string, OptionValue>): LogsOptions {
  const container = textOption(options, 'container', 'commands.logs.error.container');
  const contains = textOption(options, 'contains', 'commands.logs.error.contains');
  const rawLevel = options['level'];
  let level: LogsOptions['level'];
  if (rawLevel !== undefined) {
    const wanted = typeof rawLevel === 'string' ? rawLevel.trim().toLowerCase() : '';
    level = LOG_LEVELS.find((l) => l === wanted);
    if (!level) throw new OptionError('level', { key: 'commands.logs.error.level', values: { levels: LOG_LEVELS.join(', ') } });
  }
  const rawSince = options['since'];
  let sinceMs = DEFAULT_SINCE_MS;
  if (rawSince !== undefined) {
    const parsed = typeof rawSince === 'string' ? parseDuration(rawSince) : undefined;
    if (parsed === undefined || parsed < MIN_SINCE_MS || parsed > MAX_SINCE_MS) {
      throw new OptionError('since', { key: 'commands.logs.error.since' });
    }
    sinceMs = parsed;
  }
  const rawLimit = options['limit'];
  let limit = DEFAULT_LIMIT;
  if (rawLimit !== undefined) {
    if (typeof rawLimit !== 'number' || !Number.isInteger(rawLimit) || rawLimit < 1 || rawLimit > MAX_LIMIT) {
      throw new OptionError('limit', { key: 'commands.logs.error.limit', values: { max: MAX_LIMIT } });
    }
    limit = rawLimit;
  }
  return {
    ...(container !== undefined ? { container } : {}),
    ...(level !== undefined ? { level } : {}),
    ...(contains !== undefined ? { contains } : {}),
    sinceMs,
    limit,
  };
}

/**
 * The LogQL of a /logs request: the container (or every container) and the level as escaped
 * matchers, `contains` as an escaped literal `|=` filter, and the error-like regex filter of
 * config when neither a level nor a text narrows the lines.
 */
export function buildLogsQuery(opts: Pick<LogsOptions, 'container' | 'level' | 'contains'>, errorFilter: string): string {
  const matchers: MatcherSpec[] = [
    opts.container !== undefined ? { name: CONTAINER_LABEL, value: opts.container } : { name: CONTAINER_LABEL, op: '=~', value: '.+' },
  ];
  if (opts.level) matchers.push({ name: LEVEL_LABEL, value: opts.level });
  const filters = {
    ...(opts.contains !== undefined ? { contains: opts.contains } : {}),
    errorLike: !opts.level && opts.contains === undefined,
  };
  return withLineFilters(selector(matchers), filters, errorFilter);
}

/** A stream selector plus its line filters: a literal `|= "text"`, or the error-like regex. */
export function withLineFilters(streamSelector: string, f: { contains?: string; errorLike: boolean }, errorFilter: string): string {
  const parts = [streamSelector];
  if (f.contains !== undefined) parts.push(`|= ${quote(f.contains)}`);
  if (f.errorLike) parts.push(lineFilter(errorFilter));
  return parts.join(' ');
}

/** Log lines fetched for one answer, newest first. */
interface FetchedLogs {
  entries: LabelledLogEntry[];
  /** Loki stopped at the line limit of one of the queries. */
  capped: boolean;
}

/** Lines asked from Loki for `limit` distinct lines shown. */
export function fetchLimit(limit: number): number {
  return Math.min(MAX_FETCH, Math.max(1, limit) * FETCH_PER_LINE);
}

/**
 * Runs log queries over one window (backward, so the newest lines come first) and merges their
 * streams; a stream two queries both return is kept once. Throws QueryError as the client does.
 */
async function fetchLogs(deps: Pick<CommandDeps, 'loki'>, queries: readonly string[], window: { start: Date; end: Date }, limit: number): Promise<FetchedLogs> {
  const perQuery = fetchLimit(limit);
  const results = await Promise.all(
    queries.map((q) => deps.loki.queryRange(q, { start: window.start, end: window.end, limit: perQuery, direction: 'backward' })),
  );
  const streams = new Map<string, LogStream>();
  let capped = false;
  for (const r of results) {
    if (r.resultType !== 'streams') throw new QueryError('invalid-response', `Loki answered a log query with ${r.resultType}`);
    if (r.result.reduce((n, s) => n + s.entries.length, 0) >= perQuery) capped = true;
    for (const s of r.result) {
      const key = JSON.stringify(Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : 1)));
      const seen = streams.get(key);
      if (!seen) streams.set(key, { labels: s.labels, entries: [...s.entries] });
      else for (const e of s.entries) if (!seen.entries.some((x) => x.ns === e.ns && x.line === e.line)) seen.entries.push(e);
    }
  }
  return { entries: newestFirst([...streams.values()]), capped };
}

/** One log answer to render: what to ask Loki and how to title it. */
interface LogsAnswerRequest {
  queries: readonly string[];
  window: { start: Date; end: Date };
  relative: boolean;
  limit: number;
  filter: string;
  container?: string;
  scope: string;
  /** The language of the answer. */
  locale: Locale;
}

/** Queries Loki and renders the answer; a Loki failure becomes an answer with Loki's own words. */
export async function answerLogs(req: LogsAnswerRequest, deps: Pick<CommandDeps, 'loki' | 'logger'>): Promise<LogsMessage> {
  const warn = warnTo(deps.logger);
  const query = req.queries.join('\n');
  const named = { ...(req.container !== undefined ? { container: req.container } : {}), scope: req.scope, locale: req.locale };
  try {
    const { entries, capped } = await fetchLogs(deps, req.queries, req.window, req.limit);
    return renderLogsMessage({ ...named, filter: req.filter, window: req.window, relative: req.relative, query, entries, capped, limit: req.limit }, warn);
  } catch (err) {
    if (!(err instanceof QueryError)) throw err;
    deps.logger.warn({ err: err.message, kind: err.kind }, 'log query failed');
    const message = failureCause({ message: err.message, ...(err.words ? { words: err.words } : {}) }, translator(req.locale));
    return renderLogsError({ ...named, query, message }, warn);
  }
}

/** "error-like lines", "level error lines containing "x"": what narrowed the lines. */
function filterLabel(o: LogsOptions, t: T): string {
  if (o.contains === undefined) return o.level ? t('commands.logs.filter.level', { level: o.level }) : t('commands.logs.filter.errorLike');
  const text = JSON.stringify(o.contains);
  return o.level ? t('commands.logs.filter.levelContaining', { level: o.level, text }) : t('commands.logs.filter.containing', { text });
}

/** `/logs [container] [level] [contains] [since] [limit]`: recent log lines from Loki, newest first, repeats counted. */
export const logs = {
  data: {
    name: 'logs',
    ...described('commands.logs.description'),
    options: [
      {
        type: ApplicationCommandOptionType.String,
        name: 'container',
        ...described('commands.logs.option.container'),
        required: false,
        autocomplete: true,
        max_length: MAX_TEXT_LENGTH,
      },
      {
        type: ApplicationCommandOptionType.String,
        name: 'level',
        ...described('commands.logs.option.level'),
        required: false,
        choices: LOG_LEVELS.map((l) => choice(LEVEL_NAMES[l], l)),
      },
      {
        type: ApplicationCommandOptionType.String,
        name: 'contains',
        ...described('commands.logs.option.contains'),
        required: false,
        max_length: MAX_TEXT_LENGTH,
      },
      {
        type: ApplicationCommandOptionType.String,
        name: 'since',
        ...described('commands.logs.option.since'),
        required: false,
        max_length: 20,
      },
      {
        type: ApplicationCommandOptionType.Integer,
        name: 'limit',
        ...described('commands.logs.option.limit', { max: MAX_LIMIT, default: DEFAULT_LIMIT }),
        required: false,
        min_value: 1,
        max_value: MAX_LIMIT,
      },
      {
        type: ApplicationCommandOptionType.Boolean,
        name: 'ephemeral',
        ...described('commands.logs.option.ephemeral'),
        required: false,
      },
    ],
  },
  sensitive: true,
  async execute(ctx, deps) {
    const o = parseLogsOptions(ctx.options);
    const t = tOf(ctx, deps);
    await ctx.defer();
    const end = deps.now();
    const answer = await answerLogs(
      {
        queries: [buildLogsQuery(o, deps.config.enrichment.logFilter)],
        window: { start: new Date(end.getTime() - o.sinceMs), end },
        relative: true,
        limit: o.limit,
        filter: filterLabel(o, t),
        ...(o.container !== undefined ? { container: o.container } : {}),
        scope: t('commands.logs.scope.all'),
        locale: localeOf(ctx, deps),
      },
      deps,
    );
    await ctx.reply(answer);
  },
  async autocomplete(ctx, deps) {
    const choices = ctx.focused.name === 'container' ? await labelValueChoices('loki', CONTAINER_LABEL, ctx.focused.value, deps) : [];
    await ctx.respond(choices);
  },
} satisfies Command;
