import type { APIEmbed } from 'discord-api-types/v10';
import { formatDurationIn, translator, type Locale, type T } from '../i18n/index.js';
import { COLORS, severityClass } from './alert.js';
import { escapeMarkdown, isRealDate } from './format.js';
import { EMBED_DESCRIPTION } from './limits.js';
import { codePointLength, truncate } from './truncate.js';

/** One firing alert, from Alertmanager or Prometheus. */
export interface FiringAlert {
  labels: Record<string, string>;
  /** When it started firing (Prometheus: when it became pending); undefined when unknown. */
  startsAt?: Date;
  /** Vigil's incident of it, when there is one: the route it went to, and who acknowledged it. */
  incident?: { route?: string; ackedBy?: string };
}

/** What `/alerts` shows. */
export interface AlertsOverview {
  firing: FiringAlert[];
  /** Alerts held back by a silence (Alertmanager only). */
  silenced: number;
  /** Alerts held back by an inhibition rule (Alertmanager only). */
  inhibited: number;
  /** Alerts waiting out their `for` (Prometheus only). */
  pending: number;
  /** Where the alerts came from: "Alertmanager", "Grafana Alertmanager" or "Prometheus". */
  source: string;
  now: Date;
  /** The language of the answer; default 'en'. */
  locale?: Locale;
}

/** Severity classes, in the order they are shown. */
export type Severity = 'critical' | 'warning' | 'info' | 'other';

/** Alerts of one name, as `/alerts` lists them. */
export interface AlertGroup {
  name: string;
  severity: Severity;
  alerts: FiringAlert[];
  /** Start of the oldest alert, when any start is known. */
  oldest?: Date;
}

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2, other: 3 };
/** The emoji of each severity class. */
export const SEVERITY_EMOJI: Record<Severity, string> = { critical: '🔴', warning: '🟠', info: '🔵', other: '⚪' };
/** The embed colour of each severity class. */
export const SEVERITY_COLOR: Record<Severity, number> = { critical: COLORS.critical, warning: COLORS.warning, info: COLORS.info, other: COLORS.unknown };
/** Labels naming where an alert fires, most telling first. */
const WHERE_LABELS = ['instance', 'pod', 'container', 'name', 'host', 'service', 'job'];
/** Instances listed per group before "+N more". */
const INSTANCES_SHOWN = 3;
const INSTANCE_MAX = 40;
const NAME_MAX = 80;
/** Room kept for the "…and N more groups" line. */
const MORE_RESERVE = 80;

/** The severity class of a label set's `severity` label. */
export function severityOf(labels: Record<string, string>): Severity {
  return severityClass(labels.severity) ?? 'other';
}

/** Groups alerts by alertname; most severe first, then the largest, then by name (`locale` names a group without one). */
export function groupAlerts(alerts: readonly FiringAlert[], locale: Locale = 'en'): AlertGroup[] {
  const byName = new Map<string, FiringAlert[]>();
  const unnamed = translator(locale)('commands.alerts.noAlertname');
  for (const a of alerts) {
    const name = a.labels.alertname ?? unnamed;
    byName.set(name, [...(byName.get(name) ?? []), a]);
  }
  const groups = [...byName].map(([name, list]): AlertGroup => {
    const severity = list.map((a) => severityOf(a.labels)).sort((x, y) => SEVERITY_RANK[x] - SEVERITY_RANK[y])[0]!;
    const starts = list
      .map((a) => a.startsAt)
      .filter(isRealDate)
      .map((d) => d.getTime());
    const sorted = [...list].sort((x, y) => (x.startsAt?.getTime() ?? Infinity) - (y.startsAt?.getTime() ?? Infinity));
    return { name, severity, alerts: sorted, ...(starts.length ? { oldest: new Date(Math.min(...starts)) } : {}) };
  });
  return groups.sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || b.alerts.length - a.alerts.length || a.name.localeCompare(b.name));
}

/**
 * What tells one alert of a group from the others: its instance-like label, else the labels that
 * differ within the group (all but alertname and severity for a lone alert); '' when nothing does.
 */
export function instanceOf(alert: FiringAlert, group: readonly FiringAlert[]): string {
  for (const key of WHERE_LABELS) {
    const value = alert.labels[key];
    if (value) return value;
  }
  return Object.entries(alert.labels)
    .filter(([k, v]) => k !== 'alertname' && k !== 'severity' && (group.length === 1 || group.some((o) => o.labels[k] !== v)))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** Inline code that no label value can break out of (backticks cannot be escaped inside a code span). */
export function inlineCode(text: string, max: number): string {
  return `\`${truncate(text.replace(/`/g, 'ˋ').replace(/[\r\n]+/g, ' '), max)}\``;
}

/** The language of one listing. */
interface Ctx {
  locale: Locale;
  t: T;
}

