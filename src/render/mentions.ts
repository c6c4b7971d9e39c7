import type { RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import type { RouteConfig } from '../config/routes.js';
import { formatDurationIn, translator } from '../i18n/index.js';
import type { Alert, Locale } from '../model.js';
import { severityOf } from './alerts.js';
import { MESSAGE_CONTENT } from './limits.js';
import { codePointLength, truncate } from './truncate.js';

/** Whom a message pings: exactly these ids; nothing in its text (labels, annotations) can add one. */
export interface Page {
  roles: readonly string[];
  users: readonly string[];
}

/**
 * Whom a new firing incident of the route pages: its mentions, when any firing alert's severity is
 * among `severities` (all when left out); undefined when it pages no one.
 */
export function pageOf(route: RouteConfig | undefined, alerts: readonly Pick<Alert, 'status' | 'labels'>[]): Page | undefined {
  const mentions = route?.mentions;
  if (!mentions) return undefined;
  const firing = alerts.filter((a) => a.status === 'firing');
  const wanted = mentions.severities;
  if (firing.length === 0 || (wanted && !firing.some((a) => wanted.includes(severityOf(a.labels))))) return undefined;
  return { roles: mentions.roles, users: mentions.users };
}

/** The mentions as Discord writes them: `<@&role> <@user>`. */
export function mentionText(page: Page): string {
  return [...page.roles.map((id) => `<@&${id}>`), ...page.users.map((id) => `<@${id}>`)].join(' ');
}

/**
 * The message with the page's mentions first in its content, and allowed_mentions listing exactly
 * those ids; the text after them is cut (marked …) so the whole stays within Discord's limit, never the mentions.
 */
export function withPage(body: RESTPostAPIChannelMessageJSONBody, page: Page, lead = '🔔'): RESTPostAPIChannelMessageJSONBody {
  const line = `${lead} ${mentionText(page)}`;
  // At most 40 mentions of 23 characters: the line always fits, with room for the text.
  const rest = body.content ? truncate(body.content, MESSAGE_CONTENT - codePointLength(line) - 2) : '';
  return {
    ...body,
    content: rest ? `${line}: ${rest}` : line,
    allowed_mentions: { parse: [], roles: [...page.roles], users: [...page.users] },
  };
}

/** What an escalation ping says: which step of how many, how long the incident has been firing. */
export interface EscalationInput {
  /** 1-based. */
  step: number;
  of: number;
  /** How long the incident has been firing, in ms. */
  firingMs: number;
  page: Page;
  /** The language of the incident's route; default en. */
  locale?: Locale;
}

/** The escalation reply: pings exactly the escalation's people, says why and how to stop it. */
export function renderEscalation(input: EscalationInput): RESTPostAPIChannelMessageJSONBody {
  const locale = input.locale ?? 'en';
  const count = input.of > 1 ? ` (${input.step}/${input.of})` : '';
  const duration = formatDurationIn(locale, input.firingMs < 60_000 ? input.firingMs : Math.round(input.firingMs / 60_000) * 60_000);
  const body = {
    content: translator(locale)('alert.escalation', { duration, count }),
    allowed_mentions: { parse: [] },
  } satisfies RESTPostAPIChannelMessageJSONBody;
  return withPage(body, input.page, '⏫');
}
