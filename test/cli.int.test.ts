import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/commands/index.js';
import { startDiscordDouble, type DiscordDouble } from './support/discord-double.js';
import { startLokiDouble } from './support/loki-double.js';
import { eventually } from './support/eventually.js';
import { freePort } from './support/ports.js';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const WEBHOOK_TOKEN = 'cli-test-webhook-token-abcdef012345';
const HMAC_SECRET = 'cli-test-hmac-secret-abcdef0123456';
const DISCORD_TOKEN = 'MTIzNDU2Nzg5MDEyMzQ1Njc4.CliTst.cli-test-discord-token-0000000';
const SECRETS = [WEBHOOK_TOKEN, HMAC_SECRET, DISCORD_TOKEN];
/** The secrets reach the config through the environment, as in production. */
const SECRET_ENV = { T_WEBHOOK_TOKEN: WEBHOOK_TOKEN, T_HMAC_SECRET: HMAC_SECRET, T_DISCORD_TOKEN: DISCORD_TOKEN };

let dir: string;
let closedUrl: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
  closedUrl = `http://127.0.0.1:${await freePort()}`;
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A complete config; `webhook` replaces the webhook section, `apiBaseUrl` and `discordExtra` shape the discord one. */
function configText(opts: { port?: number; webhook?: string; name?: string; apiBaseUrl?: string; discordExtra?: string } = {}): string {
  return `server: { host: 127.0.0.1, port: ${opts.port ?? 8080} }
webhook: ${opts.webhook ?? '{ token: ${T_WEBHOOK_TOKEN}, hmacSecret: ${T_HMAC_SECRET} }'}
prometheus: { url: ${closedUrl} }
loki: { url: ${closedUrl} }
discord:
  token: \${T_DISCORD_TOKEN}
  applicationId: "123456789012345678"
  alertChannelId: "223456789012345678"
  apiBaseUrl: ${opts.apiBaseUrl ?? `${closedUrl}/api`}
${opts.discordExtra ?? ''}
storage: { path: ${join(dir, `${opts.name ?? 'vigil'}.db`)} }
enrichment: { timeout: 1s }
delivery: { pollInterval: 100ms }
`;
}

