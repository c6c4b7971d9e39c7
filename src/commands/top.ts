import { ApplicationCommandOptionType } from 'discord-api-types/v10';
import type { InstantSample, QueryResult } from '../queries/prometheus.js';
import { stripPort } from '../queries/promql.js';
import { CADVISOR_CPU, topQueries } from '../queries/catalog.js';
import { commandChart, type BarChartSpec } from '../render/chart.js';
import { joinUsage, rankUsage, renderNoContainers, renderTop, type ContainerUsage, type TopRequest } from '../render/top.js';
import { fitMessage, warnTo } from '../render/truncate.js';
import { labelValueChoices } from './autocomplete.js';
import { OptionError, type Command } from './types.js';

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 25;
const MAX_HOST_LENGTH = 100;

/** The validated options of /top. */
function topRequest(options: Record<string, unknown>): TopRequest {
  const resource = options['resource'] ?? 'cpu';
  if (resource !== 'cpu' && resource !== 'memory') throw new OptionError('resource', 'expected cpu or memory');
  const limit = options['limit'] ?? DEFAULT_LIMIT;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new OptionError('limit', `expected an integer from 1 to ${MAX_LIMIT}`);
  }
  const host = options['host'];
  if (host === undefined) return { resource, limit };
  if (typeof host !== 'string' || !host.trim() || host.length > MAX_HOST_LENGTH) {
    throw new OptionError('host', `expected a host name of 1 to ${MAX_HOST_LENGTH} characters`);
  }
  return { resource, limit, host: host.trim() };
}

/** The /top bar chart: the ranked containers by the chosen resource (host named when several hosts are listed). */
export function topChartSpec(rows: readonly ContainerUsage[], req: TopRequest): BarChartSpec {
  const ranked = rankUsage(rows, req.resource, req.limit);
  const withHost = new Set(ranked.map((r) => r.instance)).size > 1;
  const value = (r: ContainerUsage) => (req.resource === 'cpu' ? r.cpuPercent : r.memoryBytes);
  const bars = ranked
    .filter((r) => value(r) !== undefined && Number.isFinite(value(r)))
    .map((r) => ({ label: withHost ? `${r.name} @ ${stripPort(r.instance)}` : r.name, value: value(r)! }));
  const by = req.resource === 'cpu' ? 'CPU (% of one core)' : 'memory (working set)';
  return {
    kind: 'bar',
    title: `Top ${bars.length} container${bars.length === 1 ? '' : 's'} by ${by}`,
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
    description: 'Top containers by CPU or memory (cAdvisor metrics)',
    description_localizations: { ko: 'CPU 또는 메모리 사용 상위 컨테이너 (cAdvisor 메트릭)' },
    options: [
      {
        type: ApplicationCommandOptionType.String,
        name: 'resource',
        description: 'Rank by CPU (default) or memory',
        description_localizations: { ko: '정렬 기준: CPU (기본) 또는 메모리' },
        required: false,
        choices: [
          { name: 'cpu', name_localizations: { ko: 'CPU 사용량' }, value: 'cpu' },
          { name: 'memory', name_localizations: { ko: '메모리 사용량' }, value: 'memory' },
        ],
      },
      {
        type: ApplicationCommandOptionType.Integer,
        name: 'limit',
        description: `How many containers (1-${MAX_LIMIT}, default ${DEFAULT_LIMIT})`,
        description_localizations: { ko: `컨테이너 수 (1~${MAX_LIMIT}, 기본 ${DEFAULT_LIMIT})` },
        required: false,
        min_value: 1,
        max_value: MAX_LIMIT,
      },
      {
        type: ApplicationCommandOptionType.String,
        name: 'host',
        description: 'Only containers on this host (cAdvisor instance)',
        description_localizations: { ko: '이 호스트의 컨테이너만 (cAdvisor instance)' },
        required: false,
        autocomplete: true,
        max_length: MAX_HOST_LENGTH,
      },
    ],
  },
  async execute(ctx, deps) {
    const req = topRequest(ctx.options);
    await ctx.defer();
    const q = topQueries(req);
    const now = deps.now();
    const [cpu, memory] = await Promise.all([deps.prometheus.query(q.cpu, now), deps.prometheus.query(q.memory, now)]);
    const rows = joinUsage(vector(cpu), vector(memory));
    if (rows.length === 0) {
      const hosts = vector(await deps.prometheus.query(q.hosts, now)).map((s) => stripPort(s.labels['instance'] ?? ''));
      await ctx.reply({ content: renderNoContainers(req, [...new Set(hosts)].sort()) });
      return;
    }
    const text = fitMessage({ content: renderTop(rows, req) }, warnTo(deps.logger));
    const spec = topChartSpec(rows, req);
    await ctx.reply(await commandChart(text, spec.bars.length ? spec : undefined, deps.config.charts, deps.chartRenderer));
  },
  async autocomplete(ctx, deps) {
    const choices = await labelValueChoices('prometheus', 'instance', ctx.focused.value, deps, { match: [CADVISOR_CPU], map: stripPort });
    await ctx.respond(choices);
  },
} satisfies Command;
