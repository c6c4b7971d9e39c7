import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteDatabase } from '../../src/store/db.js';
import { clearStorageFault, isStorageFault, noteStorageFault, storageFault } from '../../src/store/faults.js';

/** An error as better-sqlite3 throws it: SqliteError with SQLite's result code. */
function sqliteError(code: string, message = 'failed'): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

describe('isStorageFault', () => {
  it.each([
    ['SQLITE_FULL', true],
    ['SQLITE_IOERR', true],
    ['SQLITE_IOERR_WRITE', true],
    ['SQLITE_IOERR_FSYNC', true],
    ['SQLITE_READONLY', true],
    ['SQLITE_READONLY_DBMOVED', true],
    ['SQLITE_CANTOPEN', true],
    // The statement's own fault, or a lock: not the storage.
    ['SQLITE_CONSTRAINT_UNIQUE', false],
    ['SQLITE_BUSY', false],
    ['SQLITE_ERROR', false],
    ['SQLITE_FULLX', false],
    ['ENOSPC', false],
  ])('%s is a storage fault: %s', (code, want) => {
    expect(isStorageFault(sqliteError(code))).toBe(want);
  });

  it.each([
    // PostgreSQL: the server or the way to it, and what a later try gets past.
    ['08006', true],
    ['08001', true],
    ['53100', true],
    ['57P01', true],
    ['57P03', true],
    ['58030', true],
    ['40001', true],
    ['40P01', true],
    ['25006', true],
    ['55P03', true],
    ['57014', true],
    ['ECONNREFUSED', true],
    ['ECONNRESET', true],
    // The statement's own fault: a constraint, bad SQL, bad input.
    ['23505', false],
    ['23503', false],
    ['42P01', false],
    ['22P02', false],
    ['57P04', false],
  ])('PostgreSQL %s is a storage fault: %s', (code, want) => {
    expect(isStorageFault(Object.assign(new Error(`pg ${code}`), { code }))).toBe(want);
  });

  it.each([
    ['Connection terminated unexpectedly', true],
    ['timeout exceeded when trying to connect', true],
    ['Client has encountered a connection error and is not queryable', true],
    ['relation "outbox" does not exist', false],
  ])("pg's uncoded %j is a storage fault: %s, coded CONNECTION_LOST", (message, want) => {
    const err = new Error(message);
    expect(isStorageFault(err)).toBe(want);
    if (want) expect((err as Error & { code?: string }).code).toBe('CONNECTION_LOST');
  });

  it.each([undefined, null, 'SQLITE_FULL', { code: 'SQLITE_FULL' }])('%j is not an error, so not a storage fault', (value) => {
    expect(isStorageFault(value)).toBe(false);
  });
});

describe('storage fault state', () => {
  it('keeps the first failure time until a write succeeds, per database', async () => {
    const db = new SqliteDatabase(new BetterSqlite3(':memory:'));
    const other = new SqliteDatabase(new BetterSqlite3(':memory:'));
    const t0 = new Date('2026-12-06T03:00:00Z');
    const t1 = new Date('2026-12-06T03:00:30Z');
    noteStorageFault(db, sqliteError('SQLITE_FULL', 'database or disk is full'), t0);
    noteStorageFault(db, sqliteError('SQLITE_IOERR_WRITE', 'disk I/O error'), t1);
    expect(storageFault(db)).toEqual({ code: 'SQLITE_IOERR_WRITE', message: 'disk I/O error', since: t0, last: t1 });
    expect(storageFault(other)).toBeUndefined();
    clearStorageFault(db);
    expect(storageFault(db)).toBeUndefined();
    await db.close();
    await other.close();
  });
});
