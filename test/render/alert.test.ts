import type { APIEmbed, RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Alert, Notification } from '../../src/model.js';
import type { AlertEnrichment, LogLine } from '../../src/findings.js';
import { cleanLogLine } from '../../src/render/finding-text.js';
import { renderEscalation } from '../../src/render/mentions.js';
import { renderFiringNotes, renderFiringReply, renderReminder, renderResolvedReply } from '../../src/render/replies.js';
import { COLORS, renderAlertMessage, type AlertMessageInput } from '../../src/render/alert.js';
import { codePointLength } from '../../src/render/truncate.js';
import { englishLeftovers, visibleText } from './korean.js';
import { enrichment, expectWithinLimits, loadWebhook, messageValidator, recorder } from './helpers.js';

const NOW = new Date('2026-11-21T08:55:00Z');
let validate: (body: unknown) => string[];
beforeAll(() => {
  validate = messageValidator();
});

function embedOf(body: RESTPostAPIChannelMessageJSONBody): APIEmbed {
  expect(body.embeds).toHaveLength(1);
  return body.embeds![0]!;
}
function field(embed: APIEmbed, name: string | RegExp): string {
  const found = embed.fields?.find((f) => (typeof name === 'string' ? f.name === name : name.test(f.name)));
  if (!found) throw new Error(`no field ${String(name)} in ${JSON.stringify(embed.fields?.map((f) => f.name))}`);
  return found.value;
}
function render(n: Notification, enrichments: Record<string, AlertEnrichment>, over: Partial<AlertMessageInput> = {}) {
  const { warn, calls } = recorder();
  const body = renderAlertMessage(
    { enriched: { notification: n, enrichments }, state: 'firing', incidentStartedAt: n.alerts[0]!.startsAt, now: NOW, ...over },
    warn,
  );
  return { body, embed: embedOf(body), calls };
}
function logLine(at: string, line: string): LogLine {
  return { at: new Date(at), line, labels: {} };
}

/** The Alertmanager fixture's two alerts with a rich, partly failed enrichment. */
function amFiring() {
  const n = loadWebhook('alertmanager-firing.json');
  const [dbHost, exporter] = n.alerts as [Alert, Alert];
  const enrichments: Record<string, AlertEnrichment> = {
    [dbHost.fingerprint]: enrichment(dbHost, NOW, {
      expression: {
        expr: dbHost.expr!,
        series: [
          { labels: { instance: 'db-host:9100' }, atStart: 93.1, peak: 97.3, peakAt: new Date('2026-11-21T08:52:00Z'), latest: 95, latestAt: NOW, points: 120 },
        ],
      },
      target: { job: 'node', instance: 'db-host:9100', upRatio: 1, upNow: 1, health: 'up' },
      logs: {
        query: '{host="db-host"} |~ "(?i)(error)"',
        count: 2,
        capped: false,
        lines: [logLine('2026-11-21T08:51:30Z', 'level=error msg="disk stall"'), logLine('2026-11-21T08:51:00Z', 'level=error msg="slow io"')],
      },
    }),
    [exporter.fingerprint]: enrichment(exporter, NOW, {
      target: {
        job: 'node',
        instance: 'node-exporter:9100',
        health: 'down',
        upNow: 0,
        upRatio: 0.4,
        lastError: 'Get "http://node-exporter:9100/metrics": connection refused',
        lastScrape: new Date('2026-11-21T08:53:00Z'),
        lastScrapeDurationSeconds: 0.012,
      },
      failures: [{ backend: 'loki', what: 'logs', message: 'Loki timed out after 5s', words: { kind: 'timed-out', backend: 'Loki', ms: 5000 } }],
    }),
  };
  return { n, dbHost, exporter, enrichments };
}

describe('renderAlertMessage: Alertmanager firing fixture', () => {
  const { n, enrichments } = amFiring();
  const { body, embed, calls } = render(n, enrichments);

  it('titles the group with status, alertname and alert count, linked to the source', () => {
    expect(embed.title).toBe('🔥 FIRING: HostHighCpuLoad ×2');
    expect(embed.url).toBe(n.alerts[0]!.generatorURL);
    expect(embed.color).toBe(COLORS.warning);
    expect(embed.timestamp).toBe('2026-11-21T08:51:25.079Z');
  });

  it('leads the description with the summary, then when it started and the query window', () => {
    expect(embed.description).toBe(
      [
        '**Host high CPU load (instance db-host:9100)**',
        'CPU load is \\> 90%\n  VALUE = 93.1',
        '',
        'Started <t:1795251085:R>',
        'Window: <t:1795249285:t> – <t:1795251300:t>',
      ].join('\n'),
    );
  });

  it('lists the common labels with severity first and without alertname', () => {
    expect(embed.fields![0]).toEqual({ name: 'Common labels', value: '**severity**: warning\n**job**: node' });
  });

  it('shows the expression with units, the target health and the most recent logs per alert', () => {
    expect(field(embed, '1. instance=db-host:9100')).toBe(
      [
        'start 93.1% → peak 97.3% (at <t:1795251120:t>) → now 95.0%',
        'Target: up 100% of window',
        'Logs: 2 matching lines, newest first, times UTC',
        '```',
        '08:51:30 level=error msg="disk stall"',
        '08:51:00 level=error msg="slow io"',
        '```',
      ].join('\n'),
    );
  });

  it('says why a target is down and which enrichment failed', () => {
    expect(field(embed, '2. instance=node-exporter:9100')).toBe(
      [
        'Host high CPU load (instance node-exporter:9100)',
        '🔻 Target DOWN: Get "http://node-exporter:9100/metrics": connection refused, last scrape 2m ago, took 12ms, up 40% of window',
        '⚠️ logs unavailable: Loki timed out after 5s',
      ].join('\n'),
    );
  });

  it('links the source and a pre-filled Alertmanager silence', () => {
    expect(field(embed, 'Links')).toBe(
      `[Source](${n.alerts[0]!.generatorURL!.replace(/\(/g, '%28').replace(/\)/g, '%29')}) · ` +
        '[Silence](http://localhost:9093/#/silences/new?filter=%7Balertname%3D%22HostHighCpuLoad%22%7D)',
    );
  });

  it('marks the message as partially enriched and names the sender and receiver', () => {
    expect(embed.footer).toEqual({ text: 'Alertmanager → discord-bot · ⚠️ partially enriched' });
  });

  it("never pings anyone and is a valid create-message body per Discord's spec", () => {
    expect(body.allowed_mentions).toEqual({ parse: [] });
    expect(validate(body)).toEqual([]);
  });

  it('fits without any cut, so nothing is logged', () => {
    expect(calls).toEqual([]);
  });
});

