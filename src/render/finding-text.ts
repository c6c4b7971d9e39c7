import type { APIEmbedField } from 'discord-api-types/v10';
import { formatDurationIn, translator, type MessageKey, type T } from '../i18n/index.js';
import type {
  ContainerContextFinding,
  EnrichmentFailure,
  FailureWhat,
  ExpressionFinding,
  HostContextFinding,
  HostMeasure,
  LogFinding,
  LogLevelVolume,
  LogPatternFinding,
  SeriesSummary,
  TargetFinding,
} from '../findings.js';
import type { Alert, AlertStatus, Locale, Notification } from '../model.js';
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

/** What a failed piece of enrichment is called; a steering annotation's name is shown as it is. */
const FAILURE_WHAT = {
  expression: 'alert.what.expression',
  'extra expression': 'alert.what.extraExpression',
  'target health': 'alert.what.targetHealth',
  'scrape status': 'alert.what.scrapeStatus',
  logs: 'alert.what.logs',
  'log volume': 'alert.what.logVolume',
  'host context': 'alert.what.hostContext',
  'container context': 'alert.what.containerContext',
  'rule lookup': 'alert.what.ruleLookup',
} as const satisfies Partial<Record<FailureWhat, MessageKey>>;

/** What a failure is about, in the message's language ("logs", "로그"); a steering annotation by its name. */
export function failureSubject(f: Pick<EnrichmentFailure, 'what'>, t: T = translator()): string {
  return f.what in FAILURE_WHAT ? t(FAILURE_WHAT[f.what as keyof typeof FAILURE_WHAT]) : f.what;
}

/**
 * Why a query failed, in the message's language when Vigil put it into words (a timeout, a backend
 * not asked, no label to select logs by); else as the backend said it. English is the failure's own
 * message, word for word.
 */
export function failureCause(f: Pick<EnrichmentFailure, 'message' | 'words'>, t: T = translator()): string {
  const w = f.words;
  if (!w || t.locale === 'en') return f.message;
  switch (w.kind) {
    case 'timed-out':
      return t('alert.cause.timedOut', { backend: w.backend, duration: formatDurationIn(t.locale, w.ms) });
    case 'not-answering':
      // A storm's stored failure comes back from JSON with `since` as text.
      return t('alert.cause.notAnswering', { backend: w.backend, time: discordTimestamp(new Date(w.since), 't') });
    case 'queue-full':
      return t('alert.cause.queueFull', { duration: formatDurationIn(t.locale, w.ms), slots: w.slots });
    case 'no-log-selector':
      return t('alert.cause.noLogSelector', { labels: w.labels });
    case 'ignored':
      return t('alert.cause.ignored', { detail: w.detail });
    case 'bad-dashboard-uid':
      return t('alert.cause.badDashboardUid');
  }
}

/** "⚠️ logs unavailable: Loki timed out after 5s". */
export function failureLine(f: EnrichmentFailure, t: T = translator()): string {
  return t('alert.finding.unavailable', { what: show(oneLine(failureSubject(f, t)), 40), error: show(oneLine(failureCause(f, t)), ERROR_MAX) });
}

/** The Explore links enrichment names (Metrics, Logs, Extra), as people read them. */
const EXPLORE_LABELS = { Metrics: 'alert.explore.metrics', Logs: 'alert.explore.logs', Extra: 'alert.explore.extra' } as const;

/** An Explore link's label in the message's language. */
export function exploreLabel(label: string, t: T = translator()): string {
  return label in EXPLORE_LABELS ? t(EXPLORE_LABELS[label as keyof typeof EXPLORE_LABELS]) : label;
}

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
export function expressionLines(finding: ExpressionFinding, unit: Unit, state: AlertStatus, t: T = translator()): string[] {
  if (!finding.series.length) return [t('alert.expression.noData')];
  const shown = finding.series.slice(0, SERIES_SHOWN);
  const differing = differingKeys(finding.series);
  const lines = shown.map((s) => {
    const prefix = finding.series.length > 1 && differing.length ? `${show(oneLine(seriesName(s, differing)), SERIES_NAME_MAX)}: ` : '';
    return prefix + seriesLine(s, unit, state, t);
  });
  if (finding.series.length > shown.length) lines.push(t('alert.more.series', { count: finding.series.length - shown.length }));
  return lines;
}

