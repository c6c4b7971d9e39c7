import { describe, expect, it } from 'vitest';
import { exprFromGeneratorURL } from '../../src/webhooks/expr.js';
import { fixtureJson } from './fixtures.js';

const CPU_EXPR = '100 - (avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 90';

describe('exprFromGeneratorURL', () => {
  it('decodes the form-encoded g0.expr of the real Alertmanager fixture (+ is a space)', () => {
    const alert = fixtureJson('alertmanager-firing.json').alerts[0]!;
    expect(exprFromGeneratorURL(alert['generatorURL'] as string)).toBe(CPU_EXPR);
  });

  it.each([
    ['Prometheus 3 /query form', 'http://prom:9090/query?g0.expr=up%7Bjob%3D%22node%22%7D+%3D%3D+0&g0.tab=graph', 'up{job="node"} == 0'],
    ['a route prefix', 'https://example.test/prometheus/graph?g0.expr=rate(x%5B1m%5D)', 'rate(x[1m])'],
    ['g0.expr not first', 'http://prom:9090/graph?g0.tab=1&g0.expr=sum(up)', 'sum(up)'],
    ['a relative URL', '/graph?g0.expr=up', 'up'],
    ['%2B as a literal plus', 'http://p/graph?g0.expr=a+%2B+b', 'a + b'],
    ['surrounding whitespace', 'http://p/graph?g0.expr=++up++', 'up'],
    ['UTF-8 percent escapes', 'http://p/graph?g0.expr=x%7Bl%3D%22%C3%A9%22%7D', 'x{l="é"}'],
  ])('reads the expression with %s', (_name, url, expected) => {
    expect(exprFromGeneratorURL(url)).toBe(expected);
  });

  it.each([
    ['a Grafana rule link', 'https://play.grafana.org/alerting/1afz29v7z/edit'],
    ['a graph URL without g0.expr', 'http://prom:9090/graph?g0.tab=1'],
    ['an empty g0.expr', 'http://prom:9090/graph?g0.expr=&g0.tab=1'],
    ['a whitespace-only g0.expr', 'http://prom:9090/graph?g0.expr=+++'],
    ['g0.expr on a non-graph path', 'http://prom:9090/alerts?g0.expr=up'],
    ['an unparseable URL', 'http://[::1'],
    ['an empty string', ''],
    ['undefined', undefined],
    ['an absurdly long expression', `http://p/graph?g0.expr=${'x'.repeat(20_000)}`],
  ])('returns undefined for %s', (_name, url) => {
    expect(exprFromGeneratorURL(url)).toBeUndefined();
  });

  it('never throws on malformed percent escapes and keeps them literally', () => {
    expect(exprFromGeneratorURL('http://p/graph?g0.expr=up%ZZ%')).toBe('up%ZZ%');
  });
});
