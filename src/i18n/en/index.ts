import { alert } from './alert.js';
import { cli } from './cli.js';
import { commands } from './commands.js';
import { digest } from './digest.js';
import { storm } from './storm.js';
import { thread } from './thread.js';
import { watchdog } from './watchdog.js';

/** The English catalog: it defines the keys every other language has. */
export const EN = { ...alert, ...commands, ...storm, ...thread, ...digest, ...watchdog, ...cli } as const;

/** A message's key in every catalog. */
export type MessageKey = keyof typeof EN;
