import type { APIEmbed, RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { formatDurationIn, translator, type Locale, type MessageKey, type T } from '../i18n/index.js';
import type { AlertStatus } from '../model.js';
import { escapeRegex } from '../queries/promql.js';
import { COLORS } from './alert.js';
import { groupAlerts, groupListing, inlineCode, instanceOf, SEVERITY_COLOR, SEVERITY_EMOJI, severityOf, type Severity } from './alerts.js';
import { discordTimestamp, escapeMarkdown, formatClock, zoneName } from './format.js';
import { EMBED_DESCRIPTION, EMBED_TOTAL, MESSAGE_EMBEDS } from './limits.js';
import { fitMessage, totalLength, truncate, utf16Length, type Warn } from './truncate.js';
import { stormContextEmbed, type StormLogVolume, type StormMetric } from './storm-context.js';

/** One alert of a storm, as the storm's messages show it. */
export interface StormAlertView {
  labels: Record<string, string>;
  status: AlertStatus;
  startsAt: Date;
}

/** What the storm message shows. */
export interface StormView {
  startedAt: Date;
  /** Set once the storm is over (no new incident for the quiet time). */
  endedAt?: Date;
  alerts: readonly StormAlertView[];
  /** Public addresses for links filtered to the storm's alerts. */
  alertmanagerUrl?: string;
  grafanaUrl?: string;
  /** Whether the details go to the message's thread (else as replies). */
  threads: boolean;
  /** What the metrics of its biggest alert names did (pipeline/storm-context.ts), over `metricsWindowMs`. */
  metrics?: readonly StormMetric[];
  metricsWindowMs?: number;
  /** What its alerts' error logs did over `metricsWindowMs` (one Loki query for all of them). */
  logs?: StormLogVolume;
  now: Date;
  /** The language of the channel's messages (the first route posting there); default 'en'. */
  locale?: Locale;
  /** The IANA zone of clock times where Discord's <t:…> cannot be (the footer): config `timezone`; default UTC. */
  timeZone?: string;
}

/** Severity classes, most severe first. */
const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'info', 'other'];
/** Alert names put in the filtered links (a URL stays short enough to open on a phone). */
const LINK_NAMES = 20;
/** Longest alert name put in a link (longer ones are left to the list). */
const LINK_NAME_MAX = 40;
/** Room kept in the description for the counts (the links are measured). */
const HEAD_RESERVE = 400;
/** Room kept in the 6000 total for the footer. */
const FOOTER_ROOM = 150;
/** Most alerts one details message names (fewer when their instances are long: as many as fit). */
export const STORM_DETAILS_PER_MESSAGE = 1000;
/** A line of comma-separated instances wraps before this many characters. */
const INSTANCE_LINE_MAX = 1000;
const DETAIL_NAME_MAX = 60;
const DETAIL_INSTANCE_MAX = 60;
/** Longest thread name Discord accepts. */
const STORM_THREAD_NAME_MAX = 100;

/**
 * The storm message: how many alerts fire and resolved, by severity, the groups ranked by
 * severity with their instances ("…and N more"), links filtered to them; one message edited in
 * place while the storm lasts.
 */