describe('renderAlertMessage: resolved', () => {
  const n = loadWebhook('alertmanager-resolved.json');
  const { enrichments } = amFiring();
  const resolvedAt = n.alerts[0]!.endsAt!;
  const { body, embed, calls } = render(n, enrichments, { state: 'resolved', resolvedAt });

  it('turns green, says RESOLVED and how long it lasted', () => {
    expect(embed.title).toBe('✅ RESOLVED: HostHighCpuLoad ×2');
    expect(embed.color).toBe(COLORS.resolved);
    expect(embed.description).toContain('\n\nResolved after 2m 6s\n');
    expect(embed.description).not.toContain('Started');
  });

  it('shows the last value instead of "now" and offers no silence link', () => {
    expect(field(embed, /^1\. /)).toContain('→ last 95.0%');
    expect(field(embed, 'Links')).not.toContain('Silence');
    expect(validate(body)).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('falls back to the latest endsAt when no resolvedAt is given', () => {
    const { embed: e } = render(n, {}, { state: 'resolved' });
    expect(e.description).toContain('Resolved after 2m 6s');
  });
});

describe('renderResolvedReply and renderFiringReply', () => {
  it('replies with a short resolved line and no mentions', () => {
    const n = loadWebhook('alertmanager-resolved.json');
    const { warn, calls } = recorder();
    const body = renderResolvedReply({ notification: n, startedAt: n.alerts[0]!.startsAt, resolvedAt: n.alerts[0]!.endsAt! }, warn);
    expect(body).toEqual({ content: '✅ Resolved: HostHighCpuLoad ×2 after 2m 6s', allowed_mentions: { parse: [], replied_user: false } });
    expect(calls).toEqual([]);
  });

  it('names newly firing alerts by where they fire', () => {
    const n = loadWebhook('alertmanager-firing.json');
    const body = renderFiringReply(n.alerts, () => {});
    expect(body.content).toBe('🔥 Now firing: HostHighCpuLoad on db-host:9100, HostHighCpuLoad on node-exporter:9100');
    expect(body.allowed_mentions).toEqual({ parse: [], replied_user: false });
  });

  it('cannot ping @everyone through an alertname', () => {
    const n = loadWebhook('alertmanager-resolved.json');
    n.commonLabels.alertname = '@everyone *boom*';
    const body = renderResolvedReply({ notification: n, startedAt: n.alerts[0]!.startsAt, resolvedAt: n.alerts[0]!.endsAt! }, () => {});
    expect(body.content).toBe('✅ Resolved: @everyone \\*boom\\* ×2 after 2m 6s');
    expect(body.allowed_mentions!.parse).toEqual([]);
  });
});

describe('renderAlertMessage: Grafana fixtures', () => {
  it('names distinct alerts, shows Grafana values, runbook and per-alert silence links', () => {
    const n = loadWebhook('grafana-firing.json');
    const { body, embed, calls } = render(n, {});
    expect(embed.title).toBe('🔥 FIRING: High memory usage, High CPU usage ×2');
    expect(embed.color).toBe(COLORS.unknown);
    expect(embed.description).toBe('**This alert was triggered for zone us-1**\nThe system has high memory usage\n\nStarted <t:1634025063:R>');
    expect(field(embed, '1. High memory usage, zone=us-1')).toBe(
      'Values: B = 44.2, C = 1\n[Silence](https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1)',
    );
    expect(field(embed, '2. High CPU usage, zone=eu-1')).toMatch(/^This alert was triggered for zone eu-1\nValues: B = 44.2, C = 1\n\[Silence\]/);
    expect(field(embed, 'Links')).toBe('[Source](https://play.grafana.org/alerting/1afz29v7z/edit) · [Runbook](https://myrunbook.com/runbook/1234)');
    expect(embed.footer!.text).toBe('Grafana → My Super Webhook');
    expect(validate(body)).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('renders the default payload: its 0001 start shows as the time of receipt, extra annotations shown', () => {
    const n = loadWebhook('grafana-firing-default-payload.json');
    const { body, embed } = render(n, {});
    expect(embed.title).toBe('🔥 FIRING: alert1');
    expect(embed.timestamp).toBe('2026-11-21T09:00:00.000Z');
    expect(embed.description).toBe('Received <t:1795251600:R>');
    expect(embed.fields).toEqual([
      { name: 'Labels', value: '**lbl1**: val1' },
      {
        name: 'Links',
        value:
          '[Source](http://localhost/test?orgId=1) · [Silence](http://localhost/alerting/silence/new?alertmanager=grafana&matcher=alertname%3Dalert1&matcher=lbl1%3Dval1&orgId=1)',
      },
      { name: 'Annotations', value: '**ann1**: annv1' },
    ]);
    expect(validate(body)).toEqual([]);
  });

  it('resolves relative Grafana links against grafanaUrl', () => {
    const n = loadWebhook('grafana-firing-default-payload.json');
    n.alerts[0]!.dashboardURL = '/d/abc';
    n.alerts[0]!.panelURL = '/d/abc?viewPanel=2';
    const { embed } = render(n, {}, { grafanaUrl: 'https://grafana.example' });
    expect(field(embed, 'Links')).toContain('[Dashboard](https://grafana.example/d/abc) · [Panel](https://grafana.example/d/abc?viewPanel=2)');
  });
});

describe('renderAlertMessage: colour by status and severity', () => {
  it.each([
    ['critical', 'firing', COLORS.critical],
    ['warning', 'firing', COLORS.warning],
    ['info', 'firing', COLORS.info],
    ['P1', 'firing', COLORS.critical],
    ['whatever', 'firing', COLORS.unknown],
    ['critical', 'resolved', COLORS.resolved],
  ] as const)('severity %s while %s', (severity, state, colour) => {
    const n = loadWebhook('alertmanager-firing.json');
    n.commonLabels.severity = severity;
    expect(render(n, {}, { state }).embed.color).toBe(colour);
  });
});

describe('renderAlertMessage: enrichment edge cases', () => {
  it('says when logs and the expression found nothing', () => {
    const n = loadWebhook('alertmanager-firing.json');
    const a = n.alerts[0]!;
    const { embed } = render(n, {
      [a.fingerprint]: enrichment(a, NOW, { expression: { expr: a.expr!, series: [] }, logs: { query: '{}', count: 0, capped: false, lines: [] } }),
    });
    expect(field(embed, /^1\. /)).toBe('Expression: no data in the window\nLogs: no matching lines');
    expect(embed.footer!.text).toBe('Alertmanager → discord-bot');
  });

  it('marks alerts without enrichment and counts capped logs with a plus', () => {
    const n = loadWebhook('alertmanager-firing.json');
    const a = n.alerts[0]!;
    const { embed } = render(n, {
      [a.fingerprint]: enrichment(a, NOW, { logs: { query: '{}', count: 100, capped: true, lines: [logLine('2026-11-21T08:51:30Z', 'x')] } }),
    });
    expect(field(embed, /^1\. /)).toContain('Logs: 100+ matching lines, newest first');
    expect(field(embed, /^2\. /)).toBe('Host high CPU load (instance node-exporter:9100)\nNot enriched');
  });

  it('labels each series by what sets it apart and counts the ones not shown', () => {
    const n = loadWebhook('alertmanager-firing.json');
    const a = n.alerts[0]!;
    const series = ['a', 'b', 'c', 'd', 'e'].map((mode, i) => ({
      labels: { instance: 'db-host:9100', mode },
      peak: 1536 * (i + 1),
      peakAt: new Date('2026-11-21T08:52:00Z'),
      latest: 1024,
      latestAt: NOW,
      points: 10,
    }));
    const { embed } = render(n, { [a.fingerprint]: enrichment(a, NOW, { expression: { expr: 'node_memory_Active_bytes', series } }) });
    expect(field(embed, /^1\. /)).toBe(
      [
        'a: peak 1.5 KiB (at <t:1795251120:t>) → now 1 KiB',
        'b: peak 3 KiB (at <t:1795251120:t>) → now 1 KiB',
        'c: peak 4.5 KiB (at <t:1795251120:t>) → now 1 KiB',
        '+2 more series',
      ].join('\n'),
    );
  });

  it('keeps a log line from closing the code block and strips control characters', () => {
    expect(cleanLogLine('a ```js\nb\tc\u0007')).toBe('a ˋˋˋjs ⏎ b c');
    const n = loadWebhook('alertmanager-firing.json');
    const a = n.alerts[0]!;
    const lines = [logLine('2026-11-21T08:51:30Z', '```'), logLine('2026-11-21T08:51:29Z', 'end ``````')];
    const { embed } = render(n, { [a.fingerprint]: enrichment(a, NOW, { logs: { query: '{}', count: 2, capped: false, lines } }) });
    expect(field(embed, /^1\. /).match(/```/g)).toHaveLength(2);
  });

  it('escapes markdown in label values and names', () => {
    const n = loadWebhook('alertmanager-firing.json');
    n.commonLabels.team = 'a*b_c`d|e~f>g';
    n.alerts[0]!.labels.instance = '**bold**';
    const { embed } = render(n, {});
    expect(field(embed, 'Common labels')).toContain('**team**: a\\*b\\_c\\`d\\|e\\~f\\>g');
    expect(embed.fields!.some((f) => f.name === '1. instance=\\*\\*bold\\*\\*')).toBe(true);
  });

  it('marks an alert that already resolved inside a firing group', () => {
    const n = loadWebhook('alertmanager-firing.json');
    n.alerts[1]!.status = 'resolved';
    const { embed } = render(n, {});
    expect(embed.fields!.map((f) => f.name)).toContain('✅ 2. instance=node-exporter:9100');
  });

  it('cuts a long emoji alertname in the title without splitting an emoji, keeping the count', () => {
    const n = loadWebhook('alertmanager-firing.json');
    n.commonLabels.alertname = '👨‍👩‍👧'.repeat(100);
    const { body, embed } = render(n, {});
    expectWithinLimits(body);
    expect(embed.title).toMatch(/^🔥 FIRING: (?:👨‍👩‍👧)+… ×2$/u);
    expect(codePointLength(embed.title!)).toBeLessThanOrEqual(256);
  });

  it('drops links that are not http(s) and has no title link then', () => {
    const n = loadWebhook('alertmanager-firing.json');
    for (const a of n.alerts) a.generatorURL = 'javascript:alert(1)';
    n.externalURL = 'file:///etc/passwd';
    const { embed } = render(n, {});
    expect(embed.url).toBeUndefined();
    expect(embed.fields!.some((f) => f.name === 'Links')).toBe(false);
  });
});

describe('renderAlertMessage: never shows secrets', () => {
  const n = loadWebhook('grafana-firing-default-payload.json');
  const a = n.alerts[0]!;
  a.generatorURL = 'https://admin:hunter2@grafana.example/alerting/abc/view?orgId=1';
  a.silenceURL = 'https://admin:hunter2@grafana.example/alerting/silence/new?auth_token=tok-999';
  a.annotations = {
    summary: 'Webhook failing, see https://bob:s3cr3t-pass@grafana.example/d/1',
    runbook_url: 'https://wiki:pw-in-url@wiki.example/runbook',
    token: 'abc123secret',
    db_password: 'pw-annotation',
    slack_webhook: 'https://hooks.slack.com/services/T000/B000/XXXX',
    __alertImageToken__: 'image-token-value',
    owner: 'team-db',
  };
  const { body, embed } = render(n, {
    [a.fingerprint]: enrichment(a, NOW, {
      target: { health: 'down', lastError: 'Get "https://scraper:scrape-pass@exporter:9100/metrics": 401' },
      logs: {
        query: '{}',
        count: 1,
        capped: false,
        lines: [logLine('2026-11-21T08:51:30Z', 'login failed password=hunter3 Authorization: Bearer eyJabc.def')],
      },
      failures: [{ backend: 'loki', what: 'logs', message: 'HTTP 401 for https://u:loki-pass@loki:3100' }],
    }),
  });
  const text = JSON.stringify(body);

  it.each([
    'hunter2',
    'hunter3',
    's3cr3t-pass',
    'pw-in-url',
    'abc123secret',
    'pw-annotation',
    'hooks.slack.com',
    'image-token-value',
    'tok-999',
    'scrape-pass',
    'loki-pass',
    'eyJabc',
  ])('does not contain %s', (secret) => {
    expect(text).not.toContain(secret);
  });

  it('still shows the harmless parts', () => {
    expect(embed.url).toBe('https://grafana.example/alerting/abc/view?orgId=1');
    expect(field(embed, 'Annotations')).toBe('**owner**: team-db');
    expect(field(embed, 'Links')).toContain('[Runbook](https://wiki.example/runbook)');
    expect(field(embed, 'Links')).toContain('[Silence](https://grafana.example/alerting/silence/new)');
    expect(embed.description).toMatch(/^\*\*Webhook failing, see https:\/\/grafana\.example\/d\/1\*\*\n\nReceived <t:\d+:R>/);
    expect(field(embed, 'Findings')).toContain('password=[redacted]');
  });
});

describe('renderAlertMessage: oversized input stays within every limit', () => {
  /** 200 alerts, 1000 labels, 10 000-character annotations, 50 log lines of 10 kB, emoji everywhere. */
  function huge(): { n: Notification; enrichments: Record<string, AlertEnrichment> } {
    const n = loadWebhook('alertmanager-firing.json');
    const template = n.alerts[0]!;
    const emojiText = (len: number) => `${'🔥x'.repeat(len / 3)}👨‍👩‍👧`;
    const manyLabels = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`label_${i}`, `value ${i} ${'v'.repeat(50)}`]));
    n.commonLabels = { alertname: 'HostHighCpuLoad', severity: 'critical', ...manyLabels };
    n.commonAnnotations = { summary: emojiText(10_000), description: emojiText(10_000), note: 'n'.repeat(10_000) };
    n.truncatedAlerts = 7;
    n.alerts = Array.from({ length: 200 }, (_, i) => ({
      ...template,
      fingerprint: `fp${i}`,
      labels: { ...n.commonLabels, instance: `host-${i}-${'h'.repeat(300)}:9100` },
      annotations: { summary: `Alert ${i} ${emojiText(10_000)}`, runbook_url: `https://wiki.example/${'r'.repeat(1500)}` },
      generatorURL: `${template.generatorURL!}&pad=${'p'.repeat(600)}`,
    }));
    const enrichments: Record<string, AlertEnrichment> = {};
    for (const a of n.alerts.slice(0, 25)) {
      enrichments[a.fingerprint] = enrichment(a, NOW, {
        expression: {
          expr: a.expr!,
          series: Array.from({ length: 10 }, (_, k) => ({
            labels: { instance: `${'i'.repeat(500)}${k}` },
            atStart: 90,
            peak: 99,
            peakAt: NOW,
            latest: 95,
            latestAt: NOW,
            points: 10,
          })),
        },
        target: { health: 'down', lastError: emojiText(10_000), lastScrape: NOW, lastScrapeDurationSeconds: 1.5 },
        logs: {
          query: '{}',
          count: 5000,
          capped: true,
          lines: Array.from({ length: 50 }, (_, k) => logLine('2026-11-21T08:51:30Z', `${k} ${'``` '.repeat(10)}${emojiText(10_000)}`)),
        },
        failures: Array.from({ length: 5 }, () => ({ backend: 'prometheus' as const, what: 'expression', message: emojiText(10_000) })),
      });
    }
    return { n, enrichments };
  }

  it.each([5, 25])('holds every limit with maxAlerts %i and warns about what it cut', (maxAlerts) => {
    const { n, enrichments } = huge();
    const { body, embed, calls } = render(n, enrichments, { maxAlerts });
    expectWithinLimits(body);
    expect(validate(body)).toEqual([]);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.some((c) => c.details.part === 'summary')).toBe(true);
    // A 1500-character runbook link cannot fit in a field: it is left out whole, not cut.
    expect(calls).toContainEqual({ msg: 'alert link omitted to fit the message', details: { part: 'links', link: 'Runbook' } });
    expect(embed.title).toBe('🔥 FIRING: HostHighCpuLoad ×207');
    expect(embed.color).toBe(COLORS.critical);
    // The important parts survive: the links, the count of hidden alerts and closed code blocks.
    expect(field(embed, 'Links')).toMatch(/^\[Source\]\(http:\/\/localhost:9090\/graph\?/);
    const detailed = embed.fields!.filter((f) => /^\d+\. /.test(f.name));
    expect(detailed.length).toBeGreaterThan(0);
    expect(field(embed, `+${207 - detailed.length} more alerts`)).toContain('(7 not sent by Alertmanager)');
    for (const f of detailed) expect((f.value.match(/```/g) ?? []).length % 2).toBe(0);
  });

  it.each([5, 25])('holds every limit in Korean too, with maxAlerts %i and Hangul everywhere', (maxAlerts) => {
    const { n, enrichments } = huge();
    const hangul = (len: number) => '디스크가득참'.repeat(len / 6);
    n.commonAnnotations = { summary: hangul(10_000), description: hangul(10_000) };
    n.alerts = n.alerts.map((a) => ({ ...a, labels: { ...a.labels, 인스턴스: hangul(300) }, annotations: { ...a.annotations, summary: hangul(3000) } }));
    const { body, embed } = render(n, enrichments, { maxAlerts, locale: 'ko' });
    expectWithinLimits(body);
    expect(validate(body)).toEqual([]);
    expect(embed.title).toBe('🔥 발생: HostHighCpuLoad ×207');
    expect(embed.fields!.map((f) => f.name)).toContain('링크');
    expect(embed.fields!.find((f) => f.name.startsWith('+ 알림 '))?.value).toContain('(Alertmanager에서 보내지 않은 7개)');
  });

  it('trims each log line to about 200 characters behind a UTC time', () => {
    const { n, enrichments } = huge();
    n.alerts = n.alerts.slice(0, 1);
    n.commonAnnotations = {};
    n.alerts[0]!.annotations = {};
    n.commonLabels = { alertname: 'X' };
    n.alerts[0]!.labels = { alertname: 'X' };
    const e = enrichments[n.alerts[0]!.fingerprint]!;
    delete e.expression;
    delete e.target;
    e.failures = [];
    const { body, embed } = render(n, { [n.alerts[0]!.fingerprint]: e });
    expectWithinLimits(body);
    const block = field(embed, 'Findings').split('```\n')[1]!;
    const lines = block.split('\n').filter((l) => /^\d\d:\d\d:\d\d /.test(l));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) {
      expect(l.startsWith('08:51:30 ')).toBe(true);
      expect(codePointLength(l)).toBeLessThanOrEqual(9 + 200);
    }
  });
});

describe('renderAlertMessage: host, container and log context, Explore links', () => {
  const at = (t: string) => new Date(`2026-11-21T${t}Z`);

  /** One alert of the Alertmanager fixture with every kind of finding. */
  function rich(over: Partial<AlertEnrichment> = {}) {
    const n = loadWebhook('alertmanager-firing.json');
    n.alerts = n.alerts.slice(0, 1);
    const a = n.alerts[0]!;
    const e = enrichment(a, NOW, {
      expression: {
        expr: '100 - (avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100)',
        series: [{ labels: { instance: 'db-host:9100' }, atStart: 93.1, peak: 97.3, peakAt: at('08:52:00'), latest: 95, latestAt: NOW, points: 120 }],
      },
      extraExpression: {
        expr: 'sum(rate(http_requests_total{code=~"5.."}[5m]))',
        series: [{ labels: {}, atStart: 0.5, peak: 12.4, peakAt: at('08:52:30'), latest: 11, latestAt: NOW, points: 120 }],
      },
      target: { job: 'node', instance: 'db-host:9100', upRatio: 1, upNow: 1, health: 'up' },
      logs: { query: '{host="db-host"} |~ "(?i)(error)"', count: 39, capped: false, lines: [logLine('2026-11-21T08:51:30Z', 'x')] },
      logPatterns: {
        patterns: [
          {
            pattern: '<ts> ERROR <num> --- [nio-<num>-exec-<num>] c.e.api.OrderController : Request failed',
            count: 38,
            example: '2026-11-21 08:51:30.456 ERROR 1 --- [nio-8080-exec-7] c.e.api.OrderController : Request failed',
            exampleAt: at('08:51:30'),
            firstAt: at('08:46:00'),
            source: 'api',
          },
          {
            pattern: 'HikariPool-<num> - Connection is not available',
            count: 1,
            example: 'HikariPool-1 - Connection is not available',
            exampleAt: at('08:51:00'),
            firstAt: at('08:51:00'),
            source: 'api',
          },
        ],
        distinct: 2,
        lines: 39,
        capped: false,
      },
      logVolume: {
        query: 'sum by (level) (count_over_time({host="db-host"}[600s]))',
        windowSeconds: 600,
        baselineSeconds: 3600,
        levels: [
          { level: 'error', count: 57, before: 9, ratio: 38 },
          { level: 'warn', count: 12, before: 0 },
          { level: 'info', count: 300, before: 1800, ratio: 1 },
        ],
      },
      hostContext: {
        instance: 'db-host:9100',
        at: a.startsAt,
        measures: [
          { kind: 'cpu', now: 93.1, before: 12 },
          { kind: 'memory', now: 71.24, before: 70.8 },
          { kind: 'disk', now: 88, before: 80.1, mountpoint: '/' },
          { kind: 'load', now: 1.9, before: 0.2 },
        ],
      },
      containerContext: {
        host: 'db-host',
        cpu: [
          { name: 'api', value: 50 },
          { name: 'db', value: 25 },
        ],
        memory: [
          { name: 'db', value: 1536 * 1024 * 1024 },
          { name: 'api', value: 512 * 1024 * 1024 },
        ],
        events: [
          { name: 'api', kind: 'restart', count: 2 },
          { name: 'db', kind: 'oom', count: 1 },
        ],
      },
      exploreLinks: [
        {
          label: 'Metrics',
          datasource: 'prometheus',
          expr: '100 - (avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100)',
          start: at('08:21:25'),
          end: NOW,
        },
        { label: 'Logs', datasource: 'loki', expr: '{host="db-host"} |~ "(?i)(error)"', start: at('08:46:25'), end: at('08:55:00') },
      ],
      ...over,
    });
    return { n, a, enrichments: { [a.fingerprint]: e } };
  }

  it('says every finding in Korean: host, containers, log volume and patterns, Explore', () => {
    const { n, enrichments } = rich();
    const { body } = render(n, enrichments, { grafanaUrl: 'https://grafana.example', locale: 'ko', timeZone: 'Asia/Seoul' });
    const text = visibleText(body);
    expect(text).toContain('🖥️ 시작 시점의 호스트 db-host:9100');
    expect(text).toContain('📦 db-host의 컨테이너');
    expect(text).toMatch(/10분 동안 57줄, 평소 대비 38×/);
    expect(text).toContain('시각 KST');
    expect(englishLeftovers(text, 'alert.', ['Host', 'after', 'Explore'])).toEqual([]);
    expect(validate(body)).toEqual([]);
    expectWithinLimits(body);
  });

  it('finds the English it looks for: the same message in English is full of it', () => {
    const { n, enrichments } = rich();
    const { body } = render(n, enrichments, { grafanaUrl: 'https://grafana.example' });
    expect(englishLeftovers(visibleText(body), 'alert.', ['Host', 'after'])).toEqual(
      expect.arrayContaining(['Labels', 'CPU avg', 'at start', 'the usual rate']),
    );
  });

  it('orders the fields by importance: findings, containers, host, logs, links, Explore', () => {
    const { n, enrichments } = rich();
    const { body, embed, calls } = render(n, enrichments, { grafanaUrl: 'https://grafana.example' });
    expect(embed.fields!.map((f) => f.name)).toEqual([
      'Labels',
      'Findings',
      '📦 Containers on db-host',
      '🖥️ Host db-host:9100 at start',
      '📜 Logs',
      'Links',
      '🔎 Explore',
    ]);
    expectWithinLimits(body);
    expect(validate(body)).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('shows the extra expression and how the logs were grouped among the findings', () => {
    const { n, enrichments } = rich();
    expect(field(render(n, enrichments).embed, 'Findings')).toBe(
      [
        'start 93.1% → peak 97.3% (at <t:1795251120:t>) → now 95.0%',
        'Extra: start 0.5 req/s → peak 12.4 req/s (at <t:1795251150:t>) → now 11 req/s',
        'Target: up 100% of window',
        'Logs: 39 matching lines in 2 patterns, times UTC',
      ].join('\n'),
    );
  });

  it('compares the host at the start with an hour before, high values in bold', () => {
    const { n, enrichments } = rich();
    expect(field(render(n, enrichments).embed, '🖥️ Host db-host:9100 at start')).toBe(
      [
        'CPU **93.1%** (was 12.0% 1h before)',
        'Memory 71.2% (was 70.8% 1h before)',
        'Disk / 88.0% (was 80.1% 1h before)',
        'Load **1.9 per core** (was 0.2 per core 1h before)',
      ].join('\n'),
    );
  });

  it('says when the hour before has no data', () => {
    const { n, enrichments } = rich();
    const e = Object.values(enrichments)[0]!;
    e.hostContext = {
      instance: 'db-host:9100',
      at: NOW,
      measures: [
        { kind: 'cpu', now: 3 },
        { kind: 'memory', before: 40 },
      ],
    };
    expect(field(render(n, enrichments).embed, /^🖥️ Host/)).toBe('CPU 3.0% (no data 1h before)\nMemory no data (was 40.0% 1h before)');
  });

  it('puts container restarts and OOM kills before the busiest containers', () => {
    const { n, enrichments } = rich();
    expect(field(render(n, enrichments).embed, '📦 Containers on db-host')).toBe(
      ['🔁 **api** restarted 2× · 💥 **db** OOM-killed 1×', 'CPU avg: api 50.0% · db 25.0%', 'Memory peak: db 1.5 GiB · api 512 MiB'].join('\n'),
    );
  });

  it('shows the log volume against the usual rate, then the top patterns with counts and one example each', () => {
    const { n, enrichments } = rich();
    expect(field(render(n, enrichments).embed, '📜 Logs')).toBe(
      [
        '**error** 57 lines in 10m, 38× the usual rate',
        '**warn** 12 lines in 10m, none in the hour before',
        'info 300 lines in 10m, about the usual rate',
        '```',
        '×38 <ts> ERROR <num> --- [nio-<num>-exec-<num>] c.e.api.OrderController : Request failed',
        '   08:51:30 2026-11-21 08:51:30.456 ERROR 1 --- [nio-8080-exec-7] c.e.api.OrderController : Request failed',
        '×1 08:51:00 HikariPool-1 - Connection is not available',
        '```',
      ].join('\n'),
    );
  });

  it('names each pattern’s container when the lines come from several', () => {
    const { n, enrichments } = rich();
    const e = Object.values(enrichments)[0]!;
    e.logPatterns!.patterns[1]!.source = 'worker';
    const logs = field(render(n, enrichments).embed, '📜 Logs');
    expect(logs).toContain('×38 api: <ts> ERROR');
    expect(logs).toContain('×1 worker: 08:51:00 HikariPool-1');
  });

  it('masks secrets in patterns and examples, and keeps them from closing the code block', () => {
    const { n, enrichments } = rich();
    const e = Object.values(enrichments)[0]!;
    e.logPatterns = {
      patterns: [
        {
          pattern: 'login failed password=hunter2 ```',
          count: 2,
          example: 'login failed password=hunter2 Authorization: Bearer a8f5f167f44f4964e6c998dee827110c ```',
          exampleAt: NOW,
          firstAt: NOW,
        },
      ],
      distinct: 1,
      lines: 2,
      capped: false,
    };
    const logs = field(render(n, enrichments).embed, '📜 Logs');
    expect(logs).not.toContain('hunter2');
    expect(logs).not.toContain('a8f5f167f44f4964e6c998dee827110c');
    expect(logs).toContain('password=[redacted]');
    expect(logs.match(/```/g)).toHaveLength(2);
  });

  it('links Grafana Explore with the exact queries, the window and the configured datasource uids', () => {
    const { n, enrichments } = rich();
    const { embed } = render(n, enrichments, { grafanaUrl: 'https://grafana.example', datasources: { prometheusUid: 'prom-main', lokiUid: 'loki-main' } });
    const explore = field(embed, '🔎 Explore');
    const urls = [...explore.matchAll(/\]\((https:[^)]+)\)/g)].map((m) => new URL(m[1]!));
    expect(urls).toHaveLength(2);
    const panes = urls.map(
      (u) => JSON.parse(u.searchParams.get('panes')!) as Record<string, { datasource: string; queries: Array<{ expr: string }>; range: { from: string } }>,
    );
    expect(panes.map((p) => p.vgl!.datasource)).toEqual(['prom-main', 'loki-main']);
    expect(panes.map((p) => p.vgl!.queries[0]!.expr)).toEqual(Object.values(enrichments)[0]!.exploreLinks!.map((t) => t.expr));
    expect(panes[1]!.vgl!.range.from).toBe(String(at('08:46:25').getTime()));
  });

  it('has no Explore links without a Grafana URL', () => {
    const { n, enrichments } = rich();
    expect(render(n, enrichments).embed.fields!.some((f) => f.name.includes('Explore'))).toBe(false);
  });

  it('links the rule’s vigil_dashboard over the window and hides the steering annotations', () => {
    const { n, a, enrichments } = rich({ dashboardUid: 'node-exporter-full' });
    a.annotations = { ...a.annotations, vigil_dashboard: 'node-exporter-full', vigil_promql: 'up', vigil_logql: '{job="x"}', owner: 'team-db' };
    const { embed } = render(n, enrichments, { grafanaUrl: 'https://grafana.example' });
    const e = Object.values(enrichments)[0]!;
    expect(field(embed, 'Links')).toContain(
      `[Dashboard](https://grafana.example/d/node-exporter-full?from=${e.window.start.getTime()}&to=${e.window.end.getTime()}&orgId=1)`,
    );
    expect(field(embed, 'Annotations')).toBe('**owner**: team-db');
  });

  it('tells whose context it is in a group of several alerts', () => {
    const n = loadWebhook('alertmanager-firing.json');
    const [first, second] = n.alerts as [Alert, Alert];
    const { enrichments: one } = rich();
    const context = Object.values(one)[0]!;
    const enrichments = {
      [first.fingerprint]: enrichment(first, NOW),
      [second.fingerprint]: { ...context, fingerprint: second.fingerprint },
    };
    const names = render(n, enrichments).embed.fields!.map((f) => f.name);
    expect(names).toContain('📜 Logs · instance=node-exporter:9100');
    expect(names).toContain('🖥️ Host db-host:9100 at start');
  });

  it('keeps the raw newest lines in the findings when the logs were not grouped', () => {
    const { n, enrichments } = rich();
    const e = Object.values(enrichments)[0]!;
    delete e.logPatterns;
    delete e.logVolume;
    const { embed } = render(n, enrichments);
    expect(field(embed, 'Findings')).toContain('Logs: 39 matching lines, newest first, times UTC\n```\n08:51:30 x\n```');
    expect(embed.fields!.some((f) => f.name === '📜 Logs')).toBe(false);
  });

  it('gives the log lines in the configured time zone, and names it (Discord cannot show <t:…> in a code block)', () => {
    const { n, enrichments } = rich();
    const e = Object.values(enrichments)[0]!;
    delete e.logPatterns;
    delete e.logVolume;
    const { embed } = render(n, enrichments, { timeZone: 'Asia/Seoul' });
    expect(field(embed, 'Findings')).toContain('Logs: 39 matching lines, newest first, times KST\n```\n17:51:30 x\n```');
  });

  it('holds every limit with huge context, giving context fields up before the alerts’ own findings', () => {
    const emoji = (len: number) => `${'🔥x'.repeat(len / 3)}👨‍👩‍👧`;
    const n = loadWebhook('alertmanager-firing.json');
    n.commonAnnotations = {
      summary: 's'.repeat(10_000),
      description: 'd'.repeat(10_000),
      ...Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`note${i}`, 'n'.repeat(200)])),
    };
    n.commonLabels = { ...n.commonLabels, ...Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`l${i}`, 'v'.repeat(90)])) };
    const template = n.alerts[1]!;
    n.alerts.push(
      ...Array.from({ length: 20 }, (_, i) => ({
        ...template,
        fingerprint: `more${i}`,
        labels: { ...template.labels, instance: `host-${i}-${'h'.repeat(40)}` },
      })),
    );
    for (const a of n.alerts) a.generatorURL = `${a.generatorURL!}&pad=${'p'.repeat(700)}`;
    const enrichments: Record<string, AlertEnrichment> = {};
    for (const a of n.alerts) {
      enrichments[a.fingerprint] = enrichment(a, NOW, {
        expression: { expr: 'up', series: [{ labels: {}, peak: 1, peakAt: NOW, latest: 1, latestAt: NOW, points: 1 }] },
        hostContext: { instance: emoji(3000), at: NOW, measures: [{ kind: 'disk', now: 99, before: 1, mountpoint: emoji(3000) }] },
        containerContext: {
          host: emoji(3000),
          cpu: Array.from({ length: 3 }, (_, i) => ({ name: `${i}${emoji(500)}`, value: 1 })),
          memory: Array.from({ length: 3 }, (_, i) => ({ name: `${i}${emoji(500)}`, value: 1 })),
          events: Array.from({ length: 20 }, (_, i) => ({ name: `${i}${emoji(500)}`, kind: 'oom' as const, count: 3 })),
        },
        logPatterns: {
          patterns: Array.from({ length: 10 }, (_, i) => ({
            pattern: `${i} ${'``` '.repeat(5)}${'p'.repeat(10_000)}`,
            count: 100 - i,
            example: 'e'.repeat(10_000),
            exampleAt: NOW,
            firstAt: NOW,
          })),
          distinct: 400,
          lines: 5000,
          capped: true,
        },
        logVolume: {
          query: 'q',
          windowSeconds: 600,
          baselineSeconds: 3600,
          levels: Array.from({ length: 10 }, (_, i) => ({ level: emoji(500), count: i + 1, before: 1, ratio: 40 })),
        },
        exploreLinks: Array.from({ length: 5 }, (_, i) => ({
          label: `L${i}`,
          datasource: 'prometheus' as const,
          expr: 'x'.repeat(3000),
          start: NOW,
          end: NOW,
        })),
      });
    }
    const { body, embed, calls } = render(n, enrichments, { grafanaUrl: 'https://grafana.example', maxAlerts: 1 });
    expectWithinLimits(body);
    expect(validate(body)).toEqual([]);
    // The Explore links go first: they matter least once the message is this full.
    expect(calls).toContainEqual({ msg: 'alert context omitted to fit the message', details: { part: 'explore' } });
    const detailed = embed.fields!.filter((f) => /^\d+\. /.test(f.name));
    expect(detailed).toHaveLength(1);
    expect(codePointLength(detailed[0]!.value)).toBeGreaterThan(0);
    expect(embed.fields!.some((f) => f.name.startsWith('📜 Logs'))).toBe(true);
    for (const f of embed.fields!) expect((f.value.match(/```/g) ?? []).length % 2).toBe(0);
  });
});

describe('renderAlertMessage in Korean', () => {
  it.each([
    ['firing', 'firing'],
    ['resolved', 'resolved'],
  ] as const)('says a %s group in Korean: no English words of the catalog left, within every limit', (_, state) => {
    const { n, enrichments } = amFiring();
    const { body, embed } = render(n, enrichments, { state, locale: 'ko', resolvedAt: NOW });
    expect(embed.title).toMatch(state === 'firing' ? /^🔥 발생: / : /^✅ 해결: /);
    // The data is English: the summaries ("Host high CPU load").
    const data = ['Host'];
    expect(englishLeftovers(visibleText(body), 'alert.', data)).toEqual([]);
    // Vigil's own words for a failure are Korean too; a backend's own error text would stay as it came.
    expect(visibleText(body)).toContain('Loki 응답 시간 초과 (5초)');
    expect(validate(body)).toEqual([]);
    expectWithinLimits(body);
  });

  it('keeps long Korean names, summaries and labels within every limit without splitting a syllable', () => {
    const { n, enrichments } = amFiring();
    const long = (s: string, times: number) => s.repeat(times);
    n.commonLabels = { ...n.commonLabels, alertname: long('디스크가거의가득참', 40), 팀: long('데이터베이스운영', 30) };
    n.commonAnnotations = { summary: long('호스트의 디스크 사용량이 임계치를 넘었습니다 ', 30), description: long('로그를 확인하세요 👩‍💻 ', 300) };
    for (const a of n.alerts) a.labels = { ...a.labels, instance: long('서버', 80) };
    const { body, embed } = render(n, enrichments, { locale: 'ko' });
    expectWithinLimits(body);
    expect(validate(body)).toEqual([]);
    expect(embed.title).toMatch(/…/);
    expect(embed.title).toMatch(/ ×2$/);
  });

  it('writes durations the Korean way', () => {
    const { n, enrichments } = amFiring();
    const { embed } = render(n, enrichments, { state: 'resolved', locale: 'ko', incidentStartedAt: new Date(NOW.getTime() - 7_500_000), resolvedAt: NOW });
    expect(embed.description).toContain('2시간 5분 만에 해결됨');
  });
});

describe('the short replies in Korean', () => {
  const n = () => loadWebhook('alertmanager-firing.json');
  const text = (body: RESTPostAPIChannelMessageJSONBody) => body.content ?? '';

  it.each([
    [
      'resolved',
      () => renderResolvedReply({ notification: n(), startedAt: new Date(NOW.getTime() - 125_000), resolvedAt: NOW, locale: 'ko' }, () => {}),
      '✅ 해결: HostHighCpuLoad ×2 (2분 5초 만에)',
    ],
    [
      'reminder',
      () => renderReminder({ notification: n(), startedAt: new Date(NOW.getTime() - 4 * 3_600_000), now: NOW, locale: 'ko' }, () => {}),
      '🔁 4시간째 계속 발생 중: HostHighCpuLoad, 알림 2개',
    ],
    [
      'now firing',
      () => renderFiringNotes(n().alerts, () => {}, 'ko')[0]!,
      '🔥 새로 발생: db-host:9100의 HostHighCpuLoad, node-exporter:9100의 HostHighCpuLoad',
    ],
    [
      'escalation',
      () => renderEscalation({ step: 1, of: 2, firingMs: 600_000, page: { roles: ['444444444444444444'], users: [] }, locale: 'ko' }),
      '⏫ <@&444444444444444444>: 10분째 발생 중인데 아무도 확인하지 않았습니다 (1/2): 알림의 확인 버튼을 눌러 맡아 주세요',
    ],
  ])('says the %s line in Korean', (_, render, want) => {
    const body = render();
    expect(text(body)).toBe(want);
    expect(validate(body)).toEqual([]);
  });

  it('lists a big group of new alerts in Korean messages within the limits', () => {
    const many = Array.from({ length: 3000 }, (_, i) => ({
      labels: { alertname: '디스크부족', instance: `서버-${i}:9100` },
      status: 'firing' as const,
      startsAt: NOW,
    }));
    const bodies = renderFiringNotes(many, () => {}, 'ko');
    expect(bodies.length).toBeGreaterThan(1);
    for (const body of bodies) {
      expectWithinLimits(body);
      expect(validate(body)).toEqual([]);
      expect(englishLeftovers(visibleText(body), 'storm.')).toEqual([]);
    }
    expect(visibleText(bodies[0]!)).toContain('🔥 새로 발생: 새 알림 3000개 중 1–');
  });
});
