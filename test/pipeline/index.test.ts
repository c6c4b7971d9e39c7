import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIButtonComponentWithCustomId, RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseCustomId } from '../../src/commands/router.js';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import type { Notification } from '../../src/model.js';
import { processNotification, type PipelineDeps } from '../../src/pipeline/index.js';
import { createLokiClient } from '../../src/queries/loki.js';
import { createPrometheusClient } from '../../src/queries/prometheus.js';
import { ackLine } from '../../src/render/alert.js';
import { alertButtons } from '../../src/render/buttons.js';
import { acknowledge } from '../../src/store/acks.js';
import { openDatabase, type Database } from '../../src/store/db.js';
import { latestIncident } from '../../src/store/incidents.js';
import { insertNotification, nextPendingNotification } from '../../src/store/notifications.js';
import type { OutboxRow } from '../../src/store/outbox.js';
import { loadWebhook, messageValidator } from '../render/helpers.js';
import { startLokiDouble, type LokiDoubleHandle } from '../support/loki-double.js';

const NOW = new Date('2026-11-21T09:00:00Z');
const ALICE = '111111111111111111';

let loki: LokiDoubleHandle;
let dir: string;
let db: Database;
let deps: PipelineDeps;
let validate: (body: unknown) => string[];

beforeAll(async () => {
  loki = await startLokiDouble();
  validate = messageValidator();
});
afterAll(async () => {
  await loki?.stop();
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-pipeline-'));
  db = openDatabase(join(dir, 'vigil.db'));
  const r = parseConfig(
    `webhook: { token: pipeline-test-token-0123456789 }
prometheus: { url: http://127.0.0.1:9 }
loki: { url: ${loki.url} }
discord: { token: discord-token-abcdefghijklmnop, applicationId: "123456789012345678", alertChannelId: "223456789012345678" }
enrichment: { timeout: 1s }`,
    {},
  );
  if (!r.ok) throw new Error(r.errors.join('\n'));
  deps = {
    db,
    // Nothing listens on port 9: metric enrichment fails fast and becomes a note, as in an outage.
    prometheus: createPrometheusClient({ url: r.config.prometheus.url, timeoutMs: 1000 }),
    loki: createLokiClient({ url: loki.url, timeoutMs: 1000 }),
    config: r.config,
    logger: createLogger({ level: 'silent' }),
    now: () => NOW,
  };
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Stores a notification and runs it through every stage. */
async function process(n: Notification): Promise<void> {
  insertNotification(db, n, NOW);
  const stored = nextPendingNotification(db)!;
  await processNotification(stored, deps);
}

function outbox(): Array<Pick<OutboxRow, 'id' | 'kind'> & { body: RESTPostAPIChannelMessageJSONBody }> {
  const rows = db.prepare(`SELECT id, kind, body FROM outbox ORDER BY id`).all() as Array<{ id: number; kind: OutboxRow['kind']; body: string }>;
  return rows.map((r) => ({ id: r.id, kind: r.kind, body: JSON.parse(r.body) as RESTPostAPIChannelMessageJSONBody }));
}

function incidentId(): number {
  const n = loadWebhook('alertmanager-firing.json');
  return latestIncident(db, { source: n.source, receiver: n.receiver, groupKey: n.groupKey })!.id;
}

/** The firing fixture with its first alert resolved (an update of the open incident). */
function oneResolved(): Notification {
  const n = loadWebhook('alertmanager-firing.json');
  const [first, ...rest] = n.alerts;
  return { ...n, alerts: [{ ...first!, status: 'resolved', endsAt: new Date('2026-11-21T08:58:00Z') }, ...rest] };
}

describe('buttons on alert messages', () => {
  it('gives a created alert message the three buttons, naming the incident it created', async () => {
    await process(loadWebhook('alertmanager-firing.json'));
    const [create, ...others] = outbox();
    expect(others).toEqual([]);
    expect(create!.kind).toBe('create');
    const id = incidentId();
    expect(create!.body.components).toEqual(alertButtons(id, 'firing'));
    const row = create!.body.components![0] as { components: APIButtonComponentWithCustomId[] };
    const buttons = row.components;
    expect(buttons.map((b) => parseCustomId(b.custom_id))).toEqual([
      { action: 'silence1h', ref: String(id) },
      { action: 'ack', ref: String(id) },
      { action: 'logs', ref: String(id) },
    ]);
    expect(validate(create!.body)).toEqual([]);
  });

  it('keeps the buttons and the acknowledgement on a later edit of a firing incident', async () => {
    await process(loadWebhook('alertmanager-firing.json'));
    const id = incidentId();
    acknowledge(db, id, { userId: ALICE, username: 'alice', at: new Date('2026-11-21T08:56:00Z') });
    await process(oneResolved());
    const edit = outbox().find((r) => r.kind === 'edit')!;
    expect(edit.body.components).toEqual(alertButtons(id, 'firing'));
    expect(edit.body.embeds![0]!.description!.startsWith(`${ackLine({ userId: ALICE, at: new Date('2026-11-21T08:56:00Z') })}\n\n`)).toBe(true);
    expect(validate(edit.body)).toEqual([]);
  });

  it('leaves only Logs on the resolved edit, keeps the acknowledgement, and puts no buttons on replies', async () => {
    await process(loadWebhook('alertmanager-firing.json'));
    const id = incidentId();
    acknowledge(db, id, { userId: ALICE, username: 'alice', at: new Date('2026-11-21T08:56:00Z') });
    await process(loadWebhook('alertmanager-resolved.json'));
    const rows = outbox();
    const edit = rows.find((r) => r.kind === 'edit')!;
    const reply = rows.find((r) => r.kind === 'reply')!;
    expect(edit.body.embeds![0]!.title).toMatch(/RESOLVED/);
    expect(edit.body.components).toEqual(alertButtons(id, 'resolved'));
    expect(edit.body.embeds![0]!.description).toContain(`Acknowledged by <@${ALICE}>`);
    expect(reply.body.components).toBeUndefined();
  });

  it('shows no acknowledgement on an edit when nobody acknowledged', async () => {
    await process(loadWebhook('alertmanager-firing.json'));
    await process(oneResolved());
    expect(outbox().find((r) => r.kind === 'edit')!.body.embeds![0]!.description).not.toContain('Acknowledged');
  });

  it('gives a group that arrives already resolved a message with only Logs', async () => {
    await process(loadWebhook('alertmanager-resolved.json'));
    const [create] = outbox();
    expect(create!.kind).toBe('create');
    expect(create!.body.components).toEqual(alertButtons(incidentId(), 'resolved'));
  });
});

describe('Explore links in alert messages', () => {
  it('use the datasource uids from grafana config', async () => {
    const r = parseConfig(
      `webhook: { token: pipeline-test-token-0123456789 }
prometheus: { url: http://127.0.0.1:9 }
loki: { url: ${loki.url} }
grafana: { url: https://grafana.example, prometheusUid: prom-main, lokiUid: logs-main }
discord: { token: discord-token-abcdefghijklmnop, applicationId: "123456789012345678", alertChannelId: "223456789012345678" }
enrichment: { timeout: 1s }`,
      {},
    );
    if (!r.ok) throw new Error(r.errors.join('\n'));
    deps = { ...deps, config: r.config };
    await process(loadWebhook('alertmanager-firing.json'));
    const text = JSON.stringify(outbox()[0]!.body);
    const links = [...text.matchAll(/https:\/\/grafana\.example\/explore\?[^)\s"\\]+/g)].map((m) => new URL(m[0]));
    expect(links.length).toBeGreaterThan(0);
    const uids = links.flatMap((u) => Object.values(JSON.parse(u.searchParams.get('panes') ?? '{}') as Record<string, { datasource?: string }>).map((p) => p.datasource));
    expect(uids).toContain('logs-main');
    expect(uids.every((uid) => uid === 'prom-main' || uid === 'logs-main')).toBe(true);
  });
});
