import { health } from './health.js';
import { query } from './query.js';
import { top } from './top.js';
import { alertsCommand } from './alerts.js';
import { silenceButton } from './buttons/silence.js';
import { silenceCommand } from './silence.js';
import { logs } from './logs.js';
import { ackButton } from './buttons/ack.js';
import { unackButton } from './buttons/unack.js';
import { logsButton } from './buttons/logs.js';
import type { ButtonHandler, Command } from './types.js';

/**
 * Every slash command, in one static list: the router dispatches from it and
 * `vigil register-commands` registers it, so the two can never disagree.
 */
export const COMMANDS: readonly Command[] = [health, top, query, alertsCommand, silenceCommand, logs];

/** Every button handler on Vigil's alert messages. */
export const BUTTONS: readonly ButtonHandler[] = [silenceButton, ackButton, unackButton, logsButton];
