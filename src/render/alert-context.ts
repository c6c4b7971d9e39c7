import type { APIEmbedField } from 'discord-api-types/v10';
import type { AlertEnrichment, LogPatternFinding, LogVolumeFinding } from '../findings.js';
import type { Alert } from '../model.js';
import type { Ctx } from './alert-input.js';
import { dashboardUrl, DEFAULT_DATASOURCES, fitExploreLinks } from './explore.js';
import { containersField, distinguishing, exploreLabel, hostField, oneLine, patternLines, volumeLine, windowText } from './finding-text.js';
import { escapeMarkdown, safeUrl } from './format.js';
import { EMBED_FIELD_VALUE } from './limits.js';
import { maskSecrets } from './mask.js';
import { codePointLength, truncate } from './truncate.js';

// The context fields of an alert message: the host, its containers, the logs of the moment (volume
// and patterns) and the Explore links, each with its own room, given up in CONTEXT_DROP_ORDER.

/** Log levels shown in the Logs field. */
const LEVELS_SHOWN = 4;
/** Log patterns shown in the Logs field, whole ones while they fit. */
const PATTERNS_SHOWN = 5;
/** The context fields of a message (CONTEXT_DROP_ORDER says which go first when room is short). */
export interface ContextFields {
  containers?: APIEmbedField;
  host?: APIEmbedField;
  logs?: APIEmbedField;
  explore?: APIEmbedField;
}

/** Which context field is given up first when the alerts' details would not fit. */
export const CONTEXT_DROP_ORDER: readonly (keyof ContextFields)[] = ['explore', 'host', 'logs', 'containers'];

/** The link of the rule's `vigil_dashboard`, over the first alert's window. */
export function steeredDashboard(ctx: Ctx): string | undefined {
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
    if (value !== undefined && value !== null) return { alert, value: value };
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
export function contextFields(ctx: Ctx): ContextFields {
  const out: ContextFields = {};
  const containers = firstWith(ctx, 'containerContext');
  if (containers) out.containers = containersField(containers.value, ctx.t);
  const host = firstWith(ctx, 'hostContext');
  if (host) out.host = hostField(host.value, ctx.t);
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
    const targets = explore.value.map((l) => ({ ...l, label: exploreLabel(l.label, ctx.t) }));
    const fitted = fitExploreLinks(ctx.input.grafanaUrl, targets, ctx.input.datasources ?? DEFAULT_DATASOURCES, EMBED_FIELD_VALUE, ctx.locale);
    // The logs name each link as enrichment does (Metrics, Logs), whatever the message's language.
    const logName = (label: string) => explore.value[targets.findIndex((l) => l.label === label)]?.label ?? label;
    for (const link of fitted.links.filter((l) => !l.withQuery))
      ctx.warn('explore link without its query to fit the message', { part: 'explore', link: logName(link.label) });
    for (const label of fitted.omitted) ctx.warn('alert link omitted to fit the message', { part: 'explore', link: logName(label) });
    if (fitted.text) out.explore = { name: ctx.t('alert.field.explore', { whose: whose(ctx, explore.alert) }), value: fitted.text };
  }
  return out;
}

/**
 * "📜 Logs": the volume by level against the usual rate, then the top patterns with counts and
 * one example each in a code block, whole patterns while they fit, "+N more patterns" after.
 */
function logsField(ctx: Ctx, volume: LogVolumeFinding | undefined, patterns: LogPatternFinding | undefined, suffix: string): APIEmbedField | undefined {
  const head = volume ? volume.levels.slice(0, LEVELS_SHOWN).map((v) => volumeLine(v, windowText(volume.windowSeconds, ctx.locale), ctx.t)) : [];
  const text = head.join('\n');
  const candidates = (patterns?.patterns ?? []).slice(0, PATTERNS_SHOWN);
  const withSource = new Set(candidates.map((p) => p.source ?? '')).size > 1;
  const distinct = patterns?.distinct ?? 0;
  const block = (lines: readonly string[]) => (lines.length ? `\`\`\`\n${lines.join('\n')}\n\`\`\`` : '');
  const room = EMBED_FIELD_VALUE - codePointLength(text) - 1 - codePointLength(`\n${ctx.t('alert.more.patterns', { count: distinct })}`);
  let lines: string[] = [];
  let shown = 0;
  for (const p of candidates) {
    const next = [...lines, ...patternLines(p, withSource, ctx.input.timeZone)];
    if (codePointLength(block(next)) > room) break;
    lines = next;
    shown++;
  }
  if (shown < candidates.length) ctx.warn('log patterns omitted to fit the message', { part: 'logs', omitted: candidates.length - shown });
  const hidden = distinct - shown;
  const value = [text, block(lines), hidden > 0 ? ctx.t('alert.more.patterns', { count: hidden }) : ''].filter(Boolean).join('\n');
  return value ? { name: ctx.t('alert.field.logs', { whose: suffix }), value: truncate(value, EMBED_FIELD_VALUE) } : undefined;
}
