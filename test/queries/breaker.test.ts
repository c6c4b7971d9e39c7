import { describe, expect, it } from 'vitest';
import { breakerClient, DOWN_PROBE_MS, TIMEOUTS_TO_DOWN } from '../../src/queries/calls.js';
import { QueryError } from '../../src/queries/http.js';

type Outcome = 'ok' | 'timeout' | 'http' | 'network';

/** The backend's own timeout, as backendClients passes it. */
const TIMEOUT_MS = 2000;

/** A client whose next calls end as told (a timeout after `took` ms of the clock), counting the calls that reached it. */
function fakeBackend(advance: (ms: number) => void) {
  const state = { next: 'timeout' as Outcome, calls: 0, ready: 0, took: TIMEOUT_MS };
  const client = {
    async query(q: string): Promise<string> {
      state.calls++;
      await Promise.resolve();
      if (state.next === 'ok') return `answer to ${q}`;
      if (state.next === 'timeout') {
        advance(state.took);
        throw new QueryError('timeout', 'Loki timed out after 2s');
      }
      if (state.next === 'http') throw new QueryError('http', 'Loki answered 500', 500);
      throw new QueryError('network', 'Loki unreachable: connect ECONNREFUSED');
    },
    async ready(): Promise<boolean> {
      state.ready++;
      return true;
    },
  };
  return { state, client };
}

function setup() {
  let t = Date.parse('2026-12-06T12:03:00Z');
  const backend = fakeBackend((ms) => (t += ms));
  const events: string[] = [];
  const client = breakerClient(backend.client, {
    name: 'Loki',
    timeoutMs: TIMEOUT_MS,
    now: () => new Date(t),
    events: { down: (since) => events.push(`down since ${since.toISOString()}`), up: (ms) => events.push(`up after ${ms} ms`) },
  });
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (err: QueryError) => `${err.kind}: ${err.message}`,
    );
  return { backend, client, events, failure, advance: (ms: number) => (t += ms) };
}

describe('breakerClient', () => {
  it(`asks a backend that timed out ${TIMEOUTS_TO_DOWN} times in a row no more, failing at once and saying since when`, async () => {
    const { backend, client, events, failure } = setup();
    for (let i = 0; i < TIMEOUTS_TO_DOWN; i++) expect(await failure(client.query('q'))).toBe('timeout: Loki timed out after 2s');
    expect(events).toEqual(['down since 2026-12-06T12:03:06.000Z']);
    expect(await failure(client.query('q'))).toBe('down: Loki not queried: not answering since 12:03 UTC');
    expect(backend.state.calls).toBe(TIMEOUTS_TO_DOWN);
  });

  it(`lets one call through as a probe every ${DOWN_PROBE_MS / 1000} s, and asks again as usual once it is answered`, async () => {
    const { backend, client, events, failure, advance } = setup();
    for (let i = 0; i < TIMEOUTS_TO_DOWN; i++) await failure(client.query('q'));
    advance(DOWN_PROBE_MS - 1);
    expect(await failure(client.query('q'))).toMatch(/^down: /);
    advance(1);
    // The probe still times out: not asked again for another interval.
    expect(await failure(client.query('q'))).toMatch(/^timeout: /);
    expect(backend.state.calls).toBe(TIMEOUTS_TO_DOWN + 1);
    expect(await failure(client.query('q'))).toMatch(/^down: /);
    advance(DOWN_PROBE_MS);
    backend.state.next = 'ok';
    // While the probe is out, the others do not pile onto the backend.
    const [probe, meanwhile] = [client.query('probe'), failure(client.query('other'))];
    expect(await meanwhile).toMatch(/^down: /);
    expect(await probe).toBe('answer to probe');
    expect(events).toEqual(['down since 2026-12-06T12:03:06.000Z', `up after ${2 * DOWN_PROBE_MS + TIMEOUT_MS} ms`]);
    expect(await client.query('q')).toBe('answer to q');
  });

  it.each<Outcome>(['http', 'network'])('counts only silence: a %s error between timeouts starts the count again', async (answer) => {
    const { backend, client, events, failure } = setup();
    for (let round = 0; round < 3; round++) {
      backend.state.next = 'timeout';
      for (let i = 0; i < TIMEOUTS_TO_DOWN - 1; i++) await failure(client.query('q'));
      backend.state.next = answer;
      await failure(client.query('q'));
    }
    expect(events).toEqual([]);
    expect(backend.state.calls).toBe(3 * TIMEOUTS_TO_DOWN);
  });

  it("never counts a caller's own shorter timeout (autocomplete, the tail of an enrichment) against the backend", async () => {
    const { backend, client, events, failure } = setup();
    backend.state.took = TIMEOUT_MS / 4;
    for (let i = 0; i < 3 * TIMEOUTS_TO_DOWN; i++) expect(await failure(client.query('q'))).toMatch(/^timeout: /);
    expect(events).toEqual([]);
    expect(backend.state.calls).toBe(3 * TIMEOUTS_TO_DOWN);
  });

  it('always lets the health check through', async () => {
    const { backend, client, failure } = setup();
    for (let i = 0; i < TIMEOUTS_TO_DOWN; i++) await failure(client.query('q'));
    expect(await client.ready()).toBe(true);
    expect(backend.state.ready).toBe(1);
  });
});
