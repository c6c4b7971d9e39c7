// Preview mode end to end in a real browser: Vigil (discord.mode: preview) gets an Alertmanager
// webhook whose expression a real Prometheus answers from a real node_exporter, with error logs in
// Loki; headless Debian chromium opens GET /preview with the webhook token and checks what a person
// sees: the message as Discord draws it, its chart, buttons and thread, and the resolve arriving
// by itself.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { computedStyle, imageSize, launchBrowser, pushApiErrors, startPreviewScene, type PreviewScene, type SceneAlert } from '../support/preview.js';

const TOKEN = 'e2e-preview-webhook-token-0123456789';

describe('preview mode in a real browser', () => {
  let scene: PreviewScene;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let alert: SceneAlert;

  beforeAll(async () => {
    [scene, browser] = await Promise.all([startPreviewScene({ webhookToken: TOKEN }), launchBrowser()]);
    context = await browser.newContext({ httpCredentials: { username: 'on-call', password: TOKEN }, viewport: { width: 1000, height: 1400 } });
    page = await context.newPage();
    await scene.prometheus.waitFor(`count_over_time(node_memory_MemAvailable_bytes{instance="${scene.nodeInstance}"}[1m]) >= 3`, 30_000);
    await pushApiErrors(scene.loki, new Date());
    alert = {
      labels: { alertname: 'LowMemory', instance: scene.nodeInstance, job: 'node', severity: 'critical', compose_service: 'api' },
      annotations: { summary: 'Memory available is low on the api host', description: 'Less than **1 PB** available: the `api` container may be OOM-killed.' },
      // A threshold the data is surely under: the alert fires and the chart has series and line.
      expr: `node_memory_MemAvailable_bytes{instance="${scene.nodeInstance}"} < 1e15`,
      startsAt: new Date(Date.now() - 20_000),
    };
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await scene?.stop();
  });

  it('asks for the webhook token before showing anything', async () => {
    // Headless chromium cannot show the sign-in prompt; the browser context's own HTTP client sees the challenge.
    const anonymous = await browser.newContext();
    try {
      const res = await anonymous.request.get(`${scene.url}/preview`);
      expect(res.status()).toBe(401);
      expect(res.headers()['www-authenticate']).toBe('Basic realm="Vigil preview", charset="UTF-8"');
      await expect(anonymous.newPage().then((p) => p.goto(`${scene.url}/preview`))).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
    } finally {
      await anonymous.close();
    }
  });

  it('shows the enriched alert as Discord would: colour bar, title, fields, chart, buttons, thread', async () => {
    await page.goto(`${scene.url}/preview`);
    await expect(page.locator('.empty').textContent()).resolves.toContain('Nothing posted yet');
    expect(await scene.send('firing', alert)).toBe(202);

    // No reload: the page picks the new message up by itself.
    const message = page.locator('.entry').first();
    await message.locator('.embed-title', { hasText: 'FIRING' }).waitFor({ timeout: 30_000 });
    const embed = message.locator('> .message .embed').first();
    expect(await embed.locator('.embed-title').textContent()).toContain('LowMemory');
    // Critical is red in Discord's palette (render/format SEVERITY_COLOR), drawn as the left bar.
    expect(await computedStyle(embed, 'borderLeftColor')).toBe('rgb(231, 76, 60)');
    // Markdown as Discord draws it: Vigil's own bold summary, and the sender's text exactly as written
    // (Vigil escapes the markup in annotations, so its asterisks and backticks show as they are).
    expect(await embed.locator('.embed-description strong').first().textContent()).toBe('Memory available is low on the api host');
    expect(await embed.locator('.embed-description').textContent()).toContain('Less than **1 PB** available: the `api` container');
    const fieldNames = await embed.locator('.field-name').allTextContents();
    expect(fieldNames.length).toBeGreaterThan(1);

    // The chart, loaded from /preview/file and decoded by the browser at its real size.
    const chart = embed.locator('img.embed-image');
    await expect.poll(() => imageSize(chart), { timeout: 10_000 }).toEqual({ width: 800, height: 400 });

    expect(await message.locator('> .message .button').allTextContents()).toEqual(['🔕Silence 1h', '👀Acknowledge', '📜Logs']);

    // The incident's thread under its message, with the details and the error logs of the moment.
    const thread = message.locator('.thread');
    expect(await thread.locator('.thread-name').textContent()).toContain('LowMemory');
    await expect.poll(() => thread.textContent(), { timeout: 10_000 }).toContain('upstream timed out');

    // Discord's timestamps in the reader's zone: the script replaced the UTC fallback text.
    expect(await message.locator('.header time').first().textContent()).not.toContain('UTC');
  });

  it('edits the same message in place on resolve, without a reload', async () => {
    const before = await page.locator('.entry').count();
    expect(await scene.send('resolved', alert)).toBe(202);
    const message = page.locator('.entry').first();
    await message.locator('.embed-title', { hasText: 'RESOLVED' }).waitFor({ timeout: 30_000 });
    expect(await page.locator('.entry').count()).toBe(before);
    expect(await message.locator('> .message .edited').textContent()).toBe('(edited)');
    expect(await computedStyle(message.locator('> .message .embed').first(), 'borderLeftColor')).toBe('rgb(46, 204, 113)');
    // Resolved: only the Logs button stays.
    expect(await message.locator('> .message .button').allTextContents()).toEqual(['📜Logs']);
    await eventually(
      'the resolve note in the thread',
      async () => ((await message.locator('.thread').textContent())?.match(/resolved/i) ? true : undefined),
      10_000,
      200,
    );
  });
});
