import type { Catalog } from '../catalog.js';
import type { cli as en } from '../en/cli.js';

/** Korean messages: cli. */
export const cli = {} as const satisfies Catalog<typeof en>;
