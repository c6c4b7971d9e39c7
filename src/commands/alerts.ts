import { alertmanagerFromConfig, type AlertmanagerAlert, type AlertmanagerClient } from '../queries/alertmanager.js';
import type { PrometheusClient, RuleAlert } from '../queries/prometheus.js';
import type { OpenIncident } from '../model.js';
import { renderAlerts, type AlertsOverview, type FiringAlert } from '../render/alerts.js';
import type { Database } from '../store/db.js';
import { openIncidents } from '../store/stats.js';
import { fitMessage, warnTo } from '../render/truncate.js';
import { described, localeOf } from './locale.js';
import type { Command, CommandDeps } from './types.js';

/** Splits Alertmanager's alerts into firing ones and counts of those held back by silences or inhibitions. */
export function overviewFromAlertmanager(alerts: readonly AlertmanagerAlert[], source: string, now: Date): AlertsOverview {
  const firing = alerts.filter((a) => a.state !== 'suppressed');
  const suppressed = alerts.filter((a) => a.state === 'suppressed');
  const silenced = suppressed.filter((a) => a.silencedBy.length > 0).length;
  return {
    firing: firing.map((a) => ({ labels: a.labels, startsAt: a.startsAt })),
    silenced,
    inhibited: suppressed.length - silenced,
    pending: 0,
    source,
    now,
  };
}

/** Prometheus' rule alerts: the firing ones, and how many are still pending. */
function overviewFromPrometheus(alerts: readonly RuleAlert[], now: Date): AlertsOverview {
  return {
    firing: alerts.filter((a) => a.state === 'firing').map((a) => ({ labels: a.labels, ...(a.activeAt ? { startsAt: a.activeAt } : {}) })),
    silenced: 0,
    inhibited: 0,
    pending: alerts.filter((a) => a.state === 'pending').length,
    source: 'Prometheus',
    now,
  };
}

/** Asks Alertmanager when one is configured (it knows silences), else Prometheus. */
async function collect(am: AlertmanagerClient | undefined, prometheus: PrometheusClient, now: Date, timeoutMs: number): Promise<AlertsOverview> {
  if (am) return overviewFromAlertmanager(await am.alerts({}, { timeoutMs }), am.name, now);
  return overviewFromPrometheus(await prometheus.alerts({ timeoutMs }), now);
}

/** A label set as one comparable string. */
function labelKey(labels: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Each firing alert with Vigil's open incident of the same labels, when there is one: its route and who has it. */
export function withIncidents(firing: readonly FiringAlert[], open: readonly OpenIncident[]): FiringAlert[] {
  const byLabels = new Map<string, { route?: string; ackedBy?: string }>();
  for (const o of open) {
    const incident = { ...(o.route !== undefined ? { route: o.route } : {}), ...(o.ackedBy !== undefined ? { ackedBy: o.ackedBy } : {}) };
    // Newest first: an alert in two incidents (routes with continue) keeps the first it was found in.
    for (const labels of o.firing) if (!byLabels.has(labelKey(labels))) byLabels.set(labelKey(labels), incident);
  }
  return firing.map((a) => {
    const incident = byLabels.get(labelKey(a.labels));
    return incident ? { ...a, incident } : a;
  });
}

async function annotate(overview: AlertsOverview, db: Database): Promise<AlertsOverview> {
  return { ...overview, firing: withIncidents(overview.firing, await openIncidents(db)) };
}

/** `/alerts`: what is firing now, grouped by alert name, most severe first, with the route and owner of Vigil's incidents. */
export const alertsCommand = {
  data: {
    name: 'alerts',
    ...described('commands.alerts.description'),
  },
  async execute(ctx, deps: CommandDeps) {
    const timeoutMs = deps.config.enrichment.timeout;
    const overview = await annotate(await collect(alertmanagerFromConfig(deps.config, timeoutMs), deps.prometheus, deps.now(), timeoutMs), deps.db);
    await ctx.reply(fitMessage(renderAlerts({ ...overview, locale: localeOf(ctx, deps) }), warnTo(deps.logger), localeOf(ctx, deps)));
  },
} satisfies Command;
