import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { postgresBinDir, startPostgres } from '../test/support/postgres.js';
import { defer } from './cleanup.js';
import type { StorageInput } from './report.js';
import { runWebhookLoad, type WebhookLoadOptions, type WebhookLoadResult } from './webhook-load.js';

/** The PostgreSQL runs of section 8: how many replicas share the server, and the alert-name label of each. */
const POSTGRES_RUNS = [
  { name: 'PostgreSQL', replicas: 1, label: 'Pg' },
  { name: 'PostgreSQL, 2 replicas', replicas: 2, label: 'PgPair' },
] as const;

/**
 * Section 8's runs, one after the other: section 1's load on SQLite (unless `sqlite` is section 1's
 * own run), then on a fresh PostgreSQL per run, with fsync on as SQLite has it, one replica and two.
 */
export async function runStorageComparison(
  load: Omit<WebhookLoadOptions, 'postgres' | 'replicas' | 'label'>,
  step: (text: string) => void,
  sqlite?: WebhookLoadResult,
): Promise<Pick<StorageInput, 'runs' | 'sqliteIsSection1' | 'postgres'>> {
  const runs: StorageInput['runs'] = [];
  if (sqlite) runs.push({ name: 'SQLite', result: sqlite });
  else {
    step(`storage: SQLite, ${load.rate} req/s for ${load.durationS} s`);
    runs.push({ name: 'SQLite', result: await runWebhookLoad({ ...load, label: 'Sqlite' }) });
  }
  for (const run of POSTGRES_RUNS) {
    step(`storage: ${run.name} (fsync on), ${load.rate} req/s for ${load.durationS} s`);
    const pg = await startPostgres({ fsync: true });
    const stopPostgres = defer(() => pg.stop());
    try {
      const pid = Number(readFileSync(join(pg.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      runs.push({ name: run.name, result: await runWebhookLoad({ ...load, postgres: { url: pg.url, pid }, replicas: run.replicas, label: run.label }) });
    } finally {
      await stopPostgres();
    }
  }
  // "postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)" -> "PostgreSQL 15.14 (Debian 15.14-0+deb12u1)"
  const postgres = execFileSync(join(postgresBinDir()!, 'postgres'), ['--version'], { encoding: 'utf8' })
    .trim()
    .replace(/^postgres \(PostgreSQL\)/, 'PostgreSQL');
  return { runs, sqliteIsSection1: sqlite !== undefined, postgres };
}
