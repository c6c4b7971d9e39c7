import { z } from 'zod';
import { cronProblem, timeZoneProblem } from './cron.js';
import { formatDuration } from './duration.js';
import { baseUrl, bool, duration, grafanaUid, int, locale, postgresUrl, snowflake } from './fields.js';
import { routesSchema } from './routes.js';

/**
 * What RE2 (Loki's and Prometheus' regex engine) would refuse in `text`: unbalanced groups or
 * classes, a dangling escape, and what RE2 lacks (lookaround, backreferences); undefined when
 * none of that is there. RE2-only syntax (`[[:alpha:]]`, `\pL`, `(?P<n>…)`, `\Q…\E`) passes.
 */
function re2Problem(text: string): string | undefined {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') {
      const next = text[i + 1];
      if (next === undefined) return 'trailing backslash';
      if (!inClass && /[1-9]/.test(next)) return 'backreferences are not supported';
      if (next === 'Q') {
        const end = text.indexOf('\\E', i + 2);
        i = end < 0 ? text.length : end + 1;
        continue;
      }
      i++;
      continue;
    }
    if (inClass) {
      if (ch === '[' && text[i + 1] === ':') {
        const end = text.indexOf(':]', i + 2);
        if (end > 0) i = end + 1;
      } else if (ch === ']') inClass = false;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      // A `]` right after `[` or `[^` is a literal.
      if (text[i + 1] === ']') i++;
      else if (text[i + 1] === '^' && text[i + 2] === ']') i += 2;
    } else if (ch === '(') {
      if (/^\(\?(=|!|<=|<!)/.test(text.slice(i))) return 'lookaround is not supported';
      depth++;
    } else if (ch === ')') {
      if (--depth < 0) return 'unmatched )';
    }
  }
  if (inClass) return 'missing closing ]';
  if (depth > 0) return 'missing closing )';
  return undefined;
}

/** A regular expression as Loki and Prometheus take it (RE2), checked at load. */
const regex = z.string({ error: 'expected a regular expression' }).superRefine((text, ctx) => {
  const problem = re2Problem(text);
  if (problem) ctx.addIssue({ code: 'custom', message: `expected a regular expression, got ${JSON.stringify(text)}: ${problem}` });
});

/** Placeholder secrets from the README and the examples: never a real token. */
const PLACEHOLDERS = /^(change-?me|your-|x{3,}|<)/i;

/** Which alert label feeds which Loki stream label when building a log selector. */
export const DEFAULT_LOG_LABEL_MAP: Record<string, string> = {
  container: 'container_name',
  name: 'container_name',
  container_name: 'container_name',
  compose_service: 'compose_service',
  instance: 'host',
  host: 'host',
  job: 'job',
};

const serverSchema = z
  .strictObject({
    host: z.string().min(1).default('0.0.0.0'),
    port: int(0, 65535).default(8080),
    bodyLimit: int(1024, 64 * 1024 * 1024).default(4 * 1024 * 1024),
  })
  .prefault({});

const webhookSchema = z
  .strictObject({
    token: z
      .string()
      .min(16, 'expected a token of at least 16 characters')
      .refine((t) => !PLACEHOLDERS.test(t), 'expected a secret of your own, not the placeholder from the docs: generate one with openssl rand -hex 32')
      .optional(),
    insecure: bool.default(false),
    hmacSecret: z.string().min(16, 'expected a secret of at least 16 characters').optional(),
    hmacHeader: z.string().min(1).default('X-Grafana-Alerting-Signature'),
    /** When set, the signature covers `timestamp + ":" + body` and the timestamp comes from this header. */
    hmacTimestampHeader: z.string().min(1).optional(),
    /** How old a signed timestamp may be before the request is refused. */
    hmacMaxSkew: duration(1000).prefault('5m'),
  })
  .prefault({});

/** Host names that reach this machine only. */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '::1', 'localhost']);

/** The channel preview mode posts to when no discord.alertChannelId is given (preview needs no Discord). */
export const PREVIEW_CHANNEL_ID = '100000000000000001';
/** The application id preview mode stands in for. */
export const PREVIEW_APPLICATION_ID = '100000000000000002';

