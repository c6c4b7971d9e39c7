import { describe, expect, it } from 'vitest';
import {
  checkMatchers,
  formatMatcher,
  formatMatchers,
  MatcherSyntaxError,
  matchesEverything,
  parseMatchers,
  type SilenceMatcher,
} from '../../src/config/matchers.js';

const eq = (name: string, value: string): SilenceMatcher => ({ name, value, isRegex: false, isEqual: true });
const ne = (name: string, value: string): SilenceMatcher => ({ name, value, isRegex: false, isEqual: false });
const re = (name: string, value: string): SilenceMatcher => ({ name, value, isRegex: true, isEqual: true });
const nre = (name: string, value: string): SilenceMatcher => ({ name, value, isRegex: true, isEqual: false });

/** The MatcherSyntaxError `text` must raise. */
function syntaxError(text: string): MatcherSyntaxError {
  try {
    parseMatchers(text);
  } catch (err) {
    expect(err).toBeInstanceOf(MatcherSyntaxError);
    return err as MatcherSyntaxError;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
}

describe('parseMatchers', () => {
  it.each<[string, string, SilenceMatcher[]]>([
    [
      'the four operators',
      'alertname="X",job=~"y.*",env!="dev",pod!~"canary-.*"',
      [eq('alertname', 'X'), re('job', 'y.*'), ne('env', 'dev'), nre('pod', 'canary-.*')],
    ],
    ['braces and spaces', ' { alertname = "X" ,  job =~ "api" } ', [eq('alertname', 'X'), re('job', 'api')]],
    ['a trailing comma', 'alertname="X",', [eq('alertname', 'X')]],
    ['bare values', 'alertname=HighCPU, instance=web-1:9100', [eq('alertname', 'HighCPU'), eq('instance', 'web-1:9100')]],
    ['phone keyboard quotes', 'alertname=“HighCPU”, job=”node”', [eq('alertname', 'HighCPU'), eq('job', 'node')]],
    ['an escaped quote inside a value', 'alertname="say \\"hi\\""', [eq('alertname', 'say "hi"')]],
    ['an escaped backslash and newline', 'alertname="a\\\\b\\nc"', [eq('alertname', 'a\\b\nc')]],
    ['a regex escape kept as written (as Alertmanager reads it)', 'alertname="X",instance=~"web-\\d+"', [eq('alertname', 'X'), re('instance', 'web-\\d+')]],
    ['a comma and brace inside quotes as data', 'alertname="a,b}c{"', [eq('alertname', 'a,b}c{')]],
    ['an empty value next to a selective matcher', 'alertname="X",env=""', [eq('alertname', 'X'), eq('env', '')]],
    ['repeated labels', 'alertname="X",alertname!="Y"', [eq('alertname', 'X'), ne('alertname', 'Y')]],
  ])('reads %s', (_name, text, expected) => {
    expect(parseMatchers(text)).toEqual(expected);
  });

  it.each<[string, string, RegExp, number | undefined]>([
    ['an empty text', '', /^expected at least one matcher/, undefined],
    ['empty braces', ' {} ', /^expected at least one matcher/, undefined],
    ['a missing name', 'alertname="X", ="y"', /^expected name="value" at position 16$/, 16],
    ['a lone comma', ',', /^expected name="value" at position 1$/, 1],
    ['a missing comma', 'alertname="X" job="y"', /^expected , between matchers at position 15$/, 15],
    ['a missing operator', 'alertname', /^expected =, !=, =~ or !~ after "alertname" at the end$/, 10],
    ['an unknown operator', 'alertname~="X"', /^expected =, !=, =~ or !~ after "alertname" at position 10$/, 10],
    ['a missing value', 'alertname=', /^expected a value after alertname=, like alertname="value" at the end$/, 11],
    ['an unterminated value', 'alertname="X', /^unterminated value: the quote at position 11 is never closed$/, 11],
    [
      'a label name with a dash',
      'my-label="x"',
      /^invalid label name "my-label": expected letters, digits and _, not starting with a digit \(at position 1\)$/,
      1,
    ],
    ['a label name starting with a digit', 'alertname="X",1abc="y"', /^invalid label name "1abc".*\(at position 15\)$/, 15],
    ['an unclosed brace', '{alertname="X"', /^expected } to close the { at the end$/, 15],
    ['a closing brace without an opening one', 'alertname="X"}', /^unexpected } without an opening { at position 14$/, 14],
    ['text after the closing brace', '{alertname="X"} job="y"', /^unexpected text after } at position 17$/, 17],
    ['a regex matching everything', 'alertname="X",job=~".*"', /^job=~"\.\*" \(at position 15\) matches every value: name what to silence instead$/, 15],
    ['a case-insensitive regex matching everything', 'alertname=~"(?i).*"', /matches every value/, 1],
    ['only a negative matcher', 'env!="dev"', /^these matchers would silence \(nearly\) every alert/, undefined],
    ['only an anything-but-empty regex', 'alertname=~".+"', /^these matchers would silence \(nearly\) every alert/, undefined],
    ['only matchers that match a missing label', 'env="",job!~"x"', /^these matchers would silence \(nearly\) every alert/, undefined],
  ])('refuses %s, saying where', (_name, text, message, position) => {
    const err = syntaxError(text);
    expect(err.message).toMatch(message);
    expect(err.position).toBe(position);
  });

  it.each([
    ['a quote that would close the value early', 'alertname="X"",job=~".*"', /^expected , between matchers at position 14$/],
    ['a brace that would close the list early', '{alertname="X"},{job=~".*"}', /^unexpected text after } at position 16$/],
    ['a newline starting another matcher', 'alertname="X"\njob=~".*"', /^expected , between matchers at position 15$/],
    ['an escaped quote followed by a catch-all', 'alertname="X\\"",job=~".*', /^unterminated value: the quote at position 22 is never closed$/],
  ])('cannot be tricked by %s: it is refused, never read as a second, wider matcher', (_name, text, message) => {
    expect(syntaxError(text).message).toMatch(message);
  });

  it('keeps an escaped quote and a would-be second matcher inside one value', () => {
    expect(parseMatchers('alertname="X\\",job=~\\".*"')).toEqual([eq('alertname', 'X",job=~".*')]);
  });

  it('refuses texts longer than the Discord option allows', () => {
    expect(syntaxError(`alertname="${'x'.repeat(1000)}"`).message).toMatch(/^expected at most 1000 characters/);
  });

  it('refuses more than 20 matchers', () => {
    const text = Array.from({ length: 21 }, (_, i) => `l${i}="v"`).join(',');
    expect(syntaxError(text).message).toBe('expected at most 20 matchers, got 21');
  });
});

