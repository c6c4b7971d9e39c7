import { LABEL_NAME, type MatchOp } from '../config/matchers.js';

export { LABEL_NAME, type MatchOp } from '../config/matchers.js';

/** One label matcher before rendering. */
export interface MatcherSpec {
  name: string;
  op?: MatchOp;
  value: string;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const OPS: ReadonlySet<string> = new Set<MatchOp>(['=', '!=', '=~', '!~']);

/** Escapes for the JSON-like spellings both Go lexers accept; anything else below 0x20 becomes \xNN. */
const NAMED_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '"': '\\"',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
  '\v': '\\v',
};

/**
 * Escapes a value for a PromQL/LogQL double-quoted string (Go string syntax): backslash, double
 * quote and every control character are escaped, so the value can never close its string or
 * matcher. Lone UTF-16 surrogates (not representable in UTF-8) become U+FFFD.
 */
export function escapeLabelValue(value: string): string {
  return value
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .replace(/[\\"\x00-\x1f\x7f]/g, (c) => NAMED_ESCAPES[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A value as a complete double-quoted PromQL/LogQL string literal. */
export function quote(value: string): string {
  return `"${escapeLabelValue(value)}"`;
}

/** Escapes RE2 metacharacters (Go's regexp.QuoteMeta) so `=~` matches the value literally. */
export function escapeRegex(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/** Renders one matcher (`name="value"`); throws on an invalid label name or operator. */
export function matcher(name: string, op: MatchOp, value: string): string {
  if (!LABEL_NAME.test(name)) throw new Error(`invalid label name "${name}": expected [a-zA-Z_][a-zA-Z0-9_]*`);
  if (!OPS.has(op)) throw new Error(`invalid matcher operator "${op}": expected =, !=, =~ or !~`);
  return `${name}${op}${quote(value)}`;
}

/** Whether matchers are given as a list of specs (else as a record of equalities). */
function isSpecList(m: readonly MatcherSpec[] | Readonly<Record<string, string>>): m is readonly MatcherSpec[] {
  return Array.isArray(m);
}

/**
 * Renders a selector: `{a="x",b=~"y"}`, or `metric{...}` / `metric` when a metric name is given.
 * A plain record means equality matchers. Throws when the result would select nothing valid.
 */
export function selector(matchers: readonly MatcherSpec[] | Readonly<Record<string, string>>, metric = ''): string {
  // Array.isArray narrows a readonly array to any[]: the record is the other case, said once.
  const specs: readonly MatcherSpec[] = isSpecList(matchers) ? matchers : Object.entries(matchers).map(([name, value]) => ({ name, value }));
  if (metric && !METRIC_NAME.test(metric)) throw new Error(`invalid metric name "${metric}"`);
  if (specs.length === 0) {
    if (metric) return metric;
    throw new Error('a selector needs a metric name or at least one matcher');
  }
  return `${metric}{${specs.map((m) => matcher(m.name, m.op ?? '=', m.value)).join(',')}}`;
}

/** A LogQL regex line filter: `|~ "regex"`, with the regex escaped as a string literal. */
export function lineFilter(regex: string): string {
  return `|~ ${quote(regex)}`;
}

/** Drops a `:port` from an `instance` value ("10.0.0.5:9100" -> "10.0.0.5", "[::1]:9100" -> "::1"). */
export function stripPort(instance: string): string {
  const bracketed = /^\[(.+)\]:\d+$/.exec(instance);
  if (bracketed) return bracketed[1]!;
  return /^[^:]+:\d+$/.test(instance) ? instance.slice(0, instance.lastIndexOf(':')) : instance;
}

/** Loki labels that name a machine or a scrape job rather than a workload: used only as fallbacks. */
const HOST_LABEL = 'host';
const JOB_LABEL = 'job';

/**
 * The Loki stream selector for an alert, derived through `labelMap` (alert label -> Loki label, in
 * priority order): each Loki label is used once, the first alert label in map order that has a
 * value wins; an `instance` mapped to `host` loses its `:port`. The most specific tier present is
 * used alone: workload labels (container, compose service, any custom label) first, else `host`,
 * else `job`. A Prometheus instance ("node-exporter:9100", "10.0.0.5:9100") or job ("node") rarely
 * equals the log agent's host or job label, so adding them to a selector that already names a
 * container would usually match nothing. Undefined when no mapped label has a value (the caller
 * then skips logs and says why).
 */
export function logSelectorForAlert(labels: Readonly<Record<string, string>>, labelMap: Readonly<Record<string, string>>): string | undefined {
  const specs = logMatchersForAlert(labels, labelMap);
  return specs.length ? selector(specs) : undefined;
}

/** The matchers of logSelectorForAlert's selector (the most specific tier present), empty when none. */
export function logMatchersForAlert(labels: Readonly<Record<string, string>>, labelMap: Readonly<Record<string, string>>): MatcherSpec[] {
  const chosen = new Map<string, string>();
  for (const [alertLabel, lokiLabel] of Object.entries(labelMap)) {
    const raw = labels[alertLabel];
    if (!raw || chosen.has(lokiLabel)) continue;
    chosen.set(lokiLabel, alertLabel === 'instance' && lokiLabel === HOST_LABEL ? stripPort(raw) : raw);
  }
  const tier = (names: (name: string) => boolean) => [...chosen].filter(([name]) => names(name)).map(([name, value]) => ({ name, value }));
  for (const specs of [tier((n) => n !== HOST_LABEL && n !== JOB_LABEL), tier((n) => n === HOST_LABEL), tier((n) => n === JOB_LABEL)]) {
    if (specs.length) return specs;
  }
  return [];
}

/** A PromQL comparison operator. */
export type ComparisonOp = '==' | '!=' | '>' | '<' | '>=' | '<=';

/** An expression split from its trailing threshold comparison. */
export interface SplitThreshold {
  /** The expression without the comparison (unchanged when there was none to strip). */
  expr: string;
  threshold?: { op: ComparisonOp; value: number };
}

/** `[bool] <number>`, then only whitespace and `#` comments. */
const NUMBER_RHS = /^\s*(?:bool\s+)?([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?:#[^\n]*\s*)*$/;
const IDENT_CHAR = /[a-zA-Z0-9_:]/;

/**
 * Strips a top-level trailing comparison with a number (`... > 90`, `... == bool 0`) so a range
 * query shows the metric itself rather than only the points past the threshold. Left unchanged
 * when the comparison is not the outermost operator (inside parentheses, or under a top-level
 * `and`/`or`/`unless`, which bind looser) or its right side is not a plain number.
 */
export function splitThreshold(expr: string): SplitThreshold {
  const last = lastTopLevelComparison(expr);
  if (!last) return { expr };
  const rhs = NUMBER_RHS.exec(expr.slice(last.at + last.op.length));
  const lhs = expr.slice(0, last.at).trim();
  if (!rhs || !lhs) return { expr };
  return { expr: lhs, threshold: { op: last.op, value: Number(rhs[1]) } };
}

/** Position of the last comparison outside brackets, strings and comments; undefined under a set operator. */
function lastTopLevelComparison(expr: string): { at: number; op: ComparisonOp } | undefined {
  let depth = 0;
  let found: { at: number; op: ComparisonOp } | undefined;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (c === '"' || c === "'" || c === '`') {
      const end = endOfString(expr, i);
      // An unclosed string runs to the end: nothing after its quote is an operator.
      i = end < 0 ? expr.length : end;
    } else if (c === '#') {
      const nl = expr.indexOf('\n', i);
      i = nl < 0 ? expr.length : nl;
    } else if (c === '(' || c === '[' || c === '{') {
      depth++;
    } else if (c === ')' || c === ']' || c === '}') {
      depth--;
    } else if (depth === 0 && /[a-z]/i.test(c) && (i === 0 || !IDENT_CHAR.test(expr[i - 1]!))) {
      const word = /^[a-zA-Z_][a-zA-Z0-9_:]*/.exec(expr.slice(i))![0];
      if (word === 'and' || word === 'or' || word === 'unless') return undefined;
      i += word.length - 1;
    } else if (depth === 0) {
      const two = expr.slice(i, i + 2);
      if (two === '==' || two === '!=' || two === '>=' || two === '<=') {
        found = { at: i, op: two };
        i++;
      } else if (c === '>' || c === '<') {
        found = { at: i, op: c };
      }
    }
  }
  return found;
}

/** Index of the quote closing the string opening at `start` ("…" and '…' take backslash escapes and end unclosed at a line break, as in the Go lexers; `…` neither); -1 when never closed. */
export function endOfString(text: string, start: number): number {
  const q = text[start];
  const raw = q === '`';
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i];
    if (c === q) return i;
    if (raw) continue;
    if (c === '\n') return -1;
    if (c === '\\') i++;
  }
  return -1;
}
