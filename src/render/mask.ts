/*
 * The one secret masker for text that may reach Discord: annotations, label values, log lines,
 * errors. Each rule finds one kind of secret by its shape or by the name it is given next to, and
 * replaces only the secret, so the line still says what happened. Masking twice changes nothing.
 */

/** What a masked secret becomes. */
export const REDACTED = '[redacted]';

type Replacer = (match: string, ...groups: string[]) => string;

/** One kind of secret: its shape and how the match is rewritten. */
interface MaskRule {
  name: string;
  pattern: RegExp;
  replace: string | Replacer;
}

/** Names whose value is a secret in `name=value`, `name: value`, `"name": "value"` pairs. */
const SECRET_NAME =
  '[\\w.-]*?(?:passw(?:or)?d|passwd|pwd|passphrase|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|auth[_-]?key|credentials?|signature|session[_-]?id|client[_-]?secret)[\\w.-]*';
/** HTTP authentication schemes, kept in front of a masked credential. */
const AUTH_SCHEMES = 'Bearer|Basic|Digest|Bot|Token|Negotiate|NTLM|ApiKey';
/** Between the name and the value: optional closing quote of a JSON key, then = : or =>. */
const PAIR_SEPARATOR = '(\\\\?["\']?\\s*(?:=>|[:=])\\s*)';

/** Standard base64 of a `user:password` pair: length a multiple of 4, not a plain lowercase word. */
function looksLikeBasicCredentials(token: string): boolean {
  return token.length % 4 === 0 && /[0-9+/=A-Z]/.test(token);
}

/** A 40-character AWS secret access key mixes upper case, lower case and digits; a git sha does not. */
function looksLikeAwsSecret(token: string): boolean {
  return /[a-z]/.test(token) && /[A-Z]/.test(token) && /[0-9]/.test(token);
}

/** The rules, in order: whole-token shapes first, so a later name=value rule finds them already masked. */
const RULES: readonly MaskRule[] = [
  {
    name: 'private key block',
    pattern: /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----[\s\S]*?(-----END \1PRIVATE KEY-----|$)/g,
    // A block cut short (a long line split by the log agent) is masked to its end.
    replace: (_m, kind: string, end: string) => `-----BEGIN ${kind}PRIVATE KEY----- ${REDACTED}${end ? ` ${end}` : ''}`,
  },
  { name: 'JWT', pattern: /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, replace: REDACTED },
  {
    name: 'AWS access key id',
    pattern: /\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z0-9]{16}\b/g,
    replace: REDACTED,
  },
  {
    name: 'AWS secret access key',
    pattern: /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g,
    replace: (m) => (looksLikeAwsSecret(m) ? REDACTED : m),
  },
  { name: 'GitHub token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})/g, replace: REDACTED },
  { name: 'Slack token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, replace: REDACTED },
  { name: 'Google API key', pattern: /\bAIza[0-9A-Za-z_-]{35}/g, replace: REDACTED },
  { name: 'Stripe key', pattern: /\b[rs]k_(?:live|test)_[0-9A-Za-z]{16,}/g, replace: REDACTED },
  // The whole user-info part goes: a lone user name in a URL is often a token (https://<token>@github.com).
  { name: 'URL credentials', pattern: /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, replace: '$1' },
  {
    name: 'Authorization header',
    pattern: new RegExp(
      `\\b((?:proxy-)?authorization)(\\\\?["']?\\s*[:=]\\s*\\\\?["']?)((?:${AUTH_SCHEMES})\\s+)?(?!\\[redacted\\]|(?:${AUTH_SCHEMES})\\s)[^\\s"',;]+`,
      'gi',
    ),
    replace: `$1$2$3${REDACTED}`,
  },
  {
    name: 'Bearer token',
    pattern: /\b(Bearer|Bot)\s+(?!\[redacted\])([A-Za-z0-9._~+/-]{8,}=*)/gi,
    // A token is random: it has a digit or is long; "Bearer authentication failed" keeps its words.
    replace: (m, scheme: string, token: string) => (/\d/.test(token) || token.length >= 20 ? `${scheme} ${REDACTED}` : m),
  },
  {
    name: 'Basic credentials',
    pattern: /\b(Basic)\s+([A-Za-z0-9+/]{6,}={0,2})(?![A-Za-z0-9+/=])/g,
    replace: (m, scheme: string, token: string) => (looksLikeBasicCredentials(token) ? `${scheme} ${REDACTED}` : m),
  },
  { name: 'Cookie header', pattern: /\b((?:set-)?cookie)(\s*:[ \t]*)(?![ \t]|\[redacted\])[^\r\n]+/gi, replace: `$1$2${REDACTED}` },
  {
    name: 'quoted secret pair',
    pattern: new RegExp(`(?<![\\w.-])(${SECRET_NAME})${PAIR_SEPARATOR}(\\\\?["'])(?!\\[redacted\\])((?:(?!\\3).)+?)\\3`, 'gi'),
    replace: `$1$2$3${REDACTED}$3`,
  },
  {
    name: 'secret pair',
    // An unterminated quote still opens the value: the quote is kept, what follows is masked. A `&`
    // ends the value only where the next query parameter starts (a password may hold one).
    pattern: new RegExp(`(?<![\\w.-])(${SECRET_NAME})${PAIR_SEPARATOR}(\\\\?["']?)(?!\\[redacted\\]|\\\\)(?:[^\\s"'&,;}\\]]|&(?!\\w+=))+`, 'gi'),
    replace: `$1$2$3${REDACTED}`,
  },
  { name: 'Discord webhook', pattern: /(\/api\/webhooks\/\d+\/)[\w-]+/gi, replace: `$1${REDACTED}` },
  { name: 'Slack webhook', pattern: /(hooks\.slack\.com\/services\/)[\w/]+/gi, replace: `$1${REDACTED}` },
];

/**
 * Masks secrets in free text: private key blocks, JWTs, AWS access keys and secret keys, GitHub,
 * Slack, Google and Stripe tokens, `user:pass@` in URLs, Authorization/Bearer/Basic credentials,
 * cookies, `password=`/`secret=`/`token=`-style pairs (quoted or not, JSON too) and Discord/Slack
 * webhook paths. The rest of the text is kept.
 */
export function maskSecrets(text: string): string {
  let out = text;
  for (const { pattern, replace } of RULES) out = typeof replace === 'string' ? out.replace(pattern, replace) : out.replace(pattern, replace);
  return out;
}

/** The names of the kinds of secret {@link maskSecrets} knows, in the order it applies them. */
export const MASKED_KINDS: readonly string[] = RULES.map((r) => r.name);
