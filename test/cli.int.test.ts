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
import { startPostgres, type PostgresHandle } from './support/postgres.js';
import { LEADER_LEASE } from '../src/cluster/leader.js';
import { acquireLease, heartbeatReplica } from '../src/store/leases.js';
import { openPostgres } from '../src/store/postgres.js';
import { POSTGRES_MIGRATIONS } from '../src/store/postgres-schema.js';

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

/** The variables that choose the language before a config names one (cli.ts localeOfEnv). */
const LOCALE_VARS = ['LC_ALL', 'LC_MESSAGES', 'LANG'] as const;

function spawnCli(args: string[], env: Record<string, string>) {
  const baseEnv = { ...process.env, ...env };
  if (!('VIGIL_CONFIG' in env)) delete baseEnv['VIGIL_CONFIG'];
  // English unless a test asks for a language: the machine running the tests may be set to Korean.
  for (const name of LOCALE_VARS) if (!(name in env)) delete baseEnv[name];
  if (!LOCALE_VARS.some((name) => name in env)) baseEnv.LANG = 'C.UTF-8';
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
    expect(run.stderr).toContain(`${path}: ${expected.length} errors`);
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

describe.concurrent('vigil in the configured language', () => {
  const KOREAN = { LANG: 'ko_KR.UTF-8' };

  it('prints check-config in Korean for locale: ko, with the config keys and values as they are', async () => {
    const text = `locale: ko\n${configText({ name: 'ko' })}`.replace(
      'delivery: { pollInterval: 100ms }',
      'delivery: { pollInterval: 100ms, reminderMinGap: 10s }',
    );
    const path = writeConfig('ko.yaml', text);
    // The file's language, not the environment's.
    const run = await runCli(['check-config', '--config', path], { ...SECRET_ENV, LANG: 'en_US.UTF-8' });
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe(`${path}: 정상`);
    expect(lines).toContain('server:       127.0.0.1:8080 (본문 제한 4,194,304바이트)');
    expect(lines).toContain('webhook:      토큰 있음, HMAC 있음');
    expect(lines).toContain('alertmanager: 설정 안 됨');
    expect(lines).toContain('routes:       없음: 모든 알림이 알림 채널로 갑니다');
    expect(lines).toContain('enrichment:   조회 구간 30분, 로그 구간 ±5분, 제한 시간 1초');
    expect(lines).toContain('digest:       꺼짐');
    expect(lines.find((l) => l.startsWith('discord:'))).toMatch(
      /^discord: {6}gateway 모드, 애플리케이션 123456789012345678, 알림 채널 223456789012345678, .*토큰 있음$/,
    );
    expect(lines.find((l) => l.startsWith('경고: delivery.reminderMinGap'))).toContain('10초입니다');
    expect(run.stdout).not.toMatch(/\b(token set|not configured|lookback|warning)\b/);
    expect(run.stderr).toBe('');
    expectNoSecret(run);
  });

  it('prints check-config in English for locale: en, whatever the environment says', async () => {
    const path = writeConfig('en.yaml', `locale: en\n${configText({ name: 'en' })}`);
    const run = await runCli(['check-config', '--config', path], { ...SECRET_ENV, ...KOREAN });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${path}: OK`);
    expect(run.stdout).toContain('webhook:      token set, HMAC set');
    expect(run.stdout).toContain('enrichment:   lookback 30m, log window ±5m, timeout 1s');
    expect(run.stdout).not.toMatch(/[\uac00-\ud7a3]/);
  });

  it('says an invalid config in the environment’s language around the schema’s English lines', async () => {
    const path = writeConfig('ko-invalid.yaml', 'locale: ko\nserver: { port: 70000 }\nprometheus: { url: "ftp://prometheus:9090" }\n');
    const run = await runCli(['check-config', '--config', path], KOREAN);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const lines = run.stderr.split('\n');
    expect(lines[0]).toBe(`${path}: 오류 4개`);
    // The keys and what the schema says of them stay English: they name the YAML.
    expect(lines).toContain('  prometheus.url: expected an http(s) URL');
    expect(lines).toContain('  loki: required, expected a mapping (key: value lines)');
    // A file that did not load names no language: without a Korean environment, English.
    const english = await runCli(['check-config', '--config', path]);
    expect(english.stderr.split('\n')[0]).toBe(`${path}: 4 errors`);
  });

  it.each([
    ['LANG=ko_KR.UTF-8', { LANG: 'ko_KR.UTF-8' }, 'ko'],
    ['LC_MESSAGES=ko_KR.UTF-8 over LANG=en_US.UTF-8', { LC_MESSAGES: 'ko_KR.UTF-8', LANG: 'en_US.UTF-8' }, 'ko'],
    ['LC_ALL=ko_KR.UTF-8 over LC_MESSAGES=C', { LC_ALL: 'ko_KR.UTF-8', LC_MESSAGES: 'C' }, 'ko'],
    ['LC_ALL=C over LANG=ko_KR.UTF-8', { LC_ALL: 'C', LANG: 'ko_KR.UTF-8' }, 'en'],
    ['LANG=ko (bare)', { LANG: 'ko' }, 'ko'],
    ['LANG=en_US.UTF-8', { LANG: 'en_US.UTF-8' }, 'en'],
  ] as const)('reads the language before a config from the environment: %s', async (_name, env, want) => {
    const path = join(dir, 'nowhere.yaml');
    const run = await runCli(['check-config', '--config', path], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      want === 'ko' ? `${path}: 오류 1개\n  설정 파일을 읽을 수 없습니다: ${path}: ENOENT\n` : `${path}: 1 error\n  cannot read config file ${path}: ENOENT\n`,
    );
  });

  it('prints usage, help and command line errors in Korean in a Korean environment', async () => {
    const unknown = await runCli(['frobnicate'], KOREAN);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('알 수 없는 명령 "frobnicate"');
    expect(unknown.stderr).toContain('사용법: vigil <command> [--config FILE]');
    const option = await runCli(['check-config', '--nope'], KOREAN);
    expect(option.stderr.startsWith('알 수 없는 옵션 --nope\n\n사용법: vigil')).toBe(true);
    const misplaced = await runCli(['check-config', '--guild', '123456789012345678', '--config', 'x.yaml'], KOREAN);
    expect(misplaced.stderr).toContain('--guild: check-config 명령의 옵션이 아닙니다');
    expect(misplaced.stderr).toContain('사용법: vigil check-config --config FILE [--online]');
    // $'{VAR}' in the catalog is ${VAR} on the screen.
    expect(misplaced.stderr).toContain('(${VAR}는 환경 변수에서 가져옴)');
    const help = await runCli(['test-alert', '--help'], KOREAN);
    expect(help.code).toBe(0);
    expect(help.stdout.startsWith('사용법: vigil test-alert --config FILE [--resolve] [--url URL]\n')).toBe(true);
    const noConfig = await runCli(['serve'], KOREAN);
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr).toBe('설정 파일이 없습니다: --config FILE 또는 VIGIL_CONFIG 가 필요합니다 (Discord 없이 써 보려면: vigil serve --preview)\n');
  });

  it('shows ${VAR} in the English check-config help too', async () => {
    const run = await runCli(['check-config', '--help']);
    expect(run.stdout).toContain('Validates the config file (with ${VAR} taken from the environment)');
  });

  it('says a preview config in Korean, online and for register-commands', async () => {
    const text = `locale: ko\n${configText({ name: 'ko-preview' })}`.replace(/^discord:[\s\S]*?(?=^storage:)/m, 'discord: { mode: preview, threads: false }\n');
    const path = writeConfig('ko-preview.yaml', text);
    const online = await runCli(['check-config', '--online', '--config', path], SECRET_ENV);
    expect(online.code).toBe(1);
    const lines = online.stdout.split('\n');
    expect(lines).toContain('discord:      미리보기 모드: Discord로 보내지 않고 모든 메시지를 GET /preview 에 표시, 답글, 스레드 없음');
    expect(lines).toContain('온라인 확인:');
    expect(lines).toContain('  ✅ Discord: 접속 안 함: 미리보기 모드는 모든 메시지를 대신 GET /preview 에 표시합니다');
    expect(lines).toContain('확인 2개 실패');
    const register = await runCli(['register-commands', '--config', path], SECRET_ENV);
    expect(register.code).toBe(1);
    expect(register.stderr).toContain('register-commands 에는 Discord가 필요합니다: 이 설정은 미리보기 모드입니다');
  });

  it('says test-alert in Korean for locale: ko', async () => {
    const path = writeConfig('ko-test-alert.yaml', `locale: ko\n${configText({ name: 'ko-test-alert' })}`);
    const run = await runCli(['test-alert', '--config', path, '--url', `${closedUrl}/webhooks/alertmanager`], SECRET_ENV);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^테스트 알림을 보낼 수 없습니다 \(http:\/\/127\.0\.0\.1:\d+\/webhooks\/alertmanager\): .*ECONNREFUSED.* \(`vigil serve` 가 실행 중인가요\?\)$/m,
    );
    expectNoSecret(run);
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
    expect(health).toEqual({ status: 'ok', storage: 'sqlite', pendingNotifications: 0, pendingDeliveries: 0 });

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
    expect(run.stdout).toContain(`registered ${COMMANDS.length} commands globally`);
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

  it('says the registration in Korean for locale: ko', async () => {
    const path = writeConfig('register-ko.yaml', `locale: ko\n${configText({ apiBaseUrl: discord.apiBaseUrl, name: 'register-ko' })}`);
    const run = await runCli(['register-commands', '--config', path, '--guild', '523456789012345678'], SECRET_ENV);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`명령 ${COMMANDS.length}개 등록 완료 (길드 523456789012345678): ${names}\n`);
    const bad = await runCli(['register-commands', '--config', path, '--guild', 'my-guild'], SECRET_ENV);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--guild: 길드 ID(17-20자리 스노플레이크)여야 하는데 "my-guild"입니다');
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
    expect(lines).toContain('2 checks failed');
    expect(discord.invalid).toEqual([]);
    expectNoSecret(run);
  });

  it("checks each route's channel once and whether the roles it pings can be pinged", async () => {
    const routes = `routes:
  - { name: db, matchers: ['team="db"'], channelId: "${ROUTE_CHANNEL}", mentions: { roles: ["${PINGABLE}", "${SILENT}"] }, threads: false }
  - { name: db-escalation, channelId: "${ROUTE_CHANNEL}", escalation: { after: 10m, roles: ["${GONE}"], users: ["${BOT}"] }, threads: false }
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
    expect(lines).toContain(`routes:       db -> channel ${ROUTE_CHANNEL}: {team="db"}, pages 2 roles, URL /webhooks/{alertmanager,grafana}/db`);
    expect(lines).toContain(
      `              db-escalation -> channel ${ROUTE_CHANNEL}: by URL only, pages no one, escalates to 1 role and 1 user after 10m (up to 1×), URL /webhooks/{alertmanager,grafana}/db-escalation`,
    );
    expect(discord.invalid).toEqual([]);
    expect(run.code).toBe(1);
  });

  it('says what is missing in Korean for locale: ko, with Discord’s names of the permissions', async () => {
    const routes = `routes:
  - { name: db, channelId: "${ROUTE_CHANNEL}", mentions: { roles: ["${PINGABLE}", "${SILENT}", "${GONE}"], users: ["${BOT}"] }, threads: false }
`;
    const text = `locale: ko\n${configText({ apiBaseUrl: discord.apiBaseUrl, name: 'online-ko' })}${routes}`.replace(
      `loki: { url: ${closedUrl} }`,
      `loki: { url: ${loki.url} }`,
    );
    const run = await runCli(['check-config', '--online', '--config', writeConfig('online-ko.yaml', text)], SECRET_ENV);
    expect(run.code).toBe(1);
    const lines = run.stdout.split('\n');
    expect(lines).toContain('온라인 확인:');
    expect(lines.find((l) => l.includes('Loki'))).toMatch(/^ {2}✅ Loki /);
    expect(lines).toContain(`  ✅ Discord 토큰: 유효함, 봇 vigil (${BOT})`);
    expect(lines).toContain(
      `  ❌ 알림 채널 ${CHANNEL_ID}: #alerts-5678: 봇에게 권한이 없습니다: 파일 첨부. 채널 권한에서 봇(또는 봇의 역할)에 허용해야 합니다`,
    );
    expect(lines).toContain(
      `  ✅ 라우트 db 채널 ${ROUTE_CHANNEL}: #alerts-0002: 봇 권한 있음: 채널 보기, 메시지 보내기, 링크 첨부, 파일 첨부, 메시지 기록 보기`,
    );
    expect(lines).toContain(`  ✅ 라우트 db 채널 ${ROUTE_CHANNEL}: 역할 ${PINGABLE}: @role-2: 봇의 멘션으로 호출됩니다`);
    expect(lines.find((l) => l.includes(`역할 ${SILENT}`))).toContain('@role-3: 호출되지 않습니다.');
    expect(lines.find((l) => l.includes(`역할 ${GONE}`))).toContain('이 채널이 있는 서버의 역할이 아닙니다');
    expect(lines).toContain(`routes:       db -> 채널 ${ROUTE_CHANNEL}: URL로만, 호출: 역할 3개 및 사용자 1명, URL /webhooks/{alertmanager,grafana}/db`);
    expect(lines).toContain('확인 4개 실패');
    expect(discord.invalid).toEqual([]);
    expectNoSecret(run);
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

describe('vigil check-config with storage.url (PostgreSQL)', () => {
  const PASSWORD = 'vigil-test-password';
  let pg: PostgresHandle;
  let target: string;
  const pgConfig = (name: string) => configText({ name }).replace(/^storage: .*$/m, 'storage: { url: "${T_DATABASE_URL}" }\ncluster: { leaseTtl: 10s }');

  beforeAll(async () => {
    pg = await startPostgres();
    target = `vigil@127.0.0.1:${pg.port}/vigil`;
  }, 90_000);
  afterAll(async () => {
    await pg?.stop();
  });

  it('prints the storage as PostgreSQL with its pool and lease, and no password', async () => {
    const run = await runCli(['check-config', '--config', writeConfig('pg.yaml', pgConfig('pg'))], { ...SECRET_ENV, T_DATABASE_URL: pg.url });
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')).toContain(`storage:      PostgreSQL ${target} (10 connections per replica), leader lease 10s`);
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
    expectNoSecret(run);
  });

  it('prints the storage as SQLite without storage.url', async () => {
    const run = await runCli(['check-config', '--config', writeConfig('sqlite.yaml', configText({ name: 'sqlite' }))], SECRET_ENV);
    expect(run.stdout.split('\n')).toContain(`storage:      SQLite ${join(dir, 'sqlite.db')} (one replica)`);
  });

  it('says online the schema version, the replicas seen and who leads', async () => {
    const db = await openPostgres(pg.url);
    try {
      const now = new Date();
      await heartbeatReplica(db, { id: 'replica-a', host: 'host-a', startedAt: now }, now);
      await heartbeatReplica(db, { id: 'replica-b', host: 'host-b', startedAt: new Date(now.getTime() + 1) }, now);
      await acquireLease(db, LEADER_LEASE, 'replica-a', now, 60_000);
    } finally {
      await db.close();
    }
    const run = await runCli(['check-config', '--online', '--config', writeConfig('pg-online.yaml', pgConfig('pg-online'))], {
      ...SECRET_ENV,
      T_DATABASE_URL: pg.url,
    });
    expect(run.stdout.split('\n')).toContain(
      `  ✅ PostgreSQL ${target}: schema version ${POSTGRES_MIGRATIONS.length}; replicas seen: replica-a (host-a), replica-b (host-b); leader: replica-a`,
    );
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
  });

  it('fails the online check of a PostgreSQL that does not answer, without the password', async () => {
    const down = pg.url.replace(`:${pg.port}/`, `:${await freePort()}/`);
    const run = await runCli(['check-config', '--online', '--config', writeConfig('pg-down.yaml', pgConfig('pg-down'))], {
      ...SECRET_ENV,
      T_DATABASE_URL: down,
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/ {2}❌ PostgreSQL vigil@127\.0\.0\.1:\d+\/vigil: .*ECONNREFUSED/);
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
  });
});
