import { describe, expect, it } from 'vitest';
import { contentTypeError, jsonDepthOver, locateJsonError, MAX_JSON_DEPTH, parseWebhook, type WebhookRoute } from '../../src/webhooks/intake.js';
import { fixtureBytes, fixtureJson, FIXTURE_NAMES } from './fixtures.js';

const NOW = new Date('2026-11-21T09:00:00.000Z');
const JSON_TYPE = 'application/json';
const bytes = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

describe('parseWebhook', () => {
  it.each(
    FIXTURE_NAMES.flatMap((name) => {
      const source = name.startsWith('grafana') ? 'grafana' : 'alertmanager';
      return [
        [name, source, source],
        [name, 'any', source],
      ] as [string, WebhookRoute, string][];
    }),
  )('accepts %s on the %s route as a %s notification', (name, route, source) => {
    const result = parseWebhook(route, JSON_TYPE, fixtureBytes(name), NOW);
    expect(result.ok).toBe(true);
    expect(result.ok && result.notification.source).toBe(source);
    expect(result.ok && result.notification.alerts.length).toBe(fixtureJson(name).alerts.length);
  });

  it('decodes the expression and fingerprints end to end from the raw Alertmanager bytes', () => {
    const result = parseWebhook('alertmanager', 'application/json; charset=utf-8', fixtureBytes('alertmanager-resolved.json'), NOW);
    if (!result.ok) throw new Error(result.error);
    expect(result.notification.alerts.map((a) => [a.fingerprint, a.status, a.endsAt?.toISOString(), a.expr])).toEqual([
      ['3abe2ef30882faea', 'resolved', '2026-11-21T08:53:30.780Z', '100 - (avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 90'],
      ['d3e6ec126951960b', 'resolved', '2026-11-21T08:53:30.780Z', '100 - (avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100) > 90'],
    ]);
  });

  it('accepts a body that starts with a UTF-8 byte order mark', () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), fixtureBytes('grafana-firing.json')]);
    expect(parseWebhook('grafana', JSON_TYPE, body, NOW).ok).toBe(true);
  });

  it('tolerates notification_reason and routeLabels from newer Alertmanagers', () => {
    const body = fixtureJson('alertmanager-firing.json');
    body['notification_reason'] = 'new_alerts';
    body['routeLabels'] = { receiver: 'discord-bot' };
    const result = parseWebhook('any', JSON_TYPE, bytes(body), NOW);
    expect(result.ok && result.notification.groupKey).toBe('{}:{alertname="HostHighCpuLoad"}');
  });

  it.each<[string, WebhookRoute, unknown, string]>([
    [
      'an Alertmanager body on the Grafana route',
      'grafana',
      fixtureJson('alertmanager-firing.json'),
      'version: expected "1" (a Grafana webhook body), got "4" (an Alertmanager body: send it to /webhooks/alertmanager)',
    ],
    [
      'a Grafana body on the Alertmanager route',
      'alertmanager',
      fixtureJson('grafana-firing.json'),
      'version: expected "4" (an Alertmanager webhook body), got "1" (a Grafana body: send it to /webhooks/grafana)',
    ],
    [
      'an unknown version on the generic route',
      'any',
      { ...fixtureJson('alertmanager-firing.json'), version: '3' },
      'version: expected "1" (Grafana) or "4" (Alertmanager), got "3"',
    ],
    [
      'a numeric version',
      'alertmanager',
      { ...fixtureJson('alertmanager-firing.json'), version: 4 },
      'version: expected "4" (an Alertmanager webhook body), got 4',
    ],
    [
      'no version (a legacy Grafana alert)',
      'any',
      { title: 'x', ruleName: 'y', state: 'alerting' },
      'version: expected "1" (Grafana) or "4" (Alertmanager), got nothing',
    ],
    ['an array', 'any', [1, 2], '(root): expected a JSON object, got an array'],
    ['a bare string', 'grafana', 'hello', '(root): expected a JSON object, got a string'],
    ['null', 'grafana', null, '(root): expected a JSON object, got null'],
    [
      'an invalid alert status',
      'any',
      (() => {
        const b = fixtureJson('alertmanager-firing.json');
        b.alerts[0]!['status'] = 'pending';
        return b;
      })(),
      'alerts.0.status: expected "firing" or "resolved"',
    ],
    [
      'a Grafana value that is not a number',
      'grafana',
      (() => {
        const b = fixtureJson('grafana-firing.json');
        b.alerts[0]!['values'] = { B: 'high' };
        return b;
      })(),
      'alerts.0.values.B: expected a number, got a string',
    ],
  ])('answers 422 for %s', (_name, route, body, error) => {
    expect(parseWebhook(route, JSON_TYPE, bytes(JSON.stringify(body)), NOW)).toEqual({ ok: false, status: 422, error });
  });

  it.each<[string, string, string]>([
    ['a trailing comma', '{"a":1,}', 'invalid JSON at line 1, column 8 (position 7): expected a property name in double quotes, got "}"'],
    ['a truncated body', '{"receiver":"x",', 'invalid JSON at line 1, column 17 (position 16): expected a property name in double quotes, got end of input'],
    ['a misspelt literal on line 3', '{\n  "a": 1,\n  "b": tru }', 'invalid JSON at line 3, column 11 (position 22): expected the literal true, got " "'],
    ['a missing colon', '{"a" 1}', 'invalid JSON at line 1, column 6 (position 5): expected \':\' after a property name, got "1"'],
    ['a missing comma in an array', '[1 2]', "invalid JSON at line 1, column 4 (position 3): expected ',' or ']' after an array element, got \"2\""],
    ['text that is not JSON', 'hello', 'invalid JSON at line 1, column 1 (position 0): expected a JSON value, got "h"'],
    ['a word that starts like null', 'not json', 'invalid JSON at line 1, column 2 (position 1): expected the literal null, got "o"'],
    ['a second value after the first', '{} {}', 'invalid JSON at line 1, column 4 (position 3): expected end of input after the JSON value, got "{"'],
    [
      'a raw newline inside a string',
      '{"a":"x\ny"}',
      'invalid JSON at line 1, column 8 (position 7): expected an escaped control character (\\n, \\t, \\u00XX) inside a string, got "\\n"',
    ],
    ['a bad escape', '{"a":"\\x"}', 'invalid JSON at line 1, column 8 (position 7): expected a valid escape sequence, got "x"'],
    ['a number without digits after the point', '{"a":1.}', 'invalid JSON at line 1, column 8 (position 7): expected a digit, got "}"'],
    ['an unterminated string', '{"a":"abc', 'invalid JSON at line 1, column 10 (position 9): expected a closing double quote, got end of input'],
    ['an empty body', '', 'invalid JSON: the body is empty'],
    ['a whitespace-only body', ' \n ', 'invalid JSON: the body is empty'],
  ])('answers 400 for %s', (_name, text, error) => {
    expect(parseWebhook('any', JSON_TYPE, Buffer.from(text), NOW)).toEqual({ ok: false, status: 400, error });
  });

  it('answers 400 without crashing for nesting too deep to scan', () => {
    const result = parseWebhook('any', JSON_TYPE, Buffer.from('['.repeat(200_000)), NOW);
    expect(result).toMatchObject({ ok: false, status: 400 });
    expect(!result.ok && result.error).toMatch(/^invalid JSON/);
  });

  it('answers 400 for a body that is not UTF-8', () => {
    expect(parseWebhook('any', JSON_TYPE, Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]), NOW)).toEqual({
      ok: false,
      status: 400,
      error: 'invalid JSON: the body is not valid UTF-8',
    });
  });

  it.each<[string | undefined, string]>([
    [undefined, 'missing Content-Type: expected Content-Type application/json'],
    ['', 'missing Content-Type: expected Content-Type application/json'],
    ['text/plain', 'unsupported Content-Type "text/plain": expected Content-Type application/json'],
    ['application/x-www-form-urlencoded', 'unsupported Content-Type "application/x-www-form-urlencoded": expected Content-Type application/json'],
    ['application/jsonp', 'unsupported Content-Type "application/jsonp": expected Content-Type application/json'],
    ['application/json; charset=latin1', 'unsupported charset "latin1": expected utf-8'],
  ])('answers 415 for Content-Type %j', (contentType, error) => {
    expect(parseWebhook('any', contentType, fixtureBytes('alertmanager-firing.json'), NOW)).toEqual({ ok: false, status: 415, error });
  });

  it('checks the content type before looking at the body', () => {
    expect(parseWebhook('any', 'text/plain', Buffer.from('not json'), NOW)).toMatchObject({ ok: false, status: 415 });
  });
});

