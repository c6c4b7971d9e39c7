import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/store/db.js';
import { acquireLease, getLease, heartbeatReplica, releaseLease, replicasSeen } from '../../src/store/leases.js';
import { openTestStore } from '../support/store.js';

const T0 = new Date('2026-12-07T01:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const TTL = 15_000;

let db: Database;
beforeEach(async () => {
  db = await openTestStore();
});
afterEach(() => db.close());

describe('leases', () => {
  it('gives a free lease to the first replica that asks, and not to another while it runs', async () => {
    expect(await acquireLease(db, 'leader', 'a', at(0), TTL)).toEqual({ name: 'leader', holder: 'a', expiresAt: at(15), term: 1 });
    expect(await acquireLease(db, 'leader', 'b', at(1), TTL)).toBeUndefined();
    expect(await acquireLease(db, 'leader', 'b', at(14.999), TTL)).toBeUndefined();
    expect((await getLease(db, 'leader'))?.holder).toBe('a');
  });

  it("renews the holder's lease from now, keeping its term", async () => {
    await acquireLease(db, 'leader', 'a', at(0), TTL);
    expect(await acquireLease(db, 'leader', 'a', at(5), TTL)).toEqual({ name: 'leader', holder: 'a', expiresAt: at(20), term: 1 });
    expect(await acquireLease(db, 'leader', 'b', at(16), TTL)).toBeUndefined();
  });

  it('hands an expired lease to the next replica that asks, with the next term', async () => {
    await acquireLease(db, 'leader', 'a', at(0), TTL);
    expect(await acquireLease(db, 'leader', 'b', at(15), TTL)).toEqual({ name: 'leader', holder: 'b', expiresAt: at(30), term: 2 });
    // The old holder, back from a pause, does not get it back.
    expect(await acquireLease(db, 'leader', 'a', at(16), TTL)).toBeUndefined();
  });

  it('lets another replica take a lease at once when its holder gives it up', async () => {
    await acquireLease(db, 'leader', 'a', at(0), TTL);
    await releaseLease(db, 'leader', 'b');
    expect(await acquireLease(db, 'leader', 'b', at(1), TTL)).toBeUndefined();
    await releaseLease(db, 'leader', 'a');
    expect((await acquireLease(db, 'leader', 'b', at(1), TTL))?.term).toBe(2);
  });

  it('keeps leases of different names apart', async () => {
    await acquireLease(db, 'leader', 'a', at(0), TTL);
    expect((await acquireLease(db, 'other', 'b', at(0), TTL))?.holder).toBe('b');
  });

  it('gives a lease to exactly one of several replicas asking at once', async () => {
    const got = await Promise.all(['a', 'b', 'c', 'd'].map((r) => acquireLease(db, 'leader', r, at(0), TTL)));
    expect(got.filter((l) => l !== undefined)).toHaveLength(1);
  });
});

describe('replicas', () => {
  it('lists the replicas seen lately, the longest-running first, each once', async () => {
    await heartbeatReplica(db, { id: 'b', host: 'h2', startedAt: at(10) }, at(10));
    await heartbeatReplica(db, { id: 'a', host: 'h1', startedAt: at(0) }, at(11));
    await heartbeatReplica(db, { id: 'a', host: 'h1', startedAt: at(0) }, at(12));
    expect(await replicasSeen(db, at(5))).toEqual([
      { id: 'a', host: 'h1', startedAt: at(0), seenAt: at(12) },
      { id: 'b', host: 'h2', startedAt: at(10), seenAt: at(10) },
    ]);
  });

  it('leaves out a replica not seen since `since`', async () => {
    await heartbeatReplica(db, { id: 'gone', host: 'h', startedAt: at(0) }, at(0));
    await heartbeatReplica(db, { id: 'here', host: 'h', startedAt: at(0) }, at(60));
    expect((await replicasSeen(db, at(30))).map((r) => r.id)).toEqual(['here']);
  });
});
