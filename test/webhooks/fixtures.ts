import { readFileSync } from 'node:fs';

/** The shared webhook fixtures directory (../shared from the repo root), read at runtime, never copied. */
export const FIXTURES_DIR = new URL('../../../shared/fixtures/webhooks/', import.meta.url);

/** The names of the real webhook bodies captured in ../shared/fixtures/webhooks. */
export const FIXTURE_NAMES = [
  'grafana-firing.json',
  'grafana-firing-default-payload.json',
  'alertmanager-firing.json',
  'alertmanager-resolved.json',
] as const;

/** One fixture exactly as the sender posted it. */
export function fixtureBytes(name: string): Buffer {
  return readFileSync(new URL(name, FIXTURES_DIR));
}

/** One fixture parsed into a fresh, mutable object. */
export function fixtureJson(name: string): Record<string, unknown> & { alerts: Record<string, unknown>[] } {
  return JSON.parse(fixtureBytes(name).toString('utf8')) as Record<string, unknown> & { alerts: Record<string, unknown>[] };
}
