// Chart worker threads: a chart renders off the event loop to the same pixels as in this thread;
// jobs queue, an abandoned job's worker is terminated and replaced, a worker is replaced after
// maxRenders charts, a worker's error fails only its job, and when no worker can start charts still render here.
import { PNG } from 'pngjs';
import { afterEach, describe, expect, it } from 'vitest';
import { renderChartSync, type BarChartSpec, type ChartSize, type ChartSpec, type TimeChartSpec } from '../../src/render/chart.js';
import { ChartWorkers } from '../../src/render/chart-workers.js';
import { eventually } from '../support/eventually.js';

const SIZE: ChartSize = { width: 800, height: 400 };
const T0 = Date.UTC(2026, 10, 21, 9, 0);

const timeSpec = (title = 'rate(http_requests_total[5m])'): TimeChartSpec => ({
  kind: 'time',
  title,
  lines: [0, 1].map((k) => ({
    name: `api-${k}`,
    points: Array.from({ length: 120 }, (_, i) => ({ at: new Date(T0 + i * 15_000), value: 10 + k * 5 + Math.sin(i / 7) * 4 })),
  })),
  unit: 'requests_per_second',
  start: new Date(T0),
  end: new Date(T0 + 119 * 15_000),
  threshold: { op: '>', value: 18 },
  firingAt: new Date(T0 + 80 * 15_000),
});

const barSpec: BarChartSpec = {
  kind: 'bar',
  title: 'Top containers by CPU',
  bars: [
    { label: 'api', value: 93.2 },
    { label: 'postgres', value: 45.1 },
  ],
  unit: 'percent',
};

/** A spec the renderer throws on (no bars to map). */
const broken = { kind: 'bar', title: 'broken', unit: 'percent' } as unknown as ChartSpec;

