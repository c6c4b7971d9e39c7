import type { APIEmbed, APIEmbedField, RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { formatNumberIn, translator, type Locale, type MessageKey, type T } from '../i18n/index.js';
import type { Alert, Notification } from '../model.js';
import type {
  AlertEnrichment,
  ContainerContextFinding,
  EnrichedNotification,
  ExpressionFinding,
  HostMeasure,
  HostContextFinding,
  LogFinding,
  LogPatternFinding,
  LogVolumeFinding,
  RuleFinding,
} from '../findings.js';
import { cleanLogLine, exploreLabel, failureCause, failureSubject, logTime } from './finding-text.js';
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
  /** The language of the incident's route; default 'en'. */
  locale?: Locale;
}

/** Longest thread name Discord accepts. */
export const THREAD_NAME_MAX = 100;
/** Alerts detailed in the thread (one embed each); the rest are counted in the last one's footer. */
const DETAILED_ALERTS = 5;
const PATTERN_MAX = 160;
const LOG_LINE_MAX = 200;
/** Labels naming where an alert fires, most telling first. */
const WHERE_LABELS = ['instance', 'pod', 'container', 'name', 'host', 'service', 'job'];

/** The thread's name: the group's alert name and where it fires, on one line, at most 100 characters; in `locale` (default 'en'). */
export function renderThreadName(n: Notification, locale: Locale = 'en'): string {
  const t = translator(locale);
  const names = [...new Set(n.alerts.map((a) => a.labels.alertname).filter((x): x is string => !!x))];
  const name = n.commonLabels.alertname || n.groupLabels.alertname || names.join(', ') || t('alert.name.fallback');
  // The job alone ("on node") says little: a name carries a place only when the alerts share one.
  const where = WHERE_LABELS.filter((k) => k !== 'job')
    .map((k) => n.commonLabels[k])
    .find(Boolean);
  const text = maskSecrets(where ? t('thread.name.where', { name, where }) : name)
    .replace(/\s+/g, ' ')
    .trim();
  return truncate(text || t('alert.name.fallback'), THREAD_NAME_MAX);
}

/**
 * The detailed enrichment for the incident thread: per alert, every series of its expression,
 * host and container context, log volume, all log patterns and the log lines, and the Explore
 * links. Pure; within Discord's limits; pings nobody.
 */
export function renderThreadDetails(input: ThreadDetailsInput, warn: Warn): RESTPostAPIChannelMessageJSONBody {
  const locale = input.locale ?? 'en';
  const ctx: Ctx = { t: translator(locale), locale, timeZone: input.timeZone ?? 'UTC' };
  const { notification, enrichments } = input.enriched;
  const detailed = notification.alerts.filter((a) => enrichments[a.fingerprint]).slice(0, Math.min(DETAILED_ALERTS, MESSAGE_EMBEDS));
  const embeds = detailed.map((a) => alertEmbed(a, enrichments[a.fingerprint]!, input, ctx));
  const left = notification.alerts.length + notification.truncatedAlerts - detailed.length;
  if (embeds.length === 0) return fitMessage({ content: ctx.t('thread.noDetails'), allowed_mentions: { parse: [] } }, warn, locale);
  if (left > 0) embeds.at(-1)!.footer = { text: ctx.t('thread.moreAlerts', { count: left }) };
  return fitMessage({ embeds, allowed_mentions: { parse: [] } }, warn, locale);
}

/** What the helpers share: the language and the zone of the log lines. */
interface Ctx {
  t: T;
  locale: Locale;
  timeZone: string;
}

/** The Explore links enrichment makes, by their label (pipeline/enrich.ts), in words. */

/** A count with "+" when the backend stopped counting ("1,234+"). */
function countText(n: number, capped: boolean, locale: Locale): string {
  return `${formatNumberIn(locale, n)}${capped ? '+' : ''}`;
}