export function renderStormMessage(view: StormView, warn: Warn): RESTPostAPIChannelMessageJSONBody {
  const locale = view.locale ?? 'en';
  const t = translator(locale);
  const firing = view.alerts.filter((a) => a.status === 'firing');
  const resolved = view.alerts.length - firing.length;
  const groups = groupAlerts(
    firing.map((a) => ({ labels: a.labels, startsAt: a.startsAt })),
    locale,
  );
  const names = new Set(view.alerts.map((a) => a.labels.alertname ?? ''));
  const over = view.endedAt !== undefined;
  const title = over
    ? t('storm.title.over', { alerts: view.alerts.length, duration: formatDurationIn(locale, view.endedAt!.getTime() - view.startedAt.getTime()) })
    : t('storm.title.active', { firing: firing.length, groups: groups.length });
  const head = [
    t('storm.head', { firing: firing.length, resolved, names: names.size, since: discordTimestamp(view.startedAt, 't') }),
    severityCounts(firing, t),
  ].filter(Boolean);
  const links = stormLinks(view, [...names], t);
  const context = view.metrics?.length || view.logs?.sources ? stormContextEmbed(view.metrics ?? [], view.metricsWindowMs ?? 0, view.logs, locale) : undefined;
  // The counts, links and metrics are sized first: the listing takes what is left, so a link is never cut.
  const contextUnits = context ? totalLength([context], utf16Length) : 0;
  const room = Math.min(EMBED_DESCRIPTION, EMBED_TOTAL - contextUnits - title.length - FOOTER_ROOM) - HEAD_RESERVE - links.length;
  const listing = firing.length > 0 ? groupListing(groups, view.now, room, locale) : [t('storm.allResolved')];
  const description = [...head, '', ...listing, ...(links ? ['', links] : [])].join('\n');
  const color = over && firing.length === 0 ? COLORS.resolved : groups[0] ? SEVERITY_COLOR[groups[0].severity] : COLORS.resolved;
  const where = view.threads ? 'thread' : 'replies';
  // A footer cannot hold Discord's <t:…>: the clock in the configured zone, named.
  const zone = view.timeZone ?? 'UTC';
  const footer = over
    ? t('storm.footer.ended', { time: formatClock(view.endedAt!, zone, false), zone: zoneName(zone, view.endedAt!), where })
    : t('storm.footer.active', { where });
  const embed: APIEmbed = { title, description, color, footer: { text: footer }, timestamp: view.startedAt.toISOString() };
  return fitMessage({ embeds: context ? [embed, context] : [embed], allowed_mentions: { parse: [] } }, warn, locale);
}

/**
 * One details message of a storm: the first of `alerts` that fit (renderAlertBatch), numbered
 * within the storm. `named`: how many it names; the caller renders the rest into the next
 * message, so every alert is named once.
 */
export function renderStormDetails(
  alerts: readonly StormAlertView[],
  firstNumber: number,
  warn: Warn,
  locale: Locale = 'en',
): { body: RESTPostAPIChannelMessageJSONBody; named: number } {
  const t = translator(locale);
  return renderAlertBatch(alerts, firstNumber, (first, last) => t('storm.details.title', { first, last }), warn, locale);
}

/**
 * The name of a storm message's thread: when it started, as a clock time in the configured zone
 * (a thread name cannot hold Discord's <t:…>), the zone named. At most 100 characters.
 */
export function renderStormThreadName(startedAt: Date, timeZone = 'UTC', locale: Locale = 'en'): string {
  const date = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(startedAt);
  const name = translator(locale)('storm.thread.name', { date, time: formatClock(startedAt, timeZone, false), zone: zoneName(timeZone, startedAt) });
  return truncate(name, STORM_THREAD_NAME_MAX);
}

/**
 * A list of alerts in as few messages as Discord allows: the most of `alerts` (in order, at most
 * STORM_DETAILS_PER_MESSAGE) whose listing fits one message, grouped by state and alert name
 * (a line each: severity, name, count, since) with their instances comma-separated after it,
 * in embeds of up to EMBED_DESCRIPTION characters, all within EMBED_TOTAL, under a title naming
 * their numbers. `named`: how many it names, the caller renders the rest into the next message.
 * Storm details, and the roster of a big incident. `locale`: the language of the head lines
 * (`title` is the caller's, in the same language).
 */
