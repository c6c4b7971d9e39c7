import type { APIEmbed } from 'discord-api-types/v10';
import { translator, type Locale, type T } from '../i18n/index.js';
import type { RuleAccess } from '../queries/grafana.js';
import type { ScrapeTarget } from '../queries/prometheus.js';
import { escapeMarkdown, formatAgo, formatValue } from './format.js';
import { maskSecrets } from './mask.js';
import { cellText } from './table.js';
import { truncate } from './truncate.js';

/** A scrape target that is not up, with what Prometheus said about it. */
export interface TargetProblem {
  job: string;
  instance: string;
  health: 'down' | 'unknown';
  /** Prometheus' own lastError text. */
  lastError?: string;
  lastScrape?: Date;
  lastScrapeDurationSeconds?: number;
}

/** Up/down counts of one scrape job. */
export interface JobHealth {
  job: string;
  up: number;
  down: number;
  /** Not scraped yet. */
  unknown: number;
  /** Down targets first, then the ones not scraped yet. */
  problems: TargetProblem[];
}

/** Whether one backend answered its readiness endpoint. */
export interface BackendCheck {
  name: string;
  ready: boolean;
  message: string;
}

/** Everything /health shows. */
export interface HealthReport {
  /** The job the user asked about, if any. */
  job?: string;
  jobs: JobHealth[];
  /** Every job Prometheus scrapes, for the "no such job" hint. */
  knownJobs: string[];
  /** Why the targets could not be read (Prometheus down), if so. */
  targetsError?: string;
  backends: BackendCheck[];
  /** The language of the answer; default 'en'. */
  locale?: Locale;
}

/** Down targets listed one by one; past this, a count. */
export const MAX_LISTED_PROBLEMS = 10;
const MAX_ERROR_CHARS = 240;
const RED = 0xe74c3c;
const AMBER = 0xf1c40f;
const GREEN = 0x2ecc71;

/** The job a target belongs to: its `job` label, else its scrape pool. */
function jobOf(target: ScrapeTarget, t: T): string {
  return target.labels['job'] ?? target.scrapePool ?? t('commands.health.noJob');
}

/** How bad a job looks: down targets first, then targets never scraped, then healthy. */
function severity(j: JobHealth): number {
  return j.down > 0 ? 2 : j.unknown > 0 ? 1 : 0;
}

/**
 * Groups active targets by job (optionally only `job`) into up/down counts with every problem
 * target; jobs with down targets first (most down first), then pending ones, then alphabetical.
 */
export function summarizeTargets(targets: readonly ScrapeTarget[], job?: string, locale: Locale = 'en'): JobHealth[] {
  const tr = translator(locale);
  const byJob = new Map<string, JobHealth>();
  for (const t of targets) {
    const name = jobOf(t, tr);
    if (job !== undefined && name !== job) continue;
    const entry = byJob.get(name) ?? { job: name, up: 0, down: 0, unknown: 0, problems: [] };
    byJob.set(name, entry);
    if (t.health === 'up') {
      entry.up++;
      continue;
    }
    entry[t.health]++;
    entry.problems.push({
      job: name,
      instance: t.labels['instance'] ?? t.scrapeUrl,
      health: t.health,
      ...(t.lastError !== undefined ? { lastError: t.lastError } : {}),
      ...(t.lastScrape !== undefined ? { lastScrape: t.lastScrape } : {}),
      ...(t.lastScrapeDurationSeconds !== undefined ? { lastScrapeDurationSeconds: t.lastScrapeDurationSeconds } : {}),
    });
  }
  const jobs = [...byJob.values()];
  for (const j of jobs) j.problems.sort((a, b) => (a.health === b.health ? a.instance.localeCompare(b.instance) : a.health === 'down' ? -1 : 1));
  return jobs.sort((a, b) => severity(b) - severity(a) || b.down - a.down || a.job.localeCompare(b.job));
}

/** Text safe to show: secrets scrubbed, markdown escaped, one line, cut. */
function safe(text: string, max = MAX_ERROR_CHARS): string {
  return escapeMarkdown(truncate(maskSecrets(text).replace(/\s+/g, ' ').trim(), max));
}

/** Inline code that cannot be closed early by the value. */
function code(text: string): string {
  return `\`${truncate(cellText(text), 80)}\``;
}

/** The not-ready line of a backend; its message usually names the backend already. */
function backendProblem(b: BackendCheck): string {
  const said = b.message.startsWith(b.name) ? b.message : `${b.name}: ${b.message}`;
  return `❌ ${safe(said)}`;
}

/** The language of one answer. */
interface Ctx {
  locale: Locale;
  t: T;
}

/** Two lines per problem target: where and when, then Prometheus' own error. */
function problemLines(p: TargetProblem, now: Date, ctx: Ctx): string[] {
  const { t } = ctx;
  const when =
    p.health === 'unknown'
      ? t('commands.health.notScrapedYet')
      : [
          // How long ago (or ahead, with a skewed clock).
          p.lastScrape ? t('alert.target.lastScrape', { ago: formatAgo(p.lastScrape, now, ctx.locale) }) : t('commands.health.neverScraped'),
          p.lastScrapeDurationSeconds !== undefined ? t('alert.target.took', { duration: formatValue(p.lastScrapeDurationSeconds, 'seconds') }) : '',
        ]
          .filter(Boolean)
          .join(' · ');
  const lines = [`• ${code(p.instance)} · ${when}`];
  if (p.lastError) lines.push(`↳ ${safe(p.lastError)}`);
  return lines;
}

