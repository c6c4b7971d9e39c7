/** English messages: commands. Keys start with `commands.`; values are ICU MessageFormat. */
export const commands = {} as const;
