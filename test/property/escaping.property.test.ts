// A generated label value can never change a query's meaning: whatever it holds (quotes, backslashes,
// regex metacharacters, newlines, astral code points), the query parses back to that exact value.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errorLogVolumeBySource, fillLabels } from '../../src/queries/catalog.js';
import { escapeRegex, logSelectorForAlert, selector } from '../../src/queries/promql.js';
import { parseLogQL, type LogExpr } from '../support/loki-double.js';

const RUNS = 300;
/** Any string of code points, astral ones included. */
const anyText = fc.string({ unit: 'binary', maxLength: 60 });
/** Loki refuses a selector whose only matcher is empty-compatible (`{a=""}`); callers skip empty values. */
const nonEmpty = anyText.filter((v) => v !== '');
const labelName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,15}$/);

function logExpr(query: string): LogExpr {
  const parsed = parseLogQL(query);
  if (parsed.kind !== 'log') throw new Error(`expected a log query, got ${parsed.kind}`);
  return parsed;
}

describe('label values in queries (property)', () => {
  it('selector() quotes any value so that it parses back unchanged', () => {
    fc.assert(
      fc.property(labelName, nonEmpty, (name, value) => {
        const m = logExpr(selector([{ name, value }])).matchers;
        expect(m).toHaveLength(1);
        expect(m[0]).toMatchObject({ name, op: '=', value });
      }),
      { numRuns: RUNS },
    );
  });

  it('escapeRegex() makes any value match itself and only itself', () => {
    fc.assert(
      fc.property(anyText, anyText, (value, other) => {
        const re = new RegExp(`^(?:${escapeRegex(value)})$`, 'u');
        expect(re.test(value)).toBe(true);
        if (other !== value) expect(re.test(other)).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it("an alert's label values select its logs exactly, never another stream", () => {
    fc.assert(
      fc.property(nonEmpty, nonEmpty, (container, host) => {
        const query = logSelectorForAlert({ container, host }, { container: 'container_name', host: 'host' })!;
        expect(logExpr(query).matchers).toEqual([expect.objectContaining({ name: 'container_name', op: '=', value: container })]);
      }),
      { numRuns: RUNS },
    );
  });

  it('a ${label} placeholder filled with any value stays inside its string', () => {
    fc.assert(
      fc.property(nonEmpty, (value) => {
        const query = fillLabels('{container_name="${container}"} |= "timeout"', { container: value });
        const parsed = logExpr(query);
        expect(parsed.matchers).toEqual([expect.objectContaining({ name: 'container_name', op: '=', value })]);
        expect(parsed.filters).toEqual([expect.objectContaining({ op: '|=', value: 'timeout' })]);
      }),
      { numRuns: RUNS },
    );
  });

  it("a storm's log sources match each value literally, and nothing else", () => {
    fc.assert(
      fc.property(fc.uniqueArray(nonEmpty, { minLength: 1, maxLength: 8 }), anyText, (values, other) => {
        const parsed = parseLogQL(errorLogVolumeBySource('host', values, '(?i)error', 60));
        const matcher = findMatcher(parsed);
        expect(matcher?.op).toBe('=~');
        for (const v of values) expect(matcher!.re!.test(v)).toBe(true);
        if (!values.includes(other)) expect(matcher!.re!.test(other)).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });
});

/** The first label matcher anywhere in a parsed query. */
function findMatcher(expr: unknown): { op: string; re?: RegExp } | undefined {
  if (!expr || typeof expr !== 'object') return undefined;
  const o = expr as { matchers?: Array<{ op: string; re?: RegExp }>; log?: unknown; inner?: unknown };
  return o.matchers?.[0] ?? findMatcher(o.log) ?? findMatcher(o.inner);
}
