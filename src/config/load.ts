import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';

/** Result of loading a config file: the config, or every error found, each naming its key path. */
/** A loaded config, or every error; `unreadable` when the file itself could not be read (the CLI words that in its language). */
export type LoadResult = { ok: true; config: Config } | { ok: false; errors: string[]; unreadable?: { path: string; code: string } };

const VAR_RE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const PLACEHOLDER_RE = /__VIGIL_ENV_(\d+)__/g;

/** Replaces `${VAR}` and `${VAR:-default}` in one string; `$$` stands for a literal `$`. */
export function interpolate(text: string, env: NodeJS.ProcessEnv, onMissing: (name: string) => void): string {
  return text.replace(VAR_RE, (whole, name: string | undefined, fallback: string | undefined) => {
    if (whole === '$$') return '$';
    const value = env[name!];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    onMissing(name!);
    return '';
  });
}

/**
 * Swaps each `${...}` for a plain placeholder before YAML parsing, so `{ token: ${X} }` parses
 * and a value full of YAML syntax (`#`, `: `, quotes) can never change the document's shape.
 */
function protectVariables(text: string): { text: string; refs: string[] } {
  const refs: string[] = [];
  const out = text.replace(VAR_RE, (whole) => {
    refs.push(whole);
    return `__VIGIL_ENV_${refs.length - 1}__`;
  });
  return { text: out, refs };
}

function interpolateTree(node: unknown, path: string[], refs: string[], env: NodeJS.ProcessEnv, errors: string[]): unknown {
  if (typeof node === 'string') {
    return node.replace(PLACEHOLDER_RE, (_m, index: string) =>
      interpolate(refs[Number(index)] ?? '', env, (name) => errors.push(`${formatPath(path)}: environment variable ${name} is not set`)),
    );
  }
  if (Array.isArray(node)) return node.map((v, i) => interpolateTree(v, [...path, String(i)], refs, env, errors));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateTree(v, [...path, k], refs, env, errors)]));
  }
  return node;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map(String).join('.');
}

/** The schema inside optional/default/prefault/preprocess wrappers. */
function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let s = schema;
  for (let i = 0; i < 10; i++) {
    const def = s._zod.def as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType; out?: z.core.$ZodType };
    if (def.innerType) s = def.innerType;
    else if (def.type === 'pipe' && def.out && def.in) s = (def.out._zod.def as { type: string }).type === 'transform' ? def.in : def.out;
    else break;
  }
  return s;
}

/** The keys the config schema knows at `path` (an object's), or none. */
function knownKeys(path: readonly PropertyKey[], schema: z.core.$ZodType = configSchema): string[] {
  let s = unwrap(schema);
  for (const key of path) {
    const def = s._zod.def as { type: string; shape?: Record<string, z.core.$ZodType>; valueType?: z.core.$ZodType };
    const next = def.type === 'object' ? def.shape?.[String(key)] : def.type === 'record' ? def.valueType : undefined;
    if (!next) return [];
    s = unwrap(next);
  }
  const def = s._zod.def as { type: string; shape?: Record<string, z.core.$ZodType> };
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

/** Edit distance with adjacent transpositions (`prot` is one edit from `port`). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The known key a typo most likely meant: at most 2 edits (1 for short keys), case ignored. */
function closestKey(typo: string, known: readonly string[]): string | undefined {
  const scored = known
    .map((k) => ({ k, d: editDistance(typo.toLowerCase(), k.toLowerCase()) }))
    .filter(({ k, d }) => d <= (Math.min(typo.length, k.length) <= 4 ? 1 : 2))
    .sort((a, b) => a.d - b.d);
  return scored[0]?.k;
}

/** What zod's type names mean in a YAML file. */
const TYPE_WORDS: Record<string, string> = {
  object: 'a mapping (key: value lines)',
  record: 'a mapping of names to values',
  array: 'a list',
  string: 'a text',
  number: 'a number',
  boolean: 'true or false',
  null: 'nothing',
  undefined: 'nothing',
};

/** How zod's own messages start: our schema's messages never do. */
const LIBRARY_TEXT = /^(Invalid|Too (small|big)|Unrecognized)/;

/** Formats zod issues as `key.path: what was expected`, in our words, never the library's. */
function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.flatMap((issue) => {
    const at = formatPath(issue.path);
    const ours = !LIBRARY_TEXT.test(issue.message);
    if (ours && issue.code !== 'unrecognized_keys') return [`${at}: ${issue.message}`];
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = knownKeys(issue.path);
        return issue.keys.map((key) => {
          const guess = closestKey(key, known);
          const full = (k: string) => [...issue.path.map(String), k].join('.');
          return `${full(key)}: unknown key${guess ? ` (did you mean ${full(guess)}?)` : known.length ? `; known keys here: ${known.join(', ')}` : ''}`;
        });
      }
      case 'invalid_type': {
        const received = /received (\w+)$/.exec(issue.message)?.[1];
        const expected = TYPE_WORDS[issue.expected] ?? issue.expected;
        if (received === 'undefined') return [`${at}: required, expected ${expected}`];
        return [`${at}: expected ${expected}${received ? `, got ${TYPE_WORDS[received] ?? received}` : ''}`];
      }
      case 'invalid_key': {
        // A record key the schema refused: its own message says what a key must be.
        const inner = issue.issues[0];
        const key = [...issue.path.map(String), typeof inner?.input === 'string' || typeof inner?.input === 'number' ? String(inner.input) : '']
          .filter(Boolean)
          .join('.');
        return [`${key || at}: ${inner && !LIBRARY_TEXT.test(inner.message) ? inner.message : 'not a valid key here'}`];
      }
      case 'invalid_value':
        return [`${at}: expected one of ${issue.values.map((v) => String(v)).join(', ')}`];
      case 'too_small':
        if (issue.origin === 'string') return [`${at}: expected at least ${String(issue.minimum)} character${issue.minimum === 1 ? '' : 's'}`];
        if (issue.origin === 'array') return [`${at}: expected at least ${String(issue.minimum)} item${issue.minimum === 1 ? '' : 's'}`];
        break;
      case 'too_big':
        if (issue.origin === 'string') return [`${at}: expected at most ${String(issue.maximum)} characters`];
        if (issue.origin === 'array') return [`${at}: expected at most ${String(issue.maximum)} items`];
        break;
      default:
        break;
    }
    // A library message left over still gets a plain sentence of ours.
    return [`${at}: not a valid value here`];
  });
}