const discordSchema = z
  .strictObject({
    token: z.string({ error: 'expected the bot token' }).min(20, 'expected the bot token').optional(),
    applicationId: snowflake.optional(),
    alertChannelId: snowflake.optional(),
    apiBaseUrl: baseUrl.default('https://discord.com/api'),
    /**
     * gateway: a websocket connection out (works behind NAT); http: Discord POSTs to /interactions;
     * preview: no Discord at all, every message shown at GET /preview.
     */
    mode: z.enum(['gateway', 'http', 'preview'], { error: 'expected gateway, http or preview' }).default('gateway'),
    /** The application's public key (hex), to verify interaction signatures in http mode. */
    publicKey: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'expected the application public key: 64 hex characters')
      .optional(),
    /** Guild that register-commands targets by default (instant), instead of global commands. */
    guildId: snowflake.optional(),
    /**
     * One thread per incident, started on the alert message: details, acks, silences and the
     * resolve note go there (needs Create Public Threads and Send Messages in Threads); false: replies in the channel.
     */
    threads: bool.default(true),
  })
  .superRefine((d, ctx) => {
    if (d.mode === 'http' && !d.publicKey) {
      ctx.addIssue({
        code: 'custom',
        path: ['publicKey'],
        message: 'required when discord.mode is http: the application public key from the Developer Portal (General Information)',
      });
    }
    if (d.mode === 'preview') return;
    // Preview mode talks to no Discord; the other modes need the bot's identity and its channel.
    const missing: Array<[key: string, message: string]> = [
      ['token', 'required: expected the bot token (Developer Portal > Bot), or discord.mode: preview to try Vigil without Discord'],
      ['applicationId', 'required: expected a snowflake string (Developer Portal > General Information > Application ID)'],
      ['alertChannelId', 'required: expected a snowflake string (the channel alerts go to: right-click it > Copy Channel ID)'],
    ];
    for (const [key, message] of missing) {
      if (d[key as 'token' | 'applicationId' | 'alertChannelId'] === undefined) ctx.addIssue({ code: 'custom', path: [key], message });
    }
  })
  // Downstream code always has an id and a token (empty in preview, where nothing is sent to Discord).
  .transform((d) => ({
    ...d,
    token: d.token ?? '',
    applicationId: d.applicationId ?? PREVIEW_APPLICATION_ID,
    alertChannelId: d.alertChannelId ?? PREVIEW_CHANNEL_ID,
  }));

/** Role allow lists per command name (or "buttons"); a command not listed is open to everyone. */
const commandsSchema = z
  .strictObject({
    /** Default of the `ephemeral` option for commands whose replies may hold sensitive data (logs, queries). */
    ephemeral: bool.default(true),
    permissions: z.record(z.string().regex(/^[a-z0-9_-]{1,32}$/, 'expected a command name or button action'), z.array(snowflake)).default({}),
  })
  .prefault({});

const enrichmentSchema = z
  .strictObject({
    lookback: duration().prefault('30m'),
    logWindow: duration().prefault('5m'),
    timeout: duration(100, 120_000).prefault('5s'),
    /** Most recent log lines shown in an alert. */
    logLines: int(0, 20).default(5),
    /** LogQL regex line filter for error-like lines. */
    logFilter: regex.default('(?i)(error|exception|fatal|panic|critical|fail)'),
    logLabelMap: z.record(z.string(), z.string().regex(/^[a-zA-Z_]\w*$/, 'expected a Loki label name')).default(DEFAULT_LOG_LABEL_MAP),
    /** Alerts of one group that get their own queries; the rest are listed without enrichment. */
    maxAlerts: int(1, 25).default(5),
    /** Queries in flight at once per backend (Prometheus, Loki): a burst of alerts or commands waits its turn instead of piling onto them. */
    maxConcurrentQueries: int(1, 64).default(8),
  })
  .prefault({});

/** PNG charts on alert messages, /query ranges and /top. */
const chartsSchema = z
  .strictObject({
    enabled: bool.default(true),
    /** Wall time the rendering of a chart may take (its series come with the enrichment); over it the message goes out without it and says so. */
    budget: duration(50, 60_000).prefault('2s'),
    /** Image size in pixels. */
    width: int(320, 2000).default(800),
    height: int(200, 2000).default(400),
  })
  .prefault({});