function writeConfig(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node --import tsx src/cli.ts ...args` from the repo root with only the given environment extras. */
function runCli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawnCli(args, env);
  return child.done;
}

function spawnCli(args: string[], env: Record<string, string>) {
  const baseEnv = { ...process.env, ...env };
  if (!('VIGIL_CONFIG' in env)) delete baseEnv['VIGIL_CONFIG'];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: REPO_ROOT,
    env: baseEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`vigil ${args.join(' ')} did not exit:\n${stdout}\n${stderr}`));
    }, 15_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, done, output: () => stdout + stderr };
}

function expectNoSecret(run: Run): void {
  for (const secret of SECRETS) {
    expect(run.stdout).not.toContain(secret);
    expect(run.stderr).not.toContain(secret);
  }
}

describe.concurrent('vigil check-config', () => {
  it('warns, and still exits 0, when delivery.reminderMinGap is so short that retries would count as reminders', async () => {
    const path = writeConfig(
      'short-gap.yaml',
      configText().replace('delivery: { pollInterval: 100ms }', 'delivery: { pollInterval: 100ms, reminderMinGap: 10s }'),
    );
    const run = await runCli(['check-config', '--config', path], SECRET_ENV);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "warning: delivery.reminderMinGap is 10s: a sender's retry or an HA peer's copy that late is taken for a still-firing reminder",
    );
    const fine = await runCli(['check-config', '--config', writeConfig('default-gap.yaml', configText())], SECRET_ENV);
    expect(fine.stdout).not.toContain('reminderMinGap');
  });

  it('exits 0 and prints the summary without any secret value', async () => {
    const path = writeConfig('valid.yaml', configText());
    const run = await runCli(['check-config', '--config', path], SECRET_ENV);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${path}: OK`);
    expect(run.stdout).toContain('server:       127.0.0.1:8080');
    expect(run.stdout).toContain('webhook:      token set, HMAC set');
    expect(run.stdout).toContain(`prometheus:   ${closedUrl}`);
    expect(run.stdout).toContain('token set');
    expect(run.stdout).toContain('enrichment:   lookback 30m');
    expectNoSecret(run);
  });

  it('says a preview config sends nothing to Discord, and --online does not contact it', async () => {
    const text = configText({ name: 'preview' }).replace(/^discord:[\s\S]*?(?=^storage:)/m, 'discord: { mode: preview }\n');
    const path = writeConfig('preview.yaml', text);
    const run = await runCli(['check-config', '--config', path], SECRET_ENV);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('discord:      preview mode: nothing is sent to Discord, every message is shown at GET /preview, a thread per incident');
    const online = await runCli(['check-config', '--online', '--config', path], SECRET_ENV);
    expect(online.stdout).toContain('✅ Discord: not contacted: preview mode shows every message at GET /preview instead');
    // Prometheus and Loki are still reached (nothing listens at their address here).
    expect(online.stdout).toMatch(/❌ Prometheus http:\/\/127\.0\.0\.1:\d+: /);
    expect(online.code).toBe(1);
    const register = await runCli(['register-commands', '--config', path], SECRET_ENV);
    expect(register.code).toBe(1);
    expect(register.stderr).toContain('register-commands needs Discord: this config is in preview mode');
  });

  it('reads the config file named by VIGIL_CONFIG when --config is absent', async () => {
    const path = writeConfig('from-env.yaml', configText());
    const run = await runCli(['check-config'], { ...SECRET_ENV, VIGIL_CONFIG: path });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${path}: OK`);
  });

  it('exits 1 and prints every error with its key path, without the secrets in the file', async () => {
    const path = writeConfig(
      'invalid.yaml',
      `server: { port: 70000 }
webhook: { token: short, hmacSecret: \${T_HMAC_SECRET} }
prometheus: { url: "ftp://prometheus:9090" }
discord:
  token: \${T_DISCORD_TOKEN}
  applicationId: 123456789012345678
  alertChannelId: "not-a-snowflake"
enrichment: { lookback: soon }
`,
    );
    const run = await runCli(['check-config', '--config', path], SECRET_ENV);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const expected = [
      'server.port: ',
      'webhook.token: expected a token of at least 16 characters',
      'prometheus.url: expected an http(s) URL',
      'loki: required',
      'discord.applicationId: expected a snowflake string: quote the id',
      'discord.alertChannelId: expected a snowflake string (17-20 digits)',
      'enrichment.lookback: expected a duration like 30s, 5m or 1h, got "soon"',
    ];
    for (const line of expected) expect(run.stderr).toContain(line);
    expect(run.stderr).toContain(`${path}: ${expected.length} error(s)`);
    expectNoSecret(run);
  });

  it('exits 1 naming the file when it cannot be read', async () => {
    const path = join(dir, 'missing.yaml');
    const run = await runCli(['check-config', '--config', path]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot read config file ${path}: ENOENT`);
  });

  it('exits 2 with a clear message without --config and without VIGIL_CONFIG', async () => {
    const run = await runCli(['check-config']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no config file: pass --config FILE or set VIGIL_CONFIG');
  });
});

