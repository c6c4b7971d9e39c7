import { pino, stdSerializers, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/** Log paths that may carry a secret; pino replaces their values with "[redacted]". */
export const REDACT_PATHS = [
  'token',
  '*.token',
  '*.*.token',
  'password',
  '*.password',
  'hmacSecret',
  '*.hmacSecret',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
  'req.headers["x-grafana-alerting-signature"]',
  'webhookUrl',
  '*.webhookUrl',
  // A failed Discord request's error carries its URL and body: an interaction's token is in the URL.
  'err.url',
  'err.requestBody',
];

/** Creates the process logger: JSON lines, secrets redacted by path and by value. */
export function createLogger(opts: { level?: string; secrets?: readonly (string | undefined)[] } = {}, destination?: DestinationStream): Logger {
  const secrets = (opts.secrets ?? []).filter((s): s is string => typeof s === 'string' && s.length >= 8);
  return pino(
    {
      level: opts.level ?? 'info',
      base: { name: 'vigil' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: secrets.length
        ? {
            // Path redaction cannot see a secret echoed inside free text (an error message, a URL).
            log: (obj) => scrubObject(obj, secrets) as Record<string, unknown>,
          }
        : {},
      hooks: secrets.length
        ? {
            logMethod(args, method) {
              method.apply(this, args.map((a) => (typeof a === 'string' ? scrubSecrets(a, secrets) : a)) as Parameters<typeof method>);
            },
          }
        : {},
      serializers: { err: stdSerializers.err },
    },
    destination,
  );
}

/** Replaces every occurrence of each secret in `text` with "[redacted]". */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('[redacted]');
  return out;
}

function scrubObject(value: unknown, secrets: readonly string[], depth = 0): unknown {
  if (typeof value === 'string') return scrubSecrets(value, secrets);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    const copy: Record<string, unknown> = { type: value.name, message: scrubSecrets(value.message, secrets) };
    if (value.stack) copy.stack = scrubSecrets(value.stack, secrets);
    return copy;
  }
  if (Array.isArray(value)) return value.map((v) => scrubObject(v, secrets, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubObject(v, secrets, depth + 1)]));
}
