import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate, openDatabase, SqliteDatabase, userVersion } from '../../src/store/db.js';
import BetterSqlite3 from 'better-sqlite3';
import { getIncident } from '../../src/store/incidents.js';
import { enqueue, get, markFailed, markSent, PRIORITY, supersede } from '../../src/store/outbox.js';

const CHANNEL = '123456789012345678';

let dir: string;
const open: SqliteDatabase[] = [];

function openAt(path: string): SqliteDatabase {
  const db = openDatabase(path);
  open.push(db);
  return db;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-db-'));
});

afterEach(async () => {
  for (const db of open.splice(0)) if (db.sqlite.open) await db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('openDatabase', () => {
  it('creates missing parent directories for a file database', () => {
    const path = join(dir, 'nested', 'deeper', 'vigil.db');
    openAt(path);
    expect(existsSync(path)).toBe(true);
  });

  it('turns on WAL, fsync on every commit, foreign keys and a busy timeout', () => {
    const db = openAt(join(dir, 'vigil.db'));
    expect(db.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.sqlite.pragma('synchronous', { simple: true })).toBe(2); // 2 = FULL
    expect(db.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  it('works in memory for unit tests, with every migration applied', () => {
    const db = openAt(':memory:');
    expect(userVersion(db.sqlite)).toBe(MIGRATIONS.length);
    const tables = db.sqlite.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all();
    expect(tables).toContain('outbox');
    expect(tables).toContain('incidents');
    // Migration 9 dropped the fingerprint map nothing read.
    expect(tables).not.toContain('incident_alerts');
  });

  it('keeps schema and rows when the same file is opened again (migrations are idempotent)', async () => {
    const path = join(dir, 'vigil.db');
    const first = openAt(path);
    const id = await enqueue(first, { orderKey: 'k', kind: 'create', channelId: CHANNEL, body: { content: 'hello' } });
    await first.close();

    const second = openAt(path);
    expect(userVersion(second.sqlite)).toBe(MIGRATIONS.length);
    expect((await get(second, id))?.body).toEqual({ content: 'hello' });
  });

  it('refuses a database written by a newer Vigil', async () => {
    const path = join(dir, 'vigil.db');
    const db = openAt(path);
    db.sqlite.pragma(`user_version = ${MIGRATIONS.length + 5}`);
    await db.close();
    expect(() => openDatabase(path)).toThrow(/newer than this Vigil knows/);
  });
});

describe('migrate', () => {
  it('runs only the migrations newer than user_version', () => {
    const db = openAt(':memory:');
    const extra = [
      ...MIGRATIONS,
      { version: MIGRATIONS.length + 1, sql: 'CREATE TABLE extra_a (x INTEGER)' },
      { version: MIGRATIONS.length + 2, sql: 'CREATE TABLE extra_b (x INTEGER)' },
    ];
    migrate(db.sqlite, extra);
    expect(userVersion(db.sqlite)).toBe(MIGRATIONS.length + 2);
    // A second run would fail on CREATE TABLE if it re-ran anything.
    expect(() => migrate(db.sqlite, extra)).not.toThrow();
  });

  it('rolls a failing migration back as a whole, leaving user_version where it was', () => {
    const db = openAt(':memory:');
    const broken = [...MIGRATIONS, { version: MIGRATIONS.length + 1, sql: 'CREATE TABLE half_done (x INTEGER); SELECT * FROM no_such_table;' }];
    expect(() => migrate(db.sqlite, broken)).toThrow(/no_such_table/);
    expect(userVersion(db.sqlite)).toBe(MIGRATIONS.length);
    const tables = db.sqlite.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all();
    expect(tables).not.toContain('half_done');
  });

  it.each([
    { name: 'a gap', versions: [1, 3] },
    { name: 'a duplicate', versions: [1, 1] },
    { name: 'a start other than 1', versions: [2] },
  ])('rejects migration versions with $name', ({ versions }) => {
    const db = openAt(':memory:');
    const list = versions.map((version) => ({ version, sql: 'SELECT 1' }));
    expect(() => migrate(db.sqlite, list)).toThrow(/expected/);
  });
});

/** The claim columns of an outbox row no replica claimed (migration 22). */
const UNCLAIMED = { claimed_by: null, claim_until: null };

describe('migration 8: the thread kinds', () => {
  const version = MIGRATIONS.findIndex((m) => m.sql.includes('outbox_v8')) + 1;

  /** A database at the version before, with rows in every state, a file, a reply and an incident pointing at its create. */
  async function seededBeforeThreads(path: string): Promise<{ db: SqliteDatabase; rows: unknown[]; incidentId: number }> {
    const raw = new BetterSqlite3(path);
    const db = new SqliteDatabase(raw);
    open.push(db);
    raw.pragma('foreign_keys = ON');
    migrate(raw, MIGRATIONS.slice(0, version - 1));
    const create = await enqueue(
      db,
      { orderKey: 'incident:1', kind: 'create', channelId: CHANNEL, body: { content: 'firing' }, file: { name: 'chart.png', data: Buffer.from([1, 2, 3]) } },
      1000,
    );
    const reply = await enqueue(db, { orderKey: 'incident:1', kind: 'reply', channelId: CHANNEL, body: { content: 'resolved' }, targetId: create }, 1001);
    const edit = await enqueue(db, { orderKey: 'incident:1', kind: 'edit', channelId: CHANNEL, body: { content: 'edited' }, targetId: create }, 1002);
    await markSent(db, create, '223456789012345678');
    await markFailed(db, reply, 'client: 400');
    // A deleted last row: its id must still never be reused.
    const gone = await enqueue(db, { orderKey: 'other', kind: 'create', channelId: CHANNEL, body: {} }, 1003);
    raw.prepare('DELETE FROM outbox WHERE id = ?').run(gone);
    // Written as that version's schema holds it (createIncident writes columns added since).
    const incidentId = Number(
      raw
        .prepare(
          `INSERT INTO incidents (source, receiver, group_key, status, alerts, started_at, create_outbox_id, created_at, updated_at)
           VALUES ('alertmanager', 'r', 'g', 'firing', '{}', 1000, ?, 1000, 1000)`,
        )
        .run(create).lastInsertRowid,
    );
    const rows = raw.prepare('SELECT * FROM outbox ORDER BY id').all();
    expect(rows.map((r) => (r as { id: number }).id)).toEqual([create, reply, edit]);
    return { db, rows, incidentId };
  }

  it('keeps every row, column for column, and the references to them', async () => {
    const path = join(dir, 'vigil.db');
    const { db, rows, incidentId } = await seededBeforeThreads(path);
    await db.close();
    const migrated = openAt(path);
    expect(userVersion(migrated.sqlite)).toBe(MIGRATIONS.length);
    // Migration 11 since ranks every older row with the updates; migration 22 adds the claim columns, empty.
    expect(migrated.sqlite.prepare('SELECT * FROM outbox ORDER BY id').all()).toEqual(
      rows.map((r) => ({ ...(r as object), priority: PRIORITY.update, ...UNCLAIMED })),
    );
    expect((await getIncident(migrated, incidentId))?.createOutboxId).toBe(1);
    expect(migrated.sqlite.pragma('foreign_key_check')).toEqual([]);
    expect(migrated.sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(migrated.sqlite.prepare(`SELECT name FROM sqlite_master WHERE tbl_name = 'outbox' AND type = 'index' ORDER BY name`).pluck().all()).toEqual([
      'outbox_creates_by_channel',
      'outbox_pending_due',
      'outbox_pending_key',
      'outbox_pending_target',
    ]);
  });

  it('accepts the thread kinds afterwards, still refuses unknown kinds and keeps ids unique past deleted ones', async () => {
    const path = join(dir, 'vigil.db');
    await (await seededBeforeThreads(path)).db.close();
    const db = openAt(path);
    const ids: number[] = [];
    for (const kind of ['thread', 'thread-post', 'thread-archive'] as const) {
      ids.push(await enqueue(db, { orderKey: 'incident:1', kind, channelId: CHANNEL, body: {}, targetId: 1 }));
    }
    expect(ids).toEqual([5, 6, 7]);
    const kinds: Array<string | undefined> = [];
    for (const id of ids) kinds.push((await get(db, id))?.kind);
    expect(kinds).toEqual(['thread', 'thread-post', 'thread-archive']);
    expect(() =>
      db.sqlite
        .prepare(
          `INSERT INTO outbox (order_key, kind, channel_id, body, target_id, next_attempt_at, created_at, updated_at) VALUES ('k', 'nope', '1', '{}', 1, 0, 0, 0)`,
        )
        .run(),
    ).toThrow(/CHECK constraint failed/);
    expect(() =>
      db.sqlite
        .prepare(
          `INSERT INTO outbox (order_key, kind, channel_id, body, target_id, next_attempt_at, created_at, updated_at) VALUES ('k', 'thread', '1', '{}', 999, 0, 0, 0)`,
        )
        .run(),
    ).toThrow(/FOREIGN KEY/);
  });
});

describe('migration 11: priorities and superseded edits', () => {
  const version = MIGRATIONS.findIndex((m) => m.sql.includes('outbox_v11')) + 1;

  it('keeps every row with its id, ranks them with the updates, and accepts superseded but no unknown status', async () => {
    const path = join(dir, 'vigil.db');
    const raw = new BetterSqlite3(path);
    const before = new SqliteDatabase(raw);
    raw.pragma('foreign_keys = ON');
    migrate(raw, MIGRATIONS.slice(0, version - 1));
    const create = await enqueue(before, { orderKey: 'incident:1', kind: 'create', channelId: CHANNEL, body: { content: 'firing' } }, 1000);
    const edit = await enqueue(before, { orderKey: 'incident:1', kind: 'edit', channelId: CHANNEL, body: { content: 'edited' }, targetId: create }, 1001);
    await markSent(before, create, '223456789012345678');
    const rows = raw.prepare('SELECT * FROM outbox ORDER BY id').all();
    await before.close();

    const db = openAt(path);
    expect(userVersion(db.sqlite)).toBe(MIGRATIONS.length);
    // Migration 22 since adds the claim columns, empty.
    expect(db.sqlite.prepare('SELECT * FROM outbox ORDER BY id').all()).toEqual(
      rows.map((r) => ({ ...(r as object), priority: PRIORITY.update, ...UNCLAIMED })),
    );
    const newer = await enqueue(db, {
      orderKey: 'incident:1',
      kind: 'edit',
      channelId: CHANNEL,
      body: { content: 'newer' },
      targetId: create,
      priority: PRIORITY.resolve,
    });
    expect(newer).toBe(edit + 1);
    await supersede(db, edit, newer);
    expect((await get(db, edit))?.status).toBe('superseded');
    expect((await get(db, newer))?.priority).toBe(PRIORITY.resolve);
    expect(() => db.sqlite.prepare(`UPDATE outbox SET status = 'gone' WHERE id = ?`).run(newer)).toThrow(/CHECK constraint failed/);
    expect(() => db.sqlite.prepare(`UPDATE outbox SET priority = 7 WHERE id = ?`).run(newer)).toThrow(/CHECK constraint failed/);
    expect(db.sqlite.pragma('foreign_key_check')).toEqual([]);
  });
});
