import type { Catalog } from '../catalog.js';
import type { commands as en } from '../en/commands.js';

/** Korean messages: commands. */
export const commands = {} as const satisfies Catalog<typeof en>;
