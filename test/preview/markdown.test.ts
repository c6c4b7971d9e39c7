import { describe, expect, it } from 'vitest';
import { escapeMarkdown } from '../../src/render/format.js';
import { discordMarkdown, escapeHtml, inlineMarkdown } from '../../src/preview/markdown.js';

describe('inlineMarkdown', () => {
  it.each([
    ['bold', '**disk** full', '<strong>disk</strong> full'],
    ['italics with stars and underscores', '*now* and _then_', '<em>now</em> and <em>then</em>'],
    ['underline and strikethrough', '__this__ ~~that~~', '<u>this</u> <s>that</s>'],
    ['a spoiler', '||secret||', '<span class="spoiler">secret</span>'],
    ['a code span, with no markup inside', 'run `a **b** <c>`', 'run <code>a **b** &lt;c&gt;</code>'],
    ['a double-backtick code span holding a backtick', '``a`b``', '<code>a`b</code>'],
    ['an escaped star stays a star', '\\*not italic\\*', '*not italic*'],
    ['escaped backticks are not a code span', 'from \\`vigil test-alert\\`', 'from `vigil test-alert`'],
    ['a snake_case name keeps its underscores', 'node_cpu_seconds_total', 'node_cpu_seconds_total'],
    [
      'a masked link',
      '[Grafana](https://grafana.example.org/d/x)',
      '<a href="https://grafana.example.org/d/x" rel="noreferrer noopener" target="_blank">Grafana</a>',
    ],
    [
      'a bare link',
      'see https://example.org/a_b_c.',
      'see <a href="https://example.org/a_b_c" rel="noreferrer noopener" target="_blank">https://example.org/a_b_c</a>.',
    ],
    ['a role mention', 'paging <@&333333333333333333>', 'paging <span class="mention">@role-3333</span>'],
  ])('renders %s', (_name, input, html) => {
    expect(inlineMarkdown(input)).toBe(html);
  });

  it('keeps a code span inside a link label, and never a held piece in the address', () => {
    expect(inlineMarkdown('[`api` logs](https://grafana.example.org/explore)')).toBe(
      '<a href="https://grafana.example.org/explore" rel="noreferrer noopener" target="_blank"><code>api</code> logs</a>',
    );
    expect(inlineMarkdown('see <https://a.example/`x`>')).not.toContain('\u0000');
    expect(inlineMarkdown('[**bold** https://b.example](https://a.example)')).toBe(
      '<a href="https://a.example" rel="noreferrer noopener" target="_blank"><strong>bold</strong> https://b.example</a>',
    );
  });

  it("renders a Discord timestamp as a <time> the page puts in the reader's zone", () => {
    expect(inlineMarkdown('at <t:1763715085:R>')).toBe('at <time class="ts" datetime="2025-11-21T08:51:25.000Z" data-style="R">2025-11-21 08:51 UTC</time>');
  });

  it.each([
    ['an element', '<img src=x onerror=alert(1)>'],
    ['a javascript: link', '[click](javascript:alert(1))'],
    ['an attribute break-out in a link', '[x](https://a.example/"onmouseover="alert(1))'],
    ['a NUL that mimics a held piece', 'a\u00000\u0000b'],
  ])('never lets %s through as markup', (_name, input) => {
    const html = inlineMarkdown(input);
    expect(html).not.toMatch(/<img|<script|href="javascript|"onmouseover/i);
    expect(html).not.toContain('\u0000');
  });

  it('shows whatever escapeMarkdown escaped exactly as it was written', () => {
    const label = 'a*b_c`d~e|f>g<h[i]j\\k';
    expect(inlineMarkdown(escapeMarkdown(label))).toBe(escapeHtml(label));
  });
});

describe('discordMarkdown', () => {
  it('keeps a code block verbatim, with its markup and HTML escaped', () => {
    expect(discordMarkdown('logs:\n```\nERROR **boom** <b>\n```')).toBe('logs:<pre><code>ERROR **boom** &lt;b&gt;</code></pre>');
  });

  it.each([
    ['a heading', '## Disk', '<h2>Disk</h2>'],
    ['subtext', '-# chart skipped', '<div class="subtext">chart skipped</div>'],
    ['a quote', '> quoted\n> twice', '<blockquote>quoted<br>twice</blockquote>'],
    ['a list item', '- one', '<li style="margin-left:1em">one</li>'],
    ['plain lines', 'one\ntwo', 'one<br>two'],
  ])('renders %s', (_name, input, html) => {
    expect(discordMarkdown(input)).toBe(html);
  });
});
