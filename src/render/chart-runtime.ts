import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { CHART_FONT_FAMILY, chartFontFiles, hasHangul, measureCssFont } from './chart-theme.js';
import { chartOption } from './chart-options.js';
import type { ChartSize, ChartSpec } from './chart-spec.js';

// Drawing a chart: ECharts' server-side SVG, fixed up for resvg, rasterised to PNG. What the chart
// worker thread runs (render/chart-worker.ts), and the in-process fallback.

/**
 * The chart as an SVG document (ECharts' server-side renderer; no DOM, no canvas), and where the
 * data points in `locate` landed in pixels: `[time ms, value]` on a time chart, `[value, bar
 * index]` on a bar chart.
 */
export function chartSvg(
  spec: ChartSpec,
  size: ChartSize,
  locate: readonly (readonly [number, number])[] = [],
): { svg: string; size: ChartSize; pixels: [number, number][] } {
  const { option, size: actual } = chartOption(spec, size);
  const chart = echarts().init(null, null, { renderer: 'svg', ssr: true, width: actual.width, height: actual.height });
  try {
    chart.setOption(option);
    const pixels = locate.map((p) => chart.convertToPixel({ gridIndex: 0 }, [p[0], p[1]]) as unknown as [number, number]);
    return { svg: dropClipPaths(expandFontShorthand(chart.renderToSVGString())), size: actual, pixels };
  } finally {
    chart.dispose();
  }
}

/**
 * Removes the clip paths ECharts puts around each line series (even with `clip: false`). Every
 * point drawn is inside the axes (x filtered to the window, y scaled to the data), so they cut
 * nothing; yet resvg rasterises a full-size mask for each one, over half of its rendering time.
 */
export function dropClipPaths(svg: string): string {
  return svg.replace(/ clip-path="url\(#[^")]+\)"/g, '').replace(/<clipPath\b[^>]*>[\s\S]*?<\/clipPath>\n?/g, '');
}

/**
 * Rewrites `font: normal bold 22px DejaVu Sans` style shorthands (ECharts writes them for axis
 * labels) as longhand properties: resvg ignores the shorthand and would draw that text at 12 px.
 */
export function expandFontShorthand(svg: string): string {
  return svg.replace(
    /font:\s*(normal|italic|oblique)\s+(normal|bold|bolder|lighter|\d{3})\s+(\d+(?:\.\d+)?)px\s+([^;"]+)/g,
    (_all, style: string, weight: string, size: string, family: string) =>
      `font-style:${style};font-weight:${weight};font-size:${size}px;font-family:${family.trim()}`,
  );
}

/** resvg's options: DejaVu Sans from its .ttf files (and Pretendard for `hangul`), the system's fonts only when those are missing. */
function resvgOptions(hangul: boolean): import('@resvg/resvg-js').ResvgRenderOptions {
  const fontFiles = chartFontFiles({ hangul });
  return {
    fitTo: { mode: 'original' },
    font: {
      // Without a font file resvg draws no text; the system's fonts are the last resort.
      loadSystemFonts: fontFiles.length === 0,
      fontFiles,
      defaultFontFamily: CHART_FONT_FAMILY,
      sansSerifFamily: CHART_FONT_FAMILY,
    },
  };
}

/** Renders a chart to PNG bytes synchronously: what the chart worker thread runs. */
export function renderChartSync(spec: ChartSpec, size: ChartSize): Buffer {
  const { svg } = chartSvg(spec, size);
  return new (resvg().Resvg)(svg, resvgOptions(hasHangul(svg))).render().asPng();
}

// ---------------------------------------------------------------------------------------------
// Libraries, loaded on first use. ECharts from build/echarts.cjs (scripts/echarts-bundle.ts): one
// minified CommonJS file with only the series, components and renderer these charts use. It loads
// ~4x faster than ECharts' ESM tree and holds about 4 MiB less than its full minified build, which
// holds about 7 MiB less than the readable one.

const load = createRequire(import.meta.url);
/** The ECharts the charts use: what build/echarts.cjs exports. */
type ECharts = Pick<typeof import('echarts'), 'init' | 'setPlatformAPI'>;
/** From src/render and dist/render alike: the repository's (or the image's) build/ folder. */
const ECHARTS_BUNDLE = fileURLToPath(new URL('../../build/echarts.cjs', import.meta.url));
let echartsLib: ECharts | undefined;
let resvgLib: typeof import('@resvg/resvg-js') | undefined;

function echarts(): ECharts {
  if (!echartsLib) {
    if (!existsSync(ECHARTS_BUNDLE)) throw new Error(`${ECHARTS_BUNDLE} is missing: \`npm run build\` makes it`);
    echartsLib = load(ECHARTS_BUNDLE) as ECharts;
    // Server-side ECharts has no canvas to measure text: without real widths, labels overlap and legends spill.
    echartsLib.setPlatformAPI({ measureText: (text: string, font?: string) => ({ width: measureCssFont(text, font) }) });
  }
  return echartsLib;
}

/** Loads ECharts and resvg now rather than on the first chart. */
export function loadChartLibraries(): void {
  echarts();
  resvg();
}

function resvg(): typeof import('@resvg/resvg-js') {
  return (resvgLib ??= load('@resvg/resvg-js') as typeof import('@resvg/resvg-js'));
}
