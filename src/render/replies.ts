import type { RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { formatDurationIn, translator } from '../i18n/index.js';
import type { Alert, Locale, Notification } from '../model.js';
import { alertNames, countSuffix } from './alert.js';
import { LABEL_PRIORITY, oneLine } from './finding-text.js';
import { escapeMarkdown } from './format.js';
import { renderAlertRoster } from './storm.js';
import { fitMessage, type Warn } from './truncate.js';

// The short replies to an alert message: alerts joining an open incident, and the resolve.

/** What `renderResolvedReply` needs. */
export interface ResolvedReplyInput {
  notification: Notification;
  /** When the incident started. */
  startedAt: Date;
  resolvedAt: Date;
  /** The language of the incident's route; default en. */
  locale?: Locale;
}

/** A short reply to the original alert message ("✅ Resolved: HostHighCpuLoad after 2m 5s"); the caller adds message_reference. */
export function renderResolvedReply(input: ResolvedReplyInput, warn: Warn): RESTPostAPIChannelMessageJSONBody {
  const locale = input.locale ?? 'en';
  const t = translator(locale);
  const duration = formatDurationIn(locale, Math.max(0, input.resolvedAt.getTime() - input.startedAt.getTime()));
  const names = `${escapeMarkdown(oneLine(alertNames(input.notification, t)))}${countSuffix(input.notification)}`;
  const content = t('alert.reply.resolved', { names, duration });
  return fitMessage({ content, allowed_mentions: { parse: [], replied_user: false } }, warn, locale);
}

/** What `renderReminder` needs. */
export interface ReminderInput {
  notification: Notification;
  /** When the incident started. */
  startedAt: Date;
  now: Date;
  /** The language of the incident's route; default en. */
  locale?: Locale;
}

/** The line a still-firing incident's repeated notification becomes ("🔁 Still firing after 4h: DiskFull, 3 alerts"). */
export function renderReminder(input: ReminderInput, warn: Warn): RESTPostAPIChannelMessageJSONBody {
  const hours = Math.max(0, input.now.getTime() - input.startedAt.getTime());
  // To the minute: a reminder every few hours needs no seconds.
  const locale = input.locale ?? 'en';
  const t = translator(locale);
  const after = formatDurationIn(locale, hours < 60_000 ? hours : Math.round(hours / 60_000) * 60_000);
  const count = input.notification.alerts.filter((a) => a.status === 'firing').length;
  const content = t('alert.reply.reminder', { after, names: escapeMarkdown(oneLine(alertNames(input.notification, t))), count });
  return fitMessage({ content, allowed_mentions: { parse: [], replied_user: false } }, warn, locale);
}

/** A short reply naming alerts that started firing in an open incident ("🔥 Now firing: HostHighCpuLoad on db-host:9100"). */
export function renderFiringReply(alerts: readonly Pick<Alert, 'labels'>[], warn: Warn, locale: Locale = 'en'): RESTPostAPIChannelMessageJSONBody {
  const t = translator(locale);
  const names = alerts.map((a) => {
    const where = LABEL_PRIORITY.filter((k) => k !== 'severity' && k !== 'job')
      .map((k) => a.labels[k])
      .find(Boolean);
    const name = a.labels.alertname || t('alert.name.fallback');
    return escapeMarkdown(oneLine(where ? t('alert.reply.on', { name, where }) : name));
  });
  const content = t('alert.reply.nowFiring', { names: names.join(', ') || t('alert.reply.noAlerts') });
  return fitMessage({ content, allowed_mentions: { parse: [], replied_user: false } }, warn, locale);
}

/** Alerts a note names in one line; more are listed one by one (renderAlertRoster), never cut short. */
export const NOTE_LINE_MAX = 5;

/** The notes telling that alerts started firing in an open incident: one line for a few, else a list naming each. */
export function renderFiringNotes(
  alerts: readonly Pick<Alert, 'labels' | 'status' | 'startsAt'>[],
  warn: Warn,
  locale: Locale = 'en',
): RESTPostAPIChannelMessageJSONBody[] {
  const t = translator(locale);
  if (alerts.length <= NOTE_LINE_MAX) return [renderFiringReply(alerts, warn, locale)];
  return renderAlertRoster(alerts, (from, to) => t('alert.reply.roster', { from, to, total: alerts.length }), warn, locale);
}
