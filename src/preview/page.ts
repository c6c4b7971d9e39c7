import type { PreviewEntry, PreviewMessage } from '../store/preview.js';
import { discordMarkdown, escapeHtml, inlineMarkdown } from './markdown.js';

/** What the page needs besides the messages. */
export interface PageOptions {
  /** Where the alerts go (discord.alertChannelId): shown as #alerts. */
  alertChannelId: string;
  /** The change number the page shows; its script reloads the list when /preview/state says otherwise. */
  revision: number;
  /** A fresh value per response, for the Content-Security-Policy of the page's one script. */
  nonce: string;
}

/** The path a message's file is served at (an embed's `attachment://name`); `version` changes with each edit, so a new chart is fetched anew. */
export function fileUrl(messageId: string, name: string, version: number): string {
  return `/preview/file?message=${encodeURIComponent(messageId)}&name=${encodeURIComponent(name)}&v=${version}`;
}

/** Content-Security-Policy of the page: nothing runs but its own script, nothing loads but its own images and https ones. */
export function pageCsp(nonce: string): string {
  return `default-src 'none'; img-src 'self' https: data:; style-src 'unsafe-inline'; script-src 'nonce-${nonce}'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
}

type Json = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const list = (v: unknown): Json[] => (Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object') as Json[]) : []);

/** Discord's dark theme embed bar default when an embed has no colour. */
const DEFAULT_BAR = '#1e1f22';
/** Button colours by style (Primary, Secondary, Success, Danger, Link). */
const BUTTON_CLASS: Record<number, string> = { 1: 'primary', 2: 'secondary', 3: 'success', 4: 'danger', 5: 'secondary link' };

function imageSrc(url: string | undefined, m: PreviewMessage): string | undefined {
  if (!url) return undefined;
  const attachment = /^attachment:\/\/(.+)$/.exec(url);
  if (attachment) return fileUrl(m.id, attachment[1]!, m.editedAt ?? m.createdAt);
  return /^https:\/\//.test(url) ? url : undefined;
}

function colour(value: unknown): string {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? `#${value.toString(16).padStart(6, '0')}` : DEFAULT_BAR;
}

/** Inline fields share a row, three at most; the others take the whole width (Discord's layout). */
function fields(items: Json[]): string {
  const rows: Json[][] = [];
  for (const f of items) {
    const last = rows.at(-1);
    if (f.inline === true && last && last.length < 3 && last.every((x) => x.inline === true)) last.push(f);
    else rows.push([f]);
  }
  return rows
    .map(
      (row) =>
        `<div class="field-row" style="grid-template-columns:repeat(${row.length},minmax(0,1fr))">${row
          .map(
            (f) =>
              `<div class="field"><div class="field-name">${inlineMarkdown(str(f.name) ?? '')}</div><div class="field-value">${discordMarkdown(str(f.value) ?? '')}</div></div>`,
          )
          .join('')}</div>`,
    )
    .join('');
}

function embed(e: Json, m: PreviewMessage): string {
  const author = e.author as Json | undefined;
  const footer = e.footer as Json | undefined;
  const image = imageSrc(str((e.image as Json | undefined)?.url), m);
  const thumbnail = imageSrc(str((e.thumbnail as Json | undefined)?.url), m);
  const title = str(e.title);
  const url = str(e.url);
  const ts = str(e.timestamp);
  const parts = [
    author && str(author.name) ? `<div class="embed-author">${escapeHtml(String(author.name))}</div>` : '',
    title
      ? `<div class="embed-title">${url && /^https?:\/\//.test(url) ? `<a href="${escapeHtml(url)}" rel="noreferrer noopener" target="_blank">${inlineMarkdown(title)}</a>` : inlineMarkdown(title)}</div>`
      : '',
    str(e.description) ? `<div class="embed-description">${discordMarkdown(String(e.description))}</div>` : '',
    list(e.fields).length ? `<div class="embed-fields">${fields(list(e.fields))}</div>` : '',
    image ? `<img class="embed-image" alt="${escapeHtml(str((e.image as Json).description) ?? 'image')}" src="${escapeHtml(image)}">` : '',
    footer && (str(footer.text) || ts)
      ? `<div class="embed-footer">${escapeHtml(str(footer?.text) ?? '')}${ts ? `${footer && str(footer.text) ? ' • ' : ''}<time class="ts" datetime="${escapeHtml(ts)}" data-style="f">${escapeHtml(ts)}</time>` : ''}</div>`
      : '',
  ];
  return `<div class="embed" style="border-left-color:${colour(e.color)}">${thumbnail ? `<img class="embed-thumbnail" alt="" src="${escapeHtml(thumbnail)}">` : ''}${parts.join('')}</div>`;
}

