import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryError } from '../../src/queries/http.js';
import {
  createGrafanaClient,
  createRuleLookup,
  fillGrafanaMacros,
  planFromRule,
  provisionedRuleSchema,
  ruleLookupFromConfig,
  ruleUidFromGeneratorURL,
  type GrafanaClient,
  type ProvisionedRule,
} from '../../src/queries/grafana.js';
import { startGrafanaDouble, type GrafanaDoubleHandle } from '../support/grafana-double.js';

const UIDS = { prometheus: 'prometheus', loki: 'loki' };
const TOKEN = 'glsa_vigil_test_token_0123456789';

describe('ruleUidFromGeneratorURL', () => {
  it.each([
    ['a Grafana 9+ rule page', 'http://grafana:3000/alerting/grafana/vigil-target-down/view?orgId=1', 'vigil-target-down'],
    ['the same under a sub-path', 'https://ops.example.com/grafana/alerting/grafana/aBc_12-3/view', 'aBc_12-3'],
    ['a trailing slash', 'http://g/alerting/grafana/x1/view/', 'x1'],
    ['the older edit page', 'http://grafana:3000/alerting/ffk9zx4nvj4lcb/edit?returnTo=%2Falerting%2Flist', 'ffk9zx4nvj4lcb'],
    ['a relative path', '/alerting/grafana/rel-1/view', 'rel-1'],
    ['a Prometheus graph link', 'http://prometheus:9090/graph?g0.expr=up&g0.tab=1', undefined],
    ['the rule list', 'http://grafana:3000/alerting/list', undefined],
    ['a uid Grafana cannot have', 'http://g/alerting/grafana/a%20b/view', undefined],
    ['a broken percent escape (never throws)', 'http://g/alerting/grafana/%E0/view', undefined],
    ['a uid of 41 characters', `http://g/alerting/grafana/${'a'.repeat(41)}/view`, undefined],
    ['nothing', '', undefined],
    ['no URL at all', undefined, undefined],
  ])('reads %s', (_what, url, want) => {
    expect(ruleUidFromGeneratorURL(url)).toBe(want);
  });
});

describe('planFromRule on the bundled stack rules', () => {
  let grafana: GrafanaDoubleHandle;
  beforeAll(async () => {
    grafana = await startGrafanaDouble({ token: TOKEN });
  });
  afterAll(() => grafana?.stop());

  const rule = (uid: string): ProvisionedRule => provisionedRuleSchema.parse(grafana.rules.get(uid));

  it.each([
    ['vigil-target-down', 'prometheus', 'up', { op: '<', value: 1 }, '1m'],
    ['vigil-host-cpu-high', 'prometheus', 'node_cpu_seconds_total', { op: '>', value: 70 }, '5m'],
    ['vigil-host-memory-high', 'prometheus', 'node_memory_MemAvailable_bytes', { op: '>', value: 90 }, '5m'],
    ['vigil-host-disk-low', 'prometheus', 'node_filesystem_avail_bytes', { op: '<', value: 10 }, '5m'],
    ['vigil-container-cpu-high', 'prometheus', 'container_cpu_usage_seconds_total', { op: '>', value: 0.8 }, '5m'],
    ['vigil-container-oom-killed', 'prometheus', 'container_oom_events_total', { op: '>', value: 0 }, undefined],
    ['vigil-container-restarting', 'prometheus', 'container_start_time_seconds', { op: '>', value: 1 }, undefined],
    ['vigil-error-log-rate', 'loki', 'count_over_time', { op: '>', value: 10 }, '2m'],
  ])('%s: the %s query A with its threshold and pending period', (uid, backend, metric, threshold, pending) => {
    const r = rule(uid);
    const plan = planFromRule(r, UIDS);
    const a = r.data.find((q) => q.refId === 'A')!;
    expect(plan.main).toEqual({ refId: 'A', backend, expr: a.model.expr, logQuery: false });
    expect(plan.main!.expr).toContain(metric);
    expect(plan.threshold).toEqual(threshold);
    expect(plan.for).toBe(pending);
    expect(plan.condition).toBe(`A (last) ${threshold.op} ${threshold.value}`);
    expect(plan.notQueried).toEqual([]);
    expect(plan.group).toBe(r.ruleGroup);
  });
});

