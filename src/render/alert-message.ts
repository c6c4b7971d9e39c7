import type { APIEmbed, RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import type { AlertSource } from '../model.js';
import { alertButtons, type AlertButtonState } from './buttons.js';
import type { ChartFile, ChartOutcome } from './chart.js';
import { EMBED_FOOTER_TEXT } from './limits.js';
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
}

/** The whole alert message of an incident: embed, chart and the buttons that carry the incident's id. */
export function alertMessage(parts: AlertMessageParts, incidentId: number, warn: Warn): { body: RESTPostAPIChannelMessageJSONBody; file?: ChartFile } {
  const { body, file } = parts.chart ? withChart(parts.body, parts.chart, parts.kind, warn) : { body: parts.body, file: undefined };
  return { body: { ...body, components: alertButtons(incidentId, parts.buttons, parts.source) }, ...(file ? { file } : {}) };
}

/** The note a message carries when its chart is missing. */
export function skippedNote(reason: string): string {
  return `chart skipped: ${reason}`;
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
): { body: RESTPostAPIChannelMessageJSONBody; file?: ChartFile } {
  const [first, ...rest] = body.embeds ?? [];
  if (outcome.status === 'rendered' && first) {
    const embed: APIEmbed = { ...first, image: { url: `attachment://${outcome.file.name}` } };
    const description = truncate(`Chart of ${outcome.expr.replace(/\s+/g, ' ')} over the incident window`, 1024);
    return {
      body: { ...body, embeds: [embed, ...rest], attachments: [{ id: '0', filename: outcome.file.name, description }] },
      file: outcome.file,
    };
  }
  const attachments = kind === 'edit' ? { attachments: [] } : {};
  if (outcome.status === 'skipped' && first) {
    const note = skippedNote(outcome.reason);
    const footer = first.footer?.text ? `${first.footer.text} · ${note}` : note;
    const embed: APIEmbed = { ...first, footer: { ...first.footer, text: truncate(footer, EMBED_FOOTER_TEXT) } };
    return { body: fitMessage({ ...body, embeds: [embed, ...rest], ...attachments }, warn) };
  }
  return { body: { ...body, ...attachments } };
}
