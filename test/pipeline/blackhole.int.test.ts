// A Loki (or a Grafana) that accepts connections and never answers, behind the clients `vigil serve`
// builds (backendClients): the first alerts wait out the timeout, then the backend is taken for down
// and the next alerts go on at once, each saying it was not queried; no socket is left open on it.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import type { Alert, Notification } from '../../src/model.js';
import { processNotification } from '../../src/pipeline/index.js';
import { createPipelineWorker, PIPELINE_CONCURRENCY } from '../../src/pipeline/worker.js';
import { TIMEOUTS_TO_DOWN } from '../../src/queries/calls.js';
import { backendClients } from '../../src/queries/clients.js';
import { openDatabase, type SqliteDatabase } from '../../src/store/db.js';
import { insertNotification, nextPendingNotification } from '../../src/store/notifications.js';

const CHANNEL = '923456789012345678';
const ALERTS = 40;

let blackHole: Server;
let port: number;
const open = new Set<Socket>();
let connections = 0;
let dir: string;
let db: SqliteDatabase;

beforeAll(async () => {
  blackHole = createServer((socket) => {
    connections++;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => undefined);
    // Reads the request, never answers.
    socket.resume();
  });
  await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
  port = (blackHole.address() as { port: number }).port;
  dir = mkdtempSync(join(tmpdir(), 'vigil-blackhole-'));
  db = openDatabase(join(dir, 'vigil.db'));
});
afterAll(async () => {
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
  for (const s of open) s.destroy();
  await new Promise((r) => blackHole?.close(r));
});

/** A config whose Prometheus is refused at once, with `loki` and `extra` (a section pointing at the black hole). */
function blackHoleConfig(loki: string, extra = '') {
  const r = parseConfig(
    `webhook: { token: blackhole-test-token-0123456789 }
prometheus: { url: http://127.0.0.1:9 }
loki: { url: ${loki} }
discord: { token: discord-token-abcdefghijklmnop, applicationId: "123456789012345678", alertChannelId: "${CHANNEL}" }
enrichment: { timeout: 1s }
charts: { enabled: false }
delivery: { storm: { enabled: false } }
${extra}`,
    {},
  );
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

/** A notification of one alert, a group of its own. */
function notification(i: number, a: Alert): Notification {
  return {
    source: a.source,
    receiver: 'vigil',
    groupKey: `{}:{i="${i}"}`,
    status: 'firing',
    alerts: [a],
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
  } as unknown as Notification;
}

/** Stores and processes one notification of one alert. */
async function processOne(deps: Parameters<typeof processNotification>[1], i: number, a: Alert): Promise<void> {
  await insertNotification(db, notification(i, a), new Date());
  await processNotification((await nextPendingNotification(db))!, deps);
}

/** The newest outbox row's id (0 when empty). */
function lastOutboxId(): number {
  return (db.sqlite.prepare(`SELECT coalesce(max(id), 0) AS id FROM outbox`).get() as { id: number }).id;
}

/** The bodies of the alert messages queued since `afterId`, oldest first. */
function createdBodies(afterId: number): string[] {
  return (db.sqlite.prepare(`SELECT body FROM outbox WHERE kind = 'create' AND id > ? ORDER BY id`).all(afterId) as Array<{ body: string }>).map((b) => b.body);
}

/** Waits until the black hole holds no connection (undici closes an aborted request's socket a few seconds later). */
async function noSocketLeft(): Promise<number> {
  const until = Date.now() + 15_000;
  while (open.size > 0 && Date.now() < until) await new Promise((res) => setTimeout(res, 100));
  return open.size;
}

function alert(i: number): Alert {
  return {
    fingerprint: `fp-${i}`,
    status: 'firing',
    labels: { alertname: `Hung${i}`, container: 'api', severity: 'warning' },
    annotations: { summary: `alert ${i}` },
    startsAt: new Date(Date.now() - 60_000),
    source: 'alertmanager',
  };
}

describe('a black-holed Loki', () => {
  it(`is asked until it timed out ${TIMEOUTS_TO_DOWN} times, then skipped: ${ALERTS} alerts stored at once are all queued within 3 timeouts`, async () => {
    const config = blackHoleConfig(`http://127.0.0.1:${port}`);
    const logger = createLogger({ level: 'silent' });
    const worker = createPipelineWorker({ db, config, logger, ...backendClients(config, { logger }), now: () => new Date() });
    const before = connections;
    const afterId = lastOutboxId();
    for (let i = 0; i < ALERTS; i++) await insertNotification(db, notification(i, alert(i)), new Date());
    const started = Date.now();
    expect(await worker.runOnce()).toBe(ALERTS);
    // The figure: 40 alerts within 15 s at the default 5 s timeout. The first notifications
    // wait out the timeout (side by side), and the ones after them find Loki taken for down.
    expect(Date.now() - started).toBeLessThan(3 * 1000);
    const bodies = createdBodies(afterId);
    expect(bodies).toHaveLength(ALERTS);
    // The first alerts' Loki queries timed out; every later one says Loki was not asked, and why.
    expect(bodies[0]).toContain('Loki timed out after 1s');
    const skipped = bodies.filter((b) => /Loki not queried: not answering since \d\d:\d\d UTC/.test(b));
    expect(skipped.length).toBeGreaterThanOrEqual(ALERTS - PIPELINE_CONCURRENCY);
    // The black hole saw only the calls of about one timeout, far fewer than one per alert (each
    // alert asks Loki several things), and none stays open: undici closes an aborted request's
    // socket a few seconds later.
    expect(connections - before).toBeGreaterThanOrEqual(1);
    expect(connections - before).toBeLessThan(ALERTS / 2);
    expect(await noSocketLeft()).toBe(0);
  }, 40_000);
});

describe('a black-holed Grafana', () => {
  it(`is asked for rules until it timed out ${TIMEOUTS_TO_DOWN} times, then skipped: Grafana alerts go on without their rule`, async () => {
    const config = blackHoleConfig('http://127.0.0.1:9', `grafana: { url: "http://127.0.0.1:${port}", token: glsa_blackhole_test_token_0123456789 }`);
    const logger = createLogger({ level: 'silent' });
    const deps = { db, config, logger, ...backendClients(config, { logger }), now: () => new Date() };
    const lastId = lastOutboxId();
    const before = connections;
    const started = Date.now();
    const RULES = 10;
    for (let i = 0; i < RULES; i++) {
      // Each alert has a rule of its own: the rule cache cannot hide the black hole.
      await processOne(deps, 1000 + i, { ...alert(1000 + i), source: 'grafana', generatorURL: `http://grafana.example/alerting/grafana/rule-${i}/view` });
    }
    const bodies = createdBodies(lastId);
    expect(bodies).toHaveLength(RULES);
    for (const b of bodies.slice(0, TIMEOUTS_TO_DOWN)) expect(b).toContain('Grafana timed out after 1s');
    for (const b of bodies.slice(TIMEOUTS_TO_DOWN)) expect(b).toMatch(/Grafana not queried: not answering since \d\d:\d\d UTC/);
    // Only the first alerts waited out the timeout.
    expect(Date.now() - started).toBeLessThan((TIMEOUTS_TO_DOWN + 3) * 1000);
    expect(connections - before).toBeGreaterThanOrEqual(TIMEOUTS_TO_DOWN);
    expect(connections - before).toBeLessThanOrEqual(2 * TIMEOUTS_TO_DOWN);
    expect(await noSocketLeft()).toBe(0);
  }, 40_000);
});
