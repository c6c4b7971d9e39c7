import { bundleECharts } from '../../scripts/echarts-bundle.js';
import { LOKI_BIN, lokiBackendNote } from './loki.js';

/**
 * Runs once per `vitest run`: builds the ECharts bundle the charts load when it is missing or
 * stale, and says which Loki the LogQL tests use, once, at the top of the output.
 */
export default async function setup(): Promise<void> {
  await bundleECharts();
  console.log(lokiBackendNote(LOKI_BIN));
}
