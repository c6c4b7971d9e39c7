import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Locator } from 'playwright-core';
import { configSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { startVigil, type Vigil } from '../../src/main.js';
import { startLokiBackend, streamOf, type LokiBackend } from './loki.js';
import { startNodeExporter, startPrometheus, type NodeExporterHandle, type PrometheusHandle } from './procs.js';

/** Debian's chromium (package `chromium`, installed by .ci/run); CHROMIUM_BIN names another. */
export const CHROMIUM_BIN = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

/** Starts headless Debian chromium through playwright-core; fails saying how to install it when it is missing. */
export async function launchBrowser(): Promise<Browser> {
  if (process.env.VIGIL_TEST_UNIT === '1') throw new Error('npm run test:unit starts no browser: a test that needs one belongs in test/e2e/');
  if (!existsSync(CHROMIUM_BIN)) {
    throw new Error(`no browser at ${CHROMIUM_BIN}: install Debian's chromium (apt-get install -y chromium), as .ci/run does, or set CHROMIUM_BIN`);
  }
  // --no-sandbox: CI runs as root, where chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM_BIN, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

const FIXTURE = new URL('../fixtures/webhooks/alertmanager-firing.json', import.meta.url);

/** One alert of a scene's webhook. */
export interface SceneAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** The rule's PromQL, sent as Alertmanager does: in the generatorURL. */
  expr: string;
  startsAt: Date;
}

/**
 * A Vigil in preview mode (in this process) over a real node_exporter scraped by a real
 * Prometheus, and a Loki (the real binary when there is one) for the error logs of the moment.
 */
export interface PreviewScene {
  vigil: Vigil;
  /** Vigil's base URL. */
  url: string;
  webhookToken: string;
  prometheus: PrometheusHandle;
  nodeExporter: NodeExporterHandle;
  /** node_exporter's `instance` label in Prometheus. */
  nodeInstance: string;
  loki: LokiBackend;
  /** Sends an Alertmanager webhook (the real fixture's shape) for one alert; resolves to the HTTP status. */
  send(status: 'firing' | 'resolved', alert: SceneAlert): Promise<number>;
  stop(): Promise<void>;
}

/** Starts a preview scene; the pieces already started are stopped when a later one fails. */
export async function startPreviewScene(opts: { webhookToken: string; lookback?: string }): Promise<PreviewScene> {
  const stops: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
  };
  try {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-preview-'));
    stops.push(async () => rmSync(dir, { recursive: true, force: true }));
    const nodeExporter = await startNodeExporter();
    stops.push(() => nodeExporter.stop());
    const nodeInstance = `127.0.0.1:${nodeExporter.port}`;
    const prometheus = await startPrometheus({ scrapeConfigs: [{ job: 'node', targets: [nodeInstance] }] });
    stops.push(() => prometheus.stop());
    const loki = await startLokiBackend();
    stops.push(() => loki.stop());
    const config = configSchema.parse({
      server: { host: '127.0.0.1', port: 0 },
      webhook: { token: opts.webhookToken },
      prometheus: { url: prometheus.url },
      loki: { url: loki.url },
      discord: { mode: 'preview' },
      storage: { path: join(dir, 'vigil.db') },
      enrichment: { lookback: opts.lookback ?? '10m', logWindow: '5m', timeout: '5s' },
      charts: { budget: '10s' },
      delivery: { minBackoff: '100ms', maxBackoff: '1s', pollInterval: '100ms' },
      watchdog: { enabled: false },
      log: { level: 'warn' },
    });
    const vigil = await startVigil(config, { logger: createLogger({ level: 'warn', secrets: [opts.webhookToken] }) });
    stops.push(() => vigil.stop());
    const url = `http://127.0.0.1:${vigil.port}`;
    const send = async (status: 'firing' | 'resolved', alert: SceneAlert): Promise<number> => {
      const res = await fetch(`${url}/webhooks/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${opts.webhookToken}` },
        body: JSON.stringify(alertmanagerBody(status, alert, prometheus.url)),
      });
      await res.text();
      return res.status;
    };
    return { vigil, url, webhookToken: opts.webhookToken, prometheus, nodeExporter, nodeInstance, loki, send, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The recorded Alertmanager webhook (test/fixtures/webhooks) carrying one alert instead of its two. */
function alertmanagerBody(status: 'firing' | 'resolved', a: SceneAlert, prometheusUrl: string): object {
  const body = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown> & { alerts: Array<Record<string, unknown>> };
  const alertname = a.labels.alertname ?? 'SceneAlert';
  return {
    ...body,
    status,
    groupKey: `{}:{alertname="${alertname}"}`,
    groupLabels: { alertname },
    commonLabels: a.labels,
    commonAnnotations: a.annotations,
    externalURL: 'http://alertmanager.example.org',
    alerts: [
      {
        ...body.alerts[0],
        status,
        labels: a.labels,
        annotations: a.annotations,
        startsAt: a.startsAt.toISOString(),
        endsAt: status === 'resolved' ? new Date().toISOString() : '0001-01-01T00:00:00Z',
        generatorURL: `${prometheusUrl}/graph?g0.expr=${encodeURIComponent(a.expr)}&g0.tab=1`,
        fingerprint: `preview-${alertname}`.slice(0, 16),
      },
    ],
  };
}

/** Error lines of an `api` container around now, as Alloy would ship them (label compose_service). */
export async function pushApiErrors(loki: LokiBackend, at: Date): Promise<void> {
  const lines = [
    'level=error msg="upstream timed out" upstream=payments:8080 after=5s',
    'level=error msg="request failed" path=/checkout status=502',
    'level=error msg="upstream timed out" upstream=payments:8080 after=5s',
    'level=warn msg="retrying" attempt=3',
  ];
  await loki.push([
    streamOf(
      { compose_service: 'api', container_name: 'shop-api-1' },
      lines.map((line, i) => ({ at: new Date(at.getTime() - (lines.length - i) * 15_000), line })),
    ),
  ]);
}

/** A computed CSS property of the element, as the browser drew it. */
export function computedStyle(locator: Locator, property: string): Promise<string> {
  // The callback runs in the page, where getComputedStyle exists (this project compiles without the DOM types).
  return locator.evaluate(
    (el, p) => (globalThis as unknown as { getComputedStyle(e: unknown): Record<string, string> }).getComputedStyle(el)[p] ?? '',
    property,
  );
}

/** An <img>'s decoded size, 0 × 0 until it has loaded (or when it failed to). */
export function imageSize(locator: Locator): Promise<{ width: number; height: number }> {
  return locator.evaluate((el) => {
    const img = el as unknown as { complete: boolean; naturalWidth: number; naturalHeight: number };
    return img.complete ? { width: img.naturalWidth, height: img.naturalHeight } : { width: 0, height: 0 };
  });
}

/** Waits until an <img> has decoded. */
export function imageDecoded(locator: Locator): Promise<void> {
  return locator.evaluate((el) => (el as unknown as { decode(): Promise<void> }).decode());
}
