import type { Config } from '../config/schema.js';
import { STEERING, type EnrichmentFailure } from '../findings.js';
import type { Alert } from '../model.js';
import { checkLogQuery, errorLogs, fillLabels, SteeringError } from '../queries/catalog.js';
import { logSelectorForAlert } from '../queries/promql.js';
import { isGrafanaUid } from '../render/explore.js';

// Which queries an alert gets, decided from its labels and the rule author's annotations
// (vigil_logql, vigil_promql, vigil_dashboard) before anything is asked of a backend.

/** Where an alert's logs come from: the LogQL for error-like lines and the source of the volume counts. */
export interface LogPlan {
  /** The error-like lines query. */
  query: string;
  /** What the volume by level counts over: the selector, or the rule author's whole log query. */
  volumeSource: string;
  /** From the `vigil_logql` annotation rather than derived from the labels. */
  custom: boolean;
}

/**
 * The log queries of an alert. A valid `vigil_logql` wins: a bare selector gets the error filter,
 * a query with its own pipeline is used as it is. An invalid one is ignored with a note saying
 * why, and the selector derived from the labels is used instead.
 */
export function logPlan(alert: Pick<Alert, 'labels' | 'annotations'>, config: Config['enrichment']): { plan?: LogPlan; failures: EnrichmentFailure[] } {
  const failures: EnrichmentFailure[] = [];
  const custom = alert.annotations[STEERING.logql]?.trim();
  if (custom) {
    try {
      const filled = fillLabels(custom, alert.labels);
      const { selectorOnly } = checkLogQuery(filled);
      const query = selectorOnly ? errorLogs(filled, config.logFilter) : filled;
      return { plan: { query, volumeSource: filled, custom: true }, failures };
    } catch (err) {
      if (!(err instanceof SteeringError)) throw err;
      failures.push({ backend: 'loki', what: STEERING.logql, message: `ignored: ${err.message}`, words: { kind: 'ignored', detail: err.message } });
    }
  }
  const selector = logSelectorForAlert(alert.labels, config.logLabelMap);
  if (!selector) {
    const labels = selectorLabels(config.logLabelMap);
    return {
      failures: [...failures, { backend: 'loki', what: 'logs', message: `no label to select logs by (${labels})`, words: { kind: 'no-log-selector', labels } }],
    };
  }
  return { plan: { query: errorLogs(selector, config.logFilter), volumeSource: selector, custom: false }, failures };
}

/** The rule's extra PromQL with `${label}` placeholders filled, or a note saying why it is ignored. */
export function extraPlan(alert: Pick<Alert, 'labels' | 'annotations'>): { expr?: string; failures: EnrichmentFailure[] } {
  const raw = alert.annotations[STEERING.promql]?.trim();
  if (!raw) return { failures: [] };
  try {
    if (raw.length > 2000) throw new SteeringError(`expected PromQL of at most 2000 characters, got ${raw.length}`);
    return { expr: fillLabels(raw, alert.labels), failures: [] };
  } catch (err) {
    if (!(err instanceof SteeringError)) throw err;
    return {
      failures: [{ backend: 'prometheus', what: STEERING.promql, message: `ignored: ${err.message}`, words: { kind: 'ignored', detail: err.message } }],
    };
  }
}

/** The dashboard uid of `vigil_dashboard` when Grafana would accept it. */
export function dashboardPlan(alert: Pick<Alert, 'annotations'>): { uid?: string; failures: EnrichmentFailure[] } {
  const uid = alert.annotations[STEERING.dashboard]?.trim();
  if (!uid) return { failures: [] };
  if (isGrafanaUid(uid)) return { uid, failures: [] };
  return {
    failures: [
      {
        backend: 'grafana',
        what: STEERING.dashboard,
        message: 'ignored: expected a dashboard uid (letters, digits, - and _, at most 40)',
        words: { kind: 'bad-dashboard-uid' },
      },
    ],
  };
}

/** "container, name, container_name…": the first alert labels the map knows, for "no label to select logs by". */
function selectorLabels(labelMap: Readonly<Record<string, string>>): string {
  const names = Object.keys(labelMap);
  return names.slice(0, 3).join(', ') + (names.length > 3 ? '…' : '');
}
