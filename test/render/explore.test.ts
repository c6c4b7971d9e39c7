import { describe, expect, it } from 'vitest';
import type { ExploreTarget } from '../../src/findings.js';
import {
  dashboardUrl,
  datasourcesOf,
  DEFAULT_DATASOURCES,
  encodeQueryValue,
  exploreLink,
  exploreUrl,
  fitExploreLinks,
  PANE_ID,
} from '../../src/render/explore.js';
import { EMBED_FIELD_VALUE } from '../../src/render/limits.js';
import { codePointLength } from '../../src/render/truncate.js';

const GRAFANA = 'https://grafana.example';
const START = new Date('2026-11-21T08:30:00Z');
const END = new Date('2026-11-21T09:05:00Z');
const CPU = '100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle",instance="app-1:9100"}[5m])))';
const LOGS = '{host="app-1"} |~ "(?i)(error|exception|fatal|panic|critical|fail)"';

const target = (over: Partial<ExploreTarget> = {}): ExploreTarget => ({
  label: 'Metrics',
  datasource: 'prometheus',
  expr: CPU,
  start: START,
  end: END,
  ...over,
});

/** What Grafana reads back: the URL's query parameters and the decoded panes JSON. */
function parse(url: string) {
  const u = new URL(url);
  return { u, panes: JSON.parse(u.searchParams.get('panes')!) as Record<string, unknown> };
}

