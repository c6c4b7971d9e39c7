import { z } from 'zod';
import type { Config } from '../config/schema.js';
import { expectOk, getJson, sendJson, sendRaw, type Backend, type CallOptions } from './http.js';
import type { SilenceMatcher } from '../config/matchers.js';
import { labelsSchema, readiness, type Readiness } from './prometheus.js';

/** One alert as Alertmanager's GET /api/v2/alerts describes it. */
export interface AlertmanagerAlert {
  fingerprint: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: Date;
  endsAt?: Date;
  generatorURL?: string;
  /** active: notifying; suppressed: silenced or inhibited; unprocessed: just received. */
  state: 'active' | 'suppressed' | 'unprocessed';
  silencedBy: string[];
  inhibitedBy: string[];
  receivers: string[];
}

/** A silence as GET /api/v2/silences describes it. */
export interface Silence {
  id: string;
  matchers: SilenceMatcher[];
  startsAt: Date;
  endsAt: Date;
  updatedAt?: Date;
  createdBy: string;
  comment: string;
  state: 'active' | 'pending' | 'expired';
}

/** What creating a silence takes. */
export interface NewSilence {
  matchers: SilenceMatcher[];
  startsAt: Date;
  endsAt: Date;
  createdBy: string;
  comment: string;
}

/** Which alerts GET /api/v2/alerts returns (Alertmanager's default: all of them). */
export interface AlertFilter {
  active?: boolean;
  silenced?: boolean;
  inhibited?: boolean;
}

/** An Alertmanager v2 API client (Alertmanager itself or Grafana's built-in one). Calls throw QueryError. */
export interface AlertmanagerClient {
  /** "Alertmanager" or "Grafana Alertmanager", as messages name it. */
  readonly name: string;
  alerts(filter?: AlertFilter, opts?: CallOptions): Promise<AlertmanagerAlert[]>;
  silences(opts?: CallOptions): Promise<Silence[]>;
  /** Creates a silence; resolves to its id. */
  createSilence(silence: NewSilence, opts?: CallOptions): Promise<string>;
  /** Expires a silence (DELETE /silence/{id}). */
  expireSilence(id: string, opts?: CallOptions): Promise<void>;
  /** Asks the readiness endpoint; never throws. */
  ready(opts?: CallOptions): Promise<Readiness>;
}

/** Options of {@link createAlertmanagerClient}. */
export interface AlertmanagerClientOptions {
  /** Base URL (may carry a path prefix and `user:pass@`). */
  url: string;
  timeoutMs: number;
  bearerToken?: string;
  /** Path of the v2 API under `url`; default `/api/v2`. */
  basePath?: string;
  /** Readiness path under `url`; default `/-/ready`. */
  readyPath?: string;
  /** Display name; default "Alertmanager". */
  name?: string;
}

/** Where Grafana serves its built-in Alertmanager's v2 API. */
export const GRAFANA_AM_BASE_PATH = '/api/alertmanager/grafana/api/v2';
const DEFAULT_TIMEOUT_MS = 10_000;

/** An RFC 3339 timestamp as a Date. */
const dateSchema = z.string().transform((text, ctx) => {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: `expected an RFC 3339 time, got "${text.slice(0, 40)}"` });
    return z.NEVER;
  }
  return new Date(ms);
});

const alertSchema = z
  .object({
    fingerprint: z.string(),
    labels: labelsSchema,
    annotations: labelsSchema.default({}),
    startsAt: dateSchema,
    endsAt: dateSchema.optional(),
    generatorURL: z.string().optional(),
    status: z.object({
      state: z.enum(['active', 'suppressed', 'unprocessed']),
      silencedBy: z.array(z.string()).nullish(),
      inhibitedBy: z.array(z.string()).nullish(),
    }),
    receivers: z.array(z.object({ name: z.string() })).nullish(),
  })
  .transform((a): AlertmanagerAlert => ({
    fingerprint: a.fingerprint,
    labels: a.labels,
    annotations: a.annotations,
    startsAt: a.startsAt,
    ...(a.endsAt ? { endsAt: a.endsAt } : {}),
    ...(a.generatorURL ? { generatorURL: a.generatorURL } : {}),
    state: a.status.state,
    silencedBy: a.status.silencedBy ?? [],
    inhibitedBy: a.status.inhibitedBy ?? [],
    receivers: (a.receivers ?? []).map((r) => r.name),
  }));

