import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';

/** Result of loading a config file: the config, or every error found, each naming its key path. */
export type LoadResult = { ok: true; config: Config } | { ok: false; errors: string[] };

const VAR_RE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const PLACEHOLDER_RE = /__VIGIL_ENV_(\d+)__/g;

/** Replaces `${VAR}` and `${VAR:-default}` in one string; `$$` stands for a literal `$`. */
export function interpolate(
  text: string,
  env: NodeJS.ProcessEnv,
  onMissing: (name: string) => void,
): string {
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

function interpolateTree(
  node: unknown,
  path: string[],
  refs: string[],
  env: NodeJS.ProcessEnv,
  errors: string[],
): unknown {
  if (typeof node === 'string') {
    return node.replace(PLACEHOLDER_RE, (_m, index: string) =>
      interpolate(refs[Number(index)] ?? '', env, (name) =>
        errors.push(`${formatPath(path)}: environment variable ${name} is not set`),
      ),
    );
  }
  if (Array.isArray(node)) return node.map((v, i) => interpolateTree(v, [...path, String(i)], refs, env, errors));
  if (node && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node).map(([k, v]) => [k, interpolateTree(v, [...path, k], refs, env, errors)]),
    );
  }
  return node;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map(String).join('.');
}

/** Formats zod issues as `key.path: what was expected`. */
function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return `${formatPath(issue.path)}: unknown key(s) ${issue.keys.join(', ')}`;
    }
    if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) {
      return `${formatPath(issue.path)}: required, ${issue.message.replace(/^Invalid input: /, '').replace(/, received undefined$/, '')}`;
    }
    return `${formatPath(issue.path)}: ${issue.message}`;
  });
}

/** Parses YAML text, interpolates the environment and validates it. */
export function parseConfig(text: string, env: NodeJS.ProcessEnv = process.env): LoadResult {
  const { text: protectedText, refs } = protectVariables(text);
  const doc = parseDocument(protectedText, { prettyErrors: true });
  if (doc.errors.length > 0) {
    return { ok: false, errors: doc.errors.slice(0, 3).map((e) => `YAML: ${e.message.split('\n')[0]}`) };
  }
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, errors: ['(root): expected a mapping of configuration keys'] };
  }
  const errors: string[] = [];
  const interpolated = interpolateTree(raw, [], refs, env, errors);
  const parsed = configSchema.safeParse(interpolated);
  if (!parsed.success) {
    // A key whose variable is unset already has the one error that matters.
    const unset = new Set(errors.map((e) => e.slice(0, e.indexOf(': '))));
    errors.push(...formatIssues(parsed.error.issues.filter((issue) => !unset.has(formatPath(issue.path)))));
  }
  if (errors.length > 0) return { ok: false, errors: [...new Set(errors)] };
  return { ok: true, config: parsed.data! };
}

/** Reads and validates the config file at `path`. */
export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): LoadResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    return { ok: false, errors: [`cannot read config file ${path}: ${code}`] };
  }
  return parseConfig(text, env);
}
