import pg from 'pg';
import { POSTGRES_MIGRATIONS } from './postgres-schema.js';
import { inSavepoint, inTransaction, openTransaction, toPostgres, type Database, type RunResult, type TransactionOptions, type TxContext } from './sql.js';

// BIGINT (times in ms, ids, counts) and NUMERIC (sums) arrive as numbers, as SQLite gives them:
// every such value Vigil stores fits a double exactly.
const INT8 = 20;
const NUMERIC = 1700;
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8 || oid === NUMERIC) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown;
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/** How long a request waits for a connection (new or from the pool) before failing. */
const CONNECT_TIMEOUT_MS = 5_000;

/** Key of the advisory lock migrations run under, so replicas starting together migrate once. */
const MIGRATION_LOCK = 0x76_69_67_69; // "vigi"

/** {@link Database} over a PostgreSQL connection pool; a transaction holds one pooled connection. */
export class PostgresDatabase implements Database {
  readonly dialect = 'postgres' as const;

  constructor(readonly pool: pg.Pool) {}

  get closed(): boolean {
    return this.pool.ended;
  }

  async all<T>(sql: string, ...params: unknown[]): Promise<T[]> {
    return (await this.query(sql, params)).rows as T[];
  }

  async get<T>(sql: string, ...params: unknown[]): Promise<T | undefined> {
    return (await this.query(sql, params)).rows[0] as T | undefined;
  }

  async run(sql: string, ...params: unknown[]): Promise<RunResult> {
    return { changes: (await this.query(sql, params)).rowCount ?? 0 };
  }

  async transaction<T>(fn: () => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const open = openTransaction<pg.PoolClient>(this);
    if (open) return inSavepoint(open, (sql) => open.client.query(sql), fn);
    const client = await this.pool.connect();
    const tx: TxContext<pg.PoolClient> = { db: this, client, open: true, savepoints: 0 };
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      if (options.lockWaitMs !== undefined) await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(options.lockWaitMs))}`);
      const result = await inTransaction(tx, fn);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: Error) => (broken = rollbackErr));
      throw err;
    } finally {
      tx.open = false;
      // A connection whose rollback failed is in an unknown state: the pool drops it.
      client.release(broken);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  private query(sql: string, params: unknown[]): Promise<pg.QueryResult> {
    const target = openTransaction<pg.PoolClient>(this)?.client ?? this.pool;
    return target.query(toPostgres(sql), params);
  }
}

/** Connects to PostgreSQL at `url` and brings its schema up to date. */
export async function openPostgres(url: string, options: { poolSize?: number } = {}): Promise<PostgresDatabase> {
  const db = connectPostgres(url, options);
  try {
    await migratePostgres(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}

/** A pool on PostgreSQL at `url`, its schema as it is (`vigil check-config --online` reads without migrating). */
export function connectPostgres(url: string, options: { poolSize?: number } = {}): PostgresDatabase {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    types,
    // A server that does not answer fails the request (webhooks get 503, the sender retries) rather than hanging it.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    application_name: 'vigil',
  });
  // An idle connection that breaks (the server restarted) is dropped by the pool; without a
  // listener its error would end the process.
  pool.on('error', () => undefined);
  return new PostgresDatabase(pool);
}

/** Runs every PostgreSQL schema step newer than the database's, under an advisory lock. */
export async function migratePostgres(db: PostgresDatabase, migrations = POSTGRES_MIGRATIONS): Promise<void> {
  await db.transaction(async () => {
    await db.run('SELECT pg_advisory_xact_lock(?)', MIGRATION_LOCK);
    await db.run('CREATE TABLE IF NOT EXISTS vigil_schema (version INTEGER NOT NULL)');
    const row = await db.get<{ version: number }>('SELECT max(version) AS version FROM vigil_schema');
    const current = row?.version ?? 0;
    const latest = migrations.at(-1)?.version ?? 0;
    if (current > latest) {
      throw new Error(`database schema version ${current} is newer than this Vigil knows (${latest}); upgrade Vigil or use another storage.url`);
    }
    for (const m of migrations) {
      if (m.version <= current) continue;
      // A multi-statement text goes as one simple query (no parameters).
      await openTransaction<pg.PoolClient>(db)!.client.query(m.sql);
      await db.run('INSERT INTO vigil_schema (version) VALUES (?)', m.version);
    }
  });
}

/** The schema version recorded in a PostgreSQL database (0 for a new one). */
export async function postgresVersion(db: PostgresDatabase): Promise<number> {
  const exists = await db.get<{ t: string | null }>(`SELECT to_regclass('vigil_schema')::text AS t`);
  if (!exists?.t) return 0;
  return (await db.get<{ version: number | null }>('SELECT max(version) AS version FROM vigil_schema'))?.version ?? 0;
}
