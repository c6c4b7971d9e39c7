import type { Config } from '../config/schema.js';
import { formatDurationIn, translate, translator, type Locale, type T } from '../i18n/index.js';
import { createAlertmanagerClient } from '../queries/alertmanager.js';
import { QueryError, type Backend } from '../queries/http.js';
import { createLokiClient } from '../queries/loki.js';
import { createPrometheusClient, readiness, type PrometheusClient, type Readiness, type ScrapeTarget } from '../queries/prometheus.js';
import type { CheckFailure, CheckResult, ComponentId } from './state.js';

/** One check the watchdog runs every interval. */
export interface Probe {
  component: ComponentId;
  /** Checked only when this component's own check passed this round; otherwise `unknown`. */
  dependsOn?: ComponentId;
  /** Failed checks in a row that raise an outage; default watchdog.failuresBeforeAlert. */
  threshold?: number;
  run(now: Date): Promise<CheckResult>;
}

/** One active scrape target, as far as "is Prometheus scraping" needs it. */
export interface TargetScrape {
  job: string;
  instance: string;
  health: string;
  lastScrape?: Date;
  /** The target's scrape interval; Prometheus' default (1m) when it does not say. */
  intervalMs: number;
  lastError?: string;
}

/** A target counts as scraped when its last successful scrape is younger than this many intervals. */
const STALE_INTERVALS = 3;
/** Prometheus' default scrape interval, for targets whose interval the API does not give. */
const DEFAULT_SCRAPE_INTERVAL_MS = 60_000;
/** Targets named in a "not scraping" error. */
const TARGETS_NAMED = 3;
const ERROR_MAX = 120;

/** A readiness answer as a check result. */
function fromReadiness(r: Readiness): CheckResult {
  return r.ready ? { status: 'ok' } : { status: 'fail', error: r.message };
}

/**
 * Whether Prometheus is scraping: at least one active target is up with a last scrape younger than
 * STALE_INTERVALS of its interval, measured on Prometheus' own clock (a skewed Vigil clock cannot
 * raise a false alarm). No active target at all is a failure too. The error in `locale` (it is
 * shown in the outage alert).
 */
export function evaluateScraping(targets: readonly TargetScrape[], prometheusNow: Date, locale: Locale = 'en'): CheckResult {
  const fresh = (t: TargetScrape) =>
    t.health === 'up' && t.lastScrape !== undefined && prometheusNow.getTime() - t.lastScrape.getTime() <= STALE_INTERVALS * t.intervalMs;
  if (targets.length > 0 && targets.some(fresh)) return { status: 'ok' };
  return failure(locale, (l) => scrapingError(targets, prometheusNow, l));
}

/** Why Prometheus is not scraping, in `locale`. */
function scrapingError(targets: readonly TargetScrape[], prometheusNow: Date, locale: Locale): string {
  const t = translator(locale);
  if (targets.length === 0) return t('watchdog.scraping.noTargets');
  const named = targets.slice(0, TARGETS_NAMED).map((s) => `${s.job}/${s.instance} ${describeTarget(s, prometheusNow, t, locale)}`);
  const more = targets.length > TARGETS_NAMED ? `; ${t('alert.more.items', { count: targets.length - TARGETS_NAMED })}` : '';
  const listed = `${named.join('; ')}${more}`;
  return targets.length === 1
    ? t('watchdog.scraping.onlyTarget', { targets: listed })
    : t('watchdog.scraping.noneOf', { count: targets.length, targets: listed });
}

/** A failed check: its error in English for the logs, and in the alerts' language when that is another. */
export function failure(locale: Locale, error: (locale: Locale) => string): CheckFailure {
  return { status: 'fail', error: error('en'), ...(locale !== 'en' ? { shown: error(locale) } : {}) };
}

function describeTarget(s: TargetScrape, now: Date, t: T, locale: Locale): string {
  if (s.health === 'down') return s.lastError ? t('watchdog.target.downWith', { error: s.lastError.slice(0, ERROR_MAX) }) : t('watchdog.target.down');
  if (!s.lastScrape) return t('commands.health.neverScraped');
  return t('watchdog.target.lastScraped', { ago: formatDurationIn(locale, now.getTime() - s.lastScrape.getTime()) });
}

