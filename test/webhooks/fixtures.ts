import { readFileSync } from 'node:fs';

/** The webhook fixtures directory (test/fixtures/webhooks, see its SOURCES.md). */
export const FIXTURES_DIR = new URL('../fixtures/webhooks/', import.meta.url);

/** The names of the real webhook bodies captured in test/fixtures/webhooks. */
export const FIXTURE_NAMES = ['grafana-firing.json', 'grafana-firing-default-payload.json', 'alertmanager-firing.json', 'alertmanager-resolved.json'] as const;

/** One fixture exactly as the sender posted it. */
export function fixtureBytes(name: string): Buffer {
  return readFileSync(new URL(name, FIXTURES_DIR));
}

/** One fixture parsed into a fresh, mutable object. */
export function fixtureJson(name: string): Record<string, unknown> & { alerts: Record<string, unknown>[] } {
  return JSON.parse(fixtureBytes(name).toString('utf8')) as Record<string, unknown> & { alerts: Record<string, unknown>[] };
}