const pools: ChartWorkers[] = [];
function pool(...args: ConstructorParameters<typeof ChartWorkers>): ChartWorkers {
  const p = new ChartWorkers(...args);
  pools.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

function decode(png: Buffer): PNG {
  return PNG.sync.read(png);
}

describe('chart workers', () => {
  it.each([
    ['a time chart', timeSpec()],
    ['a bar chart', barSpec],
  ])('renders %s on a worker thread to the same pixels as rendering in this thread', async (_name, spec) => {
    const workers = pool();
    const png = await workers.render(spec, SIZE);
    const here = renderChartSync(spec, SIZE);
    const [a, b] = [decode(png), decode(here)];
    expect([a.width, a.height]).toEqual([800, spec.kind === 'time' ? 400 : b.height]);
    expect(a.data.equals(b.data)).toBe(true);
    expect(workers.stats).toMatchObject({ started: 1, rendered: 1, inProcess: 0 });
  });

  it('queues jobs while its one worker is busy and renders them all on that worker', async () => {
    const workers = pool();
    const pngs = await Promise.all(['first', 'second', 'third'].map((t) => workers.render(timeSpec(t), SIZE)));
    for (const png of pngs) expect(decode(png).width).toBe(800);
    expect(new Set(pngs.map((p) => p.toString('base64'))).size).toBe(3); // three titles, three images
    expect(workers.stats).toMatchObject({ started: 1, rendered: 3, terminated: 0 });
  });

  it('keeps a worker still loading when its job is abandoned (a cold start), and renders the next chart on it', async () => {
    const workers = pool();
    const controller = new AbortController();
    const abandoned = workers.render(timeSpec(), SIZE, controller.signal);
    // The worker is still loading ECharts and resvg: the job is running, not done.
    setTimeout(() => controller.abort(new Error('over the chart budget of 1 ms')), 5);
    await expect(abandoned).rejects.toThrow('over the chart budget of 1 ms');
    const next = await workers.render(barSpec, SIZE);
    expect(decode(next).width).toBe(800);
    // The abandoned chart's answer was dropped: one chart rendered, by the first and only worker.
    expect(workers.stats).toMatchObject({ started: 1, terminated: 0, rendered: 1 });
  });

  it('terminates a loaded worker whose job is abandoned (a runaway render), rejects it, and starts a new worker for the next', async () => {
    const workers = pool();
    await workers.render(barSpec, SIZE);
    const controller = new AbortController();
    const abandoned = workers.render(timeSpec(), SIZE, controller.signal);
    controller.abort(new Error('over the chart budget of 0 ms'));
    await expect(abandoned).rejects.toThrow('over the chart budget of 0 ms');
    expect(workers.stats).toMatchObject({ started: 1, terminated: 1, rendered: 1 });
    expect(decode(await workers.render(barSpec, SIZE)).width).toBe(800);
    expect(workers.stats).toMatchObject({ started: 2, terminated: 1, rendered: 2 });
  });

  it('drops a queued job whose signal aborts without touching the running one', async () => {
    const workers = pool();
    const controller = new AbortController();
    const running = workers.render(timeSpec(), SIZE);
    const queued = workers.render(barSpec, SIZE, controller.signal);
    controller.abort(new Error('gave up waiting'));
    await expect(queued).rejects.toThrow('gave up waiting');
    expect(decode(await running).width).toBe(800);
    expect(workers.stats).toMatchObject({ started: 1, terminated: 0, rendered: 1 });
  });

  it('rejects a job already aborted without starting a worker', async () => {
    const workers = pool();
    await expect(workers.render(timeSpec(), SIZE, AbortSignal.abort(new Error('too late')))).rejects.toThrow('too late');
    expect(workers.stats.started).toBe(0);
  });

  it('fails only the job the renderer throws on, with its message, and keeps the worker for the next', async () => {
    const workers = pool();
    await expect(workers.render(broken, SIZE)).rejects.toThrow(/Cannot read properties of undefined/);
    expect(decode(await workers.render(barSpec, SIZE)).width).toBe(800);
    expect(workers.stats).toMatchObject({ started: 1, terminated: 0, rendered: 1 });
  });

  it('fails the job of a worker that dies while rendering, and starts a new worker for the next', async () => {
    const workers = pool({ entry: new URL('./fixtures/crashing-chart-worker.mjs', import.meta.url) });
    await expect(workers.render(timeSpec(), SIZE)).rejects.toThrow('chart worker exited with code 3');
    await expect(workers.render(barSpec, SIZE)).rejects.toThrow('chart worker exited with code 3');
    // It was ready before dying: a failed render, not a worker that cannot start (no fallback here).
    expect(workers.stats).toMatchObject({ started: 2, terminated: 2, rendered: 0, inProcess: 0 });
  });

  it('starts its worker when warmed, before the first chart', async () => {
    const workers = pool();
    workers.warm();
    expect(workers.stats.started).toBe(1);
    expect(decode(await workers.render(barSpec, SIZE)).width).toBe(800);
    expect(workers.stats).toMatchObject({ started: 1, rendered: 1 });
  });

  it('ends its worker after idling for idleMs and starts a new one for the next chart', async () => {
    const workers = pool({ idleMs: 200 });
    expect(decode(await workers.render(barSpec, SIZE)).width).toBe(800);
    expect(workers.stats).toMatchObject({ started: 1, idleEnded: 0 });
    await eventually('the idle worker to end', () => (workers.stats.idleEnded === 1 ? true : undefined), 5000, 20);
    expect(decode(await workers.render(timeSpec(), SIZE)).width).toBe(800);
    expect(workers.stats).toMatchObject({ started: 2, rendered: 2, idleEnded: 1, terminated: 0 });
  });

  it('replaces its worker after maxRenders charts, queued charts included, so a steady stream never keeps one growing', async () => {
    const workers = pool({ maxRenders: 2 });
    const pngs = await Promise.all(Array.from({ length: 5 }, (_, i) => workers.render(i % 2 ? barSpec : timeSpec(), SIZE)));
    expect(pngs.map((p) => decode(p).width)).toEqual([800, 800, 800, 800, 800]);
    expect(workers.stats).toMatchObject({ started: 3, rendered: 5, recycled: 2, terminated: 0 });
  });

  it('keeps a busy worker past idleMs: a queue of charts never sees it end', async () => {
    const workers = pool({ idleMs: 1 });
    const pngs = await Promise.all(['a', 'b', 'c', 'd'].map((t) => workers.render(timeSpec(t), SIZE)));
    expect(pngs).toHaveLength(4);
    expect(workers.stats).toMatchObject({ started: 1, rendered: 4 });
  });

  it('keeps an idle worker for the chart it is warmed for, past its idle time', async () => {
    const workers = pool({ idleMs: 400 });
    await workers.render(barSpec, SIZE);
    await new Promise((r) => setTimeout(r, 250));
    workers.warm(); // re-arms the idle timer: 250 + 400 ms from the render
    await new Promise((r) => setTimeout(r, 250));
    expect(workers.stats.idleEnded).toBe(0);
    await eventually('the idle worker to end', () => (workers.stats.idleEnded === 1 ? true : undefined), 5000, 20);
    expect(workers.stats.started).toBe(1);
  });

  it('renders in this thread when no worker can load its module', async () => {
    const workers = pool({ entry: new URL('./no-such-chart-worker.js', import.meta.url) });
    const [a, b] = await Promise.all([workers.render(timeSpec(), SIZE), workers.render(barSpec, SIZE)]);
    expect(decode(a).width).toBe(800);
    expect(decode(b).width).toBe(800);
    expect(workers.stats).toMatchObject({ rendered: 0, inProcess: 2 });
    // Later charts do not try to start a worker again.
    await workers.render(barSpec, SIZE);
    expect(workers.stats).toMatchObject({ started: 1, inProcess: 3 });
  });

  it('rejects the queued and running jobs when closed', async () => {
    const workers = pool();
    const jobs = [workers.render(timeSpec(), SIZE), workers.render(barSpec, SIZE)].map((j) =>
      j.then(
        () => 'rendered',
        (e: Error) => e.message,
      ),
    );
    await workers.close();
    expect(await Promise.all(jobs)).toEqual(['chart workers closed', 'chart workers closed']);
  });
});
