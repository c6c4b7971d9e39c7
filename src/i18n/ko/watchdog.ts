import type { Catalog } from '../catalog.js';
import type { watchdog as en } from '../en/watchdog.js';

/** Korean messages: watchdog. */
export const watchdog = {} as const satisfies Catalog<typeof en>;
