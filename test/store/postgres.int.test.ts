import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/store/db.js';
import { isStorageFault } from '../../src/store/faults.js';
import { enqueue, get, pendingCount } from '../../src/store/outbox.js';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres-schema.js';
import { openPostgres, postgresVersion, type PostgresDatabase } from '../../src/store/postgres.js';
import { startPostgres } from '../support/postgres.js';
import { closeTestPostgres, useTestPostgres } from '../support/store.js';

// The store on a real PostgreSQL (Debian's package, started on loopback): its own schema steps,
// the same columns as SQLite's, transactions, and the store's test files run again on it.

const server = await startPostgres();
afterAll(async () => {
  await closeTestPostgres();
  await server.stop();
}, 60_000);

const CHANNEL = '123456789012345678';
let databases = 0;
/** A new, empty database on the server (no schema yet). */
const freshUrl = () => server.createDatabase(`fresh_${++databases}`);

describe('PostgreSQL schema steps', () => {
  it('creates the whole schema on an empty database and records its version', async () => {
    const db = await openPostgres(await freshUrl());
    try {
      expect(await postgresVersion(db)).toBe(POSTGRES_MIGRATIONS.length);
      const tables = await db.all<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`);
      expect(tables.map((r) => r.t)).toContain('outbox');
    } finally {
      await db.close();
    }
  });

  it('migrates once when replicas start together (an advisory lock orders them)', async () => {
    const url = await freshUrl();
    const dbs = await Promise.all([openPostgres(url), openPostgres(url), openPostgres(url)]);
    try {
      const rows = await dbs[0].all<{ version: number }>('SELECT version FROM vigil_schema ORDER BY version');
      expect(rows.map((r) => r.version)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
    } finally {
      await Promise.all(dbs.map((d) => d.close()));
    }
  });

  it('refuses a database whose schema is newer than this Vigil, naming storage.url', async () => {
    const url = await freshUrl();
    const db = await openPostgres(url);
    await db.run('INSERT INTO vigil_schema (version) VALUES (?)', POSTGRES_MIGRATIONS.length + 1);
    await db.close();
    await expect(openPostgres(url)).rejects.toThrow(/newer than this Vigil knows .*storage\.url/);
  });
});

describe('the PostgreSQL schema beside SQLite', () => {
  it('has the same tables, columns, nullability and indexes as SQLite after its last step', async () => {
    const sqlite = new BetterSqlite3(':memory:');
    migrate(sqlite);
    const db = await openPostgres(await freshUrl());
    try {
      const sqliteTables = (
        sqlite.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'sqlite_sequence' ORDER BY name`).all() as {
          name: string;
        }[]
      ).map((r) => r.name);
      const pgTables = (
        await db.all<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'vigil_schema' ORDER BY 1`)
      ).map((r) => r.t);
      expect(pgTables).toEqual(sqliteTables);
      for (const table of sqliteTables) {
        const sqliteColumns = (
          sqlite.prepare(`SELECT name, "notnull" AS nn, pk FROM pragma_table_info(?) ORDER BY name`).all(table) as {
            name: string;
            nn: number;
            pk: number;
          }[]
        ).map((c) => `${c.name}${c.nn || c.pk ? ' not null' : ''}`);
        const pgColumns = (
          await db.all<{ name: string; nullable: string }>(
            `SELECT column_name AS name, is_nullable AS nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ? ORDER BY column_name`,
            table,
          )
        )
          // PostgreSQL has no rowid: the tables read in insertion order carry seq instead (insertionOrder()).
          .filter((c) => c.name !== 'seq')
          .map((c) => `${c.name}${c.nullable === 'NO' ? ' not null' : ''}`);
        expect({ table, columns: pgColumns }).toEqual({ table, columns: sqliteColumns });
      }
      const sqliteIndexes = (
        sqlite.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name`).all() as {
          name: string;
        }[]
      ).map((r) => r.name);
      // Primary keys and UNIQUE columns have indexes of their own on both sides (SQLite's without SQL in sqlite_master).
      const pgIndexes = (
        await db.all<{ name: string }>(
          `SELECT indexname AS name FROM pg_indexes i WHERE schemaname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) ORDER BY 1`,
        )
      ).map((r) => r.name);
      expect(pgIndexes).toEqual(sqliteIndexes);
    } finally {
      sqlite.close();
      await db.close();
    }
  });
});

