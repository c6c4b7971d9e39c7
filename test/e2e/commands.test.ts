import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIInteraction, APIMessage } from 'discord-api-types/v10';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS, BUTTONS } from '../../src/commands/index.js';
import { startCadvisor, type CadvisorHandle, type FakeContainer } from '../support/cadvisor.js';
import { DOUBLE_TOKEN, type DiscordDouble, type InteractionRecord, type SeenMessage } from '../support/discord-double.js';
import {
  buttonInteraction,
  commandInteraction,
  generateTestKeys,
  sendInteraction,
  TEST_APPLICATION_ID,
  TEST_CHANNEL_ID,
  type Delivered,
  type Invoker,
  type TestKeys,
} from '../support/interactions.js';
import type { LokiDoubleHandle } from '../support/loki-double.js';
import { freePort } from '../support/ports.js';
import { startAlertmanager, type AlertmanagerHandle, type PrometheusHandle } from '../support/procs.js';
import { eventually, postWebhook, startBot, startE2eStack, type BotProcess, type E2eStack } from './bot.js';

/*
 * Every slash command and button through the HTTP transport of a real `vigil serve`, against real
 * Prometheus (scraping node_exporter, test/support/cadvisor.ts's cAdvisor-shaped exporter, and a closed port),
 * a real Alertmanager, the Loki double and the Discord double (every request checked against
 * Discord's OpenAPI spec).
 */

const WEBHOOK_TOKEN = 'e2e-commands-webhook-token-0123456789';
const ONCALL_ROLE = '555555555555555555';
const ONCALL: Invoker = { username: 'ana', userId: '666666666666666666', roles: [ONCALL_ROLE] };
const GUEST: Invoker = { username: 'guest', userId: '777777777777777777', roles: [] };
const FIXTURES = new URL('../fixtures/webhooks/', import.meta.url);

const MiB = 2 ** 20;
/** Containers of the cAdvisor-shaped exporter: CPU in cores (a counter grows at this rate), memory in bytes. */
const CONTAINERS: FakeContainer[] = [
  { name: 'worker', image: 'example/worker:1', cores: 1.2, memoryBytes: 256 * MiB },
  { name: 'api', image: 'example/api:1', cores: 0.5, memoryBytes: 512 * MiB },
  { name: 'db', image: 'example/db:1', cores: 0.25, memoryBytes: 2048 * MiB },
  { name: 'cache', image: 'example/cache:1', cores: 0.05, memoryBytes: 64 * MiB },
];

/** Everything a user saw from an interaction: the reply and the follow-ups, as text. */
function seen(record: InteractionRecord): SeenMessage[] {
  return [record.original, ...record.followUps].filter((m): m is SeenMessage => m !== undefined);
}
function text(m: SeenMessage | undefined): string {
  return m ? `${m.content}\n${JSON.stringify(m.embeds)}` : '';
}

/** Waits until the deferred reply was edited (or a direct reply came), returning it. */
async function answered(d: Delivered): Promise<SeenMessage> {
  return eventually('the answer', () => (d.record.original && !d.record.original.loading ? d.record.original : undefined), 20_000);
}

/** The names are only usable once the other helpers put them in COMMANDS / BUTTONS. */
const commandNames = new Set(COMMANDS.map((c) => c.data.name));
const buttonActions = new Set(BUTTONS.map((b) => b.action));

interface AmSilence {
  id: string;
  status: { state: string };
  createdBy: string;
  comment: string;
  matchers: Array<{ name: string; value: string; isRegex: boolean; isEqual?: boolean }>;
}

