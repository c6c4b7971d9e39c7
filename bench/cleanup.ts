/** Stops still to run, newest last. */
const pending: Array<() => Promise<void>> = [];

/**
 * Registers a stop to run at the end of the benchmark (or on a signal); returns a function that
 * runs it now instead, at most once.
 */
export function defer(stop: () => Promise<void>): () => Promise<void> {
  let ran: Promise<void> | undefined;
  const once = () => (ran ??= stop());
  pending.push(once);
  return async () => {
    pending.splice(pending.indexOf(once), 1);
    await once();
  };
}

/** Runs every registered stop, newest first; a failing stop is reported and the rest still run. */
export async function cleanUp(): Promise<void> {
  for (const stop of pending.splice(0).reverse()) {
    await stop().catch((err: unknown) => console.error(`cleanup: ${(err as Error).message}`));
  }
}
