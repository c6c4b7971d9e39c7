import { DiscordAPIError } from '../../src/discord/djs.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { classifyDeliveryError } from '../../src/discord/classify.js';
import { archiveThread, editMessage, postMessage, startThread } from '../../src/discord/rest.js';
import { createPreviewRest } from '../../src/discord/preview.js';
import { openDatabase, type SqliteDatabase } from '../../src/store/db.js';
import { previewEntries, previewFile, previewMessage, previewRevision } from '../../src/store/preview.js';

const CHANNEL = '223456789012345678';
const PNG = Buffer.from('89504e470d0a1a0a', 'hex');

let db: SqliteDatabase;
let clock: number;
beforeEach(() => {
  db = openDatabase(':memory:');
  clock = Date.parse('2026-12-06T12:00:00Z');
});
afterEach(() => db.close());

const rest = (keep?: number) => createPreviewRest({ db, now: () => new Date(clock), ...(keep ? { keep } : {}) });
const withChart = { embeds: [{ title: 'FIRING', image: { url: 'attachment://chart.png' } }], attachments: [{ id: '0', filename: 'chart.png' }] };

describe("preview mode's Discord", () => {
  it('keeps a posted message with its chart, under a snowflake id', async () => {
    const { id } = await postMessage(rest(), CHANNEL, withChart, 'vigil-1-abc', [{ name: 'chart.png', data: PNG }]);
    expect(id).toMatch(/^\d{17,20}$/);
    // The snowflake's timestamp is the post's time, as Discord's are.
    expect(Number((BigInt(id) >> 22n) + 1_420_070_400_000n)).toBe(clock);
    expect((await previewMessage(db, id))?.body).toMatchObject({ embeds: [{ title: 'FIRING' }], attachments: [{ filename: 'chart.png' }] });
    expect(await previewFile(db, id, 'chart.png')).toEqual(PNG);
  });

  it('answers a retried post (same nonce) with the message it already made, as enforce_nonce does', async () => {
    const r = rest();
    const first = await postMessage(r, CHANNEL, { content: 'one' }, 'vigil-1-abc');
    const again = await postMessage(r, CHANNEL, { content: 'one' }, 'vigil-1-abc');
    expect(again.id).toBe(first.id);
    expect(await previewEntries(db, 10)).toHaveLength(1);
  });

  it('gives ids that keep growing when the clock steps back and after a restart, and lists by them', async () => {
    const a = await postMessage(rest(), CHANNEL, { content: 'a' }, 'n-a');
    clock -= 60_000;
    const b = await postMessage(rest(), CHANNEL, { content: 'b' }, 'n-b');
    expect(BigInt(b.id)).toBeGreaterThan(BigInt(a.id));
    // Newest first by id, as Discord orders a channel, whatever the clock said.
    expect((await previewEntries(db, 10)).map((e) => e.body.content)).toEqual(['b', 'a']);
  });

  it('applies an edit: the new body, and only the attachments it lists', async () => {
    const r = rest();
    const { id } = await postMessage(r, CHANNEL, withChart, 'n-1', [{ name: 'chart.png', data: PNG }]);
    const before = await previewRevision(db);
    await editMessage(r, CHANNEL, id, { embeds: [{ title: 'RESOLVED', color: 0x2ecc71 }], attachments: [] });
    const edited = (await previewMessage(db, id))!;
    expect(edited.body).toMatchObject({ embeds: [{ title: 'RESOLVED', color: 0x2ecc71 }], attachments: [] });
    expect(edited.editedAt).toBe(clock);
    expect(await previewFile(db, id, 'chart.png')).toBeUndefined();
    expect(await previewRevision(db)).toBeGreaterThan(before);
  });

  it('replaces the chart when an edit uploads a new one', async () => {
    const r = rest();
    const { id } = await postMessage(r, CHANNEL, withChart, 'n-1', [{ name: 'chart.png', data: PNG }]);
    const newer = Buffer.concat([PNG, Buffer.from('new')]);
    await editMessage(r, CHANNEL, id, withChart, [{ name: 'chart.png', data: newer }]);
    expect(await previewFile(db, id, 'chart.png')).toEqual(newer);
  });

  it("answers an edit of a message it does not have with Discord's 10008, which delivery knows", async () => {
    const err = await editMessage(rest(), CHANNEL, '1579148584970878976', { content: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscordAPIError);
    expect(err).toMatchObject({ code: 10008, status: 404 });
    expect(classifyDeliveryError(err)).toMatchObject({ retryable: false, status: 404 });
  });

  it('starts one thread per message, takes posts in it, archives it, and reopens it on a post', async () => {
    const r = rest();
    const { id } = await postMessage(r, CHANNEL, { content: 'alert' }, 'n-1');
    expect(await startThread(r, CHANNEL, id, { name: 'HighCPU on web-1' })).toEqual({ id });
    await expect(startThread(r, CHANNEL, id, { name: 'again' })).rejects.toMatchObject({ code: 160004 });
    // Discord knows a message only in its own channel.
    await expect(startThread(r, '323456789012345678', id, { name: 'elsewhere' })).rejects.toMatchObject({ code: 10008 });
    await postMessage(r, id, { content: 'details' }, 'n-2');
    await archiveThread(r, id);
    expect((await previewEntries(db, 10))[0]?.thread).toMatchObject({ name: 'HighCPU on web-1', archived: true, messages: [{ body: { content: 'details' } }] });
    await postMessage(r, id, { content: 'resolved note' }, 'n-3');
    const [entry] = await previewEntries(db, 10);
    // Thread messages stay under their message, not in the channel's list.
    expect(await previewEntries(db, 10)).toHaveLength(1);
    expect(entry?.thread?.archived).toBe(false);
    expect(entry?.thread?.messages.map((m) => m.body.content)).toEqual(['details', 'resolved note']);
  });

  it('lists channel messages newest first, with the message a reply answers', async () => {
    const r = rest();
    const first = await postMessage(r, CHANNEL, { content: 'first' }, 'n-1');
    clock += 1000;
    await postMessage(r, CHANNEL, { content: 'reply', message_reference: { message_id: first.id, fail_if_not_exists: false } }, 'n-2');
    const entries = await previewEntries(db, 10);
    expect(entries.map((e) => e.body.content)).toEqual(['reply', 'first']);
    expect(entries[0]?.replyTo?.id).toBe(first.id);
  });

  it('keeps the newest messages only, dropping older ones with their threads and files', async () => {
    const r = rest(2);
    const old = await postMessage(r, CHANNEL, withChart, 'n-1', [{ name: 'chart.png', data: PNG }]);
    await startThread(r, CHANNEL, old.id, { name: 't' });
    await postMessage(r, old.id, { content: 'in thread' }, 'n-2');
    for (const n of [3, 4]) {
      clock += 1000;
      await postMessage(r, CHANNEL, { content: `m${n}` }, `n-${n}`);
    }
    expect((await previewEntries(db, 10)).map((e) => e.body.content)).toEqual(['m4', 'm3']);
    expect(await previewFile(db, old.id, 'chart.png')).toBeUndefined();
    expect(db.sqlite.prepare('SELECT count(*) AS n FROM preview_messages').get()).toEqual({ n: 2 });
  });

  it('refuses a request delivery never makes, by name', async () => {
    await expect(rest().post('/applications/1/commands', { body: {} })).rejects.toThrow('preview mode does not handle POST /applications/1/commands');
  });
});
