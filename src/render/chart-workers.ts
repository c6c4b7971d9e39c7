import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ChartSize, ChartSpec } from './chart-spec.js';

/** What the main thread sends a chart worker. */
export interface ChartJob {
  id: number;
  spec: ChartSpec;
  size: ChartSize;
}

/** What a chart worker posts: `ready` once its modules are loaded, then per job the PNG bytes or what went wrong. */
export type ChartAnswer = { ready: true } | { id: number; png: Uint8Array } | { id: number; error: string };

/** Counters of a pool, for tests and the benchmark. */
export interface ChartWorkerStats {
  /** Worker threads started (a terminated one is replaced by a new start). */
  started: number;
  /** Workers terminated because a render was abandoned (over budget) or the worker failed. */
  terminated: number;
  /** Charts rendered on a worker. */
  rendered: number;
  /** Charts rendered in the calling thread because no worker could start. */
  inProcess: number;
  /** Workers ended after idling for `idleMs` (started again by the next chart). */
  idleEnded: number;
  /** Workers ended after `maxRenders` charts (the next chart starts a fresh one). */
  recycled: number;
}

/** How long a chart worker idles before it ends: charts come in bursts of incidents; in between, its ~25 MiB go back. */
export const CHART_WORKER_IDLE_MS = 60_000;

/**
 * Charts a worker renders before it is replaced by a fresh one. Under steady charting a worker never
 * idles, and its isolate's heap and resvg's native buffers creep up over hours; a fresh worker
 * starts from the ~25 MiB of a first chart. About half a second to load again, every few hundred charts.
 */
export const CHART_WORKER_MAX_RENDERS = 500;

/** Options of {@link ChartWorkers}. */
export interface ChartWorkersOptions {
  /** The worker's entry module (tests use failing ones). */
  entry?: URL;
  /** Idle time after which the worker ends; default CHART_WORKER_IDLE_MS. */
  idleMs?: number;
  /** Charts after which the worker is replaced; default CHART_WORKER_MAX_RENDERS. */
  maxRenders?: number;
}

interface Pending {
  job: ChartJob;
  resolve: (png: Buffer) => void;
  reject: (error: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

interface Slot {
  worker: Worker;
  /** Set once the worker loaded its modules: one that dies before that cannot start at all. */
  ready: boolean;
  running?: Pending;
  /** Ends the worker once it has idled for idleMs. */
  idleTimer?: NodeJS.Timeout;
  /** A job abandoned while the worker was still loading: its answer, when it comes, is dropped. */
  discard?: number;
  /** Charts this worker rendered. */
  renders: number;
}

/** The worker's entry file next to this module: .js in dist, .ts under tsx and vitest. */
function defaultEntry(): URL {
  return new URL(import.meta.url.endsWith('.ts') ? './chart-worker.ts' : './chart-worker.js', import.meta.url);
}

/**
 * A worker's heap bounds. A chart holds at most 5 series of about 250 points (the enrichment's
 * step maths), a few MiB of heap; 64 MiB leaves room for 5 series of 11,000 points at 2000×2000,
 * Prometheus' own limit. A heavier chart fails alone ("rendering failed") instead of growing the
 * bot: V8 sizes a heap by the machine's memory, not the container's limit. A 2 MiB young
 * generation collects often, so resvg's pixmaps (native memory, freed when their objects are
 * collected) do not pile up: measured over 60 charts, the thread levels off about 10 MiB lower than
 * with 8 MiB.
 */
const CHART_WORKER_LIMITS = { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 2 } as const;

/** Starts a worker on `entry`; a .ts entry (tsx, vitest) first registers tsx's loader in the worker. */
function spawn(entry: URL): Worker {
  const resourceLimits = { ...CHART_WORKER_LIMITS };
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { resourceLimits });
  // `execArgv: ['--import', 'tsx']` does not reach a worker's own entry module on Node 20: register in the worker.
  const tsx = pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(code, { eval: true, resourceLimits });
}

/**
 * Renders charts on a worker thread (ECharts SVG and resvg PNG both run there), so a chart never
 * holds up the event loop while the other enrichment answers arrive. Jobs queue while it is busy;
 * abandoning the running job (its signal aborts: over the chart budget) terminates the worker, so a
 * runaway render stops using CPU, and the next job starts a fresh one. When no worker can start at
 * all, charts are rendered in the calling thread instead. The worker starts with the first chart
 * and ends after idling for `idleMs`, so an idle bot holds no chart thread.
 */
export class ChartWorkers {
  private slot: Slot | undefined;
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private unavailable = false;
  /** Some worker loaded its modules once: a later one that dies while loading (a replacement) fails its job alone. */
  private everReady = false;
  readonly stats: ChartWorkerStats = { started: 0, terminated: 0, rendered: 0, inProcess: 0, idleEnded: 0, recycled: 0 };
  private readonly entry: URL;
  private readonly idleMs: number;
  private readonly maxRenders: number;

