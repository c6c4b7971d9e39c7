import type { APIEmbed, APIEmbedField } from 'discord-api-types/v10';
import { formatDuration } from '../config/duration.js';
import type { ComparisonOp } from '../queries/promql.js';
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
  /** Why parts are missing ("Prometheus timed out after 5s"). */
  failures: readonly string[];
  /** When it was queried (ISO 8601): the storm message keeps showing it afterwards. */
  queriedAt?: string;
}

/** Peaks asked for per alert name. */
export const STORM_PEAKS_SHOWN = 3;
/** Characters of an expression shown (the storm message stays short). */
const QUERY_SHOWN = 120;
/** Characters of one name's field: five of them leave the storm's listing most of the message. */
const FIELD_MAX = 400;

/**
 * What the storm's metrics did, as the storm message's second embed: per alert name (most firing
 * first), the expression and threshold, how many series are past it now, and the highest peaks
 * over the window with their instances and units; failures said per name.
 */
export function stormContextEmbed(metrics: readonly StormMetric[], windowMs: number): APIEmbed {
  const fields: APIEmbedField[] = metrics.map((m) => {
    const unit = inferUnit(m.query);
    const threshold = m.threshold ? ` ${m.threshold.op} ${formatValue(m.threshold.value, unit)}` : '';
    const now =
      m.breaching !== undefined && m.series !== undefined
        ? ` · **${m.breaching} of ${m.series}** series past it now`
        : m.series !== undefined
          ? ` · ${m.series} series`
          : '';
    const everyone = m.peaks.map((p) => ({ labels: p.labels }));
    const peaks = m.peaks
      .slice(0, STORM_PEAKS_SHOWN)
      .map((p) => `${escapeMarkdown(truncate(instanceOf({ labels: p.labels }, everyone) || 'all', 40))} ${formatValue(p.value, unit)}`);
    const lines = [
      `${inlineCode(m.query, QUERY_SHOWN)}${threshold}${now}`,
      ...(peaks.length ? [`Peak: ${peaks.join(' · ')}`] : []),
      ...m.failures.map((f) => `⚠️ ${truncate(f, 200)}`),
    ];
    return { name: `${escapeMarkdown(truncate(m.alertname, 80))} · ${m.firing} firing`, value: truncate(lines.join('\n'), FIELD_MAX) };
  });
  const asOf = metrics
    .map((m) => m.queriedAt)
    .filter((t): t is string => t !== undefined)
    .sort()
    .at(-1);
  return {
    title: `📈 What the metrics did · last ${formatDuration(windowMs)}`,
    ...(asOf ? { description: `Queried once per alert name for all its alerts, ${discordTimestamp(new Date(asOf), 'R')}.` } : {}),
    fields,
    color: COLORS.unknown,
  };
}
