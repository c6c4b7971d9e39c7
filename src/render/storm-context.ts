import type { APIEmbed, APIEmbedField } from 'discord-api-types/v10';
import { formatDurationIn, formatNumberIn, translator, type Locale, type T } from '../i18n/index.js';
import type { ComparisonOp } from '../queries/promql.js';
import type { EnrichmentFailure } from '../findings.js';
import { failureCause } from './finding-text.js';
import { COLORS } from './alert.js';
import { inlineCode, instanceOf } from './alerts.js';
import { discordTimestamp, escapeMarkdown, formatValue, inferUnit } from './format.js';
import { truncate } from './truncate.js';

/** What one alert name's metric did over a storm, queried once for all its alerts. */
export interface StormMetric {
  alertname: string;
  /** Alerts of this name firing in the storm. */
  firing: number;
  /** The expression queried: the alerts' own, without its comparison. */
  query: string;
  threshold?: { op: ComparisonOp; value: number };
  /** Series the expression returns now. */
  series?: number;
  /** Series past the threshold now (the alert's whole expression). */
  breaching?: number;
  /** The highest values over the window, highest first. */
  peaks: ReadonlyArray<{ labels: Record<string, string>; value: number }>;
  /** Why parts are missing ("Prometheus timed out after 5s"); text alone in a storm stored before they had words. */
  failures: readonly StormFailure[];
  /** When it was queried (ISO 8601): the storm message keeps showing it afterwards. */
  queriedAt?: string;
}

/** A failed storm query as stored with the storm: its cause and, where Vigil worded it, the words. */
export type StormFailure = string | Pick<EnrichmentFailure, 'message' | 'words'>;

/** A stored storm failure in the message's language. */
function stormFailureText(f: StormFailure, t: T): string {
  return failureCause(typeof f === 'string' ? { message: f } : f, t);
}

/** What the storm's error logs did: one Loki query over its alerts' log sources (pipeline/storm-context.ts). */
export interface StormLogVolume {
  /** The Loki label the sources are told apart by (`container_name`, `host`…). */
  label: string;
  /** Sources asked about (the storm's alerts' values of `label`, the most alerts first); 0 when no alert maps to one (nothing shown). */
  sources: number;
  /** Firing alerts of the storm that name none of them (another label, or past the sources asked). */
  uncovered: number;
  /** The query as sent. */
  query: string;
  /** Error-like lines per source over the window, most first (every source that had any; the message shows STORM_LOG_SOURCES_SHOWN). */
  top: ReadonlyArray<{ source: string; lines: number }>;
  /** Lines over every source asked about. */
  total?: number;
  failure?: StormFailure;
  queriedAt: string;
}

/** Sources named with their line counts (the rest are in the total). */
export const STORM_LOG_SOURCES_SHOWN = 5;

/** Peaks asked for per alert name. */
export const STORM_PEAKS_SHOWN = 3;
/** Characters of an expression shown (the storm message stays short). */
const QUERY_SHOWN = 120;
/** Characters of one name's field: five of them leave the storm's listing most of the message. */
const FIELD_MAX = 400;

/**
 * What the storm's metrics did, as the storm message's second embed: per alert name (most firing
 * first), the expression and threshold, how many series are past it now, and the highest peaks
 * over the window with their instances and units; failures said per name. Then, with `logs`, the
 * error log lines of the storm's log sources: the busiest, and how many in all. In `locale`
 * (the storm's channel's language).
 */
export function stormContextEmbed(metrics: readonly StormMetric[], windowMs: number, logs?: StormLogVolume, locale: Locale = 'en'): APIEmbed {
  const t = translator(locale);
  const fields: APIEmbedField[] = metrics.map((m) => {
    const unit = inferUnit(m.query);
    const threshold = m.threshold ? ` ${m.threshold.op} ${formatValue(m.threshold.value, unit, t.locale)}` : '';
    const now =
      m.breaching !== undefined && m.series !== undefined
        ? ` · ${t('storm.context.breaching', { breaching: m.breaching, series: m.series })}`
        : m.series !== undefined
          ? ` · ${t('storm.context.series', { series: m.series })}`
          : '';
    const everyone = m.peaks.map((p) => ({ labels: p.labels }));
    const peaks = m.peaks
      .slice(0, STORM_PEAKS_SHOWN)
      .map(
        (p) => `${escapeMarkdown(truncate(instanceOf({ labels: p.labels }, everyone) || t('storm.context.all'), 40))} ${formatValue(p.value, unit, t.locale)}`,
      );
    const lines = [
      `${inlineCode(m.query, QUERY_SHOWN)}${threshold}${now}`,
      ...(peaks.length ? [t('storm.context.peak', { peaks: peaks.join(' · ') })] : []),
      ...m.failures.map((f) => `⚠️ ${truncate(stormFailureText(f, t), 200)}`),
    ];
    return {
      name: t('storm.context.name', { alertname: escapeMarkdown(truncate(m.alertname, 80)), firing: m.firing }),
      value: truncate(lines.join('\n'), FIELD_MAX),
    };
  });
  const shownLogs = logs?.sources ? logs : undefined;
  if (shownLogs) fields.push(logsField(shownLogs, t, locale));
  const asOf = [...metrics.map((m) => m.queriedAt), shownLogs?.queriedAt]
    .filter((t): t is string => t !== undefined)
    .sort()
    .at(-1);
  const when = asOf ? discordTimestamp(new Date(asOf), 'R') : '';
  const queried = metrics.length
    ? shownLogs
      ? t('storm.context.queried.both', { when })
      : t('storm.context.queried.metrics', { when })
    : t('storm.context.queried.logs', { when });
  const window = formatDurationIn(locale, windowMs);
  return {
    title: metrics.length ? t('storm.context.title.metrics', { window }) : t('storm.context.title.logs', { window }),
    ...(asOf ? { description: queried } : {}),
    fields,
    color: COLORS.unknown,
  };
}

/** The storm's error log lines per source, as one field: the query, the busiest sources, the total. */
function logsField(logs: StormLogVolume, t: T, locale: Locale): APIEmbedField {
  const label = escapeMarkdown(logs.label);
  const top = logs.top
    .slice(0, STORM_LOG_SOURCES_SHOWN)
    .map((s) => `${escapeMarkdown(truncate(s.source, 40))} ${formatCount(s.lines, locale)}`)
    .join(' · ');
  const found =
    logs.failure !== undefined
      ? `⚠️ ${truncate(stormFailureText(logs.failure, t), 200)}`
      : logs.total
        ? t('storm.context.logs.found', { total: formatCount(logs.total, locale), shown: logs.top.length, sources: logs.sources, top })
        : t('storm.context.logs.none', { sources: logs.sources, label });
  const uncovered = logs.uncovered ? `\n${t('storm.context.logs.uncovered', { count: logs.uncovered, label })}` : '';
  return {
    name: t('storm.context.logs.name', { label }),
    value: truncate(`${inlineCode(logs.query, QUERY_SHOWN)}\n${found}${uncovered}`, FIELD_MAX),
  };
}

/** 1234 -> "1.2k" ("1.2천" in Korean), 56 -> "56": line counts at a glance. */
function formatCount(n: number, locale: Locale): string {
  if (locale === 'en') return n >= 10_000 ? `${Math.round(n / 1000)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(Math.round(n));
  return formatNumberIn(locale, n < 1000 ? Math.round(n) : n, { notation: 'compact', maximumFractionDigits: 1 });
}
