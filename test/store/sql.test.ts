import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqliteDatabase } from '../../src/store/db.js';
import { jsonText, toPostgres } from '../../src/store/sql.js';

describe('toPostgres', () => {
  it.each([
    ['numbers placeholders in order', 'SELECT * FROM t WHERE a = ? AND b > ?', 'SELECT * FROM t WHERE a = $1 AND b > $2'],
    ["spells SQLite's null-safe IS ? as IS NOT DISTINCT FROM", 'WHERE route IS ? AND x = ?', 'WHERE route IS NOT DISTINCT FROM $1 AND x = $2'],
    ['spells IS NOT ? as IS DISTINCT FROM', 'WHERE route IS NOT ?', 'WHERE route IS DISTINCT FROM $1'],
    ['keeps IS NULL and IS NOT NULL', 'WHERE a IS NULL AND b IS NOT NULL AND c = ?', 'WHERE a IS NULL AND b IS NOT NULL AND c = $1'],
    ['leaves a ? inside quotes alone', `SELECT '?' AS q, "a?b" FROM t WHERE c = ?`, `SELECT '?' AS q, "a?b" FROM t WHERE c = $1`],
    ["leaves a word ending in 'is' alone", 'WHERE this = ?', 'WHERE this = $1'],
    ['reads IS across a line break', 'WHERE route IS\n  ?', 'WHERE route IS NOT DISTINCT FROM $1'],
  ])('%s', (_name, sql, expected) => {
    expect(toPostgres(sql)).toBe(expected);
  });

  it('refuses SQL with an unterminated quote rather than guessing', () => {
    expect(() => toPostgres("SELECT 'oops FROM t WHERE a = ?")).toThrow(/unterminated quote/);
  });
});

describe('jsonText', () => {
  it.each([
    ['sqlite', "json_extract(n.body, '$.receiver')"],
    ['postgres', "(n.body::json ->> 'receiver')"],
  ] as const)('reads a text field of a JSON column on %s', (dialect, expected) => {
    expect(jsonText({ dialect } as never, 'n.body', 'receiver')).toBe(expected);
  });

  it('refuses a field name that is not plain (it is spliced into SQL)', () => {
    expect(() => jsonText({ dialect: 'sqlite' } as never, 'body', "x') OR 1=1 --")).toThrow(/not a plain JSON field name/);
  });
});

describe('SqliteDatabase transactions', () => {
  let db: SqliteDatabase;
  beforeEach(async () => {
    db = openDatabase(':memory:');
    await db.run('CREATE TABLE t (v INTEGER NOT NULL)');
  });
  afterEach(async () => {
    if (!db.closed) await db.close();
  });

  const values = async () => (await db.all<{ v: number }>('SELECT v FROM t ORDER BY rowid')).map((r) => r.v);

  it('commits what the callback wrote when it resolves, and returns its value', async () => {
    const out = await db.transaction(async () => {
      await db.run('INSERT INTO t (v) VALUES (?)', 1);
      await db.run('INSERT INTO t (v) VALUES (?)', 2);
      return 'done';
    });
    expect(out).toBe('done');
    expect(await values()).toEqual([1, 2]);
  });

  it('rolls everything back when the callback throws, and rethrows', async () => {
    await expect(
      db.transaction(async () => {
        await db.run('INSERT INTO t (v) VALUES (?)', 1);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await values()).toEqual([]);
  });

  it('keeps a call from another async context out of an open transaction: it runs after the commit', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const tx = db.transaction(async () => {
      await db.run('INSERT INTO t (v) VALUES (?)', 1);
      await gate;
      await db.run('INSERT INTO t (v) VALUES (?)', 2);
    });
    // Started while the transaction waits: it must neither land inside it nor see its rows early.
    const outside = db.all<{ v: number }>('SELECT v FROM t');
    const write = db.run('INSERT INTO t (v) VALUES (?)', 3);
    await new Promise((r) => setTimeout(r, 20));
    release();
    await tx;
    expect((await outside).map((r) => r.v)).toEqual([1, 2]);
    await write;
    expect(await values()).toEqual([1, 2, 3]);
  });

  it('a rolled-back transaction leaves the queued call from outside standing', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const tx = db.transaction(async () => {
      await db.run('INSERT INTO t (v) VALUES (?)', 1);
      await gate;
      throw new Error('rolled back');
    });
    const write = db.run('INSERT INTO t (v) VALUES (?)', 3);
    release();
    await expect(tx).rejects.toThrow('rolled back');
    await write;
    expect(await values()).toEqual([3]);
  });

  it('runs a nested transaction as a savepoint: its rollback keeps the outer work', async () => {
    await db.transaction(async () => {
      await db.run('INSERT INTO t (v) VALUES (?)', 1);
      await expect(
        db.transaction(async () => {
          await db.run('INSERT INTO t (v) VALUES (?)', 2);
          throw new Error('inner');
        }),
      ).rejects.toThrow('inner');
      await db.run('INSERT INTO t (v) VALUES (?)', 3);
    });
    expect(await values()).toEqual([1, 3]);
  });

  it('a timer started inside a transaction runs outside it once the transaction is over', async () => {
    let later!: Promise<unknown>;
    await db.transaction(async () => {
      await db.run('INSERT INTO t (v) VALUES (?)', 1);
      later = new Promise((resolve, reject) =>
        setTimeout(() => {
          db.run('INSERT INTO t (v) VALUES (?)', 2).then(resolve, reject);
        }, 10),
      );
    });
    await later;
    expect(await values()).toEqual([1, 2]);
  });
});

describe('SqliteDatabase lock waits', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-sql-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('gives up after lockWaitMs when another connection holds the write lock', async () => {
    const path = join(dir, 'vigil.db');
    const a = openDatabase(path);
    const b = openDatabase(path);
    try {
      a.sqlite.exec('BEGIN IMMEDIATE');
      const started = Date.now();
      await expect(b.transaction(async () => undefined, { lockWaitMs: 50 })).rejects.toThrow(/database is locked/);
      // Bounded by lockWaitMs, not the connection's 5 s busy_timeout (which stays as it was).
      expect(Date.now() - started).toBeLessThan(4000);
      expect(b.sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
      a.sqlite.exec('ROLLBACK');
    } finally {
      await a.close();
      await b.close();
    }
  });
});
