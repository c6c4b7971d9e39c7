import type { APIEmbed } from 'discord-api-types/v10';
import type { Silence } from '../queries/alertmanager.js';
import { formatMatchers, type SilenceMatcher } from '../config/matchers.js';
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
function silenceLines(s: Silence): string {
  const timing =
    s.state === 'pending'
      ? `⏳ **${shortId(s.id)}** · starts ${discordTimestamp(s.startsAt, 'R')} · ends ${discordTimestamp(s.endsAt, 'R')}`
      : `🔕 **${shortId(s.id)}** · ends ${discordTimestamp(s.endsAt, 'R')}`;
  const who = [
    s.createdBy && `by ${escapeMarkdown(truncate(s.createdBy, CREATOR_MAX))}`,
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
}

/** Renders `/silence list`: active then pending silences, each with short and full id, matchers, end, creator and comment. */
export function renderSilenceList(input: SilenceListInput): { content?: string; embeds?: APIEmbed[] } {
  const live = sortSilences(input.silences.filter((s) => s.state !== 'expired'));
  if (live.length === 0) return { content: `🔔 No active or pending silences in ${input.source}.` };
  const blocks: string[] = [];
  let used = 0;
  for (const s of live) {
    const text = silenceLines(s);
    if (used + codePointLength(text) + 2 > EMBED_DESCRIPTION - MORE_RESERVE) break;
    blocks.push(text);
    used += codePointLength(text) + 2;
  }
  const hidden = live.length - blocks.length;
  if (hidden) blocks.push(`…and ${hidden} more silence${hidden === 1 ? '' : 's'}`);
  const active = live.filter((s) => s.state === 'active').length;
  const pending = live.length - active;
  const counts = [active ? `${active} active` : '', pending ? `${pending} pending` : ''].filter(Boolean).join(', ');
  return {
    embeds: [
      {
        title: `🔕 ${live.length} silence${live.length === 1 ? '' : 's'} (${counts})`,
        description: blocks.join('\n\n'),
        color: SILENCE_COLOR,
        footer: { text: `${input.source} · /silence expire id:<id> ends one` },
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
}

/** Confirms `/silence create`: matchers, end time, id and a link to the silence. */
export function renderSilenceCreated(input: SilenceCreatedInput): { content: string } {
  const link = input.url ? ` · ${markdownLink('open in Alertmanager', input.url)}` : '';
  return {
    content: [
      `🔕 Silenced ${matchersCode(input.matchers)}`,
      `until ${discordTimestamp(input.endsAt, 'f')} (${discordTimestamp(input.endsAt, 'R')})`,
      `ID \`${input.id}\`${link}`,
    ].join('\n'),
  };
}

// Names, not mentions, in public answers: a mention would ping (as in the Acknowledge button's notes).
/** Confirms `/silence expire`. */
export function renderSilenceExpired(silence: Pick<Silence, 'id' | 'matchers'>, username: string): { content: string } {
  return {
    content: `🔔 Silence \`${silence.id}\` expired by **${escapeMarkdown(username)}**: alerts matching ${matchersCode(silence.matchers)} notify again.`,
  };
}

/** The private answer to the presser of **Silence 1h**: what was silenced, until when, and how to undo it. */
export function renderButtonSilenced(input: SilenceCreatedInput): { content: string } {
  const created = renderSilenceCreated(input).content;
  return { content: `${created}\nUndo: \`/silence expire id:${input.id}\`` };
}

/** The short public note under an alert silenced with the button. */
export function renderSilencedNotice(username: string, id: string, endsAt: Date): { content: string } {
  return { content: `🔕 Silenced for 1h by **${escapeMarkdown(username)}** (until ${discordTimestamp(endsAt, 't')}) · \`${shortId(id)}\`` };
}
