// The README's routing section shows YAML people copy: Vigil's loader and Alertmanager's amtool must accept it as written.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { MINIMAL_CONFIG_YAML as BASE } from '../support/deps.js';

describe("README's routing section", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Routes, pings and escalation'), readme.indexOf('## Slash commands'));
  const yamlBlocks = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

  it('shows a routes example the loader accepts as written', () => {
    const example = yamlBlocks.find((b) => b.startsWith('routes:'));
    expect(example).toBeDefined();
    const r = parseConfig(`${BASE}${example!}`, {});
    expect(r.ok ? r.config.routes.map((x) => x.name) : r.errors).toEqual(['db']);
  });

  it('shows an Alertmanager config amtool accepts, pointing a receiver at the route URL', async () => {
    const tree = yamlBlocks.find((b) => b.startsWith('route:'));
    expect(tree).toContain('http://vigil:8080/webhooks/alertmanager/db');
    const dir = mkdtempSync(join(tmpdir(), 'vigil-readme-am-'));
    try {
      writeFileSync(join(dir, 'vigil-token'), 'a-webhook-token-0123456789');
      const file = join(dir, 'alertmanager.yml');
      writeFileSync(file, tree!.replaceAll('/etc/alertmanager/vigil-token', join(dir, 'vigil-token')));
      const { stdout } = await promisify(execFile)('/usr/bin/amtool', ['check-config', file], { timeout: 30_000 });
      expect(stdout).toContain('SUCCESS');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
