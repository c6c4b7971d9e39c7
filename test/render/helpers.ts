// Test-only helpers for the renderer tests: the real webhook fixtures through the real intake
// (parseWebhook), synthetic enrichments, and checks against Discord's limits and OpenAPI spec.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { Alert, Notification } from '../../src/model.js';
import { parseWebhook } from '../../src/webhooks/intake.js';
import type { AlertEnrichment, IncidentWindow } from '../../src/findings.js';
import {
  EMBED_AUTHOR_NAME,
  EMBED_DESCRIPTION,
  EMBED_FIELDS,
  EMBED_FIELD_NAME,
  EMBED_FIELD_VALUE,
  EMBED_FOOTER_TEXT,
  EMBED_TITLE,
  EMBED_TOTAL,
  EMBED_URL,
  MESSAGE_CONTENT,
  MESSAGE_EMBEDS,
} from '../../src/render/limits.js';
import { codePointLength, totalLength, type MessageBody } from '../../src/render/truncate.js';
import { specSchemaErrors } from '../support/discord-double.js';

/** The webhook fixtures directory (test/fixtures/webhooks). */
export const WEBHOOKS_DIR = fileURLToPath(new URL('../fixtures/webhooks/', import.meta.url));

/** Reads test/fixtures/webhooks/<name> and normalises it with the real intake code. */
export function loadWebhook(name: string): Notification {
  // The zero-time start of Grafana's default payload becomes this fixed "time of receipt".
  const receivedAt = new Date('2026-11-21T09:00:00Z');
  const parsed = parseWebhook('any', 'application/json', readFileSync(`${WEBHOOKS_DIR}${name}`), receivedAt);
  if (!parsed.ok) throw new Error(`fixture ${name} does not parse: ${parsed.error}`);
  return parsed.notification;
}

/** A window around `startsAt`: 30m lookback for metrics, ±5m for logs, ending at `end`. */
export function windowAround(startsAt: Date, end: Date): IncidentWindow {
  return {
    start: new Date(startsAt.getTime() - 30 * 60_000),
    end,
    stepSeconds: 15,
    logStart: new Date(startsAt.getTime() - 5 * 60_000),
    logEnd: new Date(Math.min(end.getTime(), startsAt.getTime() + 5 * 60_000)),
  };
}

/** An enrichment with nothing found and no failure; override what the test needs. */
export function enrichment(alert: Alert, end: Date, over: Partial<AlertEnrichment> = {}): AlertEnrichment {
  return { fingerprint: alert.fingerprint, window: windowAround(alert.startsAt, end), failures: [], ...over };
}

/** A deterministic PRNG (mulberry32) so property tests are reproducible from their seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Matches a surrogate half without its partner (a broken character). */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Every Discord size limit `body` breaks, as "<part> <length> > <limit>". */
export function limitViolations(body: MessageBody): string[] {
  const out: string[] = [];
  const check = (part: string, length: number, max: number) => {
    if (length > max) out.push(`${part} ${length} > ${max}`);
  };
  if (typeof body.content === 'string') check('content', codePointLength(body.content), MESSAGE_CONTENT);
  const embeds = body.embeds ?? [];
  check('embeds', embeds.length, MESSAGE_EMBEDS);
  embeds.forEach((e, i) => {
    check(`embeds[${i}].title`, codePointLength(e.title ?? ''), EMBED_TITLE);
    check(`embeds[${i}].description`, codePointLength(e.description ?? ''), EMBED_DESCRIPTION);
    check(`embeds[${i}].footer`, codePointLength(e.footer?.text ?? ''), EMBED_FOOTER_TEXT);
    check(`embeds[${i}].author`, codePointLength(e.author?.name ?? ''), EMBED_AUTHOR_NAME);
    check(`embeds[${i}].url`, (e.url ?? '').length, EMBED_URL);
    check(`embeds[${i}].fields`, (e.fields ?? []).length, EMBED_FIELDS);
    (e.fields ?? []).forEach((f, j) => {
      check(`embeds[${i}].fields[${j}].name`, codePointLength(f.name), EMBED_FIELD_NAME);
      check(`embeds[${i}].fields[${j}].value`, codePointLength(f.value), EMBED_FIELD_VALUE);
    });
  });
  check('embeds total', totalLength(embeds.slice(0, MESSAGE_EMBEDS)), EMBED_TOTAL);
  return out;
}

/** Asserts every limit holds, no field is empty and no character was split. */
export function expectWithinLimits(body: MessageBody): void {
  const problems = limitViolations(body);
  (body.embeds ?? []).forEach((e, i) => {
    (e.fields ?? []).forEach((f, j) => {
      if (!f.name.trim() || !f.value.trim()) problems.push(`embeds[${i}].fields[${j}] is empty`);
    });
    const texts = [e.title, e.description, e.footer?.text, e.author?.name, ...(e.fields ?? []).flatMap((f) => [f.name, f.value])];
    if (texts.some((t) => LONE_SURROGATE.test(t ?? ''))) problems.push(`embeds[${i}] has a split character`);
  });
  if (LONE_SURROGATE.test(body.content ?? '')) problems.push('content has a split character');
  expect(problems).toEqual([]);
}

/** One recorded warn call. */
export interface Warning {
  msg: string;
  details: Record<string, unknown>;
}

/** A warn function that records its calls. */
export function recorder(): { warn: (msg: string, details: Record<string, unknown>) => void; calls: Warning[] } {
  const calls: Warning[] = [];
  return { warn: (msg, details) => calls.push({ msg, details }), calls };
}

/**
 * A validator for Discord's create-message body from Discord's own OpenAPI spec
 * (test/fixtures/discord/openapi.json), the Discord double's, compiled once for the whole run.
 */
export function messageValidator(): (body: unknown) => string[] {
  return (body) => specSchemaErrors('MessageCreateRequest', body);
}

/** The instances a details listing names: its lines other than the head lines, split at the commas. */
export function listedInstances(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => !line.includes(' · since <t:'))
    .flatMap((line) => line.split(', '));
}
