import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config/schema.js';

/** Headers as Node's IncomingMessage gives them (names in any case are accepted). */
export type HeaderMap = Record<string, string | string[] | undefined>;

/** What checkWebhookAuth looks at. */
export interface WebhookAuthInput {
  headers: HeaderMap;
  /** The body exactly as received: the HMAC covers these bytes. */
  rawBody: Buffer;
  now: Date;
}

/** Which credential let a webhook in, or why it was refused (short, never containing a credential). */
export type WebhookAuthResult = { ok: true; method: 'bearer' | 'basic' | 'hmac' | 'insecure' } | { ok: false; reason: string };

type WebhookConfig = Config['webhook'];
type Verdict = WebhookAuthResult;

/** The header Vigil's config names by default (Grafana's UI shows it as the header placeholder). */
const DEFAULT_HMAC_HEADER = 'X-Grafana-Alerting-Signature';
/** The header grafana/alerting's HMAC signer really uses when its Header field is left empty. */
const GRAFANA_BUILTIN_HMAC_HEADER = 'X-Grafana-Alert-Signature';
/** Grafana writes the timestamp as unix seconds (`strconv.FormatInt(now.Unix(), 10)`). */
const UNIX_SECONDS = /^\d{1,12}$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

/**
 * Checks a webhook's credentials against `webhook` config: `Authorization: Bearer <token>`, HTTP Basic
 * with password = token (any user), or Grafana's HMAC-SHA256 signature when `hmacSecret` is set. Any one
 * valid credential is enough; with none valid the first failure is reported. `insecure: true` without a
 * token lets unauthenticated requests in, but a presented HMAC signature is still checked.
 */
export function checkWebhookAuth(input: WebhookAuthInput, cfg: WebhookConfig): WebhookAuthResult {
  if (cfg.insecure && !cfg.token && !cfg.hmacSecret) return { ok: true, method: 'insecure' };
  const verdicts: Verdict[] = [];
  const authorization = header(input.headers, 'authorization');
  if (authorization !== undefined && cfg.token) verdicts.push(checkAuthorization(authorization, cfg.token));
  if (cfg.hmacSecret) {
    const signature = signatureHeader(input.headers, cfg.hmacHeader);
    if (signature !== undefined) verdicts.push(checkHmac(signature, input, cfg, cfg.hmacSecret));
  }
  const accepted = verdicts.find((v) => v.ok);
  if (accepted) return accepted;
  if (verdicts[0]) return verdicts[0];
  if (cfg.insecure && !cfg.token) return { ok: true, method: 'insecure' };
  return { ok: false, reason: 'missing credentials' };
}

/** Verifies a Bearer or Basic Authorization header against the token. */
function checkAuthorization(value: string, token: string): Verdict {
  const match = /^([A-Za-z]+)(?:[ \t]+(.*))?$/.exec(value.trim());
  const scheme = match?.[1]?.toLowerCase();
  const credential = match?.[2]?.trim() ?? '';
  if (scheme === 'bearer') {
    return safeEqual(credential, token) ? { ok: true, method: 'bearer' } : { ok: false, reason: 'invalid bearer token' };
  }
  if (scheme === 'basic') return checkBasic(credential, token);
  return { ok: false, reason: 'unsupported authorization scheme (expected Bearer or Basic)' };
}

/** Basic credentials: base64 of `user:password`; the user name is not checked. */
function checkBasic(encoded: string, token: string): Verdict {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return { ok: false, reason: 'malformed basic credentials' };
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { ok: false, reason: 'malformed basic credentials' };
  return safeEqual(decoded.slice(colon + 1), token) ? { ok: true, method: 'basic' } : { ok: false, reason: 'invalid basic credentials' };
}

/**
 * Grafana's signature: hex HMAC-SHA256 of the raw body, or of `timestamp + ":" + body` when a
 * timestamp header is configured, the timestamp being unix seconds within `hmacMaxSkew` of now.
 */
function checkHmac(signature: string, input: WebhookAuthInput, cfg: WebhookConfig, secret: string): Verdict {
  const presented = signature
    .trim()
    .toLowerCase()
    .replace(/^sha256=/, '');
  const hmac = createHmac('sha256', secret);
  let timestampSeconds: number | undefined;
  if (cfg.hmacTimestampHeader) {
    const timestamp = header(input.headers, cfg.hmacTimestampHeader)?.trim();
    if (timestamp === undefined || timestamp === '') return { ok: false, reason: 'missing signature timestamp' };
    if (!UNIX_SECONDS.test(timestamp)) return { ok: false, reason: 'malformed signature timestamp (expected unix seconds)' };
    timestampSeconds = Number(timestamp);
    hmac.update(`${timestamp}:`);
  }
  const expected = hmac.update(input.rawBody).digest('hex');
  // Both sides are hashed before comparing, so neither the length nor the content leaks through timing.
  if (!HEX_SHA256.test(presented) || !safeEqual(presented, expected)) {
    return { ok: false, reason: 'invalid HMAC signature' };
  }
  if (timestampSeconds !== undefined && Math.abs(input.now.getTime() - timestampSeconds * 1000) > cfg.hmacMaxSkew) {
    return { ok: false, reason: 'signature timestamp outside the allowed skew' };
  }
  return { ok: true, method: 'hmac' };
}

/** Compares two secrets in constant time by comparing their SHA-256 digests. */
function safeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}

/**
 * The configured signature header; when that is Vigil's default and absent, also Grafana's built-in
 * default, so a contact point whose HMAC Header field was left empty still verifies.
 */
function signatureHeader(headers: HeaderMap, configured: string): string | undefined {
  const value = header(headers, configured);
  if (value !== undefined || configured.toLowerCase() !== DEFAULT_HMAC_HEADER.toLowerCase()) return value;
  return header(headers, GRAFANA_BUILTIN_HMAC_HEADER);
}

/** A header's single value, looked up case-insensitively; a repeated header counts as its first value. */
function header(headers: HeaderMap, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}
