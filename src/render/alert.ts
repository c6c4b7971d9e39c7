import type { APIEmbed, APIEmbedField, RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { formatDurationIn, translator, type MessageKey, type T } from '../i18n/index.js';
import type { Alert, Locale, Notification } from '../model.js';
import { STEERING, type AlertEnrichment, type EnrichedNotification } from '../findings.js';
import { contextFields, CONTEXT_DROP_ORDER, steeredDashboard } from './alert-context.js';
import type { Acknowledgement, AlertMessageInput, Ctx } from './alert-input.js';
import { discordTimestamp, escapeMarkdown, inferUnit, isRealDate, isSecretKey, markdownLink, safeUrl } from './format.js';
import {
  ALERT_NAME_MAX,
  distinguishing,
  byPriority,
  expressionLines,
  extraLines,
  failureLine,
  logsText,
  oneLine,
  patternSummary,
  show,
  targetLine,
  valuesLine,
} from './finding-text.js';
import { maskSecrets } from './mask.js';
import { EMBED_DESCRIPTION, EMBED_FIELDS, EMBED_FIELD_VALUE, EMBED_TITLE, EMBED_TOTAL } from './limits.js';
import { codePointLength, fitMessage, totalLength, truncate, truncateCodeBlock, type Warn } from './truncate.js';

export type { AlertMessageInput } from './alert-input.js';

/** Embed colours by status and severity. */
export const COLORS = {
  critical: 0xe74c3c,
  warning: 0xe67e22,
  info: 0x3498db,
  resolved: 0x2ecc71,
  /** Firing with a severity label Vigil does not know (or none): grey-ish orange. */
  unknown: 0xb9936c,
} as const;

const SUMMARY_MAX = 300;
const DESCRIPTION_MAX = 700;
const LABELS_MAX = 600;
const LABEL_KEY_MAX = 60;
const LABEL_VALUE_MAX = 100;
const ANNOTATIONS_MAX = 400;
const ANNOTATION_VALUE_MAX = 150;
const MORE_MAX = 300;
const RECEIVER_MAX = 100;
/** An alert's own summary inside its field. */
const ALERT_SUMMARY_MAX = 150;
/** A line is only cut when at least this much of it can be shown. */
const MIN_CUT_LINE = 20;
/** A detailed alert gets at least this much room, or fewer alerts are detailed. */
const MIN_ALERT_VALUE = 150;
const DEFAULT_MAX_ALERTS = 5;
/** Room kept free in the 6000 total for rounding in the per-alert budgets. */
const TOTAL_SLACK = 16;

/** Annotations rendered elsewhere (description, links, unit inference). */
const ANNOTATIONS_SHOWN_ELSEWHERE = new Set<string>(['summary', 'description', 'runbook_url', 'runbook', 'unit', ...Object.values(STEERING)]);

/** The spellings of a `severity` label each class stands for. */
const SEVERITY: Record<string, 'critical' | 'warning' | 'info'> = {
  critical: 'critical',
  crit: 'critical',
  error: 'critical',
  page: 'critical',
  high: 'critical',
  fatal: 'critical',
  emergency: 'critical',
  p1: 'critical',
  warning: 'warning',
  warn: 'warning',
  medium: 'warning',
  p2: 'warning',
  p3: 'warning',
  info: 'info',
  informational: 'info',
  notice: 'info',
  low: 'info',
  none: 'info',
  p4: 'info',
  p5: 'info',
};

/**
 * Renders the Discord message for one alert group: a single embed ordered for a phone (title,
 * summary, key labels, per-alert findings, links), within every Discord limit, that can never
 * ping anyone.
 */
export function renderAlertMessage(input: AlertMessageInput, warn: Warn): RESTPostAPIChannelMessageJSONBody {
  const locale = input.locale ?? 'en';
  const ctx: Ctx = { input, n: input.enriched.notification, warn, t: translator(locale), locale };
  const embed: APIEmbed = {
    title: title(ctx.n, input.state, ctx.t),
    color: color(ctx.n, input.state),
    description: description(ctx),
  };
  const url = safeUrl(ctx.n.alerts[0]?.generatorURL, input.grafanaUrl);
  if (url) embed.url = url;
  const startedAt = embedTimestamp(ctx);
  if (startedAt) embed.timestamp = startedAt.toISOString();
  embed.footer = { text: footer(ctx) };
  embed.fields = fields(ctx, embed);
  return fitMessage({ embeds: [embed], allowed_mentions: { parse: [] } }, warn, locale);
}

/** "🔥 FIRING: HostHighCpuLoad ×2", names cut so the suffix always shows. */
function title(n: Notification, state: AlertMessageInput['state'], t: T): string {
  const prefix = t(state === 'firing' ? 'alert.title.firing' : 'alert.title.resolved');
  const suffix = countSuffix(n);
  const room = EMBED_TITLE - codePointLength(prefix) - codePointLength(suffix);
  return prefix + truncate(escapeMarkdown(oneLine(alertNames(n, t))), room) + suffix;
}

export function countSuffix(n: Notification): string {
  const count = n.alerts.length + n.truncatedAlerts;
  return count > 1 ? ` ×${count}` : '';
}

/** The group's alertname, or the distinct names of its alerts. */
export function alertNames(n: Notification, t: T = translator()): string {
  const common = n.commonLabels.alertname || n.groupLabels.alertname;
  if (common) return common;
  const names = [...new Set(n.alerts.map((a) => a.labels.alertname).filter((x): x is string => !!x))];
  return names.length ? names.join(', ') : t('alert.name.fallback');
}

/** The severity class of a `severity` label value ("crit", "P1", "warn"...), undefined when unknown. */
export function severityClass(raw: string | undefined): 'critical' | 'warning' | 'info' | undefined {
  return SEVERITY[(raw ?? '').trim().toLowerCase()];
}

function severityOf(n: Notification): keyof typeof COLORS {
  return severityClass(n.commonLabels.severity ?? n.alerts[0]?.labels.severity) ?? 'unknown';
}

function color(n: Notification, state: AlertMessageInput['state']): number {
  return state === 'resolved' ? COLORS.resolved : COLORS[severityOf(n)];
}

/** Calls warn for a cut the renderer made on purpose to stay within the limits. */
function warnCut(ctx: Ctx, part: string): () => void {
  return () => ctx.warn('alert text shortened to fit the message', { part });
}

/** Summary, description, then when it started (or how long it lasted) and the query window. */
function description(ctx: Ctx): string {
  const { n, input, t } = ctx;
  const first = n.alerts[0];
  const summary = n.commonAnnotations.summary || first?.annotations.summary;
  const detail = n.commonAnnotations.description || first?.annotations.description;
  const text: string[] = [];
  if (summary) text.push(`**${show(oneLine(summary), SUMMARY_MAX, warnCut(ctx, 'summary'))}**`);
  if (detail && detail !== summary) text.push(show(detail.trim(), DESCRIPTION_MAX, warnCut(ctx, 'description')));
  const when: string[] = [];
  if (input.state === 'resolved') {
    const end = input.resolvedAt ?? latestEnd(n) ?? input.now;
    when.push(t('alert.when.resolvedAfter', { duration: formatDurationIn(ctx.locale, Math.max(0, end.getTime() - input.incidentStartedAt.getTime())) }));
  } else if (isRealDate(input.incidentStartedAt)) {
    // Without a start from the sender, the time Vigil heard of the alert is all there is: say so.
    const verb = n.alerts.length > 0 && n.alerts.every((a) => a.startsAtUnknown) ? 'alert.when.received' : 'alert.when.started';
    when.push(t(verb, { when: discordTimestamp(input.incidentStartedAt, 'R') }));
  }
  const window = queryWindow(input.enriched);
  if (window && isRealDate(window.start) && isRealDate(window.end))
    when.push(t('alert.when.window', { start: discordTimestamp(window.start, 't'), end: discordTimestamp(window.end, 't') }));
  const ack = input.acknowledged ? ackLine(input.acknowledged, t) : '';
  return [ack, text.join('\n'), when.join('\n')].filter(Boolean).join('\n\n');
}

/** How every language's acknowledgement line starts (the catalogs' `alert.ack.by`), so an edit finds the old one. */
const ACK_PREFIX = '👀 ';

/** "👀 Acknowledged by <@id> <t:…:R>": a mention in an embed names the user without pinging anyone. */
export function ackLine(ack: Acknowledgement, t: T = translator()): string {
  // Snowflakes only: anything else in the id could break out of the mention markup.
  const who = /^\d{1,20}$/.test(ack.userId) ? `<@${ack.userId}>` : t('alert.ack.someone');
  return t('alert.ack.by', { who, when: discordTimestamp(ack.at, 'R') });
}

/**
 * The embeds of an alert message as Discord holds them, with the acknowledgement line put at the
 * top of the first embed's description (replacing an earlier one), within every Discord limit;
 * without `ack`, the line taken out (the incident was given back).
 */
export function withAcknowledgement(embeds: readonly APIEmbed[], ack: Acknowledgement | undefined, warn: Warn, locale: Locale = 'en'): APIEmbed[] {
  if (!embeds.length) return [];
  const [first, ...rest] = structuredClone([...embeds]);
  const line = ack ? ackLine(ack, translator(locale)) : '';
  const previous = (first!.description ?? '')
    .split('\n\n')
    .filter((part) => !part.startsWith(ACK_PREFIX))
    .join('\n\n');
  // The body is cut, never the acknowledgement: it is what the edit is for.
  const room = EMBED_DESCRIPTION - codePointLength(line) - 2;
  const body = previous ? truncate(previous, room, () => warn('alert text shortened to fit the message', { part: 'acknowledgement' })) : '';
  first!.description = [line, body].filter(Boolean).join('\n\n');
  if (!first!.description) delete first!.description;
  return fitMessage({ embeds: [first!, ...rest] }, warn, locale).embeds;
}

function latestEnd(n: Notification): Date | undefined {
  const ends = n.alerts.map((a) => a.endsAt).filter(isRealDate);
  return ends.length ? new Date(Math.max(...ends.map((d) => d.getTime()))) : undefined;
}

/** The union of the enrichment windows. */
function queryWindow(e: EnrichedNotification): { start: Date; end: Date } | undefined {
  const windows = Object.values(e.enrichments).map((x) => x.window);
  if (!windows.length) return undefined;
  return {
    start: new Date(Math.min(...windows.map((w) => w.start.getTime()))),
    end: new Date(Math.max(...windows.map((w) => w.end.getTime()))),
  };
}

function embedTimestamp(ctx: Ctx): Date | undefined {
  const starts = ctx.n.alerts.map((a) => a.startsAt).filter(isRealDate);
  if (starts.length) return new Date(Math.min(...starts.map((d) => d.getTime())));
  return isRealDate(ctx.input.incidentStartedAt) ? ctx.input.incidentStartedAt : undefined;
}

function isPartial(e: EnrichedNotification): boolean {
  return Object.values(e.enrichments).some((x) => x.failures.length > 0);
}

/** Senders as the footer names them; `vigil` is Vigil's own watchdog. */
const SOURCE_NAMES: Record<Notification['source'], string> = { grafana: 'Grafana', alertmanager: 'Alertmanager', vigil: 'Vigil' };

/** "Alertmanager → discord-bot", plus a partial-enrichment note. Footers show no markdown. */
function footer(ctx: Ctx): string {
  const source = SOURCE_NAMES[ctx.n.source];
  const receiver = truncate(maskSecrets(oneLine(ctx.n.receiver)), RECEIVER_MAX);
  return `${source} → ${receiver}${isPartial(ctx.input.enriched) ? ` · ${ctx.t('alert.footer.partial')}` : ''}`;
}

/**
 * All fields: labels, one per shown alert, "+N more alerts", the context of the first alert that
 * has it (containers, host, logs), links, Explore links, other annotations.
 */
function fields(ctx: Ctx, embed: APIEmbed): APIEmbedField[] {
  const { n } = ctx;
  const labels = labelsField(ctx);
  const links = linksField(ctx);
  const notes = annotationsField(ctx);
  const context = contextFields(ctx);
  const contextList = () => [context.containers, context.host, context.logs, context.explore];
  const fixedCount = () => [labels, links, notes, ...contextList()].filter((f): f is APIEmbedField => !!f).length;
  const maxAlerts = Math.max(0, ctx.input.maxAlerts ?? DEFAULT_MAX_ALERTS);
  const single = n.alerts.length === 1;
  // A lone alert without findings needs no field of its own: the labels field already names it.
  let shown = single ? (hasDetails(ctx, n.alerts[0]) ? 1 : 0) : Math.min(maxAlerts, n.alerts.length);
  if (shown + fixedCount() + 1 > EMBED_FIELDS) shown = EMBED_FIELDS - fixedCount() - 1;
  const allNames = n.alerts.slice(0, shown).map((a, i) => alertFieldName(ctx, a, i));
  const room = (count: number) => {
    const more = moreField(ctx, single ? [] : n.alerts.slice(count));
    const budgetFields = [labels, more, ...contextList(), links, notes].filter((f): f is APIEmbedField => !!f);
    const nameFields = allNames.slice(0, count).map((name) => ({ name, value: '' }));
    return { more, remaining: EMBED_TOTAL - TOTAL_SLACK - totalLength([{ ...embed, fields: [...budgetFields, ...nameFields] }]) };
  };
  // The alerts' own findings come before their context: context fields go while even one alert would not fit.
  for (const key of CONTEXT_DROP_ORDER) {
    if (!shown || room(1).remaining >= MIN_ALERT_VALUE) break;
    if (!context[key]) continue;
    delete context[key];
    ctx.warn('alert context omitted to fit the message', { part: key });
  }
  let { more, remaining } = room(shown);
  // Fewer detailed alerts beat many unreadable ones: each keeps at least MIN_ALERT_VALUE characters.
  while (shown > 1 && remaining < shown * MIN_ALERT_VALUE) ({ more, remaining } = room(--shown));
  if (shown < allNames.length) ctx.warn('alert details omitted to fit the message', { part: 'alerts', omitted: allNames.length - shown });
  const names = allNames.slice(0, shown);
  const perAlert = names.map((name, i) => {
    const budget = Math.max(1, Math.min(EMBED_FIELD_VALUE, Math.floor(remaining / (shown - i))));
    const value = alertFieldValue(ctx, n.alerts[i]!, budget);
    remaining -= codePointLength(value);
    return { name, value };
  });
  return [labels, ...perAlert, more, context.containers, context.host, context.logs, links, context.explore, notes].filter((f): f is APIEmbedField => !!f);
}

function hasDetails(ctx: Ctx, alert: Alert | undefined): boolean {
  return !!alert && (!!ctx.input.enriched.enrichments[alert.fingerprint] || !!alert.values);
}

/** The group's labels (a single alert's own labels), key ones first, as many lines as fit. */
function labelsField(ctx: Ctx): APIEmbedField | undefined {
  const { n } = ctx;
  const labels = n.alerts.length === 1 ? n.alerts[0]!.labels : n.commonLabels;
  const keys = Object.keys(labels)
    .filter((k) => k !== 'alertname' && labels[k])
    .sort(byPriority);
  if (!keys.length) return undefined;
  const lines = keys.map((k) => `**${show(oneLine(k), LABEL_KEY_MAX)}**: ${show(oneLine(labels[k]!), LABEL_VALUE_MAX)}`);
  return { name: ctx.t(n.alerts.length === 1 ? 'alert.field.labels' : 'alert.field.commonLabels'), value: fitLines(ctx, lines, LABELS_MAX, 'labels') };
}

const MORE_LINES = { labels: 'alert.more.labels', annotations: 'alert.more.annotations' } as const;

/** Joins whole lines while they fit in `max`, ending with "+N more <what>" when some did not. */
function fitLines(ctx: Ctx, lines: string[], max: number, what: keyof typeof MORE_LINES): string {
  const more = (count: number) => ctx.t(MORE_LINES[what], { count });
  const out: string[] = [];
  let used = 0;
  for (let i = 0; i < lines.length; i++) {
    const len = codePointLength(lines[i]!) + (out.length ? 1 : 0);
    const rest = lines.length - i - 1;
    const reserve = rest > 0 ? codePointLength(`\n${more(rest + 1)}`) : 0;
    if (used + len + reserve > max) {
      ctx.warn('alert lines omitted to fit the message', { part: what, omitted: lines.length - i });
      out.push(more(lines.length - i));
      break;
    }
    out.push(lines[i]!);
    used += len;
  }
  return out.join('\n');
}

/** Annotations not shown elsewhere (never secret-looking or Grafana-internal ones). */
function annotationsField(ctx: Ctx): APIEmbedField | undefined {
  const { n } = ctx;
  const annotations = n.alerts.length === 1 ? n.alerts[0]!.annotations : n.commonAnnotations;
  const keys = Object.keys(annotations)
    .filter((k) => annotations[k] && !ANNOTATIONS_SHOWN_ELSEWHERE.has(k) && !isSecretKey(k) && !/^__.*__$/.test(k))
    .sort();
  if (!keys.length) return undefined;
  const lines = keys.map((k) => `**${show(oneLine(k), LABEL_KEY_MAX)}**: ${show(oneLine(annotations[k]!), ANNOTATION_VALUE_MAX)}`);
  return { name: ctx.t('alert.field.annotations'), value: fitLines(ctx, lines, ANNOTATIONS_MAX, 'annotations') };
}

/** Source, runbook, silence, dashboard and panel links that are http(s); whole links only. */
function linksField(ctx: Ctx): APIEmbedField | undefined {
  const { n, input, t } = ctx;
  const first = n.alerts[0];
  const base = input.grafanaUrl;
  const runbook = n.commonAnnotations.runbook_url || n.commonAnnotations.runbook || first?.annotations.runbook_url || first?.annotations.runbook;
  const silence = input.state === 'firing' ? ((n.alerts.length === 1 ? first?.silenceURL : undefined) ?? alertmanagerSilenceUrl(n)) : undefined;
  // Each link's name for the logs (English), and its label in the message's language.
  const candidates: [string, MessageKey, string | undefined][] = [
    ['Source', 'alert.link.source', safeUrl(first?.generatorURL, base)],
    ['Runbook', 'alert.link.runbook', safeUrl(runbook)],
    ['Silence', 'alert.link.silence', safeUrl(silence, base)],
    ['Dashboard', 'alert.link.dashboard', safeUrl(first?.dashboardURL, base)],
    first?.dashboardURL ? ['Rule dashboard', 'alert.link.ruleDashboard', steeredDashboard(ctx)] : ['Dashboard', 'alert.link.dashboard', steeredDashboard(ctx)],
    ['Panel', 'alert.link.panel', safeUrl(first?.panelURL, base)],
  ];
  const links: string[] = [];
  for (const [name, label, url] of candidates) {
    if (!url) continue;
    const link = markdownLink(t(label), url);
    if (codePointLength([...links, link].join(' · ')) > EMBED_FIELD_VALUE) {
      ctx.warn('alert link omitted to fit the message', { part: 'links', link: name });
      continue;
    }
    links.push(link);
  }
  return links.length ? { name: t('alert.field.links'), value: links.join(' · ') } : undefined;
}

/** Alertmanager's own "new silence" page pre-filled with the group's labels. */
function alertmanagerSilenceUrl(n: Notification): string | undefined {
  if (n.source !== 'alertmanager' || !n.externalURL) return undefined;
  const base = safeUrl(n.externalURL);
  if (!base) return undefined;
  const labels = Object.keys(n.groupLabels).some((k) => n.groupLabels[k]) ? n.groupLabels : n.commonLabels;
  const matchers = Object.entries(labels)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
  if (!matchers.length) return undefined;
  return `${base.replace(/\/+$/, '')}/#/silences/new?filter=${encodeURIComponent(`{${matchers.join(',')}}`)}`;
}

/** "+N more alerts" with the labels telling the hidden alerts apart. */
function moreField(ctx: Ctx, hidden: Alert[]): APIEmbedField | undefined {
  const { n } = ctx;
  const count = hidden.length + n.truncatedAlerts;
  if (!count) return undefined;
  const sender = SOURCE_NAMES[n.source];
  const note = n.truncatedAlerts ? `${ctx.t('alert.more.notSent', { count: n.truncatedAlerts, sender })} ` : '';
  const parts = hidden.map((a) => show(oneLine(distinguishing(n, a) || a.fingerprint), LABEL_VALUE_MAX));
  const value = (note + truncate(parts.join(', '), MORE_MAX)).trim();
  return { name: ctx.t('alert.field.moreAlerts', { count }), value: value || '…' };
}

function alertFieldName(ctx: Ctx, a: Alert, i: number): string {
  const { n, input } = ctx;
  const mark = a.status === 'resolved' && input.state === 'firing' ? '✅ ' : '';
  if (n.alerts.length === 1) return `${mark}${ctx.t('alert.field.findings')}`;
  const what = distinguishing(n, a) || a.labels.instance || a.fingerprint;
  return truncate(`${mark}${i + 1}. ${escapeMarkdown(maskSecrets(oneLine(what)))}`, ALERT_NAME_MAX);
}

/** One alert's findings within `budget`: summary, expression, target, failures, then logs. */
function alertFieldValue(ctx: Ctx, a: Alert, budget: number): string {
  const { n, input, t } = ctx;
  const e: AlertEnrichment | undefined = input.enriched.enrichments[a.fingerprint];
  const lines: string[] = [];
  const headline = n.commonAnnotations.summary || n.alerts[0]?.annotations.summary;
  if (n.alerts.length > 1 && a.annotations.summary && a.annotations.summary !== headline) {
    lines.push(show(oneLine(a.annotations.summary), ALERT_SUMMARY_MAX));
  }
  const unit = inferUnit(e?.expression?.expr || a.expr || '', a.annotations);
  if (e?.expression) lines.push(...expressionLines(e.expression, unit, input.state, t));
  else if (a.values && Object.keys(a.values).length) lines.push(valuesLine(a.values, t));
  if (e?.extraExpression) lines.push(...extraLines(e.extraExpression, input.state, t));
  const target = e?.target && targetLine(e.target, input.now, ctx.locale);
  if (target) lines.push(target);
  for (const f of e?.failures ?? []) lines.push(failureLine(f, t));
  // Grouped lines are shown in the Logs field; the raw newest lines only without patterns.
  const logs = e?.logs
    ? e.logPatterns
      ? { summary: patternSummary(e.logs, e.logPatterns, input.timeZone, t) }
      : logsText(e.logs, input.timeZone, t)
    : undefined;
  if (logs) lines.push(logs.summary);
  if (n.alerts.length > 1 && input.state === 'firing') {
    const silence = safeUrl(a.silenceURL, input.grafanaUrl);
    if (silence) lines.push(markdownLink(t('alert.link.silence'), silence));
  }
  if (!e && !a.values) lines.push(t('alert.finding.notEnriched'));
  else if (!lines.length) lines.push(t('alert.finding.nothing'));
  return assemble(ctx, lines, logs?.block, budget);
}

/**
 * Whole lines in order while they fit (the first that does not is cut, unless it holds a link),
 * then the log block in the room left, cut with its fence kept.
 */
function assemble(ctx: Ctx, lines: string[], block: string | undefined, budget: number): string {
  const out: string[] = [];
  let used = 0;
  let cut = false;
  for (const line of lines) {
    const room = budget - used - (out.length ? 1 : 0);
    if (codePointLength(line) <= room) {
      out.push(line);
      used += codePointLength(line) + (out.length > 1 ? 1 : 0);
      continue;
    }
    // A cut markdown link would be broken: leave it out whole.
    if (room >= MIN_CUT_LINE && !line.includes('](')) out.push(truncate(line, room));
    cut = true;
    break;
  }
  let text = out.join('\n');
  if (block && !cut) {
    const room = budget - codePointLength(text) - (text ? 1 : 0);
    const fitted = room >= MIN_CUT_LINE ? truncateCodeBlock(block, room) : '';
    if (fitted !== block) cut = true;
    if (fitted) text = text ? `${text}\n${fitted}` : fitted;
  }
  if (cut) warnCut(ctx, 'alert findings')();
  return text || truncate(lines[0] ?? '', budget);
}
