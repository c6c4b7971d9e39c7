import type { Catalog } from '../catalog.js';
import type { EN } from '../en/index.js';
import { alert } from './alert.js';
import { cli } from './cli.js';
import { commands } from './commands.js';
import { digest } from './digest.js';
import { storm } from './storm.js';
import { thread } from './thread.js';
import { watchdog } from './watchdog.js';

/** The Korean catalog. */
export const KO = { ...alert, ...commands, ...storm, ...thread, ...digest, ...watchdog, ...cli } as const satisfies Catalog<typeof EN>;
