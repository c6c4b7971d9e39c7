import { describe, expect, it } from 'vitest';
import { labelsFingerprint, normaliseAlertmanager, normaliseGrafana } from '../../src/webhooks/normalise.js';
import { alertmanagerBodySchema, grafanaBodySchema, validateBody } from '../../src/webhooks/schemas.js';
import { fixtureJson } from './fixtures.js';

const NOW = new Date('2026-11-21T09:00:00.000Z');
const CPU_EXPR = '100 - (avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 90';

function grafana(body: unknown) {
  const parsed = validateBody(grafanaBodySchema, body);
  if (!parsed.ok) throw new Error(parsed.error);
  return normaliseGrafana(parsed.value, NOW);
}

function alertmanager(body: unknown) {
  const parsed = validateBody(alertmanagerBodySchema, body);
  if (!parsed.ok) throw new Error(parsed.error);
  return normaliseAlertmanager(parsed.value, NOW);
}

describe('normaliseGrafana', () => {
  it('keeps the group, both alerts and their values from the documented Grafana body', () => {
    const n = grafana(fixtureJson('grafana-firing.json'));
    expect(n).toMatchObject({
      source: 'grafana',
      receiver: 'My Super Webhook',
      status: 'firing',
      groupKey: '{}:{}',
      groupLabels: {},
      commonLabels: { team: 'blue' },
      commonAnnotations: {},
      externalURL: 'https://play.grafana.org/',
      truncatedAlerts: 0,
    });
    expect(n.alerts.map((a) => a.fingerprint)).toEqual(['c6eadffa33fcdf37', 'bc97ff14869b13e3']);
    const [first] = n.alerts;
    expect(first).toMatchObject({
      status: 'firing',
      source: 'grafana',
      labels: { alertname: 'High memory usage', team: 'blue', zone: 'us-1' },
      annotations: { runbook_url: 'https://myrunbook.com/runbook/1234' },
      generatorURL: 'https://play.grafana.org/alerting/1afz29v7z/edit',
      silenceURL: 'https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1',
      values: { B: 44.23943737541908, C: 1 },
    });
  });

  it('reads startsAt with microseconds and a +02:00 offset as the right instant', () => {
    const n = grafana(fixtureJson('grafana-firing.json'));
    expect(n.alerts[0]!.startsAt.toISOString()).toBe('2021-10-12T07:51:03.157Z');
    expect(n.alerts[1]!.startsAt.toISOString()).toBe('2021-10-12T07:56:03.157Z');
  });

  it('leaves endsAt, expr and the empty dashboard/panel URLs out of a firing Grafana alert', () => {
    const [alert] = grafana(fixtureJson('grafana-firing.json')).alerts;
    expect(alert).not.toHaveProperty('endsAt');
    expect(alert).not.toHaveProperty('expr');
    expect(alert).not.toHaveProperty('dashboardURL');
    expect(alert).not.toHaveProperty('panelURL');
  });

  it('takes the receipt time for the zero startsAt of the test payload and drops null values', () => {
    const n = grafana(fixtureJson('grafana-firing-default-payload.json'));
    const [alert] = n.alerts;
    expect(alert!.startsAt).toEqual(NOW);
    expect(alert!.startsAt).not.toBe(NOW);
    expect(alert).not.toHaveProperty('values');
    expect(alert).not.toHaveProperty('endsAt');
    expect(alert!.fingerprint).toBe('fac0861a85de433a');
    expect(n).toMatchObject({ receiver: 'my_receiver', groupKey: 'alertname', groupLabels: { alertname: '' } });
  });

  it('keeps endsAt of a resolved Grafana alert', () => {
    const body = fixtureJson('grafana-firing.json');
    body['status'] = 'resolved';
    body.alerts[0]!['status'] = 'resolved';
    body.alerts[0]!['endsAt'] = '2021-10-12T10:01:03.5+02:00';
    const [alert] = grafana(body).alerts;
    expect(alert!.status).toBe('resolved');
    expect(alert!.endsAt?.toISOString()).toBe('2021-10-12T08:01:03.500Z');
  });
});

