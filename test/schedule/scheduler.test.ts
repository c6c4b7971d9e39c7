import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { decideAtStart, decideAtTick } from '../../src/schedule/due.js';
import { createScheduler, type JobContext, type JobSpec, type Scheduler, type TriggerFactory } from '../../src/schedule/scheduler.js';
import { getJobState, lastFinishedRun, runsSince, type JobState } from '../../src/store/schedule.js';
import { openDatabase, type Database } from '../../src/store/db.js';
import { eventually } from '../support/eventually.js';

const BERLIN_9 = { schedule: '0 9 * * *', timezone: 'Europe/Berlin' };
const at = (iso: string) => new Date(iso);
const ms = (iso: string) => Date.parse(iso);

describe('decideAtStart', () => {
  const state = (lastSlot: string, spec = BERLIN_9): JobState => ({ ...spec, lastSlot: ms(lastSlot) });
  it.each([
    ['a job never seen: baseline, no run', undefined, '2026-07-03T07:00:00Z', { action: 'baseline', reason: 'first-start', slot: ms('2026-07-03T07:00:00Z') }],
    [
      'one slot missed: catch up',
      state('2026-07-02T07:00:00Z'),
      '2026-07-03T07:00:00Z',
      { action: 'catch-up', slot: ms('2026-07-03T07:00:00Z'), missedSince: ms('2026-07-02T07:00:00Z') },
    ],
    [
      'three slots missed: still one catch-up, for the latest',
      state('2026-06-30T07:00:00Z'),
      '2026-07-03T07:00:00Z',
      { action: 'catch-up', slot: ms('2026-07-03T07:00:00Z'), missedSince: ms('2026-06-30T07:00:00Z') },
    ],
    ['nothing missed', state('2026-07-03T07:00:00Z'), '2026-07-03T07:00:00Z', { action: 'none' }],
  ] as const)('%s', (_name, s, slot, expected) => {
    expect(decideAtStart(s, BERLIN_9, at(slot), at('2026-07-03T12:00:00Z'))).toEqual(expected);
  });

  it('starts from a baseline when the schedule changed (the old state says nothing about the new times)', () => {
    const old = state('2026-07-01T07:00:00Z', { schedule: '0 8 * * *', timezone: 'Europe/Berlin' });
    expect(decideAtStart(old, BERLIN_9, at('2026-07-03T07:00:00Z'), at('2026-07-03T12:00:00Z'))).toMatchObject({
      action: 'baseline',
      reason: 'schedule-changed',
    });
  });
});

describe('decideAtTick', () => {
  const state: JobState = { ...BERLIN_9, lastSlot: ms('2026-10-25T00:30:00Z') };
  it.each([
    ['a run still going: skip (no overlap)', true, '2026-10-26T01:30:00Z', { action: 'skip', reason: 'overlap' }],
    ['the slot already ran', false, '2026-10-25T00:30:00Z', { action: 'skip', reason: 'already-ran' }],
    ['a new slot: run', false, '2026-10-26T01:30:00Z', { action: 'run', slot: ms('2026-10-26T01:30:00Z') }],
  ] as const)('%s', (_name, running, slot, expected) => {
    expect(decideAtTick(state, BERLIN_9, at(slot), running)).toEqual(expected);
  });

  it('does not run the second pass of a repeated DST hour (02:30 Berlin on 25 Oct 2026)', () => {
    const spec = { schedule: '30 2 * * *', timezone: 'Europe/Berlin' };
    const ran: JobState = { ...spec, lastSlot: ms('2026-10-25T00:30:00Z') };
    expect(decideAtTick(ran, spec, at('2026-10-25T01:30:00Z'), false)).toEqual({ action: 'skip', reason: 'already-ran' });
  });
});

/** A clock the test moves by hand. */
function manualClock(start: string): { now: () => Date; set(iso: string): void } {
  let t = ms(start);
  return { now: () => new Date(t), set: (iso) => void (t = ms(iso)) };
}

/** A promise the test settles by hand. */
function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** A trigger that never fires by itself: the tests call tick. */
const handTrigger: TriggerFactory & { armed: string[]; stopped: string[] } = Object.assign(
  (spec: JobSpec) => {
    handTrigger.armed.push(`${spec.name} ${spec.schedule} ${spec.timezone}`);
    return { stop: () => void handTrigger.stopped.push(spec.name) };
  },
  { armed: [] as string[], stopped: [] as string[] },
);

interface Harness {
  db: Database;
  logs: string[];
  metrics: Metrics;
  clock: ReturnType<typeof manualClock>;
  runs: JobContext[];
  make(run?: (ctx: JobContext) => Promise<Record<string, unknown> | void>, spec?: { schedule: string; timezone: string }): Scheduler;
}

const open: Scheduler[] = [];
const dbs: Database[] = [];

