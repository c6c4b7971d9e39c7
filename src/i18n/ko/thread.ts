import type { Catalog } from '../catalog.js';
import type { thread as en } from '../en/thread.js';

/** Korean messages: thread. */
export const thread = {} as const satisfies Catalog<typeof en>;
