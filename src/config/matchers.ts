/** A label matcher operator, shared by PromQL, LogQL and Alertmanager. */
export type MatchOp = '=' | '!=' | '=~' | '!~';

/** A valid Prometheus/Loki label name. */
export const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** One matcher of an Alertmanager v2 silence. */
export interface SilenceMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  /** False for the negative operators `!=` and `!~`. */
  isEqual: boolean;
}

/** A matchers text that could not be used; `position` (1-based) points at the problem when there is one. */
export class MatcherSyntaxError extends Error {
  override readonly name = 'MatcherSyntaxError';

  constructor(
    message: string,
    readonly position?: number,
    /** What is wrong, for a message in another language than `message`'s English (commands word it). */
    readonly problem?: MatcherProblem,
  ) {
    super(message);
  }
}

/** Longest matchers text accepted (Discord's option is capped at the same length). */
export const MATCHERS_MAX_LENGTH = 1000;
/** Most matchers a user may type (an alert's own label set, from the button, may have more). */
export const MATCHERS_MAX_COUNT = 20;

/** Opening quote -> the quotes that may close it. Phone keyboards turn `"` into “ or ”. */
const CLOSERS: Record<string, string> = { '"': '"', '“': '”“"', '”': '”“"' };
/** Characters that end an unquoted value. */
const UNQUOTED_END = /[\s,{}"“”]/;
/** Characters that end a label name (so `my-label` is reported whole). */
const NAME_END = /[\s,{}"“”=!~]/;

/** The operator a matcher stands for. */
export function operatorOf(m: Pick<SilenceMatcher, 'isRegex' | 'isEqual'>): MatchOp {
  return m.isRegex ? (m.isEqual ? '=~' : '!~') : m.isEqual ? '=' : '!=';
}

/**
 * Parses a user's matchers text — `alertname="X",job=~"y.*",env!="dev"`, with or without braces,
 * spaces allowed, values quoted (escapes `\"`, `\\`, `\n` as Alertmanager reads them) or bare — into
 * Alertmanager v2 matchers. Throws MatcherSyntaxError naming the problem and where it is; also
 * refuses an empty list, a regex that matches every value, and a list that would match (nearly)
 * every alert.
 */
export function parseMatchers(text: string): SilenceMatcher[] {
  const matchers = scan(text);
  checkMatchers(
    matchers.map((m) => m.matcher),
    matchers.map((m) => m.position),
  );
  return matchers.map((m) => m.matcher);
}

/**
 * Parses matchers text as parseMatchers does, syntax only: a list that matches every alert is
 * fine here (a route may catch all). Throws MatcherSyntaxError on an empty list too.
 */
export function parseMatcherList(text: string): SilenceMatcher[] {
  const matchers = scan(text).map((m) => m.matcher);
  if (matchers.length === 0) throw new MatcherSyntaxError('expected at least one matcher, like team="db"', undefined, { kind: 'empty', example: 'team="db"' });
  return matchers;
}

function scan(text: string): Array<{ matcher: SilenceMatcher; position: number }> {
  if (text.length > MATCHERS_MAX_LENGTH) {
    throw new MatcherSyntaxError(`expected at most ${MATCHERS_MAX_LENGTH} characters, got ${text.length}`, undefined, {
      kind: 'too-long',
      max: MATCHERS_MAX_LENGTH,
      got: text.length,
    });
  }
  const matchers = new Scanner(text).parse();
  if (matchers.length > MATCHERS_MAX_COUNT) {
    throw new MatcherSyntaxError(`expected at most ${MATCHERS_MAX_COUNT} matchers, got ${matchers.length}`, undefined, {
      kind: 'too-many',
      max: MATCHERS_MAX_COUNT,
      got: matchers.length,
    });
  }
  return matchers;
}

/** What is wrong with matchers text, and where (`at`: a 1-based position, or `end`). */
export type MatcherProblem = { at?: number | 'end' } & (
  | { kind: 'empty'; example: string }
  | { kind: 'too-long'; max: number; got: number }
  | { kind: 'too-many'; max: number; got: number }
  | { kind: 'bad-regex'; matcher: string }
  | { kind: 'bad-name'; label: string }
  | { kind: 'matches-every-value'; matcher: string }
  | { kind: 'silences-everything' }
  | { kind: 'unterminated' }
  | { kind: 'stray-close' }
  | { kind: 'expected-comma' }
  | { kind: 'expected-close' }
  | { kind: 'text-after-close' }
  | { kind: 'expected-pair' }
  | { kind: 'expected-operator'; label: string }
  | { kind: 'expected-value'; label: string; op: string }
);

/** A matcher ready to test label sets, its regex compiled once. */
export interface CompiledMatcher extends SilenceMatcher {
  test(labels: Readonly<Record<string, string>>): boolean;
}

/**
 * Compiles a matcher as Alertmanager applies it: a missing label is the empty value, a regex is
 * anchored at both ends. Throws MatcherSyntaxError for a regex JavaScript cannot read (Vigil
 * must evaluate it itself, unlike a silence's, which Alertmanager checks).
 */
export function compileMatcher(m: SilenceMatcher): CompiledMatcher {
  let matches: (value: string) => boolean;
  if (m.isRegex) {
    const re = compileRe2(m.value);
    if (!re)
      throw new MatcherSyntaxError(`${formatMatcher(m)}: the regular expression is not valid`, undefined, { kind: 'bad-regex', matcher: formatMatcher(m) });
    matches = (v) => re.test(v);
  } else {
    matches = (v) => v === m.value;
  }
  return { ...m, test: (labels) => matches(labels[m.name] ?? '') === m.isEqual };
}

/** True when every matcher matches the labels (an empty list matches everything). */
export function matchesAll(matchers: readonly CompiledMatcher[], labels: Readonly<Record<string, string>>): boolean {
  return matchers.every((m) => m.test(labels));
}

/** Refuses matcher lists that silence more than anyone means to (checked for parsed and built lists alike). */
export function checkMatchers(matchers: readonly SilenceMatcher[], positions: readonly number[] = []): void {
  if (matchers.length === 0)
    throw new MatcherSyntaxError('expected at least one matcher, like alertname="HighCPU"', undefined, { kind: 'empty', example: 'alertname="HighCPU"' });
  matchers.forEach((m, i) => {
    const at = positions[i] === undefined ? '' : ` (at position ${positions[i]})`;
    const where = positions[i] === undefined ? {} : { at: positions[i] };
    if (!LABEL_NAME.test(m.name)) throw new MatcherSyntaxError(invalidName(m.name) + at, positions[i], { kind: 'bad-name', label: m.name, ...where });
    if (m.isRegex && m.isEqual && matchesEverything(m.value)) {
      throw new MatcherSyntaxError(`${formatMatcher(m)}${at} matches every value: name what to silence instead`, positions[i], {
        kind: 'matches-every-value',
        matcher: formatMatcher(m),
        ...where,
      });
    }
  });
  if (!matchers.some(isSelective)) {
    throw new MatcherSyntaxError('these matchers would silence (nearly) every alert: add one that names something, like alertname="HighCPU"', undefined, {
      kind: 'silences-everything',
    });
  }
}

/** A matcher that only some alerts pass: positive, and neither empty-matching nor an anything-goes regex. */
function isSelective(m: SilenceMatcher): boolean {
  if (!m.isEqual) return false;
  if (!m.isRegex) return m.value !== '';
  const re = compileRe2(m.value);
  // A regex JavaScript cannot read is left to Alertmanager (RE2), which rejects invalid ones itself.
  if (!re) return true;
  return !re.test('') && !PROBES.every((p) => re.test(p));
}

/** Sample label values: a regex matching all of them (and the empty value) matches everything. */
const PROBES = ['a', 'Z', '0', '_', '-', ' ', 'vigil', 'HighCPU', 'node-1:9100', 'prod', 'ä', 'x'.repeat(80)];

/** True when the regex (anchored, as Alertmanager anchors it) matches every probe value and the empty value. */
export function matchesEverything(regex: string): boolean {
  const re = compileRe2(regex);
  return re !== undefined && re.test('') && PROBES.every((p) => re.test(p));
}

/** Compiles an RE2 regex as JavaScript, anchored; undefined when the syntax is not shared. */
function compileRe2(regex: string): RegExp | undefined {
  const flags = /^\(\?([is]+)\)/.exec(regex);
  const body = flags ? regex.slice(flags[0].length) : regex;
  try {
    return new RegExp(`^(?:${body})$`, flags?.[1] ? [...new Set(flags[1])].join('') : '');
  } catch {
    return undefined;
  }
}

function invalidName(name: string): string {
  return `invalid label name "${name}": expected letters, digits and _, not starting with a digit`;
}

/** Escapes a value the way Alertmanager (and amtool) read it back: backslash, double quote, newline. */
export function escapeMatcherValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** One matcher as text: `name="value"`, `name=~"regex"`, `name!="value"`, `name!~"regex"`. */
export function formatMatcher(m: SilenceMatcher): string {
  return `${m.name}${operatorOf(m)}"${escapeMatcherValue(m.value)}"`;
}

/** A matcher list as text that `parseMatchers` reads back to the same list: `{a="x", b=~"y"}`. */
export function formatMatchers(matchers: readonly SilenceMatcher[]): string {
  return `{${matchers.map(formatMatcher).join(', ')}}`;
}

/** Reads matchers left to right; positions in errors are 1-based code units. */
class Scanner {
  private i = 0;

  constructor(private readonly text: string) {}

  parse(): Array<{ matcher: SilenceMatcher; position: number }> {
    const out: Array<{ matcher: SilenceMatcher; position: number }> = [];
    this.skipSpace();
    const braced = this.peek() === '{';
    if (braced) this.i++;
    for (;;) {
      this.skipSpace();
      if (this.atEnd() || (braced && this.peek() === '}')) break;
      const position = this.i + 1;
      out.push({ matcher: this.matcher(), position });
      this.skipSpace();
      if (this.peek() === ',') {
        this.i++;
        continue;
      }
      if (this.atEnd() || (braced && this.peek() === '}')) break;
      if (this.peek() === '}') throw this.error('unexpected } without an opening {', { kind: 'stray-close' });
      throw this.error('expected , between matchers', { kind: 'expected-comma' });
    }
    if (braced) {
      if (this.peek() !== '}') throw this.error('expected } to close the {', { kind: 'expected-close' });
      this.i++;
      this.skipSpace();
      if (!this.atEnd()) throw this.error('unexpected text after }', { kind: 'text-after-close' });
    }
    return out;
  }

  private matcher(): SilenceMatcher {
    const name = this.name();
    this.skipSpace();
    const op = this.operator(name);
    this.skipSpace();
    const value = this.value(name, op);
    return { name, value, isRegex: op === '=~' || op === '!~', isEqual: op === '=' || op === '=~' };
  }

  private name(): string {
    const start = this.i;
    while (!this.atEnd() && !NAME_END.test(this.peek())) this.i++;
    const name = this.text.slice(start, this.i);
    if (name === '') throw this.error('expected name="value"', { kind: 'expected-pair' }, start);
    if (!LABEL_NAME.test(name))
      throw new MatcherSyntaxError(`${invalidName(name)} (at position ${start + 1})`, start + 1, { kind: 'bad-name', label: name, at: start + 1 });
    return name;
  }

  private operator(name: string): MatchOp {
    for (const op of ['=~', '!=', '!~', '='] as const) {
      if (this.text.startsWith(op, this.i)) {
        this.i += op.length;
        return op;
      }
    }
    throw this.error(`expected =, !=, =~ or !~ after "${name}"`, { kind: 'expected-operator', label: name });
  }

  private value(name: string, op: MatchOp): string {
    const open = this.peek();
    const closers = CLOSERS[open];
    if (closers) return this.quoted(closers);
    const start = this.i;
    while (!this.atEnd() && !UNQUOTED_END.test(this.peek())) this.i++;
    if (this.i === start) throw this.error(`expected a value after ${name}${op}, like ${name}${op}"value"`, { kind: 'expected-value', label: name, op });
    return this.text.slice(start, this.i);
  }

  /** A quoted value, unescaped as Alertmanager does: `\n`, `\"`, `\\`; any other `\x` stays as written. */
  private quoted(closers: string): string {
    const start = this.i;
    this.i++;
    let value = '';
    while (!this.atEnd()) {
      const c = this.text[this.i]!;
      if (c === '\\' && this.i + 1 < this.text.length) {
        const next = this.text[this.i + 1]!;
        value += next === 'n' ? '\n' : next === '\\' || next in CLOSERS ? next : `\\${next}`;
        this.i += 2;
        continue;
      }
      this.i++;
      if (closers.includes(c)) return value;
      value += c;
    }
    throw new MatcherSyntaxError(`unterminated value: the quote at position ${start + 1} is never closed`, start + 1, { kind: 'unterminated', at: start + 1 });
  }

  private skipSpace(): void {
    while (!this.atEnd() && /\s/.test(this.peek())) this.i++;
  }

  private peek(): string {
    return this.text.charAt(this.i);
  }

  private atEnd(): boolean {
    return this.i >= this.text.length;
  }

  private error(what: string, problem: MatcherProblem, at = this.i): MatcherSyntaxError {
    const end = at >= this.text.length;
    return new MatcherSyntaxError(`${what} ${end ? 'at the end' : `at position ${at + 1}`}`, at + 1, { ...problem, at: end ? 'end' : at + 1 });
  }
}
