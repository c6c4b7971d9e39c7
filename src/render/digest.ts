import type { APIEmbed, APIEmbedField } from 'discord-api-types/v10';
import { formatDurationIn, translator, type Locale, type MessageKey, type T } from '../i18n/index.js';
import type { DeliveryStats, IncidentStats, MeanDuration } from '../model.js';
import { groupAlerts, inlineCode, SEVERITY_EMOJI } from './alerts.js';
import { discordTimestamp, escapeMarkdown, formatValue } from './format.js';
import { maskSecrets } from './mask.js';
import { EMBED_FIELD_VALUE } from './limits.js';
import { codePointLength, fitMessage, truncate, type Warn } from './truncate.js';

/** A scrape target that was down at some point of the window. */
export interface DownTarget {
  /** '' when the target has no job label (shown as such). */
  job: string;
  /** '' when the target has no instance label. */
  instance: string;
  /** `up == 0` at the end of the window. */
  downNow: boolean;
  /** Share of the window's scrapes that succeeded, 0..1 (avg_over_time(up)). */
  availability?: number;
}

/** Free space of a host's fullest filesystem and its free memory, now. */
export interface HostHeadroom {
  /** '' when the series have no instance label. */
  instance: string;
  disk?: { mountpoint: string; freeRatio: number; freeBytes: number };
  memory?: { freeRatio: number; freeBytes: number };
}

/** A part of the digest that comes from Prometheus: its data, or why Prometheus could not give it. */
export type Section<T> = { ok: true; value: T } | { ok: false; error: string };

/** The snapshot job as the digest reports it. */
export interface SnapshotSummary {
  /** The last finished run, if any. */
  last?: { at: Date; ok: boolean; snapshot?: string; error?: string; kept?: number; pruned?: number };
  /** Runs in the window, by outcome. */
  succeeded: number;
  failed: number;
  /** False when snapshots.dataDir is not set: nothing is pruned. */
  pruning: boolean;
  retain: number;
}

/** Everything one digest shows. */
export interface DigestInput {
  /** End of the window (when the digest was made) and its start. */
  now: Date;
  from: Date;
  /** The digest's time zone (its title date). */
  timezone: string;
  incidents: IncidentStats;
  deliveries: DeliveryStats;
  targets: Section<DownTarget[]>;
  headroom: Section<HostHeadroom[]>;
  /** Undefined when snapshots are not configured. */
  snapshots?: SnapshotSummary;
  /** The digest's language (config `locale`); default 'en'. */
  locale?: Locale;
}

/** What the parts of the digest share: its language. */
interface Ctx {
  t: T;
  locale: Locale;
}

/** Lines listed before "+N more". */
export const MAX_LISTED = 10;
/** Free disk or memory below this share is red. */
export const RED_BELOW = 0.1;
/** Free disk or memory below this share is amber. */
export const AMBER_BELOW = 0.2;
const RED = 0xe74c3c;
const AMBER = 0xf1c40f;
const GREEN = 0x2ecc71;
const NAME_MAX = 60;
const INSTANCE_MAX = 40;
const ERROR_MAX = 300;

const percent = (ratio: number) => formatValue(ratio * 100, 'percent');
const bytes = (n: number) => formatValue(n, 'bytes');
const safeError = (text: string) => escapeMarkdown(truncate(maskSecrets(text.replace(/\s+/g, ' ')), ERROR_MAX));

/** "Sat 21 Nov" ("11월 21일 (토)" in Korean) in the digest's time zone. */
function dayTitle(now: Date, timeZone: string, locale: Locale): string {
  if (locale === 'en') return new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', day: 'numeric', month: 'short' }).format(now).replace(',', '');
  return new Intl.DateTimeFormat(locale, { timeZone, weekday: 'short', day: 'numeric', month: 'long' }).format(now);
}

/** A mean time's line: its message with a mean, and without one. */
function meanLine(d: MeanDuration, [none, some]: readonly [MessageKey, MessageKey], { t, locale }: Ctx): string {
  if (d.meanMs === undefined) return t(none);
  return t(some, { duration: formatDurationIn(locale, d.meanMs), count: d.count });
}

/** The summary: counts, what is firing now, mean times to acknowledge and to resolve. */
function summary(i: IncidentStats, from: Date, ctx: Ctx): string {
  const { t } = ctx;
  const firing = i.alertsFiring > 0 ? t('digest.summary.firing', { firing: i.alertsFiring, open: i.incidentsOpen }) : t('digest.summary.calm');
  return [
    t('digest.summary.window', { since: discordTimestamp(from, 'f') }),
    t('digest.summary.counts', { fired: i.alertsFired, resolved: i.alertsResolved, opened: i.incidentsOpened }),
    firing,
    meanLine(i.timeToAck, ['digest.mean.noAck', 'digest.mean.ack'], ctx),
    meanLine(i.timeToResolve, ['digest.mean.noResolve', 'digest.mean.resolve'], ctx),
  ].join('\n');
}

