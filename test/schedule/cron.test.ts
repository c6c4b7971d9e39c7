import { createTask } from 'node-cron';
import { describe, expect, it } from 'vitest';
import { cronProblem } from '../../src/config/cron.js';
import { instantsOf, localDate, previousSlot, wallKey, wallTime } from '../../src/schedule/cron.js';

const at = (iso: string) => new Date(iso);

describe('previousSlot', () => {
  it.each([
    // 09:00 Europe/Berlin is 07:00Z in summer (CEST, +2) and 08:00Z in winter (CET, +1).
    ['0 9 * * *', 'Europe/Berlin', '2026-07-01T08:00:00Z', '2026-07-01T07:00:00.000Z'],
    ['0 9 * * *', 'Europe/Berlin', '2026-07-01T06:59:59Z', '2026-06-30T07:00:00.000Z'],
    ['0 9 * * *', 'Europe/Berlin', '2026-01-15T08:30:00Z', '2026-01-15T08:00:00.000Z'],
    ['0 9 * * *', 'UTC', '2026-01-15T09:00:00Z', '2026-01-15T09:00:00.000Z'],
    ['0 9 * * *', 'America/New_York', '2026-01-15T13:59:00Z', '2026-01-14T14:00:00.000Z'],
    // Mondays to Fridays only: on a Sunday the last slot is Friday's.
    ['30 7 * * 1-5', 'UTC', '2026-11-22T12:00:00Z', '2026-11-20T07:30:00.000Z'],
    // Six fields: seconds.
    ['*/15 * * * * *', 'UTC', '2026-11-21T10:00:07.500Z', '2026-11-21T10:00:00.000Z'],
    // Last day of the month.
    ['0 3 L * *', 'UTC', '2026-11-21T00:00:00Z', '2026-10-31T03:00:00.000Z'],
    // Second Monday of the month.
    ['0 3 * * 1#2', 'UTC', '2026-11-21T00:00:00Z', '2026-11-09T03:00:00.000Z'],
  ])('%s in %s at %s is %s', (expr, tz, now, expected) => {
    expect(previousSlot(expr, tz, at(now))?.toISOString()).toBe(expected);
  });

  it('skips a time the clocks jump over (02:30 on the day Berlin springs forward)', () => {
    // 2026-03-29: 02:00 CET becomes 03:00 CEST; 02:30 does not exist that day.
    expect(previousSlot('30 2 * * *', 'Europe/Berlin', at('2026-03-29T12:00:00Z'))?.toISOString()).toBe('2026-03-28T01:30:00.000Z');
  });

  it('sees both passes of a repeated hour (02:30 on the day Berlin falls back)', () => {
    // 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:30 happens at 00:30Z and again at 01:30Z.
    expect(previousSlot('30 2 * * *', 'Europe/Berlin', at('2026-10-25T01:10:00Z'))?.toISOString()).toBe('2026-10-25T00:30:00.000Z');
    expect(previousSlot('30 2 * * *', 'Europe/Berlin', at('2026-10-25T01:45:00Z'))?.toISOString()).toBe('2026-10-25T01:30:00.000Z');
  });

  it('finds a rare date far back (29 February)', () => {
    expect(previousSlot('0 0 29 2 *', 'UTC', at('2026-11-21T00:00:00Z'))?.toISOString()).toBe('2024-02-29T00:00:00.000Z');
  });

  it.each([
    ['0 9 * * *', 'Europe/Berlin'],
    ['*/5 * * * *', 'Asia/Kolkata'],
    ['0 3 LW * *', 'UTC'],
    ['15 4 * * 5L', 'America/Sao_Paulo'],
    ['0 0 1 * *', 'Pacific/Auckland'],
  ])('lands on the latest time node-cron itself matches: %s in %s', (expr, tz) => {
    const now = at('2026-11-21T10:07:30Z');
    const slot = previousSlot(expr, tz, now);
    expect(slot).toBeDefined();
    const task = createTask(expr, () => undefined, { timezone: tz });
    try {
      expect(task.match(slot!)).toBe(true);
      // No minute after the slot, up to now, matches (these expressions fire at second 0).
      const later: string[] = [];
      for (let ms = slot!.getTime() + 60_000; ms <= now.getTime(); ms += 60_000) if (task.match(new Date(ms))) later.push(new Date(ms).toISOString());
      expect(later).toEqual([]);
    } finally {
      void task.destroy();
    }
  });

  it('throws on an expression node-cron rejects', () => {
    expect(() => previousSlot('61 * * * *', 'UTC', new Date())).toThrow();
  });
});

describe('time zone helpers', () => {
  it('reads the wall clock of an instant in a zone', () => {
    expect(wallTime(at('2026-07-01T07:00:00Z'), 'Europe/Berlin')).toEqual({ year: 2026, month: 7, day: 1, hour: 9, minute: 0, second: 0 });
  });

  it('finds no instant for a skipped wall time and two for a repeated one', () => {
    expect(instantsOf({ year: 2026, month: 3, day: 29, hour: 2, minute: 30, second: 0 }, 'Europe/Berlin')).toEqual([]);
    expect(instantsOf({ year: 2026, month: 10, day: 25, hour: 2, minute: 30, second: 0 }, 'Europe/Berlin').map((ms) => new Date(ms).toISOString())).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T01:30:00.000Z',
    ]);
  });

  it('gives both passes of a repeated hour the same wall key', () => {
    expect(wallKey(at('2026-10-25T00:30:00Z'), 'Europe/Berlin')).toBe(wallKey(at('2026-10-25T01:30:00Z'), 'Europe/Berlin'));
  });

  it('dates an instant in the zone, not in UTC', () => {
    expect(localDate(at('2026-11-21T23:30:00Z'), 'Europe/Berlin')).toBe('2026-11-22');
    expect(localDate(at('2026-11-21T23:30:00Z'), 'UTC')).toBe('2026-11-21');
  });

  it.each([
    ['0 9 * * *', undefined],
    ['0 25 * * *', 'invalid cron expression'],
    ['0 9 * *', 'invalid cron expression'],
  ])('cronProblem(%s)', (expr, problem) => {
    const found = cronProblem(expr);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });
});
