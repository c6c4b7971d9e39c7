import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrometheusClient, type InstantSample, type PrometheusClient } from '../../src/queries/prometheus.js';
import { escapeRegex, quote, selector } from '../../src/queries/promql.js';
import { startPrometheus, type PrometheusHandle } from '../support/procs.js';

describe('escaping against a real Prometheus', () => {
  const VALUES = [
    'say "hi"',
    'back\\slash',
    'trailing\\',
    '\\"',
    'line1\nline2',
    'tab\there',
    'cr\rhere',
    'close}brace',
    'a",b="c',
    '"} or vector(1) or up{x="',
    'ünïcødé ☃ 日本語 🚀',
    'regex.*+?()[]{}|^$',
    'percent %41 and $1 &x=1',
  ];
  /** Text exposition format escaping (only \\, \" and \n; tab and CR go raw). */
  const expo = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

  let metrics: Server;
  let prom: PrometheusHandle;
  let client: PrometheusClient;

  beforeAll(async () => {
    const body = '# TYPE vigil_escape_probe gauge\n' + VALUES.map((v, i) => `vigil_escape_probe{case="${i}",value="${expo(v)}"} ${i}\n`).join('');
    metrics = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body));
    await new Promise<void>((resolve) => metrics.listen(0, '127.0.0.1', resolve));
    const port = (metrics.address() as AddressInfo).port;
    prom = await startPrometheus({ scrapeConfigs: [{ job: 'probe', targets: [`127.0.0.1:${port}`] }], scrapeInterval: '1s' });
    await prom.waitFor(`count(vigil_escape_probe) == ${VALUES.length}`);
    client = createPrometheusClient({ url: prom.url, timeoutMs: 5_000 });
  });

  afterAll(async () => {
    await prom?.stop();
    metrics?.closeAllConnections();
    metrics?.close();
  });

  async function vector(expr: string): Promise<InstantSample[]> {
    const res = await client.query(expr);
    if (res.resultType !== 'vector') throw new Error(`expected a vector, got ${res.resultType}`);
    return res.result;
  }

  it('scraped every probe value intact', async () => {
    const got = (await vector('vigil_escape_probe')).map((s) => s.labels.value).sort();
    expect(got).toEqual([...VALUES].sort());
  });

  it.each(VALUES.map((v, i) => [JSON.stringify(v), v, i] as const))('= %s selects exactly its series', async (_s, value, i) => {
    const res = await vector(selector([{ name: 'value', value }], 'vigil_escape_probe'));
    expect(res.map((s) => [s.labels.case, s.labels.value, s.value])).toEqual([[String(i), value, i]]);
  });

  it.each(VALUES.map((v, i) => [JSON.stringify(v), v, i] as const))('=~ escapeRegex(%s) selects exactly its series', async (_s, value, i) => {
    const res = await vector(selector([{ name: 'value', op: '=~', value: escapeRegex(value) }], 'vigil_escape_probe'));
    expect(res.map((s) => [s.labels.case, s.labels.value])).toEqual([[String(i), value]]);
  });

  it('does not let an unknown hostile value inject a query', async () => {
    const res = await vector(selector([{ name: 'value', value: '"} or vector(42) or up{x="' }], 'vigil_escape_probe'));
    expect(res).toEqual([]);
  });

  it.each(['\x01ctrl\x1f', 'bell\x07 \b \f \v', 'nul\x00end', 'del\x7f'])(
    'round-trips the control characters of %j through a string literal',
    async (value) => {
      // label_replace writes the parsed literal into a label: what the parser read comes back as is.
      const res = await vector(`label_replace(vector(1), "v", ${quote(value)}, "", "")`);
      expect(res.map((s) => s.labels.v)).toEqual([value]);
    },
  );
});
