import type { APIEmbed, APIEmbedField, RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import type { Alert, Notification } from '../model.js';
import type {
  AlertEnrichment,
  ContainerContextFinding,
  EnrichedNotification,
  ExpressionFinding,
  HostContextFinding,
  LogFinding,
  LogPatternFinding,
  LogVolumeFinding,
  RuleFinding,
} from '../findings.js';
import { cleanLogLine, logTime } from './finding-text.js';
import { fitExploreLinks, type ExploreDatasources } from './explore.js';
import { discordTimestamp, formatNumber, formatValue, inferUnit, isRealDate, safeText, zoneName } from './format.js';
import { EMBED_FIELD_VALUE, EMBED_TITLE, MESSAGE_EMBEDS } from './limits.js';
import { maskSecrets } from './mask.js';
import { splitLabels } from './query.js';
import { fitMessage, truncate, truncateCodeBlock, type Warn } from './truncate.js';

/** What the detailed thread post is made from: the same enrichment the alert message shows. */
export interface ThreadDetailsInput {
  enriched: EnrichedNotification;
  /** Grafana base URL: Explore links are added when set. */
  grafanaUrl?: string;
  datasources: ExploreDatasources;
  /** The IANA zone of the log lines' times (code blocks cannot hold Discord's <t:…>): config `timezone`; default UTC. */
  timeZone?: string;
}

/** Longest thread name Discord accepts. */
export const THREAD_NAME_MAX = 100;
/** Alerts detailed in the thread (one embed each); the rest are counted in the last one's footer. */
const DETAILED_ALERTS = 5;
const PATTERN_MAX = 160;
const LOG_LINE_MAX = 200;
/** Labels naming where an alert fires, most telling first. */
const WHERE_LABELS = ['instance', 'pod', 'container', 'name', 'host', 'service', 'job'];

/** The thread's name: the group's alert name and where it fires, on one line, at most 100 characters. */
export function renderThreadName(n: Notification): string {
  const names = [...new Set(n.alerts.map((a) => a.labels.alertname).filter((x): x is string => !!x))];
  const name = n.commonLabels.alertname || n.groupLabels.alertname || names.join(', ') || 'Alert';
  // The job alone ("on node") says little: a name carries a place only when the alerts share one.
  const where = WHERE_LABELS.filter((k) => k !== 'job')
    .map((k) => n.commonLabels[k])
    .find(Boolean);
  const text = maskSecrets(`${name}${where ? ` on ${where}` : ''}`)
    .replace(/\s+/g, ' ')
    .trim();
  return truncate(text || 'Alert', THREAD_NAME_MAX);
}

/**
 * The detailed enrichment for the incident thread: per alert, every series of its expression,
 * host and container context, log volume, all log patterns and the log lines, and the Explore
 * links. Pure; within Discord's limits; pings nobody.
 */
export function renderThreadDetails(input: ThreadDetailsInput, warn: Warn): RESTPostAPIChannelMessageJSONBody {
  const { notification, enrichments } = input.enriched;
  const detailed = notification.alerts.filter((a) => enrichments[a.fingerprint]).slice(0, Math.min(DETAILED_ALERTS, MESSAGE_EMBEDS));
  const embeds = detailed.map((a) => alertEmbed(a, enrichments[a.fingerprint]!, input));
  const left = notification.alerts.length + notification.truncatedAlerts - detailed.length;
  if (embeds.length === 0) return fitMessage({ content: '🔎 No details: the alerts were not enriched.', allowed_mentions: { parse: [] } }, warn);
  if (left > 0) embeds.at(-1)!.footer = { text: `${left} more alert${left === 1 ? '' : 's'} without details here` };
  return fitMessage({ embeds, allowed_mentions: { parse: [] } }, warn);
}

function alertEmbed(alert: Alert, e: AlertEnrichment, input: ThreadDetailsInput): APIEmbed {
  const where = WHERE_LABELS.map((k) => alert.labels[k]).find(Boolean);
  const fields: APIEmbedField[] = [];
  const add = (name: string, value: string | undefined) => value && fields.push({ name, value: fieldValue(value) });
  if (e.rule) add('Grafana rule', ruleText(e.rule));
  if (e.expression) add('Expression', expressionText(e.expression, alert.annotations));
  if (e.extraExpression) add('Extra (vigil_promql)', expressionText(e.extraExpression, alert.annotations));
  if (e.hostContext) add(`Host ${safeText(e.hostContext.instance)}`, hostText(e.hostContext));
  if (e.containerContext) add(`Containers on ${safeText(e.containerContext.host)}`, containerText(e.containerContext));
  if (e.logVolume) add('Log volume', volumeText(e.logVolume));
  if (e.logPatterns) add(patternsTitle(e.logPatterns), patternsText(e.logPatterns));
  if (e.logs) {
    const zone = e.logs.lines[0] ? `, ${zoneName(input.timeZone ?? 'UTC', e.logs.lines[0].at)}` : '';
    add(`Log lines (${e.logs.count}${e.logs.capped ? '+' : ''}${zone})`, logLinesText(e.logs, input.timeZone ?? 'UTC'));
  }
  if (input.grafanaUrl && e.exploreLinks?.length) {
    add('Explore', fitExploreLinks(input.grafanaUrl, e.exploreLinks, input.datasources, EMBED_FIELD_VALUE).text);
  }
  const failures = e.failures.map((f) => `⚠️ ${safeText(f.what)} unavailable: ${safeText(f.message)}`);
  return {
    title: truncate(`🔎 ${safeText(alert.labels.alertname || 'Alert')}${where ? ` on ${safeText(where)}` : ''}`, EMBED_TITLE),
    ...(failures.length ? { description: failures.join('\n') } : {}),
    ...(fields.length ? { fields } : {}),
  };
}

/** A field value within 1024: a trailing code block is cut inside its fences. */
function fieldValue(text: string): string {
  return text.endsWith('```') ? truncateCodeBlock(text, EMBED_FIELD_VALUE) : truncate(text, EMBED_FIELD_VALUE);
}

function expressionText(f: ExpressionFinding, annotations: Record<string, string>): string {
  const unit = inferUnit(f.expr, annotations);
  const threshold = f.threshold ? ` (threshold ${f.threshold.op} ${formatNumber(f.threshold.value)})` : '';
  const head = `\`${truncate(f.expr.replace(/`/g, 'ˋ').replace(/\s+/g, ' '), 300)}\`${threshold}`;
  if (!f.series.length) return `${head}\nno data in the window`;
  const keys = splitLabels(f.series.map((s) => s.labels)).distinguishing;
  const lines = f.series.map((s) => {
    const name = keys.length ? keys.map((k) => s.labels[k] ?? '').join(', ') : 'value';
    const start = s.atStart !== undefined ? `start ${formatValue(s.atStart, unit)} → ` : '';
    // Outside a code block Discord shows each reader their own time.
    const peakAt = isRealDate(s.peakAt) ? ` at ${discordTimestamp(s.peakAt, 'T')}` : '';
    return `• ${safeText(name)}: ${start}peak ${formatValue(s.peak, unit)}${peakAt} → now ${formatValue(s.latest, unit)}`;
  });
  return [head, ...lines].join('\n');
}

