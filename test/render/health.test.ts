import { describe, expect, it } from 'vitest';
import type { ScrapeTarget } from '../../src/queries/prometheus.js';
import { MAX_LISTED_PROBLEMS, renderHealth, ruleAccessText, summarizeTargets, type BackendCheck, type HealthReport } from '../../src/render/health.js';
import { translator } from '../../src/i18n/index.js';

const NOW = new Date(Date.UTC(2026, 10, 21, 9, 0, 0));
const REFUSED = 'Get "http://10.0.0.9:9100/metrics": dial tcp 10.0.0.9:9100: connect: connection refused';

function target(job: string, instance: string, health: ScrapeTarget['health'], over: Partial<ScrapeTarget> = {}): ScrapeTarget {
  return {
    labels: { job, instance },
    discoveredLabels: {},
    scrapePool: job,
    scrapeUrl: `http://${instance}/metrics`,
    health,
    ...(health === 'unknown' ? {} : { lastScrape: new Date(NOW.getTime() - 4_000), lastScrapeDurationSeconds: 0.0123 }),
    ...over,
  };
}

const READY: BackendCheck[] = [
  { name: 'Prometheus', ready: true, message: 'Prometheus Server is Ready.' },
  { name: 'Loki', ready: true, message: 'ready' },
];

function report(over: Partial<HealthReport>): HealthReport {
  return { jobs: [], knownJobs: [], backends: READY, ...over };
}

describe('summarizeTargets', () => {
  const targets = [
    target('node', 'a:9100', 'up'),
    target('node', 'b:9100', 'down', { lastError: REFUSED }),
    target('api', 'api:8080', 'up'),
    target('blackbox', 'x', 'unknown'),
    target('db', 'db-2:9187', 'down', { lastError: 'context deadline exceeded' }),
    target('db', 'db-1:9187', 'down', { lastError: 'context deadline exceeded' }),
  ];

  it('counts up/down per job, jobs with the most down targets first, then pending, then healthy', () => {
    const jobs = summarizeTargets(targets);
    expect(jobs.map((j) => [j.job, j.up, j.down, j.unknown])).toEqual([
      ['db', 0, 2, 0],
      ['node', 1, 1, 0],
      ['blackbox', 0, 0, 1],
      ['api', 1, 0, 0],
    ]);
    expect(jobs[0]!.problems.map((p) => p.instance)).toEqual(['db-1:9187', 'db-2:9187']);
    expect(jobs[1]!.problems[0]).toEqual({
      job: 'node',
      instance: 'b:9100',
      health: 'down',
      lastError: REFUSED,
      lastScrape: new Date(NOW.getTime() - 4_000),
      lastScrapeDurationSeconds: 0.0123,
    });
  });

  it('keeps only the asked job', () => {
    expect(summarizeTargets(targets, 'node').map((j) => j.job)).toEqual(['node']);
  });

  it('falls back to the scrape pool when a target has no job label', () => {
    const t = target('x', 'h:1', 'up', { labels: { instance: 'h:1' }, scrapePool: 'pool' });
    expect(summarizeTargets([t])[0]!.job).toBe('pool');
  });
});

