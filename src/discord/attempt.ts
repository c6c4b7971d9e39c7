// What one delivery attempt does with Discord, and the small pure helpers of the drainer: the
// request an attempt makes, its nonce, its log ids and its backoff.
import { Routes, type RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { incidentOfKey, type OutboxRow } from '../store/outbox.js';
import type { ThreadStart } from './rest.js';

/** What one attempt does with Discord. */
export type Plan =
  | { action: 'wait' }
  /** Nothing to do in Discord (a thread item whose message or thread is missing): recorded as failed with the reason. */
  | { action: 'skip'; reason: string }
  | { action: 'post'; channelId: string; body: RESTPostAPIChannelMessageJSONBody; note?: string; inThread?: boolean }
  | { action: 'edit'; channelId: string; messageId: string; body: RESTPostAPIChannelMessageJSONBody }
  | { action: 'thread'; channelId: string; messageId: string; start: ThreadStart }
  | { action: 'archive'; threadId: string };

/** The request a plan makes (method and path), for its rate-limit bucket. */
export function requestOf(plan: Exclude<Plan, { action: 'wait' | 'skip' }>): { method: string; path: string } {
  switch (plan.action) {
    case 'post':
      return { method: 'POST', path: Routes.channelMessages(plan.channelId) };
    case 'edit':
      return { method: 'PATCH', path: Routes.channelMessage(plan.channelId, plan.messageId) };
    case 'thread':
      return { method: 'POST', path: Routes.threads(plan.channelId, plan.messageId) };
    case 'archive':
      return { method: 'PATCH', path: Routes.channel(plan.threadId) };
  }
}

/** The ids a delivery's log lines carry: the outbox item's, and its incident's (order key `incident:<id>`). */
export function deliveryIds(row: Pick<OutboxRow, 'id' | 'orderKey'>): { outboxId: number; incidentId?: number; orderKey?: string } {
  const incidentId = incidentOfKey(row.orderKey);
  return incidentId !== undefined ? { outboxId: row.id, incidentId } : { outboxId: row.id, orderKey: row.orderKey };
}

/**
 * Discord nonce for an item: stable across retries and restarts (id + creation time), at most
 * 25 characters, and not reused by a fresh database whose ids restart at 1.
 */
export function nonceFor(row: Pick<OutboxRow, 'id' | 'createdAt'>): string {
  return `vigil-${row.id}-${row.createdAt.toString(36)}`.slice(0, 25);
}

/** Exponential backoff with jitter: attempt 1 waits about minMs, doubling up to maxMs. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, minMs * 2 ** Math.max(0, attempt - 1));
  // "Equal jitter": half fixed, half random, so retries of many items spread out but still grow.
  const jittered = exp / 2 + random() * (exp / 2);
  return Math.round(Math.min(maxMs, Math.max(minMs, jittered)));
}
