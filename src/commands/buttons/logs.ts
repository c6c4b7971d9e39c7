import { logSelectorForAlert } from '../../queries/promql.js';
import type { Incident } from '../../store/incidents.js';
import { incidentOfRef } from './incident.js';
import { answerLogs, withLineFilters } from '../logs.js';
import type { T } from '../../i18n/index.js';
import { localeOf, tOf } from '../locale.js';
import type { ButtonHandler } from '../types.js';

/** Distinct selectors queried for one alert group (one query each). */
const MAX_SELECTORS = 5;
/** Distinct lines shown, as /logs shows by default. */
const LIMIT = 20;

/** The incident's log window: its earliest start minus `logWindowMs`, to its resolution (or now). */
export function incidentLogWindow(incident: Incident, logWindowMs: number, now: Date): { start: Date; end: Date } {
  const states = Object.values(incident.alerts);
  const starts = states.map((s) => Date.parse(s.startsAt)).filter(Number.isFinite);
  const startedAt = Math.min(starts.length ? Math.min(...starts) : incident.startedAt.getTime(), now.getTime());
  const ends = states.map((s) => (s.endsAt ? Date.parse(s.endsAt) : NaN)).filter(Number.isFinite);
  const resolvedAt = incident.resolvedAt?.getTime() ?? (ends.length ? Math.max(...ends) : undefined);
  const end = incident.status === 'resolved' && resolvedAt !== undefined ? Math.min(Math.max(resolvedAt, startedAt), now.getTime()) : now.getTime();
  return { start: new Date(startedAt - logWindowMs), end: new Date(end) };
}

/** The distinct Loki selectors of an incident's alerts, through the label map (at most five). */
function incidentSelectors(incident: Incident, labelMap: Readonly<Record<string, string>>): string[] {
  const selectors = Object.values(incident.alerts)
    .map((s) => (s.labels ? logSelectorForAlert(s.labels, labelMap) : undefined))
    .filter((s): s is string => s !== undefined);
  return [...new Set(selectors)].slice(0, MAX_SELECTORS);
}

/** The alert names of an incident, for the answer's title. */
function alertNames(incident: Incident, t: T): string {
  const names = new Set(
    Object.values(incident.alerts)
      .map((s) => s.labels?.alertname)
      .filter((n): n is string => !!n),
  );
  return names.size ? [...names].join(', ') : t('commands.logs.scope.incident', { id: String(incident.id) });
}

/**
 * The Logs button: the error-like lines of the alert's own streams (its labels through
 * enrichment.logLabelMap) over the incident window, answered only to the presser (logs may be
 * sensitive).
 */
export const logsButton = {
  action: 'logs',
  async execute(ctx, ref, deps) {
    // Only the presser sees the answer: in their language.
    const t = tOf(ctx, deps);
    const incident = await incidentOfRef(deps, ref);
    if (!incident) {
      await ctx.reply({ content: t('commands.logs.button.gone') }, { ephemeral: true });
      return;
    }
    const { logFilter, logLabelMap, logWindow } = deps.config.enrichment;
    const selectors = incidentSelectors(incident, logLabelMap);
    if (!selectors.length) {
      const known = Object.keys(logLabelMap).slice(0, 3).join(', ');
      await ctx.reply({ content: t('commands.logs.button.noSelector', { labels: known }) }, { ephemeral: true });
      return;
    }
    // Loki may take a while: acknowledge now, answer with an ephemeral follow-up.
    await ctx.deferUpdate();
    const answer = await answerLogs(
      {
        queries: selectors.map((s) => withLineFilters(s, { errorLike: true }, logFilter)),
        window: incidentLogWindow(incident, logWindow, deps.now()),
        relative: false,
        limit: LIMIT,
        filter: t('commands.logs.filter.errorLike'),
        scope: alertNames(incident, t),
        locale: localeOf(ctx, deps),
      },
      deps,
    );
    await ctx.followUp(answer, { ephemeral: true });
  },
} satisfies ButtonHandler;
