import { getIncident, type Incident } from '../../store/incidents.js';
import type { CommandDeps } from '../types.js';

/** The incident a button's reference names (its id, as the custom id carries it), if the store still has it. */
export function incidentOfRef(deps: Pick<CommandDeps, 'db'>, ref: string): Incident | undefined {
  return /^\d{1,15}$/.test(ref) ? getIncident(deps.db, Number(ref)) : undefined;
}
