import type { Notification } from '../model.js';
import { normaliseAlertmanager, normaliseGrafana } from './normalise.js';
import { alertmanagerBodySchema, describeValue, grafanaBodySchema, validateBody } from './schemas.js';

/** Which webhook endpoint received the body: `/webhooks/grafana`, `/webhooks/alertmanager` or `/webhooks`. */
export type WebhookRoute = 'grafana' | 'alertmanager' | 'any';

/** A parsed notification, or the HTTP status and a precise message to answer with. */
export type IntakeResult = { ok: true; notification: Notification } | { ok: false; status: 415 | 400 | 422; error: string };

const GRAFANA_VERSION = '1';
const ALERTMANAGER_VERSION = '4';

/**
 * Turns a webhook request body into a Notification: 415 unless the content type is JSON, 400 for
 * malformed UTF-8 or JSON (with the position), 422 for a `version` the route does not take or a
 * field that breaks the schema. `now` is the time of receipt. The body size limit is the server's.
 */
export function parseWebhook(route: WebhookRoute, contentType: string | undefined, rawBody: Buffer, now: Date): IntakeResult {
  const typeError = contentTypeError(contentType);
  if (typeError) return { ok: false, status: 415, error: typeError };
  const json = parseJson(rawBody);
  if (!json.ok) return { ok: false, status: 400, error: json.error };
  if (!isPlainObject(json.value)) {
    return { ok: false, status: 422, error: `(root): expected a JSON object, got ${describeValue(json.value)}` };
  }
  const source = sourceFor(route, json.value['version']);
  if (!source.ok) return { ok: false, status: 422, error: source.error };
  return source.value === 'grafana' ? grafana(json.value, now) : alertmanager(json.value, now);
}

function grafana(body: unknown, now: Date): IntakeResult {
  const parsed = validateBody(grafanaBodySchema, body);
  return parsed.ok ? { ok: true, notification: normaliseGrafana(parsed.value, now) } : { ok: false, status: 422, error: parsed.error };
}

function alertmanager(body: unknown, now: Date): IntakeResult {
  const parsed = validateBody(alertmanagerBodySchema, body);
  return parsed.ok ? { ok: true, notification: normaliseAlertmanager(parsed.value, now) } : { ok: false, status: 422, error: parsed.error };
}

/** Why the content type is not acceptable JSON, or undefined when it is. */
export function contentTypeError(contentType: string | undefined): string | undefined {
  const expected = 'expected Content-Type application/json';
  if (!contentType || contentType.trim() === '') return `missing Content-Type: ${expected}`;
  const [mediaType = '', ...params] = contentType.split(';').map((p) => p.trim().toLowerCase());
  if (mediaType !== 'application/json' && !/^application\/[a-z0-9!#$&^_.-]+\+json$/.test(mediaType)) {
    return `unsupported Content-Type ${JSON.stringify(mediaType.slice(0, 100))}: ${expected}`;
  }
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/^"|"$/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    return `unsupported charset ${JSON.stringify(charset.slice(0, 40))}: expected utf-8`;
  }
  return undefined;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Arrays and objects nested in a body at most: Alertmanager's and Grafana's bodies nest 4 or 5 deep. */
export const MAX_JSON_DEPTH = 32;

/**
 * Where `text` first opens its (max+1)-th nested array or object, outside strings; undefined when it
 * never does. One pass over the characters, before JSON.parse builds anything.
 */
export function jsonDepthOver(text: string, max: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return undefined;
}

/** Decodes UTF-8 (a leading BOM is dropped) and parses JSON (nested at most MAX_JSON_DEPTH deep); errors name the line, column and position. */
export function parseJson(rawBody: Buffer): Parsed<unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(rawBody);
  } catch {
    return { ok: false, error: 'invalid JSON: the body is not valid UTF-8' };
  }
  if (text.trim() === '') return { ok: false, error: 'invalid JSON: the body is empty' };
  const depth = jsonDepthOver(text, MAX_JSON_DEPTH);
  if (depth !== undefined) return { ok: false, error: `invalid JSON: nested deeper than ${MAX_JSON_DEPTH} levels (at position ${depth})` };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, error: jsonErrorMessage(text, err) };
  }
}

function jsonErrorMessage(text: string, err: unknown): string {
  const located = locateJsonError(text);
  if (!located) {
    // V8's own message quotes the body; keep only its first clause.
    const message = err instanceof Error ? err.message.split(',')[0] : 'unparseable';
    return `invalid JSON: ${message}`;
  }
  const { line, column } = lineAndColumn(text, located.position);
  const got = located.position >= text.length ? 'end of input' : JSON.stringify(text[located.position]);
  return `invalid JSON at line ${line}, column ${column} (position ${located.position}): expected ${located.expected}, got ${got}`;
}

function lineAndColumn(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  return { line, column: position - before.lastIndexOf('\n') };
}

/** Where JSON text first breaks the grammar (RFC 8259), and what was expected there. */
export interface JsonSyntaxError {
  position: number;
  expected: string;
}

class Syntax extends Error {
  constructor(
    readonly position: number,
    readonly expected: string,
  ) {
    super(expected);
  }
}

