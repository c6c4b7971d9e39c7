import { describe, expect, it } from 'vitest';
import { SeenIds } from '../../src/discord/replay.js';

describe('SeenIds', () => {
  it('says first once per id, then repeat, within the window', () => {
    let t = 0;
    const seen = new SeenIds(1000, 100, () => t);
    expect(seen.first('a')).toBe(true);
    expect(seen.first('b')).toBe(true);
    t = 999;
    expect(seen.first('a')).toBe(false);
    expect(seen.first('b')).toBe(false);
  });

  it('forgets an id once the window passed', () => {
    let t = 0;
    const seen = new SeenIds(1000, 100, () => t);
    seen.first('a');
    t = 1000;
    expect(seen.first('a')).toBe(true);
    expect(seen.size).toBe(1);
  });

  it.each([1, 10, 1000])('holds at most %i ids however many arrive, dropping the oldest', (max) => {
    const seen = new SeenIds(60_000, max, () => 0);
    for (let i = 0; i < max * 3; i++) expect(seen.first(`id-${i}`)).toBe(true);
    expect(seen.size).toBe(max);
    // The newest is still remembered; the oldest was dropped.
    expect(seen.first(`id-${max * 3 - 1}`)).toBe(false);
    expect(seen.first('id-0')).toBe(true);
  });
});
