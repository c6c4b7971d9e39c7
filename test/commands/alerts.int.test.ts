import type { APIEmbed } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertsCommand, overviewFromAlertmanager } from '../../src/commands/alerts.js';
import type { CommandDeps } from '../../src/commands/types.js';
import { createAlertmanagerClient } from '../../src/queries/alertmanager.js';
import { acknowledge } from '../../src/store/acks.js';
import { createIncident } from '../../src/store/incidents.js';
import { messageValidator } from '../render/helpers.js';
import { recordingCommand } from '../support/contexts.js';
import { startDelayProxy } from '../support/delay-proxy.js';
import { testCommandDeps, testConfig } from '../support/deps.js';
import { specSchemaErrors } from '../support/discord-double.js';
import { freePort } from '../support/ports.js';
import { startAlertmanager, startPrometheus, type AlertmanagerHandle, type PrometheusHandle } from '../support/procs.js';

const HOUR = 3_600_000;

/** Handler deps for a Prometheus and, when given, an Alertmanager. */
function deps(promUrl: string, amUrl?: string): CommandDeps {
  return testCommandDeps(testConfig({ prometheus: { url: promUrl }, ...(amUrl ? { alertmanager: { url: amUrl } } : {}) }), { timeoutMs: 5_000 });
}

/** Runs /alerts and returns its single reply, checked against Discord's message schema. */
async function runAlerts(d: CommandDeps) {
  const ctx = recordingCommand('alerts');
  await alertsCommand.execute(ctx, d);
  const reply = ctx.lastReply();
  expect(reply).toBeDefined();
  expect(messageValidator()(reply)).toEqual([]);
  return reply!;
}

it('registers as a plain command Discord accepts', () => {
  expect(specSchemaErrors('ApplicationCommandCreateRequest', alertsCommand.data)).toEqual([]);
});

