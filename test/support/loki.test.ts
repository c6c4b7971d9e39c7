import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLokiClient } from '../../src/queries/loki.js';
import { lokiBackendNote, streamOf } from './loki.js';
import { startLokiDouble, type LokiDoubleHandle } from './loki-double.js';
import { lokiBinary, pushToLoki } from './procs.js';

describe('finding a Loki binary', () => {
  let dir: string;
  let fake: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-lokibin-'));
    fake = join(dir, 'loki');
    writeFileSync(fake, '#!/bin/sh\n');
    chmodSync(fake, 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    { what: 'LOKI_BIN when set', env: () => ({ LOKI_BIN: fake, PATH: '/nonexistent' }), want: () => fake },
    { what: 'loki on PATH without LOKI_BIN', env: () => ({ PATH: `/nonexistent:${dir}` }), want: () => fake },
    { what: 'nothing when neither is there', env: () => ({ PATH: '/nonexistent' }), want: () => undefined },
  ])('takes $what', ({ env, want }) => {
    expect(lokiBinary(env())).toBe(want());
  });

  it('fails loudly when LOKI_BIN names no executable, rather than quietly testing the double', () => {
    expect(() => lokiBinary({ LOKI_BIN: join(dir, 'missing') })).toThrow(/ENOENT/);
  });

  it('says which Loki the LogQL tests run against', () => {
    expect(lokiBackendNote('/opt/loki')).toBe('LogQL e2e tests: real Loki at /opt/loki');
    expect(lokiBackendNote(undefined)).toMatch(/no Loki binary .* against the Loki double/);
  });
});

describe("the Loki double's push API ('pushed' mode)", () => {
  let double: LokiDoubleHandle;
  const now = Date.now();
  beforeAll(async () => {
    double = await startLokiDouble({ data: 'pushed' });
  });
  afterAll(() => double?.stop());

  it('serves nothing before a push: the recorded data set is not there', async () => {
    const client = createLokiClient({ url: double.url, timeoutMs: 2000 });
    const res = await client.queryRange('{job="docker"}', { start: new Date(0), end: new Date(now + 60_000) });
    expect(res.result).toEqual([]);
  });

  it('answers with the pushed lines at their own timestamps, and their label values', async () => {
    await pushToLoki(double.url, [
      streamOf({ job: 'docker', container_name: 'web' }, [
        { at: new Date(now - 120_000), line: 'ERROR old' },
        { at: new Date(now - 60_000), line: 'ERROR new' },
      ]),
    ]);
    await pushToLoki(double.url, [streamOf({ job: 'docker', container_name: 'web' }, [{ at: new Date(now - 90_000), line: 'ERROR middle' }])]);
    const client = createLokiClient({ url: double.url, timeoutMs: 2000 });
    const res = await client.queryRange('{container_name="web"} |= "ERROR"', { start: new Date(now - 100_000), end: new Date(now), direction: 'backward' });
    expect(res.resultType === 'streams' && res.result.flatMap((s) => s.entries.map((e) => [e.at.getTime(), e.line]))).toEqual([
      [now - 60_000, 'ERROR new'],
      [now - 90_000, 'ERROR middle'],
    ]);
    expect(await client.labelValues('container_name', { start: new Date(now - 300_000), end: new Date(now) })).toEqual(['web']);
  });

  it('answers a push body that is not JSON with 400', async () => {
    const res = await fetch(`${double.url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'nope' });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/expected a JSON push body/);
  });
});
