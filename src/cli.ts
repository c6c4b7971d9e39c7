#!/usr/bin/env node
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatDuration } from './config/duration.js';
import { loadConfig, previewConfig, type LoadResult } from './config/load.js';
import { formatMatcher } from './config/matchers.js';
import { threadsFor } from './config/routes.js';
import type { Config } from './config/schema.js';
import type { ChannelToCheck } from './discord/check.js';
import { SNOWFLAKE } from './model.js';
import { unreachableLinkBase } from './render/links.js';

const USAGE = `Usage: vigil <command> [--config FILE]

Commands:
  serve              run the bot: webhook intake, enrichment, Discord delivery, slash commands
                     (--preview: no Discord; every message shown at http://127.0.0.1:8080/preview)
  check-config       validate the config file and print a summary (exit 1 on errors)
  register-commands  register the slash commands with Discord (bulk overwrite);
                     --guild ID (or discord.guildId) registers them in one guild, instantly
  test-alert         send a test alert to the running bot's webhook (--resolve resolves it;
                     --url URL when the bot is not on this machine's server.port)

Options: --config FILE (or VIGIL_CONFIG), --help, --version.
"vigil <command> --help" says more about one command.`;

/** What `vigil <command> --help` prints, and the options each command takes. */
const COMMAND_HELP: Record<string, { options: string[]; text: string }> = {
  serve: {
    options: ['config', 'preview'],
    text: `Usage: vigil serve --config FILE [--preview]

Runs the bot: takes Grafana and Alertmanager webhooks on server.port, enriches each alert from
Prometheus, Loki and Grafana, posts it to Discord and answers the slash commands. Stops on
SIGTERM or SIGINT; alerts not yet delivered are kept and sent after the next start.

--preview (or discord.mode: preview) needs no Discord token, application or channel: every
message, edit, thread note and chart is shown at GET /preview instead (basic auth: any user, the
webhook token as password). Without --config it watches Prometheus at localhost:9090 and Loki at
localhost:3100 (PROMETHEUS_URL, LOKI_URL), keeps its store in ./data/vigil-preview.db (VIGIL_DB)
and listens on 127.0.0.1:8080 (VIGIL_HOST, VIGIL_PORT), without a credential unless
VIGIL_WEBHOOK_TOKEN is set.`,
  },
  'check-config': {
    options: ['config', 'online'],
    text: `Usage: vigil check-config --config FILE [--online]

Validates the config file (with \${VAR} taken from the environment) and prints a summary without
secrets, then any warnings. Exit 0 when valid; 1 with every error, each naming its key.
--online also reaches every backend (Prometheus, Loki, Alertmanager, Grafana and its alert rules)
and Discord (the token, and each channel: visible, and the bot may send messages, embed links,
attach files, create threads), saying what is missing; exit 1 when something is.`,
  },
  'register-commands': {
    options: ['config', 'guild'],
    text: `Usage: vigil register-commands --config FILE [--guild ID]

Registers Vigil's slash commands with Discord (bulk overwrite). --guild ID (or discord.guildId)
registers them in one guild, where they appear at once; without it they are global.`,
  },
  'test-alert': {
    options: ['config', 'resolve', 'url'],
    text: `Usage: vigil test-alert --config FILE [--resolve] [--url URL]

Sends a firing test alert to the running bot's own webhook, as Alertmanager would; run it again
with --resolve to resolve it. --url URL when the bot does not listen on this machine's server.port.
Without --config it reaches \`vigil serve --preview\` run without one (127.0.0.1:8080, with
VIGIL_WEBHOOK_TOKEN when set).`,
  },
};

/** The version in package.json, next to src/ and dist/ alike. */
function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** "http://grafana:3000 (links: https://grafana.example.org)": the API address and, when other, the one links use. */
function withLinks(b: { url: string; publicUrl?: string | undefined }): string {
  return b.publicUrl && b.publicUrl !== b.url ? `${b.url} (links: ${b.publicUrl})` : b.url;
}

