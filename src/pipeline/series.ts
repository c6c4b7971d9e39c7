import type { SeriesSummary, TargetFinding } from '../findings.js';
import type { Alert } from '../model.js';
import type { LokiInstantResult } from '../queries/loki.js';
import type { InstantSample, RangeSeries, ScrapeTarget } from '../queries/prometheus.js';
import { containerOf } from '../render/logs.js';

// What enrichment keeps of the backends' answers: the series that matter, their summaries, the
// target's health, all pure.

/** Series shown per expression. */
const MAX_SERIES = 5;

/** The series with only its points at or before `end`. */
export function pointsUntil(series: RangeSeries, end: Date): RangeSeries {
  const last = series.points.at(-1);
  if (!last || last.at.getTime() <= end.getTime()) return series;
  return { labels: series.labels, points: series.points.filter((p) => p.at.getTime() <= end.getTime()) };
}

/** Share of the window a resolved chart goes on past endsAt, so the recovery shows beside the marker. */
const RESOLVED_TAIL = 0.15;

/**
 * Where an expression's query (and so its chart) ends: the window's end, and for a resolved alert
 * a little past it (up to 15% of the window, never past now), so the resolve marker is not the
 * chart's edge. The summary still stops at the window's end.
 */
export function chartEnd(window: { start: Date; end: Date }, alert: Pick<Alert, 'status' | 'endsAt'>, now: Date): Date {
  if (alert.status !== 'resolved' || !alert.endsAt) return window.end;
  const tail = Math.min(now.getTime() - window.end.getTime(), (window.end.getTime() - window.start.getTime()) * RESOLVED_TAIL);
  return new Date(window.end.getTime() + Math.max(0, tail));
}

/** The series whose every label (but `__name__`) equals the alert's; if none, the highest peaks. */
export function pickSeries(series: readonly RangeSeries[], alertLabels: Readonly<Record<string, string>>): RangeSeries[] {
  const matching = series.filter((s) => Object.entries(s.labels).every(([name, value]) => name === '__name__' || alertLabels[name] === value));
  const pool = (matching.length ? matching : series).filter((s) => s.points.length > 0);
  return [...pool].sort((a, b) => byPeakDesc(peakOf(a).value, peakOf(b).value)).slice(0, MAX_SERIES);
}

/** Start, peak and latest values of one series; `atStart` is the last point at or before startsAt. */
export function summarizeSeries(series: RangeSeries, startsAt: Date): SeriesSummary {
  const { points } = series;
  const last = points[points.length - 1]!;
  const atStart = points.filter((p) => p.at.getTime() <= startsAt.getTime()).at(-1);
  const peak = peakOf(series);
  return {
    labels: series.labels,
    ...(atStart ? { atStart: atStart.value } : {}),
    peak: peak.value,
    peakAt: peak.at,
    latest: last.value,
    latestAt: last.at,
    points: points.length,
  };
}

/** Highest non-NaN point (the first one when all are NaN). */
function peakOf(series: RangeSeries): { value: number; at: Date } {
  let best = series.points[0]!;
  for (const p of series.points) if (!Number.isNaN(p.value) && (Number.isNaN(best.value) || p.value > best.value)) best = p;
  return { value: best.value, at: best.at };
}

function byPeakDesc(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
  if (Number.isNaN(b)) return -1;
  return b === a ? 0 : b > a ? 1 : -1;
}

/** Share of `up` samples equal to 1, and the worst latest value across the series. */
export function upHistory(series: readonly RangeSeries[]): Pick<TargetFinding, 'upRatio' | 'upNow'> {
  const values = series.flatMap((s) => s.points.map((p) => p.value));
  if (!values.length) return {};
  const latest = series.map((s) => s.points[s.points.length - 1]!.value);
  return { upRatio: values.filter((v) => v === 1).length / values.length, upNow: Math.min(...latest) };
}

/** The active target with the alert's job and instance; a down one first when several match. */
export function findTarget(targets: readonly ScrapeTarget[], job?: string, instance?: string): ScrapeTarget | undefined {
  const matching = targets.filter((t) => (!job || t.labels.job === job) && (!instance || t.labels.instance === instance));
  return matching.find((t) => t.health === 'down') ?? matching[0];
}

export function scrapeStatus(t: ScrapeTarget | undefined): Partial<TargetFinding> {
  if (!t) return {};
  return {
    health: t.health,
    scrapeUrl: t.scrapeUrl,
    ...(t.lastError ? { lastError: t.lastError } : {}),
    ...(t.lastScrape ? { lastScrape: t.lastScrape } : {}),
    ...(t.lastScrapeDurationSeconds !== undefined ? { lastScrapeDurationSeconds: t.lastScrapeDurationSeconds } : {}),
  };
}

export function sourceOf(labels: Readonly<Record<string, string>>): { source?: string } {
  const container = containerOf(labels);
  return container ? { source: container } : {};
}

export function vectorOf(result: LokiInstantResult): InstantSample[] {
  return result.resultType === 'vector' ? result.result : [];
}
