// A Loki that accepts connections and never answers, behind the clients `vigil serve` builds
// (backendClients): the first alert waits out its timeout, then Loki is taken for down and the next
// alerts go on at once, each saying Loki was not queried; no socket is left open on it.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import type { Alert, Notification } from '../../src/model.js';
import { processNotification } from '../../src/pipeline/index.js';
import { TIMEOUTS_TO_DOWN } from '../../src/queries/calls.js';
import { backendClients } from '../../src/queries/clients.js';
import { openDatabase, type Database } from '../../src/store/db.js';
import { insertNotification, nextPendingNotification } from '../../src/store/notifications.js';

const CHANNEL = '923456789012345678';
const ALERTS = 40;

let blackHole: Server;
let port: number;
const open = new Set<Socket>();
let connections = 0;
let dir: string;
let db: Database;

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
  db?.close();
  rmSync(dir, { recursive: true, force: true });
  for (const s of open) s.destroy();
  await new Promise((r) => blackHole?.close(r));
});

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
  it(`is asked until it timed out ${TIMEOUTS_TO_DOWN} times, then skipped: ${ALERTS} alerts do not each wait out the timeout`, async () => {
    const r = parseConfig(
      `webhook: { token: blackhole-test-token-0123456789 }
prometheus: { url: http://127.0.0.1:9 }
loki: { url: http://127.0.0.1:${port} }
discord: { token: discord-token-abcdefghijklmnop, applicationId: "123456789012345678", alertChannelId: "${CHANNEL}" }
enrichment: { timeout: 1s }
charts: { enabled: false }
delivery: { storm: { enabled: false } }`,
      {},
    );
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const logger = createLogger({ level: 'silent' });
    const deps = { db, config: r.config, logger, ...backendClients(r.config, { logger }), now: () => new Date() };
    for (let i = 0; i < ALERTS; i++) {
      const n = {
        source: 'alertmanager',
        receiver: 'vigil',
        groupKey: `{}:{i="${i}"}`,
        status: 'firing',
        alerts: [alert(i)],
        groupLabels: {},
        commonLabels: {},
        commonAnnotations: {},
      } as unknown as Notification;
      insertNotification(db, n, new Date());
      await processNotification(nextPendingNotification(db)!, deps);
    }
    const bodies = (db.prepare(`SELECT body FROM outbox WHERE kind = 'create' ORDER BY id`).all() as Array<{ body: string }>).map((b) => b.body);
    expect(bodies).toHaveLength(ALERTS);
    // The first alert's Loki queries timed out; every later one says Loki was not asked, and why.
    expect(bodies[0]).toContain('Loki timed out after 1s');
    const skipped = bodies.filter((b) => /Loki not queried: not answering since \d\d:\d\d UTC/.test(b));
    expect(skipped.length).toBeGreaterThanOrEqual(ALERTS - 1);
    // The black hole saw only the first alert's calls (a handful), and none stays open: undici closes
    // an aborted request's socket a few seconds later.
    expect(connections).toBeGreaterThanOrEqual(1);
    expect(connections).toBeLessThanOrEqual(2 * TIMEOUTS_TO_DOWN);
    const until = Date.now() + 15_000;
    while (open.size > 0 && Date.now() < until) await new Promise((res) => setTimeout(res, 100));
    expect(open.size).toBe(0);
  }, 40_000);
});
