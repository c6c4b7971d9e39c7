import type { APIApplicationCommandOptionChoice } from 'discord-api-types/v10';
import type { CommandDeps } from './types.js';

/** Where label values come from. */
type LabelSource = 'prometheus' | 'loki';

/** Options of {@link labelValueChoices}. */
interface LabelChoiceOptions {
  /** Prometheus only: series selectors the values must come from (`match[]`). */
  match?: readonly string[];
  /** Turns a raw value into the offered one (e.g. stripPort for `instance`); duplicates are merged. */
  map?: (value: string) => string;
}

/** Discord shows at most 25 choices: the router cuts every autocomplete answer to this. */
export const MAX_CHOICES = 25;
/** A choice's name and value are at most 100 characters. */
const MAX_CHOICE_LENGTH = 100;
/** How long fetched label values are reused: typing fires a request per keystroke. */
export const CHOICE_CACHE_TTL_MS = 30_000;
/** Cached lookups per client; the oldest goes first. */
const CACHE_ENTRIES = 64;
/** Label values of the last hour: what is running now, not everything ever seen. */
const LOOKBACK_MS = 3_600_000;
/** Well inside the router's 2.5 s autocomplete budget. */
const LOOKUP_TIMEOUT_MS = 2_000;

interface CacheEntry {
  at: number;
  values: Promise<string[]>;
}

/** Per client object, so two backends (or two test servers) never share values. */
const caches = new WeakMap<object, Map<string, CacheEntry>>();

/** Cached label values: a fresh entry is reused, a failed lookup is forgotten at once. */
function cachedValues(client: object, key: string, nowMs: number, fetch: () => Promise<string[]>): Promise<string[]> {
  let cache = caches.get(client);
  if (!cache) caches.set(client, (cache = new Map<string, CacheEntry>()));
  const hit = cache.get(key);
  if (hit && nowMs - hit.at < CHOICE_CACHE_TTL_MS) return hit.values;
  cache.delete(key);
  while (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
  const values = fetch();
  const entry = { at: nowMs, values };
  cache.set(key, entry);
  values.catch(() => {
    if (cache.get(key) === entry) cache.delete(key);
  });
  return values;
}

/** Fetches the raw values of `label` from the source's label values endpoint. */
function fetchValues(source: LabelSource, label: string, opts: LabelChoiceOptions, deps: Pick<CommandDeps, 'prometheus' | 'loki' | 'now'>): Promise<string[]> {
  const end = deps.now();
  const start = new Date(end.getTime() - LOOKBACK_MS);
  const call = { timeoutMs: LOOKUP_TIMEOUT_MS };
  return source === 'prometheus'
    ? deps.prometheus.labelValues(label, { ...(opts.match ? { match: opts.match } : {}), start, end }, call)
    : deps.loki.labelValues(label, { start, end }, call);
}

/**
 * Orders values for what the user typed (case-insensitive): prefix matches first, then substring
 * matches, each alphabetical; values longer than Discord allows are left out (a cut value would not
 * match anything). The router keeps the first MAX_CHOICES.
 */
export function filterChoices(values: readonly string[], typed: string): APIApplicationCommandOptionChoice<string>[] {
  const needle = typed.trim().toLowerCase();
  const usable = [...new Set(values)].filter((v) => v.length > 0 && v.length <= MAX_CHOICE_LENGTH).sort();
  const prefix = usable.filter((v) => v.toLowerCase().startsWith(needle));
  const inside = usable.filter((v) => !v.toLowerCase().startsWith(needle) && v.toLowerCase().includes(needle));
  return [...prefix, ...inside].map((v) => ({ name: v, value: v }));
}

/**
 * Autocomplete choices from a label's values in Prometheus or Loki, filtered by what the user has
 * typed: each at most 100 characters, cached 30 s per source, label and match. Never
 * throws: a failed or slow lookup gives no choices.
 */
export async function labelValueChoices(
  source: LabelSource,
  label: string,
  typed: string,
  deps: Pick<CommandDeps, 'prometheus' | 'loki' | 'now'>,
  opts: LabelChoiceOptions = {},
): Promise<APIApplicationCommandOptionChoice<string>[]> {
  try {
    const client = source === 'prometheus' ? deps.prometheus : deps.loki;
    const key = JSON.stringify([source, label, opts.match ?? []]);
    const raw = await cachedValues(client, key, deps.now().getTime(), () => fetchValues(source, label, opts, deps));
    return filterChoices(opts.map ? raw.map(opts.map) : raw, typed);
  } catch {
    return [];
  }
}