describe('JSON nesting depth', () => {
  const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);

  it(`refuses a body nested deeper than ${MAX_JSON_DEPTH} levels before parsing it, saying where`, () => {
    const body = Buffer.from(`{"alerts":${nested(100_000)}}`);
    const result = parseWebhook('alertmanager', JSON_TYPE, body, NOW);
    expect(result).toEqual({
      ok: false,
      status: 400,
      error: `invalid JSON: nested deeper than ${MAX_JSON_DEPTH} levels (at position ${10 + MAX_JSON_DEPTH - 1})`,
    });
  });

  it.each([
    [nested(MAX_JSON_DEPTH), undefined],
    [nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH],
    // Brackets inside strings, escaped quotes included, do not count.
    [String.raw`["${'['.repeat(100)}", "\\", "\"[[[[", {"a": [1]}]`, undefined],
    ['{"a":{"b":{"c":[]}}}', undefined],
  ])('jsonDepthOver(%j) is %j', (text, want) => {
    expect(() => JSON.parse(text)).not.toThrow();
    expect(jsonDepthOver(text, MAX_JSON_DEPTH)).toBe(want);
  });

  it('skips brackets in strings, past escaped quotes and backslashes', () => {
    expect(jsonDepthOver(String.raw`["\"[[[[", "\\", "[[["]`, 1)).toBeUndefined();
    expect(jsonDepthOver(String.raw`["\\", [[]]]`, 2)).toBe(8);
  });

  it('accepts every recorded fixture: their nesting is far below the cap', () => {
    for (const name of FIXTURE_NAMES) expect(jsonDepthOver(fixtureBytes(name).toString('utf8'), 8), name).toBeUndefined();
  });
});

describe('contentTypeError', () => {
  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON;charset="UTF-8"',
    'application/json; charset=utf8',
    'application/vnd.api+json',
    'application/problem+json; charset=utf-8',
  ])('accepts %j', (contentType) => {
    expect(contentTypeError(contentType)).toBeUndefined();
  });
});

describe('locateJsonError', () => {
  it.each(['{}', '[]', '0', '-1.5e+10', '"\\u00e9\\n"', 'true', ' null ', '{"a":[1,{"b":false}],"c":"d"}'])('finds no error in valid JSON %j', (text) => {
    expect(() => JSON.parse(text)).not.toThrow();
    expect(locateJsonError(text)).toBeUndefined();
  });

  it.each(['01', '[1,]', '{"a":1', '"\\u12"', '-', '1e', "{'a':1}", '[1]]'])('finds an error wherever JSON.parse does, e.g. %j', (text) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(locateJsonError(text)).toBeDefined();
  });

  it('finds the error in every real fixture with one byte cut off the end', () => {
    for (const name of FIXTURE_NAMES) {
      const text = fixtureBytes(name).toString('utf8').trimEnd().slice(0, -1);
      expect(locateJsonError(text)?.position, name).toBe(text.length);
    }
  });
});
