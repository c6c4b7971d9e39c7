import type { Catalog } from '../catalog.js';
import type { storm as en } from '../en/storm.js';

/** Korean messages: storm. */
export const storm = {} as const satisfies Catalog<typeof en>;
