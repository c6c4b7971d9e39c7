import { DiscordAPIError, type RequestData, type RouteLike } from './djs.js';
import type { Database } from '../store/db.js';
import {
  insertPreviewMessage,
  insertPreviewThread,
  lastPreviewId,
  previewByNonce,
  previewMessage,
  previewThread,
  PREVIEW_KEEP,
  prunePreview,
  setPreviewThreadArchived,
  updatePreviewMessage,
} from '../store/preview.js';
// Discord's own error codes, so the drainer acts as it would on Discord.
import { THREAD_ALREADY_EXISTS, UNKNOWN_CHANNEL, UNKNOWN_MESSAGE, type DiscordRest } from './rest.js';
import type { Clock } from '../model.js';

/** Discord's epoch (2015-01-01), the base of snowflake timestamps. */
const DISCORD_EPOCH = 1_420_070_400_000n;

interface SentFile {
  name: string;
  data: Buffer | Uint8Array;
}

type Attachment = { id: string; filename: string; description?: string };

/**
 * Preview mode's Discord: the requests delivery makes (post, edit, start and archive a thread) are
 * applied to a local copy in the store instead of sent, answering as Discord does (message ids,
 * nonces honoured, 10008 for a message that is gone, 160004 for a second thread), so the outbox,
 * the drainer and every renderer run exactly as in production.
 */
export function createPreviewRest(opts: { db: Database; now?: Clock; keep?: number; onChange?: () => void }): DiscordRest {
  const { db } = opts;
  const clock = opts.now ?? (() => new Date());
  const now = () => clock().getTime();
  // Read at the first post: ids made after a restart keep growing.
  let last: bigint | undefined;

  /** A new snowflake: the time in its high bits, always above the last one given. */
  async function snowflake(): Promise<string> {
    last ??= await lastPreviewId(db);
    const fromClock = (BigInt(now()) - DISCORD_EPOCH) << 22n;
    last = fromClock > last ? fromClock : last + 1n;
    return last.toString();
  }

  function fail(status: number, code: number, message: string, method: string, route: string): never {
    throw new DiscordAPIError({ code, message }, code, status, method, `preview:${route}`, { body: undefined, files: undefined });
  }

  /** `attachments` as the body lists them, each tied to an uploaded file (`files[n]` is attachment id n) or one kept. */
  function attachmentsOf(
    body: Record<string, unknown>,
    files: readonly SentFile[],
  ): { listed?: Attachment[]; uploads: Array<{ filename: string; data: Buffer }> } {
    const listed = Array.isArray(body.attachments) ? (body.attachments as Attachment[]) : undefined;
    const uploads = files.map((f, i) => ({ filename: listed?.find((a) => a.id === String(i))?.filename ?? f.name, data: Buffer.from(f.data) }));
    return { ...(listed ? { listed } : {}), uploads };
  }

  async function post(route: string, body: Record<string, unknown>, files: readonly SentFile[]): Promise<unknown> {
    const thread = /^\/channels\/(\d+)\/messages\/(\d+)\/threads$/.exec(route);
    if (thread) {
      const [, channelId, messageId] = thread as unknown as [string, string, string];
      if ((await previewMessage(db, messageId))?.channelId !== channelId) fail(404, UNKNOWN_MESSAGE, 'Unknown Message', 'POST', route);
      if (await previewThread(db, messageId)) fail(400, THREAD_ALREADY_EXISTS, 'A thread has already been created for this message', 'POST', route);
      await insertPreviewThread(db, { id: messageId, channelId, name: typeof body.name === 'string' ? body.name : '' });
      return { id: messageId, parent_id: channelId, name: body.name, type: 11 };
    }
    const message = /^\/channels\/(\d+)\/messages$/.exec(route);
    if (!message) throw new Error(`preview mode does not handle POST ${route}`);
    const channelId = message[1]!;
    const nonce = typeof body.nonce === 'string' ? body.nonce : undefined;
    // enforce_nonce: a retried post gets the message it already made, as Discord answers.
    const earlier = nonce !== undefined ? await previewByNonce(db, channelId, nonce) : undefined;
    if (earlier) return { id: earlier.id, channel_id: channelId };
    const { nonce: _n, enforce_nonce: _e, ...kept } = body;
    const { listed, uploads } = attachmentsOf(kept, files);
    const id = await snowflake();
    await insertPreviewMessage(db, {
      id,
      channelId,
      body: {
        ...kept,
        attachments:
          listed?.map((a) => ({ filename: a.filename, ...(a.description ? { description: a.description } : {}) })) ??
          uploads.map((u) => ({ filename: u.filename })),
      },
      ...(nonce !== undefined ? { nonce } : {}),
      createdAt: now(),
      files: uploads,
    });
    // A post in an archived thread reopens it, as in Discord.
    if ((await previewThread(db, channelId))?.archived) await setPreviewThreadArchived(db, channelId, false);
    await prunePreview(db, opts.keep ?? PREVIEW_KEEP);
    return { id, channel_id: channelId };
  }

  async function patch(route: string, body: Record<string, unknown>, files: readonly SentFile[]): Promise<unknown> {
    const edit = /^\/channels\/(\d+)\/messages\/(\d+)$/.exec(route);
    if (edit) {
      const [, channelId, messageId] = edit as unknown as [string, string, string];
      const current = await previewMessage(db, messageId);
      if (!current || current.channelId !== channelId) fail(404, UNKNOWN_MESSAGE, 'Unknown Message', 'PATCH', route);
      const { listed, uploads } = attachmentsOf(body, files);
      const had = (current.body.attachments as Attachment[] | undefined) ?? [];
      // Discord keeps only the attachments an edit lists (new uploads by their placeholder id); none listed keeps all.
      const attachments = listed ? listed.map((a) => ({ filename: a.filename, ...(a.description ? { description: a.description } : {}) })) : had;
      const keep = listed ? listed.filter((a) => !/^\d+$/.test(a.id) || Number(a.id) >= files.length).map((a) => a.filename) : had.map((a) => a.filename);
      await updatePreviewMessage(db, { id: messageId, body: { ...current.body, ...body, attachments }, editedAt: now(), keep, files: uploads });
      return { id: messageId, channel_id: channelId };
    }
    const channel = /^\/channels\/(\d+)$/.exec(route);
    if (channel && typeof body.archived === 'boolean') {
      const id = channel[1]!;
      if (!(await previewThread(db, id))) fail(404, UNKNOWN_CHANNEL, 'Unknown Channel', 'PATCH', route);
      await setPreviewThreadArchived(db, id, body.archived);
      return { id, type: 11 };
    }
    throw new Error(`preview mode does not handle PATCH ${route}`);
  }

  /** Runs one request; a change is announced so the page can reload. */
  function apply(run: (route: string, body: Record<string, unknown>, files: readonly SentFile[]) => Promise<unknown>) {
    // A Promise like REST's: what run throws becomes a rejection, as Discord's refusals do.
    return async (route: RouteLike, options: RequestData = {}): Promise<unknown> => {
      const body = (options.body ?? {}) as Record<string, unknown>;
      const result = await run(route, body, (options.files ?? []) as SentFile[]);
      opts.onChange?.();
      return result;
    };
  }

  return { post: apply(post), patch: apply(patch) };
}