/** How a config is read: `preview` (vigil serve --preview) swaps the file's Discord settings for preview mode. */
export interface LoadOptions {
  preview?: boolean;
}

/** Parses YAML text, interpolates the environment and validates it. */
export function parseConfig(text: string, env: NodeJS.ProcessEnv = process.env, opts: LoadOptions = {}): LoadResult {
  const { text: protectedText, refs } = protectVariables(text);
  const doc = parseDocument(protectedText, { prettyErrors: true });
  if (doc.errors.length > 0) {
    return { ok: false, errors: doc.errors.slice(0, 3).map((e) => `YAML: ${e.message.split('\n')[0]}`) };
  }
  let raw: unknown;
  try {
    // Resolving aliases can still fail here: `*a` before `&a`, or a billion-laughs file past yaml's cap of 100 aliases.
    raw = doc.toJS() ?? {};
  } catch (err) {
    return { ok: false, errors: [`YAML: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`] };
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, errors: ['(root): expected a mapping of configuration keys'] };
  }
  const previewInFile = isPreviewMode(raw as Record<string, unknown>);
  if (opts.preview || previewInFile) raw = asPreview(raw as Record<string, unknown>);
  const errors: string[] = [];
  const interpolated = interpolateTree(raw, [], refs, env, errors);
  const result = validate(interpolated, errors);
  // --preview turns a real config into a preview: its own SQLite store, never the real one's
  // outbox, nor the replicas' PostgreSQL (where it would take part in electing their leader).
  if (result.ok && opts.preview && !previewInFile) {
    result.config.storage.path = previewStorePath(result.config.storage.path);
    delete result.config.storage.url;
  }
  return result;
}

/** Whether the file itself says `discord.mode: preview` (written out, not through a variable). */
function isPreviewMode(raw: Record<string, unknown>): boolean {
  const discord = raw.discord && typeof raw.discord === 'object' ? (raw.discord as Record<string, unknown>) : {};
  return discord.mode === 'preview';
}

/** The store `--preview` uses beside a config's own: `./data/vigil.db` -> `./data/vigil-preview.db`. */
export function previewStorePath(path: string): string {
  if (path === ':memory:' || path === '') return path;
  return /\.db$/.test(path) ? path.replace(/\.db$/, '-preview.db') : `${path}-preview`;
}

/**
 * The file's settings with Discord swapped for preview mode: the bot's token, ids and mode are not
 * read (their variables need not be set), only `discord.threads`, which shapes what is shown.
 */
function asPreview(raw: Record<string, unknown>): Record<string, unknown> {
  const discord = raw.discord && typeof raw.discord === 'object' ? (raw.discord as Record<string, unknown>) : {};
  return { ...raw, discord: { mode: 'preview', ...('threads' in discord ? { threads: discord.threads } : {}) } };
}

/** Validates an interpolated config tree; `errors` already found (unset variables) come first. */
function validate(tree: unknown, errors: string[] = []): LoadResult {
  const parsed = configSchema.safeParse(tree);
  if (!parsed.success) {
    // A key whose variable is unset already has the one error that matters.
    const unset = new Set(errors.map((e) => e.slice(0, e.indexOf(': '))));
    errors.push(...formatIssues(parsed.error.issues.filter((issue) => !unset.has(formatPath(issue.path)))));
  }
  if (errors.length > 0) return { ok: false, errors: [...new Set(errors)] };
  return { ok: true, config: parsed.data! };
}

/**
 * The config of `vigil serve --preview` (and `vigil test-alert`) without a config file: Prometheus
 * and Loki on this machine, no Discord, messages at GET /preview. Without VIGIL_WEBHOOK_TOKEN it
 * listens on loopback only and takes webhooks and page views without a credential.
 */
export function previewConfig(env: NodeJS.ProcessEnv = process.env): LoadResult {
  const token = env.VIGIL_WEBHOOK_TOKEN || undefined;
  const host = env.VIGIL_HOST || '127.0.0.1';
  return validate({
    server: { host, port: env.VIGIL_PORT || 8080 },
    webhook: token ? { token } : { insecure: true },
    prometheus: { url: env.PROMETHEUS_URL || 'http://localhost:9090' },
    loki: { url: env.LOKI_URL || 'http://localhost:3100' },
    discord: { mode: 'preview' },
    storage: { path: env.VIGIL_DB || './data/vigil-preview.db' },
  });
}

/** Reads and validates the config file at `path`. */
export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env, opts: LoadOptions = {}): LoadResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    return { ok: false, errors: [`cannot read config file ${path}: ${code}`], unreadable: { path, code } };
  }
  return parseConfig(text, env, opts);
}
