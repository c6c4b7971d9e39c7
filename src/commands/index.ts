import type { ButtonHandler, Command } from './types.js';

/**
 * Every slash command, in one static list: the router dispatches from it and
 * `vigil register-commands` registers it, so the two can never disagree.
 */
export const COMMANDS: readonly Command[] = [];

/** Every button handler on Vigil's alert messages. */
export const BUTTONS: readonly ButtonHandler[] = [];
