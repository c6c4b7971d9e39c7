import type { APIEmbedField } from 'discord-api-types/v10';
import { formatDuration } from '../config/duration.js';
import type {
  ContainerContextFinding,
  ExpressionFinding,
  HostContextFinding,
  HostMeasure,
  LogFinding,
  LogLevelVolume,
  LogPatternFinding,
  SeriesSummary,
  TargetFinding,
} from '../findings.js';
import type { Alert, AlertStatus, Notification } from '../model.js';
import {
  discordTimestamp,
  escapeMarkdown,
  formatAgo,
  formatClock,
  formatNumber,
  formatValue,
  inferUnit,
  isRealDate,
  significant,
  type Unit,
  zoneName,
} from './format.js';
import { maskSecrets } from './mask.js';
import { truncate } from './truncate.js';

// The words for each enrichment finding in an alert message: the expression's series, the target, host
// and containers, log volume and patterns. Pure: findings in, Discord markdown out.

export const ERROR_MAX = 200;
/** Alert field names stay short enough for one line on a phone. */
export const ALERT_NAME_MAX = 100;
const LOG_LINE_MAX = 200;
const SERIES_SHOWN = 3;
/** Series of the rule's extra expression shown per alert. */
const EXTRA_SERIES_SHOWN = 2;
/** Context fields (host, containers) stay short. */
const CONTEXT_FIELD_MAX = 400;
const MOUNTPOINT_MAX = 40;
const CONTAINER_NAME_MAX = 30;
const EVENTS_SHOWN = 4;
const LEVEL_MAX = 20;
/** A rate within this factor of the usual one is "about the usual rate". */
const RATE_CHANGE = 1.5;
const PATTERN_MAX = 110;
const EXAMPLE_MAX = 150;
/** The labels telling series apart, before their values. */
const SERIES_NAME_MAX = 40;

/** Labels shown first, in this order; the rest follow alphabetically. */
export const LABEL_PRIORITY = ['severity', 'instance', 'job', 'namespace', 'pod', 'container', 'name', 'service', 'cluster', 'host', 'team', 'env'];
/** Sorts label keys: the priority ones first, then alphabetically. */
export function byPriority(a: string, b: string): number {
  const pa = LABEL_PRIORITY.indexOf(a);
  const pb = LABEL_PRIORITY.indexOf(b);
  if (pa !== pb) return (pa < 0 ? Infinity : pa) - (pb < 0 ? Infinity : pb);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A label value or annotation as shown: secrets scrubbed, markdown escaped, cut to `max`. */
export function show(text: string, max: number, onCut?: () => void): string {
  return truncate(escapeMarkdown(maskSecrets(text)), max, onCut);
}

export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ');
}

/** "start 93.1% → peak 97.3% (at <t:…:t>) → now 95.0%" per series, at most SERIES_SHOWN. */
export function expressionLines(finding: ExpressionFinding, unit: Unit, state: AlertStatus): string[] {
  if (!finding.series.length) return ['Expression: no data in the window'];
  const shown = finding.series.slice(0, SERIES_SHOWN);
  const differing = differingKeys(finding.series);
  const lines = shown.map((s) => {
    const prefix = finding.series.length > 1 && differing.length ? `${show(oneLine(seriesName(s, differing)), SERIES_NAME_MAX)}: ` : '';
    return prefix + seriesLine(s, unit, state);
  });
  if (finding.series.length > shown.length) lines.push(`+${finding.series.length - shown.length} more series`);
  return lines;
}

function seriesLine(s: SeriesSummary, unit: Unit, state: AlertStatus): string {
  const parts: string[] = [];
  if (s.atStart !== undefined) parts.push(`start ${formatValue(s.atStart, unit)}`);
  parts.push(`peak ${formatValue(s.peak, unit)} (at ${discordTimestamp(s.peakAt, 't')})`);
  parts.push(`${state === 'firing' ? 'now' : 'last'} ${formatValue(s.latest, unit)}`);
  return parts.join(' → ');
}

/** Label keys whose values differ between series. */
function differingKeys(series: SeriesSummary[]): string[] {
  const keys = new Set(series.flatMap((s) => Object.keys(s.labels)));
  return [...keys].filter((k) => new Set(series.map((s) => s.labels[k])).size > 1).sort(byPriority);
}

function seriesName(s: SeriesSummary, keys: string[]): string {
  return keys.map((k) => s.labels[k] ?? '').join(', ');
}

/** Grafana's evaluated values when there is no expression finding: "Values: B = 44.2, C = 1". */
export function valuesLine(values: Record<string, number>): string {
  return `Values: ${Object.entries(values)
    .map(([k, v]) => `${escapeMarkdown(k)} = ${formatNumber(v)}`)
    .join(', ')}`;
}

