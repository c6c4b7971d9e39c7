import { translator, type Locale } from '../i18n/index.js';
import type { InstantSample } from '../queries/prometheus.js';
import { stripPort } from '../queries/promql.js';
import { formatValue } from './format.js';
import { cellText, codeBlock, renderTable, type TableColumn } from './table.js';
import { truncate } from './truncate.js';

/** What /top ranks by. */
export type TopResource = 'cpu' | 'memory';

/** One container's usage: CPU as % of one core, memory working set in bytes. */
export interface ContainerUsage {
  name: string;
  instance: string;
  cpuPercent?: number;
  memoryBytes?: number;
}

/** What /top was asked. */
export interface TopRequest {
  resource: TopResource;
  limit: number;
  host?: string;
}

const key = (labels: Record<string, string>) => JSON.stringify([labels['name'] ?? '', labels['instance'] ?? '']);

/** Joins the CPU and memory samples of the same container (same `name` and `instance`). */
export function joinUsage(cpu: readonly InstantSample[], memory: readonly InstantSample[]): ContainerUsage[] {
  const rows = new Map<string, ContainerUsage>();
  const row = (labels: Record<string, string>) => {
    const k = key(labels);
    const existing = rows.get(k);
    if (existing) return existing;
    const created: ContainerUsage = { name: labels['name'] ?? '', instance: labels['instance'] ?? '' };
    rows.set(k, created);
    return created;
  };
  for (const s of cpu) row(s.labels).cpuPercent = s.value;
  for (const s of memory) row(s.labels).memoryBytes = s.value;
  return [...rows.values()];
}

/** The value ranked on; a missing or NaN value sorts last. */
function rankValue(u: ContainerUsage, resource: TopResource): number {
  const v = resource === 'cpu' ? u.cpuPercent : u.memoryBytes;
  return v === undefined || Number.isNaN(v) ? -Infinity : v;
}

/** Highest first by `resource` (ties by name), at most `limit`. */
export function rankUsage(rows: readonly ContainerUsage[], resource: TopResource, limit: number): ContainerUsage[] {
  return [...rows]
    .sort((a, b) => rankValue(b, resource) - rankValue(a, resource) || a.name.localeCompare(b.name) || a.instance.localeCompare(b.instance))
    .slice(0, limit);
}

const cell = (v: number | undefined, unit: 'percent' | 'bytes') => (v === undefined ? '-' : formatValue(v, unit));

/**
 * The /top answer: a title line, then an aligned table (container, host when several hosts are
 * listed, CPU %, memory) ranked by the chosen resource, and a one-line legend.
 */
export function renderTop(rows: readonly ContainerUsage[], req: TopRequest, locale: Locale = 'en'): string {
  const t = translator(locale);
  const ranked = rankUsage(rows, req.resource, req.limit);
  const hosts = new Set(ranked.map((r) => r.instance));
  const withHost = hosts.size > 1;
  const columns: TableColumn[] = [
    { header: t('commands.top.column.container'), shrink: true },
    ...(withHost ? [{ header: t('commands.top.column.host'), shrink: true }] : []),
    { header: 'CPU', align: 'right' },
    { header: t('commands.top.column.memory'), align: 'right' },
  ];
  const table = renderTable(
    columns,
    ranked.map((r) => [r.name, ...(withHost ? [stripPort(r.instance)] : []), cell(r.cpuPercent, 'percent'), cell(r.memoryBytes, 'bytes')]),
  );
  const title = t(req.resource === 'cpu' ? 'commands.top.title.cpu' : 'commands.top.title.memory', { count: ranked.length });
  const host = req.host !== undefined ? req.host : !withHost && ranked[0] ? stripPort(ranked[0].instance) : undefined;
  const where = host !== undefined ? ` ${t('commands.top.onHost', { host: inlineCode(host) })}` : '';
  return [`${title}${where}`, codeBlock(table), t('commands.top.legend')].join('\n');
}

/** Inline code that a value cannot close early. */
function inlineCode(text: string): string {
  return `\`${truncate(cellText(text), 60)}\``;
}

/**
 * Why /top has no rows: no cAdvisor metrics at all, no container on the asked host (with the hosts
 * that do exist), or containers without a CPU rate yet (the counter needs two scrapes).
 */
export function renderNoContainers(req: TopRequest, cadvisorHosts: readonly string[], locale: Locale = 'en'): string {
  const t = translator(locale);
  if (cadvisorHosts.length === 0) return `⚠️ ${t('commands.top.noCadvisor')}`;
  if (req.host !== undefined) {
    const known = cadvisorHosts
      .slice(0, 10)
      .map((h) => inlineCode(h))
      .join(', ');
    return t('commands.top.noContainerOnHost', { host: inlineCode(req.host), hosts: known });
  }
  return t(req.resource === 'cpu' ? 'commands.top.noCpuRate' : 'commands.top.noMemory');
}