function button(b: Json): string {
  const style = typeof b.style === 'number' ? b.style : 2;
  const emoji = str((b.emoji as Json | undefined)?.name);
  const label = `${emoji ? `<span class="emoji">${escapeHtml(emoji)}</span>` : ''}${escapeHtml(str(b.label) ?? '')}${style === 5 ? ' ↗' : ''}`;
  // Shown as Discord shows them; pressing one needs Discord (the interaction carries the person who pressed it).
  return `<button type="button" class="button ${BUTTON_CLASS[style] ?? 'secondary'}"${b.disabled === true ? ' disabled' : ''} title="Buttons work in Discord; the preview only shows them">${label}</button>`;
}

function components(rows: Json[]): string {
  const html = rows
    .filter((r) => r.type === 1)
    .map(
      (r) =>
        `<div class="action-row">${list(r.components)
          .filter((c) => c.type === 2)
          .map(button)
          .join('')}</div>`,
    )
    .join('');
  return html ? `<div class="components">${html}</div>` : '';
}

/** Files not shown by an embed (a command's chart, a reply's file) appear under the message, as Discord shows them. */
function attachments(m: PreviewMessage): string {
  const inEmbeds = new Set(
    list(m.body.embeds)
      .flatMap((e) => [str((e.image as Json | undefined)?.url), str((e.thumbnail as Json | undefined)?.url)])
      .filter((u): u is string => u !== undefined),
  );
  return list(m.body.attachments)
    .map((a) => str(a.filename))
    .filter((name): name is string => name !== undefined && !inEmbeds.has(`attachment://${name}`))
    .map((name) =>
      /\.(png|jpe?g|gif|webp)$/i.test(name)
        ? `<img class="attachment" alt="${escapeHtml(name)}" src="${escapeHtml(fileUrl(m.id, name, m.editedAt ?? m.createdAt))}">`
        : `<a class="file" href="${escapeHtml(fileUrl(m.id, name, m.editedAt ?? m.createdAt))}">📎 ${escapeHtml(name)}</a>`,
    )
    .join('');
}

function snippet(m: PreviewMessage): string {
  const first = list(m.body.embeds)[0];
  const text = str(m.body.content) ?? str(first?.title) ?? str(first?.description) ?? 'a message';
  return inlineMarkdown(text.split('\n')[0]!.slice(0, 120));
}

/** One message the way Discord lays it out: the bot's name and time, content, embeds, files, buttons. */
function message(m: PreviewMessage, extra: { replyTo?: PreviewMessage; channel?: string } = {}): string {
  const content = str(m.body.content);
  return `<article class="message" id="m${escapeHtml(m.id)}" data-id="${escapeHtml(m.id)}">
${extra.replyTo ? `<div class="reply">↪ <span class="reply-name">Vigil</span> ${snippet(extra.replyTo)}</div>` : ''}<div class="avatar">V</div>
<div class="body"><div class="header"><span class="name">Vigil</span><span class="app">APP</span>${extra.channel ? `<span class="channel">${escapeHtml(extra.channel)}</span>` : ''}<time class="ts when" datetime="${new Date(m.createdAt).toISOString()}" data-style="f">${new Date(m.createdAt).toISOString()}</time>${m.editedAt ? '<span class="edited">(edited)</span>' : ''}</div>
${content ? `<div class="content">${discordMarkdown(content)}</div>` : ''}${list(m.body.embeds)
    .map((e) => embed(e, m))
    .join('')}${attachments(m)}${components(list(m.body.components))}</div>
</article>`;
}

function entry(e: PreviewEntry, opts: PageOptions): string {
  const channel = e.channelId === opts.alertChannelId ? '#alerts' : `#${e.channelId}`;
  const thread = e.thread
    ? `<section class="thread${e.thread.archived ? ' archived' : ''}"><div class="thread-name">🧵 ${escapeHtml(e.thread.name)} <span class="thread-count">${e.thread.messages.length} message${e.thread.messages.length === 1 ? '' : 's'}${e.thread.archived ? ' · archived' : ''}</span></div>${e.thread.messages.map((m) => message(m)).join('')}</section>`
    : '';
  return `<div class="entry">${message(e, { ...(e.replyTo ? { replyTo: e.replyTo } : {}), channel })}${thread}</div>`;
}

