import type { APIEmbed } from 'discord-api-types/v10';
import { translator, type Locale, type MessageKey, type T } from '../i18n/index.js';
import type { Silence } from '../queries/alertmanager.js';
import { formatMatchers, type MatcherProblem, type MatcherSyntaxError, type SilenceMatcher } from '../config/matchers.js';
import { inlineCode } from './alerts.js';
import { discordTimestamp, escapeMarkdown, markdownLink } from './format.js';
import { EMBED_DESCRIPTION } from './limits.js';
import { codePointLength, truncate } from './truncate.js';

/** Matchers as shown in a message. */
const MATCHERS_MAX = 300;
const COMMENT_MAX = 120;
const CREATOR_MAX = 60;
/** Room kept for the "…and N more" line. */
const MORE_RESERVE = 60;
const SILENCE_COLOR = 0x95a5a6;

/** The first block of a silence id: enough to tell silences apart on a phone. */
export function shortId(id: string): string {
  return id.split('-')[0] ?? id;
}

/** A matcher list as inline code: `{alertname="X", job="y"}`. */
export function matchersCode(matchers: readonly SilenceMatcher[]): string {
  return inlineCode(formatMatchers(matchers), MATCHERS_MAX);
}

/** Active silences first (soonest end first), then pending ones (soonest start first). */
export function sortSilences(silences: readonly Silence[]): Silence[] {
  const key = (s: Silence) => (s.state === 'active' ? s.endsAt.getTime() : s.startsAt.getTime());
  return [...silences].sort((a, b) => (a.state === b.state ? key(a) - key(b) : a.state === 'active' ? -1 : 1));
}

/** Four short lines for one silence: id and timing, matchers, creator and comment, full id. */
function silenceLines(s: Silence, t: T): string {
  const id = shortId(s.id);
  const end = discordTimestamp(s.endsAt, 'R');
  const timing =
    s.state === 'pending'
      ? t('commands.silence.pendingLine', { id, start: discordTimestamp(s.startsAt, 'R'), end })
      : t('commands.silence.activeLine', { id, end });
  const who = [
    s.createdBy && t('commands.silence.by', { user: escapeMarkdown(truncate(s.createdBy, CREATOR_MAX)) }),
    s.comment && escapeMarkdown(truncate(s.comment.replace(/\s+/g, ' '), COMMENT_MAX)),
  ]
    .filter(Boolean)
    .join(' · ');
  return [timing, matchersCode(s.matchers), who, `\`${s.id}\``].filter(Boolean).join('\n');
}

/** What `/silence list` needs. */
export interface SilenceListInput {
  /** Every silence Alertmanager returned; expired ones are left out. */
  silences: readonly Silence[];
  /** "Alertmanager" or "Grafana Alertmanager". */
  source: string;
  /** Link to the silences page, when the Alertmanager URL is known. */
  url?: string;
  /** The language of the answer; default 'en'. */
  locale?: Locale;
}

/** Renders `/silence list`: active then pending silences, each with short and full id, matchers, end, creator and comment. */
export function renderSilenceList(input: SilenceListInput): { content?: string; embeds?: APIEmbed[] } {
  const t = translator(input.locale ?? 'en');
  const live = sortSilences(input.silences.filter((s) => s.state !== 'expired'));
  if (live.length === 0) return { content: t('commands.silence.none', { source: input.source }) };
  const blocks: string[] = [];
  let used = 0;
  for (const s of live) {
    const text = silenceLines(s, t);
    if (used + codePointLength(text) + 2 > EMBED_DESCRIPTION - MORE_RESERVE) break;
    blocks.push(text);
    used += codePointLength(text) + 2;
  }
  const hidden = live.length - blocks.length;
  if (hidden) blocks.push(t('commands.silence.more', { count: hidden }));
  const active = live.filter((s) => s.state === 'active').length;
  const pending = live.length - active;
  const counts = [active ? t('commands.silence.activeCount', { count: active }) : '', pending ? t('commands.silence.pendingCount', { count: pending }) : '']
    .filter(Boolean)
    .join(', ');
  return {
    embeds: [
      {
        title: t('commands.silence.title', { count: live.length, counts }),
        description: blocks.join('\n\n'),
        color: SILENCE_COLOR,
        footer: { text: t('commands.silence.footer', { source: input.source }) },
        ...(input.url ? { url: input.url } : {}),
      },
    ],
  };
}

