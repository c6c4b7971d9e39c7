import type { Database } from './sql.js';

/**
 * SQLite result codes that mean the storage under the database failed, not the statement: the
 * disk is full (SQLITE_FULL), an I/O error (SQLITE_IOERR and its extended codes), the file went
 * read-only or cannot be opened. SQLite rolls the statement back: nothing half-written stays, and
 * the same write may succeed once the storage is back.
 * https://www.sqlite.org/rescode.html
 */
const STORAGE_CODES = /^SQLITE_(FULL|IOERR(_[A-Z_]+)?|READONLY(_[A-Z_]+)?|CANTOPEN(_[A-Z_]+)?)$/;

/**
 * PostgreSQL's SQLSTATEs for the same: the connection failed (class 08), the server is out of
 * disk or memory (53), shutting down or not accepting connections yet (57P01-57P03), an I/O
 * error (58); what a later try may get past: a serialization failure or deadlock (40001, 40P01),
 * a server that became read-only (25006, a failover), a lock or statement timeout (55P03,
 * 57014); and the socket errors of a server that is down or unreachable. The transaction is
 * rolled back; another replica or a later try may commit it.
 * https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
const POSTGRES_CODES =
  /^(08[0-9A-Z]{3}|53[0-9A-Z]{3}|57P0[1-3]|58[0-9A-Z]{3}|40001|40P01|25006|55P03|57014|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN)$/;

/** pg's own words for a connection it lost or could not get in time (these errors carry no code). */
const POSTGRES_LOST = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

/** A storage failure as /healthz tells it. */
export interface StorageFault {
  /** The database's code, e.g. SQLITE_FULL, or PostgreSQL's SQLSTATE / the socket's (ECONNREFUSED). */
  code: string;
  /** The database's message, e.g. "database or disk is full". */
  message: string;
  /** The first failure since writes last succeeded. */
  since: Date;
  /** The latest failure. */
  last: Date;
}

/**
 * Whether `err` says the storage failed (SQLite: disk full, I/O error; PostgreSQL: unreachable,
 * out of disk, shutting down), as opposed to a bug or a constraint. A coded error keeps its code;
 * pg's uncoded connection errors get `code: 'CONNECTION_LOST'`.
 */
export function isStorageFault(err: unknown): err is Error & { code: string } {
  if (!(err instanceof Error)) return false;
  const e = err as Error & { code?: unknown };
  if (typeof e.code === 'string') return STORAGE_CODES.test(e.code) || POSTGRES_CODES.test(e.code);
  if (!POSTGRES_LOST.test(err.message)) return false;
  e.code = 'CONNECTION_LOST';
  return true;
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
