import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { alertmanagerBodySchema, grafanaBodySchema, isZeroTime, MAX_ALERTS, parseRfc3339, validateBody, ZERO_TIME } from '../../src/webhooks/schemas.js';
import { FIXTURES_DIR, fixtureJson } from './fixtures.js';

const schemaFor = (name: string) => (name.startsWith('grafana') ? grafanaBodySchema : alertmanagerBodySchema);

describe('webhook body schemas', () => {
  const fixtures = readdirSync(FIXTURES_DIR).filter((f) => f.endsWith('.json'));

  it('finds the webhook fixtures in test/fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(4);
  });

  it.each(fixtures)('accepts the real body %s', (name) => {
    const result = validateBody(schemaFor(name), fixtureJson(name));
    expect(result.ok ? 'ok' : result.error).toBe('ok');
  });

  it('tolerates keys newer Alertmanagers add at the top level and per alert', () => {
    const body = fixtureJson('alertmanager-firing.json');
    body['notification_reason'] = 'new_alerts';
    body['routeLabels'] = { team: 'infra' };
    body.alerts[0]!['somethingNew'] = { nested: [1, 2] };
    const result = validateBody(alertmanagerBodySchema, body);
    expect(result.ok).toBe(true);
  });

  it('tolerates keys newer Grafanas add at the top level and per alert', () => {
    const body = fixtureJson('grafana-firing.json');
    body['notification_reason'] = 'repeat';
    body.alerts[0]!['ruleUID'] = 'abc';
    body.alerts[0]!['enrichments'] = { anything: true };
    body.alerts[0]!['imageURL'] = 'https://grafana.example/img.png';
    expect(validateBody(grafanaBodySchema, body).ok).toBe(true);
  });

  it('reads a nil Go map (null) as an empty map', () => {
    const body = fixtureJson('alertmanager-firing.json');
    body['commonAnnotations'] = null;
    body.alerts[0]!['annotations'] = null;
    const result = validateBody(alertmanagerBodySchema, body);
    expect(result.ok && result.value.commonAnnotations).toEqual({});
    expect(result.ok && result.value.alerts[0]!.annotations).toEqual({});
  });

  it.each<[string, (b: ReturnType<typeof fixtureJson>) => void, string]>([
    ['a status that is neither firing nor resolved', (b) => (b.alerts[0]!['status'] = 'pending'), 'alerts.0.status: expected "firing" or "resolved"'],
    ['a missing alert status', (b) => delete b.alerts[1]!['status'], 'alerts.1.status: required: expected "firing" or "resolved"'],
    [
      'a numeric label value',
      (b) => ((b.alerts[0]!['labels'] as Record<string, unknown>)['severity'] = 3),
      'alerts.0.labels.severity: expected a string, got a number',
    ],
    ['a missing receiver', (b) => delete b['receiver'], 'receiver: required: expected a string'],
    ['alerts that are not an array', (b) => ((b as Record<string, unknown>)['alerts'] = {}), 'alerts: expected an array, got an object'],
    ['no alerts at all', (b) => (b['alerts'] = []), 'alerts: expected at least 1 alert'],
    [
      'a startsAt that is not RFC3339',
      (b) => (b.alerts[0]!['startsAt'] = '21/11/2026 08:51'),
      'alerts.0.startsAt: expected an RFC3339 timestamp like 2024-05-01T12:00:00Z, got "21/11/2026 08:51"',
    ],
    [
      'an impossible date',
      (b) => (b.alerts[0]!['endsAt'] = '2026-02-30T00:00:00Z'),
      'alerts.0.endsAt: expected an RFC3339 timestamp like 2024-05-01T12:00:00Z, got "2026-02-30T00:00:00Z"',
    ],
    ['a negative truncatedAlerts', (b) => (b['truncatedAlerts'] = -1), 'truncatedAlerts: expected 0 or more'],
    [
      'a __proto__ label',
      (b) => (b.alerts[0]!['labels'] = JSON.parse('{"__proto__":"x"}')),
      'alerts.0.labels.__proto__: expected a name other than "__proto__"',
    ],
  ])('refuses %s with the field and the expectation', (_name, mutate, message) => {
    const body = fixtureJson('alertmanager-firing.json');
    mutate(body);
    expect(validateBody(alertmanagerBodySchema, body)).toEqual({ ok: false, error: message });
  });

  it('refuses Grafana values that are not numbers', () => {
    const body = fixtureJson('grafana-firing.json');
    body.alerts[1]!['values'] = { B: '44.2' };
    expect(validateBody(grafanaBodySchema, body)).toEqual({ ok: false, error: 'alerts.1.values.B: expected a number, got a string' });
  });

  it(`refuses more than ${MAX_ALERTS} alerts`, () => {
    const body = fixtureJson('alertmanager-firing.json');
    body['alerts'] = Array.from({ length: MAX_ALERTS + 1 }, () => body.alerts[0]!);
    expect(validateBody(alertmanagerBodySchema, body)).toEqual({ ok: false, error: `alerts: expected at most ${MAX_ALERTS} alerts` });
  });

  it('reports the first three issues and counts the rest', () => {
    const body = fixtureJson('alertmanager-firing.json');
    for (const key of ['receiver', 'groupKey', 'status']) delete body[key];
    body.alerts[0]!['status'] = 'x';
    body.alerts[1]!['status'] = 'y';
    const result = validateBody(alertmanagerBodySchema, body);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.split('; ')).toHaveLength(3);
    expect(!result.ok && result.error).toMatch(/ \(and 2 more\)$/);
  });
});

describe('parseRfc3339', () => {
  it.each([
    ['2026-11-21T08:51:25.079Z', '2026-11-21T08:51:25.079Z'],
    ['2026-11-21T08:53:30.78Z', '2026-11-21T08:53:30.780Z'],
    ['2021-10-12T09:51:03.157076+02:00', '2021-10-12T07:51:03.157Z'],
    ['2021-10-12T01:00:00.123456789-05:30', '2021-10-12T06:30:00.123Z'],
    ['2024-02-29T23:59:59Z', '2024-02-29T23:59:59.000Z'],
    ['2024-05-01t12:00:00z', '2024-05-01T12:00:00.000Z'],
  ])('reads %s as %s', (text, iso) => {
    expect(parseRfc3339(text)?.toISOString()).toBe(iso);
  });

  it.each([
    '2026-11-21 08:51:25Z',
    '2026-11-21T08:51:25',
    '2023-02-29T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-11-21T24:00:00Z',
    '2026-11-21T08:51:25.Z',
    '2026-11-21T08:51:25+0200',
    '',
  ])('refuses %j', (text) => {
    expect(parseRfc3339(text)).toBeUndefined();
  });

  it('keeps year 1, so the zero time is recognised in any offset', () => {
    expect(parseRfc3339(ZERO_TIME)?.getUTCFullYear()).toBe(1);
    expect(isZeroTime(parseRfc3339(ZERO_TIME)!)).toBe(true);
    expect(isZeroTime(parseRfc3339('0001-01-01T02:00:00+02:00')!)).toBe(true);
    expect(isZeroTime(parseRfc3339('0001-01-01T00:00:01Z')!)).toBe(false);
    expect(isZeroTime(new Date(0))).toBe(false);
  });
});
