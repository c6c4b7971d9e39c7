import { z } from 'zod';

/** Most alerts one webhook body may carry (both senders truncate well below this). */
export const MAX_ALERTS = 1000;
/** Most entries in one label or annotation map. */
export const MAX_MAP_ENTRIES = 500;
const MAX_NAME_LENGTH = 1024;
const MAX_LABEL_VALUE_LENGTH = 16 * 1024;
const MAX_ANNOTATION_LENGTH = 64 * 1024;
const MAX_URL_LENGTH = 8 * 1024;
const MAX_SHORT_TEXT = 4 * 1024;

/** Go's zero `time.Time`, which both senders use for "no end" (and Grafana's test payload for startsAt). */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Parses an RFC3339 timestamp (fractional seconds up to ns, `Z` or `±hh:mm`); undefined when malformed. */
export function parseRfc3339(text: string): Date | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  // 60 allows a leap second as RFC3339 does; Date folds it into the next minute.
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  const millis = m[7] ? Number(m[7].padEnd(3, '0').slice(0, 3)) : 0;
  let offsetMinutes = 0;
  if (m[9]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, keeps years 0-99 (the zero time is year 1) as they are.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  return new Date(date.getTime() - offsetMinutes * 60_000);
}

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
}

const ZERO_TIME_MS = parseRfc3339(ZERO_TIME)!.getTime();

/** True for Go's zero time, whatever offset it was written with. */
export function isZeroTime(date: Date): boolean {
  return date.getTime() === ZERO_TIME_MS;
}

const timestamp = z
  .string()
  .max(64, 'expected an RFC3339 timestamp')
  .transform((text, ctx) => {
    const date = parseRfc3339(text);
    if (!date) {
      ctx.addIssue({ code: 'custom', message: `expected an RFC3339 timestamp like 2024-05-01T12:00:00Z, got ${JSON.stringify(text)}` });
      return z.NEVER;
    }
    return date;
  });

const status = z.enum(['firing', 'resolved'], {
  error: (iss) => (iss.input === undefined ? 'required: expected "firing" or "resolved"' : 'expected "firing" or "resolved"'),
});

const mapKey = z.string().max(MAX_NAME_LENGTH, `expected a name of at most ${MAX_NAME_LENGTH} characters`);

/** JSON.parse makes "__proto__" an own key, which zod's record would drop silently: refuse it instead. */
const noProtoKey = z.unknown().superRefine((value, ctx) => {
  if (typeof value === 'object' && value !== null && Object.hasOwn(value, '__proto__')) {
    ctx.addIssue({ code: 'custom', path: ['__proto__'], message: 'expected a name other than "__proto__"' });
  }
});

/** A JSON object of `value`s by name. */
const record = <T extends z.ZodType<unknown, unknown>>(value: T) => noProtoKey.pipe(z.record(mapKey, value));

/** A string-to-string map (labels, annotations); `null` (a nil Go map) reads as empty. */
const stringMap = (maxValueLength: number) =>
  record(z.string().max(maxValueLength, `expected a value of at most ${maxValueLength} characters`))
    .nullable()
    .transform((m) => m ?? {})
    .refine((m) => Object.keys(m).length <= MAX_MAP_ENTRIES, `expected at most ${MAX_MAP_ENTRIES} entries`);

const labels = stringMap(MAX_LABEL_VALUE_LENGTH);
const annotations = stringMap(MAX_ANNOTATION_LENGTH);
const url = z.string().max(MAX_URL_LENGTH, `expected a URL of at most ${MAX_URL_LENGTH} characters`);
const shortText = z.string().max(MAX_SHORT_TEXT, `expected at most ${MAX_SHORT_TEXT} characters`);

/** Fields of prometheus/alertmanager `template.Alert`, shared by both senders. */
const alertFields = {
  status,
  labels,
  annotations: annotations.optional().transform((m) => m ?? {}),
  startsAt: timestamp,
  endsAt: timestamp.optional(),
  generatorURL: url.optional(),
  fingerprint: shortText.optional(),
};

