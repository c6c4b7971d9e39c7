/**
 * Discord's markdown, as the client shows it, turned into safe HTML for the preview page: every
 * character of the input is escaped; only the markup below becomes elements. Covers what Vigil
 * writes (https://support.discord.com/hc/en-us/articles/210298617): code blocks and spans, bold,
 * italics, underline, strikethrough, spoilers, masked and bare links, headings, `-#` subtext,
 * quotes, lists, `<t:…>` timestamps and mentions, and backslash escapes.
 */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** Discord's timestamp styles, as `Intl.DateTimeFormat` options (the page's script formats them in the reader's zone). */
const STYLES = new Set(['t', 'T', 'd', 'D', 'f', 'F', 'R']);

/** `<time>` for `<t:unix:style>`: UTC text until the page's script puts it in the reader's own zone, as Discord does. */
function timestamp(unix: number, style: string): string {
  const date = new Date(unix * 1000);
  const iso = Number.isFinite(date.getTime()) ? date.toISOString() : '';
  const text = iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : 'Invalid Date';
  return `<time class="ts" datetime="${iso}" data-style="${style}">${text}</time>`;
}

/** Characters a backslash keeps literal: ASCII punctuation, as in Discord's (and CommonMark's) markdown. */
const ESCAPABLE = /^[!-/:-@[-`{-~]$/;

/** Inline markup on one stretch of text (no code blocks in it). */
export function inlineMarkdown(text: string): string {
  const held: string[] = [];
  const hold = (html: string) => `\u0000${held.push(html) - 1}\u0000`;
  // NUL marks held pieces below; it has no business in a message anyway.
  text = text.replace(/\u0000/g, '');
  // Backslash escapes and code spans, left to right: `\`` is a literal backtick, and nothing inside a code span is markup.
  let s = '';
  for (let i = 0; i < text.length;) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length && ESCAPABLE.test(text[i + 1]!)) {
      s += hold(escapeHtml(text[i + 1]!));
      i += 2;
      continue;
    }
    if (c === '`') {
      let ticks = 1;
      while (text[i + ticks] === '`') ticks++;
      const fence = '`'.repeat(ticks);
      const end = text.indexOf(fence, i + ticks);
      if (end > i + ticks && text[end + ticks] !== '`') {
        s += hold(`<code>${escapeHtml(text.slice(i + ticks, end))}</code>`);
        i = end + ticks;
        continue;
      }
      s += fence;
      i += ticks;
      continue;
    }
    s += c;
    i++;
  }
  s = s
    .replace(/<t:(-?\d{1,13})(?::([tTdDfFR]))?>/g, (_m, unix: string, style: string | undefined) =>
      hold(timestamp(Number(unix), style && STYLES.has(style) ? style : 'f')),
    )
    .replace(/<@&(\d{17,20})>/g, (_m, id: string) => hold(`<span class="mention">@role-${id.slice(-4)}</span>`))
    .replace(/<@!?(\d{17,20})>/g, (_m, id: string) => hold(`<span class="mention">@user-${id.slice(-4)}</span>`))
    .replace(/<#(\d{17,20})>/g, (_m, id: string) => hold(`<span class="mention">#channel-${id.slice(-4)}</span>`))
    .replace(/<a?:(\w{2,32}):\d{17,20}>/g, (_m, name: string) => hold(`:${escapeHtml(name)}:`))
    // Masked links: the label keeps its own markup (and the pieces already held in it); only http(s) targets, never a held piece, become links.
    .replace(/\[([^\]\n]{1,256})\]\(<?(https?:\/\/[^\s)>\u0000]+)>?\)/g, (_m, label: string, url: string) =>
      hold(`<a href="${escapeHtml(url)}" rel="noreferrer noopener" target="_blank">${finish(label)}</a>`),
    )
    .replace(/<(https?:\/\/[^\s>\u0000]+)>/g, (_m, url: string) => hold(link(url)))
    .replace(/https?:\/\/[^\s<\u0000]+[^\s<\u0000.,:;"')\]]/g, (url) => hold(link(url)));
  return finish(s);

  /** Escapes what is left, applies the emphasis markup, and puts the held pieces back (they may nest: a code span in a link). */
  function finish(text: string): string {
    const marked = escapeHtml(text)
      .replace(/\*\*\*([^*\n]+?)\*\*\*/g, '<strong><em>$1</em></strong>')
      .replace(/\*\*([\s\S]+?)\*\*/g, '<strong>$1</strong>')
      .replace(/__([\s\S]+?)__/g, '<u>$1</u>')
      .replace(/(^|[^\w*])\*(?!\s)([^*\n]+?)\*(?!\w)/g, '$1<em>$2</em>')
      .replace(/(^|[^\w])_(?!\s)([^_\n]+?)_(?!\w)/g, '$1<em>$2</em>')
      .replace(/~~([\s\S]+?)~~/g, '<s>$1</s>')
      .replace(/\|\|([\s\S]+?)\|\|/g, '<span class="spoiler">$1</span>');
    let out = marked;
    // A held piece can hold others (a link around a code span): put them back until none is left.
    for (let depth = 0; depth < 4 && out.includes('\u0000'); depth++) out = out.replace(/\u0000(\d+)\u0000/g, (_m, i: string) => held[Number(i)] ?? '');
    return out;
  }
}

function link(url: string): string {
  const safe = escapeHtml(url);
  return `<a href="${safe}" rel="noreferrer noopener" target="_blank">${safe}</a>`;
}

/** Block markup of lines outside code blocks: headings, subtext, quotes, lists; the rest inline. */
function blocks(text: string): string {
  const out: string[] = [];
  let quote: string[] = [];
  const flushQuote = () => {
    if (quote.length) out.push(`<blockquote>${quote.join('<br>')}</blockquote>`);
    quote = [];
  };
  for (const line of text.split('\n')) {
    const q = /^>>?>? ?(.*)$/.exec(line);
    if (q && line.startsWith('>')) {
      quote.push(lineHtml(q[1]!));
      continue;
    }
    flushQuote();
    out.push(lineHtml(line));
  }
  flushQuote();
  // Block elements end their own line; plain lines are joined by <br>.
  return out.reduce((html, part, i) => {
    if (i === 0) return part;
    const prevBlock = /<\/(h[1-3]|blockquote|li|div)>$/.test(out[i - 1]!);
    const thisBlock = /^<(h[1-3]|blockquote|li|div)/.test(part);
    return html + (prevBlock || thisBlock ? '' : '<br>') + part;
  }, '');
}

function lineHtml(line: string): string {
  const heading = /^(#{1,3}) (.+)$/.exec(line);
  if (heading) return `<h${heading[1]!.length}>${inlineMarkdown(heading[2]!)}</h${heading[1]!.length}>`;
  const sub = /^-# (.+)$/.exec(line);
  if (sub) return `<div class="subtext">${inlineMarkdown(sub[1]!)}</div>`;
  const item = /^(\s*)[-*] (.+)$/.exec(line);
  if (item) return `<li style="margin-left:${Math.min(4, Math.floor(item[1]!.length / 2)) + 1}em">${inlineMarkdown(item[2]!)}</li>`;
  return inlineMarkdown(line);
}

/** Discord markdown to HTML: code blocks kept verbatim, everything else through the block and inline rules. */
export function discordMarkdown(text: string): string {
  // split with two groups gives: text, language, code, text, language, code, ..., text
  const parts = text.split(/```(?:([\w+-]{1,20})?\n)?([\s\S]*?)```/g);
  let html = '';
  for (let i = 0; i < parts.length; i += 3) {
    // The line break next to a code block belongs to the block, not to the text.
    let plain = parts[i] ?? '';
    if (i > 0) plain = plain.replace(/^\n/, '');
    if (i + 3 < parts.length) plain = plain.replace(/\n$/, '');
    if (plain) html += blocks(plain);
    if (i + 2 < parts.length) html += `<pre><code>${escapeHtml((parts[i + 2] ?? '').replace(/\n$/, ''))}</code></pre>`;
  }
  return html;
}
