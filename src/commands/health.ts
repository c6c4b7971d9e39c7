import { ApplicationCommandOptionType } from 'discord-api-types/v10';
import { createAlertmanagerClient } from '../queries/alertmanager.js';
import { ruleAccess } from '../queries/grafana.js';
import { readiness, type Readiness } from '../queries/prometheus.js';
import { renderHealth, summarizeTargets, type BackendCheck, type HealthReport } from '../render/health.js';
import { fitMessage, warnTo } from '../render/truncate.js';
import { labelValueChoices } from './autocomplete.js';
import { OptionError, type Command, type CommandDeps } from './types.js';

/** Longest job name accepted (Discord's choice values are at most 100 characters). */
const MAX_JOB_LENGTH = 100;

/** The `job` option: trimmed, or undefined when not given. */
function jobOption(options: Record<string, unknown>): string | undefined {
  const raw = options['job'];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !raw.trim() || raw.length > MAX_JOB_LENGTH) {
    throw new OptionError('job', `expected a scrape job name of 1 to ${MAX_JOB_LENGTH} characters`);
  }
  return raw.trim();
}

/** A readiness check that never rejects. */
async function check(name: string, probe: () => Promise<Readiness>): Promise<BackendCheck> {
  try {
    const r = await probe();
    return { name, ready: r.ready, message: r.message };
  } catch (err) {
    return { name, ready: false, message: err instanceof Error ? err.message : String(err) };
  }
}

/** Readiness of every configured backend, in parallel. */
function backendChecks(deps: CommandDeps, timeoutMs: number): Promise<BackendCheck[]> {
  const { config } = deps;
  const call = { timeoutMs };
  const checks = [check('Prometheus', () => deps.prometheus.ready(call)), check('Loki', () => deps.loki.ready(call))];
  if (config.alertmanager) {
    const am = createAlertmanagerClient({ url: config.alertmanager.url, timeoutMs });
    checks.push(check(am.name, () => am.ready(call)));
  }
  if (config.grafana) {
    const backend = { name: 'Grafana', url: config.grafana.url, timeoutMs };
    checks.push(check(backend.name, () => readiness(backend, '/api/health', call)));
    const grafana = config.grafana;
    checks.push(check('Grafana rules', () => ruleAccess(grafana, timeoutMs)));
  }
  return Promise.all(checks);
}

/** Target health and backend readiness, every check in parallel and bounded by enrichment.timeout. */
async function collectHealth(deps: CommandDeps, job?: string): Promise<HealthReport> {
  const timeoutMs = deps.config.enrichment.timeout;
  const [targets, backends] = await Promise.all([
    deps.prometheus.targets('active', { timeoutMs }).then(
      (t) => ({ ok: true as const, active: t.active }),
      (err: unknown) => ({ ok: false as const, error: err instanceof Error ? err.message : String(err) }),
    ),
    backendChecks(deps, timeoutMs),
  ]);
  if (!targets.ok) return { ...(job !== undefined ? { job } : {}), jobs: [], knownJobs: [], targetsError: targets.error, backends };
  const knownJobs = [...new Set(targets.active.map((t) => t.labels['job'] ?? t.scrapePool ?? ''))].filter(Boolean).sort();
  return { ...(job !== undefined ? { job } : {}), jobs: summarizeTargets(targets.active, job), knownJobs, backends };
}

/** `/health [job]`: scrape target health per job and readiness of Prometheus, Loki, Alertmanager and Grafana. */
export const health = {
  data: {
    name: 'health',
    description: 'Scrape targets up/down per job, and whether Prometheus, Loki, Alertmanager and Grafana are ready',
    description_localizations: { ko: '작업(job)별 스크레이프 대상 상태와 Prometheus·Loki·Alertmanager·Grafana 준비 여부' },
    options: [
      {
        type: ApplicationCommandOptionType.String,
        name: 'job',
        description: 'Only this scrape job',
        description_localizations: { ko: '이 스크레이프 작업(job)만' },
        required: false,
        autocomplete: true,
        max_length: MAX_JOB_LENGTH,
      },
    ],
  },
  async execute(ctx, deps) {
    const job = jobOption(ctx.options);
    // Several backends answer in turn: acknowledge before the first call.
    await ctx.defer();
    const report = await collectHealth(deps, job);
    await ctx.reply(fitMessage({ embeds: [renderHealth(report, deps.now())] }, warnTo(deps.logger)));
  },
  async autocomplete(ctx, deps) {
    await ctx.respond(await labelValueChoices('prometheus', 'job', ctx.focused.value, deps, { match: ['up'] }));
  },
} satisfies Command;