/** "Fires when A (last) > 70 for 5m · folder Vigil alerts · group hosts", and what was not queried. */
function ruleText(r: RuleFinding): string {
  const head = `${safeText(r.title)}: fires when ${safeText(r.condition)}${r.for ? ` for ${safeText(r.for)}` : ''}`;
  const where = [r.folder ? `folder ${safeText(r.folder)}` : '', r.group ? `group ${safeText(r.group)}` : ''].filter(Boolean).join(' · ');
  const skipped = r.notQueried.length ? `not queried: ${r.notQueried.map(safeText).join(', ')}` : '';
  return [head, where, skipped].filter(Boolean).join('\n');
}

function hostText(h: HostContextFinding): string {
  return (
    h.measures
      .map((m) => {
        const fmt = (v: number | undefined) => (v === undefined ? 'n/a' : m.kind === 'load' ? `${formatNumber(v)}/core` : formatValue(v, 'percent'));
        const what = m.kind === 'disk' && m.mountpoint ? `disk ${safeText(m.mountpoint)}` : m.kind;
        return `• ${what}: ${fmt(m.now)} (1h before ${fmt(m.before)})`;
      })
      .join('\n') || 'no data'
  );
}

function containerText(c: ContainerContextFinding): string {
  const lines: string[] = [];
  if (c.cpu.length) lines.push(`CPU: ${c.cpu.map((r) => `${safeText(r.name)} ${formatValue(r.value, 'percent')}`).join(', ')}`);
  if (c.memory.length) lines.push(`Memory: ${c.memory.map((r) => `${safeText(r.name)} ${formatValue(r.value, 'bytes')}`).join(', ')}`);
  for (const ev of c.events) lines.push(`⚠️ ${safeText(ev.name)}: ${ev.kind === 'oom' ? 'OOM killed' : 'restarted'} ×${ev.count}`);
  return lines.join('\n') || 'no containers found';
}

function volumeText(v: LogVolumeFinding): string {
  return (
    v.levels
      .map((l) => {
        const ratio = l.ratio !== undefined ? ` (${formatNumber(l.ratio)}x the usual rate)` : l.before === 0 && l.count > 0 ? ' (none the hour before)' : '';
        return `• ${safeText(l.level || 'no level')}: ${l.count} lines${ratio}`;
      })
      .join('\n') || 'no lines'
  );
}

function patternsTitle(p: LogPatternFinding): string {
  return `Log patterns (${p.distinct} distinct in ${p.lines}${p.capped ? '+' : ''} lines)`;
}

function patternsText(p: LogPatternFinding): string {
  const lines = p.patterns.map(
    (x) => `×${x.count} ${truncate(cleanLogLine(x.pattern), PATTERN_MAX)}\n  e.g. ${truncate(cleanLogLine(x.example), PATTERN_MAX)}`,
  );
  return lines.length ? `\`\`\`\n${lines.join('\n')}\n\`\`\`` : 'no patterns';
}

function logLinesText(logs: LogFinding, timeZone: string): string {
  if (!logs.lines.length) return 'no matching lines';
  const body = logs.lines.map((l) => `${logTime(l.at, timeZone)} ${truncate(cleanLogLine(l.line), LOG_LINE_MAX)}`);
  return `\`\`\`\n${body.join('\n')}\n\`\`\``;
}
