// `npm run screenshots`: the README's pictures of a whole alert message, firing and resolved, taken
// from preview mode's page in headless Debian chromium. Everything in them is real: node_exporter
// scraped by Prometheus while this script keeps one core busy, Vigil's enrichment and chart, error
// lines pushed to Loki (the real binary when LOKI_BIN is set). Needs what the tests need
// (README "Tests"); an emoji font (Debian's fonts-noto-color-emoji) makes the buttons' emoji show.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { eventually, sleep } from '../test/support/eventually.js';
import { imageDecoded, launchBrowser, pushApiErrors, startPreviewScene, type SceneAlert } from '../test/support/preview.js';

const OUT = fileURLToPath(new URL('../docs/', import.meta.url));
const TOKEN = 'screenshots-webhook-token-0123456789';
/** Quiet time before the load starts, so the chart shows where it came from. */
const BASELINE_MS = 40_000;
/** How long the busy loop runs before the alert fires: long enough for a visible rise on the chart. */
const BURN_MS = 45_000;

async function main(): Promise<void> {
  // The chart covers lookback before the alert's start: from about when Prometheus started.
  const [scene, browser] = await Promise.all([startPreviewScene({ webhookToken: TOKEN, lookback: '1m' }), launchBrowser()]);
  console.log(`a quiet baseline for ${BASELINE_MS / 1000} s`);
  await sleep(BASELINE_MS);
  const burn = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  try {
    const cpu = `100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle", instance="${scene.nodeInstance}"}[15s])))`;
    console.log(`keeping one core busy for ${BURN_MS / 1000} s so ${cpu} rises`);
    const started = new Date();
    await sleep(BURN_MS);
    await pushApiErrors(scene.loki, new Date());
    const alert: SceneAlert = {
      labels: { alertname: 'HostHighCpuLoad', instance: scene.nodeInstance, job: 'node', severity: 'critical', compose_service: 'api' },
      annotations: { summary: 'CPU load above 40% on the api host', description: 'The api container is slow to answer; checkout requests time out.' },
      expr: `${cpu} > 40`,
      startsAt: new Date(started.getTime() + 15_000),
    };
    if ((await scene.send('firing', alert)) !== 202) throw new Error('the firing webhook was refused');

    const context = await browser.newContext({
      httpCredentials: { username: 'docs', password: TOKEN },
      viewport: { width: 760, height: 1600 },
      deviceScaleFactor: 1,
    });
    const page = await context.newPage();
    await page.goto(`${scene.url}/preview`);
    const entry = page.locator('.entry').first();
    await entry.locator('.embed-title', { hasText: 'FIRING' }).waitFor({ timeout: 60_000 });
    await imageDecoded(entry.locator('img.embed-image'));
    await eventually(
      'the thread with its logs',
      async () => ((await entry.locator('.thread').textContent())?.includes('upstream timed out') ? true : undefined),
      30_000,
      500,
    );
    mkdirSync(OUT, { recursive: true });
    await entry.screenshot({ path: `${OUT}preview-alert.png` });
    console.log(`wrote ${OUT}preview-alert.png`);

    burn.kill('SIGKILL');
    // The load falls off on the chart before the resolve comes in.
    await sleep(20_000);
    if ((await scene.send('resolved', alert)) !== 202) throw new Error('the resolved webhook was refused');
    await entry.locator('.embed-title', { hasText: 'RESOLVED' }).waitFor({ timeout: 60_000 });
    await eventually(
      'the resolve note in the thread',
      async () => ((await entry.locator('.thread').textContent())?.match(/resolved/i) ? true : undefined),
      30_000,
      500,
    );
    await imageDecoded(entry.locator('img.embed-image')).catch(() => undefined);
    await entry.screenshot({ path: `${OUT}preview-resolved.png` });
    console.log(`wrote ${OUT}preview-resolved.png`);
  } finally {
    burn.kill('SIGKILL');
    await browser.close();
    await scene.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