describe.concurrent('vigil usage', () => {
  it.each([
    ['an unknown command', ['frobnicate'], 2, 'unknown command "frobnicate"'],
    ['no command', [], 2, 'Usage: vigil <command>'],
    ['an unknown option', ['check-config', '--nope'], 2, 'unknown option --nope'],
  ])('exits 2 with usage for %s', async (_name, args, code, message) => {
    const run = await runCli(args);
    expect(run.code).toBe(code);
    const output = run.stdout + run.stderr;
    expect(output).toContain(message);
    expect(output).toContain('Usage: vigil <command> [--config FILE]');
    expect(output).toContain('check-config');
  });

  it('prints usage and exits 0 for --help', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: vigil <command> [--config FILE]');
  });

  it("says an unknown option in its own words, not Node's", async () => {
    const run = await runCli(['--nope']);
    expect(run.stderr).not.toMatch(/To specify a positional argument|ERR_PARSE_ARGS/);
  });

  it.each(['--version', '-V'])('prints the version from package.json for %s', async (flag) => {
    const run = await runCli([flag]);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(`vigil ${(JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version}`);
  });

  it.each([
    ['serve', 'Usage: vigil serve --config FILE'],
    ['check-config', 'Usage: vigil check-config --config FILE'],
    ['register-commands', 'Usage: vigil register-commands --config FILE [--guild ID]'],
    ['test-alert', 'Usage: vigil test-alert --config FILE [--resolve] [--url URL]'],
  ])('explains %s with `vigil %s --help`, needing no config', async (command, usage) => {
    const run = await runCli([command, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout.startsWith(usage)).toBe(true);
  });

  it('refuses an option the command does not take, and says which command takes what', async () => {
    const run = await runCli(['check-config', '--guild', '123456789012345678', '--config', 'x.yaml']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--guild: not an option of check-config');
    expect(run.stderr).toContain('Usage: vigil check-config --config FILE');
  });

  it('takes --preview on serve only', async () => {
    const run = await runCli(['check-config', '--preview', '--config', 'x.yaml']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--preview: not an option of check-config');
  });

  it('points a serve without a config at preview mode', async () => {
    const run = await runCli(['serve']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no config file: pass --config FILE or set VIGIL_CONFIG (or try Vigil without Discord: vigil serve --preview)');
  });
});

describe('vigil serve', () => {
  it('runs with --preview and no config, shows what test-alert sent at /preview, and the resolve edits it', async () => {
    const port = await freePort();
    // The preview's own variables, no file: as the README's quickstart runs it (one terminal serve, one test-alert).
    const env = {
      VIGIL_PORT: String(port),
      VIGIL_DB: join(dir, 'preview.db'),
      PROMETHEUS_URL: closedUrl,
      LOKI_URL: closedUrl,
      VIGIL_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
    };
    const proc = spawnCli(['serve', '--preview'], env);
    try {
      await waitForHealth(`http://127.0.0.1:${port}/healthz`, proc);
      const sent = await runCli(['test-alert'], env);
      expect(sent.code).toBe(0);
      expect(sent.stdout).toContain(`accepted by http://127.0.0.1:${port}/webhooks/alertmanager: watch the preview page, http://127.0.0.1:${port}/preview`);
      const auth = { authorization: `Basic ${Buffer.from(`me:${WEBHOOK_TOKEN}`).toString('base64')}` };
      const page = () => fetch(`http://127.0.0.1:${port}/preview`, { headers: auth }).then((r) => r.text());
      await eventually('the test alert on the preview page', async () => ((await page()).includes('FIRING: VigilTestAlert') ? true : undefined), 10_000, 100);
      expect((await runCli(['test-alert', '--resolve'], env)).code).toBe(0);
      const resolved = await eventually(
        'the resolve on the preview page',
        async () => {
          const html = await page();
          return html.includes('RESOLVED: VigilTestAlert') ? html : undefined;
        },
        10_000,
        100,
      );
      // One message, edited in place, as in Discord.
      expect(resolved.match(/class="entry"/g)).toHaveLength(1);
      expect(resolved).not.toContain('FIRING: VigilTestAlert');
      expect(resolved).toContain('(edited)');
      expect((await fetch(`http://127.0.0.1:${port}/preview`)).status).toBe(401);
    } finally {
      proc.child.kill('SIGTERM');
    }
    const run = await proc.done;
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('preview mode: nothing goes to Discord');
    expectNoSecret(run);
  });

  it('refuses to start without webhook.token and without webhook.insecure', async () => {
    const port = await freePort();
    const path = writeConfig('no-token.yaml', configText({ port, webhook: '{}', name: 'no-token' }));
    const run = await runCli(['serve', '--config', path], SECRET_ENV);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('webhook.token: required');
    // It never got as far as listening.
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('exits 1 with the reason when the port is already taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = blocker.address() as AddressInfo;
      const path = writeConfig('taken.yaml', configText({ port, name: 'taken' }));
      const run = await runCli(['serve', '--config', path], SECRET_ENV);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`EADDRINUSE: address already in use 127.0.0.1:${port}`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('answers GET /healthz and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const path = writeConfig('serve.yaml', configText({ port, name: 'serve' }));
    const proc = spawnCli(['serve', '--config', path], SECRET_ENV);
    const health = await waitForHealth(`http://127.0.0.1:${port}/healthz`, proc);
    expect(health).toEqual({ status: 'ok', pendingNotifications: 0, pendingDeliveries: 0 });

    proc.child.kill('SIGTERM');
    const run = await proc.done;
    expect(run.signal).toBeNull();
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('"msg":"vigil stopped"');
    expectNoSecret(run);
  });
});

describe('vigil register-commands', () => {
  let discord: DiscordDouble;
  const names = COMMANDS.map((c) => `/${c.data.name}`).join(', ');

  beforeAll(async () => {
    discord = await startDiscordDouble({ token: DISCORD_TOKEN, applicationId: '123456789012345678' });
  });

  afterAll(async () => {
    await discord?.stop();
  });

  const puts = () => discord.requests.filter((r) => r.method === 'PUT');

  it('bulk-overwrites the global commands with COMMANDS, prints their names and exits 0', async () => {
    const before = puts().length;
    const path = writeConfig('register.yaml', configText({ apiBaseUrl: discord.apiBaseUrl, name: 'register' }));
    const run = await runCli(['register-commands', '--config', path], SECRET_ENV);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`registered ${COMMANDS.length} command(s) globally`);
    expect(run.stdout).toContain(names);
    const put = puts().slice(before);
    expect(put.map((r) => r.path)).toEqual(['/api/v10/applications/123456789012345678/commands']);
    expect((put[0]!.body as Array<{ name: string }>).map((c) => c.name)).toEqual(COMMANDS.map((c) => c.data.name));
    expect(discord.invalid).toEqual([]);
    expectNoSecret(run);
  });

  it.each([
    ['--guild', ['--guild', '323456789012345678'], '', '323456789012345678'],
    ['discord.guildId from the config', [], '  guildId: "423456789012345678"', '423456789012345678'],
  ])('registers in one guild with %s', async (_name, extraArgs, discordExtra, guildId) => {
    const before = puts().length;
    const path = writeConfig(`register-guild-${guildId}.yaml`, configText({ apiBaseUrl: discord.apiBaseUrl, name: 'register-guild', discordExtra }));
    const run = await runCli(['register-commands', '--config', path, ...extraArgs], SECRET_ENV);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`in guild ${guildId}: ${names}`);
    expect(
      puts()
        .slice(before)
        .map((r) => r.path),
    ).toEqual([`/api/v10/applications/123456789012345678/guilds/${guildId}/commands`]);
    expect(discord.commands.guilds.get(guildId)?.map((c) => c.name)).toEqual(COMMANDS.map((c) => c.data.name));
  });

  it("exits 1 with Discord's refusal and no token when the token is wrong", async () => {
    const path = writeConfig('register-wrong.yaml', configText({ apiBaseUrl: discord.apiBaseUrl, name: 'register-wrong' }));
    const wrongToken = 'MTIzNDU2Nzg5MDEyMzQ1Njc4.Wrong1.cli-test-wrong-token-000000000';
    const run = await runCli(['register-commands', '--config', path], { ...SECRET_ENV, T_DISCORD_TOKEN: wrongToken });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('register-commands failed globally');
    expect(run.stderr).toContain('401: Unauthorized');
    expect(run.stdout + run.stderr).not.toContain(wrongToken);
    expectNoSecret(run);
  });

  it('exits 1 naming the failure when Discord cannot be reached', async () => {
    const path = writeConfig('register-down.yaml', configText({ name: 'register-down' }));
    const run = await runCli(['register-commands', '--config', path], SECRET_ENV);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('register-commands failed');
    expectNoSecret(run);
  });

  it('exits 2 on a guild id that is not a snowflake', async () => {
    const path = writeConfig('register-bad-guild.yaml', configText({ apiBaseUrl: discord.apiBaseUrl, name: 'register-bad' }));
    const run = await runCli(['register-commands', '--config', path, '--guild', 'my-guild'], SECRET_ENV);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--guild: expected a guild id (a snowflake of 17-20 digits), got "my-guild"');
  });
});

/** Polls /healthz until it answers 200 (returning its JSON), failing early if the process exits. */
async function waitForHealth(url: string, proc: ReturnType<typeof spawnCli>): Promise<unknown> {
  let exited = false;
  void proc.done.then(() => (exited = true));
  const health = async (): Promise<unknown> => {
    if (exited) throw new Error(`vigil serve exited before answering:\n${proc.output()}`);
    const res = await fetch(url).catch(() => undefined); // not listening yet
    return res?.status === 200 ? await res.json() : undefined;
  };
  return eventually('vigil serve to answer /healthz', health, 10_000, 100).catch((err: Error) => {
    throw exited ? err : new Error(`${err.message}:\n${proc.output()}`);
  });
}

describe('vigil check-config --online', () => {
  const GUILD = '100000000000000001';
  const BOT = '200000000000000002';
  const ROLE = '300000000000000003';
  const CHANNEL_ID = '223456789012345678';
  const ROUTE_CHANNEL = '223456789012340002';
  const PINGABLE = '300000000000000005';
  const SILENT = '300000000000000006';
  const GONE = '300000000000000007';
  /** View Channel, Send Messages, Embed Links, Attach Files, Read Message History, Create Public Threads, Send Messages in Threads. */
  const NEEDED = ((1n << 10n) | (1n << 11n) | (1n << 14n) | (1n << 15n) | (1n << 16n) | (1n << 35n) | (1n << 38n)).toString();
  let discord: DiscordDouble;
  let loki: Awaited<ReturnType<typeof startLokiDouble>>;

  beforeAll(async () => {
    discord = await startDiscordDouble({
      token: DISCORD_TOKEN,
      channels: [CHANNEL_ID, ROUTE_CHANNEL],
      guild: {
        id: GUILD,
        botUserId: BOT,
        roles: [
          { id: GUILD, permissions: '0' },
          { id: ROLE, permissions: NEEDED },
          { id: PINGABLE, permissions: '0', mentionable: true },
          { id: SILENT, permissions: '0' },
        ],
        botRoles: [ROLE],
        // The channel denies the bot's role Attach Files: charts could not be sent there.
        overwrites: { [CHANNEL_ID]: [{ id: ROLE, type: 0, allow: '0', deny: (1n << 15n).toString() }] },
      },
    });
    loki = await startLokiDouble();
  });
  afterAll(async () => {
    await discord?.stop();
    await loki?.stop();
  });

  it('reaches every backend and Discord, says what is missing, and exits 1', async () => {
    const text = configText({ apiBaseUrl: discord.apiBaseUrl, name: 'online' }).replace(`loki: { url: ${closedUrl} }`, `loki: { url: ${loki.url} }`);
    const run = await runCli(['check-config', '--online', '--config', writeConfig('online.yaml', text)], SECRET_ENV);
    expect(run.code).toBe(1);
    const lines = run.stdout.split('\n');
    expect(lines).toContain('online:');
    expect(lines.find((l) => l.includes(`Prometheus ${closedUrl}`))).toMatch(/^ {2}❌ Prometheus .*: Prometheus unreachable: .*ECONNREFUSED/);
    expect(lines.find((l) => l.includes('Loki'))).toMatch(/^ {2}✅ Loki /);
    expect(lines).toContain(`  ✅ Discord token: valid, bot vigil (${BOT})`);
    expect(lines).toContain(
      `  ❌ alert channel ${CHANNEL_ID}: #alerts-5678: the bot lacks Attach Files: allow them for the bot (or its role) in the channel's permissions`,
    );
    expect(lines).toContain('2 check(s) failed');
    expect(discord.invalid).toEqual([]);
    expectNoSecret(run);
  });

  it("checks each route's channel once and whether the roles it pings can be pinged", async () => {
    const routes = `routes:
  - { name: db, matchers: ['team="db"'], channelId: "${ROUTE_CHANNEL}", mentions: { roles: ["${PINGABLE}", "${SILENT}"] }, threads: false }
  - { name: db-escalation, channelId: "${ROUTE_CHANNEL}", escalation: { after: 10m, roles: ["${GONE}"] }, threads: false }
`;
    const run = await runCli(
      [
        'check-config',
        '--online',
        '--config',
        writeConfig('online-routes.yaml', configText({ apiBaseUrl: discord.apiBaseUrl, name: 'online-routes' }) + routes),
      ],
      SECRET_ENV,
    );
    const lines = run.stdout.split('\n');
    // threads: false on both routes there, so the thread permissions are not asked for.
    expect(lines.filter((l) => l.includes(`route db channel ${ROUTE_CHANNEL}:`) && !l.includes('role'))).toEqual([
      `  ✅ route db channel ${ROUTE_CHANNEL}: #alerts-0002: the bot may view channel, send messages, embed links, attach files, read message history`,
    ]);
    expect(lines).toContain(`  ✅ route db channel ${ROUTE_CHANNEL}: role ${PINGABLE}: @role-2 is pinged by the bot's mentions`);
    expect(lines).toContain(
      `  ❌ route db channel ${ROUTE_CHANNEL}: role ${SILENT}: @role-3 would not be pinged: allow anyone to @mention it (Server Settings > Roles), or give the bot "Mention @everyone, @here, and All Roles" in this channel`,
    );
    expect(lines).toContain(
      `  ❌ route db channel ${ROUTE_CHANNEL}: role ${GONE}: not a role of this channel's server: check the id in routes (right-click the role > Copy Role ID)`,
    );
    // The channel is checked once, for both routes.
    expect(lines.filter((l) => /^ {2}[✅❌] route db-escalation/.test(l))).toEqual([]);
    // The summary names each route, how it is chosen and whom it pages.
    expect(lines).toContain(`routes:       db -> channel ${ROUTE_CHANNEL}: {team="db"}, pages 2 role(s), URL /webhooks/{alertmanager,grafana}/db`);
    expect(lines).toContain(
      `              db-escalation -> channel ${ROUTE_CHANNEL}: by URL only, pages no one, escalates to 1 role(s) after 10m (up to 1×), URL /webhooks/{alertmanager,grafana}/db-escalation`,
    );
    expect(discord.invalid).toEqual([]);
    expect(run.code).toBe(1);
  });

  it('says the token is refused, without the token', async () => {
    const text = configText({ apiBaseUrl: discord.apiBaseUrl, name: 'online-bad' });
    const wrong = 'MTk4NzY1NDMyMTk4NzY1NDMy.GwRong.a-token-that-discord-does-not-know';
    const run = await runCli(['check-config', '--online', '--config', writeConfig('online-bad.yaml', text)], { ...SECRET_ENV, T_DISCORD_TOKEN: wrong });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/ {2}❌ Discord token: 401.*: check discord.token/);
    expect(run.stdout + run.stderr).not.toContain(wrong);
  });
});