function alertEmbed(alert: Alert, e: AlertEnrichment, input: ThreadDetailsInput, ctx: Ctx): APIEmbed {
  const { t } = ctx;
  const where = WHERE_LABELS.map((k) => alert.labels[k]).find(Boolean);
  const fields: APIEmbedField[] = [];
  const add = (name: string, value: string | undefined) => value && fields.push({ name, value: fieldValue(value) });
  if (e.rule) add(t('thread.field.rule'), ruleText(e.rule, t));
  if (e.expression) add(t('thread.field.expression'), expressionText(e.expression, alert.annotations, t));
  if (e.extraExpression) add(t('thread.field.extra'), expressionText(e.extraExpression, alert.annotations, t));
  if (e.hostContext) add(t('thread.field.host', { instance: safeText(e.hostContext.instance) }), hostText(e.hostContext, t));
  if (e.containerContext) add(t('thread.field.containers', { host: safeText(e.containerContext.host) }), containerText(e.containerContext, t));
  if (e.logVolume) add(t('thread.field.logVolume'), volumeText(e.logVolume, t));
  if (e.logPatterns) add(patternsTitle(e.logPatterns, ctx), patternsText(e.logPatterns, t));
  if (e.logs) {
    const count = countText(e.logs.count, e.logs.capped, ctx.locale);
    const first = e.logs.lines[0];
    add(
      first ? t('thread.field.logLinesZone', { count, zone: zoneName(ctx.timeZone, first.at) }) : t('thread.field.logLines', { count }),
      logLinesText(e.logs, ctx),
    );
  }
  if (input.grafanaUrl && e.exploreLinks?.length) {
    const targets = e.exploreLinks.map((l) => ({ ...l, label: exploreLabel(l.label, t) }));
    add(t('thread.field.explore'), fitExploreLinks(input.grafanaUrl, targets, input.datasources, EMBED_FIELD_VALUE, ctx.locale).text);
  }
  const failures = e.failures.map((f) => t('thread.unavailable', { what: safeText(failureSubject(f, t)), message: safeText(failureCause(f, t)) }));
  const name = safeText(alert.labels.alertname || t('alert.name.fallback'));
  return {
    title: truncate(where ? t('thread.title.where', { name, where: safeText(where) }) : t('thread.title', { name }), EMBED_TITLE),
    ...(failures.length ? { description: failures.join('\n') } : {}),
    ...(fields.length ? { fields } : {}),
  };
}

/** A field value within 1024: a trailing code block is cut inside its fences. */
function fieldValue(text: string): string {
  return text.endsWith('```') ? truncateCodeBlock(text, EMBED_FIELD_VALUE) : truncate(text, EMBED_FIELD_VALUE);
}

function expressionText(f: ExpressionFinding, annotations: Record<string, string>, t: T): string {
  const unit = inferUnit(f.expr, annotations);
  const threshold = f.threshold ? ` ${t('thread.expression.threshold', { op: f.threshold.op, value: formatNumber(f.threshold.value) })}` : '';
  const head = `\`${truncate(f.expr.replace(/`/g, 'ˋ').replace(/\s+/g, ' '), 300)}\`${threshold}`;
  if (!f.series.length) return `${head}\n${t('alert.chart.noData')}`;
  const keys = splitLabels(f.series.map((s) => s.labels)).distinguishing;
  const lines = f.series.map((s) => {
    const name = keys.length ? keys.map((k) => s.labels[k] ?? '').join(', ') : t('thread.series.value');
    const start = s.atStart !== undefined ? `${t('alert.series.start', { value: formatValue(s.atStart, unit, t.locale) })} → ` : '';
    // Outside a code block Discord shows each reader their own time.
    const peak = isRealDate(s.peakAt)
      ? t('thread.series.peakAt', { value: formatValue(s.peak, unit, t.locale), at: discordTimestamp(s.peakAt, 'T') })
      : t('thread.series.peak', { value: formatValue(s.peak, unit, t.locale) });
    return `• ${safeText(name)}: ${start}${peak} → ${t('alert.series.now', { value: formatValue(s.latest, unit, t.locale) })}`;
  });
  return [head, ...lines].join('\n');
}

