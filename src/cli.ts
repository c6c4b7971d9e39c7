#!/usr/bin/env node
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig, previewConfig, type LoadResult } from './config/load.js';
import { formatMatcher } from './config/matchers.js';
import { threadsFor } from './config/routes.js';
import type { Config } from './config/schema.js';
import type { ChannelToCheck } from './discord/check.js';
import { formatDurationIn, translator, type Locale, type MessageKey, type T } from './i18n/index.js';
import { SNOWFLAKE } from './model.js';
import { unreachableLinkBase } from './render/links.js';
import { ruleAccessText } from './render/health.js';

/** What `vigil <command> --help` prints, and the options each command takes. */
const COMMAND_HELP: Record<string, { options: string[]; help: MessageKey }> = {
  serve: { options: ['config', 'preview'], help: 'cli.help.serve' },
  'check-config': { options: ['config', 'online'], help: 'cli.help.checkConfig' },
  'register-commands': { options: ['config', 'guild'], help: 'cli.help.registerCommands' },
  'test-alert': { options: ['config', 'resolve', 'url'], help: 'cli.help.testAlert' },
};

/**
 * The language of what `vigil` prints before a config says one (or when it cannot be read): the
 * first of LC_ALL, LC_MESSAGES and LANG that is set, Korean when it starts with "ko", else English.
 */
export function localeOfEnv(env: NodeJS.ProcessEnv): Locale {
  const value = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
  return value.toLowerCase().startsWith('ko') ? 'ko' : 'en';
}

/** The version in package.json, next to src/ and dist/ alike. */
function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** "http://grafana:3000 (links: https://grafana.example.org)": the API address and, when other, the one links use. */
function withLinks(t: T, b: { url: string; publicUrl?: string | undefined }): string {
  return b.publicUrl && b.publicUrl !== b.url ? t('cli.summary.withLinks', { url: b.url, publicUrl: b.publicUrl }) : b.url;
}

/** How Grafana alert rules are read, or why they are not. */
function ruleLookupText(t: T, g: NonNullable<Config['grafana']>): string {
  if (g.token) return t('cli.summary.ruleLookup.token');
  if (g.user !== undefined) return t('cli.summary.ruleLookup.user', { user: g.user });
  return t('cli.summary.ruleLookup.off');
}

/** Below this, a retry or an HA peer's late copy may be taken for a reminder (and page again with mentions.onRepeat). */
const REMINDER_GAP_WARN_MS = 60_000;

/**
 * Warnings about a valid config: link bases a phone cannot open. Grafana's base is in every alert
 * message; Prometheus' and Alertmanager's only where their publicUrl is set (the bundled stack
 * publishes neither, and their own pages reach Discord only through the senders' links). A
 * reminder gap so short that retries would count as reminders.
 */
function configWarnings(config: Config, locale: Locale): string[] {
  const t = translator(locale);
  const gap = config.delivery.reminderMinGap;
  const reminders =
    gap < REMINDER_GAP_WARN_MS
      ? [t('cli.warning.reminderGap', { gap: formatDurationIn(locale, gap), min: formatDurationIn(locale, REMINDER_GAP_WARN_MS) })]
      : [];
  const bases: Array<[string, string | undefined]> = [
    ['grafana', config.grafana ? (config.grafana.publicUrl ?? config.grafana.url) : undefined],
    ['prometheus', config.prometheus.publicUrl],
    ['alertmanager', config.alertmanager?.publicUrl],
  ];
  // unreachableLinkBase says why in English, for logs: here only whether, in the catalog's words.
  const links = bases.flatMap(([name, base]) => (base && unreachableLinkBase(base) ? [t('cli.warning.linkBase', { name, base })] : []));
  return [...links, ...reminders];
}

