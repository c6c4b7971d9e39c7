import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURES = join(ROOT, 'test', 'fixtures');

/** Every file below `dir`, as paths relative to it. */
function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path).map((p) => join(name, p)) : [name];
  });
}

describe('the suite stands on its own', () => {
  it.each(['src', 'test', 'bench', 'scripts'])('no file under %s/ reads from the team folder beside the repository (shared/)', (dir) => {
    const offenders = walk(join(ROOT, dir))
      .filter((p) => /\.(ts|js|json|ya?ml|sh)$/.test(p))
      .filter((p) => /(\.\.\/)+shared\//.test(readFileSync(join(ROOT, dir, p), 'utf8')))
      .map((p) => join(dir, p));
    expect(offenders).toEqual([]);
  });

  it('names every fixture file in the SOURCES.md of its folder', () => {
    const files = walk(FIXTURES).filter((p) => !p.endsWith('SOURCES.md') && !p.endsWith('LICENSE'));
    expect(files.length).toBeGreaterThan(10);
    const unlisted = files.filter((p) => {
      const folder = join(FIXTURES, p, '..');
      const sources = readFileSync(join(folder, 'SOURCES.md'), 'utf8');
      return !sources.includes(relative(folder, join(FIXTURES, p)));
    });
    expect(unlisted).toEqual([]);
  });

  it('gives every fixture folder a licence in its SOURCES.md', () => {
    const folders = readdirSync(FIXTURES).filter((n) => statSync(join(FIXTURES, n)).isDirectory());
    expect(folders.sort()).toEqual(['discord', 'grafana', 'loki', 'webhooks']);
    for (const folder of folders) expect(readFileSync(join(FIXTURES, folder, 'SOURCES.md'), 'utf8'), folder).toMatch(/licen[cs]e/i);
  });
});

describe('npm run test:unit', () => {
  /** What starts a process outside this one: the test support's launchers, the browser, child processes. */
  const STARTS_A_PROCESS =
    /\b(startPrometheus|startNodeExporter|startAlertmanager|startLoki|startLokiBackend|startE2eStack|startBot|startPostgres|startPreviewScene|launchBrowser|spawnCli|execFile|spawn|execSync|spawnSync)\(/;

  it('leaves out every test that starts a process: those are named *.int.test.ts or live in test/e2e/', () => {
    const unit = walk(join(ROOT, 'test'))
      .filter((p) => p.endsWith('.test.ts') && !p.endsWith('.int.test.ts') && !p.startsWith('e2e/'))
      .filter((p) => p !== 'self-contained.test.ts');
    expect(unit.length).toBeGreaterThan(40);
    const offenders = unit.filter((p) => {
      const text = readFileSync(join(ROOT, 'test', p), 'utf8');
      return STARTS_A_PROCESS.test(text) || /from 'node:child_process'/.test(text);
    });
    expect(offenders).toEqual([]);
  });

  it('excludes test/e2e/ and *.int.test.ts, and tells the test support it is a unit run (its launchers then refuse)', () => {
    const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['test:unit'];
    expect(script).toBe("VIGIL_TEST_UNIT=1 vitest run --pool threads --exclude 'test/e2e/**' --exclude '**/*.int.test.ts'");
  });
});
