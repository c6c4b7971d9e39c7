import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { configSchema, type Config } from '../../src/config/schema.js';
import { checkWebhookAuth, type HeaderMap, type WebhookAuthResult } from '../../src/webhooks/auth.js';
import { fixtureBytes } from './fixtures.js';

const TOKEN = 'tok-0123456789abcdef-SECRET';
const SECRET = 'hmac-0123456789abcdef-SECRET';
const NOW = new Date('2026-11-21T09:00:00.000Z');
const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);
const BODY = fixtureBytes('grafana-firing.json');

/** Webhook config through the real schema, so defaults (header name, 5m skew) are Vigil's own. */
function webhookConfig(input: Record<string, unknown>): Config['webhook'] {
  return configSchema.shape.webhook.parse(input);
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
/** Grafana's signer (grafana/alerting http/hmac.go): hex HMAC-SHA256 of [timestamp ":"] body. */
const sign = (secret: string, body: Buffer | string, timestamp?: string) => {
  const h = createHmac('sha256', secret);
  if (timestamp !== undefined) h.update(`${timestamp}:`);
  return h.update(body).digest('hex');
};

const tokenOnly = webhookConfig({ token: TOKEN });
const withHmac = webhookConfig({ token: TOKEN, hmacSecret: SECRET });
const withTimestamp = webhookConfig({ token: TOKEN, hmacSecret: SECRET, hmacTimestampHeader: 'X-Grafana-Alerting-Timestamp' });
const insecure = webhookConfig({ insecure: true });
const insecureHmac = webhookConfig({ insecure: true, hmacSecret: SECRET });

const check = (headers: HeaderMap, cfg: Config['webhook'], body: Buffer = BODY): WebhookAuthResult =>
  checkWebhookAuth({ headers, rawBody: body, now: NOW }, cfg);

type Case = [string, HeaderMap, Config['webhook'], WebhookAuthResult, Buffer?];

const cases: Case[] = [
  ['bearer with the token', { authorization: `Bearer ${TOKEN}` }, tokenOnly, { ok: true, method: 'bearer' }],
  ['bearer scheme in any case', { authorization: `bearer ${TOKEN}` }, tokenOnly, { ok: true, method: 'bearer' }],
  ['bearer with a wrong token', { authorization: 'Bearer not-the-token' }, tokenOnly, { ok: false, reason: 'invalid bearer token' }],
  ['bearer with the token plus a suffix', { authorization: `Bearer ${TOKEN}x` }, tokenOnly, { ok: false, reason: 'invalid bearer token' }],
  ['bearer with an empty token', { authorization: 'Bearer ' }, tokenOnly, { ok: false, reason: 'invalid bearer token' }],
  ['no credentials', {}, tokenOnly, { ok: false, reason: 'missing credentials' }],
  ['basic with the token as password', { authorization: basic('grafana', TOKEN) }, tokenOnly, { ok: true, method: 'basic' }],
  ['basic with an empty user name', { authorization: basic('', TOKEN) }, tokenOnly, { ok: true, method: 'basic' }],
  ['basic with a wrong password', { authorization: basic('grafana', 'nope') }, tokenOnly, { ok: false, reason: 'invalid basic credentials' }],
  ['basic with the token as user name', { authorization: basic(TOKEN, '') }, tokenOnly, { ok: false, reason: 'invalid basic credentials' }],
  ['basic that is not base64', { authorization: 'Basic !!!' }, tokenOnly, { ok: false, reason: 'malformed basic credentials' }],
  [
    'basic without a colon',
    { authorization: `Basic ${Buffer.from(TOKEN).toString('base64')}` },
    tokenOnly,
    { ok: false, reason: 'malformed basic credentials' },
  ],
  ['another scheme', { authorization: `Token ${TOKEN}` }, tokenOnly, { ok: false, reason: 'unsupported authorization scheme (expected Bearer or Basic)' }],
  ['the header name in canonical case', { Authorization: `Bearer ${TOKEN}` }, tokenOnly, { ok: true, method: 'bearer' }],
  [
    'an HMAC header when no secret is configured',
    { 'x-grafana-alerting-signature': sign(SECRET, BODY) },
    tokenOnly,
    { ok: false, reason: 'missing credentials' },
  ],
  ['an HMAC signature of the body', { 'x-grafana-alerting-signature': sign(SECRET, BODY) }, withHmac, { ok: true, method: 'hmac' }],
  ['an upper-case hex signature', { 'x-grafana-alerting-signature': sign(SECRET, BODY).toUpperCase() }, withHmac, { ok: true, method: 'hmac' }],
  ["Grafana's built-in default header", { 'x-grafana-alert-signature': sign(SECRET, BODY) }, withHmac, { ok: true, method: 'hmac' }],
  [
    'a signature of a tampered body',
    { 'x-grafana-alerting-signature': sign(SECRET, BODY) },
    withHmac,
    { ok: false, reason: 'invalid HMAC signature' },
    Buffer.concat([BODY, Buffer.from(' ')]),
  ],
  [
    'a signature made with another secret',
    { 'x-grafana-alerting-signature': sign(`${SECRET}x`, BODY) },
    withHmac,
    { ok: false, reason: 'invalid HMAC signature' },
  ],
  ['a truncated signature', { 'x-grafana-alerting-signature': sign(SECRET, BODY).slice(0, 63) }, withHmac, { ok: false, reason: 'invalid HMAC signature' }],
  [
    'a wrong bearer but a valid signature',
    { authorization: 'Bearer wrong', 'x-grafana-alerting-signature': sign(SECRET, BODY) },
    withHmac,
    { ok: true, method: 'hmac' },
  ],
  [
    'a valid bearer but a wrong signature',
    { authorization: `Bearer ${TOKEN}`, 'x-grafana-alerting-signature': '00' },
    withHmac,
    { ok: true, method: 'bearer' },
  ],
  [
    'a wrong bearer and a wrong signature',
    { authorization: 'Bearer wrong', 'x-grafana-alerting-signature': '00' },
    withHmac,
    { ok: false, reason: 'invalid bearer token' },
  ],
  [
    'a timestamped signature from now',
    { 'x-grafana-alerting-signature': sign(SECRET, BODY, String(NOW_SECONDS)), 'x-grafana-alerting-timestamp': String(NOW_SECONDS) },
    withTimestamp,
    { ok: true, method: 'hmac' },
  ],
  [
    'a timestamped signature 4m59s old',
    { 'x-grafana-alerting-signature': sign(SECRET, BODY, String(NOW_SECONDS - 299)), 'x-grafana-alerting-timestamp': String(NOW_SECONDS - 299) },
    withTimestamp,
    { ok: true, method: 'hmac' },
  ],
  [
    'a timestamped signature 5m1s old',
    { 'x-grafana-alerting-signature': sign(SECRET, BODY, String(NOW_SECONDS - 301)), 'x-grafana-alerting-timestamp': String(NOW_SECONDS - 301) },
    withTimestamp,
    { ok: false, reason: 'signature timestamp outside the allowed skew' },
  ],
  [
    'a timestamped signature 5m1s in the future',
    { 'x-grafana-alerting-signature': sign(SECRET, BODY, String(NOW_SECONDS + 301)), 'x-grafana-alerting-timestamp': String(NOW_SECONDS + 301) },
    withTimestamp,
    { ok: false, reason: 'signature timestamp outside the allowed skew' },
  ],
  [
    'a signature over the body alone when a timestamp is expected',
    { 'x-grafana-alerting-signature': sign(SECRET, BODY), 'x-grafana-alerting-timestamp': String(NOW_SECONDS) },
    withTimestamp,
    { ok: false, reason: 'invalid HMAC signature' },
  ],
  [
    'a timestamp changed after signing',
    { 'x-grafana-alerting-signature': sign(SECRET, BODY, String(NOW_SECONDS - 10)), 'x-grafana-alerting-timestamp': String(NOW_SECONDS) },
    withTimestamp,
    { ok: false, reason: 'invalid HMAC signature' },
  ],
  [
    'a missing timestamp',
    { 'x-grafana-alerting-signature': sign(SECRET, BODY, String(NOW_SECONDS)) },
    withTimestamp,
    { ok: false, reason: 'missing signature timestamp' },
  ],
  [
    'a timestamp in milliseconds',
    { 'x-grafana-alerting-signature': sign(SECRET, BODY, String(NOW.getTime())), 'x-grafana-alerting-timestamp': String(NOW.getTime()) },
    withTimestamp,
    { ok: false, reason: 'malformed signature timestamp (expected unix seconds)' },
  ],
  [
    'an RFC3339 timestamp',
    { 'x-grafana-alerting-signature': sign(SECRET, BODY, NOW.toISOString()), 'x-grafana-alerting-timestamp': NOW.toISOString() },
    withTimestamp,
    { ok: false, reason: 'malformed signature timestamp (expected unix seconds)' },
  ],
  ['insecure mode without credentials', {}, insecure, { ok: true, method: 'insecure' }],
  ['insecure mode with a stray Authorization header', { authorization: 'Bearer whatever' }, insecure, { ok: true, method: 'insecure' }],
  ['insecure mode with a secret and an unsigned body', {}, insecureHmac, { ok: true, method: 'insecure' }],
  ['insecure mode with a secret and a valid signature', { 'x-grafana-alerting-signature': sign(SECRET, BODY) }, insecureHmac, { ok: true, method: 'hmac' }],
  [
    'insecure mode with a secret and a forged signature',
    { 'x-grafana-alerting-signature': sign('forged-secret-0123456', BODY) },
    insecureHmac,
    { ok: false, reason: 'invalid HMAC signature' },
  ],
];

describe('checkWebhookAuth', () => {
  it.each(cases)('%s', (_name, headers, cfg, expected, body) => {
    expect(check(headers, cfg, body)).toEqual(expected);
  });

  it('needs the token even with insecure: true once a token is configured', () => {
    expect(check({}, webhookConfig({ token: TOKEN, insecure: true }))).toEqual({ ok: false, reason: 'missing credentials' });
  });

  it('reads the signature from a custom header and not from the built-in one then', () => {
    const cfg = webhookConfig({ token: TOKEN, hmacSecret: SECRET, hmacHeader: 'X-Vigil-Sig' });
    expect(check({ 'x-vigil-sig': sign(SECRET, BODY) }, cfg)).toEqual({ ok: true, method: 'hmac' });
    expect(check({ 'x-grafana-alert-signature': sign(SECRET, BODY) }, cfg)).toEqual({ ok: false, reason: 'missing credentials' });
  });

  it('honours a configured skew', () => {
    const cfg = webhookConfig({ token: TOKEN, hmacSecret: SECRET, hmacTimestampHeader: 'X-Ts', hmacMaxSkew: '10s' });
    const at = (ts: number) => ({ 'x-grafana-alerting-signature': sign(SECRET, BODY, String(ts)), 'x-ts': String(ts) });
    expect(check(at(NOW_SECONDS - 10), cfg)).toEqual({ ok: true, method: 'hmac' });
    expect(check(at(NOW_SECONDS - 11), cfg)).toEqual({ ok: false, reason: 'signature timestamp outside the allowed skew' });
  });

  it('matches the RFC 4231 HMAC-SHA256 test vector (case 2), independent of our own signing helper', () => {
    const cfg: Config['webhook'] = { ...withHmac, hmacSecret: 'Jefe' };
    const signature = '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843';
    expect(check({ 'x-grafana-alerting-signature': signature }, cfg, Buffer.from('what do ya want for nothing?'))).toEqual({ ok: true, method: 'hmac' });
  });

  it('takes the first value of a repeated header', () => {
    expect(check({ 'x-grafana-alerting-signature': [sign(SECRET, BODY), 'junk'] }, withHmac)).toEqual({ ok: true, method: 'hmac' });
  });

  it.each(cases.filter(([, , , expected]) => !expected.ok))('never puts a credential in the reason: %s', (_name, headers, cfg, _expected, body) => {
    const result = check(headers, cfg, body);
    expect(result.ok).toBe(false);
    const reason = result.ok ? '' : result.reason;
    // The presented credentials: header values without an Authorization scheme word.
    const presented = Object.values(headers)
      .flat()
      .filter((v): v is string => typeof v === 'string')
      .map((v) => v.replace(/^(Bearer|Basic|Token) /i, ''));
    for (const secret of [TOKEN, SECRET, 'SECRET', ...presented]) {
      if (secret.length >= 4) expect(reason).not.toContain(secret);
    }
  });
});