/** A rule with the given data and condition, the rest as Grafana fills it. */
function ruleWith(data: ProvisionedRule['data'], condition = 'C'): ProvisionedRule {
  return provisionedRuleSchema.parse({ uid: 'r1', title: 'R', condition, data, for: '0s', ruleGroup: 'g' });
}
const expr = (refId: string, model: Record<string, unknown>) => ({ refId, datasourceUid: '__expr__', model: { refId, ...model } });
const prom = (refId: string, e: string, uid = 'prometheus') => ({ refId, datasourceUid: uid, model: { refId, expr: e } });

describe('planFromRule', () => {
  it.each([
    [
      'a classic condition',
      [
        prom('A', 'up'),
        expr('C', { type: 'classic_conditions', conditions: [{ evaluator: { type: 'lt', params: [1] }, query: { params: ['A'] }, reducer: { type: 'avg' } }] }),
      ],
      { op: '<', value: 1 },
      'A (avg) < 1',
    ],
    [
      'a math comparison',
      [prom('A', 'up'), expr('B', { type: 'reduce', expression: 'A', reducer: 'max' }), expr('C', { type: 'math', expression: '$B >= 2.5' })],
      { op: '>=', value: 2.5 },
      'A (max) >= 2.5',
    ],
    ['a math comparison with braces', [prom('A', 'up'), expr('C', { type: 'math', expression: '${A} != 0' })], { op: '!=', value: 0 }, 'A != 0'],
    [
      'a range threshold',
      [prom('A', 'up'), expr('C', { type: 'threshold', expression: 'A', conditions: [{ evaluator: { type: 'outside_range', params: [20, 10] } }] })],
      { range: 'outside', low: 10, high: 20, inclusive: false },
      'A outside 10..20',
    ],
    [
      'an included range',
      [prom('A', 'up'), expr('C', { type: 'threshold', expression: 'A', conditions: [{ evaluator: { type: 'within_range_included', params: [1, 2] } }] })],
      { range: 'within', low: 1, high: 2, inclusive: true },
      'A within 1..2 (bounds included)',
    ],
    [
      'math Vigil cannot read as a threshold, in its own words',
      [prom('A', 'up'), expr('C', { type: 'math', expression: '$A > 1 && $A < 5' })],
      undefined,
      'A through "$A > 1 && $A < 5"',
    ],
    [
      "a threshold on rescaled math: not on the query's scale, so not drawn",
      [
        prom('A', 'up'),
        expr('B', { type: 'reduce', expression: 'A', reducer: 'last' }),
        expr('M', { type: 'math', expression: '$B / 1024 / 1024' }),
        expr('C', { type: 'threshold', expression: 'M', conditions: [{ evaluator: { type: 'lt', params: [500] } }] }),
      ],
      undefined,
      'A through "$B / 1024 / 1024" (last) < 500',
    ],
  ])('reads %s', (_what, data, threshold, condition) => {
    const plan = planFromRule(ruleWith(data), UIDS);
    expect(plan.main?.expr).toBe('up');
    expect(plan.threshold).toEqual(threshold);
    expect(plan.condition).toBe(condition);
  });

  it('names queries on datasources Vigil does not query, and finds no main query behind them', () => {
    const plan = planFromRule(
      ruleWith([
        prom('A', 'SELECT 1', 'mysql'),
        prom('B', 'up'),
        expr('C', { type: 'threshold', expression: 'A', conditions: [{ evaluator: { type: 'gt', params: [0] } }] }),
      ]),
      UIDS,
    );
    expect(plan.main).toBeUndefined();
    expect(plan.queries.map((q) => q.refId)).toEqual(['B']);
    expect(plan.notQueried).toEqual([{ refId: 'A', datasourceUid: 'mysql' }]);
  });

  it('tells a LogQL log query from a metric query', () => {
    const plan = planFromRule(
      ruleWith(
        [
          { refId: 'A', datasourceUid: 'loki', model: { expr: '{job="docker"} |= "[5m] is not a range here"' } },
          { refId: 'B', datasourceUid: 'loki', model: { expr: 'sum(count_over_time({job="docker"}[5m]))' } },
          expr('C', { type: 'threshold', expression: 'B', conditions: [{ evaluator: { type: 'gt', params: [3] } }] }),
        ],
        'C',
      ),
      UIDS,
    );
    expect(plan.queries.map((q) => [q.refId, q.logQuery])).toEqual([
      ['A', true],
      ['B', false],
    ]);
    expect(plan.main?.refId).toBe('B');
  });

  it('survives a condition cycle', () => {
    const plan = planFromRule(ruleWith([expr('B', { type: 'math', expression: '$C > 1' }), expr('C', { type: 'math', expression: '$B > 2' })]), UIDS);
    expect(plan.main).toBeUndefined();
  });
});

