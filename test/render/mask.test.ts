import { describe, expect, it } from 'vitest';
import { MASKED_KINDS, maskSecrets, REDACTED } from '../../src/render/mask.js';

// Fake secrets with the shapes of real ones (AWS's documented example keys, a well-formed JWT, …).
const AWS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const AWS_TEMP_KEY_ID = 'ASIAY34FZKBOKMUTVV7A';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const GITHUB_TOKEN = 'ghp_R7mQ2xK9vL4nT8pW3sY6zA1bC5dE0fG2hJ4k';
const SLACK_TOKEN = 'xoxb-2734562845-4829384756123-Zk3mPq9RtW2xYv8NcB4LdF6s';
const GOOGLE_KEY = 'AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY';
const STRIPE_KEY = 'sk_live_51HqLyjWDarjtT1zdp7dcXk9';
const OPAQUE_TOKEN = 'a8f5f167f44f4964e6c998dee827110c';
const PEM = [
  '-----BEGIN RSA PRIVATE KEY-----',
  'MIIEowIBAAKCAQEAx4UbaDzY5xjDqZ3e8yQz0fXj1VvKq9cS8s1Jm3a6v5bUu0wR',
  'kP2oNfYc9aT7hG1eL3dW5rQ8mZ4xV6yB0nC2sD7fJ9gH1kL3mN5pQ7rS9tU1vW3x',
  '-----END RSA PRIVATE KEY-----',
].join('\n');

