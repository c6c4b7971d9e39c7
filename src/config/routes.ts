// Routes: which channel an alert goes to and whom it pages, chosen by Alertmanager matchers or by
// the webhook URL (/webhooks/alertmanager/<name>).
import { z } from 'zod';
import { compileMatcher, type CompiledMatcher, MatcherSyntaxError, parseMatcherList } from './matchers.js';
import type { Locale } from '../model.js';
import { bool, duration, int, locale, snowflake } from './fields.js';

/** A route's name: part of its webhook URL, so lowercase letters, digits, - and _. */
export const ROUTE_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/** Most routes a config may list. */
export const MAX_ROUTES = 50;
/** Most roles, and most users, one route may ping (Discord's allowed_mentions takes 100 of each; a page is short). */
export const MAX_MENTIONS = 20;

/** The severity classes a route's mentions may name (`other`: no severity label Vigil knows). */
export const SEVERITY_CLASSES = ['critical', 'warning', 'info', 'other'] as const;

/** One matcher text, as in Alertmanager's `matchers:` list, compiled for testing label sets. */
const matcherText = z.string({ error: 'expected a matcher like team="db"' }).transform((text, ctx): CompiledMatcher[] => {
  try {
    return parseMatcherList(text).map(compileMatcher);
  } catch (err) {
    if (!(err instanceof MatcherSyntaxError)) throw err;
    ctx.addIssue({ code: 'custom', message: `expected a matcher like team="db", got ${JSON.stringify(text)}: ${err.message}` });
    return z.NEVER;
  }
});

const ids = (what: string) => z.array(snowflake).max(MAX_MENTIONS, `expected at most ${MAX_MENTIONS} ${what}`).default([]);

const routeSchema = z
  .strictObject({
    name: z
      .string({ error: 'required: expected a route name' })
      .regex(ROUTE_NAME, 'expected a route name of 1 to 32 lowercase letters, digits, - or _ (it is part of the webhook URL)'),
    /** Alertmanager matchers, all of which an alert's labels must match; without them the route is chosen by URL only. */
    matchers: z
      .array(matcherText)
      .min(1, 'expected at least one matcher; leave matchers out for a route chosen by its URL only')
      .max(20, 'expected at most 20 matchers')
      .transform((lists) => lists.flat())
      .optional(),
    /** The channel its incidents are posted to. */
    channelId: snowflake,
    /** Who a new firing incident pages, for which severities (all when left out). */
    mentions: z
      .strictObject({
        roles: ids('roles'),
        users: ids('users'),
        severities: z
          .array(z.enum(SEVERITY_CLASSES, { error: `expected one of ${SEVERITY_CLASSES.join(', ')}` }))
          .min(1)
          .optional(),
        /** Whether a still-firing reminder (Alertmanager's repeat_interval) pages again. */
        onRepeat: bool.default(false),
      })
      .optional(),
    /** Who is paged when a firing incident stays unacknowledged: after `after`, then every `after`, `repeat` times. */
    escalation: z
      .strictObject({
        after: duration(1000, 7 * 86_400_000),
        roles: ids('roles'),
        users: ids('users'),
        repeat: int(1, 10).default(1),
      })
      .refine((e) => e.roles.length + e.users.length > 0, { message: 'expected at least one role or user to escalate to', path: ['roles'] })
      .optional(),
    /** One thread per incident; default discord.threads. */
    threads: bool.optional(),
    /** The language of its incidents' messages; default the top-level `locale`. */
    locale: locale.optional(),
    /** Go on to the routes below after this one matched (the alert is posted once per matching route). */
    continue: bool.default(false),
  })
  .refine((r) => !r.mentions || r.mentions.roles.length + r.mentions.users.length > 0, {
    message: 'expected at least one role or user to mention, or no mentions at all',
    path: ['mentions', 'roles'],
  });

/** The routes, in order: first match wins unless it says `continue`. */
export const routesSchema = z
  .array(routeSchema)
  .max(MAX_ROUTES, `expected at most ${MAX_ROUTES} routes`)
  .superRefine((routes, ctx) => {
    const seen = new Map<string, number>();
    routes.forEach((r, i) => {
      const first = seen.get(r.name);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `route name "${r.name}" is already used by routes[${first}]` });
      else seen.set(r.name, i);
    });
  })
  .default([]);

/** One validated route. */
export type RouteConfig = z.output<typeof routeSchema>;

/** The route of that name, when the config (still) has one. */
export function routeNamed(routes: readonly RouteConfig[], name: string | undefined): RouteConfig | undefined {
  return name === undefined ? undefined : routes.find((r) => r.name === name);
}

/**
 * The routes an alert's labels go to, in order: every route whose matchers all match, up to and
 * including the first that does not `continue`. Routes without matchers are chosen by URL only.
 * Empty: no route takes it (discord.alertChannelId).
 */
export function matchRoutes(routes: readonly RouteConfig[], labels: Readonly<Record<string, string>>): RouteConfig[] {
  const out: RouteConfig[] = [];
  for (const r of routes) {
    if (!r.matchers || !r.matchers.every((m) => m.test(labels))) continue;
    out.push(r);
    if (!r.continue) break;
  }
  return out;
}

/**
 * Whether the routes (as configured now) still send an alert with these labels to `route`
 * (undefined: the alert channel, which takes what no route takes). A route chosen by URL only
 * takes nothing by labels.
 */
export function routesTo(routes: readonly RouteConfig[], labels: Readonly<Record<string, string>>, route: string | undefined): boolean {
  const matched = matchRoutes(routes, labels);
  return route === undefined ? matched.length === 0 : matched.some((r) => r.name === route);
}

/** What threadsFor reads of the config. */
interface ThreadsConfig {
  discord: { threads: boolean };
  routes: readonly RouteConfig[];
}

/** Whether an incident sent to the route gets a thread of its own: the route's `threads`, else discord.threads. */
export function threadsFor(config: ThreadsConfig, routeName: string | undefined): boolean {
  return routeNamed(config.routes, routeName)?.threads ?? config.discord.threads;
}

/** Whether a channel's own messages (a storm's) get threads: as for the first route posting there, else discord.threads. */
export function threadsInChannel(config: ThreadsConfig, channelId: string): boolean {
  return config.routes.find((r) => r.channelId === channelId)?.threads ?? config.discord.threads;
}

/** What localeFor reads of the config. */
interface LocaleConfig {
  locale: Locale;
  routes: readonly RouteConfig[];
}

/** The language of messages sent for the route: the route's `locale`, else the top-level one. */
export function localeFor(config: LocaleConfig, routeName: string | undefined): Locale {
  return routeNamed(config.routes, routeName)?.locale ?? config.locale;
}

/** The language of a channel's own messages (a storm's): as for the first route posting there, else the top-level one. */
export function localeInChannel(config: LocaleConfig, channelId: string): Locale {
  return config.routes.find((r) => r.channelId === channelId)?.locale ?? config.locale;
}