const deliverySchema = z
  .strictObject({
    minBackoff: duration(10).prefault('1s'),
    maxBackoff: duration(1000).prefault('5m'),
    /** How often the outbox is polled when idle. */
    pollInterval: duration(10, 60_000).prefault('1s'),
    /** How long one Discord request may take before it counts as failed (and is tried again). */
    timeout: duration(100, 120_000).prefault('15s'),
    /**
     * A sender repeating an unchanged notification (Alertmanager's repeat_interval) at least this
     * long after the last copy sends a reminder: one "still firing" line in the incident's thread.
     * Sooner, it is a retry or an HA peer's copy, and dropped as a duplicate.
     */
    reminderMinGap: duration(1000, 7 * 86_400_000).prefault('5m'),
    /**
     * Storm mode per channel: when more than `threshold` new incidents would get a message of their
     * own within `window` (Discord lets a channel take about 10 new messages in 10 s, and the storm's own message, a critical alert and the closing summary need room too), the next ones
     * join one storm message instead, until none arrived for `quiet`. Critical alerts always get
     * their own message.
     */
    storm: z
      .strictObject({
        enabled: bool.default(true),
        threshold: int(1, 1000).default(6),
        window: duration(1000, 3_600_000).prefault('10s'),
        quiet: duration(1000, 86_400_000).prefault('2m'),
      })
      .prefault({}),
  })
  .superRefine((d, ctx) => {
    if (d.minBackoff > d.maxBackoff) {
      ctx.addIssue({
        code: 'custom',
        path: ['minBackoff'],
        message: `expected at most delivery.maxBackoff (${formatDuration(d.maxBackoff)}), got ${formatDuration(d.minBackoff)}`,
      });
    }
  })
  .prefault({});