/** The channels `check-config --online` checks, each once: the alert channel first, then each route's, the watchdog's and the digest's. */
export function onlineChannels(config: Config, locale: Locale = config.locale): ChannelToCheck[] {
  const t = translator(locale);
  const all: ChannelToCheck[] = [
    { name: t('cli.online.alertChannel'), id: config.discord.alertChannelId },
    ...config.routes.map((r) => ({
      name: t('cli.online.routeChannel', { route: r.name }),
      id: r.channelId,
      threads: threadsFor(config, r.name),
      pings: [...(r.mentions?.roles ?? []), ...(r.escalation?.roles ?? [])],
    })),
    ...(config.watchdog.enabled && config.watchdog.channelId ? [{ name: t('cli.online.watchdogChannel'), id: config.watchdog.channelId }] : []),
    ...(config.digest?.enabled && config.digest.channelId ? [{ name: t('cli.online.digestChannel'), id: config.digest.channelId }] : []),
  ];
  const out: ChannelToCheck[] = [];
  for (const c of all) {
    const seen = out.find((o) => o.id === c.id);
    if (!seen) out.push(c);
    else if (c.pings?.length || (c.threads && !seen.threads)) {
      // Several routes in one channel: it needs what any of them needs.
      Object.assign(seen, {
        threads: (seen.threads ?? config.discord.threads) || (c.threads ?? false),
        pings: [...new Set([...(seen.pings ?? []), ...(c.pings ?? [])])],
      });
    }
  }
  return out;
}

/** A summary line: the config key, then what it says (the keys are YAML's, never translated). */
function summaryLine(key: string, text: string): string {
  return `${key ? `${key}:` : ''}`.padEnd(14) + text;
}

/** `user@host:port/database` of a PostgreSQL URL: what it names, without its password. */
export function postgresTarget(url: string): string {
  const u = new URL(url);
  return `${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}${u.pathname}`;
}

/** One line per route: where its alerts go, how it is chosen, whom it pages. */
function routeLines(config: Config, locale: Locale): string[] {
  const t = translator(locale);
  if (config.routes.length === 0) return [summaryLine('routes', t('cli.summary.noRoutes'))];
  // "2 roles and 1 user" / "역할 2개 및 사용자 1명": the language's own list joining.
  const and = new Intl.ListFormat(locale, { type: 'conjunction' });
  const people = (p: { roles: readonly string[]; users: readonly string[] }) =>
    and.format(
      [p.roles.length ? t('cli.summary.roles', { count: p.roles.length }) : '', p.users.length ? t('cli.summary.users', { count: p.users.length }) : ''].filter(
        Boolean,
      ),
    );
  return config.routes.map((r, i) => {
    const matchers = r.matchers ? `{${r.matchers.map(formatMatcher).join(', ')}}` : undefined;
    const how = matchers === undefined ? t('cli.summary.route.byUrl') : r.continue ? t('cli.summary.route.matchersContinue', { matchers }) : matchers;
    const pages = r.mentions
      ? r.mentions.severities
        ? t('cli.summary.route.pagesOn', { people: people(r.mentions), severities: r.mentions.severities.join('/') })
        : t('cli.summary.route.pages', { people: people(r.mentions) })
      : t('cli.summary.route.pagesNoOne');
    const escalates = r.escalation
      ? t('cli.summary.route.escalates', {
          people: people(r.escalation),
          after: formatDurationIn(locale, r.escalation.after),
          repeat: r.escalation.repeat,
        })
      : '';
    const url = `/webhooks/{alertmanager,grafana}/${r.name}`;
    return summaryLine(i === 0 ? 'routes' : '', t('cli.summary.route', { name: r.name, channelId: r.channelId, how, pages, escalates, url }));
  });
}

