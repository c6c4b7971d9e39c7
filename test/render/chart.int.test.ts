// Chart rendering: pure layout helpers, charts of series the real Prometheus returns (checked pixel
// by pixel), and one golden image per chart type.
//
// Golden images live in test/render/golden/ and are rendered from FIXED synthetic data, so they are
// deterministic. After an intended change to the look of a chart, regenerate them with
//   UPDATE_GOLDEN=1 npx vitest run test/render/chart.int.test.ts
// and look at the new PNGs before committing them.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrometheusClient, type PrometheusClient, type RangeSeries } from '../../src/queries/prometheus.js';
import {
  axisValue,
  binaryTicks,
  chartLines,
  chartOption,
  chartSvg,
  dropClipPaths,
  expandFontShorthand,
  legendNames,
  renderChart,
  thresholdText,
  timeLabel,
  topByPeak,
  withinBudget,
  type BarChartSpec,
  type ChartSize,
  type TimeChartSpec,
} from '../../src/render/chart.js';
import { CHART_COLORS, chartFontFiles, hasHangul, textWidth } from '../../src/render/chart-theme.js';
import { startNodeExporter, startPrometheus, type NodeExporterHandle, type PrometheusHandle } from '../support/procs.js';

const GOLDEN_DIR = fileURLToPath(new URL('./golden/', import.meta.url));
const UPDATE_GOLDEN = process.env.UPDATE_GOLDEN === '1';
const SIZE: ChartSize = { width: 800, height: 400 };

// ---------------------------------------------------------------------------------------------
// Pixel helpers

type Rgb = [number, number, number];