/** A cron schedule (node-cron syntax, 5 or 6 fields) in a time zone. */
const cronField = z.string({ error: 'expected a cron expression like "0 9 * * *"' }).superRefine((expr, ctx) => {
  const problem = cronProblem(expr);
  if (problem) ctx.addIssue({ code: 'custom', message: `${problem}; expected e.g. "0 9 * * *"` });
});
const timeZone = z.string().superRefine((tz, ctx) => {
  const problem = timeZoneProblem(tz);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** Watches the monitoring stack itself; on by default. */
const watchdogSchema = z
  .strictObject({
    enabled: bool.default(true),
    interval: duration(5000, 3_600_000).prefault('1m'),
    failuresBeforeAlert: int(1, 100).default(3),
    /** Where outage alerts go; default discord.alertChannelId. */
    channelId: snowflake.optional(),
    /** Dead man's switch: an always-firing alert that must keep arriving. */
    heartbeat: z
      .strictObject({
        alertname: z.string().min(1).default('Watchdog'),
        maxSilence: duration(10_000).prefault('10m'),
      })
      .optional(),
  })
  .prefault({});

/** The daily digest post. */
const digestSchema = z.strictObject({
  enabled: bool.default(true),
  schedule: cronField.default('0 9 * * *'),
  timezone: timeZone.default('UTC'),
  /** Default discord.alertChannelId. */
  channelId: snowflake.optional(),
});

/** Scheduled Prometheus TSDB snapshots (needs --web.enable-admin-api). */
const snapshotsSchema = z.strictObject({
  enabled: bool.default(true),
  schedule: cronField.default('0 3 * * *'),
  timezone: timeZone.default('UTC'),
  /** Snapshots kept; older ones are deleted. */
  retain: int(1, 365).default(7),
  /** Prometheus' data directory as Vigil sees it (a shared volume), where snapshots/ lives: needed to prune. */
  dataDir: z.string().min(1).optional(),
});

/** The whole configuration file. */
export const configSchema = z
  .strictObject({
    server: serverSchema,
    webhook: webhookSchema,
    /** publicUrl: the address people open, for links shown in Discord; url is for API calls only. */
    prometheus: z.strictObject({ url: baseUrl, publicUrl: baseUrl.optional() }),
    loki: z.strictObject({ url: baseUrl }),
    alertmanager: z.strictObject({ url: baseUrl, publicUrl: baseUrl.optional() }).optional(),
    grafana: z
      .strictObject({
        url: baseUrl,
        /** The address people open Grafana at: every link shown in Discord; url is for API calls only. */
        publicUrl: baseUrl.optional(),
        /** Service account token: rule lookups, and silences through Grafana's built-in Alertmanager when no alertmanager.url is set. */
        token: z.string().min(8, 'expected a Grafana service account token').optional(),
        /** Basic auth for rule lookups instead of a token (the bundled stack's admin user). */
        user: z.string().min(1, 'expected a Grafana user name').optional(),
        password: z.string().min(1, 'expected a Grafana password').optional(),
        /** Datasource uid of Prometheus in Grafana (Explore links, rule queries); unset means 'prometheus', as the bundled stack provisions it. */
        prometheusUid: grafanaUid.optional(),
        /** Datasource uid of Loki in Grafana (Explore links, rule queries); unset means 'loki'. */
        lokiUid: grafanaUid.optional(),
        /** How long a looked-up alert rule is reused before it is read again. */
        ruleCacheTtl: duration(1000, 86_400_000).prefault('5m'),
      })
      .refine((g) => (g.user === undefined) === (g.password === undefined), {
        message: 'expected grafana.user and grafana.password together (basic auth), or neither',
        path: ['password'],
      })
      .optional(),
    /** The IANA time zone times are shown in where Discord cannot show the reader's own (chart axes, log lines), e.g. Asia/Seoul. */
    timezone: timeZone.default('UTC'),
    /** The language of messages in alert channels, of the CLI, and of command replies to a Discord client in a language Vigil does not speak. */
    locale: locale.default('en'),
    discord: discordSchema,
    /** Where alerts go and whom they page, by matchers or by webhook URL; alerts no route takes go to discord.alertChannelId. */
    routes: routesSchema,
    commands: commandsSchema,
    storage: z
      .strictObject({
        /** The embedded SQLite file, used when no `url` is given (one Vigil on one box). */
        path: z.string().min(1).default('./data/vigil.db'),
        /**
         * PostgreSQL shared by every replica (high availability); `path` is not used then. Empty is
         * unset: `url: ${VIGIL_DATABASE_URL:-}` keeps one config for both.
         */
        url: z.preprocess((v) => (v === '' ? undefined : v), postgresUrl.optional()),
        /** Connections each replica keeps open to PostgreSQL. */
        poolSize: int(2, 100).default(10),
      })
      .prefault({}),
    /** Several replicas on one PostgreSQL (storage.url): one leads (pipeline, delivery, schedules, watchdog, gateway), all take webhooks and interactions. */
    cluster: z
      .strictObject({
        /** How long the leader's lease lasts unrenewed: the longest its work waits for another replica after it dies. */
        leaseTtl: duration(1000, 300_000).prefault('15s'),
      })
      .prefault({}),
    enrichment: enrichmentSchema,
    charts: chartsSchema,
    delivery: deliverySchema,
    watchdog: watchdogSchema,
    digest: digestSchema.optional(),
    snapshots: snapshotsSchema.optional(),
    log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') }).prefault({}),
  })
  .superRefine((cfg, ctx) => {
    if (!cfg.webhook.token && !cfg.webhook.insecure) {
      ctx.addIssue({
        code: 'custom',
        path: ['webhook', 'token'],
        message: 'required: set webhook.token (for example ${VIGIL_WEBHOOK_TOKEN}), or webhook.insecure: true to accept unauthenticated webhooks',
      });
    }
    // The preview page shows every alert and log line: without a credential, only this machine may see it.
    if (cfg.discord.mode === 'preview' && !cfg.webhook.token && !LOOPBACK_HOSTS.has(cfg.server.host)) {
      ctx.addIssue({
        code: 'custom',
        path: ['server', 'host'],
        message: `preview mode without webhook.token listens on loopback only (127.0.0.1, ::1 or localhost), got ${cfg.server.host}: set webhook.token (VIGIL_WEBHOOK_TOKEN) to open it wider`,
      });
    }
  });

/** Validated configuration, durations in milliseconds. */
export type Config = z.output<typeof configSchema>;
