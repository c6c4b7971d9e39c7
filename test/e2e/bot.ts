import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from '../support/eventually.js';
import { freePort } from '../support/ports.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Settings of a bot under test; written to a YAML config in `dir`. */
export interface BotSettings {
  dir: string;
  prometheusUrl: string;
  lokiUrl: string;
  discordApiBaseUrl: string;
  discordToken: string;
  webhookToken: string;
  channelId: string;
  enrichmentTimeout?: string;
  /** Interactions transport; default http (no gateway double needed). */
  discordMode?: 'http' | 'gateway';
  /** The application public key (hex) the bot verifies interactions with. */
  publicKeyHex?: string;
  /** Extra top-level YAML appended to the config (alertmanager, commands, …). */
  extraYaml?: string;
  /** NODE_OPTIONS for the bot process (the benchmark uses the compose file's). */
  nodeOptions?: string;
  /** Run the compiled dist/cli.js (build it first) instead of src/cli.ts through tsx, as the Docker image does. */
  compiled?: boolean;
}

/** A bot process started from src/cli.ts exactly as a user would (`vigil serve --config FILE`). */
export interface BotProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr (JSON log lines). */
  output(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Writes the config file for the bot and returns its path. */
export function writeBotConfig(s: BotSettings, port: number): string {
  const path = join(s.dir, 'vigil.yaml');
  writeFileSync(
    path,
    `server: { host: 127.0.0.1, port: ${port} }
webhook: { token: \${TEST_WEBHOOK_TOKEN} }
prometheus: { url: ${s.prometheusUrl} }
loki: { url: ${s.lokiUrl} }
discord:
  token: \${TEST_DISCORD_TOKEN}
  applicationId: "123456789012345678"
  alertChannelId: "${s.channelId}"
  apiBaseUrl: ${s.discordApiBaseUrl}
  mode: ${s.discordMode ?? 'http'}
  publicKey: "${s.publicKeyHex ?? `${'0'.repeat(63)}1`}"
storage: { path: ${join(s.dir, 'vigil.db')} }
enrichment: { lookback: 10m, logWindow: 5m, timeout: ${s.enrichmentTimeout ?? '2s'} }
delivery: { minBackoff: 100ms, maxBackoff: 1s, pollInterval: 100ms }
log: { level: debug }
${s.extraYaml ?? ''}
`,
  );
  return path;
}

/** Starts `vigil serve` in a child process and waits for /healthz to answer 200. */
export async function startBot(s: BotSettings, port?: number): Promise<BotProcess> {
  const p = port ?? (await freePort());
  const config = writeBotConfig(s, p);
  const entry = s.compiled ? [join(REPO_ROOT, 'dist/cli.js')] : ['--import', 'tsx', join(REPO_ROOT, 'src/cli.ts')];
  const child = spawn(process.execPath, [...entry, 'serve', '--config', config], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      TEST_WEBHOOK_TOKEN: s.webhookToken,
      TEST_DISCORD_TOKEN: s.discordToken,
      ...(s.nodeOptions !== undefined ? { NODE_OPTIONS: s.nodeOptions } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${p}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`bot exited with ${child.exitCode}:\n${out}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`bot did not become healthy:\n${out}`);
    }
    await sleep(100);
  }
  return {
    url,
    port: p,
    child,
    output: () => out,
    kill: (signal) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}

export { eventually, sleep } from '../support/eventually.js';
