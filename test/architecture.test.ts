import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src');

/** Every .ts file below src/, relative to it. */
function sources(dir = SRC, prefix = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path, `${prefix}${name}/`);
    return name.endsWith('.ts') ? [`${prefix}${name}`] : [];
  });
}

describe('the shape of src/', () => {
  it('has no file over 500 lines: a longer one mixes jobs and is split at its seams', () => {
    const long = sources()
      .map((file) => ({ file, lines: readFileSync(join(SRC, file), 'utf8').split('\n').length }))
      .filter((f) => f.lines > 500);
    expect(long).toEqual([]);
  });

  it('has every room and top-level file named in ARCHITECTURE.md', () => {
    const map = readFileSync(join(ROOT, 'ARCHITECTURE.md'), 'utf8');
    const rooms = readdirSync(SRC).map((name) => (statSync(join(SRC, name)).isDirectory() ? `\`${name}/\`` : `\`${name}\``));
    expect(rooms.length).toBeGreaterThan(15);
    expect(rooms.filter((room) => !map.includes(room))).toEqual([]);
  });
});
