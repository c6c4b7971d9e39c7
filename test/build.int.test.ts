// The README's build (`npm run build`, tsc with tsconfig.build.json) yields a runnable bot: the CLI
// loads, and charts render on the compiled worker thread, not in the fallback.
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
// Inside the repo, so the compiled files resolve node_modules as dist/ does.
const OUT = fileURLToPath(new URL('../.build-test/', import.meta.url));

beforeAll(async () => {
  rmSync(OUT, { recursive: true, force: true });
  await run(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json', '--outDir', OUT], { cwd: ROOT });
}, 120_000);
afterAll(() => rmSync(OUT, { recursive: true, force: true }));

describe('the compiled bot', () => {
  it('answers --help from the compiled CLI', async () => {
    const { stdout } = await run(process.execPath, [`${OUT}cli.js`, '--help'], { cwd: ROOT });
    expect(stdout).toMatch(/serve/);
    expect(stdout).toMatch(/check-config/);
  });

  it('renders a chart on its compiled worker thread', async () => {
    const script = `
      const { renderChart } = await import(${JSON.stringify(`${OUT}render/chart.js`)});
      const { sharedChartWorkers } = await import(${JSON.stringify(`${OUT}render/chart-workers.js`)});
      const png = await renderChart({ kind: 'bar', title: 'Top', bars: [{ label: 'api', value: 42 }], unit: 'percent' }, { width: 800, height: 400 });
      console.log(JSON.stringify({ magic: png.subarray(1, 4).toString(), stats: sharedChartWorkers().stats }));`;
    // A file, not `--input-type=module -e`: workers inherit the parent's execArgv, and that flag is refused by a file entry.
    writeFileSync(`${OUT}render-once.mjs`, script);
    const { stdout } = await run(process.execPath, [`${OUT}render-once.mjs`], { cwd: ROOT });
    expect(JSON.parse(stdout)).toEqual({ magic: 'PNG', stats: { started: 1, terminated: 0, rendered: 1, inProcess: 0, idleEnded: 0, recycled: 0 } });
  });

  it('lets the process exit while its warmed chart worker sits idle', async () => {
    const script = `
      const { sharedChartWorkers } = await import(${JSON.stringify(`${OUT}render/chart-workers.js`)});
      sharedChartWorkers().warm();
      console.log(JSON.stringify(sharedChartWorkers().stats));`;
    writeFileSync(`${OUT}warm-only.mjs`, script);
    // execFile kills the child at the timeout and rejects: a worker keeping the process alive fails here.
    const { stdout } = await run(process.execPath, [`${OUT}warm-only.mjs`], { cwd: ROOT, timeout: 10_000 });
    expect(JSON.parse(stdout)).toMatchObject({ started: 1 });
  });
});
