import type { Database } from 'better-sqlite3';

/**
 * SQLite result codes that mean the storage under the database failed, not the statement: the
 * disk is full (SQLITE_FULL), an I/O error (SQLITE_IOERR and its extended codes), the file went
 * read-only or cannot be opened. SQLite rolls the statement back: nothing half-written stays, and
 * the same write may succeed once the storage is back.
 * https://www.sqlite.org/rescode.html
 */
const STORAGE_CODES = /^SQLITE_(FULL|IOERR(_[A-Z_]+)?|READONLY(_[A-Z_]+)?|CANTOPEN(_[A-Z_]+)?)$/;

/** A storage failure as /healthz tells it. */
export interface StorageFault {
  /** SQLite's code, e.g. SQLITE_FULL. */
  code: string;
  /** SQLite's message, e.g. "database or disk is full". */
  message: string;
  /** The first failure since writes last succeeded. */
  since: Date;
  /** The latest failure. */
  last: Date;
}

/** Whether `err` is SQLite saying the storage failed (disk full, I/O error), as opposed to a bug or a constraint. */
export function isStorageFault(err: unknown): err is Error & { code: string } {
  const code = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && STORAGE_CODES.test(code);
}

const faults = new WeakMap<Database, StorageFault>();

/** Remembers a storage failure of `db` (kept until a write succeeds: clearStorageFault). */
export function noteStorageFault(db: Database, err: Error & { code: string }, now: Date): StorageFault {
  const fault = { code: err.code, message: err.message, since: faults.get(db)?.since ?? now, last: now };
  faults.set(db, fault);
  return fault;
}

/** A write to `db` succeeded: the storage works again. */
export function clearStorageFault(db: Database): void {
  faults.delete(db);
}

/** The storage failure of `db` since its last successful write, if any. */
export function storageFault(db: Database): StorageFault | undefined {
  return faults.get(db);
}
