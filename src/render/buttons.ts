import {
  ButtonStyle,
  ComponentType,
  type APIActionRowComponent,
  type APIButtonComponentWithCustomId,
  type APIComponentInMessageActionRow,
} from 'discord-api-types/v10';
import { translator } from '../i18n/index.js';
import type { AlertSource, Locale } from '../model.js';

/** Custom ids of Vigil's buttons: `vigil:<action>:<ref>`, well under Discord's 100 characters. */
export const CUSTOM_ID_PREFIX = 'vigil';

/** Builds a button custom id; `ref` is a short store reference (an incident id), never a label set. */
export function customId(action: string, ref: string | number): string {
  return `${CUSTOM_ID_PREFIX}:${action}:${ref}`;
}

/** Splits a custom id into action and reference; undefined for ids that are not Vigil's. */
export function parseCustomId(id: string): { action: string; ref: string } | undefined {
  const m = /^vigil:([a-z0-9_-]{1,32}):([A-Za-z0-9_-]{1,64})$/.exec(id);
  return m ? { action: m[1]!, ref: m[2]! } : undefined;
}

/** Button actions on alert messages (the `<action>` of `vigil:<action>:<incidentId>`). */
export const ALERT_ACTIONS = { silence: 'silence1h', ack: 'ack', unack: 'unack', logs: 'logs' } as const;

/** The state an alert message shows; it decides which buttons still make sense. */
export type AlertButtonState = 'firing' | 'acknowledged' | 'resolved';

function button(
  action: string,
  incidentId: number,
  label: string,
  emoji: string,
  style: ButtonStyle.Primary | ButtonStyle.Secondary,
): APIButtonComponentWithCustomId {
  return { type: ComponentType.Button, style, label, emoji: { name: emoji }, custom_id: customId(action, incidentId) };
}

/**
 * The action row of an alert message. Firing: Silence 1h, Acknowledge, Logs; once acknowledged,
 * Unacknowledge (give it back) in Acknowledge's place. Resolved: Logs only (silencing or
 * acknowledging an alert that is over does nothing, but its logs still explain it).
 */
export function alertButtons(
  incidentId: number,
  state: AlertButtonState,
  source: AlertSource = 'alertmanager',
  locale: Locale = 'en',
): APIActionRowComponent<APIComponentInMessageActionRow>[] {
  const t = translator(locale);
  const ack =
    state === 'acknowledged'
      ? button(ALERT_ACTIONS.unack, incidentId, t('alert.button.unack'), '↩️', ButtonStyle.Secondary)
      : button(ALERT_ACTIONS.ack, incidentId, t('alert.button.ack'), '👀', ButtonStyle.Primary);
  // Vigil's own watchdog alerts: no Alertmanager silence reaches them and they have no logs to show.
  if (source === 'vigil') return state !== 'resolved' ? [{ type: ComponentType.ActionRow, components: [ack] }] : [];
  const logs = button(ALERT_ACTIONS.logs, incidentId, t('alert.button.logs'), '📜', ButtonStyle.Secondary);
  const silence = button(ALERT_ACTIONS.silence, incidentId, t('alert.button.silence'), '🔕', ButtonStyle.Secondary);
  const components = state !== 'resolved' ? [silence, ack, logs] : [logs];
  return [{ type: ComponentType.ActionRow, components }];
}
