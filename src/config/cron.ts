import { parse, validate } from 'node-cron';

// The checks the config runs on a schedule (digest, snapshots); the scheduler (src/schedule/) runs them too.

/** Why a cron expression is unusable, or undefined when node-cron accepts it. */
export function cronProblem(expression: string): string | undefined {
  if (validate(expression)) return undefined;
  try {
    parse(expression);
    return `invalid cron expression "${expression}"`;
  } catch (err) {
    return `invalid cron expression "${expression}": ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** Why a time zone is unusable, or undefined when Intl knows it. */
export function timeZoneProblem(timeZone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return undefined;
  } catch {
    return `unknown time zone "${timeZone}": expected an IANA time zone like Europe/Berlin or UTC`;
  }
}