describe('renderHealth', () => {
  it('lists each down target with Prometheus’ own error, scrape age and duration, problems before healthy jobs', () => {
    const embed = renderHealth(
      report({
        jobs: summarizeTargets([target('node', 'a:9100', 'up'), target('node', 'b:9100', 'down', { lastError: REFUSED }), target('api', 'api:8080', 'up')]),
      }),
      NOW,
    );
    expect(embed.title).toBe('Health: 1 target down');
    expect(embed.color).toBe(0xe74c3c);
    expect(embed.description!.split('\n')).toEqual([
      '❌ **node** 1/2 up',
      '• `b:9100` · last scrape 4s ago · took 12.3ms',
      `↳ ${REFUSED}`,
      '✅ api 1/1 up',
      '✅ Prometheus · Loki ready',
    ]);
  });

  it('puts a backend that is not ready first, with its own message', () => {
    const backends: BackendCheck[] = [
      ...READY.slice(0, 1),
      { name: 'Loki', ready: false, message: 'Loki unreachable: ECONNREFUSED connect ECONNREFUSED 127.0.0.1:3100' },
      { name: 'Grafana', ready: false, message: 'HTTP 503' },
    ];
    const embed = renderHealth(report({ jobs: summarizeTargets([target('node', 'a:9100', 'up')]), backends }), NOW);
    expect(embed.title).toBe('Health: 2 backends not ready');
    expect(embed.description!.split('\n')).toEqual([
      '❌ Loki unreachable: ECONNREFUSED connect ECONNREFUSED 127.0.0.1:3100',
      '❌ Grafana: HTTP 503',
      '✅ node 1/1 up',
      '✅ Prometheus ready',
    ]);
  });

  it('is green with counts in the title when everything is up', () => {
    const embed = renderHealth(report({ jobs: summarizeTargets([target('node', 'a:9100', 'up'), target('node', 'b:9100', 'up')]) }), NOW);
    expect(embed).toMatchObject({ title: 'Health: 2/2 targets up, 2 backends ready', color: 0x2ecc71 });
  });

  it('is amber and says "not scraped yet" for targets Prometheus has not scraped', () => {
    const embed = renderHealth(report({ jobs: summarizeTargets([target('probe', 'x', 'unknown')]) }), NOW);
    expect(embed.color).toBe(0xf1c40f);
    expect(embed.description).toContain('⏳ **probe** 0/1 up · 1 not scraped yet\n• `x` · not scraped yet');
  });

  it(`lists at most ${MAX_LISTED_PROBLEMS} down targets and counts the rest`, () => {
    const down = Array.from({ length: 14 }, (_, i) => target('node', `h${String(i).padStart(2, '0')}:9100`, 'down', { lastError: 'boom' }));
    const text = renderHealth(report({ jobs: summarizeTargets(down) }), NOW).description!;
    expect(text.match(/^• /gm)).toHaveLength(MAX_LISTED_PROBLEMS);
    expect(text).toContain('… +4 more targets not up');
  });

  it('says when Prometheus could not list its targets, and still shows the backends', () => {
    const embed = renderHealth(
      report({
        targetsError: 'Prometheus unreachable: ECONNREFUSED',
        backends: [{ name: 'Prometheus', ready: false, message: 'Prometheus unreachable: ECONNREFUSED' }],
      }),
      NOW,
    );
    expect(embed.title).toBe('Health: targets unknown, 1 backend not ready');
    expect(embed.description).toBe('❌ Prometheus unreachable: ECONNREFUSED\n❌ Scrape targets unknown: Prometheus unreachable: ECONNREFUSED');
  });

  it('names the known jobs when the asked job has no target', () => {
    const embed = renderHealth(report({ job: 'nope', knownJobs: ['api', 'node'] }), NOW);
    expect(embed.description).toContain('⚠️ No scrape target has job `nope`. Jobs: api, node');
  });

  it('scrubs credentials and escapes markdown in error texts', () => {
    const err = 'Get "http://scraper:s3cretpw@10.0.0.9/metrics": server returned HTTP status 401 *Unauthorized*';
    const text = renderHealth(report({ jobs: summarizeTargets([target('node', 'n`x:1', 'down', { lastError: err })]) }), NOW).description!;
    expect(text).not.toContain('s3cretpw');
    expect(text).toContain('\\*Unauthorized\\*');
    expect(text).toContain("• `n'x:1`");
  });
});

describe('ruleAccessText', () => {
  it.each([
    ['en', { ready: true, rules: 1 }, { ready: true, message: '1 alert rule readable' }],
    ['en', { ready: true, rules: 1234 }, { ready: true, message: '1,234 alert rules readable' }],
    ['ko', { ready: true, rules: 12 }, { ready: true, message: '알림 규칙 12개 읽기 가능' }],
    ['ko', { ready: false, credentials: false }, { ready: false, message: '읽지 않음: grafana.token, 또는 grafana.user와 grafana.password를 설정하세요' }],
    ['ko', { ready: false, credentials: true, message: 'Grafana HTTP 401: Unauthorized' }, { ready: false, message: 'Grafana HTTP 401: Unauthorized' }],
  ] as const)('words a rule access check in %s: %j', (locale, access, want) => {
    expect(ruleAccessText(access, translator(locale))).toEqual(want);
  });
});
