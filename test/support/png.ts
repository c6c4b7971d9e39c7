import { PNG } from 'pngjs';

/** Pixels of a PNG within `tolerance` (sum of the channel distances) of the colour `hex` (#rrggbb). */
export function countColor(png: Buffer, hex: string, tolerance = 30): number {
  const img = PNG.sync.read(png);
  const n = Number.parseInt(hex.slice(1), 16);
  let count = 0;
  for (let i = 0; i < img.data.length; i += 4) {
    if (Math.abs(img.data[i]! - ((n >> 16) & 255)) + Math.abs(img.data[i + 1]! - ((n >> 8) & 255)) + Math.abs(img.data[i + 2]! - (n & 255)) <= tolerance)
      count++;
  }
  return count;
}
