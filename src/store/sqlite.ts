import type BetterSqlite3 from 'better-sqlite3';
import { ConnectionLock, inSavepoint, inTransaction, openTransaction, type Database, type RunResult, type TransactionOptions, type TxContext } from './sql.js';

/**
 * {@link Database} over one better-sqlite3 connection. Statements run synchronously (SQLite is
 * in-process); a transaction holds the connection across its awaits, so calls from other async
 * contexts wait for it instead of landing inside it.
 */
export class SqliteDatabase implements Database {
  readonly dialect = 'sqlite' as const;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  private readonly lock = new ConnectionLock();

  /** `sqlite` is the raw connection: for migrations and for tests that look at the file. */
  constructor(readonly sqlite: BetterSqlite3.Database) {}

  get closed(): boolean {
    return !this.sqlite.open;
  }

  all<T>(sql: string, ...params: unknown[]): Promise<T[]> {
    return this.call(() => this.statement(sql).all(...params) as T[]);
  }

  get<T>(sql: string, ...params: unknown[]): Promise<T | undefined> {
    return this.call(() => this.statement(sql).get(...params) as T | undefined);
  }

  run(sql: string, ...params: unknown[]): Promise<RunResult> {
    return this.call(() => ({ changes: this.statement(sql).run(...params).changes }));
  }

  async transaction<T>(fn: () => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const open = openTransaction(this);
    if (open) return inSavepoint(open, (sql) => Promise.resolve(this.sqlite.exec(sql)), fn);
    await this.lock.acquire();
    const tx: TxContext<undefined> = { db: this, client: undefined, open: true, savepoints: 0 };
    try {
      this.begin(options.lockWaitMs);
      try {
        const result = await inTransaction(tx, fn);
        this.sqlite.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.sqlite.inTransaction) this.sqlite.exec('ROLLBACK');
        throw err;
      }
    } finally {
      tx.open = false;
      this.lock.release();
    }
  }

  async close(): Promise<void> {
    await this.lock.acquire();
    try {
      this.sqlite.close();
    } finally {
      this.lock.release();
    }
  }

  /** BEGIN IMMEDIATE (the write lock now, not at the first write), waiting `lockWaitMs` for it when given. */
  private begin(lockWaitMs: number | undefined): void {
    if (lockWaitMs === undefined) {
      this.sqlite.exec('BEGIN IMMEDIATE');
      return;
    }
    const previous = this.sqlite.pragma('busy_timeout', { simple: true }) as number;
    this.sqlite.pragma(`busy_timeout = ${Math.max(0, Math.round(lockWaitMs))}`);
    try {
      this.sqlite.exec('BEGIN IMMEDIATE');
    } finally {
      this.sqlite.pragma(`busy_timeout = ${previous}`);
    }
  }

  private statement(sql: string): BetterSqlite3.Statement {
    let s = this.statements.get(sql);
    if (!s) this.statements.set(sql, (s = this.sqlite.prepare(sql)));
    return s;
  }

  /** Runs `op` now when inside this database's transaction or when nobody holds it; else after the holder. */
  private call<T>(op: () => T): Promise<T> {
    if (openTransaction(this) || !this.lock.busy) {
      try {
        return Promise.resolve(op());
      } catch (err) {
        // better-sqlite3 throws SqliteError (an Error); anything else is wrapped.
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    return this.lock.acquire().then(() => {
      try {
        return op();
      } finally {
        this.lock.release();
      }
    });
  }
}