/** Fields of prometheus/alertmanager `template.Data` plus the webhook envelope, shared by both senders. */
const envelopeFields = {
  receiver: shortText,
  status,
  groupLabels: labels.optional().transform((m) => m ?? {}),
  commonLabels: labels.optional().transform((m) => m ?? {}),
  commonAnnotations: annotations.optional().transform((m) => m ?? {}),
  externalURL: url.optional(),
  groupKey: shortText,
  truncatedAlerts: z
    .number()
    .int('expected an integer')
    .min(0, 'expected 0 or more')
    .optional()
    .transform((n) => n ?? 0),
};

const alertList = <T extends z.ZodType>(alert: T) =>
  z.array(alert).min(1, 'expected at least 1 alert').max(MAX_ALERTS, `expected at most ${MAX_ALERTS} alerts`);

/** One alert of a Grafana webhook body (grafana/alerting `templates.ExtendedAlert`). */
export const grafanaAlertSchema = z.looseObject({
  ...alertFields,
  silenceURL: url.optional(),
  dashboardURL: url.optional(),
  panelURL: url.optional(),
  imageURL: url.optional(),
  /** Evaluated values by refId; Go's nil map arrives as `null`. */
  values: record(z.number()).nullable().optional(),
  valueString: z.string().optional(),
  orgId: z.number().optional(),
});

/** Grafana's webhook contact point body (grafana/alerting `receivers/webhook` `webhookMessage`, version "1"). */
export const grafanaBodySchema = z.looseObject({
  ...envelopeFields,
  version: z.literal('1', { error: 'expected "1"' }),
  alerts: alertList(grafanaAlertSchema),
  orgId: z.number().optional(),
  title: z.string().optional(),
  state: z.string().optional(),
  message: z.string().optional(),
});

/** One alert of an Alertmanager webhook body (prometheus/alertmanager `template.Alert`). */
export const alertmanagerAlertSchema = z.looseObject(alertFields);

/** Alertmanager's webhook body (prometheus/alertmanager `notify/webhook` `Message`, version "4"). */
export const alertmanagerBodySchema = z.looseObject({
  ...envelopeFields,
  version: z.literal('4', { error: 'expected "4"' }),
  alerts: alertList(alertmanagerAlertSchema),
});

/** A validated Grafana webhook body. */
export type GrafanaBody = z.output<typeof grafanaBodySchema>;
/** A validated Alertmanager webhook body. */
export type AlertmanagerBody = z.output<typeof alertmanagerBodySchema>;

/** Result of validating a body: the typed value, or one line saying which field expected what. */
export type ValidationResult<T> = { ok: true; value: T } | { ok: false; error: string };

const MAX_REPORTED_ISSUES = 3;

/** Validates `data` against `schema` with messages of the form `alerts.0.status: expected "firing" or "resolved"`. */
export function validateBody<S extends z.ZodType>(schema: S, data: unknown): ValidationResult<z.output<S>> {
  const result = schema.safeParse(data, { error: typeMessage });
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, error: formatIssues(result.error.issues) };
}

/** Joins the first few issues as `path: message`; the rest are counted. */
function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, MAX_REPORTED_ISSUES).map((iss) => `${formatPath(iss.path)}: ${iss.message}`);
  const more = issues.length - shown.length;
  return shown.join('; ') + (more > 0 ? ` (and ${more} more)` : '');
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map(String).join('.');
}

/** Per-parse messages for wrong or missing types: "required: expected a string", "expected a string, got a number". */
function typeMessage(iss: z.core.$ZodRawIssue): string | undefined {
  if (iss.code !== 'invalid_type') return undefined;
  const expected = article(String(iss.expected));
  return iss.input === undefined ? `required: expected ${expected}` : `expected ${expected}, got ${describeValue(iss.input)}`;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** What a value is, for error messages: "null", "an array", "an object", "a number". */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return article(typeof value);
}
