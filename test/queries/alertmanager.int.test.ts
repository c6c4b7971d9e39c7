import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertmanagerFromConfig, createAlertmanagerClient, GRAFANA_AM_BASE_PATH, type AlertmanagerClient } from '../../src/queries/alertmanager.js';
import { QueryError } from '../../src/queries/http.js';
import type { SilenceMatcher } from '../../src/config/matchers.js';
import { freePort } from '../support/ports.js';
import { startAlertmanager, type AlertmanagerHandle } from '../support/procs.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HOUR = 3_600_000;

/** Runs `call` and returns the QueryError it must throw. */
async function failure(call: Promise<unknown>): Promise<QueryError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(QueryError);
  return err as QueryError;
}

describe('Alertmanager client against the real Alertmanager', () => {
  let am: AlertmanagerHandle;
  let client: AlertmanagerClient;
  const startedAt = new Date(Date.now() - 2 * HOUR);

  beforeAll(async () => {
    // Notifications go to a closed port: this suite only reads and silences alerts.
    am = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${await freePort()}/hook` });
    client = createAlertmanagerClient({ url: am.url, timeoutMs: 5_000 });
    await am.postAlerts([
      {
        labels: { alertname: 'DiskFull', instance: 'db-1:9100', severity: 'critical' },
        annotations: { summary: 'disk 97%' },
        startsAt: startedAt.toISOString(),
      },
      { labels: { alertname: 'HighLoad', instance: 'web-1:9100', severity: 'warning' } },
    ]);
  }, 30_000);

  afterAll(async () => {
    await am?.stop();
  });

  it('lists the posted alerts with labels, annotations, start and state', async () => {
    const alerts = await client.alerts();
    const disk = alerts.find((a) => a.labels.alertname === 'DiskFull');
    expect(disk).toMatchObject({
      labels: { alertname: 'DiskFull', instance: 'db-1:9100', severity: 'critical' },
      annotations: { summary: 'disk 97%' },
      state: 'active',
      silencedBy: [],
      inhibitedBy: [],
      receivers: ['vigil'],
    });
    expect(disk!.startsAt.getTime()).toBe(startedAt.getTime());
    expect(disk!.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(alerts.map((a) => a.labels.alertname).sort()).toEqual(['DiskFull', 'HighLoad']);
  });

  it('creates a silence Alertmanager lists with the same matchers, creator and comment, and which silences the alert', async () => {
    const matchers: SilenceMatcher[] = [
      { name: 'alertname', value: 'HighLoad', isRegex: false, isEqual: true },
      { name: 'instance', value: 'web-.*', isRegex: true, isEqual: true },
      { name: 'env', value: 'dev', isRegex: false, isEqual: false },
    ];
    const now = new Date();
    const id = await client.createSilence({ matchers, startsAt: now, endsAt: new Date(now.getTime() + HOUR), createdBy: 'oncall (111)', comment: 'deploy' });
    expect(id).toMatch(UUID);

    const silence = (await client.silences()).find((s) => s.id === id);
    expect(silence).toMatchObject({ matchers, createdBy: 'oncall (111)', comment: 'deploy', state: 'active' });
    expect(Math.abs(silence!.endsAt.getTime() - (now.getTime() + HOUR))).toBeLessThan(1000);

    const all = await client.alerts();
    expect(all.find((a) => a.labels.alertname === 'HighLoad')).toMatchObject({ state: 'suppressed', silencedBy: [id] });
    const unsilenced = await client.alerts({ active: true, silenced: false, inhibited: false });
    expect(unsilenced.map((a) => a.labels.alertname)).toEqual(['DiskFull']);
  });

  it('sends values with quotes, commas, braces and newlines as data, unchanged', async () => {
    const value = 'a"b,c}\nd\\e';
    const now = new Date();
    const id = await client.createSilence({
      matchers: [{ name: 'alertname', value, isRegex: false, isEqual: true }],
      startsAt: now,
      endsAt: new Date(now.getTime() + HOUR),
      createdBy: 'oncall',
      comment: '',
    });
    const silence = (await client.silences()).find((s) => s.id === id);
    expect(silence?.matchers).toEqual([{ name: 'alertname', value, isRegex: false, isEqual: true }]);
  });

  it('reports a silence that starts later as pending', async () => {
    const later = new Date(Date.now() + HOUR);
    const id = await client.createSilence({
      matchers: [{ name: 'alertname', value: 'DiskFull', isRegex: false, isEqual: true }],
      startsAt: later,
      endsAt: new Date(later.getTime() + HOUR),
      createdBy: 'oncall',
      comment: 'tonight',
    });
    expect((await client.silences()).find((s) => s.id === id)?.state).toBe('pending');
  });

  it('expires a silence', async () => {
    const now = new Date();
    const id = await client.createSilence({
      matchers: [{ name: 'alertname', value: 'Expire', isRegex: false, isEqual: true }],
      startsAt: now,
      endsAt: new Date(now.getTime() + HOUR),
      createdBy: 'oncall',
      comment: '',
    });
    await client.expireSilence(id);
    expect((await client.silences()).find((s) => s.id === id)?.state).toBe('expired');
  });

  it.each([
    ['an unknown silence id', () => client.expireSilence('00000000-0000-4000-8000-000000000000'), /^Alertmanager HTTP 500: silence not found$/],
    [
      'an invalid regular expression',
      () =>
        client.createSilence({
          matchers: [{ name: 'job', value: '(', isRegex: true, isEqual: true }],
          startsAt: new Date(),
          endsAt: new Date(Date.now() + HOUR),
          createdBy: 'oncall',
          comment: '',
        }),
      /^Alertmanager HTTP 400: silence invalid: .*invalid regular expression "\(": error parsing regexp: missing closing \)/,
    ],
    [
      'an end before the start',
      () =>
        client.createSilence({
          matchers: [{ name: 'job', value: 'x', isRegex: false, isEqual: true }],
          startsAt: new Date(),
          endsAt: new Date(Date.now() - HOUR),
          createdBy: 'oncall',
          comment: '',
        }),
      /^Alertmanager HTTP 400: .*end time/,
    ],
  ])("surfaces Alertmanager's own text for %s", async (_name, call, message) => {
    const err = await failure(call());
    expect(err.kind).toBe('http');
    expect(err.message).toMatch(message);
  });

  it('says Alertmanager is ready', async () => {
    await expect(client.ready()).resolves.toEqual({ ready: true, message: 'OK' });
  });

  it('reports an unreachable Alertmanager as a network error, and not ready', async () => {
    const gone = createAlertmanagerClient({ url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 1_000 });
    const err = await failure(gone.silences());
    expect(err).toMatchObject({ kind: 'network' });
    expect(err.message).toMatch(/^Alertmanager unreachable: .*ECONNREFUSED/);
    expect((await gone.ready()).ready).toBe(false);
  });
});

/**
 * Grafana cannot run here: this double answers with the shapes Grafana's own handlers produce
 * (pkg/services/ngalert/api/api_alertmanager.go: POST -> 202 {"silenceID"}, DELETE -> 200
 * {"message":"silence deleted"}, GET silences -> GettableSilence[]; /api/health -> {"database":"ok"}).
 */
describe('Grafana built-in Alertmanager (shape double)', () => {
  let server: Server;
  let grafanaUrl = '';
  const seen: Array<{ method: string; path: string; auth?: string; body: string; headers: IncomingHttpHeaders }> = [];
  const silenceId = '5d33a8cd-30aa-4d83-95f0-92b6c6d705a9';

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        seen.push({ method: req.method ?? '', path, ...(req.headers.authorization ? { auth: req.headers.authorization } : {}), body, headers: req.headers });
        res.setHeader('content-type', 'application/json');
        if (req.headers.authorization !== 'Bearer glsa_test_token_0123456789') {
          res.writeHead(401).end('{"message":"Unauthorized"}');
        } else if (req.method === 'POST' && path === `${GRAFANA_AM_BASE_PATH}/silences`) {
          res.writeHead(202).end(JSON.stringify({ silenceID: silenceId }));
        } else if (req.method === 'GET' && path === `${GRAFANA_AM_BASE_PATH}/silences`) {
          res.end(
            JSON.stringify([
              {
                id: silenceId,
                status: { state: 'active' },
                updatedAt: '2026-11-21T09:47:03.416Z',
                comment: 'via Vigil',
                createdBy: 'oncall (111)',
                endsAt: '2026-11-21T10:47:03.416Z',
                startsAt: '2026-11-21T09:47:03.416Z',
                matchers: [{ isEqual: true, isRegex: false, name: 'alertname', value: 'A' }],
                metadata: { rule_uid: 'abc' },
              },
            ]),
          );
        } else if (req.method === 'DELETE' && path === `${GRAFANA_AM_BASE_PATH}/silence/${silenceId}`) {
          res.end('{"message":"silence deleted"}');
        } else if (path === '/api/health') {
          res.end('{"database":"ok","version":"11.3.0"}');
        } else {
          res.writeHead(404).end('{"message":"Not found"}');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    grafanaUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('creates, lists and expires silences under /api/alertmanager/grafana/api/v2 with the service account token', async () => {
    const client = alertmanagerFromConfig({ grafana: { url: grafanaUrl, token: 'glsa_test_token_0123456789' } })!;
    expect(client.name).toBe('Grafana Alertmanager');
    const now = new Date();
    const id = await client.createSilence({
      matchers: [{ name: 'alertname', value: 'A', isRegex: false, isEqual: true }],
      startsAt: now,
      endsAt: new Date(now.getTime() + HOUR),
      createdBy: 'oncall (111)',
      comment: 'via Vigil',
    });
    expect(id).toBe(silenceId);
    expect(await client.silences()).toEqual([
      expect.objectContaining({
        id: silenceId,
        state: 'active',
        createdBy: 'oncall (111)',
        matchers: [{ isEqual: true, isRegex: false, name: 'alertname', value: 'A' }],
      }),
    ]);
    await client.expireSilence(id);
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      `POST ${GRAFANA_AM_BASE_PATH}/silences`,
      `GET ${GRAFANA_AM_BASE_PATH}/silences`,
      `DELETE ${GRAFANA_AM_BASE_PATH}/silence/${silenceId}`,
    ]);
    expect(seen.every((s) => s.auth === 'Bearer glsa_test_token_0123456789')).toBe(true);
    expect(JSON.parse(seen[0]!.body)).toMatchObject({
      createdBy: 'oncall (111)',
      matchers: [{ name: 'alertname', value: 'A', isRegex: false, isEqual: true }],
    });
    await expect(client.ready()).resolves.toMatchObject({ ready: true });
  });

  it("surfaces Grafana's message for a refused token, without the token", async () => {
    const client = alertmanagerFromConfig({ grafana: { url: grafanaUrl, token: 'glsa_wrong_token_99' } })!;
    const err = await failure(client.silences());
    expect(err.message).toBe('Grafana Alertmanager HTTP 401: Unauthorized');
    expect(err.message).not.toContain('glsa_');
  });
});

describe('alertmanagerFromConfig', () => {
  it.each([
    [
      'alertmanager.url wins over Grafana',
      { alertmanager: { url: 'http://127.0.0.1:9093' }, grafana: { url: 'http://127.0.0.1:3000', token: 'glsa_token_1234' } },
      'Alertmanager',
    ],
    ['Grafana with a token', { grafana: { url: 'http://127.0.0.1:3000', token: 'glsa_token_1234' } }, 'Grafana Alertmanager'],
    ['Grafana without a token', { grafana: { url: 'http://127.0.0.1:3000' } }, undefined],
    ['nothing configured', {}, undefined],
  ])('%s', (_name, config, expected) => {
    expect(alertmanagerFromConfig(config)?.name).toBe(expected);
  });
});
