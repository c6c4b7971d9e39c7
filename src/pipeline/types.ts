import type { Alert, Notification } from '../model.js';

/** The time range the enrichment queries look at. */
export interface IncidentWindow {
  /** Metrics range: startsAt - lookback .. endsAt (resolved) or now. */
  start: Date;
  end: Date;
  /** Range query step in seconds (at most ~250 points per series). */
  stepSeconds: number;
  /** Logs range: startsAt - logWindow .. startsAt + logWindow (or now, whichever is earlier). */
  logStart: Date;
  logEnd: Date;
}

/** Why a piece of enrichment is missing: shown to the user as "<what> unavailable: <message>". */
export interface EnrichmentFailure {
  /** Which backend failed. */
  backend: 'prometheus' | 'loki';
  /** What could not be fetched, e.g. "logs", "expression", "target health". */
  what: string;
  /** Short cause without secrets, e.g. "Loki timed out after 5s", "HTTP 400: parse error ...". */
  message: string;
}

/** One series of the alert's expression over the window. */
export interface SeriesSummary {
  labels: Record<string, string>;
  /** Value at the alert's startsAt (nearest point at or before it), when in range. */
  atStart?: number;
  peak: number;
  /** When the peak happened. */
  peakAt: Date;
  latest: number;
  latestAt: Date;
  points: number;
}

/** What the alert's own expression did over the window. */
export interface ExpressionFinding {
  expr: string;
  /** The series matching the alert's labels (or all series, at most 5, when none matches exactly). */
  series: SeriesSummary[];
  /** The alert's own trailing comparison (`> 90`), stripped from `expr` so the values show the metric itself. */
  threshold?: { op: '==' | '!=' | '>' | '<' | '>=' | '<='; value: number };
}

/** Target health for the alert's job/instance. */
export interface TargetFinding {
  job?: string;
  instance?: string;
  /** Share of `up` samples equal to 1 over the window, 0..1; undefined when no `up` series. */
  upRatio?: number;
  /** Latest `up` value. */
  upNow?: number;
  /** From /api/v1/targets, when the target is still known to Prometheus. */
  health?: 'up' | 'down' | 'unknown';
  lastError?: string;
  lastScrape?: Date;
  lastScrapeDurationSeconds?: number;
  scrapeUrl?: string;
}

/** One log line from Loki. */
export interface LogLine {
  at: Date;
  line: string;
  labels: Record<string, string>;
}

/** Error-like logs around the incident. */
export interface LogFinding {
  /** The LogQL query sent, e.g. `{container_name="api"} |~ "(?i)(error|exception)"`. */
  query: string;
  /** Number of matching lines returned within the log window (capped by the query limit). */
  count: number;
  /** True when count hit the query limit (there may be more). */
  capped: boolean;
  /** The most recent few lines, newest first. */
  lines: LogLine[];
}

/** Everything the enrichment stage found for one alert. */
export interface AlertEnrichment {
  fingerprint: string;
  window: IncidentWindow;
  expression?: ExpressionFinding;
  target?: TargetFinding;
  logs?: LogFinding;
  failures: EnrichmentFailure[];
}

/** A notification with the enrichment of (up to enrichment.maxAlerts of) its alerts. */
export interface EnrichedNotification {
  notification: Notification;
  /** By alert fingerprint. Alerts beyond maxAlerts have no entry. */
  enrichments: Record<string, AlertEnrichment>;
}

export type { Alert, Notification };
