import type { Notification } from '../model.js';
import type { Incident, IncidentAlertState } from '../store/incidents.js';

/** Why the pipeline does what it does with a notification (logged and stored with it). */
export type DecisionReason =
  'new-incident' | 'resolved-without-firing' | 'alerts-changed' | 'new-alerts-firing' | 'all-resolved' | 'no-change' | 'already-resolved';

/** What the pipeline should do with a notification. */
export type Decision =
  | { action: 'open'; reason: 'new-incident' | 'resolved-without-firing'; alerts: Record<string, IncidentAlertState>; resolvedAt?: Date }
  | {
      action: 'update';
      reason: 'alerts-changed' | 'new-alerts-firing';
      incidentId: number;
      alerts: Record<string, IncidentAlertState>;
      /** Fingerprints that started firing with this notification: the channel is told about them. */
      newlyFiring: string[];
    }
  | { action: 'resolve'; reason: 'all-resolved'; incidentId: number; alerts: Record<string, IncidentAlertState>; resolvedAt: Date }
  | { action: 'skip'; reason: 'no-change' | 'already-resolved' | 'reminder' };

function statesOf(n: Notification): Record<string, IncidentAlertState> {
  const out: Record<string, IncidentAlertState> = {};
  for (const a of n.alerts) {
    out[a.fingerprint] = {
      status: a.status,
      startsAt: a.startsAt.toISOString(),
      ...(a.startsAtUnknown ? { startsAtUnknown: true } : {}),
      ...(a.endsAt ? { endsAt: a.endsAt.toISOString() } : {}),
      labels: a.labels,
    };
  }
  return out;
}

/** Whether the alert started again since `before` (a made-up start time never counts as a new start). */
function restarted(before: IncidentAlertState, now: IncidentAlertState): boolean {
  return !now.startsAtUnknown && !before.startsAtUnknown && before.startsAt !== now.startsAt;
}

function latestEnd(states: Record<string, IncidentAlertState>, now: Date): Date {
  let latest = 0;
  for (const s of Object.values(states)) if (s.endsAt) latest = Math.max(latest, Date.parse(s.endsAt));
  // A resolved alert without an end time (some senders omit it) ended when we heard of it.
  return latest > 0 ? new Date(latest) : now;
}

/**
 * Decides what a notification means for the group's latest incident.
 * Pure: the store is read by the caller, the clock is passed in.
 */
export function decide(latest: Incident | undefined, n: Notification, now: Date): Decision {
  const incoming = statesOf(n);
  const open = latest?.status === 'firing' ? latest : undefined;

  if (!open) {
    const anyFiring = n.alerts.some((a) => a.status === 'firing');
    if (anyFiring) return { action: 'open', reason: 'new-incident', alerts: incoming };
    // A resolved notification for alerts the last incident already closed: a late resend.
    const alreadyClosed = latest !== undefined && n.alerts.every((a) => latest.alerts[a.fingerprint]?.status === 'resolved');
    if (alreadyClosed) return { action: 'skip', reason: 'already-resolved' };
    return { action: 'open', reason: 'resolved-without-firing', alerts: incoming, resolvedAt: latestEnd(incoming, now) };
  }

  const merged: Record<string, IncidentAlertState> = { ...open.alerts, ...incoming };
  const newlyFiring = Object.entries(incoming)
    .filter(([fp, s]) => {
      const before = open.alerts[fp];
      return s.status === 'firing' && (before === undefined || before.status === 'resolved' || restarted(before, s));
    })
    .map(([fp]) => fp);
  const changed = Object.entries(incoming).some(([fp, s]) => {
    const before = open.alerts[fp];
    return before === undefined || before.status !== s.status || restarted(before, s);
  });
  // Unchanged: a resend, or the sender's reminder that the incident is still firing (told in its thread).
  if (!changed) return { action: 'skip', reason: n.reminder ? 'reminder' : 'no-change' };

  if (Object.values(merged).every((s) => s.status === 'resolved')) {
    return { action: 'resolve', reason: 'all-resolved', incidentId: open.id, alerts: merged, resolvedAt: latestEnd(merged, now) };
  }
  return {
    action: 'update',
    reason: newlyFiring.length > 0 ? 'new-alerts-firing' : 'alerts-changed',
    incidentId: open.id,
    alerts: merged,
    newlyFiring,
  };
}