/** "Target: up 100% of window" or "🔻 Target DOWN: <lastError>, last scrape 2m ago, took 12ms". */
export function targetLine(t: TargetFinding, now: Date): string | undefined {
  const ratio = t.upRatio !== undefined ? `up ${significant(t.upRatio * 100)}% of window` : undefined;
  if (t.health === 'down' || t.upNow === 0) {
    const parts = [`🔻 Target DOWN: ${show(oneLine(t.lastError || 'no scrape error reported'), ERROR_MAX)}`];
    if (isRealDate(t.lastScrape)) parts.push(`last scrape ${formatAgo(t.lastScrape, now)}`);
    if (t.lastScrapeDurationSeconds !== undefined) parts.push(`took ${formatValue(t.lastScrapeDurationSeconds, 'seconds')}`);
    if (ratio) parts.push(ratio);
    return parts.join(', ');
  }
  if (ratio) return `Target: ${ratio}`;
  return t.health ? `Target: ${t.health}` : undefined;
}

/** "Logs: 12 matching lines, newest first" and a code block of the lines. */
export function logsText(logs: LogFinding, timeZone = 'UTC'): { summary: string; block?: string } {
  if (logs.count === 0 || !logs.lines.length)
    return { summary: logs.count ? `Logs: ${logs.count}${logs.capped ? '+' : ''} matching lines` : 'Logs: no matching lines' };
  const count = `${logs.count}${logs.capped ? '+' : ''}`;
  // Discord's <t:…> markup does not work in a code block: the lines' times are in the configured zone, named.
  const summary = `Logs: ${count} matching line${logs.count === 1 ? '' : 's'}, newest first, times ${zoneName(timeZone, logs.lines[0]!.at)}`;
  const body = logs.lines.map((l) => `${logTime(l.at, timeZone)} ${truncate(cleanLogLine(l.line), LOG_LINE_MAX)}`);
  return { summary, block: `\`\`\`\n${body.join('\n')}\n\`\`\`` };
}

/**
 * One log line for a code block: one line, no control characters, secrets scrubbed, and no ```
 * (replaced with a lookalike) so a line cannot close the block.
 */
