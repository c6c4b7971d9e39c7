// Test-only helpers for the renderer tests: a minimal mapping of the real webhook fixtures to the
// Notification model (the real normaliser lives in src/webhooks/), and synthetic enrichments.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats';
import { expect } from 'vitest';
import type { Alert, Notification } from '../../src/model.js';
import type { AlertEnrichment, IncidentWindow } from '../../src/pipeline/types.js';
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

/** The shared fixtures directory, found from the repo root at run time. */
export const WEBHOOKS_DIR = fileURLToPath(new URL('../../../shared/fixtures/webhooks/', import.meta.url));

interface RawAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
  fingerprint: string;
  silenceURL?: string;
  dashboardURL?: string;
  panelURL?: string;
  values?: Record<string, number> | null;
}

interface RawWebhook {
  receiver: string;
  status: 'firing' | 'resolved';
  alerts: RawAlert[];
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL?: string;
  groupKey: string;
  truncatedAlerts?: number;
  orgId?: number;
}

function optionalDate(text: string): Date | undefined {
  return text.startsWith('0001-') ? undefined : new Date(text);
}

function exprOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).searchParams.get('g0.expr') ?? undefined;
  } catch {
    return undefined;
  }
}

/** Reads ../shared/fixtures/webhooks/<name> and maps it to a Notification. */
export function loadWebhook(name: string): Notification {
  const raw = JSON.parse(readFileSync(`${WEBHOOKS_DIR}${name}`, 'utf8')) as RawWebhook;
  const source = 'orgId' in raw ? 'grafana' : 'alertmanager';
  const alerts: Alert[] = raw.alerts.map((a) => {
    const alert: Alert = {
      fingerprint: a.fingerprint,
      status: a.status,
      labels: a.labels,
      annotations: a.annotations,
      startsAt: new Date(a.startsAt),
      source,
    };
    const endsAt = optionalDate(a.endsAt);
    if (endsAt) alert.endsAt = endsAt;
    if (a.generatorURL) alert.generatorURL = a.generatorURL;
    const expr = exprOf(a.generatorURL);
    if (expr) alert.expr = expr;
    if (a.values) alert.values = a.values;
    if (a.silenceURL) alert.silenceURL = a.silenceURL;
    if (a.dashboardURL) alert.dashboardURL = a.dashboardURL;
    if (a.panelURL) alert.panelURL = a.panelURL;
    return alert;
  });
  return {
    source,
    receiver: raw.receiver,
    status: raw.status,
    groupKey: raw.groupKey,
    groupLabels: raw.groupLabels,
    commonLabels: raw.commonLabels,
    commonAnnotations: raw.commonAnnotations,
    ...(raw.externalURL ? { externalURL: raw.externalURL } : {}),
    truncatedAlerts: raw.truncatedAlerts ?? 0,
    alerts,
  };
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
 * (../shared/discord/openapi.json); ajv counts string lengths in code points, as Discord does.
 * The spec allows 4000 characters of content where the docs say 2000: the docs win (limits.ts).
 */
export function messageValidator(): (body: unknown) => string[] {
  const spec = JSON.parse(readFileSync(fileURLToPath(new URL('../../../shared/discord/openapi.json', import.meta.url)), 'utf8')) as {
    components: unknown;
  };
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  // ajv-formats is CommonJS: under NodeNext its default import is the module object.
  const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? addFormatsModule) as FormatsPlugin;
  addFormats(ajv);
  ajv.addFormat('snowflake', /^\d+$/);
  ajv.addFormat('nonce', true);
  ajv.addSchema({ $id: 'discord', components: spec.components });
  const validate = ajv.getSchema('discord#/components/schemas/MessageCreateRequest')!;
  return (body) => (validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`));
}