function seriesLine(s: SeriesSummary, unit: Unit, state: AlertStatus, t: T): string {
  const parts: string[] = [];
  if (s.atStart !== undefined) parts.push(t('alert.series.start', { value: formatValue(s.atStart, unit, t.locale) }));
  parts.push(t('alert.series.peak', { value: formatValue(s.peak, unit, t.locale), at: discordTimestamp(s.peakAt, 't') }));
  parts.push(t(state === 'firing' ? 'alert.series.now' : 'alert.series.last', { value: formatValue(s.latest, unit, t.locale) }));
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
export function valuesLine(values: Record<string, number>, t: T = translator()): string {
  const list = Object.entries(values)
    .map(([k, v]) => `${escapeMarkdown(k)} = ${formatNumber(v)}`)
    .join(', ');
  return t('alert.values', { values: list });
}

/** "Target: up 100% of window" or "🔻 Target DOWN: <lastError>, last scrape 2m ago, took 12ms". */
export function targetLine(target: TargetFinding, now: Date, locale: Locale = 'en'): string | undefined {
  const t = translator(locale);
  const ratio = target.upRatio !== undefined ? t('alert.target.upRatio', { percent: significant(target.upRatio * 100) }) : undefined;
  if (target.health === 'down' || target.upNow === 0) {
    const parts = [t('alert.target.down', { error: show(oneLine(target.lastError || t('alert.target.noError')), ERROR_MAX) })];
    if (isRealDate(target.lastScrape)) parts.push(t('alert.target.lastScrape', { ago: formatAgo(target.lastScrape, now, locale) }));
    if (target.lastScrapeDurationSeconds !== undefined)
      parts.push(t('alert.target.took', { duration: formatValue(target.lastScrapeDurationSeconds, 'seconds') }));
    if (ratio) parts.push(ratio);
    return parts.join(', ');
  }
  if (ratio) return t('alert.target.line', { what: ratio });
  if (!target.health) return undefined;
  const health = target.health === 'up' ? t('alert.target.up') : target.health === 'unknown' ? t('alert.target.unknown') : target.health;
  return t('alert.target.line', { what: health });
}

/** "Logs: 12 matching lines, newest first" and a code block of the lines. */
export function logsText(logs: LogFinding, timeZone = 'UTC', t: T = translator()): { summary: string; block?: string } {
  const count = `${logs.count}${logs.capped ? '+' : ''}`;
  if (logs.count === 0 || !logs.lines.length) return { summary: logs.count ? t('alert.logs.count', { n: logs.count, count }) : t('alert.logs.none') };
  // Discord's <t:…> markup does not work in a code block: the lines' times are in the configured zone, named.
  const summary = t('alert.logs.newest', { n: logs.count, count, zone: zoneName(timeZone, logs.lines[0]!.at) });
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
export function extraLines(finding: ExpressionFinding, state: AlertStatus, t: T = translator()): string[] {
  if (!finding.series.length) return [t('alert.extra.noData')];
  const unit = inferUnit(finding.expr);
  const differing = differingKeys(finding.series);
  const shown = finding.series.slice(0, EXTRA_SERIES_SHOWN).map((s) => {
    const name = finding.series.length > 1 && differing.length ? ` ${show(oneLine(seriesName(s, differing)), SERIES_NAME_MAX)}` : '';
    return t('alert.extra.line', { name, line: seriesLine(s, unit, state, t) });
  });
  const hidden = finding.series.length - shown.length;
  return hidden > 0 ? [...shown, t('alert.more.extraSeries', { count: hidden })] : shown;
}

/** "Logs: 57 matching lines in 4 patterns, times UTC": the patterns themselves are in the Logs field. */
export function patternSummary(logs: LogFinding, patterns: LogPatternFinding, timeZone = 'UTC', t: T = translator()): string {
  const count = `${logs.count}${logs.capped ? '+' : ''}`;
  const at = patterns.patterns.find((p) => isRealDate(p.exampleAt))?.exampleAt;
  const values = { n: logs.count, count, patterns: patterns.distinct };
  return at ? t('alert.logs.patternsZone', { ...values, zone: zoneName(timeZone, at) }) : t('alert.logs.patterns', values);
}

/** A log line's time of day in the zone, "HH:MM:SS"; "--:--:--" when the line has none. */
export function logTime(at: Date | undefined, timeZone: string): string {
  return isRealDate(at) ? formatClock(at, timeZone) : '--:--:--';
}

/** A host measure's name; CPU is CPU in every language. */
function measureName(m: HostMeasure, t: T): string {
  if (m.kind === 'cpu') return 'CPU';
  if (m.kind === 'disk') return m.mountpoint ? t('alert.host.diskAt', { mountpoint: show(oneLine(m.mountpoint), MOUNTPOINT_MAX) }) : t('alert.host.disk');
  return t(m.kind === 'memory' ? 'alert.host.memory' : 'alert.host.load');
}

/** A host measure's value: "93.1%", or "1.9 per core" for load. */
function measureValue(m: HostMeasure, value: number, t: T): string {
  return m.kind === 'load' ? t('alert.host.perCore', { value: formatNumber(value) }) : formatValue(value, 'percent');
}

/** Past these, a value is shown bold: busy, full, or more runnable work than cores. */
function isHigh(m: HostMeasure, value: number): boolean {
  return m.kind === 'load' ? value >= 1 : value >= 90;
}

/** "CPU **93.1%** (was 12.0% 1h before)". */
function measureLine(m: HostMeasure, t: T): string {
  const now = m.now === undefined ? t('alert.host.noData') : isHigh(m, m.now) ? `**${measureValue(m, m.now, t)}**` : measureValue(m, m.now, t);
  const before = m.before === undefined ? t('alert.host.noDataBefore') : t('alert.host.before', { value: measureValue(m, m.before, t) });
  return `${measureName(m, t)} ${now} (${before})`;
}

/** "🖥️ Host app-1:9100 at start": CPU, memory, fullest disk and load at the alert's start vs an hour earlier. */
export function hostField(h: HostContextFinding, t: T = translator()): APIEmbedField {
  return {
    name: truncate(t('alert.field.host', { instance: escapeMarkdown(maskSecrets(oneLine(h.instance))) }), ALERT_NAME_MAX),
    value: truncate(h.measures.map((m) => measureLine(m, t)).join('\n'), CONTEXT_FIELD_MAX),
  };
}

const EVENT_TEXT = { restart: 'alert.container.restart', oom: 'alert.container.oom' } as const;

function containerName(name: string): string {
  return show(oneLine(name), CONTAINER_NAME_MAX);
}

/** "📦 Containers on app-1": restarts and OOM kills first, then the top CPU and memory users. */
export function containersField(c: ContainerContextFinding, t: T = translator()): APIEmbedField {
  const lines: string[] = [];
  if (c.events.length) {
    const shown = c.events.slice(0, EVENTS_SHOWN).map((ev) => t(EVENT_TEXT[ev.kind], { name: containerName(ev.name), count: String(ev.count) }));
    const hidden = c.events.length - shown.length;
    lines.push(shown.join(' · ') + (hidden > 0 ? ` · ${t('alert.more.items', { count: hidden })}` : ''));
  }
  if (c.cpu.length) lines.push(t('alert.container.cpu', { list: c.cpu.map((r) => `${containerName(r.name)} ${formatValue(r.value, 'percent')}`).join(' · ') }));
  if (c.memory.length)
    lines.push(t('alert.container.memory', { list: c.memory.map((r) => `${containerName(r.name)} ${formatValue(r.value, 'bytes')}`).join(' · ') }));
  return {
    name: truncate(t('alert.field.containers', { host: escapeMarkdown(maskSecrets(oneLine(c.host))) }), ALERT_NAME_MAX),
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
export function volumeLine(v: LogLevelVolume, windowText: string, t: T = translator()): string {
  const level = v.level ? show(oneLine(v.level), LEVEL_MAX) : t('alert.volume.unlabelled');
  const lines = t('alert.volume.lines', { n: v.count, count: formatNumber(v.count), window: windowText });
  if (v.ratio === undefined) return `**${level}** ${lines}, ${t('alert.volume.noneBefore')}`;
  const rate = v.ratio >= 1 / RATE_CHANGE && v.ratio <= RATE_CHANGE ? t('alert.volume.usual') : t('alert.volume.ratio', { ratio: formatRatio(v.ratio) });
  return v.ratio > RATE_CHANGE ? `**${level}** ${lines}, ${rate}` : `${level} ${lines}, ${rate}`;
}

/** The log window as people say it: whole minutes from a minute up. */
export function windowText(seconds: number, locale: Locale = 'en'): string {
  return formatDurationIn(locale, (seconds >= 60 ? Math.round(seconds / 60) * 60 : seconds) * 1000);
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
