/** English messages: watchdog. Keys start with `watchdog.`; values are ICU MessageFormat. */
export const watchdog = {} as const;