/** "Fires when A (last) > 70 for 5m · folder Vigil alerts · group hosts", and what was not queried. */
function ruleText(r: RuleFinding, t: T): string {
  const title = safeText(r.title);
  const condition = safeText(r.condition);
  const head = r.for ? t('thread.rule.firesFor', { title, condition, for: safeText(r.for) }) : t('thread.rule.fires', { title, condition });
  const where = [r.folder ? t('thread.rule.folder', { folder: safeText(r.folder) }) : '', r.group ? t('thread.rule.group', { group: safeText(r.group) }) : '']
    .filter(Boolean)
    .join(' · ');
  const skipped = r.notQueried.length ? t('thread.rule.notQueried', { queries: r.notQueried.map(safeText).join(', ') }) : '';
  return [head, where, skipped].filter(Boolean).join('\n');
}

/** A host measure's name. */
const MEASURE: Record<HostMeasure['kind'], MessageKey> = {
  cpu: 'thread.host.cpu',
  memory: 'thread.host.memory',
  disk: 'thread.host.disk',
  load: 'thread.host.load',
};

function hostText(h: HostContextFinding, t: T): string {
  return (
    h.measures
      .map((m) => {
        const fmt = (v: number | undefined) =>
          v === undefined ? t('thread.host.none') : m.kind === 'load' ? t('thread.host.perCore', { value: formatNumber(v) }) : formatValue(v, 'percent');
        const what = m.kind === 'disk' && m.mountpoint ? t('thread.host.diskAt', { mountpoint: safeText(m.mountpoint) }) : t(MEASURE[m.kind]);
        return `• ${t('thread.host.line', { what, now: fmt(m.now), before: fmt(m.before) })}`;
      })
      .join('\n') || t('alert.host.noData')
  );
}

function containerText(c: ContainerContextFinding, t: T): string {
  const lines: string[] = [];
  if (c.cpu.length) lines.push(t('thread.container.cpu', { list: c.cpu.map((r) => `${safeText(r.name)} ${formatValue(r.value, 'percent')}`).join(', ') }));
  if (c.memory.length)
    lines.push(t('thread.container.memory', { list: c.memory.map((r) => `${safeText(r.name)} ${formatValue(r.value, 'bytes')}`).join(', ') }));
  for (const ev of c.events) {
    const values = { name: safeText(ev.name), count: ev.count };
    lines.push(ev.kind === 'oom' ? t('thread.container.oom', values) : t('thread.container.restart', values));
  }
  return lines.join('\n') || t('thread.container.none');
}

function volumeText(v: LogVolumeFinding, t: T): string {
  return (
    v.levels
      .map((l) => {
        const ratio =
          l.ratio !== undefined
            ? ` ${t('thread.volume.ratio', { ratio: formatNumber(l.ratio) })}`
            : l.before === 0 && l.count > 0
              ? ` ${t('thread.volume.noneBefore')}`
              : '';
        return `• ${t('thread.volume.line', { level: safeText(l.level || t('thread.volume.noLevel')), count: l.count, ratio })}`;
      })
      .join('\n') || t('thread.volume.none')
  );
}

function patternsTitle(p: LogPatternFinding, { t, locale }: Ctx): string {
  return t('thread.field.patterns', { distinct: p.distinct, lines: countText(p.lines, p.capped, locale) });
}

function patternsText(p: LogPatternFinding, t: T): string {
  const lines = p.patterns.map(
    (x) =>
      `×${x.count} ${truncate(cleanLogLine(x.pattern), PATTERN_MAX)}\n  ${t('thread.patterns.example', { example: truncate(cleanLogLine(x.example), PATTERN_MAX) })}`,
  );
  return lines.length ? `\`\`\`\n${lines.join('\n')}\n\`\`\`` : t('thread.patterns.none');
}

function logLinesText(logs: LogFinding, { t, timeZone }: Ctx): string {
  if (!logs.lines.length) return t('thread.logs.none');
  const body = logs.lines.map((l) => `${logTime(l.at, timeZone)} ${truncate(cleanLogLine(l.line), LOG_LINE_MAX)}`);
  return `\`\`\`\n${body.join('\n')}\n\`\`\``;
}
