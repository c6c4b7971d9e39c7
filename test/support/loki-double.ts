import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { freePort } from './ports.js';

/*
 * Contract double of Loki's HTTP API, built from the responses a real Loki 2.8 gave
 * (test/fixtures/loki, see its SOURCES.md).
 *
 * Data set: every line of every stream in query_range-streams-all-forward.json. By default it is
 * rebased per request so the newest recorded line sits 30 s before the request's `end` (or `time`);
 * `rebase: false` keeps the recorded timestamps, which makes the recorded requests reproduce the
 * recorded responses exactly.
 *
 * LogQL subset: stream selectors (=, !=, =~, !~), line filters (|=, !=, |~, !~; Go RE2 regexes with
 * leading flag groups such as (?i) translated to JS flags), and for metric queries
 * count_over_time / rate / bytes_over_time / bytes_rate over a range, optionally wrapped in
 * sum / count / min / max / avg with by/without. Metric results are computed from the same data set
 * (which reproduces the recorded matrix and vector fixtures) instead of replaying the fixtures; start
 * and end are aligned down to the step as the recording shows.
 *
 * With `data: 'pushed'` the double starts empty and serves what `POST /loki/api/v1/push` (JSON body,
 * as Loki's push API takes it) brought, at the pushed timestamps, so one test can run against it or a
 * real Loki alike (test/support/loki.ts). Anything else that is valid LogQL
 * (`| json`, pattern and ip() line filters, offset, binary operators, other functions) answers 501
 * with a text saying the double lacks it, so a test fails loudly rather than silently getting wrong data.
 */

/** Directory of the recorded Loki fixtures (test/fixtures/loki). */
export const LOKI_FIXTURE_DIR = new URL('../fixtures/loki/', import.meta.url);

/** One recorded request/response pair. */
export interface LokiFixture {
  request: { method: string; path: string; query: Record<string, string> };
  response: { status: number; contentType: string; json?: unknown; text?: string };
}

/** Reads one recorded fixture by file name (e.g. 'query_range-empty.json'). */
export function loadLokiFixture(file: string): LokiFixture {
  return JSON.parse(readFileSync(new URL(file, LOKI_FIXTURE_DIR), 'utf8')) as LokiFixture;
}

