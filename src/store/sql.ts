import { AsyncLocalStorage } from 'node:async_hooks';

/** Which database engine a {@link Database} runs on. */
export type Dialect = 'sqlite' | 'postgres';

/** What a write did. */
export interface RunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
}

/**
 * The store's one way to its database: the same SQL, with `?` placeholders, on the embedded
 * SQLite file or on PostgreSQL. Inside {@link Database.transaction}'s callback every call on the
 * same handle joins the transaction (it follows the async context), so store functions never
 * take a separate transaction handle.
 */
export interface Database {
  readonly dialect: Dialect;
  /** Whether close() was called (or the connection was closed under it). */
  readonly closed: boolean;
  /** Every row the query returns. */
  all<T>(sql: string, ...params: unknown[]): Promise<T[]>;
  /** The first row the query returns, if any. */
  get<T>(sql: string, ...params: unknown[]): Promise<T | undefined>;
  /** Runs a write. */
  run(sql: string, ...params: unknown[]): Promise<RunResult>;
  /**
   * Runs `fn` in one transaction, committed when it resolves and rolled back when it throws; a
   * nested call is a savepoint. SQLite takes the write lock at the start (BEGIN IMMEDIATE).
   * `lockWaitMs` bounds how long it waits for a lock another process or replica holds.
   */
  transaction<T>(fn: () => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Closes the connection (or pool); waits for what runs. */
  close(): Promise<void>;
}

/** How a transaction waits. */
export interface TransactionOptions {
  /** Gives up (throws) after waiting this long for a lock held elsewhere; the connection's default otherwise. */
  lockWaitMs?: number;
}

/** The transaction an async context is in: which database, and whether it is still open. */
export interface TxContext<C = unknown> {
  readonly db: Database;
  /** The connection the transaction holds (PostgreSQL); unused on SQLite's single connection. */
  readonly client: C;
  open: boolean;
  savepoints: number;
}

const current = new AsyncLocalStorage<TxContext>();

/** The open transaction of `db` the caller runs in, if any. */
export function openTransaction<C>(db: Database): TxContext<C> | undefined {
  const tx = current.getStore();
  return tx && tx.db === db && tx.open ? (tx as TxContext<C>) : undefined;
}

/** Runs `fn` as the body of transaction `tx`: calls on `tx.db` inside it join the transaction. */
export function inTransaction<T, C>(tx: TxContext<C>, fn: () => Promise<T>): Promise<T> {
  return current.run(tx, fn);
}

/**
 * Runs `fn` inside a savepoint of the open transaction `tx`, using `exec` to issue the SQL
 * (SAVEPOINT / RELEASE / ROLLBACK TO are the same on SQLite and PostgreSQL).
 */
export async function inSavepoint<T>(tx: TxContext<unknown>, exec: (sql: string) => Promise<unknown>, fn: () => Promise<T>): Promise<T> {
  const name = `vigil_sp_${++tx.savepoints}`;
  await exec(`SAVEPOINT ${name}`);
  try {
    const result = await fn();
    await exec(`RELEASE SAVEPOINT ${name}`);
    return result;
  } catch (err) {
    await exec(`ROLLBACK TO SAVEPOINT ${name}`);
    await exec(`RELEASE SAVEPOINT ${name}`);
    throw err;
  }
}

const translated = new Map<string, string>();

/**
 * The store's SQL in PostgreSQL's spelling: `?` placeholders become `$1, $2…` and SQLite's
 * null-safe `IS ?` / `IS NOT ?` become `IS NOT DISTINCT FROM` / `IS DISTINCT FROM`. Text inside
 * quotes is left alone.
 */
export function toPostgres(sql: string): string {
  const cached = translated.get(sql);
  if (cached !== undefined) return cached;
  let out = '';
  let n = 0;
  let quote: string | undefined;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (quote) {
      out += c;
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') {
      quote = c;
      out += c;
    } else if (c === '?') {
      const isNot = /\bIS\s+NOT\s+$/i.exec(out);
      const is = isNot ? undefined : /\bIS\s+$/i.exec(out);
      if (isNot) out = `${out.slice(0, isNot.index)}IS DISTINCT FROM `;
      else if (is) out = `${out.slice(0, is.index)}IS NOT DISTINCT FROM `;
      out += `$${++n}`;
    } else {
      out += c;
    }
  }
  if (quote) throw new Error(`unterminated quote in SQL: ${sql.slice(0, 80)}`);
  translated.set(sql, out);
  return out;
}

/** A text field of a JSON column, in the dialect's spelling (SQLite's json_extract, PostgreSQL's ->>). */
export function jsonText(db: Database, column: string, field: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(field)) throw new Error(`not a plain JSON field name: ${field}`);
  // json, not jsonb: jsonb refuses a \u0000 anywhere in the document, json only in the field read.
  return db.dialect === 'postgres' ? `(${column}::json ->> '${field}')` : `json_extract(${column}, '$.${field}')`;
}

/**
 * ` FOR UPDATE` on PostgreSQL: the row read stays as read until the transaction ends (another
 * transaction changing it waits). Nothing on SQLite, whose transactions take the whole database.
 */
export function forUpdate(db: Database): string {
  return db.dialect === 'postgres' ? ' FOR UPDATE' : '';
}

/** SQLite's null-safe equality between two expressions (`IS`), in the dialect's spelling. */
export function isSame(db: Database): string {
  return db.dialect === 'postgres' ? 'IS NOT DISTINCT FROM' : 'IS';
}

/**
 * The column that orders a table's rows as they were inserted: SQLite's rowid; PostgreSQL has none,
 * so the tables read in that order (storm_alerts, storm_contexts) carry a `seq` identity column there.
 */
export function insertionOrder(db: Database): string {
  return db.dialect === 'postgres' ? 'seq' : 'rowid';
}

/** Serialises callers on one connection: a transaction holds it across its awaits, others queue. */
export class ConnectionLock {
  private held = false;
  private readonly waiters: Array<() => void> = [];

  /** Whether someone holds the lock or waits for it. */
  get busy(): boolean {
    return this.held || this.waiters.length > 0;
  }

  /** Resolves once the caller holds the lock. */
  acquire(): Promise<void> {
    if (!this.busy) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Hands the lock to the next waiter, or frees it. */
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.held = false;
  }
}
