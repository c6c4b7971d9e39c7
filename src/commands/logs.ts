import { ApplicationCommandOptionType } from 'discord-api-types/v10';
import { parseDuration } from '../config/duration.js';
import { QueryError } from '../queries/http.js';
import { newestFirst, type LabelledLogEntry, type LogStream } from '../queries/loki.js';
import { lineFilter, quote, selector, type MatcherSpec } from '../queries/promql.js';
import { renderLogsError, renderLogsMessage, type LogsMessage } from '../render/logs.js';
import { warnTo } from '../render/truncate.js';
import { labelValueChoices } from './autocomplete.js';
import { OptionError, type Command, type CommandDeps, type OptionValue } from './types.js';

/** Levels the `level` option accepts, as the log agent labels them. */
const LOG_LEVELS = ['critical', 'fatal', 'error', 'warn', 'info', 'debug'] as const;
/** The levels' names in Korean clients (the value sent stays the English one). */
const LEVEL_KO: Record<(typeof LOG_LEVELS)[number], string> = {
  critical: '치명',
  fatal: '치명적 오류',
  error: '오류',
  warn: '경고',
  info: '정보',
  debug: '디버그',
};

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

/** A free-text option: trimmed, 1..200 characters, or undefined when not given. */
function textOption(options: Record<string, OptionValue>, name: string, what: string): string | undefined {
  const raw = options[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !raw.trim() || raw.length > MAX_TEXT_LENGTH) {
    throw new OptionError(name, `expected ${what} of 1 to ${MAX_TEXT_LENGTH} characters`);
  }
  return raw.trim();
}

/** Validates the options of /logs; throws OptionError naming the first bad one. */
export function parseLogsOptions(options: Record<string, OptionValue>): LogsOptions {
  const container = textOption(options, 'container', 'a container name');
  const contains = textOption(options, 'contains', 'a text');
  const rawLevel = options['level'];
  let level: LogsOptions['level'];
  if (rawLevel !== undefined) {
    const wanted = typeof rawLevel === 'string' ? rawLevel.trim().toLowerCase() : '';
    level = LOG_LEVELS.find((l) => l === wanted);
    if (!level) throw new OptionError('level', `expected one of ${LOG_LEVELS.join(', ')}`);
  }
  const rawSince = options['since'];
  let sinceMs = DEFAULT_SINCE_MS;
  if (rawSince !== undefined) {
    const parsed = typeof rawSince === 'string' ? parseDuration(rawSince) : undefined;
    if (parsed === undefined || parsed < MIN_SINCE_MS || parsed > MAX_SINCE_MS) {
      throw new OptionError('since', 'expected a duration like 15m, from 1m to 7d');
    }
    sinceMs = parsed;
  }
  const rawLimit = options['limit'];
  let limit = DEFAULT_LIMIT;
  if (rawLimit !== undefined) {
    if (typeof rawLimit !== 'number' || !Number.isInteger(rawLimit) || rawLimit < 1 || rawLimit > MAX_LIMIT) {
      throw new OptionError('limit', `expected a whole number from 1 to ${MAX_LIMIT}`);
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
}

/** Queries Loki and renders the answer; a Loki failure becomes an answer with Loki's own words. */
export async function answerLogs(req: LogsAnswerRequest, deps: Pick<CommandDeps, 'loki' | 'logger'>): Promise<LogsMessage> {
  const warn = warnTo(deps.logger);
  const query = req.queries.join('\n');
  const named = { ...(req.container !== undefined ? { container: req.container } : {}), scope: req.scope };
  try {
    const { entries, capped } = await fetchLogs(deps, req.queries, req.window, req.limit);
    return renderLogsMessage({ ...named, filter: req.filter, window: req.window, relative: req.relative, query, entries, capped, limit: req.limit }, warn);
  } catch (err) {
    if (!(err instanceof QueryError)) throw err;
    deps.logger.warn({ err: err.message, kind: err.kind }, 'log query failed');
    return renderLogsError({ ...named, query, message: err.message }, warn);
  }
}

/** "error-like lines", "level error lines containing "x"": what narrowed the lines. */
function filterLabel(o: LogsOptions): string {
  if (!o.level && o.contains === undefined) return 'error-like lines';
  const parts = [o.level ? `level ${o.level} lines` : 'lines'];
  if (o.contains !== undefined) parts.push(`containing ${JSON.stringify(o.contains)}`);
  return parts.join(' ');
}

/** `/logs [container] [level] [contains] [since] [limit]`: recent log lines from Loki, newest first, repeats counted. */
export const logs = {
  data: {
    name: 'logs',
    description: 'Recent log lines from Loki, newest first (default: error-like lines of every container)',
    description_localizations: { ko: 'Loki의 최근 로그, 최신순 (기본: 모든 컨테이너의 오류성 로그)' },
    options: [
      {
        type: ApplicationCommandOptionType.String,
        name: 'container',
        description: 'Only this container (default: all)',
        description_localizations: { ko: '이 컨테이너만 (기본: 전체)' },
        required: false,
        autocomplete: true,
        max_length: MAX_TEXT_LENGTH,
      },
      {
        type: ApplicationCommandOptionType.String,
        name: 'level',
        description: 'Only lines of this level',
        description_localizations: { ko: '이 레벨의 로그만' },
        required: false,
        choices: LOG_LEVELS.map((l) => ({ name: l, name_localizations: { ko: `${LEVEL_KO[l]} (${l})` }, value: l })),
      },
      {
        type: ApplicationCommandOptionType.String,
        name: 'contains',
        description: 'Only lines containing this exact text (case-sensitive)',
        description_localizations: { ko: '이 문자열을 그대로 포함한 로그만 (대소문자 구분)' },
        required: false,
        max_length: MAX_TEXT_LENGTH,
      },
      {
        type: ApplicationCommandOptionType.String,
        name: 'since',
        description: 'How far back, like 15m, 2h or 1d (1m to 7d, default 15m)',
        description_localizations: { ko: '얼마나 이전부터: 15m, 2h, 1d 처럼 (1m~7d, 기본 15m)' },
        required: false,
        max_length: 20,
      },
      {
        type: ApplicationCommandOptionType.Integer,
        name: 'limit',
        description: `Distinct lines shown (1 to ${MAX_LIMIT}, default ${DEFAULT_LIMIT})`,
        description_localizations: { ko: `보여 줄 서로 다른 로그 수 (1~${MAX_LIMIT}, 기본 ${DEFAULT_LIMIT})` },
        required: false,
        min_value: 1,
        max_value: MAX_LIMIT,
      },
      {
        type: ApplicationCommandOptionType.Boolean,
        name: 'ephemeral',
        description: 'Only you see the answer (default from config: log lines may be sensitive)',
        description_localizations: { ko: '나에게만 보이는 답 (기본값은 설정: 로그에 민감한 내용이 있을 수 있음)' },
        required: false,
      },
    ],
  },
  sensitive: true,
  async execute(ctx, deps) {
    const o = parseLogsOptions(ctx.options);
    await ctx.defer();
    const end = deps.now();
    const answer = await answerLogs(
      {
        queries: [buildLogsQuery(o, deps.config.enrichment.logFilter)],
        window: { start: new Date(end.getTime() - o.sinceMs), end },
        relative: true,
        limit: o.limit,
        filter: filterLabel(o),
        ...(o.container !== undefined ? { container: o.container } : {}),
        scope: 'all containers',
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
