/** English messages: thread. Keys start with `thread.`; values are ICU MessageFormat. */
export const thread = {} as const;