/** One-screen summary of a valid config, with no secret in it, in `locale` (default: the config's). */
export function summarise(config: Config, locale: Locale = config.locale): string {
  const t = translator(locale);
  const set = (v: unknown) => (v ? t('cli.summary.set') : t('cli.summary.notSet'));
  const duration = (ms: number) => formatDurationIn(locale, ms);
  const threads = config.discord.threads ? t('cli.summary.threads') : t('cli.summary.noThreads');
  const { watchdog, digest, snapshots } = config;
  return [
    summaryLine('server', t('cli.summary.server', { address: `${config.server.host}:${config.server.port}`, bytes: config.server.bodyLimit })),
    summaryLine(
      'webhook',
      t('cli.summary.webhook', { token: set(config.webhook.token), hmac: set(config.webhook.hmacSecret) }) +
        (config.webhook.insecure ? t('cli.summary.insecure') : ''),
    ),
    summaryLine('prometheus', withLinks(t, config.prometheus)),
    summaryLine('loki', config.loki.url),
    summaryLine('alertmanager', config.alertmanager ? withLinks(t, config.alertmanager) : t('cli.summary.notConfigured')),
    summaryLine(
      'grafana',
      config.grafana
        ? t('cli.summary.grafana', { address: withLinks(t, config.grafana), lookup: ruleLookupText(t, config.grafana) })
        : t('cli.summary.notConfigured'),
    ),
    summaryLine(
      'discord',
      config.discord.mode === 'preview'
        ? t('cli.summary.discordPreview', { threads })
        : t('cli.summary.discord', {
            mode: config.discord.mode,
            applicationId: config.discord.applicationId,
            channelId: config.discord.alertChannelId,
            threads,
            api: config.discord.apiBaseUrl,
            token: set(config.discord.token),
          }),
    ),
    ...routeLines(config, locale),
    summaryLine(
      'storage',
      config.storage.url
        ? t('cli.summary.storagePostgres', {
            target: postgresTarget(config.storage.url),
            pool: config.storage.poolSize,
            lease: duration(config.cluster.leaseTtl),
          })
        : t('cli.summary.storageSqlite', { path: config.storage.path }),
    ),
    summaryLine(
      'enrichment',
      t('cli.summary.enrichment', {
        lookback: duration(config.enrichment.lookback),
        logWindow: duration(config.enrichment.logWindow),
        timeout: duration(config.enrichment.timeout),
      }),
    ),
    summaryLine(
      'charts',
      config.charts.enabled
        ? t('cli.summary.charts', { width: config.charts.width, height: config.charts.height, budget: duration(config.charts.budget) })
        : t('cli.summary.off'),
    ),
    summaryLine(
      'watchdog',
      watchdog.enabled
        ? t('cli.summary.watchdog', {
            interval: duration(watchdog.interval),
            failures: watchdog.failuresBeforeAlert,
            channel: watchdog.channelId ? t('cli.summary.watchdog.channel', { channelId: watchdog.channelId }) : '',
            heartbeat: watchdog.heartbeat
              ? t('cli.summary.watchdog.heartbeat', { alertname: watchdog.heartbeat.alertname, maxSilence: duration(watchdog.heartbeat.maxSilence) })
              : '',
          })
        : t('cli.summary.off'),
    ),
    summaryLine('digest', digest?.enabled ? `"${digest.schedule}" ${digest.timezone}` : t('cli.summary.off')),
    summaryLine(
      'snapshots',
      snapshots?.enabled
        ? t('cli.summary.snapshots', {
            schedule: snapshots.schedule,
            timezone: snapshots.timezone,
            retain: snapshots.retain,
            prune: snapshots.dataDir ? t('cli.summary.snapshots.prune', { dir: snapshots.dataDir }) : '',
          })
        : t('cli.summary.off'),
    ),
  ].join('\n');
}

/** Reads and validates the config file at `path`; a file that cannot be read is said in `t`'s language. */
function loadFile(t: T, path: string, env: NodeJS.ProcessEnv, preview: boolean): LoadResult {
  const loaded = loadConfig(path, env, { preview });
  return loaded.ok || !loaded.unreadable ? loaded : { ok: false, errors: [t('cli.config.unreadable', loaded.unreadable)] };
}