export function renderAlertBatch(
  alerts: readonly StormAlertView[],
  firstNumber: number,
  title: (first: number, last: number) => string,
  warn: Warn,
  locale: Locale = 'en',
): { body: RESTPostAPIChannelMessageJSONBody; named: number } {
  const t = translator(locale);
  const head = alerts.slice(0, STORM_DETAILS_PER_MESSAGE);
  // A listing only grows with each alert: the longest prefix that fits, by bisection.
  let fits = Math.min(1, head.length);
  let over = head.length + 1;
  while (over - fits > 1) {
    const mid = Math.floor((fits + over) / 2);
    if (batchEmbeds(head.slice(0, mid), firstNumber, title, t)) fits = mid;
    else over = mid;
  }
  // One alert always fits: its name and instance are cut to DETAIL_NAME_MAX and DETAIL_INSTANCE_MAX.
  const embeds = batchEmbeds(head.slice(0, fits), firstNumber, title, t) ?? [];
  return { body: fitMessage({ embeds, allowed_mentions: { parse: [] } }, warn, locale), named: fits };
}

/** The embeds listing `alerts`, or undefined when they do not fit one message. */
function batchEmbeds(alerts: readonly StormAlertView[], firstNumber: number, title: (first: number, last: number) => string, t: T): APIEmbed[] | undefined {
  const heading = title(firstNumber, firstNumber + alerts.length - 1);
  const chunks: string[][] = [[]];
  let inChunk = 0;
  // UTF-16 units, never fewer than the code points Discord counts: these messages run up to the limits.
  let total = heading.length;
  for (const line of batchLines(alerts, t)) {
    const length = line.length + 1;
    total += length;
    if (total > EMBED_TOTAL) return undefined;
    if (inChunk + length > EMBED_DESCRIPTION) {
      if (chunks.length === MESSAGE_EMBEDS) return undefined;
      chunks.push([]);
      inChunk = 0;
    }
    chunks.at(-1)!.push(line);
    inChunk += length;
  }
  return chunks.map((lines, i) => ({ ...(i === 0 ? { title: heading } : {}), description: lines.join('\n'), color: COLORS.unknown }));
}

/** Rank of a line's state: critical first, resolved last. */
const STATE_RANK: Record<string, number> = { critical: 0, warning: 1, info: 2, other: 3, resolved: 4 };

/**
 * The alerts as lines: per state (severity, or resolved) and alert name, most severe first, a head
 * line (`🟠 **Name** ×3 · since 09:12`) and the instances after it, comma-separated, wrapped into
 * lines of at most INSTANCE_LINE_MAX characters.
 */
