import { LOKI_BIN, lokiBackendNote } from './loki.js';

/** Runs once per `vitest run`: says which Loki the LogQL tests use, once, at the top of the output. */
export default function setup(): void {
  console.log(lokiBackendNote(LOKI_BIN));
}
