import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acknowledge, getAck } from '../../src/store/acks.js';
import { MIGRATIONS, openDatabase, type Database } from '../../src/store/db.js';
import { createIncident } from '../../src/store/incidents.js';

const T0 = new Date('2026-11-21T09:00:00Z');

let dir: string;
let db: Database;

function incident(): Promise<number> {
  return createIncident(
    db,
    {
      source: 'alertmanager',
      receiver: 'vigil',
      groupKey: '{}:{alertname="X"}',
      status: 'firing',
      alerts: { fp1: { status: 'firing', startsAt: T0.toISOString(), labels: { alertname: 'X' } } },
      startedAt: T0,
    },
    T0,
  );
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-acks-'));
  db = openDatabase(join(dir, 'vigil.db'));
});

afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('acknowledgements', () => {
  it('is migration 4, after the incidents table it refers to', () => {
    expect(MIGRATIONS.map((m) => m.version).slice(0, 4)).toEqual([1, 2, 3, 4]);
    expect(MIGRATIONS[3]!.sql).toContain('incident_acks');
  });

  it('has no acknowledgement for a new incident', async () => {
    expect(await getAck(db, await incident())).toBeUndefined();
  });

  it('records who acknowledged and when', async () => {
    const id = await incident();
    const at = new Date('2026-11-21T09:03:00Z');
    const outcome = await acknowledge(db, id, { userId: '111111111111111111', username: 'alice', at });
    expect(outcome).toEqual({ recorded: true, ack: { incidentId: id, userId: '111111111111111111', username: 'alice', at } });
    expect(await getAck(db, id)).toEqual(outcome.ack);
  });

  it('keeps the first acknowledgement and reports it to a later presser', async () => {
    const id = await incident();
    await acknowledge(db, id, { userId: '111111111111111111', username: 'alice', at: new Date('2026-11-21T09:03:00Z') });
    const again = await acknowledge(db, id, { userId: '222222222222222222', username: 'bob', at: new Date('2026-11-21T09:04:00Z') });
    expect(again.recorded).toBe(false);
    expect(again.ack).toMatchObject({ userId: '111111111111111111', username: 'alice', at: new Date('2026-11-21T09:03:00Z') });
    expect((await getAck(db, id))?.username).toBe('alice');
  });

  it('keeps acknowledgements per incident', async () => {
    const a = await incident();
    const b = await incident();
    await acknowledge(db, a, { userId: '111111111111111111', username: 'alice', at: T0 });
    expect(await getAck(db, b)).toBeUndefined();
    expect((await acknowledge(db, b, { userId: '222222222222222222', username: 'bob', at: T0 })).recorded).toBe(true);
  });

  it('refuses an acknowledgement of an incident that does not exist', async () => {
    await expect(acknowledge(db, 999, { userId: '111111111111111111', username: 'alice', at: T0 })).rejects.toThrow(/FOREIGN KEY/);
  });

  it('survives reopening the database', async () => {
    const id = await incident();
    await acknowledge(db, id, { userId: '111111111111111111', username: 'alice', at: T0 });
    await db.close();
    db = openDatabase(join(dir, 'vigil.db'));
    expect((await getAck(db, id))?.userId).toBe('111111111111111111');
  });
});
