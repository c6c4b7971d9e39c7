// Every slash command answers in the language of the user's Discord client (the interaction's
// `locale`) when Vigil speaks it, else in the configured `locale`: against a real Prometheus
// (scraping a cAdvisor-shaped exporter and a closed port), a real Alertmanager and the Loki double.
import type { APIEmbed } from 'discord-api-types/v10';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUTTONS, COMMANDS } from '../../src/commands/index.js';
import { localeOf, tOf } from '../../src/commands/locale.js';
import { createRouter } from '../../src/commands/router.js';
import type { CommandDeps, OptionValue, ReplyPayload } from '../../src/commands/types.js';
import { createAlertmanagerClient } from '../../src/queries/alertmanager.js';
import { messageValidator } from '../render/helpers.js';
import { startCadvisor, type CadvisorHandle } from '../support/cadvisor.js';
import { recordingCommand, testUser } from '../support/contexts.js';
import { testCommandDeps, testConfig } from '../support/deps.js';
import { startLokiDouble, type LokiDoubleHandle } from '../support/loki-double.js';
import { freePort } from '../support/ports.js';
import { startAlertmanager, startPrometheus, type AlertmanagerHandle, type PrometheusHandle } from '../support/procs.js';

const HOUR = 3_600_000;
const HANGUL = /[\uac00-\ud7a3]/;
const ROLE = '555555555555555555';

let cadvisor: CadvisorHandle;
let prom: PrometheusHandle;
let am: AlertmanagerHandle;
let loki: LokiDoubleHandle;

beforeAll(async () => {
  const deadPort = await freePort();
  [cadvisor, loki] = await Promise.all([startCadvisor(), startLokiDouble()]);
  [prom, am] = await Promise.all([
    startPrometheus({
      scrapeConfigs: [
        { job: 'cadvisor', targets: [cadvisor.target] },
        { job: 'dead', targets: [`127.0.0.1:${deadPort}`] },
      ],
    }),
    startAlertmanager({ webhookUrl: `http://127.0.0.1:${deadPort}/hook` }),
  ]);
  const at = (ms: number) => new Date(Date.now() - ms).toISOString();
  await am.postAlerts([
    { labels: { alertname: 'HighCPU', instance: 'web-1:9100', severity: 'critical' }, startsAt: at(2 * HOUR) },
    { labels: { alertname: 'HighCPU', instance: 'web-2:9100', severity: 'critical' }, startsAt: at(HOUR) },
    { labels: { alertname: 'DiskFull', instance: 'db-1:9100', severity: 'warning' }, startsAt: at(HOUR) },
  ]);
  // A silence of no firing alert: /silence list has one to show.
  await createAlertmanagerClient({ url: am.url, timeoutMs: 5_000 }).createSilence({
    matchers: [{ name: 'alertname', value: 'Noisy', isRegex: false, isEqual: true }],
    startsAt: new Date(),
    endsAt: new Date(Date.now() + HOUR),
    createdBy: 'test',
    comment: 'test',
  });
  await Promise.all([
    prom.waitFor('up{job="dead"} == 0'),
    // A CPU rate needs two samples of the counter.
    prom.waitFor('count(count_over_time(container_cpu_usage_seconds_total{name!=""}[5m]) >= 3) > 0', 30_000),
  ]);
}, 90_000);

afterAll(async () => {
  await Promise.all([prom?.stop(), am?.stop(), loki?.stop(), cadvisor?.stop()]);
});

/** Deps over the running backends; `locale` is the configured default. */
function deps(locale: 'en' | 'ko' = 'en', sections: Record<string, unknown> = {}): CommandDeps {
  return testCommandDeps(
    testConfig({ locale, prometheus: { url: prom.url }, loki: { url: loki.url }, alertmanager: { url: am.url }, enrichment: { timeout: '5s' }, ...sections }),
    { timeoutMs: 5_000 },
  );
}

/** Runs a command through the router for a user whose Discord client speaks `discordLocale`; its last reply, checked against Discord's schema. */
async function run(name: string, discordLocale: string, options: Record<string, OptionValue> = {}, opts: { subcommand?: string; deps?: CommandDeps } = {}) {
  const ctx = recordingCommand(name, options, { ...(opts.subcommand ? { subcommand: opts.subcommand } : {}), user: { ...testUser(), locale: discordLocale } });
  await createRouter(COMMANDS, BUTTONS, opts.deps ?? deps()).handleCommand(ctx);
  const reply = ctx.lastReply();
  expect(reply).toBeDefined();
  const { files: _files, ...body } = reply!;
  expect(messageValidator()(body)).toEqual([]);
  return reply!;
}

/** Every word of a reply: content, titles, descriptions, footers. */
function text(reply: ReplyPayload): string {
  const embeds = reply.embeds ?? [];
  return [reply.content ?? '', ...embeds.flatMap((e) => [e.title ?? '', e.description ?? '', e.footer?.text ?? ''])].join('\n');
}

