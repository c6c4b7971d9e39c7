import type { Alert } from '../model.js';
import type { IncidentWindow } from '../findings.js';

/** Prometheus refuses range queries of more than 11,000 points per series. */
export const PROMETHEUS_MAX_POINTS = 11_000;

/** Steps a person reads easily (seconds); past the last one, whole days. */
const NICE_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400];
const DAY = 86_400;

/**
 * The smallest "nice" step (seconds, at least 1) that keeps a range query over start..end at or
 * under `maxPoints` points (clamped to 2..11,000). An inverted range counts as empty.
 */
export function stepFor(start: Date, end: Date, maxPoints = 250): number {
  const points = Math.min(Math.max(Math.floor(maxPoints), 2), PROMETHEUS_MAX_POINTS);
  const spanSeconds = Math.max(0, (end.getTime() - start.getTime()) / 1000);
  // A range of span s with step t has floor(s / t) + 1 points.
  const minStep = spanSeconds / (points - 1);
  const nice = NICE_STEPS.find((s) => s >= minStep);
  return nice ?? Math.ceil(minStep / DAY) * DAY;
}

/**
 * The time ranges the enrichment queries look at.
 *
 * - Anchor: the alert's startsAt, or now when startsAt lies in the future (the sender's clock
 *   runs ahead of ours); no range ever reaches past now.
 * - Metrics: anchor - lookback .. endsAt for a resolved alert (clamped to anchor..now; an endsAt
 *   before startsAt collapses to the anchor), else now.
 * - Logs: anchor - logWindow .. min(anchor + logWindow, now), for firing and resolved alerts
 *   alike: the lines that explain an incident sit around its start, and a short flap's endsAt
 *   would otherwise cut the window to a few seconds and hide the errors logged as it recovered.
 */
export function incidentWindow(
  alert: Pick<Alert, 'status' | 'startsAt' | 'endsAt'>,
  opts: { lookbackMs: number; logWindowMs: number },
  now: Date,
): IncidentWindow {
  const nowMs = now.getTime();
  const anchor = Math.min(alert.startsAt.getTime(), nowMs);
  const resolvedAt = alert.status === 'resolved' && alert.endsAt ? alert.endsAt.getTime() : undefined;
  const endMs = resolvedAt === undefined ? nowMs : Math.min(Math.max(resolvedAt, anchor), nowMs);
  const start = new Date(anchor - opts.lookbackMs);
  const end = new Date(endMs);
  return {
    start,
    end,
    stepSeconds: stepFor(start, end),
    logStart: new Date(anchor - opts.logWindowMs),
    logEnd: new Date(Math.min(anchor + opts.logWindowMs, nowMs)),
  };
}
