import type { Notification } from '../model.js';
import { severityOf } from '../render/alerts.js';
import { PRIORITY, type OutboxKind, type Priority } from '../store/outbox.js';
import type { ActiveDecision } from './stage.js';

/**
 * How soon a delivery goes when the channel's budget is short: a critical alert's new message
 * first, then other new firing messages, then updates of open messages, then resolves, and the
 * thread's start, posts and archive last (the message in the channel already says what matters).
 */
export function deliveryPriority(kind: OutboxKind, decision: ActiveDecision, notification: Notification): Priority {
  if (kind === 'thread' || kind === 'thread-post' || kind === 'thread-archive') return PRIORITY.details;
  const resolving = decision.action === 'resolve' || (decision.action === 'open' && decision.resolvedAt !== undefined);
  if (resolving) return PRIORITY.resolve;
  if (kind !== 'create') return PRIORITY.update;
  return isCritical(notification) ? PRIORITY.criticalFiring : PRIORITY.firing;
}

/** Whether any firing alert of the notification is critical (any spelling severityOf knows). */
export function isCritical(notification: Notification): boolean {
  return notification.alerts.some((a) => a.status === 'firing' && severityOf(a.labels) === 'critical');
}