const matcherSchema = z.object({
  name: z.string(),
  value: z.string(),
  isRegex: z.boolean(),
  // Alertmanagers before 0.22 (and old Grafanas) have no negative matchers and leave isEqual out.
  isEqual: z.boolean().default(true),
});

const silenceSchema = z
  .object({
    id: z.string(),
    matchers: z.array(matcherSchema),
    startsAt: dateSchema,
    endsAt: dateSchema,
    updatedAt: dateSchema.optional(),
    createdBy: z.string().default(''),
    comment: z.string().default(''),
    status: z.object({ state: z.enum(['active', 'pending', 'expired']) }),
  })
  .transform(({ status, updatedAt, ...s }): Silence => ({ ...s, ...(updatedAt ? { updatedAt } : {}), state: status.state }));

// Alertmanager answers {silenceID}; Grafana before 10 answered {message, id}.
const createdSchema = z
  .object({ silenceID: z.string().min(1).optional(), id: z.string().min(1).optional() })
  .refine((b) => b.silenceID ?? b.id, { message: 'expected silenceID', path: ['silenceID'] })
  .transform((b) => (b.silenceID ?? b.id)!);

/** Filter flags as query parameters ("true"/"false"), left out when undefined. */
function filterParams(filter: AlertFilter): Record<string, string | undefined> {
  const flag = (v: boolean | undefined) => (v === undefined ? undefined : String(v));
  return { active: flag(filter.active), silenced: flag(filter.silenced), inhibited: flag(filter.inhibited) };
}

/** Creates an Alertmanager v2 API client. */
export function createAlertmanagerClient(opts: AlertmanagerClientOptions): AlertmanagerClient {
  const name = opts.name ?? 'Alertmanager';
  const backend: Backend = {
    name,
    url: opts.url,
    timeoutMs: opts.timeoutMs,
    ...(opts.bearerToken ? { bearerToken: opts.bearerToken } : {}),
  };
  const api = (opts.basePath ?? '/api/v2').replace(/\/+$/, '');
  return {
    name,
    alerts: (filter = {}, callOpts) => getJson(backend, `${api}/alerts`, filterParams(filter), z.array(alertSchema), callOpts),
    silences: (callOpts) => getJson(backend, `${api}/silences`, {}, z.array(silenceSchema), callOpts),
    async createSilence(s, callOpts) {
      const body = {
        matchers: s.matchers.map(({ name: n, value, isRegex, isEqual }) => ({ name: n, value, isRegex, isEqual })),
        startsAt: s.startsAt.toISOString(),
        endsAt: s.endsAt.toISOString(),
        createdBy: s.createdBy,
        comment: s.comment,
      };
      return sendJson(backend, 'POST', `${api}/silences`, body, createdSchema, callOpts);
    },
    async expireSilence(id, callOpts) {
      expectOk(backend, await sendRaw(backend, 'DELETE', `${api}/silence/${encodeURIComponent(id)}`, undefined, callOpts));
    },
    ready: (callOpts) => readiness(backend, opts.readyPath ?? '/-/ready', callOpts),
  };
}

/**
 * The Alertmanager that silences go to: `alertmanager.url` when configured, else Grafana's built-in
 * Alertmanager when `grafana.url` and `grafana.token` are both set, else undefined.
 */
export function alertmanagerFromConfig(
  config: Pick<Config, 'alertmanager'> & { grafana?: Pick<NonNullable<Config['grafana']>, 'url' | 'token'> | undefined },
  timeoutMs = DEFAULT_TIMEOUT_MS,
): AlertmanagerClient | undefined {
  if (config.alertmanager) return createAlertmanagerClient({ url: config.alertmanager.url, timeoutMs });
  if (config.grafana?.token) {
    return createAlertmanagerClient({
      url: config.grafana.url,
      timeoutMs,
      bearerToken: config.grafana.token,
      basePath: GRAFANA_AM_BASE_PATH,
      readyPath: '/api/health',
      name: 'Grafana Alertmanager',
    });
  }
  return undefined;
}
