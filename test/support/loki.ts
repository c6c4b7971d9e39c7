import { startLokiDouble } from './loki-double.js';
import { lokiBinary, pushToLoki, startLoki, type PushStream } from './procs.js';

/*
 * The Loki the LogQL end-to-end tests run against: a real Loki single binary when there is one
 * (LOKI_BIN, or `loki` on PATH; see the README's "Tests"), else the Loki double serving only what
 * the tests push. Both take the same pushes through Loki's push API and answer the same queries,
 * so each test is written once. Fault cases (timeouts, 5xx, limits) stay on the double alone.
 */

/** A running Loki a test can push lines to and query. */
export interface LokiBackend {
  /** 'loki' for the real binary, 'double' for test/support/loki-double.ts. */
  kind: 'loki' | 'double';
  url: string;
  /** Sends streams through POST /loki/api/v1/push (values sorted oldest first per stream, as Loki wants them). */
  push(streams: PushStream[]): Promise<void>;
  stop(): Promise<void>;
}

/** The real Loki binary the LogQL tests use, or undefined when they run against the double. */
export const LOKI_BIN = lokiBinary();

/** One line saying which Loki the LogQL tests run against, and how to get the real one. */
export function lokiBackendNote(binary: string | undefined): string {
  return binary
    ? `LogQL e2e tests: real Loki at ${binary}`
    : 'LogQL e2e tests: no Loki binary (LOKI_BIN unset, no loki on PATH), running them against the Loki double; see README "Tests"';
}

/** Starts the real Loki when there is one, else the double in 'pushed' mode. */
export async function startLokiBackend(): Promise<LokiBackend> {
  if (LOKI_BIN) {
    const loki = await startLoki({ binary: LOKI_BIN });
    return { kind: 'loki', url: loki.url, push: (s) => loki.push(sorted(s)), stop: () => loki.stop() };
  }
  const double = await startLokiDouble({ data: 'pushed' });
  return { kind: 'double', url: double.url, push: (s) => pushToLoki(double.url, sorted(s)), stop: () => double.stop() };
}

/** Each stream's values oldest first: Loki refuses a line far older than the newest of its stream. */
function sorted(streams: PushStream[]): PushStream[] {
  return streams.map((s) => ({ ...s, values: [...s.values].sort(([a], [b]) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0)) }));
}

/** A push stream from lines at given times. */
export function streamOf(labels: Record<string, string>, lines: ReadonlyArray<{ at: Date; line: string }>): PushStream {
  return { stream: labels, values: lines.map(({ at, line }) => [`${BigInt(at.getTime()) * 1_000_000n}`, line]) };
}

/** `n` lines spread evenly over (from, to), oldest first, each in the middle of its share. */
export function spreadLines(n: number, from: Date, to: Date, make: (i: number) => string): Array<{ at: Date; line: string }> {
  const span = to.getTime() - from.getTime();
  return Array.from({ length: n }, (_, i) => ({ at: new Date(from.getTime() + (span * (i + 0.5)) / n), line: make(i) }));
}