/** How Grafana alert rules are read, or why they are not. */
function ruleLookupText(g: NonNullable<Config['grafana']>): string {
  if (g.token) return 'with a service account token';
  if (g.user !== undefined) return `as user ${g.user}`;
  return 'off (set grafana.token, or grafana.user and grafana.password)';
}

/** Below this, a retry or an HA peer's late copy may be taken for a reminder (and page again with mentions.onRepeat). */
const REMINDER_GAP_WARN_MS = 60_000;

/**
 * Warnings about a valid config: link bases a phone cannot open. Grafana's base is in every alert
 * message; Prometheus' and Alertmanager's only where their publicUrl is set (the bundled stack
 * publishes neither, and their own pages reach Discord only through the senders' links). A
 * reminder gap so short that retries would count as reminders.
 */
function configWarnings(config: Config): string[] {
  const gap = config.delivery.reminderMinGap;
  const reminders =
    gap < REMINDER_GAP_WARN_MS
      ? [
          `warning: delivery.reminderMinGap is ${formatDuration(gap)}: a sender's retry or an HA peer's copy that late is taken for a still-firing reminder (and pages again where mentions.onRepeat is set); keep it at 1m or more, below your repeat_interval`,
        ]
      : [];
  const bases: Array<[string, string | undefined]> = [
    ['grafana', config.grafana ? (config.grafana.publicUrl ?? config.grafana.url) : undefined],
    ['prometheus', config.prometheus.publicUrl],
    ['alertmanager', config.alertmanager?.publicUrl],
  ];
  const links = bases.flatMap(([name, base]) => {
    if (!base) return [];
    const why = unreachableLinkBase(base);
    return why ? [`warning: ${name} links: ${why}; set ${name}.publicUrl to the address people open`] : [];
  });
  return [...links, ...reminders];
}

