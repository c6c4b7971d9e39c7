import { ApplicationCommandOptionType } from 'discord-api-types/v10';
import type { InstantSample, QueryResult } from '../queries/prometheus.js';
import { stripPort } from '../queries/promql.js';
import { CADVISOR_CPU, topQueries } from '../queries/catalog.js';
import { commandChart, type BarChartSpec } from '../render/chart.js';
import { joinUsage, rankUsage, renderNoContainers, renderTop, type ContainerUsage, type TopRequest } from '../render/top.js';
import { fitMessage, warnTo } from '../render/truncate.js';
import { translator, type Locale } from '../i18n/index.js';
import { labelValueChoices } from './autocomplete.js';
import { choice, described, localeOf } from './locale.js';
import { OptionError, type Command } from './types.js';

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 25;
const MAX_HOST_LENGTH = 100;

/** The validated options of /top. */
function topRequest(options: Record<string, unknown>): TopRequest {
  const resource = options['resource'] ?? 'cpu';
  if (resource !== 'cpu' && resource !== 'memory') throw new OptionError('resource', { key: 'commands.top.error.resource' });
  const limit = options['limit'] ?? DEFAULT_LIMIT;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new OptionError('limit', { key: 'commands.top.error.limit', values: { max: MAX_LIMIT } });
  }
  const host = options['host'];
  if (host === undefined) return { resource, limit };
  if (typeof host !== 'string' || !host.trim() || host.length > MAX_HOST_LENGTH) {
    throw new OptionError('host', { key: 'commands.top.error.host', values: { max: MAX_HOST_LENGTH } });
  }
  return { resource, limit, host: host.trim() };
}

/** The /top bar chart: the ranked containers by the chosen resource (host named when several hosts are listed). */
export function topChartSpec(rows: readonly ContainerUsage[], req: TopRequest, locale: Locale = 'en'): BarChartSpec {
  const ranked = rankUsage(rows, req.resource, req.limit);
  const withHost = new Set(ranked.map((r) => r.instance)).size > 1;
  const value = (r: ContainerUsage) => (req.resource === 'cpu' ? r.cpuPercent : r.memoryBytes);
  const bars = ranked
    .filter((r) => value(r) !== undefined && Number.isFinite(value(r)))
    .map((r) => ({ label: withHost ? `${r.name} @ ${stripPort(r.instance)}` : r.name, value: value(r)! }));
  const t = translator(locale);
  return {
    kind: 'bar',
    title: t(req.resource === 'cpu' ? 'commands.top.chart.cpu' : 'commands.top.chart.memory', { count: bars.length }),
    bars,
    unit: req.resource === 'cpu' ? 'percent' : 'bytes',
  };
}

function vector(result: QueryResult): InstantSample[] {
  return result.resultType === 'vector' ? result.result : [];
}

/** `/top [resource] [limit] [host]`: the busiest containers by CPU or memory, from cAdvisor metrics. */
export const top = {
  data: {
    name: 'top',
    ...described('commands.top.description'),
    options: [
      {
        type: ApplicationCommandOptionType.String,
        name: 'resource',
        ...described('commands.top.option.resource'),
        required: false,
        choices: [choice('commands.top.choice.cpu', 'cpu'), choice('commands.top.choice.memory', 'memory')],
      },
      {
        type: ApplicationCommandOptionType.Integer,
        name: 'limit',
        ...described('commands.top.option.limit', { max: MAX_LIMIT, default: DEFAULT_LIMIT }),
        required: false,
        min_value: 1,
        max_value: MAX_LIMIT,
      },
      {
        type: ApplicationCommandOptionType.String,
        name: 'host',
        ...described('commands.top.option.host'),
        required: false,
        autocomplete: true,
        max_length: MAX_HOST_LENGTH,
      },
    ],
  },
  async execute(ctx, deps) {
    const req = topRequest(ctx.options);
    const locale = localeOf(ctx, deps);
    await ctx.defer();
    const q = topQueries(req);
    const now = deps.now();
    const [cpu, memory] = await Promise.all([deps.prometheus.query(q.cpu, now), deps.prometheus.query(q.memory, now)]);
    const rows = joinUsage(vector(cpu), vector(memory));
    if (rows.length === 0) {
      const hosts = vector(await deps.prometheus.query(q.hosts, now)).map((s) => stripPort(s.labels['instance'] ?? ''));
      await ctx.reply({ content: renderNoContainers(req, [...new Set(hosts)].sort(), locale) });
      return;
    }
    const text = fitMessage({ content: renderTop(rows, req, locale) }, warnTo(deps.logger), locale);
    const spec = topChartSpec(rows, req, locale);
    await ctx.reply(await commandChart(text, spec.bars.length ? spec : undefined, deps.config.charts, locale, deps.chartRenderer));
  },
  async autocomplete(ctx, deps) {
    const choices = await labelValueChoices('prometheus', 'instance', ctx.focused.value, deps, { match: [CADVISOR_CPU], map: stripPort });
    await ctx.respond(choices);
  },
} satisfies Command;
