import { getIncident, type Incident } from '../../store/incidents.js';
import type { CommandDeps } from '../types.js';

/** The incident a button's reference names (its id, as the custom id carries it), if the store still has it. */
export async function incidentOfRef(deps: Pick<CommandDeps, 'db'>, ref: string): Promise<Incident | undefined> {
  return /^\d{1,15}$/.test(ref) ? await getIncident(deps.db, Number(ref)) : undefined;
}
