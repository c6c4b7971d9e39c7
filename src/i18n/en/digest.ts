/** English messages: digest. Keys start with `digest.`; values are ICU MessageFormat. */
export const digest = {} as const;
