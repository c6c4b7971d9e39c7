import type { APIEmbed, RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { translator } from '../i18n/index.js';
import type { AlertSource, Locale } from '../model.js';
import { alertButtons, type AlertButtonState } from './buttons.js';
import { skippedNote, type ChartFile, type ChartOutcome } from './chart.js';
import { ATTACHMENT_DESCRIPTION, EMBED_FOOTER_TEXT } from './limits.js';
import { fitMessage, truncate, type Warn } from './truncate.js';

// The alert message as it goes to Discord, put together in one place: the rendered embed, its chart
// (the file and the embed image, or a note saying why there is none) and its buttons.

/** What an alert message (the create or the edit of an incident's message) is made of. */
export interface AlertMessageParts {
  body: RESTPostAPIChannelMessageJSONBody;
  kind: 'create' | 'edit';
  /** Absent when charts are off: the body goes as rendered, its attachments untouched. */
  chart?: ChartOutcome;
  buttons: AlertButtonState;
  source: AlertSource;
  /** The language of its buttons; default en. */
  locale?: Locale;
}

/** The whole alert message of an incident: embed, chart and the buttons that carry the incident's id. */
export function alertMessage(parts: AlertMessageParts, incidentId: number, warn: Warn): { body: RESTPostAPIChannelMessageJSONBody; file?: ChartFile } {
  const { body, file } = parts.chart ? withChart(parts.body, parts.chart, parts.kind, warn, parts.locale) : { body: parts.body, file: undefined };
  return { body: { ...body, components: alertButtons(incidentId, parts.buttons, parts.source, parts.locale) }, ...(file ? { file } : {}) };
}

/**
 * An alert message body with its chart: the first embed shows `attachment://chart.png` and the
 * body lists the file as attachment placeholder 0. Without a chart (skipped), the footer says
 * why. An edit always lists its attachments (Discord keeps only those listed): the new chart, or
 * none, so a chart of the firing state never stays on the resolved message.
 */
export function withChart(
  body: RESTPostAPIChannelMessageJSONBody,
  outcome: ChartOutcome,
  kind: 'create' | 'edit',
  warn: Warn,
  locale: Locale = 'en',
): { body: RESTPostAPIChannelMessageJSONBody; file?: ChartFile } {
  const [first, ...rest] = body.embeds ?? [];
  if (outcome.status === 'rendered' && first) {
    const embed: APIEmbed = { ...first, image: { url: `attachment://${outcome.file.name}` } };
    const description = truncate(translator(locale)('alert.chart.description', { expr: outcome.expr.replace(/\s+/g, ' ') }), ATTACHMENT_DESCRIPTION);
    return {
      body: { ...body, embeds: [embed, ...rest], attachments: [{ id: '0', filename: outcome.file.name, description }] },
      file: outcome.file,
    };
  }
  const attachments = kind === 'edit' ? { attachments: [] } : {};
  if (outcome.status === 'skipped' && first) {
    const note = skippedNote(outcome.reason, locale);
    const footer = first.footer?.text ? `${first.footer.text} · ${note}` : note;
    const embed: APIEmbed = { ...first, footer: { ...first.footer, text: truncate(footer, EMBED_FOOTER_TEXT) } };
    return { body: fitMessage({ ...body, embeds: [embed, ...rest], ...attachments }, warn, locale) };
  }
  return { body: { ...body, ...attachments } };
}
