import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';

// Harness that runs Debian's real PostgreSQL server on 127.0.0.1 for the storage tests: initdb into
// a temp dir, pg_ctl start on a free port, one database and a password user, removed by stop().

const run = promisify(execFile);

/** Where Debian installs a PostgreSQL major version's server programs. */
const PG_LIB = '/usr/lib/postgresql';
const PORT_ATTEMPTS = 3;

/** The server programs of the newest PostgreSQL installed (Debian's `postgresql` package), or undefined. */
export function postgresBinDir(): string | undefined {
  if (!existsSync(PG_LIB)) return undefined;
  const majors = readdirSync(PG_LIB)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(PG_LIB, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] && join(PG_LIB, majors[0], 'bin');
}

/** A running PostgreSQL. */
export interface PostgresHandle {
  /** `postgres://vigil:…@127.0.0.1:<port>/vigil`. */
  url: string;
  port: number;
  /** The data directory's parent (removed by stop()). */
  dir: string;
  /** Creates another empty database on this server (owned by vigil); returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server (fast shutdown) and removes its files. */
  stop(): Promise<void>;
  /** Kills the server's postmaster with SIGKILL (a crash), leaving its files for start(). */
  kill(): Promise<void>;
}

/**
 * Runs a server program as the `postgres` user when this process is root (PostgreSQL refuses to
 * run as root; CI runs as root), else as this user.
 */
function asServerUser(bin: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  if (process.getuid?.() === 0) return run('runuser', ['-u', 'postgres', '--', bin, ...args], { timeout: 60_000 });
  return run(bin, args, { timeout: 60_000 });
}

/** Options of {@link startPostgres}. */
export interface PostgresOptions {
  /**
   * `true`: PostgreSQL's own durability (fsync and synchronous_commit on, as a deployment runs it),
   * for a benchmark set beside SQLite's fsync per commit. Default `false`: `fsync=off`, as tests
   * need no crash safety of the disk and run faster without it.
   */
  fsync?: boolean;
}

/** Starts a fresh PostgreSQL cluster on a free 127.0.0.1 port with database `vigil` owned by user `vigil`. */
export async function startPostgres(opts: PostgresOptions = {}): Promise<PostgresHandle> {
  const bin = postgresBinDir();
  if (!bin) throw new Error(`no PostgreSQL server under ${PG_LIB}: apt-get install postgresql`);
  const dir = await mkdtemp(join(tmpdir(), 'vigil-postgres-'));
  const data = join(dir, 'data');
  const password = 'vigil-test-password';
  try {
    if (process.getuid?.() === 0) chownSync(dir, ...postgresIds());
    await run('sh', ['-c', `printf '%s' "$1" > "$2/pwfile"`, 'sh', password, dir]);
    if (process.getuid?.() === 0) chownSync(join(dir, 'pwfile'), ...postgresIds());
    await asServerUser(join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      'vigil',
      '--auth=scram-sha-256',
      `--pwfile=${join(dir, 'pwfile')}`,
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
    ]);
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const options = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir}${opts.fsync ? '' : ' -c fsync=off'} -c max_connections=50`;
      try {
        await asServerUser(join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '30', 'start']);
        break;
      } catch (err) {
        // Another process may have taken the port between freePort() and the listen.
        if (attempt >= PORT_ATTEMPTS) throw err;
      }
    }
    const url = `postgres://vigil:${password}@127.0.0.1:${port}/vigil`;
    await run('psql', [`postgres://vigil:${password}@127.0.0.1:${port}/postgres`, '-v', 'ON_ERROR_STOP=1', '-qc', 'CREATE DATABASE vigil'], {
      timeout: 30_000,
    });
    const pgCtl = (args: string[]) => asServerUser(join(bin, 'pg_ctl'), ['-D', data, ...args]);
    return {
      url,
      port,
      dir,
      async createDatabase(name) {
        if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain database name: ${name}`);
        await run('psql', [url, '-v', 'ON_ERROR_STOP=1', '-qc', `CREATE DATABASE ${name}`], { timeout: 30_000 });
        return url.replace(/\/vigil$/, `/${name}`);
      },
      async stop() {
        await pgCtl(['-m', 'fast', '-w', 'stop']).catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
      },
      async kill() {
        const { stdout } = await run('head', ['-1', join(data, 'postmaster.pid')]);
        process.kill(Number(stdout.trim()), 'SIGKILL');
      },
    };
  } catch (err) {
    await asServerUser(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** The uid and gid of the `postgres` user the Debian package creates. */
function postgresIds(): [number, number] {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return [id('-u'), id('-g')];
}
