import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { ACKS_SQL } from './acks.js';
import { ESCALATIONS_SQL } from './escalations.js';
import { INCIDENT_ANNOUNCE_SQL, INCIDENT_ROUTE_SQL, INCIDENTS_SQL, INCIDENT_ALERTS_DROP } from './incidents.js';
import { NOTIFICATION_REPEAT_SQL, NOTIFICATIONS_SQL } from './notifications.js';
import { STORM_CONTEXT_METRICS_SQL, STORM_LOGS_SQL, STORM_CONTEXT_SQL, STORM_DECISION_INDEX_SQL, STORMS_SQL } from './storms.js';
import { OUTBOX_CLAIM_MIGRATION, OUTBOX_FILE_MIGRATION, OUTBOX_MIGRATION, OUTBOX_PRIORITY_MIGRATION, OUTBOX_THREAD_MIGRATION } from './outbox-schema.js';
import { HEARTBEATS_SQL } from './heartbeats.js';
import { LEASES_SQL } from './leases.js';
import { PREVIEW_SQL } from './preview.js';
import { SCHEDULE_SQL } from './schedule.js';
import { SqliteDatabase } from './sqlite.js';
import { openPostgres } from './postgres.js';
import type { Database } from './sql.js';

export type { Database, Dialect, RunResult } from './sql.js';
export { SqliteDatabase } from './sqlite.js';

/** A raw better-sqlite3 connection (migrations and tests that look at the file). */
type RawSqlite = BetterSqlite3.Database;

/** One schema step; `version` is what `PRAGMA user_version` holds once `sql` has run. */
export interface Migration {
  version: number;
  sql: string;
  /**
   * Runs with foreign keys off (SQLite's way to rebuild a referenced table: a DROP would otherwise
   * delete through the references); every reference is checked before the step commits.
   */
  rebuildsTable?: boolean;
}

/**
 * Every schema step, in order. Versions are 1, 2, 3... with no gaps; a step is never edited
 * once released, only followed by a new one.
 */
export const MIGRATIONS: Migration[] = [
  { version: 1, sql: OUTBOX_MIGRATION },
  { version: 2, sql: NOTIFICATIONS_SQL },
  { version: 3, sql: INCIDENTS_SQL },
  { version: 4, sql: ACKS_SQL },
  { version: 5, sql: HEARTBEATS_SQL },
  { version: 6, sql: SCHEDULE_SQL },
  { version: 7, sql: OUTBOX_FILE_MIGRATION },
  { version: 8, sql: OUTBOX_THREAD_MIGRATION, rebuildsTable: true },
  { version: 9, sql: INCIDENT_ALERTS_DROP },
  { version: 10, sql: PREVIEW_SQL },
  { version: 11, sql: OUTBOX_PRIORITY_MIGRATION, rebuildsTable: true },
  { version: 12, sql: STORMS_SQL },
  { version: 13, sql: INCIDENT_ANNOUNCE_SQL },
  { version: 14, sql: STORM_DECISION_INDEX_SQL },
  { version: 15, sql: STORM_CONTEXT_SQL },
  { version: 16, sql: STORM_CONTEXT_METRICS_SQL },
  { version: 17, sql: STORM_LOGS_SQL },
  { version: 18, sql: INCIDENT_ROUTE_SQL },
  { version: 19, sql: ESCALATIONS_SQL },
  { version: 20, sql: NOTIFICATION_REPEAT_SQL },
  { version: 21, sql: LEASES_SQL },
  { version: 22, sql: OUTBOX_CLAIM_MIGRATION },
];

/** Opens (creating if needed) the SQLite database at `path` and brings its schema up to date. */
export function openDatabase(path: string): SqliteDatabase {
  if (!isMemoryPath(path)) mkdirSync(dirname(path), { recursive: true });
  const db = new BetterSqlite3(path);
  try {
    configure(db);
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return new SqliteDatabase(db);
}

/** Opens the configured store: PostgreSQL at `url` (shared by replicas), else the SQLite file at `path`. */
export async function openStorage(storage: { path: string; url?: string | undefined; poolSize?: number }): Promise<Database> {
  if (storage.url) return openPostgres(storage.url, storage.poolSize === undefined ? {} : { poolSize: storage.poolSize });
  return openDatabase(storage.path);
}

/** Runs every migration newer than the database's `user_version`, each in its own transaction. */
export function migrate(db: RawSqlite, migrations: readonly Migration[] = MIGRATIONS): void {
  checkMigrations(migrations);
  const current = userVersion(db);
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new Error(`database schema version ${current} is newer than this Vigil knows (${latest}); upgrade Vigil or use another storage.path`);
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    // foreign_keys cannot change inside a transaction: it is switched around it.
    const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
    if (m.rebuildsTable) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        db.exec(m.sql);
        if (m.rebuildsTable) checkForeignKeys(db, m.version);
        // user_version takes no bound parameters; the value is a checked integer.
        db.pragma(`user_version = ${m.version}`);
      }).immediate();
    } finally {
      if (m.rebuildsTable) db.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
    }
  }
}

/** Throws (rolling the migration back) when a row references one that is not there. */
function checkForeignKeys(db: RawSqlite, version: number): void {
  const broken = db.pragma('foreign_key_check') as { table: string; rowid: number; parent: string }[];
  if (broken.length) {
    const first = broken[0]!;
    throw new Error(`migration ${version} left ${broken.length} broken reference(s), e.g. ${first.table} row ${first.rowid} -> ${first.parent}`);
  }
}

/** The schema version recorded in the database (0 for a new one). */
export function userVersion(db: RawSqlite): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function configure(db: RawSqlite): void {
  // WAL lets readers run while the drainer writes; FULL fsyncs every commit, so a row that was
  // acknowledged (HTTP 202) survives a power loss.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
}

function checkMigrations(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new Error(`migration at index ${i} has version ${m.version}; expected ${i + 1} (versions are 1, 2, 3... in order)`);
    }
  });
}

function isMemoryPath(path: string): boolean {
  return path === ':memory:' || path === '';
}
