// The field types every part of the config schema shares: ids, durations, numbers, switches.
import { z } from 'zod';
import { LOCALES, SNOWFLAKE } from '../model.js';
import { formatDuration, parseDuration } from './duration.js';

/** A Discord snowflake id, as a string (numbers lose precision past 2^53). */
export const snowflake = z
  .string({
    error: (iss) =>
      iss.input === undefined
        ? 'required: expected a snowflake string'
        : typeof iss.input === 'number'
          ? 'expected a snowflake string: quote the id ("123…") so YAML keeps every digit'
          : 'expected a snowflake string',
  })
  .regex(SNOWFLAKE, 'expected a snowflake string (17-20 digits)');

/** A Prometheus-style duration ("30s", "5m", "1h30m"), turned into milliseconds. */
export const duration = (min = 1, max = 365 * 86_400_000) =>
  z.string({ error: 'expected a duration like 30s, 5m or 1h' }).transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a duration like 30s, 5m or 1h, got "${text}"` });
      return z.NEVER;
    }
    if (ms < min || ms > max) {
      ctx.addIssue({ code: 'custom', message: `expected a duration between ${formatDuration(min)} and ${formatDuration(max)}, got "${text}"` });
      return z.NEVER;
    }
    return ms;
  });

/** An http(s) base URL; a trailing slash is dropped. */
export const baseUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).transform((u) => u.replace(/\/+$/, ''));

/**
 * A PostgreSQL connection URL (postgres:// or postgresql://). Errors never repeat the text: it
 * carries the password.
 */
export const postgresUrl = z.string({ error: 'expected a postgres:// URL' }).superRefine((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: 'expected a postgres://user:password@host:5432/database URL (this one does not parse; not shown: it may hold a password)',
    });
    return;
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    ctx.addIssue({ code: 'custom', message: `expected a postgres:// or postgresql:// URL, got a ${url.protocol}// one` });
  } else if (!url.hostname) {
    ctx.addIssue({ code: 'custom', message: 'expected a host in the postgres:// URL' });
  } else if (url.pathname.length <= 1) {
    ctx.addIssue({ code: 'custom', message: 'expected a database name in the postgres:// URL (…:5432/vigil)' });
  }
});

/** A Grafana uid (datasource, dashboard): letters, digits, - and _, at most 40. */
export const grafanaUid = z
  .string({ error: 'expected a Grafana uid' })
  .regex(/^[A-Za-z0-9_-]{1,40}$/, 'expected a Grafana uid: 1 to 40 letters, digits, - or _');

/** YAML or ${ENV} interpolation can give "true"/"8080" as strings. */
/** A language of Vigil's messages: `en` or `ko`. */
export const locale = z.enum(LOCALES, { error: `expected a language Vigil speaks: ${LOCALES.join(' or ')}` });

export const bool = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean({ error: 'expected true or false' }));
/** A whole number in min..max; every error says the range. */
export const int = (min: number, max: number) => {
  const range = `expected a whole number from ${min} to ${max}`;
  return z.preprocess(
    (v) => (typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v),
    z
      .number({ error: (iss) => (iss.input === undefined ? `required: ${range}` : `${range}, got ${JSON.stringify(iss.input)}`) })
      .int({ error: (iss) => `${range}, got ${String(iss.input)}` })
      .min(min, { error: (iss) => `${range}, got ${String(iss.input)}` })
      .max(max, { error: (iss) => `${range}, got ${String(iss.input)}` }),
  );
};