/** Lists the recorded fixture file names. */
export function lokiFixtureFiles(): string[] {
  return readdirSync(LOKI_FIXTURE_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

/** Behaviour modes of the double. */
export type LokiDoubleMode = 'normal' | 'down' | 'slow' | 'error';

/** Options of {@link startLokiDouble}. */
export interface LokiDoubleOptions {
  mode?: LokiDoubleMode;
  /** Delay of every answer in 'slow' mode, default 10 s. */
  delayMs?: number;
  /** How a log selector on /loki/api/v1/query is answered: Loki 3 rejects it (default), Loki 2.8 returns empty streams. */
  instantLogQueries?: 'loki2' | 'loki3';
  /** Shift the data set so its newest line is 30 s before the request's end (default true). */
  rebase?: boolean;
  /**
   * What the double serves: the recorded data set (default), or only what tests push through
   * `POST /loki/api/v1/push` ('pushed', never rebased), as a real Loki would.
   */
  data?: 'recorded' | 'pushed';
}

/** One request the double received. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
}

/** Handle on a running Loki double. */
export interface LokiDoubleHandle {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Switches mode; the returned promise settles once the listener is closed/reopened (awaiting is optional). */
  setMode(mode: LokiDoubleMode, delayMs?: number): Promise<void>;
  /** Closes the listener and destroys every socket, including pending slow requests. */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Recorded material

/** Content type Loki 2.8 sends with its plain-text 4xx/5xx bodies (as recorded). */
const ERROR_CONTENT_TYPE = 'application/json; charset=UTF-8';
const JSON_CONTENT_TYPE = 'application/json';
const MAX_ENTRIES_LIMIT = 5000;
const MAX_POINTS = 11_000;
const DEFAULT_LIMIT = 100;
const DEFAULT_SINCE_NS = 3_600_000_000_000n;
const REBASE_GAP_NS = 30_000_000_000n;
const NS_PER_MS = 1_000_000n;
const LOKI3_INSTANT_LOG_ERROR = 'log queries are not supported as an instant query type, please change your query to a range query type';
const EMPTY_COMPATIBLE_ERROR =
  'queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will';

type Labels = Record<string, string>;

interface Entry {
  ns: bigint;
  line: string;
}

interface Stream {
  labels: Labels;
  key: string;
  entries: Entry[];
}

interface StreamsData {
  result: Array<{ stream: Labels; values: Array<[string, string]> }>;
  stats: Record<string, unknown>;
}

interface Recorded {
  streams: Stream[];
  newestNs: bigint;
  streamStats: Record<string, unknown>;
  emptyStats: Record<string, unknown>;
  matrixStats: Record<string, unknown>;
  vectorStats: Record<string, unknown>;
  instantLogBody: unknown;
  instantLogContentType: string;
}

function recordedStats(file: string): Record<string, unknown> {
  const json = loadLokiFixture(file).response.json as { data: { stats: Record<string, unknown> } };
  return json.data.stats;
}

/** Formats labels the way Loki/Prometheus print a label set: {a="x", b="y"}, sorted by name. */
export function labelsString(labels: Labels): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return `{${parts.join(', ')}}`;
}

function loadRecorded(): Recorded {
  const all = loadLokiFixture('query_range-streams-all-forward.json').response.json as { data: StreamsData };
  const streams = all.data.result.map((s) => ({
    labels: s.stream,
    key: labelsString(s.stream),
    entries: s.values.map(([ns, line]) => ({ ns: BigInt(ns), line })).sort((a, b) => cmpBig(a.ns, b.ns)),
  }));
  const newestNs = streams.flatMap((s) => s.entries).reduce((max, e) => (e.ns > max ? e.ns : max), 0n);
  const instant = loadLokiFixture('query-log-selector-instant.json');
  return {
    streams,
    newestNs,
    streamStats: all.data.stats,
    emptyStats: recordedStats('query_range-empty.json'),
    matrixStats: recordedStats('query_range-matrix-volume-by-level.json'),
    vectorStats: recordedStats('query-vector-errors-by-container.json'),
    instantLogBody: instant.response.json,
    instantLogContentType: instant.response.contentType,
  };
}

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Errors that become HTTP answers

/** An error the double answers with a plain-text body and the given status. */
export class LokiHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Loki's parse error text: `parse error at line L, col C: msg` (or `parse error : msg` without a position). */
function parseError(msg: string, line = 0, col = 0): LokiHttpError {
  const where = line === 0 && col === 0 ? '' : `at line ${line}, col ${col}`;
  return new LokiHttpError(400, `parse error ${where}: ${msg}`);
}

/** Valid LogQL the double does not implement: a loud 501 instead of wrong data. */
function unsupported(what: string): LokiHttpError {
  return new LokiHttpError(
    501,
    `loki double: unsupported LogQL (${what}); it implements stream selectors, line filters, count_over_time/rate/bytes_over_time/bytes_rate and sum/count/min/max/avg by|without`,
  );
}

// ---------------------------------------------------------------------------------------------
// LogQL lexer

type TokType =
  '{' | '}' | '(' | ')' | ',' | '=' | '!=' | '=~' | '!~' | '|=' | '|~' | '|>' | '!>' | '|' | 'OP' | 'RANGE' | 'STRING' | 'IDENTIFIER' | 'NUMBER' | 'EOF';

interface Token {
  type: TokType;
  text: string;
  /** Unquoted value of a STRING; duration in ns of a RANGE. */
  value: string;
  rangeNs?: bigint;
  line: number;
  col: number;
}

const PUNCT: Array<[string, TokType]> = [
  ['!=', '!='],
  ['!~', '!~'],
  ['=~', '=~'],
  ['|=', '|='],
  ['|~', '|~'],
  ['|>', '|>'],
  ['!>', '!>'],
  ['==', 'OP'],
  ['>=', 'OP'],
  ['<=', 'OP'],
  ['{', '{'],
  ['}', '}'],
  ['(', '('],
  [')', ')'],
  [',', ','],
  ['=', '='],
  ['|', '|'],
  ['+', 'OP'],
  ['-', 'OP'],
  ['*', 'OP'],
  ['/', 'OP'],
  ['%', 'OP'],
  ['^', 'OP'],
  ['>', 'OP'],
  ['<', 'OP'],
];

/** Lazy tokenizer over code points with 1-based line/column positions, like Go's text/scanner. */
class Lexer {
  private readonly chars: string[];
  private pos = 0;
  private line = 1;
  private col = 1;

  constructor(source: string) {
    this.chars = Array.from(source);
  }

  next(): Token {
    this.skipSpaceAndComments();
    const line = this.line;
    const col = this.col;
    const ch = this.chars[this.pos];
    if (ch === undefined) return { type: 'EOF', text: '$end', value: '', line, col };
    if (ch === '"' || ch === '`') return this.string(ch, line, col);
    if (ch === '[') return this.range(line, col);
    if (/[A-Za-z_]/.test(ch)) return this.word(/[A-Za-z0-9_]/, 'IDENTIFIER', line, col);
    if (/[0-9]/.test(ch)) return this.word(/[0-9.a-zA-Z]/, 'NUMBER', line, col);
    const two = ch + (this.chars[this.pos + 1] ?? '');
    const punct = PUNCT.find(([p]) => p === two) ?? PUNCT.find(([p]) => p === ch);
    if (punct) {
      this.advance(punct[0].length);
      return { type: punct[1], text: punct[0], value: punct[0], line, col };
    }
    // Loki's lexer turns any other character into an IDENTIFIER token.
    this.advance(1);
    return { type: 'IDENTIFIER', text: ch, value: ch, line, col };
  }

  private advance(n: number): void {
    for (let i = 0; i < n; i += 1) {
      if (this.chars[this.pos] === '\n') {
        this.line += 1;
        this.col = 1;
      } else {
        this.col += 1;
      }
      this.pos += 1;
    }
  }

  private skipSpaceAndComments(): void {
    for (;;) {
      const ch = this.chars[this.pos];
      if (ch !== undefined && /\s/.test(ch)) this.advance(1);
      else if (ch === '#') while (this.chars[this.pos] !== undefined && this.chars[this.pos] !== '\n') this.advance(1);
      else return;
    }
  }

  private word(re: RegExp, type: TokType, line: number, col: number): Token {
    let text = '';
    while (this.chars[this.pos] !== undefined && re.test(this.chars[this.pos] as string)) {
      text += this.chars[this.pos];
      this.advance(1);
    }
    return { type, text, value: text, line, col };
  }

  private string(quote: string, line: number, col: number): Token {
    let raw = quote;
    this.advance(1);
    for (;;) {
      const ch = this.chars[this.pos];
      if (ch === undefined || (quote === '"' && ch === '\n')) throw parseError('literal not terminated', line, col);
      raw += ch;
      this.advance(1);
      if (ch === quote) break;
      if (ch === '\\' && quote === '"') {
        const escaped = this.chars[this.pos];
        if (escaped === undefined) throw parseError('literal not terminated', line, col);
        raw += escaped;
        this.advance(1);
      }
    }
    const value = quote === '`' ? raw.slice(1, -1) : goUnquote(raw, line, col);
    return { type: 'STRING', text: raw, value, line, col };
  }

  private range(line: number, col: number): Token {
    this.advance(1);
    let body = '';
    while (this.chars[this.pos] !== undefined && this.chars[this.pos] !== ']') {
      body += this.chars[this.pos];
      this.advance(1);
    }
    if (this.chars[this.pos] === undefined) throw parseError("missing closing ']' in duration", this.line, this.col);
    this.advance(1);
    const ns = parsePromDuration(body);
    if (ns === undefined) throw parseError(`not a valid duration string: "${body}"`, line, col);
    return { type: 'RANGE', text: `[${body}]`, value: body, rangeNs: ns, line, col };
  }
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  '"': '"',
};

/** Width and radix of Go's numeric escapes (\xHH, \uHHHH, \UHHHHHHHH, \ooo). */
function numericEscape(kind: string): { digits: number; radix: number; skip: number } | undefined {
  if (kind === 'x') return { digits: 2, radix: 16, skip: 2 };
  if (kind === 'u') return { digits: 4, radix: 16, skip: 2 };
  if (kind === 'U') return { digits: 8, radix: 16, skip: 2 };
  if (/^[0-7]$/.test(kind)) return { digits: 3, radix: 8, skip: 1 };
  return undefined;
}

/** Go's strconv.Unquote for a double-quoted literal (\" \\ \n \t \xHH \ooo \uHHHH \UHHHHHHHH ...). */
export function goUnquote(literal: string, line = 1, col = 1): string {
  const body = literal.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i += 1) {
    const ch = body[i] as string;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const kind = body[i + 1] ?? '';
    const simple = SIMPLE_ESCAPES[kind];
    if (simple !== undefined) {
      out += simple;
      i += 1;
      continue;
    }
    const numeric = numericEscape(kind);
    const digits = numeric ? body.slice(i + numeric.skip, i + numeric.skip + numeric.digits) : '';
    const valid = numeric && digits.length === numeric.digits && (numeric.radix === 16 ? /^[0-9a-fA-F]+$/ : /^[0-7]+$/).test(digits);
    if (!numeric || !valid) throw parseError('invalid char escape', line, col);
    const code = parseInt(digits, numeric.radix);
    if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) || (numeric.radix === 8 && code > 0xff)) {
      throw parseError('invalid char escape', line, col);
    }
    // \x and octal escapes are single bytes in Go; for the ASCII range that is the same character.
    out += kind === 'u' || kind === 'U' ? String.fromCodePoint(code) : String.fromCharCode(code);
    i += numeric.skip + numeric.digits - 1;
  }
  return out;
}