  constructor(options: ChartWorkersOptions = {}) {
    this.entry = options.entry ?? defaultEntry();
    this.idleMs = options.idleMs ?? CHART_WORKER_IDLE_MS;
    this.maxRenders = options.maxRenders ?? CHART_WORKER_MAX_RENDERS;
  }

  /** The chart as PNG bytes; rejects with the signal's reason when it aborts first. */
  render(spec: ChartSpec, size: ChartSize, signal?: AbortSignal): Promise<Buffer> {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the signal's own reason, as abandon() rejects with it too
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.unavailable) return this.renderHere(spec, size);
    return new Promise<Buffer>((resolve, reject) => {
      const pending: Pending = { job: { id: this.nextId++, spec, size }, resolve, reject, ...(signal ? { signal } : {}) };
      if (signal) {
        pending.onAbort = () => this.abandon(pending, signal.reason);
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      this.queue.push(pending);
      this.pump();
    });
  }

  /** Starts the worker now, so the first chart does not wait for a thread to load ECharts and resvg. */
  warm(): void {
    if (this.unavailable) return;
    if (!this.slot) this.start();
    // An idle worker about to end stays for the chart it was warmed for.
    else if (this.slot.ready && !this.slot.running) this.idle(this.slot);
  }

  /** Terminates the worker; queued and running jobs are rejected. */
  async close(): Promise<void> {
    const error = new Error('chart workers closed');
    const slot = this.slot;
    this.slot = undefined;
    clearTimeout(slot?.idleTimer);
    for (const p of [...(slot?.running ? [slot.running] : []), ...this.queue.splice(0)]) this.settle(p, () => p.reject(error));
    await slot?.worker.terminate();
  }

  /** The fallback when no worker can start: the same rendering, in this thread. */
  private async renderHere(spec: ChartSpec, size: ChartSize): Promise<Buffer> {
    const { renderChartSync } = await import('./chart-runtime.js');
    this.stats.inProcess++;
    return renderChartSync(spec, size);
  }

  /** Hands the next queued job to the worker when it is idle, starting it as needed. */
  private pump(): void {
    if (this.queue.length === 0) return;
    const slot = this.slot ?? this.start();
    if (!slot || slot.running) return;
    const pending = this.queue.shift()!;
    clearTimeout(slot.idleTimer);
    slot.running = pending;
    slot.worker.ref();
    slot.worker.postMessage(pending.job);
  }

  private start(): Slot | undefined {
    let worker: Worker;
    try {
      worker = spawn(this.entry);
    } catch {
      this.giveUp();
      return undefined;
    }
    const slot: Slot = { worker, ready: false, renders: 0 };
    this.slot = slot;
    this.stats.started++;
    worker.on('message', (answer: ChartAnswer) => this.answer(slot, answer));
    worker.on('error', (error) => this.failed(slot, error));
    worker.on('exit', (code) => this.failed(slot, new Error(`chart worker exited with code ${code}`)));
    // After the listeners: adding a 'message' listener refs the worker again.
    worker.unref();
    return slot;
  }

