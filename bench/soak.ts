import { setTimeout as sleep } from 'node:timers/promises';
import { benchAlertmanagerBody } from './alerts.js';
import { startBenchBot } from './bot.js';
import { memoryOf } from './proc.js';

/**
 * The soak: `minutes` at `rate` notifications per second, RSS sampled every `sampleMs`. Each alert
 * fires and resolves `resolveAfterMs` later, so about half the notifications open an incident and
 * half resolve one. BENCH_SOAK_MINUTES shortens it for a trial run (the report names the length).
 */
export const SOAK = {
  minutes: Number(process.env.BENCH_SOAK_MINUTES ?? 30),
  rate: 5,
  sampleMs: 10_000,
  resolveAfterMs: 60_000,
  /** Idle is sampled once a second over this window after the gateway session is ready. */
  idleWindowS: [20, 30] as const,
} as const;

const CHANNEL = '823456789012345678';
const WEBHOOK_TOKEN = 'bench-soak-webhook-token-0123456789ab';
const PREFIX = 'BenchSoak';

/** What the idle measurement and the soak found. */
export interface SoakResult {
  /** RSS samples (kB) once a second over SOAK.idleWindowS after the gateway was ready. */
  idleKb: number[];
  /** Samples during the soak: seconds since it began, RSS and its anonymous part, and the V8 heap used and its size (from /metrics), kB. */
  samples: { atS: number; rssKb: number; anonKb: number; heapUsedKb: number; heapTotalKb: number }[];
  fired: number;
  resolved: number;
  /** Webhooks answered with anything but 202. */
  refused: number;
  /** Alert messages at the Discord double, and those of them edited to resolved, at the end. */
  posted: number;
  shownResolved: number;
}

/** A bench alert's resolve, as Alertmanager sends it. */
function resolvedBody(i: number): string {
  const body = JSON.parse(benchAlertmanagerBody(PREFIX, i)) as { status: string; alerts: { status: string; endsAt: string }[] };
  body.status = 'resolved';
  for (const a of body.alerts) {
    a.status = 'resolved';
    a.endsAt = new Date().toISOString();
  }
  return JSON.stringify(body);
}

/**
 * Starts `vigil serve` (compiled, the compose file's NODE_OPTIONS and MALLOC_* settings) in gateway mode, connected to a
 * gateway double, with healthy backends; measures idle RSS once start-up is over, then soaks it
 * with SOAK.rate notifications per second for SOAK.minutes. The Discord double has no rate limits
 * and storm mode is off, so every alert is enriched, charted and posted on its own: the most work
 * per notification (section 4 measures storms).
 */
export async function runSoak(opts: { prometheusUrl: string; lokiUrl: string; runtimeEnv: Record<string, string> }): Promise<SoakResult> {
  const { bot, discord, port, stop } = await startBenchBot({
    name: 'soak',
    channelId: CHANNEL,
    webhookToken: WEBHOOK_TOKEN,
    ...opts,
    rateLimits: false,
    gateway: true,
    settings: { enrichmentTimeout: '1s', sections: { log: { level: 'info' }, delivery: { storm: { enabled: false } } } },
  });
  try {
    const pid = bot.child.pid!;
    const idleKb: number[] = [];
    const ready = Date.now();
    for (let s = SOAK.idleWindowS[0]; s <= SOAK.idleWindowS[1]; s++) {
      await sleep(Math.max(0, ready + s * 1000 - Date.now()));
      idleKb.push(memoryOf(pid).rssKb);
    }

    const url = `http://127.0.0.1:${port}/webhooks/alertmanager`;
    const send = async (body: string) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` }, body });
      await res.arrayBuffer();
      return res.status === 202;
    };
    const result: SoakResult = { idleKb, samples: [], fired: 0, resolved: 0, refused: 0, posted: 0, shownResolved: 0 };
    const open: { i: number; at: number }[] = [];
    const start = Date.now();
    const end = start + SOAK.minutes * 60_000;
    let nextSample = start;
    const sample = async () => {
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const kb = (name: string) => Math.round(Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN) / 1024);
      const memory = memoryOf(pid);
      result.samples.push({
        atS: Math.round((Date.now() - start) / 1000),
        rssKb: memory.rssKb,
        anonKb: memory.anonKb,
        heapUsedKb: kb('nodejs_heap_size_used_bytes'),
        heapTotalKb: kb('nodejs_heap_size_total_bytes'),
      });
    };
    for (let tick = 0; ; tick++) {
      const at = start + (tick * 1000) / SOAK.rate;
      if (at >= end) break;
      await sleep(Math.max(0, at - Date.now()));
      if (Date.now() >= nextSample) {
        await sample();
        nextSample += SOAK.sampleMs;
      }
      if (bot.child.exitCode !== null) throw new Error(`the bot exited during the soak (code ${bot.child.exitCode}):\n${bot.output().slice(-2000)}`);
      const due = open[0] && Date.now() - open[0].at >= SOAK.resolveAfterMs ? open.shift()! : undefined;
      if (due) {
        if (await send(resolvedBody(due.i))) result.resolved++;
        else result.refused++;
      } else {
        const i = result.fired + result.refused;
        if (await send(benchAlertmanagerBody(PREFIX, i))) {
          result.fired++;
          open.push({ i, at: Date.now() });
        } else result.refused++;
      }
    }
    await sample();
    await sleep(5_000); // the last deliveries
    // Alert messages only (thread details carry the name too): their title starts with the state.
    const titles = [...discord.messages.values()]
      .map((m) => m.embeds?.[0]?.title ?? '')
      .filter((t) => t.includes(PREFIX) && (t.startsWith('🔥 FIRING') || t.startsWith('✅ RESOLVED')));
    result.posted = titles.length;
    result.shownResolved = titles.filter((t) => t.startsWith('✅ RESOLVED')).length;
    return result;
  } finally {
    await stop();
  }
}

/** Median of a sample; NaN when it is empty (a trial too short for the windows). */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)]! : NaN;
}

/**
 * Growth after warm-up: the median RSS of the last 5 minutes against that of the 5 minutes after
 * warm-up (the first fifth of the run); for shorter trial runs, the last and second fifths.
 */
export function soakGrowth(samples: SoakResult['samples'], minutes: number): { baselineKb: number; endKb: number; percent: number } {
  const window = Math.min(5, minutes / 5) * 60;
  const warmup = (minutes * 60) / 5;
  const inRange = (from: number, to: number) => samples.filter((s) => s.atS >= from && s.atS < to).map((s) => s.rssKb);
  const baselineKb = median(inRange(warmup, warmup + window));
  const endKb = median(inRange(minutes * 60 - window, Infinity));
  return { baselineKb, endKb, percent: ((endKb - baselineKb) / baselineKb) * 100 };
}

/** The idle figure: the median of the idle samples. */
export function idleRss(r: SoakResult): number {
  return median(r.idleKb);
}
