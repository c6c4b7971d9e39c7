import type { JobState, ScheduleSpec } from '../store/schedule.js';
import { wallKey } from './cron.js';

// What a scheduled job should do at start and at each tick: pure decisions over the persisted
// state, the latest scheduled time and whether a run is still going. The clock is the caller's.

/** What to do when Vigil starts. */
export type StartDecision =
  /** Record `slot` as done without running: nothing before it is owed. */
  | { action: 'baseline'; slot: number; reason: 'first-start' | 'schedule-changed' }
  /** At least one scheduled time passed while Vigil was down: run once, for the latest of them. */
  | { action: 'catch-up'; slot: number; missedSince: number }
  | { action: 'none' };

/** What to do when the trigger fires. */
export type TickDecision = { action: 'run'; slot: number } | { action: 'skip'; reason: 'overlap' | 'already-ran' | 'not-due' };

/** Whether `slot` is owed: later than the last one and not the same wall-clock time (a repeated DST hour). */
function owed(state: JobState, slot: number, timezone: string): boolean {
  return slot > state.lastSlot && wallKey(slot, timezone) !== wallKey(state.lastSlot, timezone);
}

/**
 * At start: a job never seen before, or whose schedule changed, starts from a baseline (nothing is
 * owed, so a fresh install does not post at once); otherwise a missed scheduled time runs ONCE,
 * however many were missed. `slot` is the latest scheduled time at or before `now`.
 */
export function decideAtStart(state: JobState | undefined, spec: ScheduleSpec, slot: Date | undefined, now: Date): StartDecision {
  const baselineSlot = slot?.getTime() ?? now.getTime();
  if (!state) return { action: 'baseline', slot: baselineSlot, reason: 'first-start' };
  if (state.schedule !== spec.schedule || state.timezone !== spec.timezone) {
    return { action: 'baseline', slot: baselineSlot, reason: 'schedule-changed' };
  }
  if (slot && owed(state, slot.getTime(), spec.timezone)) {
    return { action: 'catch-up', slot: slot.getTime(), missedSince: state.lastSlot };
  }
  return { action: 'none' };
}

/**
 * At a tick: a run still going means this tick is skipped (a job never overlaps itself); a slot
 * already run (caught up at start, a duplicate trigger, the second pass of a repeated DST hour)
 * is not run again.
 */
export function decideAtTick(state: JobState | undefined, spec: ScheduleSpec, slot: Date | undefined, running: boolean): TickDecision {
  if (running) return { action: 'skip', reason: 'overlap' };
  if (!slot) return { action: 'skip', reason: 'not-due' };
  if (state && !owed(state, slot.getTime(), spec.timezone)) return { action: 'skip', reason: 'already-ran' };
  return { action: 'run', slot: slot.getTime() };
}
