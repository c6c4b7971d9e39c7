import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/model.js';
import { incidentWindow, PROMETHEUS_MAX_POINTS, stepFor } from '../../src/queries/window.js';

const NICE = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400];
const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
const D = 24 * H;

/** floor(span / step) + 1: the points Prometheus returns for a range query. */
const pointsOf = (spanMs: number, step: number) => Math.floor(Math.max(0, spanMs) / 1000 / step) + 1;
const at = (ms: number) => new Date(Date.UTC(2026, 10, 21, 9) + ms);

describe('stepFor', () => {
  it.each([
    ['a 1-second window', 1 * S, 250, 1],
    ['an empty window', 0, 250, 1],
    ['an inverted window (end before start)', -5 * MIN, 250, 1],
    ['a 4-minute window', 4 * MIN, 250, 1],
    ['a 249-second window (exactly 250 points at 1s)', 249 * S, 250, 1],
    ['a 250-second window', 250 * S, 250, 2],
    ['a 35-minute window', 35 * MIN, 250, 10],
    ['a 1-hour window', H, 250, 15],
    ['a 6-hour window', 6 * H, 250, 120],
    ['a 1-day window', D, 250, 600],
    ['a 30-day window', 30 * D, 250, 10_800],
    ['a 1-year window', 365 * D, 250, 2 * 86_400],
    ['a 1-hour window at 11,000 points', H, 11_000, 1],
    ['a 30-day window asking for more than Prometheus allows', 30 * D, 1_000_000, 300],
  ])('steps %s (max %i points) by %is', (_name, spanMs, maxPoints, step) => {
    expect(stepFor(at(0), at(spanMs), maxPoints)).toBe(step);
  });

  it.each([1 * S, 59 * S, 17 * MIN, 3 * H + 7 * S, 2 * D, 30 * D, 400 * D])(
    'keeps a %i ms window within 250 points with the smallest nice step that does',
    (spanMs) => {
      const step = stepFor(at(0), at(spanMs));
      expect(step).toBeGreaterThanOrEqual(1);
      expect(pointsOf(spanMs, step)).toBeLessThanOrEqual(250);
      const smaller = NICE.filter((s) => s < step).at(-1);
      if (smaller !== undefined) expect(pointsOf(spanMs, smaller)).toBeGreaterThan(250);
    },
  );

  it('never asks Prometheus for more than 11,000 points', () => {
    const spanMs = 365 * D;
    expect(pointsOf(spanMs, stepFor(at(0), at(spanMs), 50_000))).toBeLessThanOrEqual(PROMETHEUS_MAX_POINTS);
  });
});

describe('incidentWindow', () => {
  const opts = { lookbackMs: 30 * MIN, logWindowMs: 5 * MIN };
  const now = at(0);
  const alert = (status: Alert['status'], startsAt: number, endsAt?: number) => ({
    status,
    startsAt: at(startsAt),
    ...(endsAt !== undefined ? { endsAt: at(endsAt) } : {}),
  });

  it.each([
    // name, alert, metrics [start, end], logs [start, end] (ms relative to now)
    ['a firing alert started 10 minutes ago', alert('firing', -10 * MIN), [-40 * MIN, 0], [-15 * MIN, -5 * MIN]],
    ['a firing alert started 2 minutes ago (logs stop at now)', alert('firing', -2 * MIN), [-32 * MIN, 0], [-7 * MIN, 0]],
    ['a resolved alert', alert('resolved', -60 * MIN, -20 * MIN), [-90 * MIN, -20 * MIN], [-65 * MIN, -55 * MIN]],
    ['a resolved 1-minute flap (logs not cut at endsAt)', alert('resolved', -60 * MIN, -59 * MIN), [-90 * MIN, -59 * MIN], [-65 * MIN, -55 * MIN]],
    ['a resolved alert without endsAt (treated as firing)', alert('resolved', -10 * MIN), [-40 * MIN, 0], [-15 * MIN, -5 * MIN]],
    ['a firing alert with a stray endsAt (ignored)', alert('firing', -10 * MIN, -9 * MIN), [-40 * MIN, 0], [-15 * MIN, -5 * MIN]],
    ['startsAt in the future (clock skew): anchored at now', alert('firing', 3 * MIN), [-30 * MIN, 0], [-5 * MIN, 0]],
    ['endsAt before startsAt: metrics end at startsAt', alert('resolved', -10 * MIN, -12 * MIN), [-40 * MIN, -10 * MIN], [-15 * MIN, -5 * MIN]],
    ['endsAt in the future: metrics end at now', alert('resolved', -10 * MIN, 5 * MIN), [-40 * MIN, 0], [-15 * MIN, -5 * MIN]],
    ['a 30-day-old alert', alert('firing', -30 * D), [-30 * D - 30 * MIN, 0], [-30 * D - 5 * MIN, -30 * D + 5 * MIN]],
  ])('%s', (_name, a, [start, end], [logStart, logEnd]) => {
    const w = incidentWindow(a, opts, now);
    expect(w).toEqual({
      start: at(start!),
      end: at(end!),
      stepSeconds: stepFor(at(start!), at(end!)),
      logStart: at(logStart!),
      logEnd: at(logEnd!),
    });
  });

  it.each([alert('firing', 10 * D), alert('resolved', -D, -2 * D), alert('resolved', 5 * MIN, 1 * MIN), alert('firing', -1)])(
    'never produces an inverted range or one past now (%j)',
    (a) => {
      const w = incidentWindow(a, { lookbackMs: 1, logWindowMs: 1 }, now);
      expect(w.start.getTime()).toBeLessThan(w.end.getTime());
      expect(w.logStart.getTime()).toBeLessThan(w.logEnd.getTime());
      expect(w.end.getTime()).toBeLessThanOrEqual(now.getTime());
      expect(w.logEnd.getTime()).toBeLessThanOrEqual(now.getTime());
    },
  );
});