/** One or two lines for one group: severity, name, count, age; then a few instances, when they differ. */
function groupLines(group: AlertGroup, now: Date, ctx: Ctx): string {
  const { t } = ctx;
  const count = group.alerts.length > 1 ? ` ×${group.alerts.length}` : '';
  const age = group.oldest
    ? ` · ${t('commands.alerts.for', { duration: formatDurationIn(ctx.locale, Math.max(0, now.getTime() - group.oldest.getTime())) })}`
    : '';
  const head = `${SEVERITY_EMOJI[group.severity]} **${escapeMarkdown(truncate(group.name, NAME_MAX))}**${count}${age}${ownership(group.alerts, t)}`;
  const instances = [...new Set(group.alerts.map((a) => instanceOf(a, group.alerts)))].filter(Boolean);
  if (instances.length === 0) return head;
  const shown = instances.slice(0, INSTANCES_SHOWN).map((i) => inlineCode(i, INSTANCE_MAX));
  const more = instances.length > INSTANCES_SHOWN ? ` ${t('alert.more.items', { count: instances.length - INSTANCES_SHOWN })}` : '';
  return `${head}\n└ ${shown.join(' ')}${more}`;
}

/** Where a group's incidents went and who has them: " · → db · 👀 alice" ('' when Vigil has no incident of them). */
function ownership(alerts: readonly FiringAlert[], t: T): string {
  const known = alerts.map((a) => a.incident).filter((i): i is NonNullable<FiringAlert['incident']> => i !== undefined);
  if (known.length === 0) return '';
  const routes = [...new Set(known.map((i) => i.route).filter((r): r is string => r !== undefined))];
  const owners = [...new Set(known.map((i) => i.ackedBy).filter((o): o is string => o !== undefined))];
  const route = routes.length ? ` · → ${routes.map((r) => escapeMarkdown(r)).join(', ')}` : '';
  const unowned = known.length < alerts.length || known.some((i) => i.ackedBy === undefined);
  const who = owners.length
    ? ` · 👀 ${owners.map((o) => escapeMarkdown(truncate(o, INSTANCE_MAX))).join(', ')}${unowned ? ` ${t('commands.alerts.notAll')}` : ''}`
    : ` · ${t('commands.alerts.nobody')}`;
  return `${route}${who}`;
}

/**
 * The groups' lines (most severe first, as groupAlerts orders them) in at most `room` characters
 * joined by newlines; the groups that do not fit are counted in a last "…and N more groups" line.
 * In `locale` (default 'en').
 */
export function groupListing(groups: readonly AlertGroup[], now: Date, room: number, locale: Locale = 'en'): string[] {
  const ctx: Ctx = { locale, t: translator(locale) };
  const lines: string[] = [];
  let used = 0;
  let shownGroups = 0;
  for (const g of groups) {
    const text = groupLines(g, now, ctx);
    if (used + codePointLength(text) + 1 > room - MORE_RESERVE) break;
    lines.push(text);
    used += codePointLength(text) + 1;
    shownGroups++;
  }
  const hidden = groups.slice(shownGroups);
  if (hidden.length) {
    const alerts = hidden.reduce((n, g) => n + g.alerts.length, 0);
    lines.push(ctx.t('commands.alerts.moreGroups', { groups: hidden.length, alerts }));
  }
  return lines;
}

/** What is held back: "🔕 2 silenced · 1 inhibited · ⏳ 1 pending" ('' when nothing is). */
function heldText(o: AlertsOverview, t: T): string {
  return [
    o.silenced ? t('commands.alerts.silenced', { count: o.silenced }) : '',
    o.inhibited ? t('commands.alerts.inhibited', { count: o.inhibited }) : '',
    o.pending ? t('commands.alerts.pending', { count: o.pending }) : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

/**
 * Renders `/alerts`: one embed, groups ordered by severity then size, each with its emoji, name,
 * count, oldest age and a few instances; "✅ Nothing is firing." when nothing is.
 */
export function renderAlerts(o: AlertsOverview): { content?: string; embeds?: APIEmbed[] } {
  const locale = o.locale ?? 'en';
  const t = translator(locale);
  if (o.firing.length === 0) {
    const held = heldText(o, t);
    return { content: held ? t('commands.alerts.nothingFiringHeld', { held }) : t('commands.alerts.nothingFiring') };
  }
  const groups = groupAlerts(o.firing, locale);
  const lines = groupListing(groups, o.now, EMBED_DESCRIPTION, locale);
  const count = o.firing.length;
  const title = groups.length > 1 ? t('commands.alerts.titleGroups', { count, groups: groups.length }) : t('commands.alerts.title', { count });
  return {
    embeds: [
      {
        title,
        description: lines.join('\n'),
        color: SEVERITY_COLOR[groups[0]!.severity],
        footer: { text: [o.source, heldText(o, t)].filter(Boolean).join(' · ') },
      },
    ],
  };
}
