import { ApplicationCommandOptionType } from 'discord-api-types/v10';
import { parseDuration } from '../config/duration.js';
import { QueryError } from '../queries/http.js';
import { stepFor } from '../queries/window.js';
import { chartLines, commandChart, type TimeChartSpec } from '../render/chart.js';
import { inferUnit } from '../render/format.js';
import { renderInstant, renderQueryError, renderRange } from '../render/query.js';
import { translator } from '../i18n/index.js';
import { failureCause } from '../render/finding-text.js';
import { fitMessage, warnTo } from '../render/truncate.js';
import { described, localeOf } from './locale.js';
import { OptionError, type Command, type ReplyPayload } from './types.js';

/** Longest PromQL accepted. */
const MAX_PROMQL_LENGTH = 2000;
const MIN_RANGE_MS = 60_000;
const MAX_RANGE_MS = 7 * 86_400_000;

/** The validated options of /query: the expression and, for a range query, its length in ms. */
export function queryRequest(options: Record<string, unknown>): { expr: string; rangeMs?: number } {
  const raw = options['promql'];
  if (typeof raw !== 'string' || !raw.trim()) throw new OptionError('promql', { key: 'commands.query.error.promql' });
  if (raw.length > MAX_PROMQL_LENGTH)
    throw new OptionError('promql', { key: 'commands.query.error.promqlLength', values: { max: MAX_PROMQL_LENGTH, length: raw.length } });
  const expr = raw.trim();
  const range = options['range'];
  if (range === undefined) return { expr };
  const ms = typeof range === 'string' ? parseDuration(range) : undefined;
  if (ms === undefined || ms < MIN_RANGE_MS || ms > MAX_RANGE_MS) throw new OptionError('range', { key: 'commands.query.error.range' });
  return { expr, rangeMs: ms };
}

/**
 * `/query promql:<expr> [range]`: an ad-hoc PromQL query, instant as a table or a range as
 * min/max/last per series with a chart of the top five series.
 */
export const query = {
  data: {
    name: 'query',
    ...described('commands.query.description'),
    options: [
      {
        type: ApplicationCommandOptionType.String,
        name: 'promql',
        ...described('commands.query.option.promql'),
        required: true,
        min_length: 1,
        max_length: MAX_PROMQL_LENGTH,
      },
      {
        type: ApplicationCommandOptionType.String,
        name: 'range',
        ...described('commands.query.option.range'),
        required: false,
        max_length: 20,
      },
      {
        type: ApplicationCommandOptionType.Boolean,
        name: 'ephemeral',
        ...described('commands.query.option.ephemeral'),
        required: false,
      },
    ],
  },
  sensitive: true,
  async execute(ctx, deps) {
    const req = queryRequest(ctx.options);
    const locale = localeOf(ctx, deps);
    await ctx.defer();
    const unit = inferUnit(req.expr);
    const now = deps.now();
    let payload: ReplyPayload;
    try {
      if (req.rangeMs === undefined) {
        payload = { content: renderInstant(req.expr, await deps.prometheus.query(req.expr, now), unit, locale) };
      } else {
        const start = new Date(now.getTime() - req.rangeMs);
        const step = stepFor(start, now);
        const series = await deps.prometheus.queryRange(req.expr, start, now, step);
        const lines = chartLines(series);
        const spec: TimeChartSpec | undefined = lines.length
          ? { kind: 'time', title: req.expr, lines, unit, start, end: now, timeZone: deps.config.timezone }
          : undefined;
        payload = await commandChart(
          { content: renderRange(req.expr, series, req.rangeMs, step, unit, locale) },
          spec,
          deps.config.charts,
          locale,
          deps.chartRenderer,
        );
      }
    } catch (err) {
      if (!(err instanceof QueryError)) throw err;
      payload = { content: renderQueryError(failureCause({ message: err.message, ...(err.words ? { words: err.words } : {}) }, translator(locale))) };
    }
    // fitMessage copies with structuredClone, which would turn the chart's Buffer into a plain Uint8Array.
    const { files, ...text } = payload;
    await ctx.reply({ ...fitMessage(text, warnTo(deps.logger), localeOf(ctx, deps)), ...(files ? { files } : {}) });
  },
} satisfies Command;