/** The list of messages alone: what the page's script swaps in when something changed. */
export function renderMessages(entries: readonly PreviewEntry[], opts: PageOptions): string {
  if (entries.length === 0) {
    return '<p class="empty">Nothing posted yet. Send an alert: <code>npx vigil test-alert</code> (with the same config), or point Grafana or Alertmanager at this Vigil.</p>';
  }
  return entries.map((e) => entry(e, opts)).join('\n');
}

/** The whole preview page: Discord's dark theme, newest message first, refreshing by itself. */
export function renderPage(entries: readonly PreviewEntry[], opts: PageOptions): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Vigil preview</title><link rel="icon" href="data:,">
<style>${STYLE}</style></head>
<body><header class="top"><strong>Vigil preview</strong> <span>What Vigil would post to Discord (discord.mode: preview), newest first; updates by itself. Nothing is sent to Discord.</span></header>
<main id="messages" data-revision="${opts.revision}">${renderMessages(entries, opts)}</main>
<script nonce="${escapeHtml(opts.nonce)}">${SCRIPT}</script></body></html>`;
}

/** Puts each `<time>` in the reader's own zone and language, as Discord does, and reloads the list on a change. */
const SCRIPT = `
const styles = { t: { timeStyle: 'short' }, T: { timeStyle: 'medium' }, d: { dateStyle: 'short' }, D: { dateStyle: 'long' }, f: { dateStyle: 'long', timeStyle: 'short' }, F: { dateStyle: 'full', timeStyle: 'short' } };
function relative(date) {
  const s = (date.getTime() - Date.now()) / 1000;
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  for (const [unit, size] of [['year', 31536000], ['month', 2592000], ['day', 86400], ['hour', 3600], ['minute', 60]]) {
    if (Math.abs(s) >= size) return rtf.format(Math.round(s / size), unit);
  }
  return rtf.format(Math.round(s), 'second');
}
function localize() {
  for (const el of document.querySelectorAll('time.ts')) {
    const date = new Date(el.getAttribute('datetime'));
    if (isNaN(date)) continue;
    const style = el.dataset.style || 'f';
    el.textContent = style === 'R' ? relative(date) : new Intl.DateTimeFormat(undefined, styles[style] || styles.f).format(date);
    el.title = new Intl.DateTimeFormat(undefined, styles.F).format(date);
  }
}
const list = document.getElementById('messages');
let revision = Number(list.dataset.revision);
async function poll() {
  try {
    const stateRes = await fetch('/preview/state', { cache: 'no-store' });
    const state = stateRes.ok ? await stateRes.json() : undefined;
    if (state && typeof state.revision === 'number' && state.revision !== revision) {
      const listRes = await fetch('/preview/messages', { cache: 'no-store' });
      if (!listRes.ok) throw new Error('preview list: HTTP ' + listRes.status);
      list.innerHTML = await listRes.text();
      revision = state.revision;
      list.dataset.revision = String(revision);
      localize();
    }
  } catch (e) { /* Vigil restarting: try again on the next tick */ }
  setTimeout(poll, 2000);
}
localize();
setInterval(localize, 30000);
setTimeout(poll, 2000);
`;

/** Discord's dark theme, close enough to judge a message by. */
const STYLE = `
:root { color-scheme: dark; }
body { margin: 0; background: #313338; color: #dbdee1; font: 16px/1.375 "gg sans", "Noto Sans", "Helvetica Neue", Helvetica, Arial, sans-serif; }
.top { background: #2b2d31; border-bottom: 1px solid #1e1f22; padding: 10px 16px; font-size: 14px; color: #b5bac1; }
.top strong { color: #f2f3f5; margin-right: 8px; }
main { max-width: 860px; padding: 8px 0 40px; }
.empty { padding: 16px; color: #b5bac1; }
.entry { border-bottom: 1px solid #3f4147; padding-bottom: 8px; margin-bottom: 8px; }
.message { position: relative; padding: 4px 16px 4px 72px; min-height: 44px; }
.message:hover { background: #2e3035; }
.avatar { position: absolute; left: 16px; top: 6px; width: 40px; height: 40px; border-radius: 50%; background: #5865f2; color: #fff; display: flex; align-items: center; justify-content: center; font-weight: 700; }
.reply + .avatar { top: 28px; }
.reply { font-size: 14px; color: #b5bac1; margin: 0 0 4px -56px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.reply-name { color: #f2f3f5; font-weight: 600; }
.header { display: flex; align-items: baseline; gap: 6px; flex-wrap: wrap; }
.name { color: #f2f3f5; font-weight: 600; }
.app { background: #5865f2; color: #fff; font-size: 10px; font-weight: 700; border-radius: 3px; padding: 0 4px; line-height: 15px; }
.channel { color: #949ba4; font-size: 12px; }
.when, .edited { color: #949ba4; font-size: 12px; }
.content { white-space: normal; word-wrap: break-word; }
.embed { position: relative; max-width: 520px; background: #2b2d31; border-left: 4px solid ${DEFAULT_BAR}; border-radius: 4px; padding: 8px 16px 16px 12px; margin-top: 4px; font-size: 14px; display: grid; gap: 8px; }
.embed-thumbnail { position: absolute; right: 16px; top: 8px; max-width: 80px; max-height: 80px; border-radius: 4px; }
.embed-author { color: #f2f3f5; font-weight: 600; font-size: 14px; margin-top: 8px; }
.embed-title { color: #f2f3f5; font-weight: 600; font-size: 16px; margin-top: 8px; }
.embed-title a, .content a, .embed-description a, .field-value a { color: #00a8fc; text-decoration: none; }
.embed-description { white-space: normal; }
.embed-fields { display: grid; gap: 8px; }
.field-row { display: grid; gap: 8px; }
.field-name { color: #f2f3f5; font-weight: 600; margin-bottom: 2px; }
.embed-image { max-width: 100%; border-radius: 4px; margin-top: 8px; }
.embed-footer { color: #b5bac1; font-size: 12px; margin-top: 8px; }
.attachment { display: block; max-width: 520px; border-radius: 8px; margin-top: 4px; }
.file { display: inline-block; margin-top: 4px; padding: 8px 12px; background: #2b2d31; border-radius: 8px; color: #00a8fc; }
code { background: #2b2d31; border-radius: 4px; padding: 0 3px; font: 85% Consolas, "Andale Mono", "DejaVu Sans Mono", monospace; }
.embed code { background: #1e1f22; }
pre { background: #2b2d31; border: 1px solid #1e1f22; border-radius: 4px; padding: 8px; margin: 4px 0; white-space: pre-wrap; word-break: break-word; }
.embed pre { background: #1e1f22; }
pre code { background: none; padding: 0; }
blockquote { margin: 0; padding-left: 12px; border-left: 4px solid #4e5058; }
h1, h2, h3 { margin: 8px 0 4px; color: #f2f3f5; line-height: 1.2; } h1 { font-size: 24px; } h2 { font-size: 20px; } h3 { font-size: 16px; }
li { list-style: disc; display: list-item; }
.subtext { color: #949ba4; font-size: 12px; }
.mention { background: rgba(88, 101, 242, .3); color: #c9cdfb; border-radius: 3px; padding: 0 2px; }
.spoiler { background: #1e1f22; color: transparent; border-radius: 3px; } .spoiler:hover { color: inherit; }
.components { margin-top: 8px; display: grid; gap: 8px; }
.action-row { display: flex; flex-wrap: wrap; gap: 8px; }
.button { border: 0; border-radius: 3px; height: 32px; padding: 2px 16px; font: 500 14px inherit; font-family: inherit; color: #fff; cursor: default; display: inline-flex; align-items: center; gap: 6px; }
.button.primary { background: #5865f2; } .button.secondary { background: #4e5058; } .button.success { background: #248046; } .button.danger { background: #da373c; }
.button:disabled { opacity: .5; }
.thread { margin: 4px 16px 0 72px; border-left: 2px solid #4e5058; padding-left: 0; }
.thread .message { padding-left: 64px; }
.thread .avatar { left: 12px; width: 32px; height: 32px; font-size: 14px; }
.thread-name { color: #f2f3f5; font-weight: 600; font-size: 14px; padding: 4px 12px; }
.thread-count { color: #949ba4; font-weight: 400; }
.thread.archived .thread-name { color: #949ba4; }
`;
