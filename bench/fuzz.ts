import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { Agent, request } from 'undici';
import { CHART_WORKER_IDLE_MS } from '../src/render/chart-workers.js';
import { generateTestKeys, pingInteraction, signatureHeaders } from '../test/support/interactions.js';
import { benchAlertmanagerBody } from './alerts.js';
import { startBenchBot } from './bot.js';
import { defer } from './cleanup.js';
import { memoryOf, resetPeak } from './proc.js';

/** The fuzz run: how many bodies, how many in flight, how long the bot is left alone afterwards. */
/**
 * Settled is measured once the chart thread the valid alerts started has idled out
 * (CHART_WORKER_IDLE_MS) and 30 s more have passed: what stays then is growth that stays.
 */
export const FUZZ = { bodies: 100_000, inFlight: 32, settleMs: CHART_WORKER_IDLE_MS + 30_000, seed: 20261206 } as const;

const CHANNEL = '623456789012345679';
const WEBHOOK_TOKEN = 'bench-fuzz-webhook-token-0123456789';

/** What the fuzz run measured. */
export interface FuzzResult {
  sent: number;
  /** Answers by HTTP status (or transport error code). */
  statuses: Record<string, number>;
  /** Bodies by kind, as generated. */
  kinds: Record<string, number>;
  seconds: number;
  rssKb: { idle: number; peak: number; after: number; settled: number };
}

type Body = { kind: string; path: string; headers: Record<string, string>; body: string | Uint8Array };

/** Generated bodies: what a hostile or broken sender posts, and now and then a valid alert. */
function bodies(count: number): Body[] {
  const keys = generateTestKeys();
  const authed = { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` };
  const labelName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,15}$/);
  const fixtureWith = (over: Record<string, unknown>) => {
    const body = JSON.parse(benchAlertmanagerBody('BenchFuzz', 0)) as Record<string, unknown> & { alerts: Record<string, unknown>[] };
    return JSON.stringify({ ...body, ...over });
  };
  let valid = 0;
  const kinds = fc.oneof(
    { weight: 25, arbitrary: fc.uint8Array({ maxLength: 2000 }).map((b): Body => ({ kind: 'bytes', path: '/webhooks', headers: authed, body: b })) },
    {
      weight: 25,
      arbitrary: fc
        .jsonValue({ maxDepth: 8 })
        .map((v): Body => ({ kind: 'json', path: '/webhooks/alertmanager', headers: authed, body: JSON.stringify(v) ?? 'null' })),
    },
    {
      weight: 25,
      arbitrary: fc
        .record({
          status: fc.oneof(fc.constantFrom('firing', 'resolved'), fc.string()),
          labels: fc.dictionary(labelName, fc.string({ unit: 'binary', maxLength: 80 }), { maxKeys: 12 }),
        })
        .map(({ status, labels }): Body => {
          // One in a hundred is a valid new alert (the bot stores, enriches and posts it); the rest break a field.
          const ok = status === 'firing' && valid++ % 100 === 0;
          const body = ok ? benchAlertmanagerBody('BenchFuzz', valid) : fixtureWith({ status, groupLabels: labels, alerts: [{ labels, status: 7 }] });
          return { kind: ok ? 'valid alert' : 'broken alert', path: '/webhooks/alertmanager', headers: authed, body };
        }),
    },
    {
      weight: 10,
      arbitrary: fc.string({ maxLength: 60 }).map((t): Body => ({
        kind: 'bad credentials',
        path: '/webhooks/grafana',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${t}` },
        body: '{}',
      })),
    },
    {
      weight: 15,
      arbitrary: fc
        .oneof(
          fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v) ?? 'null'),
          fc.constant(JSON.stringify(pingInteraction())),
        )
        .map((text): Body => ({
          kind: 'signed interaction',
          path: '/interactions',
          headers: { 'content-type': 'application/json', ...signatureHeaders(text, keys) },
          body: text,
        })),
    },
  );
  return Object.assign(fc.sample(kinds, { numRuns: count, seed: FUZZ.seed }), { keys });
}

/**
 * Posts FUZZ.bodies generated bodies (fast-check, fixed seed) to `vigil serve` (compiled, the
 * compose file's NODE_OPTIONS, HTTP interactions on), FUZZ.inFlight at a time, and measures its
 * RSS: idle before, the peak during the run, right after, and after FUZZ.settleMs left alone.
 */
export async function runFuzz(opts: { prometheusUrl: string; lokiUrl: string; runtimeEnv: Record<string, string> }): Promise<FuzzResult> {
  const generated = bodies(FUZZ.bodies) as Body[] & { keys: ReturnType<typeof generateTestKeys> };
  const { bot, port, stop } = await startBenchBot({
    name: 'fuzz',
    channelId: CHANNEL,
    webhookToken: WEBHOOK_TOKEN,
    ...opts,
    settings: { discordMode: 'http', publicKeyHex: generated.keys.publicKeyHex, sections: { log: { level: 'warn' } } },
  });
  const cleanups: Array<() => Promise<void>> = [stop];
  try {
    const pid = bot.child.pid!;
    await sleep(5000);
    const idle = memoryOf(pid).rssKb;
    resetPeak(pid);
    const agent = new Agent({ connections: FUZZ.inFlight, keepAliveTimeout: 30_000 });
    cleanups.push(defer(() => agent.close()));
    const statuses: Record<string, number> = {};
    const kinds: Record<string, number> = {};
    const bump = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);
    const started = Date.now();
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < generated.length; i = next++) {
        const b = generated[i]!;
        bump(kinds, b.kind);
        try {
          const res = await request(`http://127.0.0.1:${port}${b.path}`, { method: 'POST', headers: b.headers, body: b.body, dispatcher: agent });
          await res.body.dump();
          bump(statuses, String(res.statusCode));
        } catch (err) {
          bump(statuses, (err as { code?: string }).code ?? (err as Error).message);
        }
      }
    };
    await Promise.all(Array.from({ length: FUZZ.inFlight }, worker));
    const seconds = (Date.now() - started) / 1000;
    const after = memoryOf(pid);
    await sleep(FUZZ.settleMs);
    const settled = memoryOf(pid).rssKb;
    if (bot.child.exitCode !== null) throw new Error(`the bot exited during the fuzz run (code ${bot.child.exitCode})`);
    return { sent: generated.length, statuses, kinds, seconds, rssKb: { idle, peak: after.peakKb, after: after.rssKb, settled } };
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  }
}
