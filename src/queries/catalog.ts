import { lineFilter, selector, type MatcherSpec } from './promql.js';

/** Filesystems that are not disks (node_exporter reports them all). */
const PSEUDO_FS = 'tmpfs|devtmpfs|overlay|squashfs|ramfs|nsfs|autofs';

/** Equality matchers for the label values that are set. */
function present(labels: Record<string, string | undefined>): MatcherSpec[] {
  return Object.entries(labels).flatMap(([name, value]) => (value ? [{ name, value }] : []));
}

/** A PromQL range duration from whole seconds (`[300s]`); throws on anything else. */
function range(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 1) throw new Error(`expected a range of whole seconds >= 1, got ${seconds}`);
  return `[${seconds}s]`;
}

/** Scrape health of a target: `up{job="..",instance=".."}` (matchers only for what is given). */
export function targetUp(job?: string, instance?: string): string {
  return selector(present({ job, instance }), 'up');
}

/** Error-like log lines of a stream selector: `{..} |~ "(?i)(error|...)"`. */
export function errorLogs(logSelector: string, filter: string): string {
  return `${logSelector} ${lineFilter(filter)}`;
}

/** Log lines per level over the last `rangeSeconds`: `sum by (level) (count_over_time({..}[300s]))`. */
export function logVolumeByLevel(logSelector: string, rangeSeconds: number): string {
  return `sum by (level) (count_over_time(${logSelector}${range(rangeSeconds)}))`;
}

/** Busy CPU in percent per instance (node_exporter), averaged over all cores. */
export function cpuBusyPercent(instance?: string, rangeSeconds = 300): string {
  const idle = selector([{ name: 'mode', value: 'idle' }, ...present({ instance })], 'node_cpu_seconds_total');
  return `100 * (1 - avg by (instance) (rate(${idle}${range(rangeSeconds)})))`;
}

/** Used memory in percent per instance (node_exporter): 1 - MemAvailable / MemTotal. */
export function memoryUsedPercent(instance?: string): string {
  const m = present({ instance });
  return `100 * (1 - ${selector(m, 'node_memory_MemAvailable_bytes')} / ${selector(m, 'node_memory_MemTotal_bytes')})`;
}

/** Used space in percent per filesystem (node_exporter), pseudo filesystems left out. */
export function filesystemUsedPercent(instance?: string): string {
  const m: MatcherSpec[] = [{ name: 'fstype', op: '!~', value: PSEUDO_FS }, ...present({ instance })];
  return `100 * (1 - ${selector(m, 'node_filesystem_avail_bytes')} / ${selector(m, 'node_filesystem_size_bytes')})`;
}
