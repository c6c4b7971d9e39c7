import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Colours of a chart made to sit in a Discord embed in the dark theme: the background is the
 * embed's own (#2b2d31), text is light, series colours are bright and never red or green (those
 * mean threshold and resolved).
 */
export const CHART_COLORS = {
  background: '#2b2d31',
  text: '#f2f3f5',
  muted: '#b5bac1',
  gridLine: '#3f4147',
  axisLine: '#6d6f78',
  /** The alert's threshold: a dashed red line. */
  threshold: '#f23f43',
  /** When the alert started firing. */
  firing: '#e3e5e8',
  /** When it resolved. */
  resolved: '#23a55a',
  /** One colour per series, in order (at most five series are drawn). */
  series: ['#4ea8ff', '#ffb224', '#d77cff', '#2dd4bf', '#ff7eb6'],
} as const;

/** The font every chart text is set in (resvg draws no text at all without a font file). */
export const CHART_FONT_FAMILY = 'DejaVu Sans';

/** Sizes for a chart `width` pixels wide: fonts big enough to read on a phone, where Discord shows it ~400 px wide. */
export function chartScale(width: number): { font: number; titleFont: number; line: number; marker: number; pad: number } {
  const k = width / 800;
  return {
    font: Math.round(22 * k),
    titleFont: Math.round(24 * k),
    line: Math.max(2, Math.round(4 * k)),
    marker: Math.max(2, Math.round(3 * k)),
    pad: Math.round(16 * k),
  };
}

/** The npm package that ships DejaVu as .ttf files (resvg reads TrueType/OpenType, not woff2). */
export const FONT_PACKAGE = 'dejavu-fonts-ttf';
/** Debian's fonts-dejavu-core, used when the npm package is not installed. */
const SYSTEM_FONT_DIR = '/usr/share/fonts/truetype/dejavu';
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'];

/**
 * The npm package whose OpenType files draw Hangul (Pretendard, SIL Open Font License): DejaVu has
 * none, and a Korean container or alert name would show as empty boxes.
 */
export const KOREAN_FONT_PACKAGE = 'pretendard';
const KOREAN_FONT_FILES = ['Pretendard-Regular.otf', 'Pretendard-Bold.otf'];

/** Hangul syllables, jamo and compatibility jamo: text with any of them needs the Korean font. */
const HANGUL = /[\u1100-\u11FF\u3130-\u318F\uA960-\uA97F\uAC00-\uD7A3\uD7B0-\uD7FF]/u;

/** Whether `text` (a chart's SVG, a label) has Hangul in it. */
export function hasHangul(text: string): boolean {
  return HANGUL.test(text);
}

let cachedFonts: string[] | undefined;
let cachedKorean: string[] | undefined;

/**
 * Paths of the DejaVu Sans regular and bold .ttf files: from the `dejavu-fonts-ttf` package when
 * installed (the same everywhere, Docker included), else from Debian's fonts-dejavu-core; empty
 * when neither is there (charts then have no text). With `hangul`, Pretendard's regular and bold
 * after them: resvg falls back to it for the characters DejaVu lacks. Only charts with Hangul
 * load it (two more font files to read for every chart otherwise).
 */
export function chartFontFiles(opts: { hangul?: boolean } = {}): string[] {
  cachedFonts ??= dejavuFiles();
  if (!opts.hangul) return cachedFonts;
  cachedKorean ??= koreanFiles();
  return [...cachedFonts, ...cachedKorean];
}

function dejavuFiles(): string[] {
  const dirs = [packageDir(FONT_PACKAGE, 'ttf'), SYSTEM_FONT_DIR].filter((d): d is string => d !== undefined);
  for (const dir of dirs) {
    const files = FONT_FILES.map((f) => join(dir, f));
    if (files.every((f) => existsSync(f))) return files;
  }
  return [];
}

function koreanFiles(): string[] {
  const dir = packageDir(KOREAN_FONT_PACKAGE, 'dist/public/static');
  const files = dir ? KOREAN_FONT_FILES.map((f) => join(dir, f)) : [];
  return files.length > 0 && files.every((f) => existsSync(f)) ? files : [];
}

function packageDir(name: string, sub: string): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve(`${name}/package.json`)), sub);
  } catch {
    return undefined;
  }
}

/** Advance widths of DejaVu Sans for ' '..'~', in thousandths of an em (from the font's hmtx table). */
const REGULAR_ASCII =
  '318 401 460 838 636 950 780 275 390 390 500 838 318 361 318 337 636 636 636 636 636 636 636 636 636 636 337 337 838 838 838 531 1000 684 686 698 770 632 575 775 752 295 295 656 557 863 748 787 603 787 695 635 611 732 684 989 685 611 685 390 337 390 838 500 500 613 635 550 635 615 352 635 634 278 278 579 278 974 634 612 635 635 411 521 392 634 592 818 592 592 525 636 337 636 838';
/** The same for DejaVu Sans Bold. */
const BOLD_ASCII =
  '348 456 521 838 696 1002 872 306 457 457 523 838 380 415 380 365 696 696 696 696 696 696 696 696 696 696 400 400 838 838 838 580 1000 774 762 734 830 683 683 821 837 372 372 775 637 995 837 850 733 850 770 720 682 812 774 1103 771 724 725 457 365 457 838 500 500 675 716 593 716 678 435 716 712 343 343 665 343 1042 712 687 716 716 493 595 478 712 652 924 645 652 582 712 365 712 838';
const REGULAR = REGULAR_ASCII.split(' ').map(Number);
const BOLD = BOLD_ASCII.split(' ').map(Number);
/** Characters outside ASCII that charts use, and the width assumed for any other. */
const OTHER: Record<string, number> = { '…': 1000, '→': 838, '·': 318, µ: 636, '≥': 838, '≤': 838, '≠': 838 };
const DEFAULT_WIDTH = 640;
/** A Hangul syllable or jamo in Pretendard (all of one width; measured from resvg's drawing of them). */
const HANGUL_WIDTH = 870;

/**
 * Width in pixels of `text` set in DejaVu Sans at `fontSize` px: ECharts lays out labels, legends
 * and overlaps with it (server-side it has no canvas to measure with).
 */
export function textWidth(text: string, fontSize: number, bold = false): number {
  const table = bold ? BOLD : REGULAR;
  let units = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    units += code >= 32 && code <= 126 ? table[code - 32]! : (OTHER[ch] ?? (HANGUL.test(ch) ? HANGUL_WIDTH : DEFAULT_WIDTH));
  }
  return (units * fontSize) / 1000;
}

/** The width of text in a CSS font string as ECharts passes it ("bold 24px DejaVu Sans"). */
export function measureCssFont(text: string, font: string | undefined): number {
  const size = /(\d+(?:\.\d+)?)px/.exec(font ?? '');
  const bold = /\bbold(?:er)?\b|\b[6-9]00\b/.test(font ?? '');
  return textWidth(text, size ? Number(size[1]) : 12, bold);
}