function noisiestField(i: IncidentStats, t: T): APIEmbedField | undefined {
  if (i.noisiest.length === 0) return undefined;
  const lines = i.noisiest.map(
    (r, n) =>
      `${n + 1}. **${escapeMarkdown(truncate(r.alertname || t('commands.alerts.noAlertname'), NAME_MAX))}** · ${t('digest.noisiest.alerts', { count: r.count })}`,
  );
  return { name: t('digest.noisiest.name'), value: lines.join('\n') };
}

/** Who has an open incident, as a list line shows it: "👀 alice", or that nobody does (in `t`'s language, default English). */
export function ownerText(ackedBy: string | undefined, t: T = translator('en')): string {
  return ackedBy ? `👀 ${escapeMarkdown(truncate(ackedBy, NAME_MAX))}` : t('commands.alerts.nobody');
}

/** The open incidents, newest first: severity, names, since when, the route it went to and who has it. */
function openField(i: IncidentStats, { t, locale }: Ctx): APIEmbedField | undefined {
  if (i.open.length === 0) return undefined;
  const lines = i.open.map((o) => {
    const groups = groupAlerts(
      o.firing.map((labels) => ({ labels })),
      locale,
    );
    const names = groups.map((g) => `${escapeMarkdown(truncate(g.name, NAME_MAX))}${g.alerts.length > 1 ? ` ×${g.alerts.length}` : ''}`).join(', ');
    const route = o.route ? ` · → ${escapeMarkdown(o.route)}` : '';
    const since = t('digest.open.since', { since: discordTimestamp(o.startedAt, 'R') });
    return `${SEVERITY_EMOJI[groups[0]?.severity ?? 'other']} **${names || t('digest.open.noneFiring')}** · ${since}${route} · ${ownerText(o.ackedBy, t)}`;
  });
  return { name: t('digest.open.name'), value: listed(lines, (count) => t('digest.open.more', { count })) };
}

/** Room kept at the end of a list field for its "+N more" line. */
const MORE_RESERVE = 60;

/**
 * Up to MAX_LISTED lines that fit in one field value, then "+N more <what>" for the rest, so a
 * long list never loses its count to a cut.
 */
function listed(lines: readonly string[], more: (count: number) => string): string {
  const shown: string[] = [];
  let length = 0;
  for (const line of lines.slice(0, MAX_LISTED)) {
    const next = length + codePointLength(line) + 1;
    if (next > EMBED_FIELD_VALUE - MORE_RESERVE) break;
    shown.push(line);
    length = next;
  }
  const rest = lines.length - shown.length;
  return [...shown, ...(rest > 0 ? [more(rest)] : [])].join('\n');
}

/** An instance as inline code, or that there is none. */
function instanceText(instance: string, t: T): string {
  return instance ? inlineCode(instance, INSTANCE_MAX) : t('digest.noInstance');
}

/** Down now first, then the least available. */
function targetLine(target: DownTarget, t: T): string {
  const state = target.downNow ? '🔴' : '🟠';
  const now = target.downNow ? t('digest.targets.downNow') : t('digest.targets.recovered');
  const up = target.availability === undefined ? '' : ` · ${t('digest.targets.up', { percent: percent(target.availability) })}`;
  const job = target.job ? escapeMarkdown(truncate(target.job, NAME_MAX)) : t('commands.health.noJob');
  return `${state} **${job}** ${instanceText(target.instance, t)} · ${now}${up}`;
}

function targetsField(s: Section<DownTarget[]>, t: T): APIEmbedField {
  const name = t('digest.targets.name');
  if (!s.ok) return { name, value: t('digest.prometheusFailed', { error: safeError(s.error) }) };
  if (s.value.length === 0) return { name, value: t('digest.targets.allUp') };
  const sorted = [...s.value].sort(
    (a, b) => Number(b.downNow) - Number(a.downNow) || (a.availability ?? 0) - (b.availability ?? 0) || a.instance.localeCompare(b.instance),
  );
  return {
    name,
    value: listed(
      sorted.map((target) => targetLine(target, t)),
      (count) => t('digest.targets.more', { count }),
    ),
  };
}

/** The smaller of a host's free disk and free memory shares (1 when neither is known). */
function tightest(h: HostHeadroom): number {
  return Math.min(h.disk?.freeRatio ?? 1, h.memory?.freeRatio ?? 1);
}

function headroomEmoji(ratio: number): string {
  return ratio < RED_BELOW ? '🔴' : ratio < AMBER_BELOW ? '🟠' : '🟢';
}