describe('the language of an interaction', () => {
  it.each([
    ['ko', 'en', 'ko'],
    ['en-US', 'ko', 'en'],
    ['en-GB', 'ko', 'en'],
    ['ja', 'ko', 'ko'],
    ['ja', 'en', 'en'],
    [undefined, 'ko', 'ko'],
  ] as const)('a client in %s with locale %s configured is answered in %s', (discord, configured, want) => {
    const user = { ...testUser(), ...(discord ? { locale: discord } : {}) };
    const d = testCommandDeps(testConfig({ locale: configured }));
    expect(localeOf({ user }, d)).toBe(want);
    expect(tOf({ user }, d)('commands.logs.scope.all')).toBe(want === 'ko' ? '모든 컨테이너' : 'all containers');
  });
});

describe.each([
  ['ko', 'en', 'ko'],
  ['en-US', 'ko', 'en'],
  ['ja', 'ko', 'ko'],
  ['ja', 'en', 'en'],
] as const)('a client in %s, with locale %s configured, gets every reply in %s', (discordLocale, configured, want) => {
  const ko = want === 'ko';
  const d = () => deps(configured);

  it('/health', async () => {
    const embed = (await run('health', discordLocale, {}, { deps: d() })).embeds![0] as APIEmbed;
    expect(embed.title).toBe(ko ? '상태: 타깃 1개 다운' : 'Health: 1 target down');
    const lines = embed.description!.split('\n');
    expect(lines).toContain(ko ? '❌ **dead** 0/1 정상' : '❌ **dead** 0/1 up');
    expect(lines.at(-1)).toBe(ko ? '✅ Prometheus · Loki · Alertmanager 준비됨' : '✅ Prometheus · Loki · Alertmanager ready');
    expect(lines.some((l) => (ko ? /마지막 스크레이프 (방금|\d+초 전)/ : /last scrape (just now|\d+s ago)/).test(l))).toBe(true);
  });

  it('/top', async () => {
    const reply = await run('top', discordLocale, { limit: 3 }, { deps: d() });
    const lines = reply.content!.split('\n');
    expect(lines[0]).toMatch(ko ? /^\*\*CPU 사용 상위 컨테이너 3개\*\* \(호스트 `.+`\)$/ : /^\*\*Top 3 containers by CPU\*\* on `.+`$/);
    expect(lines[2]).toMatch(ko ? /^컨테이너 +CPU +메모리$/ : /^container +CPU +MEM$/);
    expect(reply.files).toHaveLength(1);
  });

  it('/alerts', async () => {
    const embed = (await run('alerts', discordLocale, {}, { deps: d() })).embeds![0] as APIEmbed;
    expect(embed.title).toBe(ko ? '🔥 발생 중인 알림 3개 (그룹 2개)' : '🔥 3 alerts firing in 2 groups');
    expect(embed.description!.split('\n')[0]).toMatch(ko ? /^🔴 \*\*HighCPU\*\* ×2 · 2시간(?: \d+초)?째$/ : /^🔴 \*\*HighCPU\*\* ×2 · for 2h(?: \d+s)?$/);
  });

  it('/query, instant and range', async () => {
    const instant = await run('query', discordLocale, { promql: 'up' }, { deps: d() });
    expect(instant.content!.split('\n')[0]).toBe(ko ? '`up` · 현재 값 · 시리즈 2개' : '`up` · instant · 2 series');
    const range = await run('query', discordLocale, { promql: 'up', range: '1h' }, { deps: d() });
    expect(range.content!.split('\n')[0]).toMatch(ko ? /^`up` · 최근 1시간 \(간격 \d+초\) · 시리즈 2개$/ : /^`up` · last 1h \(step \d+s\) · 2 series$/);
    const bad = await run('query', discordLocale, { promql: 'up[' }, { deps: d() });
    expect(bad.content).toMatch(/^❌ Prometheus: /);
  });

  it('/logs', async () => {
    const embed = (await run('logs', discordLocale, {}, { deps: d() })).embeds![0] as APIEmbed;
    expect(embed.title).toBe(ko ? '📜 로그 · 모든 컨테이너' : '📜 Logs · all containers');
    expect(embed.description!.split('\n')[0]).toBe(ko ? '오류성 로그 · 최근 15분 · 최신순' : 'Error-like lines · last 15m · newest first');
    const narrowed = (await run('logs', discordLocale, { container: 'api', level: 'info', contains: 'x' }, { deps: d() })).embeds![0] as APIEmbed;
    expect(narrowed.description!.split('\n')[0]).toBe(
      ko ? '"x" 포함 레벨 info 로그 · 최근 15분 · 최신순' : 'Level info lines containing "x" · last 15m · newest first',
    );
  });

  it('/silence list, create and expire', async () => {
    const list = (await run('silence', discordLocale, {}, { subcommand: 'list', deps: d() })).embeds![0] as APIEmbed;
    expect(list.title).toBe(ko ? '🔕 사일런스 1개 (활성 1개)' : '🔕 1 silence (1 active)');
    const created = await run('silence', discordLocale, { matchers: 'alertname="DiskFull"', duration: '1h' }, { subcommand: 'create', deps: d() });
    expect(created.content!.split('\n')[0]).toBe(ko ? '🔕 사일런스 설정: `{alertname="DiskFull"}`' : '🔕 Silenced `{alertname="DiskFull"}`');
    const id = /ID `([0-9a-f-]{36})`/.exec(created.content!)![1]!;
    const stored = (await createAlertmanagerClient({ url: am.url, timeoutMs: 5_000 }).silences()).find((s) => s.id === id)!;
    // The default comment stays in Alertmanager for the whole team: in the configured language.
    expect(stored.comment).toBe(configured === 'ko' ? 'Vigil에서 oncall 님이 만듦' : 'via Vigil by oncall');
    const expired = await run('silence', discordLocale, { id }, { subcommand: 'expire', deps: d() });
    expect(expired.content).toMatch(ko ? /^🔔 \*\*oncall\*\* 님이 사일런스를 끝냈습니다/ : /^🔔 Silence `.+` expired by \*\*oncall\*\*/);
    const again = await run('silence', discordLocale, { id }, { subcommand: 'expire', deps: d() });
    expect(again.content).toBe(
      ko
        ? `⚠️ 이미 끝난 사일런스입니다: \`${id}\`. 활성 사일런스는 /silence list에 나옵니다.`
        : `⚠️ Silence \`${id}\` is already expired. /silence list shows the active ones.`,
    );
    const none = await run('silence', discordLocale, {}, { subcommand: 'list', deps: deps(configured, { alertmanager: undefined }) });
    expect(none.content).toMatch(ko ? /^🔕 사일런스에는 Alertmanager가 필요합니다/ : /^🔕 Silences need an Alertmanager/);
  });

  it('option errors, refusals, failures and unknown commands', async () => {
    const limit = await run('top', discordLocale, { limit: 99 }, { deps: d() });
    expect(limit.content).toBe(ko ? '⚠️ limit: 1~25 사이의 정수가 필요합니다' : '⚠️ limit: expected an integer from 1 to 25');
    const duration = await run('silence', discordLocale, { matchers: 'a="b"', duration: 'soon' }, { subcommand: 'create', deps: d() });
    expect(duration.content).toBe(
      ko
        ? '⚠️ duration: 30m, 1h, 2h30m 같은 기간이 필요합니다 (1m~30d, 입력: "soon")'
        : '⚠️ duration: expected a duration like 30m, 1h or 2h30m, from 1m to 30d, got "soon"',
    );
    const syntax = await run('silence', discordLocale, { matchers: 'a=', duration: '1h' }, { subcommand: 'create', deps: d() });
    expect(syntax.content).toMatch(ko ? /^⚠️ matchers: 잘못된 매처: / : /^⚠️ matchers: Invalid matchers: /);
    const refused = await run('logs', discordLocale, {}, { deps: deps(configured, { commands: { permissions: { logs: [ROLE] } } }) });
    expect(refused.content).toBe(
      ko
        ? '⛔ `/logs` 명령을 쓸 권한이 없습니다: `commands.permissions`에 설정된 역할 중 하나가 필요합니다.'
        : '⛔ You are not allowed to use `/logs`: it needs one of the roles set in `commands.permissions`.',
    );
    const failed = await run('alerts', discordLocale, {}, { deps: deps(configured, { prometheus: { url: 'http://127.0.0.1:9' }, alertmanager: undefined }) });
    expect(failed.content).toMatch(ko ? /^❌ \/alerts 실패: / : /^❌ \/alerts failed: /);
    const unknown = await run('gone', discordLocale, {}, { deps: d() });
    expect(unknown.content).toBe(
      ko ? '알 수 없는 명령 `/gone`입니다. `vigil register-commands`를 다시 실행해 보세요.' : 'Unknown command `/gone`. Run `vigil register-commands` again?',
    );
  });

  it('has Korean words in every Korean reply, and none in an English one', async () => {
    const replies = await Promise.all([
      run('health', discordLocale, {}, { deps: d() }),
      run('alerts', discordLocale, {}, { deps: d() }),
      run('logs', discordLocale, {}, { deps: d() }),
      run('silence', discordLocale, {}, { subcommand: 'list', deps: d() }),
    ]);
    for (const reply of replies) expect(HANGUL.test(text(reply))).toBe(ko);
  });
});
