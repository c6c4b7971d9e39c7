import type { APIEmbed, APIEmbedField, RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { formatDuration } from '../config/duration.js';
import type { Alert, Notification } from '../model.js';
import {
  STEERING,
  type AlertEnrichment,
  type ContainerContextFinding,
  type EnrichedNotification,
  type ExpressionFinding,
  type HostContextFinding,
  type HostMeasure,
  type LogFinding,
  type LogLevelVolume,
  type LogPatternFinding,
  type LogVolumeFinding,
  type SeriesSummary,
  type TargetFinding,
} from '../findings.js';
import { dashboardUrl, DEFAULT_DATASOURCES, fitExploreLinks, type ExploreDatasources } from './explore.js';
import {
  discordTimestamp,
  escapeMarkdown,
  formatAgo,
  formatClockUtc,
  formatNumber,
  formatValue,
  inferUnit,
  isRealDate,
  isSecretKey,
  markdownLink,
  safeUrl,
  significant,
  type Unit,
} from './format.js';
import { maskSecrets } from './mask.js';
import { EMBED_DESCRIPTION, EMBED_FIELDS, EMBED_FIELD_VALUE, EMBED_TITLE, EMBED_TOTAL } from './limits.js';
import { codePointLength, fitMessage, totalLength, truncate, truncateCodeBlock, type Warn } from './truncate.js';

/** Embed colours by status and severity. */
export const COLORS = {
  critical: 0xe74c3c,
  warning: 0xe67e22,
  info: 0x3498db,
  resolved: 0x2ecc71,
  /** Firing with a severity label Vigil does not know (or none): grey-ish orange. */
  unknown: 0xb9936c,
} as const;

/** What `renderAlertMessage` needs. */
export interface AlertMessageInput {
  enriched: EnrichedNotification;
  state: 'firing' | 'resolved';
  incidentStartedAt: Date;
  resolvedAt?: Date;
  /** Base for relative Grafana links (generator, silence, dashboard, panel URLs). */
  grafanaUrl?: string;
  now: Date;
  /** Alerts that get a detail field each (config enrichment.maxAlerts); the rest are counted. Default 5. */
  maxAlerts?: number;
  /** Who acknowledged the incident (the Acknowledge button), shown at the top of the description. */
  acknowledged?: Acknowledgement;
  /** Datasource uids of the Grafana Explore links (config grafana.prometheusUid/lokiUid); the provisioned ones by default. */
  datasources?: ExploreDatasources;
}

/** An acknowledgement as the message shows it. */
export interface Acknowledgement {
  userId: string;
  at: Date;
}

/** What `renderResolvedReply` needs. */
export interface ResolvedReplyInput {
  notification: Notification;
  /** When the incident started. */
  startedAt: Date;
  resolvedAt: Date;
}

const SUMMARY_MAX = 300;
const DESCRIPTION_MAX = 700;
const LABELS_MAX = 600;
const LABEL_KEY_MAX = 60;
const LABEL_VALUE_MAX = 100;
const ANNOTATIONS_MAX = 400;
const ANNOTATION_VALUE_MAX = 150;
const MORE_MAX = 300;
const LOG_LINE_MAX = 200;
const ERROR_MAX = 200;
const RECEIVER_MAX = 100;
const SERIES_SHOWN = 3;
/** Series of the rule's extra expression shown per alert. */
const EXTRA_SERIES_SHOWN = 2;
/** Context fields (host, containers) stay short. */
const CONTEXT_FIELD_MAX = 400;
const MOUNTPOINT_MAX = 40;
const CONTAINER_NAME_MAX = 30;
const EVENTS_SHOWN = 4;
const LEVEL_MAX = 20;
const LEVELS_SHOWN = 4;
/** A rate within this factor of the usual one is "about the usual rate". */
const RATE_CHANGE = 1.5;
const PATTERNS_SHOWN = 5;
const PATTERN_MAX = 110;
const EXAMPLE_MAX = 150;
/** An alert's own summary inside its field. */
const ALERT_SUMMARY_MAX = 150;
/** The labels telling series apart, before their values. */
const SERIES_NAME_MAX = 40;
/** A line is only cut when at least this much of it can be shown. */
const MIN_CUT_LINE = 20;
/** Alert field names stay short enough for one line on a phone. */
const ALERT_NAME_MAX = 100;
/** A detailed alert gets at least this much room, or fewer alerts are detailed. */
const MIN_ALERT_VALUE = 150;
const DEFAULT_MAX_ALERTS = 5;
/** Room kept free in the 6000 total for rounding in the per-alert budgets. */
const TOTAL_SLACK = 16;

/** Labels shown first, in this order; the rest follow alphabetically. */
const LABEL_PRIORITY = ['severity', 'instance', 'job', 'namespace', 'pod', 'container', 'name', 'service', 'cluster', 'host', 'team', 'env'];
/** Annotations rendered elsewhere (description, links, unit inference). */
const ANNOTATIONS_SHOWN_ELSEWHERE = new Set<string>(['summary', 'description', 'runbook_url', 'runbook', 'unit', ...Object.values(STEERING)]);

/** The spellings of a `severity` label each class stands for. */
const SEVERITY: Record<string, 'critical' | 'warning' | 'info'> = {
  critical: 'critical', crit: 'critical', error: 'critical', page: 'critical', high: 'critical', fatal: 'critical', emergency: 'critical', p1: 'critical',
  warning: 'warning', warn: 'warning', medium: 'warning', p2: 'warning', p3: 'warning',
  info: 'info', informational: 'info', notice: 'info', low: 'info', none: 'info', p4: 'info', p5: 'info',
};

/** Shared state while one message is rendered. */
interface Ctx {
  input: AlertMessageInput;
  n: Notification;
  warn: Warn;
}

/**
 * Renders the Discord message for one alert group: a single embed ordered for a phone (title,
 * summary, key labels, per-alert findings, links), within every Discord limit, that can never
 * ping anyone.
 */
export function renderAlertMessage(input: AlertMessageInput, warn: Warn): RESTPostAPIChannelMessageJSONBody {
  const ctx: Ctx = { input, n: input.enriched.notification, warn };
  const embed: APIEmbed = {
    title: title(ctx.n, input.state),
    color: color(ctx.n, input.state),
    description: description(ctx),
  };
  const url = safeUrl(ctx.n.alerts[0]?.generatorURL, input.grafanaUrl);
  if (url) embed.url = url;
  const startedAt = embedTimestamp(ctx);
  if (startedAt) embed.timestamp = startedAt.toISOString();
  embed.footer = { text: footer(ctx) };
  embed.fields = fields(ctx, embed);
  return fitMessage({ embeds: [embed], allowed_mentions: { parse: [] } }, warn);
}

/** A short reply to the original alert message ("✅ Resolved: HostHighCpuLoad after 2m 5s"); the caller adds message_reference. */
export function renderResolvedReply(input: ResolvedReplyInput, warn: Warn): RESTPostAPIChannelMessageJSONBody {
  const took = formatDuration(Math.max(0, input.resolvedAt.getTime() - input.startedAt.getTime()));
  const content = `✅ Resolved: ${escapeMarkdown(oneLine(alertNames(input.notification)))}${countSuffix(input.notification)} after ${took}`;
  return fitMessage({ content, allowed_mentions: { parse: [], replied_user: false } }, warn);
}

/** A short reply naming alerts that started firing in an open incident ("🔥 Now firing: HostHighCpuLoad on db-host:9100"). */
export function renderFiringReply(alerts: readonly Alert[], warn: Warn): RESTPostAPIChannelMessageJSONBody {
  const names = alerts.map((a) => {
    const where = LABEL_PRIORITY.filter((k) => k !== 'severity' && k !== 'job').map((k) => a.labels[k]).find(Boolean);
    return escapeMarkdown(oneLine(`${a.labels.alertname || 'Alert'}${where ? ` on ${where}` : ''}`));
  });
  const content = `🔥 Now firing: ${names.join(', ') || 'no alerts'}`;
  return fitMessage({ content, allowed_mentions: { parse: [], replied_user: false } }, warn);
}

/** "🔥 FIRING: HostHighCpuLoad ×2", names cut so the suffix always shows. */
function title(n: Notification, state: AlertMessageInput['state']): string {
  const prefix = state === 'firing' ? '🔥 FIRING: ' : '✅ RESOLVED: ';
  const suffix = countSuffix(n);
  const room = EMBED_TITLE - codePointLength(prefix) - codePointLength(suffix);
  return prefix + truncate(escapeMarkdown(oneLine(alertNames(n))), room) + suffix;
}

function countSuffix(n: Notification): string {
  const count = n.alerts.length + n.truncatedAlerts;
  return count > 1 ? ` ×${count}` : '';
}

/** The group's alertname, or the distinct names of its alerts. */
function alertNames(n: Notification): string {
  const common = n.commonLabels.alertname || n.groupLabels.alertname;
  if (common) return common;
  const names = [...new Set(n.alerts.map((a) => a.labels.alertname).filter((x): x is string => !!x))];
  return names.length ? names.join(', ') : 'Alert';
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

/** A label value or annotation as shown: secrets scrubbed, markdown escaped, cut to `max`. */
function show(text: string, max: number, onCut?: () => void): string {
  return truncate(escapeMarkdown(maskSecrets(text)), max, onCut);
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ');
}

/** Calls warn for a cut the renderer made on purpose to stay within the limits. */
function warnCut(ctx: Ctx, part: string): () => void {
  return () => ctx.warn('alert text shortened to fit the message', { part });
}

/** Summary, description, then when it started (or how long it lasted) and the query window. */
function description(ctx: Ctx): string {
  const { n, input } = ctx;
  const first = n.alerts[0];
  const summary = n.commonAnnotations.summary || first?.annotations.summary;
  const detail = n.commonAnnotations.description || first?.annotations.description;
  const text: string[] = [];
  if (summary) text.push(`**${show(oneLine(summary), SUMMARY_MAX, warnCut(ctx, 'summary'))}**`);
  if (detail && detail !== summary) text.push(show(detail.trim(), DESCRIPTION_MAX, warnCut(ctx, 'description')));
  const when: string[] = [];
  if (input.state === 'resolved') {
    const end = input.resolvedAt ?? latestEnd(n) ?? input.now;
    when.push(`Resolved after ${formatDuration(Math.max(0, end.getTime() - input.incidentStartedAt.getTime()))}`);
  } else if (isRealDate(input.incidentStartedAt)) {
    // Without a start from the sender, the time Vigil heard of the alert is all there is: say so.
    const verb = n.alerts.length > 0 && n.alerts.every((a) => a.startsAtUnknown) ? 'Received' : 'Started';
    when.push(`${verb} ${discordTimestamp(input.incidentStartedAt, 'R')}`);
  }
  const window = queryWindow(input.enriched);
  if (window && isRealDate(window.start) && isRealDate(window.end)) when.push(`Window: ${discordTimestamp(window.start, 't')} – ${discordTimestamp(window.end, 't')}`);
  const ack = input.acknowledged ? ackLine(input.acknowledged) : '';
  return [ack, text.join('\n'), when.join('\n')].filter(Boolean).join('\n\n');
}

const ACK_PREFIX = '👀 Acknowledged by ';

/** "👀 Acknowledged by <@id> <t:…:R>": a mention in an embed names the user without pinging anyone. */
export function ackLine(ack: Acknowledgement): string {
  // Snowflakes only: anything else in the id could break out of the mention markup.
  const who = /^\d{1,20}$/.test(ack.userId) ? `<@${ack.userId}>` : 'someone';
  return `${ACK_PREFIX}${who} ${discordTimestamp(ack.at, 'R')}`;
}

/**
 * The embeds of an alert message as Discord holds them, with the acknowledgement line put at the
 * top of the first embed's description (replacing an earlier one), within every Discord limit.
 */
export function withAcknowledgement(embeds: readonly APIEmbed[], ack: Acknowledgement, warn: Warn): APIEmbed[] {
  if (!embeds.length) return [];
  const [first, ...rest] = structuredClone([...embeds]);
  const line = ackLine(ack);
  const previous = (first!.description ?? '').split('\n\n').filter((part) => !part.startsWith(ACK_PREFIX)).join('\n\n');
  // The body is cut, never the acknowledgement: it is what the edit is for.
  const room = EMBED_DESCRIPTION - codePointLength(line) - 2;
  const body = previous ? truncate(previous, room, () => warn('alert text shortened to fit the message', { part: 'acknowledgement' })) : '';
  first!.description = body ? `${line}\n\n${body}` : line;
  return fitMessage({ embeds: [first!, ...rest] }, warn).embeds;
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
  return `${source} → ${receiver}${isPartial(ctx.input.enriched) ? ' · ⚠️ partially enriched' : ''}`;
}

/** The context fields of a message (CONTEXT_DROP_ORDER says which go first when room is short). */
interface ContextFields {
  containers?: APIEmbedField;
  host?: APIEmbedField;
  logs?: APIEmbedField;
  explore?: APIEmbedField;
}

/** Which context field is given up first when the alerts' details would not fit. */
const CONTEXT_DROP_ORDER: readonly (keyof ContextFields)[] = ['explore', 'host', 'logs', 'containers'];

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
  return [labels, ...perAlert, more, context.containers, context.host, context.logs, links, context.explore, notes].filter(
    (f): f is APIEmbedField => !!f,
  );
}

function hasDetails(ctx: Ctx, alert: Alert | undefined): boolean {
  return !!alert && (!!ctx.input.enriched.enrichments[alert.fingerprint] || !!alert.values);
}

/** Sorts label keys: the priority ones first, then alphabetically. */
function byPriority(a: string, b: string): number {
  const pa = LABEL_PRIORITY.indexOf(a);
  const pb = LABEL_PRIORITY.indexOf(b);
  if (pa !== pb) return (pa < 0 ? Infinity : pa) - (pb < 0 ? Infinity : pb);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The group's labels (a single alert's own labels), key ones first, as many lines as fit. */
function labelsField(ctx: Ctx): APIEmbedField | undefined {
  const { n } = ctx;
  const labels = n.alerts.length === 1 ? n.alerts[0]!.labels : n.commonLabels;
  const keys = Object.keys(labels).filter((k) => k !== 'alertname' && labels[k]).sort(byPriority);
  if (!keys.length) return undefined;
  const lines = keys.map((k) => `**${show(oneLine(k), LABEL_KEY_MAX)}**: ${show(oneLine(labels[k]!), LABEL_VALUE_MAX)}`);
  return { name: n.alerts.length === 1 ? 'Labels' : 'Common labels', value: fitLines(ctx, lines, LABELS_MAX, 'labels') };
}

/** Joins whole lines while they fit in `max`, ending with "+N more <what>" when some did not. */
function fitLines(ctx: Ctx, lines: string[], max: number, what: string): string {
  const out: string[] = [];
  let used = 0;
  for (let i = 0; i < lines.length; i++) {
    const len = codePointLength(lines[i]!) + (out.length ? 1 : 0);
    const rest = lines.length - i - 1;
    const reserve = rest > 0 ? codePointLength(`\n+${rest + 1} more ${what}`) : 0;
    if (used + len + reserve > max) {
      ctx.warn('alert lines omitted to fit the message', { part: what, omitted: lines.length - i });
      out.push(`+${lines.length - i} more ${what}`);
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
  return { name: 'Annotations', value: fitLines(ctx, lines, ANNOTATIONS_MAX, 'annotations') };
}

/** Source, runbook, silence, dashboard and panel links that are http(s); whole links only. */
function linksField(ctx: Ctx): APIEmbedField | undefined {
  const { n, input } = ctx;
  const first = n.alerts[0];
  const base = input.grafanaUrl;
  const runbook = n.commonAnnotations.runbook_url || n.commonAnnotations.runbook || first?.annotations.runbook_url || first?.annotations.runbook;
  const silence = input.state === 'firing' ? (n.alerts.length === 1 ? first?.silenceURL : undefined) ?? alertmanagerSilenceUrl(n) : undefined;
  const candidates: [string, string | undefined][] = [
    ['Source', safeUrl(first?.generatorURL, base)],
    ['Runbook', safeUrl(runbook)],
    ['Silence', safeUrl(silence, base)],
    ['Dashboard', safeUrl(first?.dashboardURL, base)],
    [first?.dashboardURL ? 'Rule dashboard' : 'Dashboard', steeredDashboard(ctx)],
    ['Panel', safeUrl(first?.panelURL, base)],
  ];
  const links: string[] = [];
  for (const [label, url] of candidates) {
    if (!url) continue;
    const link = markdownLink(label, url);
    if (codePointLength([...links, link].join(' · ')) > EMBED_FIELD_VALUE) {
      ctx.warn('alert link omitted to fit the message', { part: 'links', link: label });
      continue;
    }
    links.push(link);
  }
  return links.length ? { name: 'Links', value: links.join(' · ') } : undefined;
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
  const note = n.truncatedAlerts ? `(${n.truncatedAlerts} not sent by ${sender}) ` : '';
  const parts = hidden.map((a) => show(oneLine(distinguishing(n, a) || a.fingerprint), LABEL_VALUE_MAX));
  const value = (note + truncate(parts.join(', '), MORE_MAX)).trim();
  return { name: `+${count} more alert${count === 1 ? '' : 's'}`, value: value || '…' };
}

/** The labels that set an alert apart from the group ("instance=db-host:9100"), alertname first when it differs. */
function distinguishing(n: Notification, a: Alert): string {
  const keys = Object.keys(a.labels)
    .filter((k) => a.labels[k] && n.commonLabels[k] !== a.labels[k])
    .sort((x, y) => (x === 'alertname' ? -1 : y === 'alertname' ? 1 : byPriority(x, y)));
  return keys.map((k) => (k === 'alertname' ? a.labels[k]! : `${k}=${a.labels[k]}`)).join(', ');
}

function alertFieldName(ctx: Ctx, a: Alert, i: number): string {
  const { n, input } = ctx;
  const mark = a.status === 'resolved' && input.state === 'firing' ? '✅ ' : '';
  if (n.alerts.length === 1) return `${mark}Findings`;
  const what = distinguishing(n, a) || a.labels.instance || a.fingerprint;
  return truncate(`${mark}${i + 1}. ${escapeMarkdown(maskSecrets(oneLine(what)))}`, ALERT_NAME_MAX);
}

/** One alert's findings within `budget`: summary, expression, target, failures, then logs. */
function alertFieldValue(ctx: Ctx, a: Alert, budget: number): string {
  const { n, input } = ctx;
  const e: AlertEnrichment | undefined = input.enriched.enrichments[a.fingerprint];
  const lines: string[] = [];
  const headline = n.commonAnnotations.summary || n.alerts[0]?.annotations.summary;
  if (n.alerts.length > 1 && a.annotations.summary && a.annotations.summary !== headline) {
    lines.push(show(oneLine(a.annotations.summary), ALERT_SUMMARY_MAX));
  }
  const unit = inferUnit(e?.expression?.expr || a.expr || '', a.annotations);
  if (e?.expression) lines.push(...expressionLines(e.expression, unit, input.state));
  else if (a.values && Object.keys(a.values).length) lines.push(valuesLine(a.values));
  if (e?.extraExpression) lines.push(...extraLines(e.extraExpression, input.state));
  const target = e?.target && targetLine(e.target, input.now);
  if (target) lines.push(target);
  for (const f of e?.failures ?? []) lines.push(`⚠️ ${show(oneLine(f.what), 40)} unavailable: ${show(oneLine(f.message), ERROR_MAX)}`);
  // Grouped lines are shown in the Logs field; the raw newest lines only without patterns.
  const logs = e?.logs ? (e.logPatterns ? { summary: patternSummary(e.logs, e.logPatterns) } : logsText(e.logs)) : undefined;
  if (logs) lines.push(logs.summary);
  if (n.alerts.length > 1 && input.state === 'firing') {
    const silence = safeUrl(a.silenceURL, input.grafanaUrl);
    if (silence) lines.push(markdownLink('Silence', silence));
  }
  if (!e && !a.values) lines.push('Not enriched');
  else if (!lines.length) lines.push('Nothing found for this alert');
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

/** "start 93.1% → peak 97.3% (at <t:…:t>) → now 95.0%" per series, at most SERIES_SHOWN. */
function expressionLines(finding: ExpressionFinding, unit: Unit, state: AlertMessageInput['state']): string[] {
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

function seriesLine(s: SeriesSummary, unit: Unit, state: AlertMessageInput['state']): string {
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
function valuesLine(values: Record<string, number>): string {
  return `Values: ${Object.entries(values).map(([k, v]) => `${escapeMarkdown(k)} = ${formatNumber(v)}`).join(', ')}`;
}

/** "Target: up 100% of window" or "🔻 Target DOWN: <lastError>, last scrape 2m ago, took 12ms". */
function targetLine(t: TargetFinding, now: Date): string | undefined {
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
function logsText(logs: LogFinding): { summary: string; block?: string } {
  if (logs.count === 0 || !logs.lines.length) return { summary: logs.count ? `Logs: ${logs.count}${logs.capped ? '+' : ''} matching lines` : 'Logs: no matching lines' };
  const count = `${logs.count}${logs.capped ? '+' : ''}`;
  const summary = `Logs: ${count} matching line${logs.count === 1 ? '' : 's'}, newest first`;
  const body = logs.lines.map((l) => `${isRealDate(l.at) ? formatClockUtc(l.at) : '--:--:--'} ${truncate(cleanLogLine(l.line), LOG_LINE_MAX)}`);
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
function extraLines(finding: ExpressionFinding, state: AlertMessageInput['state']): string[] {
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

/** "Logs: 57 matching lines in 4 patterns": the patterns themselves are in the Logs field. */
function patternSummary(logs: LogFinding, patterns: LogPatternFinding): string {
  const count = `${logs.count}${logs.capped ? '+' : ''}`;
  return `Logs: ${count} matching line${logs.count === 1 ? '' : 's'} in ${patterns.distinct} pattern${patterns.distinct === 1 ? '' : 's'}`;
}

/** The link of the rule's `vigil_dashboard`, over the first alert's window. */
function steeredDashboard(ctx: Ctx): string | undefined {
  const base = ctx.input.grafanaUrl;
  if (!base) return undefined;
  const e = ctx.n.alerts.map((a) => ctx.input.enriched.enrichments[a.fingerprint]).find((x) => x?.dashboardUid);
  const url = e?.dashboardUid ? dashboardUrl(base, e.dashboardUid, e.window) : undefined;
  return safeUrl(url);
}

/** The first shown alert (in the group's order) whose enrichment has `key`, with that finding. */
function firstWith<K extends keyof AlertEnrichment>(ctx: Ctx, key: K): { alert: Alert; value: NonNullable<AlertEnrichment[K]> } | undefined {
  for (const alert of ctx.n.alerts) {
    const value = ctx.input.enriched.enrichments[alert.fingerprint]?.[key];
    if (value !== undefined && value !== null) return { alert, value: value as NonNullable<AlertEnrichment[K]> };
  }
  return undefined;
}

/** " · <what sets the alert apart>" in a group of several alerts, so a context field says whose it is. */
function whose(ctx: Ctx, alert: Alert): string {
  if (ctx.n.alerts.length === 1) return '';
  const what = distinguishing(ctx.n, alert);
  return what ? ` · ${escapeMarkdown(maskSecrets(oneLine(what)))}` : '';
}

/** The containers, host, logs and Explore fields, each from the first alert that has the finding. */
function contextFields(ctx: Ctx): ContextFields {
  const out: ContextFields = {};
  const containers = firstWith(ctx, 'containerContext');
  if (containers) out.containers = containersField(containers.value);
  const host = firstWith(ctx, 'hostContext');
  if (host) out.host = hostField(host.value);
  const patterns = firstWith(ctx, 'logPatterns');
  const volume = firstWith(ctx, 'logVolume');
  const logsOf = patterns?.alert ?? volume?.alert;
  if (logsOf) {
    const e = ctx.input.enriched.enrichments[logsOf.fingerprint]!;
    const field = logsField(ctx, e.logVolume, e.logPatterns, whose(ctx, logsOf));
    if (field) out.logs = field;
  }
  const explore = firstWith(ctx, 'exploreLinks');
  if (explore && ctx.input.grafanaUrl) {
    const fitted = fitExploreLinks(ctx.input.grafanaUrl, explore.value, ctx.input.datasources ?? DEFAULT_DATASOURCES, EMBED_FIELD_VALUE);
    for (const link of fitted.links.filter((l) => !l.withQuery)) ctx.warn('explore link without its query to fit the message', { part: 'explore', link: link.label });
    for (const label of fitted.omitted) ctx.warn('alert link omitted to fit the message', { part: 'explore', link: label });
    if (fitted.text) out.explore = { name: `🔎 Explore${whose(ctx, explore.alert)}`, value: fitted.text };
  }
  return out;
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
function hostField(h: HostContextFinding): APIEmbedField {
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
function containersField(c: ContainerContextFinding): APIEmbedField {
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
function volumeLine(v: LogLevelVolume, windowText: string): string {
  const level = v.level ? show(oneLine(v.level), LEVEL_MAX) : 'unlabelled';
  const lines = `${formatNumber(v.count)} line${v.count === 1 ? '' : 's'} in ${windowText}`;
  if (v.ratio === undefined) return `**${level}** ${lines}, none in the hour before`;
  const rate = v.ratio >= 1 / RATE_CHANGE && v.ratio <= RATE_CHANGE ? 'about the usual rate' : `${formatRatio(v.ratio)} the usual rate`;
  return v.ratio > RATE_CHANGE ? `**${level}** ${lines}, ${rate}` : `${level} ${lines}, ${rate}`;
}

/** The log window as people say it: whole minutes from a minute up. */
function windowText(seconds: number): string {
  return formatDuration((seconds >= 60 ? Math.round(seconds / 60) * 60 : seconds) * 1000);
}

/** One pattern in the code block: "×38 <pattern>" then the newest example, or the line alone when it is the only one. */
function patternLines(p: LogPatternFinding['patterns'][number], withSource: boolean): string[] {
  const source = withSource && p.source ? `${cleanLogLine(p.source)}: ` : '';
  const time = isRealDate(p.exampleAt) ? formatClockUtc(p.exampleAt) : '--:--:--';
  const example = truncate(cleanLogLine(p.example), EXAMPLE_MAX);
  if (p.count === 1) return [`×1 ${source}${time} ${example}`];
  return [`×${p.count} ${source}${truncate(cleanLogLine(p.pattern), PATTERN_MAX)}`, `   ${time} ${example}`];
}

/**
 * "📜 Logs": the volume by level against the usual rate, then the top patterns with counts and
 * one example each in a code block, whole patterns while they fit, "+N more patterns" after.
 */
function logsField(ctx: Ctx, volume: LogVolumeFinding | undefined, patterns: LogPatternFinding | undefined, suffix: string): APIEmbedField | undefined {
  const head = volume ? volume.levels.slice(0, LEVELS_SHOWN).map((v) => volumeLine(v, windowText(volume.windowSeconds))) : [];
  const text = head.join('\n');
  const candidates = (patterns?.patterns ?? []).slice(0, PATTERNS_SHOWN);
  const withSource = new Set(candidates.map((p) => p.source ?? '')).size > 1;
  const distinct = patterns?.distinct ?? 0;
  const block = (lines: readonly string[]) => (lines.length ? `\`\`\`\n${lines.join('\n')}\n\`\`\`` : '');
  const room = EMBED_FIELD_VALUE - codePointLength(text) - 1 - codePointLength(`\n+${distinct} more patterns`);
  let lines: string[] = [];
  let shown = 0;
  for (const p of candidates) {
    const next = [...lines, ...patternLines(p, withSource)];
    if (codePointLength(block(next)) > room) break;
    lines = next;
    shown++;
  }
  if (shown < candidates.length) ctx.warn('log patterns omitted to fit the message', { part: 'logs', omitted: candidates.length - shown });
  const hidden = distinct - shown;
  const value = [text, block(lines), hidden > 0 ? `+${hidden} more pattern${hidden === 1 ? '' : 's'}` : ''].filter(Boolean).join('\n');
  return value ? { name: `📜 Logs${suffix}`, value: truncate(value, EMBED_FIELD_VALUE) } : undefined;
}
