import { openDatabase, type Database } from '../../src/store/db.js';
import { openPostgres, PostgresDatabase } from '../../src/store/postgres.js';

// The store the store tests run on: an in-memory SQLite file by default; a real PostgreSQL when
// test/store/postgres.int.test.ts runs the same test files against its server (useTestPostgres).

let postgresUrl: string | undefined;
let shared: Promise<PostgresDatabase> | undefined;

/** One pool for every test (its close() is a no-op): opening a pool and checking the schema per test would be most of the run. */
class SharedPostgres extends PostgresDatabase {
  override close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Runs the store tests imported after this call on PostgreSQL at `url` (each test on emptied tables). */
export function useTestPostgres(url: string): void {
  postgresUrl = url;
}

/** Whether the store tests run on PostgreSQL (for the few that test SQLite's own file format). */
export function onPostgres(): boolean {
  return postgresUrl !== undefined;
}

/** A fresh, empty store with the current schema. */
export async function openTestStore(): Promise<Database> {
  if (!postgresUrl) return openDatabase(':memory:');
  shared ??= openPostgres(postgresUrl, { poolSize: 4 }).then((db) => new SharedPostgres(db.pool));
  const db = await shared;
  await emptyTables(db);
  return db;
}

/** Closes the pool the store tests shared on PostgreSQL. */
export async function closeTestPostgres(): Promise<void> {
  const db = await shared;
  shared = undefined;
  await db?.pool.end();
}

/** Empties every table of Vigil's schema and restarts its ids, as a new SQLite file would have them. */
export async function emptyTables(db: PostgresDatabase): Promise<void> {
  const tables = await db.all<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'vigil_schema'`);
  if (tables.length) await db.run(`TRUNCATE ${tables.map((t) => `"${t.name}"`).join(', ')} RESTART IDENTITY CASCADE`);
}
