/*
 * What enrichment finds about an alert, shared by the rooms that make it (pipeline/, queries/) and
 * the ones that show it (render/, commands/).
 */
import type { Notification, RangeSeries } from './model.js';

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

/** What a failure is about: each query enrichment makes, and each steering annotation it ignored. */
export type FailureWhat =
  | 'expression'
  | 'extra expression'
  | 'target health'
  | 'scrape status'
  | 'logs'
  | 'log volume'
  | 'host context'
  | 'container context'
  | 'rule lookup'
  | (typeof STEERING)[keyof typeof STEERING];

/**
 * A failure Vigil itself can put into words (render/ says it in the message's language); the
 * backends' own errors ("HTTP 400: parse error …") are shown as they come.
 */
export type FailureWords =
  | { kind: 'timed-out'; backend: string; ms: number }
  | { kind: 'not-answering'; backend: string; since: Date }
  | { kind: 'queue-full'; ms: number; slots: number }
  | { kind: 'no-log-selector'; labels: string }
  | { kind: 'ignored'; detail: string }
  | { kind: 'bad-dashboard-uid' };

/** Why a piece of enrichment is missing: shown to the user as "<what> unavailable: <message>". */
export interface EnrichmentFailure {
  /** Which backend failed (grafana: a rule annotation naming a Grafana object Vigil cannot use). */
  backend: 'prometheus' | 'loki' | 'grafana';
  /** What could not be fetched (shown as is, and what code looks a failure up by). */
  what: FailureWhat;
  /** Short cause without secrets, in English (logs, and the message when `words` is absent): "Loki timed out after 5s", "HTTP 400: parse error ...". */
  message: string;
  /** The cause as Vigil says it, when it is Vigil's own words. */
  words?: FailureWords;
}

/** The annotations a rule author steers enrichment with. */
export const STEERING = {
  /** Extra PromQL to query over the window (and chart). */
  promql: 'vigil_promql',
  /** The LogQL selector or log query to use instead of the one derived from the labels. */
  logql: 'vigil_logql',
  /** A Grafana dashboard uid to link. */
  dashboard: 'vigil_dashboard',
} as const;

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
  /**
   * What the chart draws, from the same query: the picked series (at most 5) with their points
   * (~250 each), over window.start..end (a resolved alert's runs a little past endsAt). In memory
   * only, between enrichment and rendering: never stored, logged or sent.
   */
  chart?: { end: Date; series: RangeSeries[] };
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

/** One host measure at the alert's start and one hour earlier (node_exporter). */
export interface HostMeasure {
  /** cpu: busy %, memory: used %, disk: used % of the fullest filesystem, load: load1 per core. */
  kind: 'cpu' | 'memory' | 'disk' | 'load';
  /** At startsAt; undefined when there was no data. */
  now?: number;
  /** One hour before startsAt; undefined when there was no data. */
  before?: number;
  /** The fullest filesystem's mount point at startsAt (disk only). */
  mountpoint?: string;
}

/** The host behind the alert's `instance`, when it is a node_exporter target. */
export interface HostContextFinding {
  /** The node_exporter instance the measures come from (same host as the alert's instance). */
  instance: string;
  /** When "now" is: the alert's startsAt (or now when that lies in the future). */
  at: Date;
  /** In the order cpu, memory, disk, load; only the measures with data. */
  measures: HostMeasure[];
}

/** One container and its usage over the window. */
export interface ContainerUsageRow {
  name: string;
  value: number;
}

/** A container restart or OOM kill in the window (cAdvisor). */
export interface ContainerEvent {
  name: string;
  kind: 'restart' | 'oom';
  /** How many times, at least 1. */
  count: number;
}

/** The busiest containers on the alert's host during the window, and their restarts and OOM kills. */
export interface ContainerContextFinding {
  /** The host the containers run on (the alert's instance without its port). */
  host: string;
  /** Average CPU over the window in % of one core, highest first. */
  cpu: ContainerUsageRow[];
  /** Peak working set over the window in bytes, highest first. */
  memory: ContainerUsageRow[];
  /** Restarts and OOM kills, most first. */
  events: ContainerEvent[];
}

/** Log lines of the same shape (numbers, ids, times… masked), with a count and the newest example. */
export interface LogPattern {
  /** The line with its variable parts replaced by placeholders (<num>, <uuid>, <ts>, <hex>, <ip>, <str>, <id>). */
  pattern: string;
  count: number;
  /** The newest line of this shape, secrets masked. */
  example: string;
  exampleAt: Date;
  firstAt: Date;
  /** The container all its lines came from, when they share one. */
  source?: string;
}

/** The error-like log lines grouped by pattern. */
export interface LogPatternFinding {
  /** Most frequent first (ties: newest first), at most a handful. */
  patterns: LogPattern[];
  /** How many distinct patterns there were in all. */
  distinct: number;
  /** How many lines were grouped. */
  lines: number;
  /** Loki stopped at the query limit: counts are "at least". */
  capped: boolean;
}

/** Log lines of one level in the window and in the hour before it. */
export interface LogLevelVolume {
  /** The `level` label; empty when the lines carry none. */
  level: string;
  /** Lines in the log window. */
  count: number;
  /** Lines in the hour before the log window. */
  before: number;
  /** Rate in the window over the rate in the hour before; undefined when there were none before. */
  ratio?: number;
}

/** How much was logged by level around the incident, compared with the hour before. */
export interface LogVolumeFinding {
  /** The LogQL sent for the window (the same with [3600s] at the window's start gives the baseline). */
  query: string;
  windowSeconds: number;
  baselineSeconds: number;
  /** Most severe level first. */
  levels: LogLevelVolume[];
}

/** A query Vigil ran and the window it ran over, for a Grafana Explore link. */
export interface ExploreTarget {
  /** What the link opens, shown as its text ("Metrics", "Logs", "Extra"). */
  label: string;
  datasource: 'prometheus' | 'loki';
  expr: string;
  start: Date;
  end: Date;
}

/** A Grafana alert rule in plain words, for the thread's details. */
export interface RuleFinding {
  uid: string;
  title: string;
  /** The condition: "A (last) > 70". */
  condition: string;
  /** The threshold alone: "> 70", "outside 10..20". */
  threshold?: string;
  /** Pending period before firing ("5m"). */
  for?: string;
  folder?: string;
  group?: string;
  /** Data queries on datasources Vigil does not query: "A (datasource mysql)". */
  notQueried: string[];
}

/** Everything the enrichment stage found for one alert. */
export interface AlertEnrichment {
  fingerprint: string;
  window: IncidentWindow;
  /** The Grafana alert rule behind a Grafana alert, as read from Grafana. */
  rule?: RuleFinding;
  expression?: ExpressionFinding;
  /** The rule author's extra PromQL (annotation `vigil_promql`) over the same window. */
  extraExpression?: ExpressionFinding;
  target?: TargetFinding;
  logs?: LogFinding;
  hostContext?: HostContextFinding;
  containerContext?: ContainerContextFinding;
  logPatterns?: LogPatternFinding;
  logVolume?: LogVolumeFinding;
  /** The queries above as they were sent, with their windows, for Explore links. */
  exploreLinks?: ExploreTarget[];
  /** A Grafana dashboard uid to link (annotation `vigil_dashboard`), validated. */
  dashboardUid?: string;
  failures: EnrichmentFailure[];
}

/** A notification with the enrichment of (up to enrichment.maxAlerts of) its alerts. */
export interface EnrichedNotification {
  notification: Notification;
  /** By alert fingerprint. Alerts beyond maxAlerts have no entry. */
  enrichments: Record<string, AlertEnrichment>;
}