function harness(start: string): Harness {
  const db = openDatabase(':memory:');
  dbs.push(db);
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug' }, { write: (s: string) => void logs.push(s) });
  const metrics = createMetrics({ defaultMetrics: false });
  const clock = manualClock(start);
  const runs: JobContext[] = [];
  return {
    db,
    logs,
    metrics,
    clock,
    runs,
    make(run = async () => undefined, spec = BERLIN_9) {
      const job: JobSpec = {
        name: 'digest',
        ...spec,
        run: (ctx) => {
          runs.push(ctx);
          return run(ctx);
        },
      };
      const s = createScheduler({ jobs: [job], db, logger, now: clock.now, metrics, trigger: handTrigger });
      open.push(s);
      return s;
    },
  };
}

async function counted(m: Metrics, outcome: string): Promise<number> {
  const values = (await m.scheduledJobRuns.get()).values;
  return values.find((v) => v.labels.job === 'digest' && v.labels.outcome === outcome)?.value ?? 0;
}

afterEach(async () => {
  for (const s of open.splice(0)) await s.stop();
  for (const db of dbs.splice(0)) await db.close();
});

describe('scheduler (injected clock, hand-driven trigger)', () => {
  it('arms one trigger per job in its time zone and disarms it on stop', async () => {
    const h = harness('2026-07-03T06:00:00Z');
    const s = h.make();
    await s.start();
    expect(handTrigger.armed.at(-1)).toBe('digest 0 9 * * * Europe/Berlin');
    await s.stop();
    expect(handTrigger.stopped.at(-1)).toBe('digest');
  });

  it('does not run at the first start ever: it waits for the next 09:00', async () => {
    const h = harness('2026-07-03T12:00:00Z');
    await h.make().start();
    expect(h.runs).toHaveLength(0);
    expect((await getJobState(h.db, 'digest'))?.lastSlot).toBe(ms('2026-07-03T07:00:00Z'));
  });

  it('runs at 09:00 Europe/Berlin (07:00Z in summer, 08:00Z in winter), once per day', async () => {
    const h = harness('2026-07-03T06:00:00Z');
    const s = h.make();
    await s.start();
    h.clock.set('2026-07-03T06:59:59Z');
    expect(await s.tick('digest')).toBe('skipped-already-ran');
    h.clock.set('2026-07-03T07:00:00Z');
    expect(await s.tick('digest')).toBe('ok');
    h.clock.set('2026-07-03T08:00:00Z');
    expect(await s.tick('digest')).toBe('skipped-already-ran');
    expect(h.runs.map((r) => r.scheduledAt.toISOString())).toEqual(['2026-07-03T07:00:00.000Z']);

    h.clock.set('2026-12-01T08:00:00Z');
    expect(await s.tick('digest')).toBe('ok');
    expect(h.runs.at(-1)?.scheduledAt.toISOString()).toBe('2026-12-01T08:00:00.000Z');
  });

  it('trusts the time the trigger fired for over a clock that reads a little early', async () => {
    const h = harness('2026-07-03T06:00:00Z');
    const s = h.make();
    await s.start();
    h.clock.set('2026-07-03T06:59:59.990Z');
    expect(await s.tick('digest', at('2026-07-03T07:00:00Z'))).toBe('ok');
    expect(h.runs[0]?.scheduledAt.toISOString()).toBe('2026-07-03T07:00:00.000Z');
  });

  it('skips (and logs, and counts) a tick that comes while the previous run is still going', async () => {
    const h = harness('2026-07-03T06:00:00Z');
    const gate = deferred();
    const s = h.make(() => gate.promise, { schedule: '*/5 * * * *', timezone: 'UTC' });
    await s.start();
    h.clock.set('2026-07-03T06:05:00Z');
    const first = s.tick('digest');
    // The first run is going once the job was called (the store is asynchronous: tick() claims its slot first).
    await eventually('the first run to start', () => (h.runs.length === 1 ? true : undefined));
    h.clock.set('2026-07-03T06:10:00Z');
    expect(await s.tick('digest')).toBe('skipped-overlap');
    expect(await s.runNow('digest')).toBe('skipped-overlap');
    gate.resolve();
    expect(await first).toBe('ok');
    expect(h.runs).toHaveLength(1);
    expect(h.logs.some((l) => l.includes('the previous run is still going') && l.includes('"job":"digest"'))).toBe(true);
    expect(await counted(h.metrics, 'skipped')).toBe(2);
    expect(await counted(h.metrics, 'ok')).toBe(1);
  });

  it('runs a missed 09:00 once at start after two days down, and not again at the next tick or restart', async () => {
    const h = harness('2026-07-01T06:00:00Z');
    const before = h.make();
    await before.start();
    h.clock.set('2026-07-01T07:00:00Z');
    expect(await before.tick('digest')).toBe('ok');
    await before.stop();

    // Down from 1 July 10:00 to 3 July 12:00 (Berlin): the 2 and 3 July runs were missed.
    h.clock.set('2026-07-03T10:00:00Z');
    const after = h.make();
    await after.start();
    await after.idle();
    expect(h.runs.map((r) => [r.reason, r.scheduledAt.toISOString()])).toEqual([
      ['scheduled', '2026-07-01T07:00:00.000Z'],
      ['catch-up', '2026-07-03T07:00:00.000Z'],
    ]);
    expect(await after.tick('digest')).toBe('skipped-already-ran');
    await after.stop();

    const again = h.make();
    await again.start();
    await again.idle();
    expect(h.runs).toHaveLength(2);
    expect(h.logs.some((l) => l.includes('missed while Vigil was down'))).toBe(true);
  });

  it('never runs a slot twice even when Vigil died in the middle of it', async () => {
    const h = harness('2026-07-01T06:00:00Z');
    const crashed = h.make(() => new Promise(() => undefined));
    await crashed.start();
    h.clock.set('2026-07-01T07:00:00Z');
    void crashed.tick('digest');
    await eventually('the run that never finishes to start', () => (h.runs.length === 1 ? true : undefined));
    // "Restart" on the same store without the first instance ever finishing.
    h.clock.set('2026-07-01T09:00:00Z');
    const restarted = h.make();
    await restarted.start();
    await restarted.idle();
    expect(h.runs).toHaveLength(1);
    open.splice(open.indexOf(crashed), 1);
  });

  it('gives the slot back when stop() cuts a run short, so the next start runs it once', async () => {
    const h = harness('2026-07-01T06:00:00Z');
    const s = h.make(
      (ctx) =>
        new Promise((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => reject(new Error('aborted by stop')));
        }),
    );
    await s.start();
    h.clock.set('2026-07-02T07:00:00Z');
    const running = s.tick('digest');
    await eventually('the run to start', () => (h.runs.length === 1 ? true : undefined));
    await s.stop();
    expect(await running).toBe('error');
    expect((await getJobState(h.db, 'digest'))?.lastSlot).toBe(ms('2026-06-30T07:00:00Z'));

    const next = h.make();
    await next.start();
    await next.idle();
    expect(h.runs.map((r) => [r.reason, r.scheduledAt.toISOString()])).toEqual([
      ['scheduled', '2026-07-02T07:00:00.000Z'],
      ['catch-up', '2026-07-02T07:00:00.000Z'],
    ]);
  });

  it('records a failed run with its error, counts it, and still runs the next slot', async () => {
    const h = harness('2026-07-01T06:00:00Z');
    let fail = true;
    const s = h.make(async () => {
      if (fail) throw new Error('Prometheus unreachable');
      return { posted: true };
    });
    await s.start();
    h.clock.set('2026-07-01T07:00:00Z');
    expect(await s.tick('digest')).toBe('error');
    expect(await lastFinishedRun(h.db, 'digest')).toMatchObject({ outcome: 'error', detail: { error: 'Prometheus unreachable' } });
    expect(h.logs.some((l) => l.includes('"level":50') && l.includes('scheduled job failed'))).toBe(true);
    fail = false;
    h.clock.set('2026-07-02T07:00:00Z');
    expect(await s.tick('digest')).toBe('ok');
    expect(await lastFinishedRun(h.db, 'digest')).toMatchObject({ outcome: 'ok', detail: { posted: true } });
    expect(await counted(h.metrics, 'error')).toBe(1);
    expect((await runsSince(h.db, 'digest', at('2026-07-01T00:00:00Z'))).map((r) => r.outcome)).toEqual(['error', 'ok']);
  });

  it('runs a job on demand without claiming its slot', async () => {
    const h = harness('2026-07-03T06:00:00Z');
    const s = h.make();
    await s.start();
    expect(await s.runNow('digest')).toBe('ok');
    h.clock.set('2026-07-03T07:00:00Z');
    expect(await s.tick('digest')).toBe('ok');
    expect(h.runs.map((r) => r.reason)).toEqual(['manual', 'scheduled']);
  });

  it.each([
    ['a schedule node-cron rejects', { schedule: '0 25 * * *', timezone: 'UTC' }, 'scheduled job digest: invalid cron expression "0 25 * * *"'],
    ['an unknown time zone', { schedule: '0 9 * * *', timezone: 'Mars/Olympus' }, 'scheduled job digest: unknown time zone "Mars/Olympus"'],
  ])('refuses a job with %s, naming the job', (_name, spec, expected) => {
    const db = openDatabase(':memory:');
    dbs.push(db);
    const job: JobSpec = { name: 'digest', ...spec, run: async () => undefined };
    expect(() => createScheduler({ jobs: [job], db, logger: createLogger({ level: 'silent' }) })).toThrow(expected);
  });
});

describe('scheduler with the real node-cron trigger', () => {
  it('runs the job when node-cron fires', async () => {
    const db = openDatabase(':memory:');
    dbs.push(db);
    const fired = deferred();
    const job: JobSpec = { name: 'every-second', schedule: '* * * * * *', timezone: 'UTC', run: async () => fired.resolve() };
    const s = createScheduler({ jobs: [job], db, logger: createLogger({ level: 'silent' }) });
    open.push(s);
    await s.start();
    await fired.promise;
    await s.stop();
    expect((await runsSince(db, 'every-second', new Date(0))).some((r) => r.reason === 'scheduled' && r.outcome === 'ok')).toBe(true);
  });
});