const DURATION_UNITS_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
  d: 86_400_000_000_000n,
  w: 604_800_000_000_000n,
  y: 31_536_000_000_000_000n,
};

/** Parses a Prometheus/Go duration such as 5m, 1h30m, 250ms into nanoseconds (undefined if invalid). */
export function parsePromDuration(text: string): bigint | undefined {
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h|d|w|y))+$/.test(text)) return undefined;
  let total = 0n;
  for (const [, num, , unit] of text.matchAll(/(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h|d|w|y)/g)) {
    const factor = DURATION_UNITS_NS[unit as string] as bigint;
    const [int, frac = ''] = (num as string).split('.');
    total += BigInt(int as string) * factor + (BigInt(frac.padEnd(9, '0').slice(0, 9)) * factor) / 1_000_000_000n;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// LogQL AST and parser

type MatchOp = '=' | '!=' | '=~' | '!~';
type FilterOp = '|=' | '!=' | '|~' | '!~';

interface LabelMatcher {
  name: string;
  op: MatchOp;
  value: string;
  re?: RegExp;
}

interface LineFilter {
  op: FilterOp;
  value: string;
  re?: RegExp;
}

/** A log query: stream selector plus line filters. */
export interface LogExpr {
  kind: 'log';
  matchers: LabelMatcher[];
  filters: LineFilter[];
}

type RangeFn = 'count_over_time' | 'rate' | 'bytes_over_time' | 'bytes_rate';
type AggOp = 'sum' | 'count' | 'min' | 'max' | 'avg';

interface RangeExpr {
  kind: 'range';
  fn: RangeFn;
  log: LogExpr;
  rangeNs: bigint;
}

interface AggExpr {
  kind: 'agg';
  op: AggOp;
  grouping?: { without: boolean; labels: string[] };
  inner: MetricExpr;
}

type MetricExpr = RangeExpr | AggExpr;

/** A parsed query of the supported LogQL subset. */
export type LogQLExpr = LogExpr | MetricExpr;

const RANGE_FNS = new Set<string>(['count_over_time', 'rate', 'bytes_over_time', 'bytes_rate']);
const AGG_OPS = new Set<string>(['sum', 'count', 'min', 'max', 'avg']);
const OTHER_LOKI_FNS = new Set<string>([
  'avg_over_time',
  'sum_over_time',
  'min_over_time',
  'max_over_time',
  'stdvar_over_time',
  'stddev_over_time',
  'quantile_over_time',
  'first_over_time',
  'last_over_time',
  'absent_over_time',
  'rate_counter',
  'vector',
  'stddev',
  'stdvar',
  'bottomk',
  'topk',
  'sort',
  'sort_desc',
  'label_replace',
  'approx_topk',
]);
const BINARY_WORDS = new Set<string>(['and', 'or', 'unless', 'bool']);

/** Name yacc prints for a token in "unexpected X". */
function tokenName(tok: Token): string {
  if (tok.type === 'EOF') return '$end';
  if (tok.type === 'STRING' || tok.type === 'NUMBER' || tok.type === 'RANGE') return tok.type;
  if (tok.type === 'IDENTIFIER') {
    const lower = tok.text.toLowerCase();
    return lower === 'by' || lower === 'without' ? lower : 'IDENTIFIER';
  }
  return tok.text;
}

/** Recursive-descent parser producing Loki's yacc-style syntax errors. */
class Parser {
  private readonly buffer: Token[] = [];

  constructor(private readonly lexer: Lexer) {}

  parseQuery(): LogQLExpr {
    const expr = this.expr();
    this.refuseBinary();
    if (this.peek().type !== 'EOF') this.fail();
    return expr;
  }

  /** Throws the 501 for a binary operator (arithmetic, comparison, and/or/unless) at the next token. */
  private refuseBinary(): void {
    const tok = this.peek();
    if (tok.type === 'OP' || (tok.type === 'IDENTIFIER' && BINARY_WORDS.has(tok.text.toLowerCase()))) {
      throw unsupported(`binary operator ${tok.text}`);
    }
  }

  private peek(k = 0): Token {
    while (this.buffer.length <= k) this.buffer.push(this.lexer.next());
    return this.buffer[k] as Token;
  }

  private take(): Token {
    const tok = this.peek();
    this.buffer.shift();
    return tok;
  }

  private fail(expecting?: string[]): never {
    const tok = this.peek();
    const tail = expecting ? `, expecting ${expecting.join(' or ')}` : '';
    throw parseError(`syntax error: unexpected ${tokenName(tok)}${tail}`, tok.line, tok.col);
  }

  private expect(type: TokType, expecting?: string[]): Token {
    if (this.peek().type !== type) this.fail(expecting);
    return this.take();
  }

  private expr(): LogQLExpr {
    const tok = this.peek();
    if (tok.type === '{') return this.logExpr();
    if (tok.type === '(') {
      this.take();
      const inner = this.expr();
      this.expect(')');
      return inner;
    }
    return this.metricExpr();
  }

  private isCall(name: string): boolean {
    const next = this.peek(1);
    return next.type === '(' || (AGG_OPS.has(name) && next.type === 'IDENTIFIER' && /^(by|without)$/i.test(next.text));
  }

  /** A metric expression; a binary operator after it (at any depth) is valid LogQL the double lacks. */
  private metricExpr(): MetricExpr {
    const expr = this.metricOperand();
    this.refuseBinary();
    return expr;
  }

  private metricOperand(): MetricExpr {
    const tok = this.peek();
    if (tok.type === '(') {
      this.take();
      const inner = this.metricExpr();
      this.expect(')');
      return inner;
    }
    const name = tok.text.toLowerCase();
    if (tok.type === 'IDENTIFIER' && this.isCall(name)) {
      if (RANGE_FNS.has(name)) return this.rangeExpr(name as RangeFn);
      if (AGG_OPS.has(name)) return this.aggExpr(name as AggOp);
      if (OTHER_LOKI_FNS.has(name)) throw unsupported(`function ${name}`);
    }
    if (tok.type === 'NUMBER') throw unsupported('number literal');
    return this.fail();
  }

  private rangeExpr(fn: RangeFn): RangeExpr {
    this.take();
    this.expect('(');
    const log = this.logExpr();
    const range = this.expect('RANGE');
    if (this.peek().type === 'IDENTIFIER' && this.peek().text.toLowerCase() === 'offset') throw unsupported('offset');
    // Loki also accepts the legacy form with line filters after the range.
    log.filters.push(...this.lineFilters());
    this.expect(')');
    return { kind: 'range', fn, log, rangeNs: range.rangeNs as bigint };
  }

  private aggExpr(op: AggOp): AggExpr {
    this.take();
    let grouping = this.grouping();
    this.expect('(');
    const inner = this.metricExpr();
    this.expect(')');
    grouping ??= this.grouping();
    return { kind: 'agg', op, inner, ...(grouping ? { grouping } : {}) };
  }

  private grouping(): AggExpr['grouping'] {
    const tok = this.peek();
    if (tok.type !== 'IDENTIFIER' || !/^(by|without)$/i.test(tok.text)) return undefined;
    this.take();
    this.expect('(');
    const labels: string[] = [];
    while (this.peek().type !== ')') {
      labels.push(this.expect('IDENTIFIER', labels.length === 0 ? ['IDENTIFIER', ')'] : ['IDENTIFIER']).text);
      if (this.peek().type === ',') this.take();
      else if (this.peek().type !== ')') this.fail([',', ')']);
    }
    this.take();
    return { without: tok.text.toLowerCase() === 'without', labels };
  }

  private logExpr(): LogExpr {
    const matchers = this.selector();
    return { kind: 'log', matchers, filters: this.lineFilters() };
  }

  private selector(): LabelMatcher[] {
    this.expect('{');
    const matchers: LabelMatcher[] = [];
    if (this.peek().type === '}') {
      this.take();
    } else {
      for (;;) {
        matchers.push(this.matcher());
        const sep = this.peek();
        if (sep.type === '}') break;
        if (sep.type !== ',') this.fail(['}', ',']);
        this.take();
        if (this.peek().type !== 'IDENTIFIER') this.fail(['IDENTIFIER']);
      }
      this.take();
    }
    if (!matchers.some((m) => !matcherMatches(m, ''))) throw parseError(EMPTY_COMPATIBLE_ERROR);
    return matchers;
  }

  private matcher(): LabelMatcher {
    const name = this.expect('IDENTIFIER', ['IDENTIFIER', '}']).text;
    const opTok = this.peek();
    if (!['=', '!=', '=~', '!~'].includes(opTok.type)) this.fail(['=', '=~', '!~', '!=']);
    this.take();
    const value = this.expect('STRING', ['STRING']);
    const op = opTok.type as MatchOp;
    const matcher: LabelMatcher = { name, op, value: value.value };
    if (op === '=~' || op === '!~') matcher.re = compileRe2(value.value, true);
    return matcher;
  }

  private lineFilters(): LineFilter[] {
    const filters: LineFilter[] = [];
    for (;;) {
      const tok = this.peek();
      if (tok.type === '|') throw unsupported(`pipeline stage | ${this.peek(1).text}`);
      if (tok.type === '|>' || tok.type === '!>') throw unsupported(`pattern line filter ${tok.text}`);
      if (!['|=', '!=', '|~', '!~'].includes(tok.type)) return filters;
      this.take();
      if (this.peek().type === 'IDENTIFIER' && this.peek().text === 'ip' && this.peek(1).type === '(') throw unsupported('ip() line filter');
      const value = this.expect('STRING', ['STRING', 'ip']);
      const op = tok.type as FilterOp;
      const filter: LineFilter = { op, value: value.value };
      if (op === '|~' || op === '!~') filter.re = compileRe2(value.value, false);
      filters.push(filter);
    }
  }
}

/** Parses a query of the supported LogQL subset; throws a LokiHttpError carrying Loki's error text. */
export function parseLogQL(query: string): LogQLExpr {
  return new Parser(new Lexer(query)).parseQuery();
}

/** Translates a Go RE2 pattern to a JS RegExp (leading (?i)-style flags, (?P<n>), \A, \z); matchers are anchored. */
export function compileRe2(pattern: string, anchored: boolean): RegExp {
  let flags = '';
  let src = pattern;
  const lead = /^\(\?([imsU]+)\)/.exec(src);
  if (lead) {
    const goFlags = lead[1] as string;
    if (goFlags.includes('U')) throw unsupported('RE2 flag U');
    flags = [...new Set(goFlags)].join('');
    src = src.slice(lead[0].length);
  }
  if (/\(\?[imsU-]+[:)]/.test(src)) throw unsupported('RE2 flags that are not a leading group');
  let out = '';
  for (let i = 0; i < src.length; i += 1) {
    const ch = src[i] as string;
    if (ch === '\\') {
      const next = src[i + 1] ?? '';
      out += next === 'z' ? '$' : next === 'A' ? '^' : ch + next;
      i += 1;
    } else if (src.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
    } else {
      out += ch;
    }
  }
  try {
    return new RegExp(anchored ? `^(?:${out})$` : out, flags);
  } catch (err) {
    throw parseError(`error parsing regexp: ${(err as Error).message}`);
  }
}

function matcherMatches(m: LabelMatcher, value: string): boolean {
  switch (m.op) {
    case '=':
      return value === m.value;
    case '!=':
      return value !== m.value;
    case '=~':
      return (m.re as RegExp).test(value);
    case '!~':
      return !(m.re as RegExp).test(value);
  }
}

function filterKeeps(f: LineFilter, line: string): boolean {
  switch (f.op) {
    case '|=':
      return line.includes(f.value);
    case '!=':
      return !line.includes(f.value);
    case '|~':
      return (f.re as RegExp).test(line);
    case '!~':
      return !(f.re as RegExp).test(line);
  }
}

// ---------------------------------------------------------------------------------------------
// Parameters

/** Parses a Loki timestamp parameter: ns or s integers, float seconds, or RFC3339(Nano). */
export function parseLokiTime(value: string | undefined, name: string, fallback: bigint): bigint {
  if (value === undefined || value === '') return fallback;
  if (value.includes('.') && /^-?\d+\.\d*$/.test(value)) {
    const [sec, frac = ''] = value.split('.');
    // Loki rounds fractional seconds to milliseconds.
    const ms = Math.round(Number(`0.${frac || '0'}`) * 1000);
    return BigInt(sec as string) * 1_000_000_000n + BigInt(ms) * NS_PER_MS;
  }
  if (/^-?\d+$/.test(value)) return value.replace('-', '').length <= 10 ? BigInt(value) * 1_000_000_000n : BigInt(value);
  const rfc = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(value);
  const ms = rfc ? Date.parse(`${rfc[1]}${rfc[3]}`) : NaN;
  if (!rfc || Number.isNaN(ms)) throw new LokiHttpError(400, `invalid ${name}: cannot parse "${value}" to a valid timestamp`);
  return BigInt(ms) * NS_PER_MS + BigInt((rfc[2] ?? '').padEnd(9, '0'));
}

interface RangeParams {
  startNs: bigint;
  endNs: bigint;
  limit: number;
  direction: 'forward' | 'backward';
}

function nowNs(): bigint {
  return BigInt(Date.now()) * NS_PER_MS;
}

function parseLimit(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_LIMIT;
  if (!/^-?\d+$/.test(value)) throw new LokiHttpError(400, `invalid limit: strconv.ParseInt: parsing "${value}": invalid syntax`);
  const limit = Number(value);
  if (limit <= 0) throw new LokiHttpError(400, 'limit must be a positive value');
  return limit;
}

function parseDirection(value: string | undefined): 'forward' | 'backward' {
  if (value === undefined || value === '') return 'backward';
  const lower = value.toLowerCase();
  if (lower !== 'forward' && lower !== 'backward') throw new LokiHttpError(400, `invalid direction '${value}'`);
  return lower;
}

function parseBounds(q: URLSearchParams): { startNs: bigint; endNs: bigint } {
  const endNs = parseLokiTime(q.get('end') ?? undefined, 'end', nowNs());
  const startNs = parseLokiTime(q.get('start') ?? undefined, 'start', endNs - DEFAULT_SINCE_NS);
  if (endNs < startNs) throw new LokiHttpError(400, 'end timestamp must not be before or equal to start time');
  return { startNs, endNs };
}

function parseRangeParams(q: URLSearchParams): RangeParams {
  const { startNs, endNs } = parseBounds(q);
  return { startNs, endNs, limit: parseLimit(q.get('limit') ?? undefined), direction: parseDirection(q.get('direction') ?? undefined) };
}

function checkEntriesLimit(limit: number): void {
  if (limit > MAX_ENTRIES_LIMIT) {
    throw new LokiHttpError(400, `max entries limit per query exceeded, limit > max_entries_limit (${limit} > ${MAX_ENTRIES_LIMIT})`);
  }
}

/** Loki's step: float seconds or a duration; default max(floor(range/250), 1) s. Returns ms. */
function parseStepMs(value: string | undefined, startNs: bigint, endNs: bigint): bigint {
  if (value === undefined || value === '') {
    const seconds = (endNs - startNs) / 250_000_000_000n;
    return (seconds > 1n ? seconds : 1n) * 1000n;
  }
  let ms: bigint | undefined;
  if (/^\d+(\.\d+)?$/.test(value)) ms = BigInt(Math.round(Number(value) * 1000));
  else {
    const ns = parsePromDuration(value);
    if (ns !== undefined) ms = ns / NS_PER_MS;
  }
  if (ms === undefined) throw new LokiHttpError(400, `invalid step: cannot parse "${value}" to a valid duration`);
  if (ms <= 0n) {
    throw new LokiHttpError(400, 'zero or negative query resolution step widths are not accepted. Try a positive integer');
  }
  return ms;
}

// ---------------------------------------------------------------------------------------------
// Evaluation over the data set

/** The data set shifted by offsetNs. */
function shifted(streams: Stream[], offsetNs: bigint): Stream[] {
  if (offsetNs === 0n) return streams;
  return streams.map((s) => ({ ...s, entries: s.entries.map((e) => ({ ns: e.ns + offsetNs, line: e.line })) }));
}

function selectStreams(streams: Stream[], matchers: LabelMatcher[]): Stream[] {
  return streams.filter((s) => matchers.every((m) => matcherMatches(m, s.labels[m.name] ?? '')));
}

/** Streams of a log expr with their filtered entries inside [fromNs, toNs). */
function logEntries(streams: Stream[], expr: LogExpr, fromNs: bigint, toNs: bigint): Stream[] {
  return selectStreams(streams, expr.matchers).map((s) => ({
    ...s,
    entries: s.entries.filter((e) => e.ns >= fromNs && e.ns < toNs && expr.filters.every((f) => filterKeeps(f, e.line))),
  }));
}

function sortByKey<T extends { key: string }>(items: T[]): T[] {
  return items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Log query answer: the first `limit` entries in direction order, grouped per stream, streams sorted by labels. */
function evalLogQuery(streams: Stream[], expr: LogExpr, p: RangeParams, recorded: Recorded): StreamsData {
  const flat = logEntries(streams, expr, p.startNs, p.endNs).flatMap((s) => s.entries.map((e) => ({ s, e })));
  const sign = p.direction === 'forward' ? 1 : -1;
  flat.sort((a, b) => sign * cmpBig(a.e.ns, b.e.ns));
  const kept = flat.slice(0, p.limit);
  const grouped = new Map<Stream, Entry[]>();
  for (const { s, e } of kept) grouped.set(s, [...(grouped.get(s) ?? []), e]);
  const result = sortByKey([...grouped.entries()].map(([s, entries]) => ({ key: s.key, s, entries }))).map(({ s, entries }) => ({
    stream: s.labels,
    values: entries.map((e): [string, string] => [e.ns.toString(), e.line]),
  }));
  return { result, stats: statsWithEntries(result.length > 0 ? recorded.streamStats : recorded.emptyStats, kept.length) };
}

function statsWithEntries(stats: Record<string, unknown>, returned: number): Record<string, unknown> {
  const copy = structuredClone(stats);
  const summary = copy.summary as Record<string, unknown> | undefined;
  if (summary) summary.totalEntriesReturned = returned;
  return copy;
}

interface Sample {
  labels: Labels;
  value: number;
}

function rangeValue(fn: RangeFn, entries: Entry[], rangeNs: bigint): number {
  const seconds = Number(rangeNs) / 1e9;
  const bytes = () => entries.reduce((sum, e) => sum + Buffer.byteLength(e.line), 0);
  switch (fn) {
    case 'count_over_time':
      return entries.length;
    case 'rate':
      return entries.length / seconds;
    case 'bytes_over_time':
      return bytes();
    case 'bytes_rate':
      return bytes() / seconds;
  }
}

function groupLabels(labels: Labels, grouping: AggExpr['grouping']): Labels {
  if (!grouping) return {};
  const out: Labels = {};
  for (const [k, v] of Object.entries(labels)) {
    if (grouping.labels.includes(k) !== grouping.without) out[k] = v;
  }
  return out;
}

function aggregate(op: AggOp, values: number[]): number {
  switch (op) {
    case 'sum':
      return values.reduce((a, b) => a + b, 0);
    case 'count':
      return values.length;
    case 'min':
      return Math.min(...values);
    case 'max':
      return Math.max(...values);
    case 'avg':
      return values.reduce((a, b) => a + b, 0) / values.length;
  }
}

/** Instant vector of a metric expr at tNs; a range covers (t - range, t]; empty ranges give no sample. */
function evalMetricAt(streams: Stream[], expr: MetricExpr, tNs: bigint): Sample[] {
  if (expr.kind === 'range') {
    return logEntries(streams, expr.log, tNs - expr.rangeNs + 1n, tNs + 1n)
      .filter((s) => s.entries.length > 0)
      .map((s) => ({ labels: s.labels, value: rangeValue(expr.fn, s.entries, expr.rangeNs) }));
  }
  const groups = new Map<string, { labels: Labels; values: number[] }>();
  for (const sample of evalMetricAt(streams, expr.inner, tNs)) {
    const labels = groupLabels(sample.labels, expr.grouping);
    const key = labelsString(labels);
    const group = groups.get(key) ?? { labels, values: [] };
    group.values.push(sample.value);
    groups.set(key, group);
  }
  return [...groups.values()].map((g) => ({ labels: g.labels, value: aggregate(expr.op, g.values) }));
}

/** Formats a sample value like Go's strconv.FormatFloat(v, 'f', -1, 64). */
export function formatGoFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  const s = String(v);
  if (!s.includes('e')) return s;
  const [mantissa, expText] = s.split('e') as [string, string];
  const exp = Number(expText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const pointAt = (mantissa.replace('-', '').indexOf('.') + 1 || mantissa.replace('-', '').length + 1) - 1 + exp;
  const body =
    pointAt <= 0
      ? `0.${'0'.repeat(-pointAt)}${digits}`
      : pointAt >= digits.length
        ? digits + '0'.repeat(pointAt - digits.length)
        : `${digits.slice(0, pointAt)}.${digits.slice(pointAt)}`;
  return (negative ? '-' : '') + body;
}

function nsToSeconds(ns: bigint): number {
  return Number(ns / NS_PER_MS) / 1000;
}

function evalMatrix(streams: Stream[], expr: MetricExpr, p: RangeParams, stepMs: bigint): unknown[] {
  // The recorded answers are step-aligned (query frontend): start/end rounded down to the step.
  const startMs = (p.startNs / NS_PER_MS / stepMs) * stepMs;
  const endMs = (p.endNs / NS_PER_MS / stepMs) * stepMs;
  if ((endMs - startMs) / stepMs + 1n > BigInt(MAX_POINTS)) {
    throw new LokiHttpError(400, 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
  }
  const series = new Map<string, { key: string; metric: Labels; values: Array<[number, string]> }>();
  for (let t = startMs; t <= endMs; t += stepMs) {
    for (const sample of evalMetricAt(streams, expr, t * NS_PER_MS)) {
      const key = labelsString(sample.labels);
      const entry = series.get(key) ?? { key, metric: sample.labels, values: [] };
      entry.values.push([Number(t) / 1000, formatGoFloat(sample.value)]);
      series.set(key, entry);
    }
  }
  return sortByKey([...series.values()]).map(({ metric, values }) => ({ metric, values }));
}

function evalVector(streams: Stream[], expr: MetricExpr, tNs: bigint): unknown[] {
  const samples = evalMetricAt(streams, expr, tNs).map((s) => ({ key: labelsString(s.labels), ...s }));
  return sortByKey(samples).map((s) => ({ metric: s.labels, value: [nsToSeconds(tNs), formatGoFloat(s.value)] }));
}

// ---------------------------------------------------------------------------------------------
// HTTP layer

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

function json(value: unknown, contentType = JSON_CONTENT_TYPE): Answer {
  return { status: 200, contentType, body: JSON.stringify(value) };
}

function text(status: number, body: string, contentType = ERROR_CONTENT_TYPE): Answer {
  return { status, contentType, body };
}

function success(data: unknown): Answer {
  return json({ status: 'success', data });
}

class LokiApi {
  private readonly recorded = loadRecorded();
  /** Streams pushed through the push API, by label set; served instead of the recording in 'pushed' mode. */
  private readonly pushed = new Map<string, Stream>();

  constructor(private readonly opts: Required<Pick<LokiDoubleOptions, 'instantLogQueries' | 'rebase' | 'data'>>) {}

  /** The data set rebased so its newest line sits 30 s before anchorNs (or what was pushed). */
  private data(anchorNs: bigint): Stream[] {
    if (this.opts.data === 'pushed') return [...this.pushed.values()];
    if (!this.opts.rebase) return this.recorded.streams;
    return shifted(this.recorded.streams, anchorNs - REBASE_GAP_NS - this.recorded.newestNs);
  }

  route(path: string, q: URLSearchParams): Answer {
    if (path === '/ready') return text(200, 'ready\n', 'text/plain; charset=utf-8');
    if (path === '/loki/api/v1/query_range') return this.queryRange(q);
    if (path === '/loki/api/v1/query') return this.instantQuery(q);
    if (path === '/loki/api/v1/labels') return this.labels(q);
    if (path === '/loki/api/v1/series') return this.series(q);
    const values = /^\/loki\/api\/v1\/label\/([^/]+)\/values$/.exec(path);
    if (values) return this.labelValues(decodeURIComponent(values[1] as string), q);
    return text(404, '404 page not found\n', 'text/plain; charset=utf-8');
  }

  private queryRange(q: URLSearchParams): Answer {
    const params = parseRangeParams(q);
    const expr = parseLogQL(q.get('query') ?? '');
    checkEntriesLimit(params.limit);
    const streams = this.data(params.endNs);
    if (expr.kind === 'log') {
      const data = evalLogQuery(streams, expr, params, this.recorded);
      return success({ resultType: 'streams', result: data.result, stats: data.stats });
    }
    const stepMs = parseStepMs(q.get('step') ?? undefined, params.startNs, params.endNs);
    const result = evalMatrix(streams, expr, params, stepMs);
    return success({ resultType: 'matrix', result, stats: structuredClone(this.recorded.matrixStats) });
  }

  private instantQuery(q: URLSearchParams): Answer {
    const timeNs = parseLokiTime(q.get('time') ?? undefined, 'time', nowNs());
    checkEntriesLimit(parseLimit(q.get('limit') ?? undefined));
    parseDirection(q.get('direction') ?? undefined);
    const expr = parseLogQL(q.get('query') ?? '');
    if (expr.kind === 'log') {
      if (this.opts.instantLogQueries === 'loki3') return text(400, LOKI3_INSTANT_LOG_ERROR);
      return json(structuredClone(this.recorded.instantLogBody), this.recorded.instantLogContentType);
    }
    const result = evalVector(this.data(timeNs), expr, timeNs);
    return success({ resultType: 'vector', result, stats: structuredClone(this.recorded.vectorStats) });
  }

  /** Streams with at least one line in [start, end), optionally restricted by selectors. */
  private streamsInWindow(q: URLSearchParams, selectors: string[]): Stream[] {
    const { startNs, endNs } = parseBounds(q);
    const all = this.data(endNs);
    const exprs = selectors.map((s) => {
      const expr = parseLogQL(s);
      if (expr.kind !== 'log') throw new LokiHttpError(400, `parse error : only stream selectors are allowed here, got ${s}`);
      return expr;
    });
    const chosen = exprs.length === 0 ? all : all.filter((s) => exprs.some((e) => selectStreams([s], e.matchers).length > 0));
    return chosen.filter((s) => s.entries.some((e) => e.ns >= startNs && e.ns < endNs));
  }

  private labels(q: URLSearchParams): Answer {
    const names = new Set(this.streamsInWindow(q, optional(q.get('query'))).flatMap((s) => Object.keys(s.labels)));
    return success([...names].sort());
  }

  private labelValues(name: string, q: URLSearchParams): Answer {
    const values = new Set(
      this.streamsInWindow(q, optional(q.get('query')))
        .map((s) => s.labels[name])
        .filter((v): v is string => v !== undefined),
    );
    return success([...values].sort());
  }

  private series(q: URLSearchParams): Answer {
    const selectors = [...q.getAll('match[]'), ...q.getAll('match')];
    const streams = sortByKey([...this.streamsInWindow(q, selectors)]);
    return success(streams.map((s) => Object.fromEntries(Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : 1)))));
  }

  /** POST /loki/api/v1/push with a JSON body: adds the lines to their streams, answers 204 as Loki does. */
  push(body: string): Answer {
    let streams: Array<{ stream: Labels; values: Array<[string, string]> }>;
    try {
      streams = (JSON.parse(body) as { streams: typeof streams }).streams;
      if (!Array.isArray(streams)) throw new Error('no streams');
    } catch (err) {
      return text(400, `loki double: expected a JSON push body {"streams":[...]}: ${(err as Error).message}`);
    }
    for (const s of streams) {
      const key = labelsString(s.stream);
      const stream = this.pushed.get(key) ?? { labels: { ...s.stream }, key, entries: [] };
      this.pushed.set(key, stream);
      for (const [ns, line] of s.values) stream.entries.push({ ns: BigInt(ns), line });
      stream.entries.sort((a, b) => cmpBig(a.ns, b.ns));
    }
    return { status: 204, contentType: 'text/plain; charset=utf-8', body: '' };
  }

  /** Answers one request, turning LokiHttpErrors into their plain-text answers. */
  answer(path: string, q: URLSearchParams): Answer {
    try {
      return this.route(path, q);
    } catch (err) {
      if (err instanceof LokiHttpError) return text(err.status, err.message);
      throw err;
    }
  }
}

function optional(value: string | null): string[] {
  return value === null || value === '' ? [] : [value];
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Query parameters of a GET, plus the form body of a POST (Loki accepts both). */
function requestParams(req: IncomingMessage, url: URL, body: string): URLSearchParams {
  const params = new URLSearchParams(url.searchParams);
  if (req.method === 'POST' && (req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(body)) params.append(k, v);
  }
  return params;
}

/** Starts the Loki contract double on a free 127.0.0.1 port. */
export async function startLokiDouble(opts: LokiDoubleOptions = {}): Promise<LokiDoubleHandle> {
  const double = new LokiDouble(opts);
  await double.listen(await freePort());
  return double.handle();
}

class LokiDouble {
  readonly requests: RecordedRequest[] = [];
  private mode: LokiDoubleMode;
  private delayMs: number;
  private readonly api: LokiApi;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private listening = false;
  private port = 0;
  private transition: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(opts: LokiDoubleOptions) {
    this.mode = opts.mode ?? 'normal';
    this.delayMs = opts.delayMs ?? 10_000;
    this.api = new LokiApi({ instantLogQueries: opts.instantLogQueries ?? 'loki3', rebase: opts.rebase ?? true, data: opts.data ?? 'recorded' });
    this.server = createServer((req, res) => void this.onRequest(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  handle(): LokiDoubleHandle {
    return {
      url: `http://127.0.0.1:${this.port}`,
      port: this.port,
      requests: this.requests,
      setMode: (mode, delayMs) => this.setMode(mode, delayMs),
      stop: () => this.stop(),
    };
  }

  async listen(port: number): Promise<void> {
    this.port = port;
    if (this.mode !== 'down') await this.open();
  }

  private open(): Promise<void> {
    if (this.listening) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.listening = true;
        resolve();
      });
    });
  }

  private close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const socket of this.sockets) socket.destroy();
    if (!this.listening) return Promise.resolve();
    this.listening = false;
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private setMode(mode: LokiDoubleMode, delayMs?: number): Promise<void> {
    this.mode = mode;
    if (delayMs !== undefined) this.delayMs = delayMs;
    // A failed reopen must not block later transitions (stop() in particular).
    this.transition = this.transition
      .catch(() => undefined)
      .then(() => {
        if (this.stopped) return undefined;
        return this.mode === 'down' ? this.close() : this.open();
      });
    return this.transition;
  }

  private stop(): Promise<void> {
    this.stopped = true;
    this.transition = this.transition.catch(() => undefined).then(() => this.close());
    return this.transition;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const body = await readBody(req).catch(() => '');
    const params = requestParams(req, url, body);
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(params) });
    const answer =
      req.method === 'POST' && url.pathname === '/loki/api/v1/push' && this.mode !== 'error'
        ? this.api.push(body)
        : this.answerFor(req.method ?? 'GET', url.pathname, params);
    if (this.mode === 'slow') {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        send(res, answer);
      }, this.delayMs);
      this.timers.add(timer);
    } else {
      send(res, answer);
    }
  }

  private answerFor(method: string, path: string, params: URLSearchParams): Answer {
    if (method !== 'GET' && method !== 'POST') return text(405, '405 method not allowed\n', 'text/plain; charset=utf-8');
    // A broken querier still reports ready; only the API fails.
    if (this.mode === 'error' && path.startsWith('/loki/')) return text(500, 'internal error');
    return this.api.answer(path, params);
  }
}

function send(res: ServerResponse, answer: Answer): void {
  if (res.destroyed) return;
  res.writeHead(answer.status, { 'content-type': answer.contentType });
  res.end(answer.body);
}