/** What a created silence's confirmation shows. */
export interface SilenceCreatedInput {
  id: string;
  matchers: readonly SilenceMatcher[];
  endsAt: Date;
  /** The silence's page in Alertmanager's UI, when known. */
  url?: string;
  /** The language of the answer; default 'en'. */
  locale?: Locale;
}

/** Confirms `/silence create`: matchers, end time, id and a link to the silence. */
export function renderSilenceCreated(input: SilenceCreatedInput): { content: string } {
  const t = translator(input.locale ?? 'en');
  const link = input.url ? ` · ${markdownLink(t('commands.silence.openInAlertmanager'), input.url)}` : '';
  return {
    content: [
      t('commands.silence.created', { matchers: matchersCode(input.matchers) }),
      t('commands.silence.until', { at: discordTimestamp(input.endsAt, 'f'), relative: discordTimestamp(input.endsAt, 'R') }),
      `${t('commands.silence.id', { id: input.id })}${link}`,
    ].join('\n'),
  };
}

// Names, not mentions, in public answers: a mention would ping (as in the Acknowledge button's notes).
/** Confirms `/silence expire`, in `locale` (default 'en'). */
export function renderSilenceExpired(silence: Pick<Silence, 'id' | 'matchers'>, username: string, locale: Locale = 'en'): { content: string } {
  const t = translator(locale);
  return { content: t('commands.silence.expired', { id: silence.id, user: escapeMarkdown(username), matchers: matchersCode(silence.matchers) }) };
}

/** The private answer to the presser of **Silence 1h**: what was silenced, until when, and how to undo it. */
export function renderButtonSilenced(input: SilenceCreatedInput): { content: string } {
  const created = renderSilenceCreated(input).content;
  return { content: `${created}\n${translator(input.locale ?? 'en')('commands.silence.undo', { id: input.id })}` };
}

/** The short public note under an alert silenced with the button, in `locale` (default 'en'). */
export function renderSilencedNotice(username: string, id: string, endsAt: Date, locale: Locale = 'en'): { content: string } {
  const t = translator(locale);
  return { content: t('commands.silence.notice', { user: escapeMarkdown(username), time: discordTimestamp(endsAt, 't'), id: shortId(id) }) };
}

/** The words of each matcher problem. */
const MATCHER_PROBLEMS = {
  empty: 'commands.silence.matcher.empty',
  'too-long': 'commands.silence.matcher.tooLong',
  'too-many': 'commands.silence.matcher.tooMany',
  'bad-regex': 'commands.silence.matcher.badRegex',
  'bad-name': 'commands.silence.matcher.badName',
  'matches-every-value': 'commands.silence.matcher.matchesEveryValue',
  'silences-everything': 'commands.silence.matcher.silencesEverything',
  unterminated: 'commands.silence.matcher.unterminated',
  'stray-close': 'commands.silence.matcher.strayClose',
  'expected-comma': 'commands.silence.matcher.expectedComma',
  'expected-close': 'commands.silence.matcher.expectedClose',
  'text-after-close': 'commands.silence.matcher.textAfterClose',
  'expected-pair': 'commands.silence.matcher.expectedPair',
  'expected-operator': 'commands.silence.matcher.expectedOperator',
  'expected-value': 'commands.silence.matcher.expectedValue',
} as const satisfies Record<MatcherProblem['kind'], MessageKey>;

/** What is wrong with matchers text and where, in `t`'s language; English is the parser's own message, word for word. */
export function matcherErrorText(err: Pick<MatcherSyntaxError, 'message' | 'problem'>, t: T): string {
  const p = err.problem;
  if (!p || t.locale === 'en') return err.message;
  const { kind, at, ...values } = p;
  const problem = t(MATCHER_PROBLEMS[kind], values);
  if (at === undefined) return problem;
  return at === 'end' ? t('commands.silence.matcher.atEnd', { problem }) : t('commands.silence.matcher.at', { problem, at });
}