/** Runs the CLI; returns the exit code (serve never returns until stopped). */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // Until a config names its language, the environment's.
  const envLocale = localeOfEnv(env);
  const early = translator(envLocale);
  const usage = early('cli.usage');
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        guild: { type: 'string' },
        resolve: { type: 'boolean' },
        url: { type: 'string' },
        online: { type: 'boolean' },
        preview: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      },
    });
  } catch (err) {
    // Node's own words ("Unknown option '--x'. To specify a positional argument…") said in ours.
    const option = /option '([^']+)'/.exec((err as Error).message)?.[1];
    console.error(`${option ? early('cli.error.unknownOption', { option }) : early('cli.error.commandLine')}\n\n${usage}`);
    return 2;
  }
  if (parsed.values.version) {
    console.log(`vigil ${version()}`);
    return 0;
  }
  const [command] = parsed.positionals;
  if (!command) {
    console.log(usage);
    return parsed.values.help ? 0 : 2;
  }
  const help = Object.hasOwn(COMMAND_HELP, command) ? COMMAND_HELP[command] : undefined;
  if (!help) {
    console.error(`${early('cli.error.unknownCommand', { command })}\n\n${usage}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(early(help.help));
    return 0;
  }
  const misplaced = (['guild', 'resolve', 'url', 'online', 'preview'] as const).filter((o) => parsed.values[o] !== undefined && !help.options.includes(o));
  if (misplaced.length) {
    console.error(`${early('cli.error.notAnOption', { options: misplaced.map((o) => `--${o}`).join(', '), command })}\n\n${early(help.help)}`);
    return 2;
  }
  const path = parsed.values.config ?? env.VIGIL_CONFIG;
  const preview = parsed.values.preview === true;
  // Preview and its test alert run without a file: Vigil tried before anything is set up.
  const fileless = !path && ((command === 'serve' && preview) || command === 'test-alert');
  if (!path && !fileless) {
    console.error(command === 'serve' ? early('cli.error.noConfigServe') : early('cli.error.noConfig'));
    return 2;
  }
  const loaded: LoadResult = path ? loadFile(early, path, env, preview) : previewConfig(env);
  if (!loaded.ok) {
    // Each error names an English YAML key, in the schema's words; the lines around them are ours.
    console.error(early('cli.config.invalid', { source: path ?? early('cli.config.previewSettings'), count: loaded.errors.length }));
    for (const e of loaded.errors) console.error(`  ${e}`);
    return 1;
  }
  // The file's language from here on; without a file nothing was configured: still the environment's.
  const locale = path ? loaded.config.locale : envLocale;
  const t = translator(locale);
  if (command === 'check-config') {
    console.log(`${t('cli.config.ok', { path: path ?? '' })}\n${summarise(loaded.config, locale)}`);
    for (const w of configWarnings(loaded.config, locale)) console.log(w);
    return parsed.values.online ? onlineChecks(loaded.config, locale) : 0;
  }
  if (command === 'register-commands') {
    if (loaded.config.discord.mode === 'preview') {
      console.error(t('cli.register.previewMode'));
      return 1;
    }
    return registerCommandsCommand(loaded.config, parsed.values.guild, locale);
  }
  if (command === 'test-alert') return testAlertCommand(loaded.config, parsed.values.resolve ?? false, parsed.values.url, locale);
  // Imported here so check-config stays light and cannot fail on the runtime's dependencies.
  const { startVigil } = await import('./main.js');
  const vigil = await startVigil(loaded.config);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      vigil.logger.info({ signal }, 'stopping');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await vigil.stop();
  return 0;
}

/** `check-config --online`: every backend and Discord, one line each; 1 when any check fails. */
async function onlineChecks(config: Config, locale: Locale): Promise<number> {
  const t = translator(locale);
  // Imported here so a plain check-config stays light.
  const [
    { createPrometheusClient },
    { createLokiClient },
    { createAlertmanagerClient },
    { readiness },
    { ruleAccess },
    { createRest },
    { checkDiscord },
    { scrubSecrets },
    { configSecrets },
  ] = await Promise.all([
    import('./queries/prometheus.js'),
    import('./queries/loki.js'),
    import('./queries/alertmanager.js'),
    import('./queries/prometheus.js'),
    import('./queries/grafana.js'),
    import('./discord/rest.js'),
    import('./discord/check.js'),
    import('./log.js'),
    import('./config/secrets.js'),
  ]);
  const timeoutMs = config.enrichment.timeout;
  // A backend's detail is its own answer (or the error reaching it), as it said it.
  const ready = async (what: string, r: Promise<{ ready: boolean; message: string }>) => {
    const { ready: ok, message } = await r;
    return { ok, what, detail: message };
  };
  const rules = t('cli.online.grafanaRules');
  const backends = [
    ready(`Prometheus ${config.prometheus.url}`, createPrometheusClient({ url: config.prometheus.url, timeoutMs }).ready()),
    ready(`Loki ${config.loki.url}`, createLokiClient({ url: config.loki.url, timeoutMs }).ready()),
    ...(config.alertmanager
      ? [ready(`Alertmanager ${config.alertmanager.url}`, createAlertmanagerClient({ url: config.alertmanager.url, timeoutMs }).ready())]
      : []),
    ...(config.grafana
      ? [
          ready(`Grafana ${config.grafana.url}`, readiness({ name: 'Grafana', url: config.grafana.url, timeoutMs }, '/api/health', { timeoutMs })),
          // Without credentials rule lookup is off by choice: said, not failed.
          config.grafana.token || config.grafana.user !== undefined
            ? ready(
                rules,
                ruleAccess(config.grafana, timeoutMs).then((r) => ruleAccessText(r, t)),
              )
            : Promise.resolve({ ok: true, what: rules, detail: t('cli.online.grafanaRulesOff') }),
        ]
      : []),
  ];
  const channels = onlineChannels(config, locale);
  const rest = createRest({ token: config.discord.token, apiBaseUrl: config.discord.apiBaseUrl, timeoutMs });
  const discord =
    config.discord.mode === 'preview'
      ? [{ ok: true, what: 'Discord', detail: t('cli.online.discordPreview') }]
      : await checkDiscord(rest, channels, config.discord.threads, locale);
  const storage = config.storage.url ? [await postgresCheck(config.storage.url, t)] : [];
  const results = [...storage, ...(await Promise.all(backends)), ...discord];
  const secrets = configSecrets(config);
  console.log(t('cli.online.header'));
  for (const r of results) console.log(`  ${r.ok ? '✅' : '❌'} ${r.what}: ${scrubSecrets(r.detail, secrets)}`);
  const failed = results.filter((r) => !r.ok).length;
  console.log(failed ? t('cli.online.failed', { count: failed }) : t('cli.online.passed'));
  return failed ? 1 : 0;
}

/** The online line of storage.url: its schema version, the replicas seen and who leads. */
async function postgresCheck(url: string, t: T): Promise<{ ok: boolean; what: string; detail: string }> {
  const { inspectCluster } = await import('./cluster/leader.js');
  const what = `PostgreSQL ${postgresTarget(url)}`;
  try {
    const seen = await inspectCluster(url);
    const replicas = seen.replicas.length ? seen.replicas.map((r) => `${r.id} (${r.host})`).join(', ') : t('cli.online.noReplica');
    return { ok: true, what, detail: t('cli.online.postgres', { version: seen.version, replicas, leader: seen.leaderId ?? t('cli.online.noLeader') }) };
  } catch (err) {
    return { ok: false, what, detail: err instanceof Error ? err.message : String(err) };
  }
}

/** `vigil register-commands`: PUTs COMMANDS to Discord and prints the names it now holds. */
async function registerCommandsCommand(config: Config, guildOption: string | undefined, locale: Locale): Promise<number> {
  const t = translator(locale);
  if (guildOption !== undefined && !SNOWFLAKE.test(guildOption)) {
    console.error(t('cli.register.badGuild', { guild: guildOption }));
    return 2;
  }
  const guildId = guildOption ?? config.discord.guildId;
  // Imported here so check-config stays light.
  const [{ COMMANDS }, { createRest }, { registerCommands }, { scrubSecrets }, { configSecrets }] = await Promise.all([
    import('./commands/index.js'),
    import('./discord/rest.js'),
    import('./discord/register.js'),
    import('./log.js'),
    import('./config/secrets.js'),
  ]);
  const where = guildId ? t('cli.register.inGuild', { guildId }) : t('cli.register.globally');
  try {
    const rest = createRest({ token: config.discord.token, apiBaseUrl: config.discord.apiBaseUrl });
    const done = await registerCommands(rest, { applicationId: config.discord.applicationId, guildId, commands: COMMANDS, locale });
    const list = done.names.length ? done.names.map((n) => `/${n}`).join(', ') : t('cli.register.none');
    console.log(t('cli.register.done', { count: done.names.length, where, list }));
    return 0;
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    console.error(t('cli.register.failed', { where, error: scrubSecrets(text, configSecrets(config)) }));
    return 1;
  }
}

/** `vigil test-alert`: posts a test alert (or its resolution) to the running bot. */
async function testAlertCommand(config: Config, resolved: boolean, url: string | undefined, locale: Locale): Promise<number> {
  const t = translator(locale);
  const { sendTestAlert, localWebhookUrl } = await import('./testalert.js');
  const target = url ?? localWebhookUrl(config);
  try {
    const res = await sendTestAlert(config, { resolved, ...(url ? { url } : {}) });
    if (res.status === 202) {
      const where =
        config.discord.mode === 'preview' && !url
          ? t('cli.testAlert.previewPage', { url: target.replace(/\/webhooks\/alertmanager$/, '/preview') })
          : t('cli.testAlert.alertChannel');
      console.log(t(resolved ? 'cli.testAlert.resolveAccepted' : 'cli.testAlert.accepted', { target, where }));
      return 0;
    }
    console.error(t('cli.testAlert.refused', { target, status: res.status, body: res.body.slice(0, 300) }));
    return 1;
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    const text = err instanceof Error ? err.message : String(err);
    console.error(t('cli.testAlert.unreachable', { target, cause: cause ?? text }));
    return 1;
  }
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`vigil: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
