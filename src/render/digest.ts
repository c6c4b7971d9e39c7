import type { APIEmbed, APIEmbedField } from 'discord-api-types/v10';
import { formatDuration } from '../config/duration.js';
import type { DeliveryStats, IncidentStats, MeanDuration } from '../model.js';
import { groupAlerts, inlineCode, SEVERITY_EMOJI } from './alerts.js';
import { discordTimestamp, escapeMarkdown, formatValue } from './format.js';
import { maskSecrets } from './mask.js';
import { EMBED_FIELD_VALUE } from './limits.js';
import { codePointLength, fitMessage, truncate, type Warn } from './truncate.js';

/** A scrape target that was down at some point of the window. */
export interface DownTarget {
  job: string;
  instance: string;
  /** `up == 0` at the end of the window. */
  downNow: boolean;
  /** Share of the window's scrapes that succeeded, 0..1 (avg_over_time(up)). */
  availability?: number;
}

/** Free space of a host's fullest filesystem and its free memory, now. */
export interface HostHeadroom {
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

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const percent = (ratio: number) => formatValue(ratio * 100, 'percent');
const bytes = (n: number) => formatValue(n, 'bytes');
const safeError = (text: string) => escapeMarkdown(truncate(maskSecrets(text.replace(/\s+/g, ' ')), ERROR_MAX));

/** "Sat 21 Nov" in the digest's time zone. */
function dayTitle(now: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', day: 'numeric', month: 'short' }).format(now).replace(',', '');
}

function meanLine(emoji: string, verb: string, d: MeanDuration): string {
  if (d.meanMs === undefined) return `${emoji} No incident ${verb}`;
  return `${emoji} ${verb[0]!.toUpperCase()}${verb.slice(1)} in **${formatDuration(d.meanMs)}** on average (${plural(d.count, 'incident')})`;
}

/** The summary: counts, what is firing now, mean times to acknowledge and to resolve. */
function summary(i: IncidentStats, from: Date): string {
  const firing = i.alertsFiring > 0 ? `🔴 **${i.alertsFiring}** still firing in ${plural(i.incidentsOpen, 'open incident')}` : '✅ Nothing firing now';
  return [
    `Last 24h, since ${discordTimestamp(from, 'f')}`,
    `🔥 **${i.alertsFired}** ${i.alertsFired === 1 ? 'alert' : 'alerts'} fired · ✅ **${i.alertsResolved}** resolved · ${plural(i.incidentsOpened, 'new incident')}`,
    firing,
    meanLine('⏱️', 'acknowledged', i.timeToAck),
    meanLine('🩹', 'resolved', i.timeToResolve),
  ].join('\n');
}

function noisiestField(i: IncidentStats): APIEmbedField | undefined {
  if (i.noisiest.length === 0) return undefined;
  const lines = i.noisiest.map((r, n) => `${n + 1}. **${escapeMarkdown(truncate(r.alertname, NAME_MAX))}** · ${plural(r.count, 'alert')}`);
  return { name: '🔊 Noisiest rules', value: lines.join('\n') };
}

/** Who has an open incident, as a list line shows it: "👀 alice", or that nobody does. */
export function ownerText(ackedBy: string | undefined): string {
  return ackedBy ? `👀 ${escapeMarkdown(truncate(ackedBy, NAME_MAX))}` : 'nobody has it';
}

/** The open incidents, newest first: severity, names, since when, the route it went to and who has it. */
function openField(i: IncidentStats): APIEmbedField | undefined {
  if (i.open.length === 0) return undefined;
  const lines = i.open.map((o) => {
    const groups = groupAlerts(o.firing.map((labels) => ({ labels })));
    const names = groups.map((g) => `${escapeMarkdown(truncate(g.name, NAME_MAX))}${g.alerts.length > 1 ? ` ×${g.alerts.length}` : ''}`).join(', ');
    const route = o.route ? ` · → ${escapeMarkdown(o.route)}` : '';
    return `${SEVERITY_EMOJI[groups[0]?.severity ?? 'other']} **${names || 'no alert firing'}** · since ${discordTimestamp(o.startedAt, 'R')}${route} · ${ownerText(o.ackedBy)}`;
  });
  return { name: '🚨 Open incidents', value: listed(lines, 'open incidents') };
}

/** Room kept at the end of a list field for its "+N more" line. */
const MORE_RESERVE = 60;

/**
 * Up to MAX_LISTED lines that fit in one field value, then "+N more <what>" for the rest, so a
 * long list never loses its count to a cut.
 */
function listed(lines: readonly string[], what: string): string {
  const shown: string[] = [];
  let length = 0;
  for (const line of lines.slice(0, MAX_LISTED)) {
    const next = length + codePointLength(line) + 1;
    if (next > EMBED_FIELD_VALUE - MORE_RESERVE) break;
    shown.push(line);
    length = next;
  }
  const rest = lines.length - shown.length;
  return [...shown, ...(rest > 0 ? [`+${rest} more ${what}`] : [])].join('\n');
}

/** Down now first, then the least available. */
function targetLine(t: DownTarget): string {
  const state = t.downNow ? '🔴' : '🟠';
  const now = t.downNow ? 'down now' : 'recovered';
  const up = t.availability === undefined ? '' : ` · ${percent(t.availability)} up`;
  return `${state} **${escapeMarkdown(truncate(t.job, NAME_MAX))}** ${inlineCode(t.instance, INSTANCE_MAX)} · ${now}${up}`;
}

function targetsField(s: Section<DownTarget[]>): APIEmbedField {
  const name = '🎯 Targets down in 24h';
  if (!s.ok) return { name, value: `⚠️ Prometheus could not say: ${safeError(s.error)}` };
  if (s.value.length === 0) return { name, value: '✅ Every target stayed up' };
  const sorted = [...s.value].sort(
    (a, b) => Number(b.downNow) - Number(a.downNow) || (a.availability ?? 0) - (b.availability ?? 0) || a.instance.localeCompare(b.instance),
  );
  return { name, value: listed(sorted.map(targetLine), 'targets') };
}

/** The smaller of a host's free disk and free memory shares (1 when neither is known). */
function tightest(h: HostHeadroom): number {
  return Math.min(h.disk?.freeRatio ?? 1, h.memory?.freeRatio ?? 1);
}

function headroomEmoji(ratio: number): string {
  return ratio < RED_BELOW ? '🔴' : ratio < AMBER_BELOW ? '🟠' : '🟢';
}

function hostLine(h: HostHeadroom): string {
  const parts: string[] = [];
  if (h.disk) parts.push(`💽 ${percent(h.disk.freeRatio)} (${bytes(h.disk.freeBytes)} on ${inlineCode(h.disk.mountpoint, INSTANCE_MAX)})`);
  if (h.memory) parts.push(`🧠 ${percent(h.memory.freeRatio)} (${bytes(h.memory.freeBytes)})`);
  return `${headroomEmoji(tightest(h))} ${inlineCode(h.instance, INSTANCE_MAX)} ${parts.join(' · ')}`;
}

function headroomField(s: Section<HostHeadroom[]>): APIEmbedField {
  const name = '💾 Free now: fullest disk · memory';
  if (!s.ok) return { name, value: `⚠️ Prometheus could not say: ${safeError(s.error)}` };
  if (s.value.length === 0) return { name, value: 'No node_exporter host found (no node_filesystem or node_memory metrics)' };
  const sorted = [...s.value].sort((a, b) => tightest(a) - tightest(b) || a.instance.localeCompare(b.instance));
  return { name, value: listed(sorted.map(hostLine), 'hosts, all with more room') };
}

function snapshotField(s: SnapshotSummary): APIEmbedField {
  const name = '📸 Prometheus snapshots';
  const lines: string[] = [];
  const last = s.last;
  if (!last) lines.push('No snapshot taken yet');
  else if (last.ok) {
    const kept = s.pruning && last.kept !== undefined ? ` · ${last.kept} kept, ${last.pruned ?? 0} pruned` : '';
    lines.push(`✅ ${inlineCode(last.snapshot ?? '?', INSTANCE_MAX)} ${discordTimestamp(last.at, 'R')}${kept}`);
  } else {
    lines.push(`❌ Last run failed ${discordTimestamp(last.at, 'R')}: ${safeError(last.error ?? 'unknown error')}`);
  }
  if (s.failed > 0) lines.push(`❌ ${plural(s.failed, 'failed run')} in 24h · ${s.succeeded} succeeded`);
  if (!s.pruning) lines.push(`Pruning off: set snapshots.dataDir to keep the last ${s.retain}`);
  return { name, value: lines.join('\n') };
}

function footer(d: DeliveryStats): string {
  const failed = d.failed > 0 ? `, ${d.failed} failed` : '';
  const waiting = d.pending > 0 ? `, ${d.pending} waiting` : '';
  return `📨 ${plural(d.webhooksReceived, 'webhook')} in · 📤 ${plural(d.sent, 'message')} sent${failed}${waiting}`;
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
  const fields = [
    openField(input.incidents),
    noisiestField(input.incidents),
    targetsField(input.targets),
    headroomField(input.headroom),
    input.snapshots ? snapshotField(input.snapshots) : undefined,
  ].filter((f): f is APIEmbedField => f !== undefined);
  const embed: APIEmbed = {
    title: `📊 Daily digest · ${dayTitle(input.now, input.timezone)}`,
    description: summary(input.incidents, input.from),
    color: colorOf(input),
    fields,
    footer: { text: footer(input.deliveries) },
    timestamp: input.now.toISOString(),
  };
  return fitMessage({ embeds: [embed], allowed_mentions: { parse: [] } }, warn);
}
