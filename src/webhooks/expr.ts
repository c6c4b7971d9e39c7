/** Longest expression taken from a generatorURL; anything longer is not a rule a person wrote. */
const MAX_EXPR_LENGTH = 16 * 1024;

// Only resolves relative generatorURLs (Prometheus without --web.external-url can send a bare path);
// nothing is ever fetched from it.
const PLACEHOLDER_BASE = 'http://generator.invalid';

/**
 * The PromQL expression in a Prometheus graph link (`/graph?g0.expr=...`, or Prometheus 3's
 * `/query?g0.expr=...`), form-decoded; undefined for any other or malformed URL. Never throws.
 */
export function exprFromGeneratorURL(url: string | undefined): string | undefined {
  if (typeof url !== 'string' || url.length === 0) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url, PLACEHOLDER_BASE);
  } catch {
    return undefined;
  }
  if (!isPrometheusGraphPath(parsed.pathname)) return undefined;
  // URLSearchParams applies form decoding: `+` is a space, `%xx` is a byte of UTF-8.
  const expr = parsed.searchParams.get('g0.expr')?.trim();
  if (!expr || expr.length > MAX_EXPR_LENGTH) return undefined;
  return expr;
}

/** `/graph` or `/query`, possibly under a route prefix such as `/prometheus/graph`. */
function isPrometheusGraphPath(pathname: string): boolean {
  return /\/(graph|query)\/?$/.test(pathname);
}
