import { describe, expect, it } from 'vitest';
import { OK, step, type CheckResult, type ComponentState } from '../../src/watchdog/state.js';

const T0 = new Date('2026-03-01T10:00:00Z');
const T1 = new Date('2026-03-01T10:01:00Z');
const NOW = new Date('2026-03-01T10:02:00Z');

const ok: CheckResult = { status: 'ok' };
const fail = (error = 'Loki unreachable: ECONNREFUSED'): CheckResult => ({ status: 'fail', error });
const unknown: CheckResult = { status: 'unknown', reason: 'prometheus is not answering' };
const failing = (failures: number, lastError = 'old error'): ComponentState => ({ phase: 'failing', failures, since: T0, lastError });
const down: ComponentState = { phase: 'down', since: T0, failures: 3, lastError: 'old error' };

describe('step', () => {
  it.each([
    ['ok stays ok on a passing check', OK, ok, 3, OK, undefined],
    [
      'a first failure starts counting from now',
      OK,
      fail(),
      3,
      { phase: 'failing', failures: 1, since: NOW, lastError: 'Loki unreachable: ECONNREFUSED' },
      undefined,
    ],
    [
      'a further failure below the threshold keeps the first failure time',
      failing(1),
      fail('HTTP 503'),
      3,
      { phase: 'failing', failures: 2, since: T0, lastError: 'HTTP 503' },
      undefined,
    ],
    ['a pass while failing resets to ok without telling anyone', failing(2), ok, 3, OK, undefined],
    [
      'reaching the threshold raises the outage once, from the first failure',
      failing(2),
      fail('HTTP 503'),
      3,
      { phase: 'down', since: T0, failures: 3, lastError: 'HTTP 503' },
      { kind: 'down', since: T0, failures: 3, error: 'HTTP 503' },
    ],
    [
      'a threshold of 1 raises on the first failure',
      OK,
      fail('x'),
      1,
      { phase: 'down', since: NOW, failures: 1, lastError: 'x' },
      { kind: 'down', since: NOW, failures: 1, error: 'x' },
    ],
    [
      'a failure while down only updates the last error (no second message)',
      down,
      fail('new error'),
      3,
      { phase: 'down', since: T0, failures: 4, lastError: 'new error' },
      undefined,
    ],
    ['a pass while down ends the outage, naming its start and end', down, ok, 3, OK, { kind: 'up', since: T0, at: NOW, lastError: 'old error' }],
    ['an unknown result changes nothing while ok', OK, unknown, 3, OK, undefined],
    ['an unknown result neither counts nor resets a failing streak', failing(2), unknown, 3, failing(2), undefined],
    ['an unknown result does not end an outage', down, unknown, 3, down, undefined],
  ] as const)('%s', (_name, before, result, threshold, after, event) => {
    const next = step(before, result, threshold, NOW);
    expect(next.state).toEqual(after);
    expect(next.event).toEqual(event);
  });

  it('raises exactly one outage and one recovery over a long outage', () => {
    const results: CheckResult[] = [ok, fail(), fail(), fail(), fail(), fail(), ok, ok];
    let state: ComponentState = OK;
    const events: string[] = [];
    results.forEach((r, i) => {
      const next = step(state, r, 3, new Date(T1.getTime() + i * 60_000));
      state = next.state;
      if (next.event) events.push(`${next.event.kind}@${i}`);
    });
    expect(events).toEqual(['down@3', 'up@6']);
  });
});