describe('maskSecrets', () => {
  it.each([
    ['a password in a URL', 'dial postgres://orders:S3cr3t-P4ss@db-1:5432/orders failed', 'dial postgres://db-1:5432/orders failed', ['S3cr3t-P4ss']],
    ['a token as the URL user', 'fetch https://ghp_token123@github.example/acme/api.git', 'fetch https://github.example/acme/api.git', ['ghp_token123']],
    ['a bearer token', `GET /api/orders Authorization: Bearer ${OPAQUE_TOKEN}`, `GET /api/orders Authorization: Bearer ${REDACTED}`, [OPAQUE_TOKEN]],
    ['a bearer token without a header name', `upstream sent "Bearer ${OPAQUE_TOKEN}"`, `upstream sent "Bearer ${REDACTED}"`, [OPAQUE_TOKEN]],
    ['a basic-auth header', 'authorization: Basic b3JkZXJzOlMzY3IzdC1QNHNz', `authorization: Basic ${REDACTED}`, ['b3JkZXJzOlMzY3IzdC1QNHNz']],
    ['a basic-auth value alone', 'retrying with Basic b3JkZXJzOlMzY3IzdC1QNHNz', `retrying with Basic ${REDACTED}`, ['b3JkZXJzOlMzY3IzdC1QNHNz']],
    ['password=', 'login failed password=hunter2 user=bob', `login failed password=${REDACTED} user=bob`, ['hunter2']],
    ['passwd:', 'MYSQL_ROOT_PASSWD: Tr0ub4dor&3', `MYSQL_ROOT_PASSWD: ${REDACTED}`, ['Tr0ub4dor', '&3']],
    [
      'secret= in a query string',
      'POST /oauth/token?client_id=api&client_secret=9f8e7d6c5b4a&grant_type=x',
      `POST /oauth/token?client_id=api&client_secret=${REDACTED}&grant_type=x`,
      ['9f8e7d6c5b4a'],
    ],
    ['token= in a query string', 'GET /cb?code=1&access_token=ya29.a0AfH6SMB&state=x', `GET /cb?code=1&access_token=${REDACTED}&state=x`, ['ya29.a0AfH6SMB']],
    ['a quoted value with spaces', 'config loaded: password="correct horse battery staple" ok', `config loaded: password="${REDACTED}" ok`, ['correct horse']],
    ['a JSON secret', '{"user":"bob","api_key":"k-7Hq2Lp9Zx","level":"info"}', `{"user":"bob","api_key":"${REDACTED}","level":"info"}`, ['k-7Hq2Lp9Zx']],
    ['JSON inside a JSON string', '{"log":"{\\"password\\":\\"hunter2\\"}"}', `{"log":"{\\"password\\":\\"${REDACTED}\\"}"}`, ['hunter2']],
    ['a single-quoted secret', "vault: secret: 's3cr3t-v4lue'", `vault: secret: '${REDACTED}'`, ['s3cr3t-v4lue']],
    ['an unterminated quote', 'DB_PASSWORD="half-written', `DB_PASSWORD="${REDACTED}`, ['half-written']],
    ['an AWS access key id', `using key ${AWS_KEY_ID} for s3`, `using key ${REDACTED} for s3`, [AWS_KEY_ID]],
    ['an AWS temporary key id', `sts: ${AWS_TEMP_KEY_ID}`, `sts: ${REDACTED}`, [AWS_TEMP_KEY_ID]],
    ['an AWS secret key on its own', `creds ${AWS_KEY_ID} ${AWS_SECRET}`, `creds ${REDACTED} ${REDACTED}`, [AWS_SECRET]],
    ['an AWS secret key by name', `aws_secret_access_key = ${AWS_SECRET}`, `aws_secret_access_key = ${REDACTED}`, [AWS_SECRET]],
    ['a JWT', `session ${JWT} expired`, `session ${REDACTED} expired`, [JWT.slice(0, 20)]],
    ['a JWT as a token', `token=${JWT}`, `token=${REDACTED}`, [JWT.slice(0, 20)]],
    [
      'a private key block',
      `loaded key ${PEM} from disk`,
      `loaded key -----BEGIN RSA PRIVATE KEY----- ${REDACTED} -----END RSA PRIVATE KEY----- from disk`,
      ['MIIEowIBAAKCAQEA'],
    ],
    ['a private key cut short', '-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEF', `-----BEGIN PRIVATE KEY----- ${REDACTED}`, ['MIIEvQIBADAN']],
    ['a GitHub token', `git clone with ${GITHUB_TOKEN}`, `git clone with ${REDACTED}`, [GITHUB_TOKEN]],
    ['a Slack token', `slack: invalid_auth for ${SLACK_TOKEN}`, `slack: invalid_auth for ${REDACTED}`, [SLACK_TOKEN]],
    ['a Google API key', `maps ${GOOGLE_KEY}`, `maps ${REDACTED}`, [GOOGLE_KEY]],
    ['a Stripe key', `charge failed key=${STRIPE_KEY}`, `charge failed key=${REDACTED}`, [STRIPE_KEY]],
    ['a cookie header', 'Cookie: session=3f9a7c; theme=dark', `Cookie: ${REDACTED}`, ['3f9a7c']],
    [
      'a Discord webhook',
      'posted to https://discord.com/api/webhooks/123456/abcDEF-xyz',
      `posted to https://discord.com/api/webhooks/123456/${REDACTED}`,
      ['abcDEF-xyz'],
    ],
    [
      'a Slack webhook',
      'hook https://hooks.slack.com/services/T000/B000/XXXX failed',
      `hook https://hooks.slack.com/services/${REDACTED} failed`,
      ['T000/B000'],
    ],
  ])('masks %s', (_kind, text, masked, secrets) => {
    const out = maskSecrets(text);
    expect(out).toBe(masked);
    for (const secret of secrets) expect(out).not.toContain(secret);
    // Masking what is already masked changes nothing.
    expect(maskSecrets(out)).toBe(out);
  });

  it.each([
    'connection refused',
    'Bearer authentication failed for user api',
    'Basic authentication is disabled',
    'Failed password for root from 10.0.0.7 port 51234 ssh2',
    'commit 3f786850e387550fdab836ed7e6dc881de23001b deployed',
    'request 123e4567-e89b-12d3-a456-426614174000 took 12ms',
    '172.18.0.1 - - [21/Nov/2026:09:01:20 +0000] "GET /api/orders HTTP/1.1" 502 157 "-" "curl/8.5.0"',
    'tokens_total 5 of 10 used, api v1.4.2',
    'https://grafana.example/d/abc?orgId=1&from=now-1h',
  ])('leaves %j as it is', (text) => {
    expect(maskSecrets(text)).toBe(text);
  });

  it('knows every kind the issue names', () => {
    expect(MASKED_KINDS).toEqual(
      expect.arrayContaining([
        'private key block',
        'JWT',
        'AWS access key id',
        'AWS secret access key',
        'URL credentials',
        'Authorization header',
        'Bearer token',
        'Basic credentials',
        'secret pair',
      ]),
    );
  });

  it('masks every secret of a line that holds many', () => {
    const line = `user=bob password=hunter2 key=${AWS_KEY_ID} url=https://u:p4ss@h/x Authorization: Bearer ${OPAQUE_TOKEN} jwt ${JWT}`;
    const out = maskSecrets(line);
    for (const secret of ['hunter2', AWS_KEY_ID, 'p4ss', OPAQUE_TOKEN, JWT.slice(0, 20)]) expect(out).not.toContain(secret);
    expect(out).toContain('user=bob');
  });
});
