// A chart worker thread: renders each job it is sent (ECharts SVG, resvg PNG) and posts the bytes back.
import { parentPort } from 'node:worker_threads';
import { loadChartLibraries, renderChartSync } from './chart-runtime.js';
import type { ChartAnswer, ChartJob } from './chart-workers.js';

const port = parentPort;
if (!port) throw new Error('chart-worker.ts runs as a worker thread');

loadChartLibraries();
port.postMessage({ ready: true } satisfies ChartAnswer);
port.on('message', (job: ChartJob) => {
  let answer: ChartAnswer;
  try {
    // A copy in its own ArrayBuffer, so transferring it never detaches memory Node pools for other Buffers.
    const png = new Uint8Array(renderChartSync(job.spec, job.size));
    answer = { id: job.id, png };
    port.postMessage(answer, [png.buffer]);
  } catch (error) {
    answer = { id: job.id, error: error instanceof Error ? error.message : String(error) };
    port.postMessage(answer);
  }
});
