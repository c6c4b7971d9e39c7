import { ApplicationCommandOptionType } from 'discord-api-types/v10';
import { createAlertmanagerClient } from '../queries/alertmanager.js';
import { ruleAccess } from '../queries/grafana.js';
import { readiness, type Readiness } from '../queries/prometheus.js';
import { renderHealth, ruleAccessText, summarizeTargets, type BackendCheck, type HealthReport } from '../render/health.js';
import { fitMessage, warnTo } from '../render/truncate.js';
import { translator, type Locale, type T } from '../i18n/index.js';
import { labelValueChoices } from './autocomplete.js';
import { described, localeOf } from './locale.js';
import { OptionError, type Command, type CommandDeps } from './types.js';

/** Longest job name accepted (Discord's choice values are at most 100 characters). */
const MAX_JOB_LENGTH = 100;

/** The `job` option: trimmed, or undefined when not given. */
function jobOption(options: Record<string, unknown>): string | undefined {
  const raw = options['job'];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !raw.trim() || raw.length > MAX_JOB_LENGTH) {
    throw new OptionError('job', { key: 'commands.health.error.job', values: { max: MAX_JOB_LENGTH } });
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
function backendChecks(deps: CommandDeps, timeoutMs: number, t: T): Promise<BackendCheck[]> {
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
    checks.push(check(t('commands.health.grafanaRules'), () => ruleAccess(grafana, timeoutMs).then((r) => ruleAccessText(r, t))));
  }
  return Promise.all(checks);
}

/** Target health and backend readiness, every check in parallel and bounded by enrichment.timeout. */
async function collectHealth(deps: CommandDeps, locale: Locale, job?: string): Promise<HealthReport> {
  const timeoutMs = deps.config.enrichment.timeout;
  const [targets, backends] = await Promise.all([
    deps.prometheus.targets('active', { timeoutMs }).then(
      (t) => ({ ok: true as const, active: t.active }),
      (err: unknown) => ({ ok: false as const, error: err instanceof Error ? err.message : String(err) }),
    ),
    backendChecks(deps, timeoutMs, translator(locale)),
  ]);
  if (!targets.ok) return { ...(job !== undefined ? { job } : {}), jobs: [], knownJobs: [], targetsError: targets.error, backends, locale };
  const knownJobs = [...new Set(targets.active.map((t) => t.labels['job'] ?? t.scrapePool ?? ''))].filter(Boolean).sort();
  return { ...(job !== undefined ? { job } : {}), jobs: summarizeTargets(targets.active, job, locale), knownJobs, backends, locale };
}

/** `/health [job]`: scrape target health per job and readiness of Prometheus, Loki, Alertmanager and Grafana. */
export const health = {
  data: {
    name: 'health',
    ...described('commands.health.description'),
    options: [
      {
        type: ApplicationCommandOptionType.String,
        name: 'job',
        ...described('commands.health.option.job'),
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
    const report = await collectHealth(deps, localeOf(ctx, deps), job);
    await ctx.reply(fitMessage({ embeds: [renderHealth(report, deps.now())] }, warnTo(deps.logger), localeOf(ctx, deps)));
  },
  async autocomplete(ctx, deps) {
    await ctx.respond(await labelValueChoices('prometheus', 'job', ctx.focused.value, deps, { match: ['up'] }));
  },
} satisfies Command;
