/** English messages: cli. Keys start with `cli.`; values are ICU MessageFormat. */
export const cli = {} as const;