/**
 * The dead man's switch: ok while the last heartbeat (or, before the first one, Vigil's start) is
 * at most `maxSilenceMs` old. The error in `locale` (default 'en').
 */
export function evaluateHeartbeat(input: {
  alertname: string;
  lastSeen?: Date;
  startedAt: Date;
  now: Date;
  maxSilenceMs: number;
  locale?: Locale;
}): CheckResult {
  const reference = input.lastSeen ?? input.startedAt;
  const silence = input.now.getTime() - reference.getTime();
  if (silence <= input.maxSilenceMs) return { status: 'ok' };
  return failure(input.locale ?? 'en', (locale) => {
    const values = { alertname: input.alertname, duration: formatDurationIn(locale, silence) };
    return translate(locale, input.lastSeen ? 'watchdog.heartbeat.missing' : 'watchdog.heartbeat.missingSinceStart', values);
  });
}

/** What the scraping check reads of one target. */
function targetScrape(t: ScrapeTarget): TargetScrape {
  return {
    job: t.labels.job ?? '?',
    instance: t.labels.instance ?? '?',
    health: t.health,
    lastScrape: t.lastScrape,
    intervalMs: t.scrapeIntervalMs ?? DEFAULT_SCRAPE_INTERVAL_MS,
    lastError: t.lastError,
  };
}

/** Prometheus' own clock (`time()`); Vigil's when the answer is not a scalar. */
async function prometheusTime(client: Pick<PrometheusClient, 'query'>, timeoutMs: number, fallback: Date): Promise<Date> {
  const res = await client.query('time()', undefined, { timeoutMs });
  return res.resultType === 'scalar' && Number.isFinite(res.result.value) ? new Date(res.result.value * 1000) : fallback;
}

/** How long one check may take: half the interval, between 1 s and 10 s. */
export function probeTimeoutMs(intervalMs: number): number {
  return Math.min(10_000, Math.max(1000, Math.floor(intervalMs / 2)));
}

/**
 * The readiness and scraping probes for every configured backend (the heartbeat is the watchdog's
 * own). Their own errors in `config.locale` (default 'en'); the backends' errors as they come.
 */
export function configProbes(
  config: Pick<Config, 'watchdog' | 'prometheus' | 'loki' | 'alertmanager'> & {
    grafana?: Pick<NonNullable<Config['grafana']>, 'url'> | undefined;
    locale?: Locale;
  },
): Probe[] {
  const timeoutMs = probeTimeoutMs(config.watchdog.interval);
  const prometheus = createPrometheusClient({ url: config.prometheus.url, timeoutMs });
  const loki = createLokiClient({ url: config.loki.url, timeoutMs });
  const probes: Probe[] = [
    { component: 'prometheus', run: async () => fromReadiness(await prometheus.ready({ timeoutMs })) },
    { component: 'prometheus-targets', dependsOn: 'prometheus', run: (now) => scrapingProbe(prometheus, timeoutMs, now, config.locale ?? 'en') },
    { component: 'loki', run: async () => fromReadiness(await loki.ready({ timeoutMs })) },
  ];
  const grafana = config.grafana;
  if (grafana) {
    const backend: Backend = { name: 'Grafana', url: grafana.url, timeoutMs };
    probes.push({ component: 'grafana', run: async () => fromReadiness(await readiness(backend, '/api/health', { timeoutMs })) });
  }
  if (config.alertmanager) {
    const am = createAlertmanagerClient({ url: config.alertmanager.url, timeoutMs });
    probes.push({ component: 'alertmanager', run: async () => fromReadiness(await am.ready({ timeoutMs })) });
  }
  return probes;
}

async function scrapingProbe(client: Pick<PrometheusClient, 'query' | 'targets'>, timeoutMs: number, now: Date, locale: Locale): Promise<CheckResult> {
  try {
    const [targets, at] = await Promise.all([client.targets('active', { timeoutMs }), prometheusTime(client, timeoutMs, now)]);
    return evaluateScraping(targets.active.map(targetScrape), at, locale);
  } catch (err) {
    if (err instanceof QueryError) return { status: 'fail', error: err.message };
    throw err;
  }
}
