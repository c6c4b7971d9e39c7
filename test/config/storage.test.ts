import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { configSecrets } from '../../src/config/secrets.js';
import { MINIMAL_CONFIG_YAML } from '../support/deps.js';

// storage.url (PostgreSQL, several replicas) and cluster.leaseTtl: what the config accepts, what it
// refuses and how, and that the URL's password is a secret.

const PASSWORD = 's3cr%40t-pw';

function parse(extra: string, env: NodeJS.ProcessEnv = {}) {
  return parseConfig(`${MINIMAL_CONFIG_YAML}${extra}`, env);
}

describe('storage.url', () => {
  it.each([['postgres://vigil:pw@db:5432/vigil'], ['postgresql://vigil:pw@db.internal/vigil?sslmode=require']])(
    'accepts %s, keeping storage.path for SQLite unused',
    (url) => {
      const r = parse(`storage: { url: "${url}" }\n`);
      expect(r.ok && r.config.storage).toEqual({ path: './data/vigil.db', url, poolSize: 10 });
    },
  );

  it('reads an empty value as unset, so one config serves SQLite and PostgreSQL through ${VIGIL_DATABASE_URL:-}', () => {
    const r = parse('storage: { url: "${VIGIL_DATABASE_URL:-}" }\n');
    expect(r.ok && r.config.storage.url).toBeUndefined();
    const set = parse('storage: { url: "${VIGIL_DATABASE_URL:-}" }\n', { VIGIL_DATABASE_URL: 'postgres://v:p@db/vigil' });
    expect(set.ok && set.config.storage.url).toBe('postgres://v:p@db/vigil');
  });

  it.each([
    ['mysql://vigil:pw@db/vigil', 'storage.url: expected a postgres:// or postgresql:// URL, got a mysql:// one'],
    ['postgres://vigil:pw@db:5432', 'storage.url: expected a database name in the postgres:// URL (…:5432/vigil)'],
    ['postgres://vigil:pw@db:5432/', 'storage.url: expected a database name in the postgres:// URL (…:5432/vigil)'],
    [
      'not a url with a pw',
      'storage.url: expected a postgres://user:password@host:5432/database URL (this one does not parse; not shown: it may hold a password)',
    ],
  ])('refuses %s with a precise message that does not repeat it', (url, message) => {
    const r = parse(`storage: { url: "${url}" }\n`);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toContain(message);
    expect(r.errors.join('\n')).not.toContain('pw@');
  });

  it('refuses an unknown key beside it', () => {
    const r = parse('storage: { url: "postgres://v:p@db/vigil", pool: 5 }\n');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors.join('\n')).toMatch(/storage.*pool/);
  });

  it.each([
    ['1', false],
    ['2', true],
    ['100', true],
    ['101', false],
  ])('takes poolSize %s: %s', (size, ok) => {
    expect(parse(`storage: { url: "postgres://v:p@db/vigil", poolSize: ${size} }\n`).ok).toBe(ok);
  });

  it('counts the URL and its password (decoded too) among the secrets logs and messages never hold', () => {
    const r = parse(`storage: { url: "postgres://vigil:${PASSWORD}@db:5432/vigil" }\n`);
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const secrets = configSecrets(r.config);
    expect(secrets).toContain(`postgres://vigil:${PASSWORD}@db:5432/vigil`);
    expect(secrets).toContain(PASSWORD);
    expect(secrets).toContain('s3cr@t-pw');
  });
});

describe('cluster.leaseTtl', () => {
  it('defaults to 15 s', () => {
    const r = parse('');
    expect(r.ok && r.config.cluster).toEqual({ leaseTtl: 15_000 });
  });

  it.each([
    ['5s', 5000],
    ['1m', 60_000],
  ])('takes %s', (ttl, ms) => {
    const r = parse(`cluster: { leaseTtl: ${ttl} }\n`);
    expect(r.ok && r.config.cluster.leaseTtl).toBe(ms);
  });

  it.each(['500ms', '10m'])('refuses %s, naming the range', (ttl) => {
    const r = parse(`cluster: { leaseTtl: ${ttl} }\n`);
    expect(!r.ok && r.errors.join('\n')).toContain(`cluster.leaseTtl: expected a duration between 1s and 5m, got "${ttl}"`);
  });
});