describe('fillGrafanaMacros', () => {
  it.each([
    ['rate(x[$__rate_interval])', 'rate(x[60s])'],
    ['rate(x[${__rate_interval}])', 'rate(x[60s])'],
    ['avg_over_time(x[$__interval])', 'avg_over_time(x[15s])'],
    ['count_over_time({a="b"}[$__auto])', 'count_over_time({a="b"}[15s])'],
    ['increase(x[$__range])', 'increase(x[3600s])'],
    ['x / $__interval_ms', 'x / 15000'],
    ['rate(x[5m])', 'rate(x[5m])'],
  ])('fills %s as Grafana would for a 15s step over an hour', (query, want) => {
    expect(fillGrafanaMacros(query, 15, 3600)).toBe(want);
  });

  it('gives $__rate_interval four steps when that is more than a minute', () => {
    expect(fillGrafanaMacros('rate(x[$__rate_interval])', 30, 3600)).toBe('rate(x[120s])');
  });
});

describe('createRuleLookup', () => {
  function counting(fail = false): GrafanaClient & { calls: number } {
    const client = {
      calls: 0,
      async alertRules() {
        throw new Error('not used');
      },
      async alertRule(uid: string) {
        client.calls += 1;
        await new Promise((r) => setTimeout(r, 5));
        if (fail) throw new QueryError('http', 'Grafana HTTP 500', 500);
        return ruleWith([
          prom('A', `up{rule="${uid}"}`),
          expr('C', { type: 'threshold', expression: 'A', conditions: [{ evaluator: { type: 'gt', params: [1] } }] }),
        ]);
      },
    };
    return client;
  }

  it('makes one call for a storm of one rule', async () => {
    const client = counting();
    const lookup = createRuleLookup({ client, uids: UIDS, ttlMs: 60_000 });
    const plans = await Promise.all(Array.from({ length: 50 }, () => lookup('r1', {})));
    expect(client.calls).toBe(1);
    expect(new Set(plans.map((p) => p.main?.expr))).toEqual(new Set(['up{rule="r1"}']));
  });

  it('reads a rule again once its TTL is over', async () => {
    const client = counting();
    let now = 0;
    const lookup = createRuleLookup({ client, uids: UIDS, ttlMs: 1000, now: () => new Date(now) });
    await lookup('r1', {});
    now = 999;
    await lookup('r1', {});
    expect(client.calls).toBe(1);
    now = 1000;
    await lookup('r1', {});
    expect(client.calls).toBe(2);
  });

  it('forgets a failed lookup at once', async () => {
    const client = counting(true);
    const lookup = createRuleLookup({ client, uids: UIDS, ttlMs: 60_000 });
    await expect(lookup('r1', {})).rejects.toThrow('Grafana HTTP 500');
    await expect(lookup('r1', {})).rejects.toThrow('Grafana HTTP 500');
    expect(client.calls).toBe(2);
  });

  it('keeps at most maxEntries rules, the least recently used going first', async () => {
    const client = counting();
    const lookup = createRuleLookup({ client, uids: UIDS, ttlMs: 60_000, maxEntries: 2 });
    await lookup('a', {});
    await lookup('b', {});
    await lookup('a', {});
    await lookup('c', {});
    expect(client.calls).toBe(3);
    await lookup('a', {});
    expect(client.calls).toBe(3);
    await lookup('b', {});
    expect(client.calls).toBe(4);
  });
});

