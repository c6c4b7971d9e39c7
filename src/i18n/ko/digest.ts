import type { Catalog } from '../catalog.js';
import type { digest as en } from '../en/digest.js';

/** Korean messages: digest. */
export const digest = {} as const satisfies Catalog<typeof en>;