/**
 * Finds the first syntax error in `text` with a small recursive-descent scan of the JSON grammar;
 * undefined when the text is valid JSON or too deeply nested to scan.
 */
export function locateJsonError(text: string): JsonSyntaxError | undefined {
  const scanner = new JsonScanner(text);
  try {
    scanner.document();
    return undefined;
  } catch (err) {
    if (err instanceof Syntax) return { position: err.position, expected: err.expected };
    return undefined; // RangeError from extreme nesting: let the caller fall back to V8's message.
  }
}

class JsonScanner {
  private i = 0;

  constructor(private readonly text: string) {}

  document(): void {
    this.value();
    this.ws();
    if (this.i < this.text.length) this.fail('end of input after the JSON value');
  }

  private value(): void {
    this.ws();
    const c = this.text[this.i];
    if (c === '{') this.object();
    else if (c === '[') this.array();
    else if (c === '"') this.string();
    else if (c === '-' || isDigit(c)) this.number();
    else if (c === 't') this.literal('true');
    else if (c === 'f') this.literal('false');
    else if (c === 'n') this.literal('null');
    else this.fail('a JSON value');
  }

  private object(): void {
    this.i++;
    this.ws();
    if (this.eat('}')) return;
    for (;;) {
      this.ws();
      if (this.text[this.i] !== '"') this.fail('a property name in double quotes');
      this.string();
      this.ws();
      if (!this.eat(':')) this.fail("':' after a property name");
      this.value();
      this.ws();
      if (this.eat('}')) return;
      if (!this.eat(',')) this.fail("',' or '}' after a property value");
    }
  }

  private array(): void {
    this.i++;
    this.ws();
    if (this.eat(']')) return;
    for (;;) {
      this.value();
      this.ws();
      if (this.eat(']')) return;
      if (!this.eat(',')) this.fail("',' or ']' after an array element");
    }
  }

  private string(): void {
    this.i++;
    for (;;) {
      const c = this.text[this.i];
      if (c === undefined) this.fail('a closing double quote');
      if (c === '"') {
        this.i++;
        return;
      }
      if (c < ' ') this.fail('an escaped control character (\\n, \\t, \\u00XX) inside a string');
      if (c === '\\') this.escape();
      else this.i++;
    }
  }

  private escape(): void {
    this.i++;
    const c = this.text[this.i];
    if (c !== undefined && '"\\/bfnrt'.includes(c)) {
      this.i++;
      return;
    }
    if (c === 'u' && /^[0-9a-fA-F]{4}$/.test(this.text.slice(this.i + 1, this.i + 5))) {
      this.i += 5;
      return;
    }
    this.fail('a valid escape sequence');
  }

  private number(): void {
    this.eat('-');
    if (!this.eat('0')) this.digits();
    if (this.eat('.')) this.digits();
    if (this.text[this.i] === 'e' || this.text[this.i] === 'E') {
      this.i++;
      if (!this.eat('+')) this.eat('-');
      this.digits();
    }
  }

  private digits(): void {
    if (!isDigit(this.text[this.i])) this.fail('a digit');
    while (isDigit(this.text[this.i])) this.i++;
  }

  private literal(word: string): void {
    for (const c of word) {
      if (this.text[this.i] !== c) this.fail(`the literal ${word}`);
      this.i++;
    }
  }

  private eat(c: string): boolean {
    if (this.text[this.i] !== c) return false;
    this.i++;
    return true;
  }

  private ws(): void {
    while (this.i < this.text.length && ' \t\n\r'.includes(this.text[this.i]!)) this.i++;
  }

  private fail(expected: string): never {
    throw new Syntax(this.i, expected);
  }
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

type Source = 'grafana' | 'alertmanager';

/** Which schema the body's `version` selects on this route, or why the version is refused. */
function sourceFor(route: WebhookRoute, version: unknown): Parsed<Source> {
  const got = version === undefined ? 'nothing' : JSON.stringify(version).slice(0, 40);
  if (route === 'grafana') {
    if (version === GRAFANA_VERSION) return { ok: true, value: 'grafana' };
    const hint = version === ALERTMANAGER_VERSION ? ' (an Alertmanager body: send it to /webhooks/alertmanager)' : '';
    return { ok: false, error: `version: expected "${GRAFANA_VERSION}" (a Grafana webhook body), got ${got}${hint}` };
  }
  if (route === 'alertmanager') {
    if (version === ALERTMANAGER_VERSION) return { ok: true, value: 'alertmanager' };
    const hint = version === GRAFANA_VERSION ? ' (a Grafana body: send it to /webhooks/grafana)' : '';
    return { ok: false, error: `version: expected "${ALERTMANAGER_VERSION}" (an Alertmanager webhook body), got ${got}${hint}` };
  }
  if (version === GRAFANA_VERSION) return { ok: true, value: 'grafana' };
  if (version === ALERTMANAGER_VERSION) return { ok: true, value: 'alertmanager' };
  return {
    ok: false,
    error: `version: expected "${GRAFANA_VERSION}" (Grafana) or "${ALERTMANAGER_VERSION}" (Alertmanager), got ${got}`,
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
