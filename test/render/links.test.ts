import { describe, expect, it } from 'vitest';
import type { Notification } from '../../src/model.js';
import { linkRewrites, publicLink, publicNotification, unreachableLinkBase } from '../../src/render/links.js';

const REWRITES = linkRewrites({
  grafana: { url: 'http://grafana:3000', publicUrl: 'https://grafana.example.org' },
  prometheus: { url: 'http://prometheus:9090', publicUrl: 'https://ops.example.org/prometheus' },
  alertmanager: { url: 'http://alertmanager:9093' },
});

describe('links shown in Discord', () => {
  it('rewrites only the backends whose publicUrl differs from url, the longest base first', () => {
    expect(REWRITES).toEqual([
      { from: 'http://prometheus:9090', to: 'https://ops.example.org/prometheus' },
      { from: 'http://grafana:3000', to: 'https://grafana.example.org' },
    ]);
  });

  it("gives a Prometheus under Grafana's host its own public base", () => {
    const rewrites = linkRewrites({
      grafana: { url: 'http://h:3000', publicUrl: 'https://g.example.org' },
      prometheus: { url: 'http://h:3000/prometheus', publicUrl: 'https://p.example.org' },
    });
    expect(publicLink('http://h:3000/prometheus/graph?g0.expr=up', rewrites)).toBe('https://p.example.org/graph?g0.expr=up');
    expect(publicLink('http://h:3000/d/abc', rewrites)).toBe('https://g.example.org/d/abc');
  });

  it.each([
    ['a Grafana rule page', 'http://grafana:3000/alerting/grafana/x/view?orgId=1', 'https://grafana.example.org/alerting/grafana/x/view?orgId=1'],
    ['the base alone', 'http://grafana:3000', 'https://grafana.example.org'],
    ['a query right after the base', 'http://grafana:3000?orgId=1', 'https://grafana.example.org?orgId=1'],
    ['a Prometheus graph link', 'http://prometheus:9090/graph?g0.expr=up', 'https://ops.example.org/prometheus/graph?g0.expr=up'],
    ['a host that only starts like the base', 'http://grafana:30001/x', 'http://grafana:30001/x'],
    ['another host', 'https://play.grafana.org/alerting/x/edit', 'https://play.grafana.org/alerting/x/edit'],
    ['a backend without publicUrl', 'http://alertmanager:9093/#/silences', 'http://alertmanager:9093/#/silences'],
  ])('%s', (_what, url, want) => {
    expect(publicLink(url, REWRITES)).toBe(want);
  });

  it("rewrites every link of a notification's alerts and its external URL", () => {
    const n = {
      source: 'grafana',
      receiver: 'vigil',
      status: 'firing',
      groupKey: 'g',
      groupLabels: {},
      commonLabels: {},
      commonAnnotations: {},
      truncatedAlerts: 0,
      externalURL: 'http://grafana:3000/',
      alerts: [
        {
          fingerprint: 'f',
          status: 'firing',
          labels: {},
          annotations: {},
          startsAt: new Date(0),
          source: 'grafana',
          generatorURL: 'http://grafana:3000/alerting/grafana/r/view',
          silenceURL: 'http://grafana:3000/alerting/silence/new',
          dashboardURL: 'http://grafana:3000/d/abc',
          panelURL: 'http://grafana:3000/d/abc?viewPanel=2',
        },
      ],
    } satisfies Notification;
    const out = publicNotification(n, REWRITES);
    expect(JSON.stringify(out)).not.toContain('http://grafana:3000');
    expect(out.alerts[0]).toMatchObject({
      generatorURL: 'https://grafana.example.org/alerting/grafana/r/view',
      panelURL: 'https://grafana.example.org/d/abc?viewPanel=2',
    });
    expect(out.externalURL).toBe('https://grafana.example.org/');
    expect(n.alerts[0]!.generatorURL).toBe('http://grafana:3000/alerting/grafana/r/view');
  });

  it.each([
    ['http://grafana:3000', true],
    ['http://vigil-grafana-1:3000', true],
    ['http://localhost:3000', false],
    ['http://192.168.1.20:3000', false],
    ['http://[::1]:3000', false],
    ['https://grafana.example.org', false],
  ])('%s is a base a phone cannot open: %s', (base, unreachable) => {
    expect(unreachableLinkBase(base) !== undefined).toBe(unreachable);
  });
});