describe('exploreUrl (Grafana 10, 11, 12: schemaVersion 1 panes)', () => {
  it('opens the Prometheus datasource with the exact PromQL over the window, in code mode (a range query by default)', () => {
    const { u, panes } = parse(exploreUrl(GRAFANA, target(), DEFAULT_DATASOURCES));
    expect(u.origin + u.pathname).toBe('https://grafana.example/explore');
    expect(u.searchParams.get('schemaVersion')).toBe('1');
    expect(u.searchParams.get('orgId')).toBe('1');
    expect(panes).toEqual({
      [PANE_ID]: {
        datasource: 'prometheus',
        queries: [{ refId: 'A', datasource: { type: 'prometheus', uid: 'prometheus' }, expr: CPU, editorMode: 'code' }],
        range: { from: String(START.getTime()), to: String(END.getTime()) },
      },
    });
  });

  it('opens the Loki datasource with the exact LogQL', () => {
    const { panes } = parse(exploreUrl(GRAFANA, target({ label: 'Logs', datasource: 'loki', expr: LOGS }), { prometheusUid: 'prom-1', lokiUid: 'loki-main' }));
    expect(panes[PANE_ID]).toEqual({
      datasource: 'loki-main',
      queries: [{ refId: 'A', datasource: { type: 'loki', uid: 'loki-main' }, expr: LOGS, editorMode: 'code' }],
      range: { from: String(START.getTime()), to: String(END.getTime()) },
    });
  });

  it('keeps a Grafana served under a path', () => {
    expect(new URL(exploreUrl('https://example.com/grafana/', target(), DEFAULT_DATASOURCES)).pathname).toBe('/grafana/explore');
  });

  it('uses a pane id Grafana keeps (3 characters of its id alphabet, not all digits)', () => {
    // grafana/grafana public/app/features/explore/hooks/useStateSync/migrators/v1.ts replaces any other id.
    expect(PANE_ID).toMatch(/^(?!\d+$)[0-9a-z]{3}$/);
  });

  it('encodes every character that would end the parameter or the markdown link', () => {
    const url = exploreUrl(GRAFANA, target({ expr: 'sum(rate(x{a="b c"}[5m])) + 1 > 0 & #1 * 100%' }), DEFAULT_DATASOURCES);
    const query = url.slice(url.indexOf('?'));
    expect(query).not.toMatch(/[ "()+#*{}[\]]/);
    expect((parse(url).panes[PANE_ID] as { queries: Array<{ expr: string }> }).queries[0]!.expr).toBe('sum(rate(x{a="b c"}[5m])) + 1 > 0 & #1 * 100%');
  });
});

describe('encodeQueryValue', () => {
  it.each(['a+b', 'x & y=z', '#frag', '"q" (p) * ! \'', '100% ✓ ünïcode', 'path/with:colon,comma@at'])('round-trips %j through URLSearchParams', (value) => {
    expect(new URLSearchParams(`v=${encodeQueryValue(value)}`).get('v')).toBe(value);
  });

  it('leaves : , / @ readable to keep links short', () => {
    expect(encodeQueryValue('a:b,c/d@e')).toBe('a:b,c/d@e');
  });
});

describe('exploreLink', () => {
  it('carries the query when the URL fits', () => {
    const link = exploreLink(GRAFANA, target(), DEFAULT_DATASOURCES, 1000);
    expect(link?.withQuery).toBe(true);
    expect(codePointLength(link!.url)).toBeLessThanOrEqual(1000);
  });

  it('falls back to the datasource and window without the query when the query is too long', () => {
    const long = target({ expr: `sum(${'rate(http_requests_total{path="/api/orders"}[5m]) + '.repeat(40)}0)` });
    const link = exploreLink(GRAFANA, long, DEFAULT_DATASOURCES, 600);
    expect(link?.withQuery).toBe(false);
    expect(codePointLength(link!.url)).toBeLessThanOrEqual(600);
    const pane = parse(link!.url).panes[PANE_ID] as { datasource: string; queries: Array<Record<string, unknown>>; range: unknown };
    expect(pane.datasource).toBe('prometheus');
    expect(pane.queries).toEqual([{ refId: 'A', datasource: { type: 'prometheus', uid: 'prometheus' } }]);
    expect(pane.range).toEqual({ from: String(START.getTime()), to: String(END.getTime()) });
  });

  it('gives no link when not even the window fits', () => {
    expect(exploreLink(GRAFANA, target(), DEFAULT_DATASOURCES, 100)).toBeUndefined();
  });
});

describe('fitExploreLinks', () => {
  const targets = [
    target(),
    target({ label: 'Logs', datasource: 'loki', expr: LOGS, start: new Date('2026-11-21T08:55:00Z') }),
    target({ label: 'Extra', expr: 'rate(http_requests_total{code=~"5.."}[5m])' }),
  ];

  it('fits the metrics and logs links with their exact queries in one field', () => {
    const fitted = fitExploreLinks(GRAFANA, targets.slice(0, 2), DEFAULT_DATASOURCES, EMBED_FIELD_VALUE);
    expect(fitted.links.map((l) => [l.label, l.withQuery])).toEqual([
      ['Metrics', true],
      ['Logs', true],
    ]);
    expect(fitted.omitted).toEqual([]);
    expect(codePointLength(fitted.text)).toBeLessThanOrEqual(EMBED_FIELD_VALUE);
    expect(fitted.text).toMatch(/^\[Metrics\]\(https:\/\/grafana\.example\/explore\?schemaVersion=1&panes=[^()\s]+&orgId=1\) · \[Logs\]\(/);
  });

  it('keeps the important links whole and leaves the third out when it would cost them their queries', () => {
    const fitted = fitExploreLinks(GRAFANA, targets, DEFAULT_DATASOURCES, EMBED_FIELD_VALUE);
    expect(fitted.links.map((l) => [l.label, l.withQuery])).toEqual([
      ['Metrics', true],
      ['Logs', true],
    ]);
    expect(fitted.omitted).toEqual(['Extra']);
    expect(codePointLength(fitted.text)).toBeLessThanOrEqual(EMBED_FIELD_VALUE);
  });

  it('shows a third link without its query when that still fits', () => {
    const short = [targets[0]!, target({ label: 'Logs', datasource: 'loki', expr: '{host="app-1"}' }), targets[2]!];
    const fitted = fitExploreLinks(GRAFANA, short, DEFAULT_DATASOURCES, 1300);
    expect(fitted.links.map((l) => [l.label, l.withQuery])).toEqual([
      ['Metrics', true],
      ['Logs', true],
      ['Extra', false],
    ]);
    expect(fitted.text).toContain('[Extra (window only)](');
  });

  it('drops the query of a link too long with it, says "window only", and keeps the others whole', () => {
    const longLogs = target({ label: 'Logs', datasource: 'loki', expr: `{host="app-1"} ${'|= "a fairly long line filter" '.repeat(12)}` });
    const fitted = fitExploreLinks(GRAFANA, [targets[0]!, longLogs], DEFAULT_DATASOURCES, EMBED_FIELD_VALUE);
    expect(fitted.links.map((l) => [l.label, l.withQuery])).toEqual([
      ['Metrics', true],
      ['Logs', false],
    ]);
    expect(fitted.text).toContain('[Logs (window only)](');
    expect(codePointLength(fitted.text)).toBeLessThanOrEqual(EMBED_FIELD_VALUE);
  });

  it('leaves the last links out when not even window-only links fit', () => {
    const fitted = fitExploreLinks(GRAFANA, targets, DEFAULT_DATASOURCES, 400);
    expect(fitted.links.map((l) => [l.label, l.withQuery])).toEqual([['Metrics', false]]);
    expect(fitted.omitted).toEqual(['Logs', 'Extra']);
    expect(codePointLength(fitted.text)).toBeLessThanOrEqual(400);
  });

  it('gives an empty text when nothing fits', () => {
    expect(fitExploreLinks(GRAFANA, targets, DEFAULT_DATASOURCES, 10)).toEqual({ text: '', links: [], omitted: ['Metrics', 'Logs', 'Extra'] });
  });
});

describe('dashboardUrl and datasourcesOf', () => {
  it('links a dashboard by uid over the window', () => {
    expect(dashboardUrl(`${GRAFANA}/`, 'node-exporter-full', { start: START, end: END })).toBe(
      `${GRAFANA}/d/node-exporter-full?from=${START.getTime()}&to=${END.getTime()}&orgId=1`,
    );
  });

  it.each(['../admin', 'a b', 'x'.repeat(41), ''])('refuses the uid %j', (uid) => {
    expect(dashboardUrl(GRAFANA, uid)).toBeUndefined();
  });

  it('uses the provisioned uids unless the config names others', () => {
    expect(datasourcesOf(undefined)).toEqual({ prometheusUid: 'prometheus', lokiUid: 'loki' });
    expect(datasourcesOf({ lokiUid: 'logs' })).toEqual({ prometheusUid: 'prometheus', lokiUid: 'logs' });
  });
});
