/** English messages: alert. Keys start with `alert.`; values are ICU MessageFormat. */
export const alert = {} as const;
