import type { Catalog } from '../catalog.js';
import type { alert as en } from '../en/alert.js';

/** Korean messages: alert. */
export const alert = {} as const satisfies Catalog<typeof en>;