function rgb(hex: string): Rgb {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function decode(png: Buffer): PNG {
  return PNG.sync.read(png);
}

function pixel(img: PNG, x: number, y: number): Rgb {
  const i = (Math.round(y) * img.width + Math.round(x)) * 4;
  return [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
}

function close(a: Rgb, b: Rgb, tolerance = 40): boolean {
  return Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) + Math.abs(a[2] - b[2]) <= tolerance;
}

/** Whether `color` is drawn within `radius` pixels of (x, y). */
function colorNear(img: PNG, x: number, y: number, color: string, radius = 3): boolean {
  const want = rgb(color);
  for (let dy = -radius; dy <= radius; dy++) {
    for (let dx = -radius; dx <= radius; dx++) {
      const px = Math.round(x) + dx;
      const py = Math.round(y) + dy;
      if (px >= 0 && py >= 0 && px < img.width && py < img.height && close(pixel(img, px, py), want)) return true;
    }
  }
  return false;
}

/** Share of the points where a line's colour is drawn at the point's pixel. */
function shareDrawn(img: PNG, pixels: readonly [number, number][], color: string): number {
  return pixels.filter(([x, y]) => colorNear(img, x, y, color)).length / pixels.length;
}

/** Compares a rendered PNG with test/render/golden/<name> (or writes it with UPDATE_GOLDEN=1); returns the share of pixels that differ. */
function goldenDiff(name: string, png: Buffer): number {
  const path = `${GOLDEN_DIR}${name}`;
  if (UPDATE_GOLDEN || !existsSync(path)) {
    if (!UPDATE_GOLDEN) throw new Error(`golden ${name} is missing: run with UPDATE_GOLDEN=1 to create it`);
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(path, png);
  }
  const expected = decode(readFileSync(path));
  const actual = decode(png);
  expect([actual.width, actual.height]).toEqual([expected.width, expected.height]);
  const differing = pixelmatch(expected.data, actual.data, undefined, actual.width, actual.height, { threshold: 0.1 });
  return differing / (actual.width * actual.height);
}

// ---------------------------------------------------------------------------------------------
// Fixed synthetic data for the golden images

const T0 = Date.UTC(2026, 10, 21, 8, 30);
const STEP = 15_000;

function wave(labels: Record<string, string>, base: number, amplitude: number, phase: number, jumpAt?: number): RangeSeries {
  return {
    labels,
    points: Array.from({ length: 161 }, (_, i) => ({
      at: new Date(T0 + i * STEP),
      value: jumpAt !== undefined && i >= jumpAt ? 88 + 6 * Math.sin(i / 4) : base + amplitude * Math.sin(i / 9 + phase),
    })),
  };
}

const alertSpec = (): TimeChartSpec => ({
  kind: 'time',
  title: '100 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[1m])) * 100',
  lines: chartLines([wave({ instance: 'db-1:9100', job: 'node' }, 35, 8, 0, 90), wave({ instance: 'db-2:9100', job: 'node' }, 30, 6, 2)]),
  unit: 'percent',
  start: new Date(T0),
  end: new Date(T0 + 160 * STEP),
  threshold: { op: '>', value: 80 },
  firingAt: new Date(T0 + 92 * STEP),
  resolvedAt: new Date(T0 + 150 * STEP),
});

const querySpec = (): TimeChartSpec => ({
  kind: 'time',
  title: 'node_memory_Active_bytes',
  lines: chartLines([0, 1, 2, 3, 4, 5].map((i) => wave({ __name__: 'node_memory_Active_bytes', instance: `node-${i}:9100` }, (2 + i) * 2 ** 30, 2 ** 28, i))),
  unit: 'bytes',
  start: new Date(T0),
  end: new Date(T0 + 160 * STEP),
});

/** Korean names in the title and the legend (a Korean team's containers), drawn with Pretendard. */
const hangulSpec = (): TimeChartSpec => ({
  kind: 'time',
  title: '메모리 사용량: 결제 서비스',
  lines: chartLines([wave({ container: '결제-서비스', job: 'cadvisor' }, 62, 6, 0, 100), wave({ container: '주문-처리기', job: 'cadvisor' }, 40, 5, 2)]),
  unit: 'percent',
  start: new Date(T0),
  end: new Date(T0 + 160 * STEP),
});

const barSpec = (): BarChartSpec => ({
  kind: 'bar',
  title: 'Top 6 containers by CPU',
  bars: [
    { label: 'api', value: 93.2 },
    { label: 'postgres', value: 45.1 },
    { label: 'grafana', value: 12.3 },
    { label: 'loki', value: 5.5 },
    { label: 'prometheus-with-a-very-long-container-name', value: 3.2 },
    { label: 'alloy', value: 0.4 },
  ],
  unit: 'percent',
});

// ---------------------------------------------------------------------------------------------

describe('chart helpers', () => {
  it.each([
    { span: 40_000, at: Date.UTC(2026, 10, 21, 10, 36, 20), want: '10:36:20' },
    { span: 30 * 60_000, at: Date.UTC(2026, 10, 21, 10, 35), want: '10:35' },
    { span: 3 * 86_400_000, at: Date.UTC(2026, 10, 21, 10, 35), want: '11-21 10:35' },
  ])('labels the time axis of a $span ms window with $want', ({ span, at, want }) => {
    expect(timeLabel(span)(at)).toBe(want);
  });

  const series = (peak: number, labels: Record<string, string> = {}): RangeSeries => ({
    labels,
    points: [
      { at: new Date(T0), value: 1 },
      { at: new Date(T0 + STEP), value: peak },
    ],
  });

  it('keeps the five series with the highest peaks, highest first, and drops series with no number', () => {
    const all = [1, 7, 3, 9, 5, 8, 2].map((p) => series(p, { id: String(p) }));
    const onlyNaN: RangeSeries = { labels: { id: 'nan' }, points: [{ at: new Date(T0), value: NaN }] };
    expect(topByPeak([...all, onlyNaN]).map((s) => s.labels.id)).toEqual(['9', '8', '7', '5', '3']);
  });

  it.each([
    {
      name: 'the value of the one label that differs',
      sets: [
        { __name__: 'up', job: 'node', instance: 'a' },
        { __name__: 'up', job: 'node', instance: 'b' },
      ],
      want: ['a', 'b'],
    },
    { name: 'label and value when the one label that differs has numbers for values', sets: [{ cpu: '0' }, { cpu: '1' }], want: ['cpu=0', 'cpu=1'] },
    {
      name: 'the labels that differ, when several do',
      sets: [
        { cpu: '0', mode: 'user', job: 'node' },
        { cpu: '1', mode: 'idle', job: 'node' },
      ],
      want: ['cpu=0 mode=user', 'cpu=1 mode=idle'],
    },
    { name: 'a lone series by its labels, without the metric name', sets: [{ __name__: 'node_load1', instance: 'db:9100' }], want: ['instance=db:9100'] },
    { name: 'a lone bare series by its metric name', sets: [{ __name__: 'node_load1' }], want: ['node_load1'] },
    { name: 'series whose labels are all alike by the metric name', sets: [{ __name__: 'x' }, { __name__: 'x' }], want: ['x', 'x'] },
  ])('names legend entries by $name', ({ sets, want }) => {
    expect(legendNames(sets)).toEqual(want);
  });

  it('cuts a legend entry to 40 characters', () => {
    const [name] = legendNames([{ pod: 'p'.repeat(80) }]);
    expect([...name!].length).toBe(40);
    expect(name!.endsWith('…')).toBe(true);
  });

  it.each([
    [100, 'percent', '100%'],
    [12.5, 'percent', '12.5%'],
    [2 ** 30, 'bytes', '1 GiB'],
    [1.05, 'plain', '1.05'],
    [0.5, 'seconds', '500ms'],
  ] as const)('labels the tick %d (%s) as %s', (value, unit, want) => {
    expect(axisValue(value, unit)).toBe(want);
  });

  it.each([
    { name: 'GiB values', values: [1.86 * 2 ** 30, 7.45 * 2 ** 30], want: { min: 0, max: 8 * 2 ** 30, interval: 2 * 2 ** 30 } },
    { name: 'MiB values', values: [300 * 2 ** 20, 700 * 2 ** 20], want: { min: 200 * 2 ** 20, max: 800 * 2 ** 20, interval: 100 * 2 ** 20 } },
    { name: 'one constant value', values: [16 * 2 ** 30], want: { min: 15.75 * 2 ** 30, max: 16.25 * 2 ** 30, interval: 2 ** 28 } },
  ])('puts byte axes on whole binary units ($name)', ({ values, want }) => {
    expect(binaryTicks(values)).toEqual(want);
  });

  it('writes the threshold with its comparison and unit', () => {
    expect(thresholdText({ op: '>=', value: 80 }, 'percent')).toBe('>= 80%');
    expect(thresholdText({ op: '<', value: 0.25 }, 'ratio')).toBe('< 25%');
  });

  it('removes clip-path references and clipPath definitions, and nothing else', () => {
    const svg =
      '<svg><g clip-path="url(#zr0-c1)">\n<path d="M1 2L3 4"></path>\n</g>\n<defs>\n<clipPath id="zr0-c1">\n<path d="M0 0l9 0Z"></path>\n</clipPath>\n</defs></svg>';
    expect(dropClipPaths(svg)).toBe('<svg><g>\n<path d="M1 2L3 4"></path>\n</g>\n<defs>\n</defs></svg>');
  });

  it('turns the font shorthand ECharts writes into longhands resvg reads', () => {
    const svg = '<text style="font: normal bold 22px DejaVu Sans" x="1">08:30</text>';
    expect(expandFontShorthand(svg)).toBe('<text style="font-style:normal;font-weight:bold;font-size:22px;font-family:DejaVu Sans" x="1">08:30</text>');
  });

  it('measures text with DejaVu Sans metrics: digits share one width, bold is wider', () => {
    expect(textWidth('1111', 20)).toBeCloseTo(textWidth('8888', 20));
    expect(textWidth('W', 20)).toBeGreaterThan(textWidth('i', 20) * 3);
    expect(textWidth('api', 22, true)).toBeGreaterThan(textWidth('api', 22));
  });

  it('draws the threshold, the firing band and the resolve marker on an alert chart', () => {
    const { option } = chartOption(alertSpec(), SIZE);
    const markers = (option.series as Array<{ markLine?: { data: unknown[] }; markArea?: { data: unknown[][] } }>).at(-1)!;
    expect(JSON.stringify(markers.markLine!.data)).toContain('"formatter":"> 80%"');
    expect(markers.markLine!.data).toHaveLength(3);
    expect(JSON.stringify(markers.markArea!.data)).toContain('firing → resolved');
  });

  it('plots only the points inside the window, and writes an SVG without clip paths (they cost resvg a mask each)', () => {
    const spec = alertSpec();
    const line = spec.lines[0]!;
    const outside = [{ at: new Date(T0 - STEP), value: 500 }, ...line.points, { at: new Date(T0 + 161 * STEP), value: -500 }];
    const widened: TimeChartSpec = { ...spec, lines: [{ ...line, points: outside }, ...spec.lines.slice(1)] };
    const { option } = chartOption(widened, SIZE);
    const data = (option.series as Array<{ data: [number, number | null][] }>)[0]!.data;
    expect(data).toHaveLength(line.points.length);
    expect(data.map(([t]) => t)).toEqual(line.points.map((p) => p.at.getTime()));
    const { svg } = chartSvg(widened, SIZE);
    expect(svg).toContain('<path d="M'); // the lines are there
    expect(svg).not.toMatch(/clip-?path/i);
  });

  it('makes a bar chart taller than the default size when there are more bars than fit', () => {
    const bars = Array.from({ length: 25 }, (_, i) => ({ label: `c${i}`, value: 25 - i }));
    expect(chartOption({ kind: 'bar', title: 't', bars, unit: 'percent' }, SIZE).size.height).toBeGreaterThan(SIZE.height);
    expect(chartOption(barSpec(), SIZE).size).toEqual(SIZE);
  });
});

describe('withinBudget', () => {
  it('returns what the work returned when it finishes in time', async () => {
    expect(await withinBudget(1000, async () => 42)).toEqual({ ok: true, value: 42 });
  });

  it('gives up at the budget even when the work ignores the abort signal, and aborts the signal', async () => {
    let aborted = false;
    const result = await withinBudget(50, (signal) => {
      signal.addEventListener('abort', () => (aborted = true));
      return new Promise<never>(() => undefined);
    });
    expect(result).toEqual({ ok: false, overBudget: true });
    expect(aborted).toBe(true);
  });

  it('reports the error of work that failed', async () => {
    const result = await withinBudget(1000, async () => {
      throw new Error('boom');
    });
    expect(result).toMatchObject({ ok: false, overBudget: false, error: new Error('boom') });
  });
});

describe('fonts', () => {
  it('finds DejaVu Sans regular and bold .ttf files (resvg draws no text without them)', () => {
    const files = chartFontFiles();
    expect(files).toHaveLength(2);
    expect(files.map((f) => f.split('/').at(-1))).toEqual(['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf']);
  });

  it('adds Pretendard after DejaVu for a chart with Hangul in it, and only then', () => {
    expect(chartFontFiles({ hangul: true }).map((f) => f.split('/').at(-1))).toEqual([
      'DejaVuSans.ttf',
      'DejaVuSans-Bold.ttf',
      'Pretendard-Regular.otf',
      'Pretendard-Bold.otf',
    ]);
    expect(hasHangul('결제-서비스')).toBe(true);
    expect(hasHangul('payment-service · 10 GiB → ≥ 5')).toBe(false);
  });

  it.each(['결제-서비스 메모리', '메모리 사용량: 결제 서비스', 'api-서버 CPU'])(
    'lays out %s about as wide as resvg draws it (within 8 percent: the drawn box leaves out the side bearings), so legends and titles are placed right',
    (text) => {
      const { Resvg } = createRequire(import.meta.url)('@resvg/resvg-js') as typeof import('@resvg/resvg-js');
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="3000" height="200"><text x="0" y="150" font-family="DejaVu Sans" font-size="100">${text}</text></svg>`;
      const drawn = new Resvg(svg, {
        font: { loadSystemFonts: false, fontFiles: chartFontFiles({ hangul: true }), defaultFontFamily: 'DejaVu Sans' },
      }).getBBox()!.width;
      expect(Math.abs(textWidth(text, 100) - drawn) / drawn).toBeLessThan(0.08);
    },
  );
});

describe('charts of series the real Prometheus returns', () => {
  let nodeExporter: NodeExporterHandle;
  let prometheus: PrometheusHandle;
  let client: PrometheusClient;

  beforeAll(async () => {
    nodeExporter = await startNodeExporter();
    prometheus = await startPrometheus({ scrapeConfigs: [{ job: 'node', targets: [`127.0.0.1:${nodeExporter.port}`] }] });
    client = createPrometheusClient({ url: prometheus.url, timeoutMs: 5000 });
    await prometheus.waitFor('count_over_time(node_memory_MemAvailable_bytes[1m]) >= 4', 30_000);
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await nodeExporter?.stop();
  });

  async function memorySeries(): Promise<{ series: RangeSeries[]; start: Date; end: Date }> {
    const end = new Date();
    const start = new Date(end.getTime() - 60_000);
    const series = await client.queryRange('{__name__=~"node_memory_(MemTotal|MemAvailable)_bytes"}', start, end, 1);
    return { series, start, end };
  }

  it('draws each series in its own colour where its points are, on the Discord dark background', async () => {
    const { series, start, end } = await memorySeries();
    expect(series).toHaveLength(2);
    const lines = chartLines(series);
    const threshold = (lines[0]!.points[0]!.value + lines[1]!.points[0]!.value) / 2;
    const spec: TimeChartSpec = { kind: 'time', title: 'node memory', lines, unit: 'bytes', start, end, threshold: { op: '<', value: threshold } };
    const png = await renderChart(spec, SIZE);
    const img = decode(png);
    expect([img.width, img.height]).toEqual([SIZE.width, SIZE.height]);

    // Where ECharts put each point; the test checks the PNG has that line's colour there.
    const located = lines.map((l) => l.points.map((p) => [p.at.getTime(), p.value] as const));
    const { pixels } = chartSvg(spec, SIZE, located.flat());
    let offset = 0;
    lines.forEach((line, i) => {
      const own = pixels.slice(offset, (offset += line.points.length));
      expect(shareDrawn(img, own, CHART_COLORS.series[i]!), `line ${i} (${line.name})`).toBeGreaterThan(0.9);
      // …and not another line's colour (the two lines lie far apart).
      expect(shareDrawn(img, own, CHART_COLORS.series[1 - i]!)).toBeLessThan(0.1);
    });

    // The threshold's dashed red line runs across the plot between the lines.
    const [[x0, ty], [x1]] = chartSvg(spec, SIZE, [
      [start.getTime(), threshold],
      [end.getTime(), threshold],
    ]).pixels as [[number, number], [number, number]];
    const along = Array.from({ length: 20 }, (_, k) => [x0 + ((x1 - x0) * (k + 0.5)) / 20, ty] as [number, number]);
    expect(shareDrawn(img, along, CHART_COLORS.threshold)).toBeGreaterThan(0.5);

    // Corners are the embed background; the legend names the series by what tells them apart.
    for (const [x, y] of [
      [1, 1],
      [SIZE.width - 2, SIZE.height - 2],
    ] as const)
      expect(pixel(img, x, y)).toEqual(rgb(CHART_COLORS.background));
    expect(lines.map((l) => l.name).sort()).toEqual(['node_memory_MemAvailable_bytes', 'node_memory_MemTotal_bytes']);
  });

  it('draws the axis text in a light colour (a font is loaded, so text is not dropped)', async () => {
    const { series, start, end } = await memorySeries();
    const png = await renderChart({ kind: 'time', title: 'node memory', lines: chartLines(series), unit: 'bytes', start, end }, SIZE);
    const img = decode(png);
    // The title sits in the top-left band: bright text pixels must be there.
    let bright = 0;
    for (let y = 5; y < 45; y++) for (let x = 10; x < 300; x++) if (close(pixel(img, x, y), rgb(CHART_COLORS.text), 60)) bright++;
    expect(bright).toBeGreaterThan(200);
  });

  it('draws a bar per container in the first series colour, as long as its value', async () => {
    const bars = barSpec();
    const png = await renderChart(bars, SIZE);
    const img = decode(png);
    const { pixels } = chartSvg(
      bars,
      SIZE,
      bars.bars.map((b, i) => [b.value / 2, i] as const),
    );
    for (const [x, y] of pixels) expect(colorNear(img, x, y, CHART_COLORS.series[0], 1)).toBe(true);
    // Past the end of the biggest bar there is no bar colour.
    const [[xEnd, yEnd]] = chartSvg(bars, SIZE, [[bars.bars[0]!.value * 1.02, 0]]).pixels as [[number, number]];
    expect(colorNear(img, xEnd + 3, yEnd, CHART_COLORS.series[0], 1)).toBe(false);
  });
});

describe('time zone', () => {
  it('labels the time axis in the configured zone and names it in the corner (Asia/Seoul: KST)', () => {
    const utc = chartSvg(alertSpec(), SIZE).svg;
    const seoul = chartSvg({ ...alertSpec(), timeZone: 'Asia/Seoul' }, SIZE).svg;
    // The window starts at 08:30 UTC, 17:30 in Seoul.
    expect(utc).toContain('>08:30<');
    expect(utc).toContain('>UTC<');
    expect(seoul).toContain('>17:30<');
    expect(seoul).toContain('>KST<');
    expect(seoul).not.toContain('>08:30<');
  });
});

describe('golden images (fixed synthetic data; regenerate with UPDATE_GOLDEN=1)', () => {
  it.each([
    { name: 'alert-chart.png', spec: alertSpec },
    { name: 'query-chart.png', spec: querySpec },
    { name: 'top-chart.png', spec: barSpec },
    { name: 'hangul-chart.png', spec: hangulSpec },
  ])('renders $name like its golden image', async ({ name, spec }) => {
    const png = await renderChart(spec(), SIZE);
    // Anti-aliasing may differ by a few pixels between resvg builds and font files; a real change moves far more.
    expect(goldenDiff(name, png)).toBeLessThan(0.005);
  });
});
