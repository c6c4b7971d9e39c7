import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresHandle } from './postgres.js';

const run = promisify(execFile);

describe('the PostgreSQL harness', () => {
  let pg: PostgresHandle;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 90_000);
  afterAll(async () => {
    await pg?.stop();
  });

  it('runs a real server on loopback with a password user and database vigil', async () => {
    expect(pg.url).toMatch(/^postgres:\/\/vigil:[^@]+@127\.0\.0\.1:\d+\/vigil$/);
    const { stdout } = await run('psql', [pg.url, '-Atc', 'SELECT current_user, current_database(), version()']);
    expect(stdout).toMatch(/^vigil\|vigil\|PostgreSQL \d+/);
  });

  it('refuses a wrong password', async () => {
    await expect(run('psql', [pg.url.replace(/:[^:@]+@/, ':wrong@'), '-Atc', 'SELECT 1'])).rejects.toThrow(/password authentication failed/);
  });

  it('removes its files when stopped', async () => {
    const other = await startPostgres();
    expect(existsSync(other.dir)).toBe(true);
    await other.stop();
    expect(existsSync(other.dir)).toBe(false);
  }, 90_000);
});