describe('/alerts from the real Alertmanager', () => {
  let am: AlertmanagerHandle;
  const started = new Date(Date.now() - (2 * HOUR + 5 * 60_000));

  beforeAll(async () => {
    am = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${await freePort()}/hook` });
    const at = (ms: number) => new Date(Date.now() - ms).toISOString();
    await am.postAlerts([
      ...['web-1', 'web-2', 'web-3', 'web-4'].map((h, i) => ({
        labels: { alertname: 'HighCPU', instance: `${h}:9100`, job: 'node', severity: 'critical' },
        startsAt: i === 0 ? started.toISOString() : at(10 * 60_000),
      })),
      { labels: { alertname: 'DiskFull', instance: 'db-1:9100', severity: 'critical' }, startsAt: at(30 * 60_000) },
      { labels: { alertname: 'SlowQueries', instance: 'db-1:9104', severity: 'warning' }, startsAt: at(5 * 60_000) },
      { labels: { alertname: 'CertExpiry', severity: 'info', domain: 'example.org' }, startsAt: at(HOUR) },
      { labels: { alertname: 'Noisy', instance: 'x:1', severity: 'warning' } },
    ]);
    // A real silence holds Noisy back: /alerts must not list it, only count it.
    await createAlertmanagerClient({ url: am.url, timeoutMs: 5_000 }).createSilence({
      matchers: [{ name: 'alertname', value: 'Noisy', isRegex: false, isEqual: true }],
      startsAt: new Date(),
      endsAt: new Date(Date.now() + HOUR),
      createdBy: 'test',
      comment: 'test',
    });
  }, 30_000);

  afterAll(async () => {
    await am?.stop();
  });

  it('lists firing alerts grouped by name, most severe and largest first, and counts the silenced one', async () => {
    const reply = await runAlerts(deps('http://127.0.0.1:9', am.url));
    const embed = reply.embeds![0] as APIEmbed;
    expect(embed.title).toBe('🔥 7 alerts firing in 4 groups');
    const lines = embed.description!.split('\n');
    expect(lines[0]).toBe('🔴 **HighCPU** ×4 · for 2h 5m');
    expect(lines[1]).toBe('└ `web-1:9100` `web-2:9100` `web-3:9100` +1 more');
    // Ages are rounded to the second: on a busy machine the test may run a second after the alerts started.
    expect(lines[2]).toMatch(/^🔴 \*\*DiskFull\*\* · for 30m(?: [12]s)?$/);
    expect(lines[4]).toMatch(/^🟠 \*\*SlowQueries\*\* · for 5m(?: [12]s)?$/);
    expect(lines[6]).toMatch(/^🔵 \*\*CertExpiry\*\* · for 1h(?: [12]s)?$/);
    expect(lines[7]).toBe('└ `domain=example.org`');
    expect(embed.description).not.toContain('Noisy');
    expect(embed.footer?.text).toBe('Alertmanager · 🔕 1 silenced');
  });

  it("shows the route and the owner of Vigil's incidents beside the alerts they hold", async () => {
    const d = deps('http://127.0.0.1:9', am.url);
    const open = (route: string | undefined, labels: Record<string, string>) =>
      createIncident(
        d.db,
        {
          source: 'alertmanager',
          receiver: 'vigil',
          groupKey: JSON.stringify(labels),
          ...(route ? { route } : {}),
          status: 'firing',
          alerts: { [labels.instance ?? 'x']: { status: 'firing', startsAt: started.toISOString(), labels } },
          startedAt: started,
        },
        new Date(),
      );
    const disk = await open('db', { alertname: 'DiskFull', instance: 'db-1:9100', severity: 'critical' });
    await acknowledge(d.db, disk, { userId: '111111111111111111', username: 'alice', at: new Date() });
    await open(undefined, { alertname: 'SlowQueries', instance: 'db-1:9104', severity: 'warning' });
    const lines = ((await runAlerts(d)).embeds![0] as APIEmbed).description!.split('\n');
    expect(lines[2]).toMatch(/^🔴 \*\*DiskFull\*\* · for 30m(?: [12]s)? · → db · 👀 alice$/);
    expect(lines[4]).toMatch(/^🟠 \*\*SlowQueries\*\* · for 5m(?: [12]s)? · nobody has it$/);
    // Alerts Vigil holds no incident of are shown as before.
    expect(lines[0]).toBe('🔴 **HighCPU** ×4 · for 2h 5m');
  });

  it('says nothing is firing when Alertmanager has no alerts', async () => {
    const empty = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${await freePort()}/hook` });
    try {
      const reply = await runAlerts(deps('http://127.0.0.1:9', empty.url));
      expect(reply).toEqual({ content: '✅ Nothing is firing.' });
    } finally {
      await empty.stop();
    }
  }, 30_000);

  it('counts silenced and inhibited alerts apart', () => {
    const base = { fingerprint: 'f', annotations: {}, startsAt: new Date(), receivers: [] };
    const o = overviewFromAlertmanager(
      [
        { ...base, labels: { alertname: 'A' }, state: 'active', silencedBy: [], inhibitedBy: [] },
        { ...base, labels: { alertname: 'B' }, state: 'unprocessed', silencedBy: [], inhibitedBy: [] },
        { ...base, labels: { alertname: 'C' }, state: 'suppressed', silencedBy: ['s'], inhibitedBy: [] },
        { ...base, labels: { alertname: 'D' }, state: 'suppressed', silencedBy: [], inhibitedBy: ['i'] },
      ],
      'Alertmanager',
      new Date(),
    );
    expect(o.firing.map((a) => a.labels.alertname)).toEqual(['A', 'B']);
    expect(o).toMatchObject({ silenced: 1, inhibited: 1 });
  });

  it('gives up on an Alertmanager that accepts the connection and never answers at enrichment.timeout, and says so', async () => {
    const hole = await startDelayProxy(am.url);
    hole.blackHole = true;
    try {
      const d = testCommandDeps(testConfig({ prometheus: { url: 'http://127.0.0.1:9' }, alertmanager: { url: hole.url }, enrichment: { timeout: '500ms' } }));
      const started = performance.now();
      await expect(alertsCommand.execute(recordingCommand('alerts'), d)).rejects.toThrow(/^Alertmanager .*(timed out|timeout)/i);
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(hole.swallowed).toBe(1);
    } finally {
      await hole.close();
    }
  });

  it('reports an unreachable Alertmanager with its own error', async () => {
    const d = deps('http://127.0.0.1:9', `http://127.0.0.1:${await freePort()}`);
    await expect(alertsCommand.execute(recordingCommand('alerts'), d)).rejects.toThrow(/^Alertmanager unreachable: .*ECONNREFUSED/);
  });
});

describe('/alerts from Prometheus when no Alertmanager is configured', () => {
  let prom: PrometheusHandle;

  beforeAll(async () => {
    prom = await startPrometheus({
      ruleFiles: {
        'alerts.yml': `groups:
- name: test
  interval: 1s
  rules:
  - alert: AlwaysFiring
    expr: label_replace(vector(1), "instance", "app-1:8080", "", "")
    labels: { severity: warning }
  - alert: NeverYet
    expr: vector(1)
    for: 1h
    labels: { severity: critical }
`,
      },
    });
    await prom.waitFor('ALERTS{alertname="AlwaysFiring",alertstate="firing"}');
    await prom.waitFor('ALERTS{alertname="NeverYet",alertstate="pending"}');
  }, 30_000);

  afterAll(async () => {
    await prom?.stop();
  });

  it("lists Prometheus' firing alerts and counts the pending ones", async () => {
    const reply = await runAlerts(deps(prom.url));
    const embed = reply.embeds![0] as APIEmbed;
    expect(embed.title).toBe('🔥 1 alert firing');
    expect(embed.description).toMatch(/^🟠 \*\*AlwaysFiring\*\* · for \d+s\n└ `app-1:8080`$/);
    expect(embed.footer?.text).toBe('Prometheus · ⏳ 1 pending');
  });
});
