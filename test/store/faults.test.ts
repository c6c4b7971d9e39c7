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