describe('PostgresDatabase', () => {
  let url: string;
  const open = async (): Promise<PostgresDatabase> => openPostgres((url ??= await freshUrl()));

  it('keeps what one pool committed for another opened later (a restart)', async () => {
    const first = await open();
    const id = await enqueue(first, { orderKey: 'A', kind: 'create', channelId: CHANNEL, body: { content: 'kept' } }, 1000);
    await first.close();
    const second = await open();
    try {
      expect((await get(second, id))?.body).toEqual({ content: 'kept' });
    } finally {
      await second.close();
    }
  });

  it('rolls a transaction back on a throw, and a nested one back to its savepoint only', async () => {
    const db = await open();
    try {
      const before = await pendingCount(db);
      await expect(
        db.transaction(async () => {
          await enqueue(db, { orderKey: 'B', kind: 'create', channelId: CHANNEL, body: {} }, 1000);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await pendingCount(db)).toBe(before);
      await db.transaction(async () => {
        await enqueue(db, { orderKey: 'C', kind: 'create', channelId: CHANNEL, body: {} }, 1000);
        await expect(
          db.transaction(async () => {
            await enqueue(db, { orderKey: 'D', kind: 'create', channelId: CHANNEL, body: {} }, 1000);
            throw new Error('inner');
          }),
        ).rejects.toThrow('inner');
      });
      const keys = await db.all<{ k: string }>(`SELECT order_key AS k FROM outbox WHERE order_key IN ('B', 'C', 'D')`);
      expect(keys.map((r) => r.k)).toEqual(['C']);
    } finally {
      await db.close();
    }
  });

  it('runs concurrent transactions on their own connections, each seeing only its own rows until commit', async () => {
    const db = await open();
    try {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const a = db.transaction(async () => {
        await enqueue(db, { orderKey: 'E', kind: 'create', channelId: CHANNEL, body: {} }, 1000);
        await gate;
        return db.all<{ k: string }>(`SELECT order_key AS k FROM outbox WHERE order_key IN ('E', 'F') ORDER BY 1`);
      });
      const b = db.transaction(async () => {
        await enqueue(db, { orderKey: 'F', kind: 'create', channelId: CHANNEL, body: {} }, 1000);
        return db.all<{ k: string }>(`SELECT order_key AS k FROM outbox WHERE order_key IN ('E', 'F') ORDER BY 1`);
      });
      // b commits while a still waits: a, reading after b's commit (READ COMMITTED), sees both.
      expect((await b).map((r) => r.k)).toEqual(['F']);
      release();
      expect((await a).map((r) => r.k)).toEqual(['E', 'F']);
    } finally {
      await db.close();
    }
  });

  it('reads BIGINT times and counts as numbers, as SQLite gives them', async () => {
    const db = await open();
    try {
      const id = await enqueue(db, { orderKey: 'G', kind: 'create', channelId: CHANNEL, body: {} }, 1_796_000_000_123);
      const row = await get(db, id);
      expect(row?.createdAt).toBe(1_796_000_000_123);
      expect(typeof (await pendingCount(db))).toBe('number');
    } finally {
      await db.close();
    }
  });

  it('fails a request to a server that is down as a storage fault (webhooks answer 503), naming no password', async () => {
    const down = url.replace(/:(\d+)\//, ':1/');
    const err = await openPostgres(down).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isStorageFault(err)).toBe(true);
    expect(String((err as Error).message)).not.toContain('vigil-test-password');
  });
});

// The store's own test files, again on this server: each test on emptied tables, each file's
// hooks inside its own suite.
useTestPostgres(server.url);
describe('outbox.test.ts on PostgreSQL', async () => {
  await import('./outbox.test.js');
});
describe('notifications.test.ts on PostgreSQL', async () => {
  await import('./notifications.test.js');
});
describe('storms.test.ts on PostgreSQL', async () => {
  await import('./storms.test.js');
});
describe('stats.test.ts on PostgreSQL', async () => {
  await import('./stats.test.js');
});
describe('leases.test.ts on PostgreSQL', async () => {
  await import('./leases.test.js');
});
