// The shared bound on queries in flight: a semaphore, and clients whose every call goes through one.
import { describe, expect, it } from 'vitest';
import { boundedClient, semaphore } from '../../src/queries/calls.js';

/** A task that runs until released, counting how many run at once. */
function gauge() {
  let running = 0;
  let peak = 0;
  const releases: Array<() => void> = [];
  const task =
    (fail = false) =>
    () =>
      new Promise<string>((resolve, reject) => {
        running++;
        peak = Math.max(peak, running);
        releases.push(() => {
          running--;
          if (fail) reject(new Error('backend down'));
          else resolve('ok');
        });
      });
  const releaseAll = async () => {
    // Released one by one, each after the next task had its turn to start.
    while (releases.length) {
      releases.shift()!();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { task, releaseAll, peak: () => peak, started: () => releases.length };
}

describe('semaphore', () => {
  it.each([1, 2, 5])('runs at most %i tasks at once and every task in the end', async (limit) => {
    const gate = semaphore(limit);
    const g = gauge();
    const all = Promise.all(Array.from({ length: 12 }, () => gate(g.task())));
    await new Promise((r) => setImmediate(r));
    expect(g.started()).toBe(limit);
    await g.releaseAll();
    expect(await all).toHaveLength(12);
    expect(g.peak()).toBe(limit);
  });

  it('frees the slot of a task that fails, and passes its error on', async () => {
    const gate = semaphore(1);
    const g = gauge();
    const failing = gate(g.task(true));
    const next = gate(g.task());
    // Its handler in place before it rejects (an unhandled rejection fails the run).
    const failed = expect(failing).rejects.toThrow('backend down');
    await g.releaseAll();
    await failed;
    await expect(next).resolves.toBe('ok');
  });

  it('fails a task that waited maxWaitMs for its turn as a timeout, without running it, and keeps the slots right', async () => {
    const gate = semaphore(1, 50);
    const g = gauge();
    const running = gate(g.task());
    let ran = false;
    const late = gate(async () => {
      ran = true;
      return 'late';
    });
    await expect(late).rejects.toThrow('waited 50ms for one of 1 query slots');
    expect(ran).toBe(false);
    await g.releaseAll();
    await expect(running).resolves.toBe('ok');
    // The slot is free again: the next task runs at once.
    await expect(gate(async () => 'next')).resolves.toBe('next');
  });

  it('serves waiting tasks first come, first served', async () => {
    const gate = semaphore(1);
    const order: number[] = [];
    await Promise.all([1, 2, 3, 4].map((i) => gate(async () => void order.push(i))));
    expect(order).toEqual([1, 2, 3, 4]);
  });
});

describe('boundedClient', () => {
  it("bounds every method's calls together, keeps `this`, and leaves other properties alone", async () => {
    const g = gauge();
    const client = {
      name: 'prometheus',
      calls: 0,
      query(this: { calls: number }) {
        this.calls++;
        return g.task()();
      },
      queryRange(this: { calls: number }) {
        this.calls++;
        return g.task()();
      },
    };
    const bounded = boundedClient(client, 3);
    const all = Promise.all([bounded.query(), bounded.queryRange(), bounded.query(), bounded.queryRange(), bounded.query()]);
    await new Promise((r) => setImmediate(r));
    expect(g.started()).toBe(3);
    await g.releaseAll();
    expect(await all).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(g.peak()).toBe(3);
    expect(client.calls).toBe(5);
    expect(bounded.name).toBe('prometheus');
  });

  it('lets a health check (ready) through while every slot is busy', async () => {
    const g = gauge();
    const client = { query: () => g.task()(), ready: async () => 'ready' };
    const bounded = boundedClient(client, 1, 1000);
    const busy = bounded.query();
    await expect(bounded.ready()).resolves.toBe('ready');
    await g.releaseAll();
    await busy;
  });
});
