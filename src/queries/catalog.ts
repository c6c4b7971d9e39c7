import { endOfString, escapeLabelValue, escapeRegex, LABEL_NAME, lineFilter, quote, selector, type MatcherSpec } from './promql.js';

/** Filesystems that are not disks (memory, container layers, images, kernel views), as an fstype regex: never a "fullest disk". */
export const PSEUDO_FS = 'tmpfs|devtmpfs|overlay|squashfs|ramfs|nsfs|autofs|proc|sysfs|iso9660';

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

/**
 * Error-like log lines per source over the last `rangeSeconds`, for many sources in one query:
 * `sum by (container_name) (count_over_time({container_name=~"api|db"} |~ "(?i)error" [1800s]))`.
 * Each value is matched literally (regex-escaped, and the matcher is anchored as Loki anchors them).
 */
export function errorLogVolumeBySource(label: string, values: readonly string[], filter: string, rangeSeconds: number): string {
  if (values.length === 0) throw new Error('expected at least one log source');
  const matcher = selector([{ name: label, op: '=~', value: values.map(escapeRegex).join('|') }]);
  return `sum by (${label}) (count_over_time(${matcher} ${lineFilter(filter)}${range(rangeSeconds)}))`;
}

/** Every measure of the host context query, as its `measure` label names it. */
export const HOST_MEASURES = ['cpu', 'memory', 'disk', 'load'] as const;

/** `label_replace(expr, "<label>", "<value>", "", "")`: tags every series of `expr`. */
function tagged(expr: string, label: string, value: string): string {
  return `label_replace(${expr}, ${quote(label)}, ${quote(value)}, "", "")`;
}

/**
 * One query for a host's CPU busy %, memory used %, fullest filesystem used % (with its
 * `mountpoint`) and load1 per core (node_exporter), each series tagged with `measure`
 * (cpu, memory, disk, load). `host` selects the node_exporter's series, e.g.
 * `instance=~"app-1(:\d+)?"`; CPU is averaged over the last `rateSeconds`.
 */
export function hostContextQuery(host: readonly MatcherSpec[], rateSeconds = 300): string {
  const idle = selector([{ name: 'mode', value: 'idle' }, ...host], 'node_cpu_seconds_total');
  const fs: MatcherSpec[] = [{ name: 'fstype', op: '!~', value: PSEUDO_FS }, ...host];
  const cpu = `100 * (1 - avg by (instance) (rate(${idle}${range(rateSeconds)})))`;
  const memory = `100 * (1 - max by (instance) (${selector(host, 'node_memory_MemAvailable_bytes')}) / max by (instance) (${selector(host, 'node_memory_MemTotal_bytes')}))`;
  const disk = `topk by (instance) (1, 100 * (1 - ${selector(fs, 'node_filesystem_avail_bytes')} / ${selector(fs, 'node_filesystem_size_bytes')}))`;
  const load = `max by (instance) (${selector(host, 'node_load1')}) / count by (instance) (${idle})`;
  return [tagged(cpu, 'measure', 'cpu'), tagged(memory, 'measure', 'memory'), tagged(disk, 'measure', 'disk'), tagged(load, 'measure', 'load')].join(' or ');
}

/** The metric names the container context query reads (cAdvisor). */
export interface ContainerMetrics {
  cpu: string;
  memory: string;
}

/**
 * One query for the containers selected by `matchers` over the last `rangeSeconds`, each series
 * tagged with `resource`: `cpu` (top `limit` by average CPU, % of one core), `memory` (top `limit`
 * by peak working set, bytes), `restarts` (changes of container_start_time_seconds > 0) and `oom`
 * (increase of container_oom_events_total > 0), by container `name`.
 */
export function containerContextQuery(matchers: readonly MatcherSpec[], metrics: ContainerMetrics, rangeSeconds: number, limit = 3): string {
  const r = range(rangeSeconds);
  const cpu = `topk(${limit}, sum by (name) (rate(${selector(matchers, metrics.cpu)}${r}))) * 100`;
  const memory = `topk(${limit}, max by (name) (max_over_time(${selector(matchers, metrics.memory)}${r})))`;
  const restarts = `sum by (name) (changes(${selector(matchers, 'container_start_time_seconds')}${r})) > 0`;
  const oom = `sum by (name) (increase(${selector(matchers, 'container_oom_events_total')}${r})) > 0`;
  return [tagged(cpu, 'resource', 'cpu'), tagged(memory, 'resource', 'memory'), tagged(restarts, 'resource', 'restarts'), tagged(oom, 'resource', 'oom')].join(
    ' or ',
  );
}

/** Why a rule author's query was not used: the message says what was expected. */
export class SteeringError extends Error {}

/** The LogQL label matcher operators. */
const LOGQL_MATCH = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\\n]|\\.)*"|`[^`]*`)\s*/;

/**
 * Checks that `query` is a LogQL log query: a stream selector with at least one matcher, then
 * only pipeline stages (line filters, parsers, label filters, formatters) with balanced
 * parentheses and closed strings, and no range (which would make it a metric query). Returns
 * whether it is the bare selector; throws SteeringError saying what was expected.
 */
