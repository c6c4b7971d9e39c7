import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLeaderElection, type LeaderElection } from '../../src/cluster/leader.js';
import { openDatabase, type SqliteDatabase } from '../../src/store/db.js';

// Two replicas on one database file (two connections), on fake time: who leads, who takes over.

const TTL = 3000;
const logger = pino({ level: 'silent' });
let dir: string;
let dbs: SqliteDatabase[];
let elections: LeaderElection[];
let events: string[];

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-12-07T01:00:00Z'), toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  dir = mkdtempSync(join(tmpdir(), 'vigil-leader-'));
  dbs = [];
  elections = [];
  events = [];
});

afterEach(async () => {
  vi.useRealTimers();
  for (const e of elections) await e.stop().catch(() => undefined);
  for (const db of dbs) if (!db.closed) await db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A replica's store; `hang` makes every later call wait forever (a database that stopped answering mid-query). */
function replica(
  id: string,
  onElected: () => void = () => void events.push(`${id} leads`),
): { election: LeaderElection; db: SqliteDatabase; hang: () => void } {
  const db = openDatabase(join(dir, 'vigil.db'));
  dbs.push(db);
  let hanging = false;
  const seen = new Proxy(db, {
    get(target, key) {
      if (hanging && (key === 'get' || key === 'run' || key === 'all')) return () => new Promise(() => undefined);
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const election = createLeaderElection({
    db: seen,
    logger,
    now: () => new Date(),
    ttlMs: TTL,
    replicaId: id,
    onElected,
    onDeposed: (why) => void events.push(`${id} deposed: ${why}`),
  });
  elections.push(election);
  return { election, db, hang: () => (hanging = true) };
}

/** Replicas a and b, a started first (so it leads) and b just after. */
async function aThenB(a = replica('a')): Promise<[ReturnType<typeof replica>, ReturnType<typeof replica>]> {
  const b = replica('b');
  a.election.start();
  await vi.advanceTimersByTimeAsync(10);
  b.election.start();
  return [a, b];
}

describe('leader election', () => {
  it('lets the first replica lead and the second follow, and both show in the status', async () => {
    const [a, b] = await aThenB();
    await vi.advanceTimersByTimeAsync(TTL * 3);
    expect(events).toEqual(['a leads']);
    expect([a.election.isLeader(), b.election.isLeader()]).toEqual([true, false]);
    const status = await b.election.status();
    expect(status).toMatchObject({ replica: 'b', leader: false, leaderId: 'a' });
    expect(status.replicas.map((r) => [r.id, r.leader])).toEqual([
      ['a', true],
      ['b', false],
    ]);
  });

  it('hands over at the next try when the leader stops and gives its lease up', async () => {
    const [a, b] = await aThenB();
    await vi.advanceTimersByTimeAsync(100);
    await a.election.stop();
    // Well before the lease would have run out.
    await vi.advanceTimersByTimeAsync(TTL / 5 + 50);
    expect(events).toEqual(['a leads', 'b leads']);
    expect(b.election.isLeader()).toBe(true);
  });

  it('moves the lead within one lease length when the leader dies without a word', async () => {
    const [a, b] = await aThenB();
    await vi.advanceTimersByTimeAsync(TTL);
    // The leader's database connection is gone (as for a replica cut off or killed): it renews no more.
    const died = Date.now();
    await a.db.close();
    await vi.waitFor(
      async () => {
        await vi.advanceTimersByTimeAsync(100);
        expect(b.election.isLeader()).toBe(true);
      },
      { timeout: 5000, interval: 1 },
    );
    expect(Date.now() - died).toBeLessThanOrEqual(TTL + TTL / 5 + 100);
    // The old leader stepped down before its lease ran out: never two leaders at once.
    const deposedAt = events.findIndex((e) => e.startsWith('a deposed'));
    expect(deposedAt).toBeGreaterThan(-1);
    expect(deposedAt).toBeLessThan(events.indexOf('b leads'));
    expect(events[deposedAt]).toBe('a deposed: the leader lease could not be renewed in time');
  });

  it('starts the leader work once, however long it leads', async () => {
    const a = replica('a');
    a.election.start();
    await vi.advanceTimersByTimeAsync(TTL * 10);
    expect(events).toEqual(['a leads']);
  });

  it('steps down before its lease runs out while a renewal hangs, and the other replica takes over after it', async () => {
    const [a] = await aThenB();
    await vi.advanceTimersByTimeAsync(TTL);
    // The database stops answering the leader mid-renewal: nothing it waits for ever returns.
    a.hang();
    await vi.advanceTimersByTimeAsync(TTL * 2);
    expect(events).toEqual(['a leads', 'a deposed: the leader lease could not be renewed in time', 'b leads']);
    expect(a.election.isLeader()).toBe(false);
  });

  it("gives the lease back and steps down when the leader's work does not start, so another replica leads", async () => {
    const a = replica('a', () => {
      throw new Error('scheduler: the database did not answer');
    });
    await aThenB(a);
    await vi.advanceTimersByTimeAsync(TTL / 5 + 100);
    expect(events).toEqual(["a deposed: the leader's work did not start: scheduler: the database did not answer", 'b leads']);
  });
});
