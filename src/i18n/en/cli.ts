/** English messages: cli. Keys start with `cli.`; values are ICU MessageFormat. */
export const cli = {
  // Usage and help: `vigil --help`, `vigil <command> --help`.
  'cli.usage': `Usage: vigil <command> [--config FILE]

Commands:
  serve              run the bot: webhook intake, enrichment, Discord delivery, slash commands
                     (--preview: no Discord; every message shown at http://127.0.0.1:8080/preview)
  check-config       validate the config file and print a summary (exit 1 on errors)
  register-commands  register the slash commands with Discord (bulk overwrite);
                     --guild ID (or discord.guildId) registers them in one guild, instantly
  test-alert         send a test alert to the running bot's webhook (--resolve resolves it;
                     --url URL when the bot is not on this machine's server.port)

Options: --config FILE (or VIGIL_CONFIG), --help, --version.
"vigil <command> --help" says more about one command.`,
  'cli.help.serve': `Usage: vigil serve --config FILE [--preview]

Runs the bot: takes Grafana and Alertmanager webhooks on server.port, enriches each alert from
Prometheus, Loki and Grafana, posts it to Discord and answers the slash commands. Stops on
SIGTERM or SIGINT; alerts not yet delivered are kept and sent after the next start.

--preview (or discord.mode: preview) needs no Discord token, application or channel: every
message, edit, thread note and chart is shown at GET /preview instead (basic auth: any user, the
webhook token as password). Without --config it watches Prometheus at localhost:9090 and Loki at
localhost:3100 (PROMETHEUS_URL, LOKI_URL), keeps its store in ./data/vigil-preview.db (VIGIL_DB)
and listens on 127.0.0.1:8080 (VIGIL_HOST, VIGIL_PORT), without a credential unless
VIGIL_WEBHOOK_TOKEN is set.`,
  'cli.help.checkConfig': `Usage: vigil check-config --config FILE [--online]

Validates the config file (with $'{VAR}' taken from the environment) and prints a summary without
secrets, then any warnings. Exit 0 when valid; 1 with every error, each naming its key.
--online also reaches every backend (Prometheus, Loki, Alertmanager, Grafana and its alert rules)
and Discord (the token, and each channel: visible, and the bot may send messages, embed links,
attach files, create threads), saying what is missing; exit 1 when something is.`,
  'cli.help.registerCommands': `Usage: vigil register-commands --config FILE [--guild ID]

Registers Vigil's slash commands with Discord (bulk overwrite). --guild ID (or discord.guildId)
registers them in one guild, where they appear at once; without it they are global.`,
  'cli.help.testAlert': `Usage: vigil test-alert --config FILE [--resolve] [--url URL]

Sends a firing test alert to the running bot's own webhook, as Alertmanager would; run it again
with --resolve to resolve it. --url URL when the bot does not listen on this machine's server.port.
Without --config it reaches \`vigil serve --preview\` run without one (127.0.0.1:8080, with
VIGIL_WEBHOOK_TOKEN when set).`,

  // Command line errors.
  'cli.error.unknownOption': 'unknown option {option}',
  'cli.error.commandLine': 'could not read the command line',
  'cli.error.unknownCommand': 'unknown command "{command}"',
  'cli.error.notAnOption': '{options}: not an option of {command}',
  'cli.error.noConfig': 'no config file: pass --config FILE or set VIGIL_CONFIG',
  'cli.error.noConfigServe': 'no config file: pass --config FILE or set VIGIL_CONFIG (or try Vigil without Discord: vigil serve --preview)',

  // Loading the config.
  'cli.config.unreadable': 'cannot read config file {path}: {code}',
  'cli.config.invalid': '{source}: {count, plural, one {# error} other {# errors}}',
  'cli.config.previewSettings': 'preview settings',
  'cli.config.ok': '{path}: OK',

  // The summary of `vigil check-config`: each line is `<config key>: <this>`.
  'cli.summary.set': 'set',
  'cli.summary.notSet': 'not set',
  'cli.summary.off': 'off',
  'cli.summary.notConfigured': 'not configured',
  'cli.summary.server': '{address} (body limit {bytes, plural, one {# byte} other {# bytes}})',
  'cli.summary.webhook': 'token {token}, HMAC {hmac}',
  'cli.summary.insecure': ', INSECURE (no auth required)',
  'cli.summary.withLinks': '{url} (links: {publicUrl})',
  'cli.summary.grafana': '{address}, rule lookup {lookup}',
  'cli.summary.ruleLookup.token': 'with a service account token',
  'cli.summary.ruleLookup.user': 'as user {user}',
  'cli.summary.ruleLookup.off': 'off (set grafana.token, or grafana.user and grafana.password)',
  'cli.summary.discordPreview': 'preview mode: nothing is sent to Discord, every message is shown at GET /preview, {threads}',
  'cli.summary.discord': '{mode} mode, application {applicationId}, alert channel {channelId}, {threads}, API {api}, token {token}',
  'cli.summary.threads': 'a thread per incident',
  'cli.summary.noThreads': 'replies, no threads',
  'cli.summary.noRoutes': 'none: every alert goes to the alert channel',
  'cli.summary.route': '{name} -> channel {channelId}: {how}{pages}{escalates}, URL {url}',
  'cli.summary.route.matchersContinue': '{matchers}, continue',
  'cli.summary.route.byUrl': 'by URL only',
  'cli.summary.route.pages': ', pages {people}',
  'cli.summary.route.pagesOn': ', pages {people} on {severities}',
  'cli.summary.route.pagesNoOne': ', pages no one',
  'cli.summary.route.escalates': ', escalates to {people} after {after} (up to {repeat, number}×)',
  'cli.summary.roles': '{count, plural, one {# role} other {# roles}}',
  'cli.summary.users': '{count, plural, one {# user} other {# users}}',
  'cli.summary.enrichment': 'lookback {lookback}, log window ±{logWindow}, timeout {timeout}',
  'cli.summary.charts': '{width}×{height}, budget {budget}',
  'cli.summary.watchdog': 'every {interval}, alert after {failures, plural, one {# failure} other {# failures}}{channel}{heartbeat}',
  'cli.summary.watchdog.channel': ' in channel {channelId}',
  'cli.summary.watchdog.heartbeat': ', heartbeat {alertname} within {maxSilence}',
  'cli.summary.snapshots': '"{schedule}" {timezone}, keep {retain, number}{prune}',
  'cli.summary.snapshots.prune': ', prune in {dir}',

  // Warnings about a valid config.
  'cli.warning.reminderGap':
    "warning: delivery.reminderMinGap is {gap}: a sender's retry or an HA peer's copy that late is taken for a still-firing reminder (and pages again where mentions.onRepeat is set); keep it at {min} or more, below your repeat_interval",
  'cli.warning.linkBase':
    'warning: {name} links: {base} is a bare host name (a compose service?) that a phone cannot open; set {name}.publicUrl to the address people open',

  // `vigil check-config --online`.
  'cli.online.header': 'online:',
  'cli.online.failed': '{count, plural, one {# check} other {# checks}} failed',
  'cli.online.passed': 'every check passed',
  'cli.online.grafanaRules': 'Grafana alert rules',
  'cli.online.grafanaRulesOff': 'not read (no grafana.token or grafana.user): Grafana alerts go without their rule',
  'cli.online.discordPreview': 'not contacted: preview mode shows every message at GET /preview instead',
  'cli.online.alertChannel': 'alert channel',
  'cli.online.routeChannel': 'route {route} channel',
  'cli.online.watchdogChannel': 'watchdog channel',
  'cli.online.digestChannel': 'digest channel',
  'cli.online.postgres': 'schema version {version}; replicas seen: {replicas}; leader: {leader}',
  'cli.online.noReplica': 'none yet',
  'cli.online.noLeader': 'none (no replica holds the lease)',
  'cli.summary.storageSqlite': 'SQLite {path} (one replica)',
  'cli.summary.storagePostgres': 'PostgreSQL {target} ({pool} connections per replica), leader lease {lease}',
  'cli.check.token': 'Discord token',
  'cli.check.tokenRefused': '{failure}: check discord.token (Developer Portal > Bot > Reset Token)',
  'cli.check.tokenValid': 'valid, bot {username} ({id})',
  'cli.check.notServerChannel': 'not a server channel: alerts need a text channel of a server',
  'cli.check.theChannel': 'the channel',
  'cli.check.lacks': "{channel}: the bot lacks {missing}: allow them for the bot (or its role) in the channel's permissions",
  'cli.check.may': '{channel}: the bot may {permissions}',
  'cli.check.unseen': '{failure}: the bot cannot see this channel; check the id, and that the bot is in its server',
  'cli.check.role': '{channel}: role {roleId}',
  'cli.check.roleMissing': "not a role of this channel's server: check the id in routes (right-click the role > Copy Role ID)",
  'cli.check.rolePinged': "@{role} is pinged by the bot's mentions",
  'cli.check.roleSilent':
    '@{role} would not be pinged: allow anyone to @mention it (Server Settings > Roles), or give the bot "Mention @everyone, @here, and All Roles" in this channel',
  // Discord's names of the permissions, as its settings show them.
  'cli.permission.viewChannel': 'View Channel',
  'cli.permission.sendMessages': 'Send Messages',
  'cli.permission.embedLinks': 'Embed Links',
  'cli.permission.attachFiles': 'Attach Files',
  'cli.permission.readMessageHistory': 'Read Message History',
  'cli.permission.createPublicThreads': 'Create Public Threads',
  'cli.permission.sendMessagesInThreads': 'Send Messages in Threads',

  // `vigil register-commands`.
  'cli.register.previewMode':
    'register-commands needs Discord: this config is in preview mode (no bot token); set discord.token, discord.applicationId and discord.mode',
  'cli.register.badGuild': '--guild: expected a guild id (a snowflake of 17-20 digits), got "{guild}"',
  'cli.register.inGuild': 'in guild {guildId}',
  'cli.register.globally': 'globally (may take up to an hour to show everywhere)',
  'cli.register.none': '(none: every command was removed)',
  'cli.register.done': 'registered {count, plural, one {# command} other {# commands}} {where}: {list}',
  'cli.register.failed': 'register-commands failed {where}: {error}',
  'cli.register.noList': 'Discord answered the bulk overwrite without a command list',

  // `vigil test-alert`, and the test alert itself.
  'cli.testAlert.previewPage': 'the preview page, {url}',
  'cli.testAlert.alertChannel': 'the alert channel',
  'cli.testAlert.accepted': 'test alert accepted by {target}: watch {where}',
  'cli.testAlert.resolveAccepted': 'test alert resolution accepted by {target}: watch {where}',
  'cli.testAlert.refused': 'test alert refused by {target}: HTTP {status} {body}',
  'cli.testAlert.unreachable': 'test alert could not reach {target}: {cause} (is `vigil serve` running?)',
  'cli.testAlert.summary': 'Test alert from `vigil test-alert`',
  'cli.testAlert.description': 'If you can read this in Discord, the path webhook → Vigil → Discord works. Run `vigil test-alert --resolve` to resolve it.',
} as const;
