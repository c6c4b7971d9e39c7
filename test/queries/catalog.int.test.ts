import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { containerContextQuery, fillLabels, hostContextQuery, targetUp } from '../../src/queries/catalog.js';

const run = promisify(execFile);

/** A '…' string holding an escaped quote, then a placeholder in a later '…' string. */
const ESCAPED_QUOTE_THEN_PLACEHOLDER = `label_replace(up, "a", '\\'', "", "") and on() up{y='\${instance}'}`;

describe('catalog queries against the real parser', () => {
  it('writes PromQL the real parser accepts (promtool check rules)', async () => {
    const exprs = [
      targetUp(),
      targetUp('node', 'a"b\\c\n:9100'),
      hostContextQuery([{ name: 'instance', op: '=~', value: 'app-1(:\\d+)?' }]),
      containerContextQuery(
        [{ name: 'name', op: '!=', value: '' }],
        { cpu: 'container_cpu_usage_seconds_total', memory: 'container_memory_working_set_bytes' },
        1800,
      ),
      fillLabels('rate(http_requests_total{instance="${instance}",path=~"${path}.*"}[5m])', { instance: 'a"b\\', path: '/api/v1+' }),
      fillLabels(ESCAPED_QUOTE_THEN_PLACEHOLDER, { instance: "it's" }),
    ];
    const dir = await mkdtemp(join(tmpdir(), 'vigil-catalog-'));
    try {
      const file = join(dir, 'rules.yml');
      const rules = exprs.map((expr, i) => ({ record: `vigil:catalog_${i}`, expr }));
      await writeFile(file, stringify({ groups: [{ name: 'catalog', rules }] }));
      const { stdout } = await run('/usr/bin/promtool', ['check', 'rules', file]);
      expect(stdout).toContain(`SUCCESS: ${exprs.length} rules found`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
