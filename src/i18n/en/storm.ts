/** English messages: storm. Keys start with `storm.`; values are ICU MessageFormat. */
export const storm = {} as const;