describe('slash commands and buttons end to end (HTTP interactions)', () => {
  let dir: string;
  let keys: TestKeys;
  let stack: E2eStack;
  let nodeInstance: string;
  let cadvisor: CadvisorHandle;
  let prometheus: PrometheusHandle;
  let alertmanager: AlertmanagerHandle;
  let loki: LokiDoubleHandle;
  let discord: DiscordDouble;
  let bot: BotProcess;
  let closedPort: number;

  const send = (payload: APIInteraction) => sendInteraction(bot.url, payload, { keys, discord });
  const command = (name: string, options: Record<string, string | number | boolean> = {}, opts: { subcommand?: string; invoker?: Invoker } = {}) =>
    send(commandInteraction(name, options, { invoker: ONCALL, ...opts }));
  const silences = async (): Promise<AmSilence[]> => (await (await fetch(`${alertmanager.url}/api/v2/silences`)).json()) as AmSilence[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-commands-'));
    keys = generateTestKeys();
    closedPort = await freePort();
    cadvisor = await startCadvisor({ containers: CONTAINERS });
    stack = await startE2eStack({
      channels: [TEST_CHANNEL_ID],
      applicationId: TEST_APPLICATION_ID,
      scrapeJobs: [
        // Fast scrapes: the exporter's timestamped history (one 60 s step per scrape) fills the 5m window in under a second.
        { job: 'cadvisor', targets: [cadvisor.target], scrapeInterval: '100ms', scrapeTimeout: '100ms' },
        // Nothing listens there: a target that is really down, with Prometheus' own lastError.
        { job: 'broken', targets: [`127.0.0.1:${closedPort}`] },
      ],
    });
    ({ prometheus, loki, discord, nodeInstance } = stack);
    const botPort = await freePort();
    alertmanager = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${botPort}/webhooks/alertmanager`, bearerToken: WEBHOOK_TOKEN });
    bot = await startBot(
      {
        dir,
        prometheusUrl: prometheus.url,
        lokiUrl: loki.url,
        discordApiBaseUrl: discord.apiBaseUrl,
        discordToken: DOUBLE_TOKEN,
        webhookToken: WEBHOOK_TOKEN,
        channelId: TEST_CHANNEL_ID,
        discordMode: 'http',
        publicKeyHex: keys.publicKeyHex,
        sections: { alertmanager: { url: alertmanager.url }, commands: { ephemeral: true, permissions: { silence: [ONCALL_ROLE] } } },
      },
      botPort,
    );
    await Promise.all([
      prometheus.waitFor('up{job="node"} == 1'),
      prometheus.waitFor('rate(container_cpu_usage_seconds_total{name="worker"}[5m]) > 1.15'),
      prometheus.waitFor('up{job="broken"} == 0'),
    ]);
  }, 120_000);

  afterAll(async () => {
    await bot?.kill('SIGTERM');
    await alertmanager?.stop();
    await stack?.stop();
    await cadvisor?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  afterEach(() => {
    // Every request the bot made to Discord (callbacks, webhook edits, follow-ups) was valid.
    expect(discord.invalid).toEqual([]);
  });

  it('has every command and button registered in the static lists', () => {
    expect([...commandNames].sort()).toEqual(['alerts', 'health', 'logs', 'query', 'silence', 'top']);
    expect([...buttonActions].sort()).toEqual(['ack', 'logs', 'silence1h', 'unack']);
  });

  // ------------------------------------------------------------------------------------------
  // /health

  it("/health shows the really-down target with Prometheus' own lastError and the backends ready", async () => {
    const targets = (await (await fetch(`${prometheus.url}/api/v1/targets?state=active`)).json()) as {
      data: { activeTargets: Array<{ labels: Record<string, string>; lastError: string; health: string }> };
    };
    const broken = targets.data.activeTargets.find((t) => t.labels.job === 'broken');
    expect(broken?.health).toBe('down');
    expect(broken?.lastError).toContain('connection refused');

    const d = await command('health');
    expect(d.errors).toEqual([]);
    expect(d.body).toMatchObject({ type: 5 });
    const reply = await answered(d);
    const description = reply.embeds[0]?.description ?? '';
    // Prometheus' own words, verbatim.
    expect(description).toContain(broken!.lastError);
    const answer = text(reply);
    expect(answer).toContain('broken');
    expect(answer).toContain(`127.0.0.1:${closedPort}`);
    expect(answer).toMatch(/node/);
    expect(answer).toMatch(/Prometheus/);
    expect(answer).toMatch(/Alertmanager/);
  });

  it('/health job:<injection> is matched literally and finds no such job', async () => {
    const d = await command('health', { job: 'node"} or vector(1) #' });
    const answer = text(await answered(d));
    expect(answer).toContain('No scrape target has job `node\\"} or vector(1) #`');
    expect(answer).not.toContain('connection refused');
  });

  // ------------------------------------------------------------------------------------------
  // /top

  /** Rows of the /top table: container, CPU %, memory text. */
  function topRows(content: string): Array<{ name: string; cpu: number; mem: string }> {
    const block = /```[a-z]*\n([\s\S]*?)```/.exec(content)?.[1] ?? '';
    return block
      .split('\n')
      .slice(1)
      .map((l) => /^(\S+)\s+([\d.]+)%\s+(.+?)\s*$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ name: m[1]!, cpu: Number(m[2]), mem: m[3]! }));
  }

  it('/top ranks the scraped containers by CPU with their percentages of one core and memory beside', async () => {
    const d = await command('top');
    const answer = await answered(d);
    const rows = topRows(answer.content);
    expect(rows.map((r) => r.name)).toEqual(['worker', 'api', 'db', 'cache']);
    for (const c of CONTAINERS) {
      const row = rows.find((r) => r.name === c.name)!;
      expect(row.cpu).toBeCloseTo(c.cores * 100, 0);
    }
    expect(rows.map((r) => r.mem)).toEqual(['256 MiB', '512 MiB', '2 GiB', '64 MiB']);
  });

  it('/top resource:memory limit:2 ranks by working set', async () => {
    const rows = topRows((await answered(await command('top', { resource: 'memory', limit: 2 }))).content);
    expect(rows.map((r) => [r.name, r.mem])).toEqual([
      ['db', '2 GiB'],
      ['api', '512 MiB'],
    ]);
  });

  it('/top limit:99 is refused ephemerally, naming the option, before any query', async () => {
    const d = await command('top', { limit: 99 });
    expect(d.body).toEqual({ type: 4, data: { content: '⚠️ limit: expected an integer from 1 to 25', flags: 64, allowed_mentions: { parse: [] } } });
    expect(d.record.original?.ephemeral).toBe(true);
  });

  it('/top host:<injection> is matched literally: no container on such a host', async () => {
    const answer = await answered(await command('top', { host: 'x|.*"} or vector(1) #' }));
    expect(answer.content).toContain('No container on host');
    expect(answer.content).not.toContain('worker');
  });

  // ------------------------------------------------------------------------------------------
  // /query

  it('/query shows an instant vector as a table with units, ephemeral by default (sensitive)', async () => {
    const d = await command('query', { promql: `node_memory_MemTotal_bytes{instance="${nodeInstance}"}` });
    const answer = await answered(d);
    expect(answer.ephemeral).toBe(true);
    expect(answer.content).toMatch(/\d+(\.\d+)? (GiB|MiB)/);
  });

  it('/query range:10m summarises each series with min/max/last', async () => {
    const answer = await answered(await command('query', { promql: 'up{job="node"}', range: '10m', ephemeral: false }));
    expect(answer.ephemeral).toBe(false);
    expect(answer.content.toLowerCase()).toMatch(/min/);
    expect(answer.content.toLowerCase()).toMatch(/max/);
  });

  it("/query shows Prometheus' own message for a bad expression", async () => {
    const answer = await answered(await command('query', { promql: 'sum(rate(up[5m]' }));
    expect(answer.content).toMatch(/parse error/);
  });

  it('/query range:8d is refused ephemerally, naming the option', async () => {
    const d = await command('query', { promql: 'up', range: '8d' });
    expect(d.record.original).toMatchObject({ ephemeral: true, content: '⚠️ range: expected a duration like 1h, from 1m to 7d' });
  });

  // ------------------------------------------------------------------------------------------
  // /logs

  it('/logs shows recent error-like lines from Loki', async () => {
    const answer = await answered(await command('logs'));
    const all = text(answer);
    expect(all).toContain('Request failed');
    expect(all).toMatch(/<t:\d+:[a-zA-Z]>/);
    expect(all).not.toContain('Started Application');
  });

  it('/logs container:<injection> is matched literally, never executed', async () => {
    const injection = 'api"} or vector(1) #';
    const before = loki.requests.length;
    const answer = await answered(await command('logs', { container: injection }));
    const queries = loki.requests.slice(before).map((r) => r.query.query ?? '');
    expect(queries.some((q) => q.includes('container_name="api\\"} or vector(1) #"'))).toBe(true);
    expect(text(answer)).not.toContain('Request failed');
  });

  it('/logs since:8d is refused ephemerally, naming the option', async () => {
    const d = await command('logs', { since: '8d' });
    expect(d.record.original).toMatchObject({ ephemeral: true, content: '⚠️ since: expected a duration like 15m, from 1m to 7d' });
  });

  // ------------------------------------------------------------------------------------------
  // /alerts

  it('/alerts lists what is firing in Alertmanager, grouped by name with severity', async () => {
    await alertmanager.postAlerts([
      { labels: { alertname: 'E2EDiskFull', job: 'node', instance: 'db-1', severity: 'critical' }, startsAt: new Date(Date.now() - 600_000).toISOString() },
      { labels: { alertname: 'E2EDiskFull', job: 'node', instance: 'db-2', severity: 'critical' }, startsAt: new Date(Date.now() - 300_000).toISOString() },
    ]);
    const answer = await eventually('E2EDiskFull in /alerts', async () => {
      const t = text(await answered(await command('alerts')));
      return t.includes('E2EDiskFull') ? t : undefined;
    });
    // 🔴 is critical; both alerts in one group, the oldest for 10 minutes.
    expect(answer).toContain('🔴 **E2EDiskFull** ×2 · for 10m');
    expect(answer).toContain('`db-1` `db-2`');
  });

  // ------------------------------------------------------------------------------------------
  // /silence

  it('/silence create makes a silence the real Alertmanager lists; /silence list shows it; /silence expire ends it', async () => {
    const created = await answered(
      await command(
        'silence',
        { matchers: 'alertname="E2EDiskFull",instance="db-1"', duration: '1h', comment: 'disk swap in progress' },
        { subcommand: 'create' },
      ),
    );
    const inAm = await eventually('the silence in Alertmanager', async () =>
      (await silences()).find((s) => s.comment === 'disk swap in progress' && s.status.state === 'active'),
    );
    expect(inAm.createdBy).toBe(`${ONCALL.username} (${ONCALL.userId})`);
    expect(inAm.matchers.map((m) => [m.name, m.value, m.isRegex])).toEqual(
      expect.arrayContaining([
        ['alertname', 'E2EDiskFull', false],
        ['instance', 'db-1', false],
      ]),
    );
    expect(text(created)).toContain(inAm.id.split('-')[0]!);

    const listed = text(await answered(await command('silence', {}, { subcommand: 'list' })));
    expect(listed).toContain(inAm.id);
    expect(listed).toContain('disk swap in progress');

    const expired = await answered(await command('silence', { id: inAm.id }, { subcommand: 'expire' }));
    expect(text(expired)).toContain(inAm.id.split('-')[0]!);
    const after = await eventually('the silence expired', async () => (await silences()).find((s) => s.id === inAm.id && s.status.state === 'expired'));
    expect(after.status.state).toBe('expired');
  });

  it('/silence create with matchers that would silence everything is refused ephemerally', async () => {
    const before = (await silences()).length;
    const d = await command('silence', { matchers: 'alertname=~".*"', duration: '1h' }, { subcommand: 'create' });
    expect(d.record.original?.ephemeral).toBe(true);
    expect(d.record.original?.content).toMatch(/^⚠️ matchers: /);
    expect((await silences()).length).toBe(before);
  });

  it('/silence is refused to a member without the role in commands.permissions, and nothing is created', async () => {
    const before = (await silences()).length;
    const d = await command('silence', { matchers: 'alertname="X"', duration: '1h' }, { subcommand: 'create', invoker: GUEST });
    expect(d.record.original).toMatchObject({ ephemeral: true });
    expect(d.record.original?.content).toContain('⛔ You are not allowed to use `/silence`');
    expect((await silences()).length).toBe(before);
  });

  // ------------------------------------------------------------------------------------------
  // Buttons on an alert message

  describe('buttons on an alert message', () => {
    let message: APIMessage;
    const labels = { alertname: 'E2EButtons', job: 'docker', container: 'api', instance: 'app-1', severity: 'warning' };

    /** The alert message the bot posts for an Alertmanager webhook, with its buttons. */
    beforeAll(async () => {
      const body = JSON.parse(readFileSync(new URL('alertmanager-firing.json', FIXTURES), 'utf8')) as {
        alerts: Array<Record<string, unknown>>;
        groupKey: string;
        groupLabels: Record<string, string>;
        commonLabels: Record<string, string>;
      };
      body.alerts = body.alerts
        .slice(0, 1)
        .map((a) => ({ ...a, labels, fingerprint: 'e2ebuttons0001', startsAt: new Date(Date.now() - 120_000).toISOString() }));
      body.groupKey = '{}:{alertname="E2EButtons"}';
      body.groupLabels = { alertname: 'E2EButtons' };
      body.commonLabels = labels;
      expect(await postWebhook(bot, 'alertmanager', WEBHOOK_TOKEN, JSON.stringify(body))).toBe(202);
      message = await eventually(
        'the alert message with buttons',
        () => [...discord.messages.values()].find((m) => JSON.stringify(m.embeds).includes('E2EButtons') && (m.components?.length ?? 0) > 0),
        30_000,
      );
    }, 60_000);

    /** The custom id of the button labelled `label` on the message. */
    function button(label: string): string {
      const row = (message.components ?? [])[0] as { components: Array<{ label?: string; custom_id?: string }> } | undefined;
      const b = row?.components.find((c) => c.label === label);
      if (!b?.custom_id) throw new Error(`no "${label}" button on the alert message`);
      return b.custom_id;
    }

    it("Silence 1h silences the alert's labels in the real Alertmanager, by the presser, linking the message", async () => {
      const d = await send(buttonInteraction(button('Silence 1h'), message, { invoker: ONCALL }));
      expect(d.body).toEqual({ type: 6 });
      const inAm = await eventually('the button silence', async () =>
        (await silences()).find((s) => s.comment.includes(message.id) && s.status.state === 'active'),
      );
      expect(inAm.createdBy).toBe(`${ONCALL.username} (${ONCALL.userId})`);
      expect(inAm.matchers.map((m) => [m.name, m.value])).toEqual(expect.arrayContaining(Object.entries(labels)));
      const followUps = await eventually('the private follow-up', () => (d.record.followUps.length >= 1 ? d.record.followUps : undefined));
      expect(followUps.map((f) => f.ephemeral)).toEqual([true]);
      expect(seen(d.record).map(text).join('\n')).toContain(inAm.id.split('-')[0]!);
      // The team reads it in the incident's thread (its id is the alert message's), delivered through the outbox.
      const notice = await eventually('the silence notice in the thread', () =>
        [...discord.messages.values()].find((m) => m.channel_id === message.id && m.content.startsWith('🔕 Silenced for 1h')),
      );
      expect(notice.content).toContain(inAm.id.split('-')[0]!);
    });

    it('Acknowledge shows who acknowledged on the message itself, for everyone', async () => {
      const d = await send(buttonInteraction(button('Acknowledge'), message, { invoker: ONCALL }));
      expect(d.errors).toEqual([]);
      const edited = await eventually('the acknowledged message', () => {
        const m = discord.messages.get(message.id);
        return m && JSON.stringify(m.embeds).includes(ONCALL.userId!) ? m : undefined;
      });
      expect(JSON.stringify(edited.embeds)).toMatch(/[Aa]cknowledged/);
      await eventually('the acknowledgement in the thread', () =>
        [...discord.messages.values()].find((m) => m.channel_id === message.id && m.content.startsWith(`👀 Acknowledged by **${ONCALL.username}**`)),
      );
      const again = await send(buttonInteraction(button('Acknowledge'), message, { invoker: GUEST }));
      expect(again.record.original?.ephemeral).toBe(true);
      expect(again.record.original?.content).toContain('Already acknowledged');
    });

    it("Logs answers only the presser with the alert's error lines from Loki", async () => {
      const d = await send(buttonInteraction(button('Logs'), message, { invoker: ONCALL }));
      expect(d.body).toEqual({ type: 6 });
      const followUp = await eventually('the logs follow-up', () => d.record.followUps[0], 20_000);
      expect(followUp.ephemeral).toBe(true);
      expect(text(followUp)).toContain('Request failed');
    });
  });
});
