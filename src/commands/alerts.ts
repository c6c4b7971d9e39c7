import { alertmanagerFromConfig, type AlertmanagerAlert, type AlertmanagerClient } from '../queries/alertmanager.js';
import type { PrometheusClient, RuleAlert } from '../queries/prometheus.js';
import { renderAlerts, type AlertsOverview } from '../render/alerts.js';
import { fitMessage, warnTo } from '../render/truncate.js';
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

/** `/alerts`: what is firing now, grouped by alert name, most severe first. */
export const alertsCommand = {
  data: {
    name: 'alerts',
    description: 'What is firing now, grouped by alert name, most severe first',
  },
  async execute(ctx, deps: CommandDeps) {
    const timeoutMs = deps.config.enrichment.timeout;
    const overview = await collect(alertmanagerFromConfig(deps.config, timeoutMs), deps.prometheus, deps.now(), timeoutMs);
    await ctx.reply(fitMessage(renderAlerts(overview), warnTo(deps.logger)));
  },
} satisfies Command;