/** Lines for jobs with problems, at most MAX_LISTED_PROBLEMS targets in all, then a count of the rest. */
function jobProblemLines(jobs: readonly JobHealth[], now: Date, ctx: Ctx): string[] {
  const { t } = ctx;
  const lines: string[] = [];
  let listed = 0;
  let hidden = 0;
  for (const j of jobs.filter((x) => severity(x) > 0)) {
    const total = j.up + j.down + j.unknown;
    const pending = j.unknown ? ` · ${t('commands.health.jobNotScraped', { count: j.unknown })}` : '';
    lines.push(`${j.down ? '❌' : '⏳'} **${escapeMarkdown(j.job)}** ${t('commands.health.jobUp', { up: j.up, total })}${pending}`);
    for (const p of j.problems) {
      if (listed >= MAX_LISTED_PROBLEMS) {
        hidden++;
        continue;
      }
      listed++;
      lines.push(...problemLines(p, now, ctx));
    }
  }
  if (hidden) lines.push(t('commands.health.moreTargets', { count: hidden }));
  return lines;
}

/** The one-line summary of every healthy job. */
function healthyJobsLine(jobs: readonly JobHealth[], t: T): string | undefined {
  const ok = jobs.filter((j) => severity(j) === 0);
  if (!ok.length) return undefined;
  return t('commands.health.healthyJobs', { jobs: ok.map((j) => `${escapeMarkdown(j.job)} ${j.up}/${j.up}`).join(' · ') });
}

/** Counts for the title. */
function counts(report: HealthReport): { up: number; total: number; down: number; backendsDown: number } {
  const up = report.jobs.reduce((n, j) => n + j.up, 0);
  const down = report.jobs.reduce((n, j) => n + j.down, 0);
  const total = report.jobs.reduce((n, j) => n + j.up + j.down + j.unknown, 0);
  return { up, total, down, backendsDown: report.backends.filter((b) => !b.ready).length };
}

/** The title: what is wrong, or that nothing is. */
function title(report: HealthReport, t: T): string {
  const c = counts(report);
  const job = report.job !== undefined ? escapeMarkdown(truncate(report.job, 100)) : undefined;
  const problems = [
    report.targetsError ? t('commands.health.title.targetsUnknown') : '',
    c.down
      ? job !== undefined
        ? t('commands.health.title.jobTargetsDown', { count: c.down, job })
        : t('commands.health.title.targetsDown', { count: c.down })
      : '',
    c.backendsDown ? t('commands.health.title.backendsNotReady', { count: c.backendsDown }) : '',
  ].filter(Boolean);
  if (problems.length) return t('commands.health.title.problems', { problems: problems.join(', ') });
  const figures = { up: c.up, total: c.total, backends: report.backends.length };
  return job !== undefined ? t('commands.health.title.jobOk', { ...figures, job }) : t('commands.health.title.ok', figures);
}

/**
 * The /health answer as one embed: failing backends and jobs with down targets first (each down
 * target with Prometheus' own lastError, last scrape age and duration), then one line for the
 * healthy jobs and one for the ready backends. Red when something is down, amber when targets are
 * only pending, green otherwise.
 */
export function renderHealth(report: HealthReport, now: Date): APIEmbed {
  const locale = report.locale ?? 'en';
  const ctx: Ctx = { locale, t: translator(locale) };
  const { t } = ctx;
  const c = counts(report);
  const lines: string[] = report.backends.filter((b) => !b.ready).map(backendProblem);
  if (report.targetsError) lines.push(t('commands.health.targetsError', { error: safe(report.targetsError) }));
  lines.push(...jobProblemLines(report.jobs, now, ctx));
  const healthy = healthyJobsLine(report.jobs, t);
  if (healthy) lines.push(healthy);
  if (!report.targetsError && report.jobs.length === 0) lines.push(noTargetsLine(report, t));
  const ready = report.backends.filter((b) => b.ready);
  if (ready.length) lines.push(t('commands.health.backendsReady', { backends: ready.map((b) => b.name).join(' · ') }));
  const pending = report.jobs.some((j) => j.unknown > 0);
  const color = c.down || c.backendsDown || report.targetsError ? RED : pending ? AMBER : GREEN;
  return { title: title(report, t), description: lines.join('\n'), color };
}

/** Why no job is listed: no targets at all, or no job by the asked name. */
function noTargetsLine(report: HealthReport, t: T): string {
  if (report.job === undefined) return t('commands.health.noTargets');
  if (!report.knownJobs.length) return t('commands.health.noSuchJob', { job: code(report.job) });
  return t('commands.health.noSuchJobKnown', { job: code(report.job), jobs: report.knownJobs.slice(0, 15).map(escapeMarkdown).join(', ') });
}

/** A rule access check in words: "12 alert rules readable", the missing credentials, or Grafana's error. */
export function ruleAccessText(r: RuleAccess, t: T): { ready: boolean; message: string } {
  if (r.ready) return { ready: true, message: t('commands.health.rulesReadable', { count: r.rules }) };
  return { ready: false, message: r.credentials ? r.message : t('commands.health.rulesNoCredentials') };
}
