import type { RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { formatDuration } from '../config/duration.js';
import type { Alert, Notification } from '../model.js';
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
}

/** A short reply to the original alert message ("✅ Resolved: HostHighCpuLoad after 2m 5s"); the caller adds message_reference. */
export function renderResolvedReply(input: ResolvedReplyInput, warn: Warn): RESTPostAPIChannelMessageJSONBody {
  const took = formatDuration(Math.max(0, input.resolvedAt.getTime() - input.startedAt.getTime()));
  const content = `✅ Resolved: ${escapeMarkdown(oneLine(alertNames(input.notification)))}${countSuffix(input.notification)} after ${took}`;
  return fitMessage({ content, allowed_mentions: { parse: [], replied_user: false } }, warn);
}

/** What `renderReminder` needs. */
export interface ReminderInput {
  notification: Notification;
  /** When the incident started. */
  startedAt: Date;
  now: Date;
}

/** The line a still-firing incident's repeated notification becomes ("🔁 Still firing after 4h: DiskFull, 3 alerts"). */
export function renderReminder(input: ReminderInput, warn: Warn): RESTPostAPIChannelMessageJSONBody {
  const hours = Math.max(0, input.now.getTime() - input.startedAt.getTime());
  // To the minute: a reminder every few hours needs no seconds.
  const after = formatDuration(hours < 60_000 ? hours : Math.round(hours / 60_000) * 60_000);
  const firing = input.notification.alerts.filter((a) => a.status === 'firing').length;
  const content = `🔁 Still firing after ${after}: ${escapeMarkdown(oneLine(alertNames(input.notification)))}, ${firing} alert${firing === 1 ? '' : 's'}`;
  return fitMessage({ content, allowed_mentions: { parse: [], replied_user: false } }, warn);
}

/** A short reply naming alerts that started firing in an open incident ("🔥 Now firing: HostHighCpuLoad on db-host:9100"). */
export function renderFiringReply(alerts: readonly Pick<Alert, 'labels'>[], warn: Warn): RESTPostAPIChannelMessageJSONBody {
  const names = alerts.map((a) => {
    const where = LABEL_PRIORITY.filter((k) => k !== 'severity' && k !== 'job')
      .map((k) => a.labels[k])
      .find(Boolean);
    return escapeMarkdown(oneLine(`${a.labels.alertname || 'Alert'}${where ? ` on ${where}` : ''}`));
  });
  const content = `🔥 Now firing: ${names.join(', ') || 'no alerts'}`;
  return fitMessage({ content, allowed_mentions: { parse: [], replied_user: false } }, warn);
}

/** Alerts a note names in one line; more are listed one by one (renderAlertRoster), never cut short. */
export const NOTE_LINE_MAX = 5;

/** The notes telling that alerts started firing in an open incident: one line for a few, else a list naming each. */
export function renderFiringNotes(alerts: readonly Pick<Alert, 'labels' | 'status' | 'startsAt'>[], warn: Warn): RESTPostAPIChannelMessageJSONBody[] {
  if (alerts.length <= NOTE_LINE_MAX) return [renderFiringReply(alerts, warn)];
  return renderAlertRoster(alerts, (a, b) => `🔥 Now firing: ${a}–${b} of ${alerts.length} new alerts`, warn);
}