  private answer(slot: Slot, answer: ChartAnswer): void {
    if (slot !== this.slot) return; // terminated after its job was abandoned
    if ('ready' in answer) {
      slot.ready = true;
      this.everReady = true;
      if (!slot.running) this.idle(slot);
      return;
    }
    if (slot.discard === answer.id) {
      slot.discard = undefined;
      return;
    }
    const pending = slot.running;
    slot.running = undefined;
    slot.worker.unref();
    if (pending && pending.job.id === answer.id) {
      if ('png' in answer) {
        this.stats.rendered++;
        slot.renders++;
        const png = Buffer.from(answer.png.buffer, answer.png.byteOffset, answer.png.byteLength);
        this.settle(pending, () => pending.resolve(png));
      } else {
        this.settle(pending, () => pending.reject(new Error(answer.error)));
      }
    }
    if (slot.renders >= this.maxRenders) {
      // Replaced: the next job (queued now or later) starts a fresh worker.
      this.slot = undefined;
      this.stats.recycled++;
      clearTimeout(slot.idleTimer);
      void slot.worker.terminate();
    }
    this.pump();
    if (!slot.running && slot === this.slot) this.idle(slot);
  }

  /** The worker has nothing to do: it ends after idleMs unless a chart comes first (pump clears the timer). */
  private idle(slot: Slot): void {
    clearTimeout(slot.idleTimer);
    slot.idleTimer = setTimeout(() => {
      if (slot !== this.slot || slot.running) return;
      this.slot = undefined;
      this.stats.idleEnded++;
      void slot.worker.terminate();
    }, this.idleMs);
    slot.idleTimer.unref();
  }

  /** The worker errored or exited: its job fails; one that died before it was ready means none can start. */
  private failed(slot: Slot, error: Error): void {
    if (slot !== this.slot) return; // already replaced (terminated on purpose)
    const pending = this.drop(slot);
    if (!slot.ready && !this.everReady) {
      // No worker could even load its module: render here from now on, this job included.
      if (pending) this.queue.unshift(pending);
      this.giveUp();
      return;
    }
    if (pending) this.settle(pending, () => pending.reject(error));
    this.pump();
  }

  /** No worker can start: every queued job renders in the calling thread. */
  private giveUp(): void {
    this.unavailable = true;
    for (const p of this.queue.splice(0)) this.settle(p, () => void this.renderHere(p.job.spec, p.job.size).then(p.resolve, p.reject));
  }

  /** The job's signal aborted: drop it from the queue, or terminate the worker running it. */
  private abandon(pending: Pending, reason: unknown): void {
    const queued = this.queue.indexOf(pending);
    if (queued >= 0) this.queue.splice(queued, 1);
    const slot = this.slot;
    if (slot?.running === pending) {
      // Still loading ECharts and resvg (a cold start): the job goes, the worker stays for the next
      // charts, unless it already failed to get one job done since it started.
      if (!slot.ready && slot.discard === undefined) {
        slot.discard = pending.job.id;
        slot.running = undefined;
      } else this.drop(slot);
    }
    this.settle(pending, () => pending.reject(reason));
    this.pump();
  }

  /** Terminates the worker and forgets it; returns the job it was running. */
  private drop(slot: Slot): Pending | undefined {
    this.slot = undefined;
    clearTimeout(slot.idleTimer);
    this.stats.terminated++;
    const pending = slot.running;
    slot.running = undefined;
    void slot.worker.terminate();
    return pending;
  }

  private settle(pending: Pending, then: () => void): void {
    if (pending.onAbort) pending.signal?.removeEventListener('abort', pending.onAbort);
    then();
  }
}

let shared: ChartWorkers | undefined;

/** The process's chart worker (started on the first chart; idle, it never keeps the process alive). */
export function sharedChartWorkers(): ChartWorkers {
  return (shared ??= new ChartWorkers());
}
