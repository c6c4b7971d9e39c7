import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate, openDatabase, userVersion, type Database } from '../../src/store/db.js';
import { enqueue, get } from '../../src/store/outbox.js';

const CHANNEL = '123456789012345678';

let dir: string;
const open: Database[] = [];

function openAt(path: string): Database {
  const db = openDatabase(path);
  open.push(db);
  return db;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-db-'));
});

afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
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
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // 2 = FULL
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  it('works in memory for unit tests, with every migration applied', () => {
    const db = openAt(':memory:');
    expect(userVersion(db)).toBe(MIGRATIONS.length);
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all();
    expect(tables).toContain('outbox');
  });

  it('keeps schema and rows when the same file is opened again (migrations are idempotent)', () => {
    const path = join(dir, 'vigil.db');
    const first = openAt(path);
    const id = enqueue(first, { orderKey: 'k', kind: 'create', channelId: CHANNEL, body: { content: 'hello' } });
    first.close();

    const second = openAt(path);
    expect(userVersion(second)).toBe(MIGRATIONS.length);
    expect(get(second, id)?.body).toEqual({ content: 'hello' });
  });

  it('refuses a database written by a newer Vigil', () => {
    const path = join(dir, 'vigil.db');
    const db = openAt(path);
    db.pragma(`user_version = ${MIGRATIONS.length + 5}`);
    db.close();
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
    migrate(db, extra);
    expect(userVersion(db)).toBe(MIGRATIONS.length + 2);
    // A second run would fail on CREATE TABLE if it re-ran anything.
    expect(() => migrate(db, extra)).not.toThrow();
  });

  it('rolls a failing migration back as a whole, leaving user_version where it was', () => {
    const db = openAt(':memory:');
    const broken = [
      ...MIGRATIONS,
      { version: MIGRATIONS.length + 1, sql: 'CREATE TABLE half_done (x INTEGER); SELECT * FROM no_such_table;' },
    ];
    expect(() => migrate(db, broken)).toThrow(/no_such_table/);
    expect(userVersion(db)).toBe(MIGRATIONS.length);
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all();
    expect(tables).not.toContain('half_done');
  });

  it.each([
    { name: 'a gap', versions: [1, 3] },
    { name: 'a duplicate', versions: [1, 1] },
    { name: 'a start other than 1', versions: [2] },
  ])('rejects migration versions with $name', ({ versions }) => {
    const db = openAt(':memory:');
    const list = versions.map((version) => ({ version, sql: 'SELECT 1' }));
    expect(() => migrate(db, list)).toThrow(/expected/);
  });
});