function batchLines(alerts: readonly StormAlertView[], t: T): string[] {
  const everyone = alerts.map((a) => ({ labels: a.labels }));
  const groups = new Map<string, { state: string; name: string; since: Date; count: number; instances: string[] }>();
  for (const a of alerts) {
    const state = a.status === 'resolved' ? 'resolved' : severityOf(a.labels);
    const name = a.labels.alertname ?? t('commands.alerts.noAlertname');
    const key = `${state}\u0000${name}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { state, name, since: a.startsAt, count: 0, instances: [] }));
    g.count++;
    if (a.startsAt < g.since) g.since = a.startsAt;
    const instance = instanceOf({ labels: a.labels }, everyone);
    if (instance) g.instances.push(escapeMarkdown(truncate(instance.replace(/[\r\n]+/g, ' '), DETAIL_INSTANCE_MAX)));
  }
  const lines: string[] = [];
  for (const g of [...groups.values()].sort((x, y) => STATE_RANK[x.state]! - STATE_RANK[y.state]!)) {
    const emoji = g.state === 'resolved' ? '✅' : SEVERITY_EMOJI[g.state as Severity];
    lines.push(
      t('storm.details.head', {
        emoji,
        name: escapeMarkdown(truncate(g.name, DETAIL_NAME_MAX)),
        count: g.count > 1 ? ` ×${g.count}` : '',
        since: discordTimestamp(g.since, 't'),
      }),
    );
    let line = '';
    for (const instance of g.instances) {
      if (line && line.length + 2 + instance.length > INSTANCE_LINE_MAX) {
        lines.push(line);
        line = '';
      }
      line = line ? `${line}, ${instance}` : instance;
    }
    if (line) lines.push(line);
  }
  return lines;
}

/** The closing summary: how long, how many, the top names and instances, how many still fire. */
export function renderStormSummary(view: StormView & { endedAt: Date }, warn: Warn): RESTPostAPIChannelMessageJSONBody {
  const locale = view.locale ?? 'en';
  const t = translator(locale);
  const firing = view.alerts.filter((a) => a.status === 'firing').length;
  const groups = groupAlerts(
    view.alerts.map((a) => ({ labels: a.labels, startsAt: a.startsAt })),
    locale,
  );
  const top = groups
    .slice(0, 5)
    .map((g) => {
      const instances = [...new Set(g.alerts.map((a) => instanceOf(a, g.alerts)))].filter(Boolean);
      const shown = instances.slice(0, 3).map((i) => inlineCode(i, 40));
      const more = instances.length > 3 ? ` ${t('alert.more.items', { count: instances.length - 3 })}` : '';
      return `${SEVERITY_EMOJI[g.severity]} **${escapeMarkdown(truncate(g.name, DETAIL_NAME_MAX))}** ×${g.alerts.length}${shown.length ? ` ${shown.join(' ')}` : ''}${more}`;
    })
    .join('\n');
  const duration = formatDurationIn(locale, view.endedAt.getTime() - view.startedAt.getTime());
  const content = [t('storm.summary', { duration, alerts: view.alerts.length, names: groups.length, firing }), top].filter(Boolean).join('\n');
  return fitMessage({ content, allowed_mentions: { parse: [] } }, warn, locale);
}

/** Each severity's count, in words. */
const SEVERITY_COUNT: Record<Severity, MessageKey> = {
  critical: 'storm.severity.critical',
  warning: 'storm.severity.warning',
  info: 'storm.severity.info',
  other: 'storm.severity.other',
};

/** "🔴 3 critical · 🟠 400 warning" ('' when nothing fires). */
function severityCounts(firing: readonly StormAlertView[], t: T): string {
  const by = new Map<Severity, number>();
  for (const a of firing) {
    const s = severityOf(a.labels);
    by.set(s, (by.get(s) ?? 0) + 1);
  }
  return SEVERITIES.filter((s) => by.has(s))
    .map((s) => t(SEVERITY_COUNT[s], { emoji: SEVERITY_EMOJI[s], count: by.get(s)! }))
    .join(' · ');
}

/** Links to Alertmanager's and Grafana's alert lists filtered to the storm's alert names. */
function stormLinks(view: StormView, names: string[], t: T): string {
  const shown = names
    .filter((n) => n.length <= LINK_NAME_MAX)
    .slice(0, LINK_NAMES)
    .map(escapeRegex)
    .join('|');
  if (shown === '') return '';
  const parts: string[] = [];
  if (view.alertmanagerUrl) {
    const filter = encodeURIComponent(`{alertname=~"${shown.replace(/["\\]/g, '\\$&')}"}`);
    parts.push(`[Alertmanager](${view.alertmanagerUrl.replace(/\/+$/, '')}/#/alerts?filter=${filter})`);
  }
  if (view.grafanaUrl) {
    parts.push(`[${t('storm.link.grafana')}](${view.grafanaUrl.replace(/\/+$/, '')}/alerting/list?search=${encodeURIComponent(`label:alertname=~${shown}`)})`);
  }
  return parts.join(' · ');
}

/** Every alert of `alerts` in as few messages as fit (renderAlertBatch, one after another). */
export function renderAlertRoster(
  alerts: readonly StormAlertView[],
  title: (first: number, last: number) => string,
  warn: Warn,
  locale: Locale = 'en',
): RESTPostAPIChannelMessageJSONBody[] {
  const bodies: RESTPostAPIChannelMessageJSONBody[] = [];
  let rest = alerts;
  let first = 1;
  while (rest.length > 0) {
    const { body, named } = renderAlertBatch(rest, first, title, warn, locale);
    bodies.push(body);
    rest = rest.slice(named);
    first += named;
  }
  return bodies;
}