describe('normaliseAlertmanager', () => {
  it('keeps the group, fingerprints and decoded expression of the captured firing body', () => {
    const n = alertmanager(fixtureJson('alertmanager-firing.json'));
    expect(n).toMatchObject({
      source: 'alertmanager',
      receiver: 'discord-bot',
      status: 'firing',
      groupKey: '{}:{alertname="HostHighCpuLoad"}',
      groupLabels: { alertname: 'HostHighCpuLoad' },
      commonLabels: { alertname: 'HostHighCpuLoad', job: 'node', severity: 'warning' },
      externalURL: 'http://localhost:9093',
      truncatedAlerts: 0,
    });
    expect(n.alerts.map((a) => a.fingerprint)).toEqual(['3abe2ef30882faea', 'd3e6ec126951960b']);
    for (const alert of n.alerts) {
      expect(alert.expr).toBe(CPU_EXPR);
      expect(alert.status).toBe('firing');
      expect(alert.source).toBe('alertmanager');
      expect(alert.startsAt.toISOString()).toBe('2026-11-21T08:51:25.079Z');
      expect(alert).not.toHaveProperty('endsAt');
      expect(alert).not.toHaveProperty('values');
    }
    expect(n.alerts[0]!.annotations['description']).toBe('CPU load is > 90%\n  VALUE = 93.1');
  });

  it('keeps endsAt of the captured resolved body', () => {
    const n = alertmanager(fixtureJson('alertmanager-resolved.json'));
    expect(n.status).toBe('resolved');
    expect(n.alerts.map((a) => [a.status, a.endsAt?.toISOString()])).toEqual([
      ['resolved', '2026-11-21T08:53:30.780Z'],
      ['resolved', '2026-11-21T08:53:30.780Z'],
    ]);
  });

  it('ignores the future "expires at" endsAt Alertmanager sends for a firing alert', () => {
    const body = fixtureJson('alertmanager-firing.json');
    body.alerts[0]!['endsAt'] = '2026-11-21T08:56:25.079Z';
    expect(alertmanager(body).alerts[0]).not.toHaveProperty('endsAt');
  });

  it('hashes the labels when the sender gave no fingerprint', () => {
    const body = fixtureJson('alertmanager-firing.json');
    delete body.alerts[0]!['fingerprint'];
    body.alerts[1]!['fingerprint'] = '';
    const [a, b] = alertmanager(body).alerts;
    expect(a!.fingerprint).toBe(labelsFingerprint({ alertname: 'HostHighCpuLoad', instance: 'db-host:9100', job: 'node', severity: 'warning' }));
    expect(b!.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(b!.fingerprint).not.toBe(a!.fingerprint);
  });
});

describe('labelsFingerprint', () => {
  it('does not depend on the order the labels were written in', () => {
    const forward = labelsFingerprint({ alertname: 'A', instance: 'x:9100', job: 'node' });
    const backward = labelsFingerprint({ job: 'node', instance: 'x:9100', alertname: 'A' });
    expect(forward).toBe(backward);
  });

  it('is the first 16 hex characters of SHA-256 over the sorted [name, value] pairs', () => {
    // sha256('[["a","1"],["b","2"]]'), computed independently with `printf %s ... | sha256sum`.
    expect(labelsFingerprint({ b: '2', a: '1' })).toBe('5f13efef7cdd95e7');
  });

  it.each([
    [{ a: 'b=c' }, { 'a=b': 'c' }],
    [{ a: '1', b: '2' }, { a: '12' }],
    [{ a: 'x' }, { a: 'y' }],
    [{}, { a: '' }],
  ])('tells %j and %j apart', (left, right) => {
    expect(labelsFingerprint(left)).not.toBe(labelsFingerprint(right));
  });
});
