import { parse, type ParsedFields } from 'node-cron';

// Pure cron arithmetic in a time zone: which scheduled time is the latest one at or before a
// given instant. node-cron only triggers; what is due is decided here with an injected clock.
// Day matching mirrors node-cron's own (day of month AND day of week, with L, W, L-n, nL, n#k).

/** A local wall-clock time in some time zone. */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** Days searched backwards for a previous match: 28 years covers "29 Feb on a Sunday". */
const MAX_DAYS_BACK = 366 * 28;
const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock time an instant shows in a time zone. */
export function wallTime(at: Date | number, timeZone: string): WallTime {
  const parts: Record<string, number> = {};
  for (const p of formatterFor(timeZone).formatToParts(at)) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts['year']!,
    month: parts['month']!,
    day: parts['day']!,
    hour: parts['hour']! % 24,
    minute: parts['minute']!,
    second: parts['second']!,
  };
}

function asUtc(w: WallTime): number {
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
}

function sameWall(a: WallTime, b: WallTime): boolean {
  return asUtc(a) === asUtc(b);
}

/** Offset of the zone from UTC at an instant, in ms (whole seconds). */
function offsetAt(ms: number, timeZone: string): number {
  return asUtc(wallTime(ms, timeZone)) - Math.floor(ms / 1000) * 1000;
}

/**
 * Every instant (epoch ms, ascending) that shows `w` on the zone's clocks: none in a DST gap
 * (02:30 on the day clocks go forward), two in a DST overlap (02:30 on the day they go back).
 */
export function instantsOf(w: WallTime, timeZone: string): number[] {
  const guess = asUtc(w);
  // The offsets a day either side: any real zone changes its offset at most once in 48 hours.
  const offsets = new Set([offsetAt(guess - DAY_MS, timeZone), offsetAt(guess, timeZone), offsetAt(guess + DAY_MS, timeZone)]);
  const found = new Set<number>();
  for (const off of offsets) {
    const candidate = guess - off;
    if (sameWall(wallTime(candidate, timeZone), w)) found.add(candidate);
  }
  return [...found].sort((a, b) => a - b);
}

/** "YYYY-MM-DDTHH:MM:SS" on the zone's clocks: equal for both instants of a repeated (DST) hour. */
export function wallKey(at: Date | number, timeZone: string): string {
  return new Date(asUtc(wallTime(at, timeZone))).toISOString().slice(0, 19);
}

/** The calendar date ("YYYY-MM-DD") an instant falls on in a time zone. */
export function localDate(at: Date | number, timeZone: string): string {
  return wallKey(at, timeZone).slice(0, 10);
}

function lastDayOfMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function weekdayOf(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}

/** The weekday (Mon-Fri) nearest to `target` within its month, as Quartz' `W` defines it. */
function nearestWeekday(year: number, month: number, target: number): number {
  const last = lastDayOfMonth(year, month);
  if (target < 1 || target > last) return -1;
  const wd = weekdayOf(year, month, target);
  if (wd === 6) return target === 1 ? target + 2 : target - 1;
  if (wd === 0) return target === last ? target - 2 : target + 1;
  return target;
}

function matchesDayOfMonth(field: ParsedFields['dayOfMonth'], year: number, month: number, day: number): boolean {
  const last = lastDayOfMonth(year, month);
  return field.some((v) => {
    if (v === day) return true;
    if (typeof v !== 'string') return false;
    if (v === 'L') return day === last;
    const w = /^(\d{1,2}|L)W$/.exec(v);
    if (w) return nearestWeekday(year, month, w[1] === 'L' ? last : Number(w[1])) === day;
    const offset = /^L-(\d{1,2})$/.exec(v);
    return offset !== null && last - Number(offset[1]) === day;
  });
}

function matchesDayOfWeek(field: ParsedFields['dayOfWeek'], year: number, month: number, day: number): boolean {
  const wd = weekdayOf(year, month, day);
  return field.some((v) => {
    if (v === wd) return true;
    if (typeof v !== 'string') return false;
    const nth = /^([0-7])#([1-5])$/.exec(v);
    if (nth) return Number(nth[1]) % 7 === wd && Math.floor((day - 1) / 7) + 1 === Number(nth[2]);
    const lastOf = /^([0-7])L$/i.exec(v);
    return lastOf !== null && Number(lastOf[1]) % 7 === wd && day + 7 > lastDayOfMonth(year, month);
  });
}

function dayMatches(f: ParsedFields, year: number, month: number, day: number): boolean {
  return f.month.includes(month) && matchesDayOfMonth(f.dayOfMonth, year, month, day) && matchesDayOfWeek(f.dayOfWeek, year, month, day);
}

const descending = (values: readonly number[]) => [...values].sort((a, b) => b - a);

/**
 * The latest time at or before `now` that the cron expression schedules in `timeZone`, or
 * undefined when there is none in the last 28 years. A time skipped by a DST gap is not a slot
 * (node-cron does not fire then either); a time repeated by a DST overlap is two slots.
 * Throws on an expression node-cron rejects.
 */
export function previousSlot(expression: string, timeZone: string, now: Date): Date | undefined {
  const f = parse(expression);
  const nowMs = now.getTime();
  const today = wallTime(nowMs, timeZone);
  const [seconds, minutes, hours] = [descending(f.second), descending(f.minute), descending(f.hour)];
  // A wall time later than now's can only be past when clocks went back within the last day.
  const wentBack = Math.max(0, offsetAt(nowMs - DAY_MS, timeZone) - offsetAt(nowMs, timeZone));
  for (let i = 0; i <= MAX_DAYS_BACK; i++) {
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day - i));
    const [year, month, day] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
    if (!dayMatches(f, year, month, day)) continue;
    for (const hour of hours) {
      for (const minute of minutes) {
        for (const second of seconds) {
          const w = { year, month, day, hour, minute, second };
          if (i === 0 && asUtc(w) > asUtc(today) + wentBack) continue;
          const at = instantsOf(w, timeZone)
            .filter((ms) => ms <= nowMs)
            .at(-1);
          if (at !== undefined) return new Date(at);
        }
      }
    }
  }
  return undefined;
}