/** The channels `check-config --online` checks, each once: the alert channel first, then each route's, the watchdog's and the digest's. */
export function onlineChannels(config: Config): ChannelToCheck[] {
  const all: ChannelToCheck[] = [
    { name: 'alert channel', id: config.discord.alertChannelId },
    ...config.routes.map((r) => ({
      name: `route ${r.name} channel`,
      id: r.channelId,
      threads: threadsFor(config, r.name),
      pings: [...(r.mentions?.roles ?? []), ...(r.escalation?.roles ?? [])],
    })),
    ...(config.watchdog.enabled && config.watchdog.channelId ? [{ name: 'watchdog channel', id: config.watchdog.channelId }] : []),
    ...(config.digest?.enabled && config.digest.channelId ? [{ name: 'digest channel', id: config.digest.channelId }] : []),
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

/** One line per route: where its alerts go, how it is chosen, whom it pages. */
function routeLines(config: Config): string[] {
  if (config.routes.length === 0) return ['routes:       none: every alert goes to the alert channel'];
  return config.routes.map((r, i) => {
    const how = r.matchers ? `{${r.matchers.map(formatMatcher).join(', ')}}${r.continue ? ', continue' : ''}` : 'by URL only';
    const people = (p: { roles: readonly string[]; users: readonly string[] }) =>
      [p.roles.length ? `${p.roles.length} role(s)` : '', p.users.length ? `${p.users.length} user(s)` : ''].filter(Boolean).join(' and ');
    const pages = r.mentions ? `, pages ${people(r.mentions)}${r.mentions.severities ? ` on ${r.mentions.severities.join('/')}` : ''}` : ', pages no one';
    const escalates = r.escalation ? `, escalates to ${people(r.escalation)} after ${formatDuration(r.escalation.after)} (up to ${r.escalation.repeat}×)` : '';
    return (
      `${i === 0 ? 'routes:' : ''}`.padEnd(14) +
      `${r.name} -> channel ${r.channelId}: ${how}${pages}${escalates}, URL /webhooks/{alertmanager,grafana}/${r.name}`
    );
  });
}

/** One-screen summary of a valid config, with no secret in it. */
export function summarise(config: Config): string {
  const set = (v: unknown) => (v ? 'set' : 'not set');
  return [
    `server:       ${config.server.host}:${config.server.port} (body limit ${config.server.bodyLimit} bytes)`,
    `webhook:      token ${set(config.webhook.token)}, HMAC ${set(config.webhook.hmacSecret)}${config.webhook.insecure ? ', INSECURE (no auth required)' : ''}`,
    `prometheus:   ${withLinks(config.prometheus)}`,
    `loki:         ${config.loki.url}`,
    `alertmanager: ${config.alertmanager ? withLinks(config.alertmanager) : 'not configured'}`,
    `grafana:      ${config.grafana ? `${withLinks(config.grafana)}, rule lookup ${ruleLookupText(config.grafana)}` : 'not configured'}`,
    config.discord.mode === 'preview'
      ? `discord:      preview mode: nothing is sent to Discord, every message is shown at GET /preview, ${config.discord.threads ? 'a thread per incident' : 'replies, no threads'}`
      : `discord:      ${config.discord.mode} mode, application ${config.discord.applicationId}, alert channel ${config.discord.alertChannelId}, ${config.discord.threads ? 'a thread per incident' : 'replies, no threads'}, API ${config.discord.apiBaseUrl}, token ${set(config.discord.token)}`,
    ...routeLines(config),
    `storage:      ${config.storage.path}`,
    `enrichment:   lookback ${formatDuration(config.enrichment.lookback)}, log window ±${formatDuration(config.enrichment.logWindow)}, timeout ${formatDuration(config.enrichment.timeout)}`,
    `charts:       ${config.charts.enabled ? `${config.charts.width}×${config.charts.height}, budget ${formatDuration(config.charts.budget)}` : 'off'}`,
    `watchdog:     ${config.watchdog.enabled ? `every ${formatDuration(config.watchdog.interval)}, alert after ${config.watchdog.failuresBeforeAlert} failures${config.watchdog.channelId ? ` in channel ${config.watchdog.channelId}` : ''}${config.watchdog.heartbeat ? `, heartbeat ${config.watchdog.heartbeat.alertname} within ${formatDuration(config.watchdog.heartbeat.maxSilence)}` : ''}` : 'off'}`,
    `digest:       ${config.digest?.enabled ? `"${config.digest.schedule}" ${config.digest.timezone}` : 'off'}`,
    `snapshots:    ${config.snapshots?.enabled ? `"${config.snapshots.schedule}" ${config.snapshots.timezone}, keep ${config.snapshots.retain}${config.snapshots.dataDir ? `, prune in ${config.snapshots.dataDir}` : ''}` : 'off'}`,
  ].join('\n');
}

/** Runs the CLI; returns the exit code (serve never returns until stopped). */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
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
    console.error(`${option ? `unknown option ${option}` : 'could not read the command line'}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.values.version) {
    console.log(`vigil ${version()}`);
    return 0;
  }
  const [command] = parsed.positionals;
  if (!command) {
    console.log(USAGE);
    return parsed.values.help ? 0 : 2;
  }
  const help = COMMAND_HELP[command];
  if (!help) {
    console.error(`unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(help.text);
    return 0;
  }
  const misplaced = (['guild', 'resolve', 'url', 'online', 'preview'] as const).filter((o) => parsed.values[o] !== undefined && !help.options.includes(o));
  if (misplaced.length) {
    console.error(`${misplaced.map((o) => `--${o}`).join(', ')}: not an option of ${command}\n\n${help.text}`);
    return 2;
  }
  const path = parsed.values.config ?? env.VIGIL_CONFIG;
  const preview = parsed.values.preview === true;
  // Preview and its test alert run without a file: Vigil tried before anything is set up.
  const fileless = !path && ((command === 'serve' && preview) || command === 'test-alert');
  if (!path && !fileless) {
    console.error(
      `no config file: pass --config FILE or set VIGIL_CONFIG${command === 'serve' ? ' (or try Vigil without Discord: vigil serve --preview)' : ''}`,
    );
    return 2;
  }
  const loaded: LoadResult = path ? loadConfig(path, env, { preview }) : previewConfig(env);
  if (!loaded.ok) {
    console.error(`${path ?? 'preview settings'}: ${loaded.errors.length} error(s)`);
    for (const e of loaded.errors) console.error(`  ${e}`);
    return 1;
  }
  if (command === 'check-config') {
    console.log(`${path}: OK\n${summarise(loaded.config)}`);
    for (const w of configWarnings(loaded.config)) console.log(w);
    return parsed.values.online ? onlineChecks(loaded.config) : 0;
  }
  if (command === 'register-commands') {
    if (loaded.config.discord.mode === 'preview') {
      console.error(
        'register-commands needs Discord: this config is in preview mode (no bot token); set discord.token, discord.applicationId and discord.mode',
      );
      return 1;
    }
    return registerCommandsCommand(loaded.config, parsed.values.guild);
  }
  if (command === 'test-alert') return testAlertCommand(loaded.config, parsed.values.resolve ?? false, parsed.values.url);
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
async function onlineChecks(config: Config): Promise<number> {
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
  const ready = async (what: string, r: Promise<{ ready: boolean; message: string }>) => {
    const { ready: ok, message } = await r;
    return { ok, what, detail: message };
  };
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
            ? ready('Grafana alert rules', ruleAccess(config.grafana, timeoutMs))
            : Promise.resolve({
                ok: true,
                what: 'Grafana alert rules',
                detail: 'not read (no grafana.token or grafana.user): Grafana alerts go without their rule',
              }),
        ]
      : []),
  ];
  const channels = onlineChannels(config);
  const rest = createRest({ token: config.discord.token, apiBaseUrl: config.discord.apiBaseUrl, timeoutMs });
  const discord =
    config.discord.mode === 'preview'
      ? [{ ok: true, what: 'Discord', detail: 'not contacted: preview mode shows every message at GET /preview instead' }]
      : await checkDiscord(rest, channels, config.discord.threads);
  const results = [...(await Promise.all(backends)), ...discord];
  const secrets = configSecrets(config);
  console.log('online:');
  for (const r of results) console.log(`  ${r.ok ? '✅' : '❌'} ${r.what}: ${scrubSecrets(r.detail, secrets)}`);
  const failed = results.filter((r) => !r.ok).length;
  console.log(failed ? `${failed} check(s) failed` : 'every check passed');
  return failed ? 1 : 0;
}