export function checkLogQuery(query: string): { selectorOnly: boolean } {
  const text = query.trim();
  if (!text) throw new SteeringError('expected a LogQL selector like {app="api"}, got nothing');
  if (text.length > 2000) throw new SteeringError(`expected a LogQL query of at most 2000 characters, got ${text.length}`);
  if (!text.startsWith('{')) throw new SteeringError('expected a LogQL log query starting with a stream selector like {app="api"}');
  let rest = text.slice(1);
  let matchers = 0;
  for (;;) {
    const m = LOGQL_MATCH.exec(rest);
    if (!m) break;
    matchers++;
    rest = rest.slice(m[0].length);
    if (!rest.startsWith(',')) break;
    rest = rest.slice(1);
  }
  if (!rest.startsWith('}')) throw new SteeringError('expected label matchers like app="api" inside the stream selector {…}, then }');
  if (!matchers) throw new SteeringError('expected at least one label matcher in the stream selector, like {app="api"}');
  const pipeline = rest.slice(1).trim();
  checkPipeline(pipeline);
  return { selectorOnly: pipeline === '' };
}

/** The part after the selector: starts with a stage, closes its strings and parentheses, holds no range. */
function checkPipeline(pipeline: string): void {
  if (!pipeline) return;
  if (!/^(?:\|=|!=|\|~|!~|\|>|!>|\|)/.test(pipeline)) {
    throw new SteeringError('expected pipeline stages after the selector, starting with |=, !=, |~, !~ or |');
  }
  let depth = 0;
  for (let i = 0; i < pipeline.length; i++) {
    const c = pipeline[i]!;
    if (c === '"' || c === '`') {
      const end = endOfString(pipeline, i);
      if (end < 0) throw new SteeringError('expected every string in the query to be closed');
      i = end;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth < 0) throw new SteeringError('expected balanced parentheses');
    else if (c === '[') throw new SteeringError('expected a log query, not a metric query: a range [..] is not allowed');
    else if (c === '{' || c === '}') throw new SteeringError('expected a single stream selector at the start');
  }
  if (depth !== 0) throw new SteeringError('expected balanced parentheses');
}

/** Where a placeholder stands: in which kind of string, and whether that string is a regex. */
type StringContext = { quote: '"' | '`' | "'"; regex: boolean };

/**
 * Fills `${label}` placeholders with the alert's label values. A placeholder may only stand inside
 * a quoted string, where its value is escaped for that string (and for RE2 after =~, !~, |~), so a
 * label value can never close the string or change the query. Throws SteeringError for a
 * placeholder outside a string, a label the alert lacks, or a value a raw string cannot hold.
 */
export function fillLabels(query: string, labels: Readonly<Record<string, string>>): string {
  let out = '';
  for (let i = 0; i < query.length; i++) {
    const c = query[i]!;
    if (c === '"' || c === '`' || c === "'") {
      const end = endOfString(query, i);
      if (end < 0) throw new SteeringError('expected every string in the query to be closed');
      const ctx: StringContext = { quote: c, regex: /(?:=~|!~|\|~)\s*$/.test(query.slice(0, i)) };
      out += c + fillString(query.slice(i + 1, end), ctx, labels) + c;
      i = end;
    } else if (c === '$' && query[i + 1] === '{') {
      throw new SteeringError('expected ${label} placeholders only inside quoted strings');
    } else {
      out += c;
    }
  }
  return out;
}

function fillString(body: string, ctx: StringContext, labels: Readonly<Record<string, string>>): string {
  return body.replace(/\$\{([^}]*)\}/g, (_m, name: string) => {
    if (!LABEL_NAME.test(name)) throw new SteeringError(`expected a label name in \${…}, got "${name.slice(0, 40)}"`);
    const raw = labels[name];
    if (raw === undefined) throw new SteeringError(`the alert has no label "${name}" for \${${name}}`);
    const value = ctx.regex ? escapeRegex(raw) : raw;
    if (ctx.quote === '`') {
      if (value.includes('`')) throw new SteeringError(`the value of "${name}" holds a backtick, which a \`raw\` string cannot hold`);
      return value;
    }
    const escaped = escapeLabelValue(value);
    return ctx.quote === "'" ? escaped.replace(/\\"/g, '"').replace(/'/g, "\\'") : escaped;
  });
}

/** cAdvisor's CPU counter (seconds of CPU time per container). */
export const CADVISOR_CPU = 'container_cpu_usage_seconds_total';
/** cAdvisor's memory gauge: what the kernel would not reclaim, what OOM kills go by. */
export const CADVISOR_MEMORY = 'container_memory_working_set_bytes';

/**
 * Matchers for named containers, on one host when given. cAdvisor series carry the scrape
 * target as `instance` ("node-1:8080"): the host matches it literally, with or without a port.
 */
export function containerMatchers(host?: string): MatcherSpec[] {
  const named: MatcherSpec = { name: 'name', op: '!=', value: '' };
  return host === undefined ? [named] : [named, { name: 'instance', op: '=~', value: `${escapeRegex(host)}(:\\d+)?` }];
}

/** The PromQL of /top: the chosen resource's top `limit` containers, and the other resource for the same containers. */
export function topQueries(req: { resource: 'cpu' | 'memory'; limit: number; host?: string | undefined }): { cpu: string; memory: string; hosts: string } {
  const m = containerMatchers(req.host);
  const cpu = `sum by (name, instance) (rate(${selector(m, CADVISOR_CPU)}[5m])) * 100`;
  const memory = `sum by (name, instance) (${selector(m, CADVISOR_MEMORY)})`;
  const top = `topk(${req.limit}, ${req.resource === 'cpu' ? cpu : memory})`;
  const beside = (expr: string) => `${expr} and on (name, instance) ${top}`;
  return {
    cpu: req.resource === 'cpu' ? top : beside(cpu),
    memory: req.resource === 'memory' ? top : beside(memory),
    hosts: `count by (instance) (${selector(containerMatchers(), CADVISOR_CPU)})`,
  };
}
