// Bundles the part of ECharts Vigil's charts use (line and bar series, grid, title, legend, mark
// lines and areas, the SVG renderer) into build/echarts.cjs: about half of ECharts' full minified
// build, so the chart worker loads and holds less (see render/chart-runtime.ts).
// `npm run build`, `npm run dev` and the test setup run it; it rebuilds only when the output is
// missing or older than this script or ECharts itself.
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const OUT = fileURLToPath(new URL('../build/echarts.cjs', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const ENTRY = `
import { init, setPlatformAPI, use } from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkAreaComponent, MarkLineComponent, TitleComponent } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';
use([LineChart, BarChart, GridComponent, TitleComponent, LegendComponent, MarkLineComponent, MarkAreaComponent, SVGRenderer]);
export { init, setPlatformAPI };
`;

const mtime = (path: string): number | undefined => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
};

/** Writes build/echarts.cjs unless it is newer than its inputs; returns whether it built. */
export async function bundleECharts(): Promise<boolean> {
  const echartsPackage = createRequire(import.meta.url).resolve('echarts/package.json');
  const built = mtime(OUT);
  if (built !== undefined && built > (mtime(fileURLToPath(import.meta.url)) ?? Infinity) && built > (mtime(echartsPackage) ?? Infinity)) return false;
  await build({
    stdin: { contents: ENTRY, resolveDir: ROOT, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    outfile: OUT,
    logLevel: 'warning',
  });
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundleECharts();