export function cleanLogLine(line: string): string {
  return maskSecrets(line)
    .replace(/\r?\n|\r/g, ' ⏎ ')
    .replace(/\t/g, ' ')
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .replace(/`{3,}/g, (m) => 'ˋ'.repeat(m.length))
    .trim();
}

/** "Extra: start … → peak … → now …" for the rule's `vigil_promql`, at most two series. */
export function extraLines(finding: ExpressionFinding, state: AlertStatus): string[] {
  if (!finding.series.length) return ['Extra: no data in the window'];
  const unit = inferUnit(finding.expr);
  const differing = differingKeys(finding.series);
  const shown = finding.series.slice(0, EXTRA_SERIES_SHOWN).map((s) => {
    const name = finding.series.length > 1 && differing.length ? ` ${show(oneLine(seriesName(s, differing)), SERIES_NAME_MAX)}` : '';
    return `Extra${name}: ${seriesLine(s, unit, state)}`;
  });
  const hidden = finding.series.length - shown.length;
  return hidden > 0 ? [...shown, `+${hidden} more extra series`] : shown;
}

/** "Logs: 57 matching lines in 4 patterns, times UTC": the patterns themselves are in the Logs field. */
export function patternSummary(logs: LogFinding, patterns: LogPatternFinding, timeZone = 'UTC'): string {
  const count = `${logs.count}${logs.capped ? '+' : ''}`;
  const at = patterns.patterns.find((p) => isRealDate(p.exampleAt))?.exampleAt;
  const zone = at ? `, times ${zoneName(timeZone, at)}` : '';
  return `Logs: ${count} matching line${logs.count === 1 ? '' : 's'} in ${patterns.distinct} pattern${patterns.distinct === 1 ? '' : 's'}${zone}`;
}

/** A log line's time of day in the zone, "HH:MM:SS"; "--:--:--" when the line has none. */
export function logTime(at: Date | undefined, timeZone: string): string {
  return isRealDate(at) ? formatClock(at, timeZone) : '--:--:--';
}

const HOST_MEASURE_NAMES: Record<HostMeasure['kind'], string> = { cpu: 'CPU', memory: 'Memory', disk: 'Disk', load: 'Load' };

/** A host measure's value: "93.1%", or "1.9 per core" for load. */
function measureValue(m: HostMeasure, value: number): string {
  return m.kind === 'load' ? `${formatNumber(value)} per core` : formatValue(value, 'percent');
}

/** Past these, a value is shown bold: busy, full, or more runnable work than cores. */
function isHigh(m: HostMeasure, value: number): boolean {
  return m.kind === 'load' ? value >= 1 : value >= 90;
}

/** "CPU **93.1%** (was 12.0% 1h before)". */
function measureLine(m: HostMeasure): string {
  const name = m.kind === 'disk' && m.mountpoint ? `Disk ${show(oneLine(m.mountpoint), MOUNTPOINT_MAX)}` : HOST_MEASURE_NAMES[m.kind];
  const now = m.now === undefined ? 'no data' : isHigh(m, m.now) ? `**${measureValue(m, m.now)}**` : measureValue(m, m.now);
  const before = m.before === undefined ? 'no data 1h before' : `was ${measureValue(m, m.before)} 1h before`;
  return `${name} ${now} (${before})`;
}

/** "🖥️ Host app-1:9100 at start": CPU, memory, fullest disk and load at the alert's start vs an hour earlier. */
export function hostField(h: HostContextFinding): APIEmbedField {
  return {
    name: truncate(`🖥️ Host ${escapeMarkdown(maskSecrets(oneLine(h.instance)))} at start`, ALERT_NAME_MAX),
    value: truncate(h.measures.map(measureLine).join('\n'), CONTEXT_FIELD_MAX),
  };
}

const EVENT_TEXT: Record<'restart' | 'oom', string> = { restart: '🔁 **{name}** restarted {n}×', oom: '💥 **{name}** OOM-killed {n}×' };

function containerName(name: string): string {
  return show(oneLine(name), CONTAINER_NAME_MAX);
}

/** "📦 Containers on app-1": restarts and OOM kills first, then the top CPU and memory users. */
export function containersField(c: ContainerContextFinding): APIEmbedField {
  const lines: string[] = [];
  if (c.events.length) {
    const shown = c.events.slice(0, EVENTS_SHOWN).map((ev) => EVENT_TEXT[ev.kind].replace('{name}', containerName(ev.name)).replace('{n}', String(ev.count)));
    const hidden = c.events.length - shown.length;
    lines.push(shown.join(' · ') + (hidden > 0 ? ` · +${hidden} more` : ''));
  }
  if (c.cpu.length) lines.push(`CPU avg: ${c.cpu.map((r) => `${containerName(r.name)} ${formatValue(r.value, 'percent')}`).join(' · ')}`);
  if (c.memory.length) lines.push(`Memory peak: ${c.memory.map((r) => `${containerName(r.name)} ${formatValue(r.value, 'bytes')}`).join(' · ')}`);
  return {
    name: truncate(`📦 Containers on ${escapeMarkdown(maskSecrets(oneLine(c.host)))}`, ALERT_NAME_MAX),
    value: truncate(lines.join('\n'), CONTEXT_FIELD_MAX),
  };
}

/** "38×", "2.5×", "0.25×". */
function formatRatio(ratio: number): string {
  if (ratio >= 10) return `${Math.round(ratio)}×`;
  if (ratio >= 1) return `${ratio.toFixed(1).replace(/\.0$/, '')}×`;
  return `${significant(Number(ratio.toPrecision(2)))}×`;
}

/** "**error** 57 lines in 5m, 38× the usual rate". */
export function volumeLine(v: LogLevelVolume, windowText: string): string {
  const level = v.level ? show(oneLine(v.level), LEVEL_MAX) : 'unlabelled';
  const lines = `${formatNumber(v.count)} line${v.count === 1 ? '' : 's'} in ${windowText}`;
  if (v.ratio === undefined) return `**${level}** ${lines}, none in the hour before`;
  const rate = v.ratio >= 1 / RATE_CHANGE && v.ratio <= RATE_CHANGE ? 'about the usual rate' : `${formatRatio(v.ratio)} the usual rate`;
  return v.ratio > RATE_CHANGE ? `**${level}** ${lines}, ${rate}` : `${level} ${lines}, ${rate}`;
}

/** The log window as people say it: whole minutes from a minute up. */
export function windowText(seconds: number): string {
  return formatDuration((seconds >= 60 ? Math.round(seconds / 60) * 60 : seconds) * 1000);
}

/** One pattern in the code block: "×38 <pattern>" then the newest example, or the line alone when it is the only one. */
export function patternLines(p: LogPatternFinding['patterns'][number], withSource: boolean, timeZone = 'UTC'): string[] {
  const source = withSource && p.source ? `${cleanLogLine(p.source)}: ` : '';
  const time = logTime(p.exampleAt, timeZone);
  const example = truncate(cleanLogLine(p.example), EXAMPLE_MAX);
  if (p.count === 1) return [`×1 ${source}${time} ${example}`];
  return [`×${p.count} ${source}${truncate(cleanLogLine(p.pattern), PATTERN_MAX)}`, `   ${time} ${example}`];
}

/** The labels that set an alert apart from the group ("instance=db-host:9100"), alertname first when it differs. */
export function distinguishing(n: Notification, a: Alert): string {
  const keys = Object.keys(a.labels)
    .filter((k) => a.labels[k] && n.commonLabels[k] !== a.labels[k])
    .sort((x, y) => (x === 'alertname' ? -1 : y === 'alertname' ? 1 : byPriority(x, y)));
  return keys.map((k) => (k === 'alertname' ? a.labels[k]! : `${k}=${a.labels[k]}`)).join(', ');
}