function hostLine(h: HostHeadroom, t: T): string {
  const parts: string[] = [];
  if (h.disk)
    parts.push(
      t('digest.headroom.disk', {
        percent: percent(h.disk.freeRatio),
        bytes: bytes(h.disk.freeBytes),
        mountpoint: inlineCode(h.disk.mountpoint, INSTANCE_MAX),
      }),
    );
  if (h.memory) parts.push(`🧠 ${percent(h.memory.freeRatio)} (${bytes(h.memory.freeBytes)})`);
  return `${headroomEmoji(tightest(h))} ${instanceText(h.instance, t)} ${parts.join(' · ')}`;
}

function headroomField(s: Section<HostHeadroom[]>, t: T): APIEmbedField {
  const name = t('digest.headroom.name');
  if (!s.ok) return { name, value: t('digest.prometheusFailed', { error: safeError(s.error) }) };
  if (s.value.length === 0) return { name, value: t('digest.headroom.noHosts') };
  const sorted = [...s.value].sort((a, b) => tightest(a) - tightest(b) || a.instance.localeCompare(b.instance));
  return {
    name,
    value: listed(
      sorted.map((h) => hostLine(h, t)),
      (count) => t('digest.headroom.more', { count }),
    ),
  };
}

function snapshotField(s: SnapshotSummary, t: T): APIEmbedField {
  const name = t('digest.snapshots.name');
  const lines: string[] = [];
  const last = s.last;
  if (!last) lines.push(t('digest.snapshots.none'));
  else if (last.ok) {
    const kept = s.pruning && last.kept !== undefined ? ` · ${t('digest.snapshots.kept', { kept: last.kept, pruned: last.pruned ?? 0 })}` : '';
    lines.push(`✅ ${inlineCode(last.snapshot ?? '?', INSTANCE_MAX)} ${discordTimestamp(last.at, 'R')}${kept}`);
  } else {
    lines.push(t('digest.snapshots.lastFailed', { when: discordTimestamp(last.at, 'R'), error: safeError(last.error ?? t('digest.snapshots.unknownError')) }));
  }
  if (s.failed > 0) lines.push(t('digest.snapshots.failedRuns', { failed: s.failed, succeeded: s.succeeded }));
  if (!s.pruning) lines.push(t('digest.snapshots.pruningOff', { retain: s.retain }));
  return { name, value: lines.join('\n') };
}

function footer(d: DeliveryStats, t: T): string {
  const failed = d.failed > 0 ? t('digest.footer.failed', { count: d.failed }) : '';
  const waiting = d.pending > 0 ? t('digest.footer.waiting', { count: d.pending }) : '';
  return t('digest.footer', { webhooks: d.webhooksReceived, sent: d.sent, failed, waiting });
}

/** Red: a target down now, a host under 10% free or a failed snapshot; amber: alerts or tight room; green otherwise. */
function colorOf(input: DigestInput): number {
  const downNow = input.targets.ok && input.targets.value.some((t) => t.downNow);
  const tight = input.headroom.ok ? Math.min(1, ...input.headroom.value.map(tightest)) : 1;
  const snapshotFailed = input.snapshots !== undefined && (input.snapshots.failed > 0 || input.snapshots.last?.ok === false);
  if (downNow || tight < RED_BELOW || snapshotFailed) return RED;
  const trouble = input.incidents.alertsFired > 0 || input.incidents.alertsFiring > 0 || !input.targets.ok || !input.headroom.ok;
  if (trouble || tight < AMBER_BELOW || (input.targets.ok && input.targets.value.length > 0)) return AMBER;
  return GREEN;
}

/**
 * The daily digest: one embed, ordered for a phone: the counts and mean times, the noisiest
 * rules, targets that were down, each host's free disk and memory (tightest first), the last
 * snapshot; intake and delivery counts in the footer. Fitted to Discord's limits.
 */
export function renderDigest(input: DigestInput, warn: Warn): { embeds: APIEmbed[]; allowed_mentions: { parse: [] } } {
  const locale = input.locale ?? 'en';
  const ctx: Ctx = { t: translator(locale), locale };
  const { t } = ctx;
  const fields = [
    openField(input.incidents, ctx),
    noisiestField(input.incidents, t),
    targetsField(input.targets, t),
    headroomField(input.headroom, t),
    input.snapshots ? snapshotField(input.snapshots, t) : undefined,
  ].filter((f): f is APIEmbedField => f !== undefined);
  const embed: APIEmbed = {
    title: t('digest.title', { date: dayTitle(input.now, input.timezone, locale) }),
    description: summary(input.incidents, input.from, ctx),
    color: colorOf(input),
    fields,
    footer: { text: footer(input.deliveries, t) },
    timestamp: input.now.toISOString(),
  };
  return fitMessage({ embeds: [embed], allowed_mentions: { parse: [] } }, warn, locale);
}