describe('the Grafana client against the Grafana double', () => {
  let grafana: GrafanaDoubleHandle;
  beforeAll(async () => {
    grafana = await startGrafanaDouble({ token: TOKEN, basic: { user: 'admin', password: 'stack-admin-password' }, echoCredentials: true });
  });
  afterAll(() => grafana?.stop());

  it.each([
    ['a service account token', { token: TOKEN }, 'bearer'],
    ['a user and password', { user: 'admin', password: 'stack-admin-password' }, 'basic'],
  ] as const)('reads a rule with %s', async (_what, auth, kind) => {
    const client = createGrafanaClient({ url: grafana.url, timeoutMs: 2000, auth });
    const rule = await client.alertRule('vigil-host-cpu-high');
    expect(rule).toMatchObject({ uid: 'vigil-host-cpu-high', title: 'HostHighCpu', condition: 'C', for: '5m', ruleGroup: 'hosts' });
    expect(grafana.requests.at(-1)).toEqual({ method: 'GET', path: '/api/v1/provisioning/alert-rules/vigil-host-cpu-high', auth: kind });
  });

  it.each([
    // The double echoes what it got, as a careless proxy might: the client must scrub it.
    ['a wrong token', { token: 'glsa_wrong_token_0000' }, 'glsa_wrong', /^Grafana HTTP 401: Unauthorized: /],
    ['a wrong password', { user: 'admin', password: 'not-the-password' }, 'not-the-password', /^Grafana HTTP 401: Unauthorized: /],
  ] as const)('says Grafana refused %s, never the secret', async (_what, auth, secret, message) => {
    const err = await createGrafanaClient({ url: grafana.url, timeoutMs: 2000, auth })
      .alertRule('vigil-host-cpu-high')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryError);
    expect((err as QueryError).message).toMatch(message);
    expect((err as QueryError).message).not.toContain(secret);
  });

  it('says 404 for a rule Grafana does not have', async () => {
    const err = await createGrafanaClient({ url: grafana.url, timeoutMs: 2000, auth: { token: TOKEN } })
      .alertRule('no-such-rule')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'http', status: 404, message: 'Grafana HTTP 404' });
  });

  it('refuses a uid Grafana cannot have before calling it', async () => {
    const before = grafana.requests.length;
    await expect(createGrafanaClient({ url: grafana.url, timeoutMs: 2000 }).alertRule('../admin')).rejects.toThrow(RangeError);
    expect(grafana.requests.length).toBe(before);
  });

  it('looks rules up only when the config gives credentials', () => {
    const base = { url: grafana.url, ruleCacheTtl: 300_000 };
    expect(ruleLookupFromConfig(undefined, 1000)).toBeUndefined();
    expect(ruleLookupFromConfig(base, 1000)).toBeUndefined();
    expect(ruleLookupFromConfig({ ...base, token: TOKEN }, 1000)).toBeTypeOf('function');
    expect(ruleLookupFromConfig({ ...base, user: 'admin', password: 'x' }, 1000)).toBeTypeOf('function');
  });
});
