import { describe, expect, it } from 'vitest';
import { cellText, codeBlock, fitWidths, renderTable, TABLE_WIDTH, type TableColumn } from '../../src/render/table.js';
import { codePointLength } from '../../src/render/truncate.js';

const COLUMNS: TableColumn[] = [
  { header: 'container', shrink: true },
  { header: 'CPU', align: 'right' },
  { header: 'MEM', align: 'right' },
];

describe('renderTable', () => {
  it('aligns text left and numbers right under a header, columns fitted to the content', () => {
    const table = renderTable(COLUMNS, [
      ['api', '50.0%', '512 MiB'],
      ['db', '25.0%', '1.5 GiB'],
      ['nginx', '5.0%', '24 MiB'],
    ]);
    expect(table.split('\n')).toEqual(['container    CPU      MEM', 'api        50.0%  512 MiB', 'db         25.0%  1.5 GiB', 'nginx       5.0%   24 MiB']);
  });

  it('cuts the name column with … to keep the table phone-wide, never the numbers', () => {
    const long = 'payments-reconciliation-worker-blue-7f9c8d6b5-x2x9z';
    const lines = renderTable(COLUMNS, [[long, '100.0%', '1023 MiB']]).split('\n');
    for (const line of lines) expect(codePointLength(line)).toBeLessThanOrEqual(TABLE_WIDTH);
    expect(lines[1]).toBe('payments-reconciliation-w…  100.0%  1023 MiB');
    expect(codePointLength(lines[1]!)).toBe(TABLE_WIDTH);
  });

  it('shrinks the widest shrinkable column first, down to its floor only', () => {
    const cols: TableColumn[] = [
      { header: 'a', shrink: true },
      { header: 'b', shrink: true },
      { header: 'v', align: 'right' },
    ];
    const widths = fitWidths(cols, [['x'.repeat(30), 'y'.repeat(12), '1']], { maxWidth: 30 });
    expect(widths).toEqual([13, 12, 1]);
    const floor = fitWidths(cols, [['x'.repeat(30), 'y'.repeat(30), '1']], { maxWidth: 10, minShrinkWidth: 8 });
    expect(floor).toEqual([8, 8, 1]);
  });

  it('keeps a table wider than the target when nothing may shrink', () => {
    const cols: TableColumn[] = [{ header: 'name' }, { header: 'v', align: 'right' }];
    expect(renderTable(cols, [['n'.repeat(60), '1']], { maxWidth: 40 }).split('\n')[1]).toBe(`${'n'.repeat(60)}  1`);
  });

  it('leaves no trailing spaces and fills missing cells', () => {
    const table = renderTable(COLUMNS, [['api']]);
    expect(table.split('\n').every((l) => l === l.trimEnd())).toBe(true);
    expect(table.split('\n')[1]).toBe('api');
  });

  it.each([
    ['a backtick run that would close the block', 'a```b', "a'''b"],
    ['a newline that would break the row', 'one\ntwo', 'one two'],
    ['a tab', 'a\tb', 'a b'],
  ])('neutralises %s', (_name, raw, want) => {
    expect(cellText(raw)).toBe(want);
    expect(renderTable([{ header: 'h' }], [[raw]]).split('\n')).toEqual(['h', want]);
  });

  it('counts code points, so an emoji does not throw alignment off by a UTF-16 unit', () => {
    const lines = renderTable(
      [{ header: 'n' }, { header: 'v', align: 'right' }],
      [
        ['🔥x', '1'],
        ['ab', '22'],
      ],
    ).split('\n');
    expect(lines).toEqual(['n    v', '🔥x   1', 'ab  22']);
  });
});

describe('codeBlock', () => {
  it('fences the text on its own lines', () => {
    expect(codeBlock('a\nb')).toBe('```\na\nb\n```');
  });
});