/** `vigil register-commands`: PUTs COMMANDS to Discord and prints the names it now holds. */
async function registerCommandsCommand(config: Config, guildOption: string | undefined): Promise<number> {
  if (guildOption !== undefined && !SNOWFLAKE.test(guildOption)) {
    console.error(`--guild: expected a guild id (a snowflake of 17-20 digits), got "${guildOption}"`);
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
  const where = guildId ? `in guild ${guildId}` : 'globally (may take up to an hour to show everywhere)';
  try {
    const rest = createRest({ token: config.discord.token, apiBaseUrl: config.discord.apiBaseUrl });
    const done = await registerCommands(rest, { applicationId: config.discord.applicationId, guildId, commands: COMMANDS });
    const list = done.names.length ? done.names.map((n) => `/${n}`).join(', ') : '(none: every command was removed)';
    console.log(`registered ${done.names.length} command(s) ${where}: ${list}`);
    return 0;
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    console.error(`register-commands failed ${where}: ${scrubSecrets(text, configSecrets(config))}`);
    return 1;
  }
}

/** `vigil test-alert`: posts a test alert (or its resolution) to the running bot. */
async function testAlertCommand(config: Config, resolved: boolean, url: string | undefined): Promise<number> {
  const { sendTestAlert, localWebhookUrl } = await import('./testalert.js');
  const target = url ?? localWebhookUrl(config);
  try {
    const res = await sendTestAlert(config, { resolved, ...(url ? { url } : {}) });
    if (res.status === 202) {
      const where =
        config.discord.mode === 'preview' && !url ? `the preview page, ${target.replace(/\/webhooks\/alertmanager$/, '/preview')}` : 'the alert channel';
      console.log(`test alert ${resolved ? 'resolution ' : ''}accepted by ${target}: watch ${where}`);
      return 0;
    }
    console.error(`test alert refused by ${target}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
    return 1;
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    const text = err instanceof Error ? err.message : String(err);
    console.error(`test alert could not reach ${target}: ${cause ?? text} (is \`vigil serve\` running?)`);
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
