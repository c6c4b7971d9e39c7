// Whatever a sender posts, intake answers with a verdict of its own and never throws: any JSON, any
// bytes, and the real fixtures with their labels and annotations replaced by generated text (kept
// exactly); signed interactions with generated bodies get 200 or a 4xx, never a 5xx.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interactionsRoute, type InteractionRouter } from '../../src/discord/interactions.js';
import { createVerifier } from '../../src/discord/verify.js';
import { createLogger } from '../../src/log.js';
import { parseConfig } from '../../src/config/load.js';
import type { RouteRequest } from '../../src/server.js';
import { parseWebhook, type WebhookRoute } from '../../src/webhooks/intake.js';
import { createRest } from '../../src/discord/rest.js';
import { commandInteraction, generateTestKeys, signatureHeaders } from '../support/interactions.js';
import { fixtureJson, FIXTURE_NAMES } from '../webhooks/fixtures.js';

const RUNS = 300;
const NOW = new Date('2026-11-21T09:00:00.000Z');
const ROUTES: WebhookRoute[] = ['alertmanager', 'grafana', 'any'];
const INTAKE_STATUSES = [400, 413, 415, 422];
const labelName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,20}$/);
const labels = fc.dictionary(labelName, fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }), { maxKeys: 8 });

describe('webhook intake (property)', () => {
  it('answers any JSON value on any route with a notification or a 4xx of its own', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ROUTES), fc.jsonValue({ maxDepth: 6 }), (route, value) => {
        const result = parseWebhook(route, 'application/json', Buffer.from(JSON.stringify(value) ?? 'null'), NOW);
        if (!result.ok) {
          expect(INTAKE_STATUSES).toContain(result.status);
          expect(result.error.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('answers any bytes with a 4xx saying what is wrong, never a throw', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ROUTES), fc.uint8Array({ maxLength: 300 }), (route, bytes) => {
        const result = parseWebhook(route, 'application/json', Buffer.from(bytes), NOW);
        if (!result.ok) expect(INTAKE_STATUSES).toContain(result.status);
      }),
      { numRuns: RUNS },
    );
  });

  it.each(FIXTURE_NAMES)('keeps any labels and annotations of %s exactly as sent', (name) => {
    const route: WebhookRoute = name.startsWith('grafana') ? 'grafana' : 'alertmanager';
    fc.assert(
      fc.property(labels, labels, (extraLabels, annotations) => {
        const body = fixtureJson(name);
        const alert = body.alerts[0]! as { labels: Record<string, string>; annotations: Record<string, string> };
        alert.labels = { ...alert.labels, ...extraLabels, alertname: alert.labels.alertname! };
        alert.annotations = annotations;
        const result = parseWebhook(route, 'application/json', Buffer.from(JSON.stringify(body)), NOW);
        if (!result.ok) throw new Error(result.error);
        const got = result.notification.alerts[0]!;
        expect(got.labels).toEqual(alert.labels);
        for (const [k, v] of Object.entries(annotations)) expect(got.annotations[k]).toBe(v);
      }),
      { numRuns: 100 },
    );
  });
});

describe('the config loader (property)', () => {
  it('answers any YAML text with a config or a list of errors, never a throw', () => {
    const yamlish = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      fc
        .dictionary(fc.constantFrom('webhook', 'discord', 'prometheus', 'loki', 'delivery', 'charts', 'x'), fc.jsonValue({ maxDepth: 3 }))
        .map((o) => JSON.stringify(o)),
    );
    fc.assert(
      fc.property(yamlish, (text) => {
        const r = parseConfig(text, {});
        if (!r.ok) {
          expect(r.errors.length).toBeGreaterThan(0);
          for (const e of r.errors) expect(typeof e).toBe('string');
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('signed interactions (property)', () => {
  const keys = generateTestKeys();
  const handled: string[] = [];
  const router: InteractionRouter = {
    async handleCommand(ctx) {
      handled.push(ctx.commandName);
      await ctx.reply({ content: 'ok' });
    },
    async handleAutocomplete(ctx) {
      await ctx.respond([]);
    },
    async handleComponent(ctx) {
      await ctx.deferUpdate();
    },
  };
  const route = interactionsRoute({
    verify: createVerifier(keys.publicKeyHex),
    router,
    rest: createRest({ token: 'property-test-token', apiBaseUrl: 'http://127.0.0.1:9' }),
    logger: createLogger({ level: 'silent' }),
  });

  const request = (body: string): RouteRequest => ({
    method: 'POST',
    path: '/interactions',
    query: new URLSearchParams(),
    headers: { 'content-type': 'application/json', ...signatureHeaders(body, keys) },
    body: Buffer.from(body),
  });

  it('answers any signed JSON with 200 or a 4xx of its own', async () => {
    const bodies = fc.oneof(
      fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v) ?? 'null'),
      // A real command interaction with generated fields laid over it.
      fc
        .dictionary(fc.constantFrom('type', 'id', 'data', 'token', 'member', 'user', 'application_id', 'guild_id'), fc.jsonValue({ maxDepth: 3 }))
        .map((over) => JSON.stringify({ ...commandInteraction('echo'), ...over })),
      fc.string({ maxLength: 100 }),
    );
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const answer = await route.handle(request(body));
        expect(answer.status === 200 || (answer.status >= 400 && answer.status < 500)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