describe('formatMatchers', () => {
  it.each<[SilenceMatcher, string]>([
    [eq('alertname', 'X'), 'alertname="X"'],
    [ne('env', 'dev'), 'env!="dev"'],
    [re('job', 'api-.*'), 'job=~"api-.*"'],
    [nre('pod', 'x'), 'pod!~"x"'],
    [eq('a', 'say "hi"\n\\'), 'a="say \\"hi\\"\\n\\\\"'],
  ])('writes %j as %s', (m, text) => {
    expect(formatMatcher(m)).toBe(text);
  });

  it.each<[string, SilenceMatcher[]]>([
    ['plain', [eq('alertname', 'X'), re('job', 'y.*'), ne('env', 'dev')]],
    ['injection-shaped values', [eq('alertname', '"},job=~".*'), eq('instance', 'a,b}\n{c'), eq('x', '\\"'), re('path', '\\d+\\.\\w')]],
  ])('reads back what it wrote (%s)', (_name, matchers) => {
    expect(parseMatchers(formatMatchers(matchers))).toEqual(matchers);
  });
});

describe('matchesEverything / checkMatchers', () => {
  it.each([
    ['.*', true],
    ['(.*)', true],
    ['.*|x', true],
    ['(?s).*', true],
    ['.+', false],
    ['api.*', false],
    ['', false],
    ['[', false],
  ])('%j matches everything: %s', (regex, expected) => {
    expect(matchesEverything(regex)).toBe(expected);
  });

  it('refuses a built list with an invalid label name', () => {
    expect(() => checkMatchers([eq('alert name', 'X')])).toThrow(/^invalid label name "alert name"/);
  });

  it('accepts a selective list', () => {
    expect(() => checkMatchers([eq('alertname', 'X'), re('job', '.+')])).not.toThrow();
  });
});
