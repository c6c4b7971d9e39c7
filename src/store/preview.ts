import type { Database } from './sql.js';

/**
 * Preview mode's local copy of what Vigil would have posted to Discord (migration 10): messages,
 * their files (charts) and the threads started on them. A thread's id is its starter message's id,
 * as in Discord; a message posted in a thread has the thread's id as its channel.
 */
export const PREVIEW_SQL = `
CREATE TABLE preview_messages (
  id TEXT PRIMARY KEY,
  channel_id TEXT NOT NULL,
  body TEXT NOT NULL,
  nonce TEXT,
  created_at INTEGER NOT NULL,
  edited_at INTEGER,
  -- Bumped on every change (post, edit, thread start or archive): the page reloads when it grows.
  rev INTEGER NOT NULL
);
CREATE INDEX preview_messages_channel ON preview_messages (channel_id);
CREATE UNIQUE INDEX preview_messages_nonce ON preview_messages (channel_id, nonce) WHERE nonce IS NOT NULL;
CREATE TABLE preview_files (
  message_id TEXT NOT NULL REFERENCES preview_messages (id) ON DELETE CASCADE,
  filename TEXT NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (message_id, filename)
);
CREATE TABLE preview_threads (
  id TEXT PRIMARY KEY REFERENCES preview_messages (id) ON DELETE CASCADE,
  channel_id TEXT NOT NULL,
  name TEXT NOT NULL,
  archived INTEGER NOT NULL DEFAULT 0,
  rev INTEGER NOT NULL
);
`;

/** Channel messages kept for the preview page (with their threads); older ones are dropped. */
export const PREVIEW_KEEP = 200;

/** A message as preview mode keeps it: the body Vigil sent (attachments resolved to file names). */
export interface PreviewMessage {
  id: string;
  channelId: string;
  body: Record<string, unknown>;
  createdAt: number;
  editedAt: number | null;
}

/** A thread started on a message. */
export interface PreviewThread {
  id: string;
  name: string;
  archived: boolean;
  messages: PreviewMessage[];
}

/** A channel message with its thread, as the preview page shows it. */
export interface PreviewEntry extends PreviewMessage {
  thread?: PreviewThread;
  /** The message this one replies to (message_reference), when it is still kept. */
  replyTo?: PreviewMessage;
}

interface MessageRow {
  id: string;
  channel_id: string;
  body: string;
  created_at: number;
  edited_at: number | null;
}

const toMessage = (r: MessageRow): PreviewMessage => ({
  id: r.id,
  channelId: r.channel_id,
  body: JSON.parse(r.body) as Record<string, unknown>,
  createdAt: r.created_at,
  editedAt: r.edited_at,
});

/** The next change number. */
async function nextRev(db: Database): Promise<number> {
  const row = (await db.get<{
    r: number | null;
  }>('SELECT max(r) AS r FROM (SELECT max(rev) AS r FROM preview_messages UNION ALL SELECT max(rev) FROM preview_threads) AS revs'))!;
  return (row.r ?? 0) + 1;
}

/** The number of the last change: the page polls it to know when to reload. */
export async function previewRevision(db: Database): Promise<number> {
  return (await nextRev(db)) - 1;
}

/** The highest message id kept, so ids made after a restart keep growing. */
export async function lastPreviewId(db: Database): Promise<bigint> {
  const row = await db.get<{ id: string }>('SELECT id FROM preview_messages ORDER BY length(id) DESC, id DESC LIMIT 1');
  return row ? BigInt(row.id) : 0n;
}

/** A message by id. */
export async function previewMessage(db: Database, id: string): Promise<PreviewMessage | undefined> {
  const row = await db.get<MessageRow>('SELECT id, channel_id, body, created_at, edited_at FROM preview_messages WHERE id = ?', id);
  return row && toMessage(row);
}

/** The message posted earlier in this channel with this nonce (a retried post), if any. */
export async function previewByNonce(db: Database, channelId: string, nonce: string): Promise<PreviewMessage | undefined> {
  const row = await db.get<MessageRow>(
    'SELECT id, channel_id, body, created_at, edited_at FROM preview_messages WHERE channel_id = ? AND nonce = ?',
    channelId,
    nonce,
  );
  return row && toMessage(row);
}

/** Stores a new message with its files, in one transaction. */
export async function insertPreviewMessage(
  db: Database,
  m: { id: string; channelId: string; body: object; nonce?: string; createdAt: number; files: ReadonlyArray<{ filename: string; data: Buffer }> },
): Promise<void> {
  await db.transaction(async () => {
    await db.run(
      'INSERT INTO preview_messages (id, channel_id, body, nonce, created_at, rev) VALUES (?, ?, ?, ?, ?, ?)',
      m.id,
      m.channelId,
      JSON.stringify(m.body),
      m.nonce ?? null,
      m.createdAt,
      await nextRev(db),
    );
    for (const f of m.files) await putFile(db, m.id, f);
  });
}

/** Replaces a message's body; files not in `keep` are dropped, `files` added. */
export async function updatePreviewMessage(
  db: Database,
  m: { id: string; body: object; editedAt: number; keep: readonly string[]; files: ReadonlyArray<{ filename: string; data: Buffer }> },
): Promise<void> {
  await db.transaction(async () => {
    await db.run('UPDATE preview_messages SET body = ?, edited_at = ?, rev = ? WHERE id = ?', JSON.stringify(m.body), m.editedAt, await nextRev(db), m.id);
    const kept = new Set([...m.keep, ...m.files.map((f) => f.filename)]);
    for (const { filename } of await db.all<{ filename: string }>('SELECT filename FROM preview_files WHERE message_id = ?', m.id)) {
      if (!kept.has(filename)) await db.run('DELETE FROM preview_files WHERE message_id = ? AND filename = ?', m.id, filename);
    }
    for (const f of m.files) await putFile(db, m.id, f);
  });
}

async function putFile(db: Database, messageId: string, f: { filename: string; data: Buffer }): Promise<void> {
  await db.run(
    'INSERT INTO preview_files (message_id, filename, data) VALUES (?, ?, ?) ON CONFLICT (message_id, filename) DO UPDATE SET data = excluded.data',
    messageId,
    f.filename,
    f.data,
  );
}

/** A file of a message (the chart), or undefined. */
export async function previewFile(db: Database, messageId: string, filename: string): Promise<Buffer | undefined> {
  const row = await db.get<{ data: Buffer }>('SELECT data FROM preview_files WHERE message_id = ? AND filename = ?', messageId, filename);
  return row?.data;
}

/** Whether a thread was started on this message (its id). */
export async function previewThread(db: Database, id: string): Promise<{ id: string; channelId: string; archived: boolean } | undefined> {
  const row = await db.get<{ id: string; channel_id: string; archived: number }>('SELECT id, channel_id, archived FROM preview_threads WHERE id = ?', id);
  return row && { id: row.id, channelId: row.channel_id, archived: row.archived === 1 };
}

/** Starts a thread on a message. */
export async function insertPreviewThread(db: Database, t: { id: string; channelId: string; name: string }): Promise<void> {
  await db.run('INSERT INTO preview_threads (id, channel_id, name, rev) VALUES (?, ?, ?, ?)', t.id, t.channelId, t.name, await nextRev(db));
}

/** Archives (true) or reopens (false) a thread. */
export async function setPreviewThreadArchived(db: Database, id: string, archived: boolean): Promise<void> {
  await db.run('UPDATE preview_threads SET archived = ?, rev = ? WHERE id = ?', archived ? 1 : 0, await nextRev(db), id);
}

/** Threads are the only channels whose id is a message's: everything else is a channel. */
async function isThread(db: Database, channelId: string): Promise<boolean> {
  return (await previewThread(db, channelId)) !== undefined;
}

/**
 * The newest channel messages (not those in threads), newest first, each with its thread's
 * messages (oldest first) and the message it replies to.
 */
export async function previewEntries(db: Database, limit: number): Promise<PreviewEntry[]> {
  const rows = await db.all<MessageRow>(
    `SELECT id, channel_id, body, created_at, edited_at FROM preview_messages
     WHERE channel_id NOT IN (SELECT id FROM preview_threads)
     ORDER BY length(id) DESC, id DESC LIMIT ?`,
    limit,
  );
  const entries: PreviewEntry[] = [];
  for (const r of rows) {
    const entry: PreviewEntry = toMessage(r);
    const thread = await db.get<{ id: string; name: string; archived: number }>('SELECT id, name, archived FROM preview_threads WHERE id = ?', r.id);
    if (thread) {
      const messages = (
        await db.all<MessageRow>(
          'SELECT id, channel_id, body, created_at, edited_at FROM preview_messages WHERE channel_id = ? ORDER BY length(id), id',
          thread.id,
        )
      ).map(toMessage);
      entry.thread = { id: thread.id, name: thread.name, archived: thread.archived === 1, messages };
    }
    const ref = (entry.body.message_reference as { message_id?: unknown } | undefined)?.message_id;
    if (typeof ref === 'string') {
      const target = await previewMessage(db, ref);
      if (target) entry.replyTo = target;
    }
    entries.push(entry);
  }
  return entries;
}

/**
 * Keeps the newest `keep` channel messages; older ones go with their threads' messages and files.
 * Returns how many channel messages were dropped.
 */
export async function prunePreview(db: Database, keep: number): Promise<number> {
  return db.transaction(async () => {
    const old = await db.all<{ id: string }>(
      `SELECT id FROM preview_messages WHERE channel_id NOT IN (SELECT id FROM preview_threads)
       ORDER BY length(id) DESC, id DESC ${db.dialect === 'postgres' ? 'LIMIT ALL' : 'LIMIT -1'} OFFSET ?`,
      keep,
    );
    for (const { id } of old) {
      if (await isThread(db, id)) await db.run('DELETE FROM preview_messages WHERE channel_id = ?', id);
      await db.run('DELETE FROM preview_messages WHERE id = ?', id);
    }
    return old.length;
  });
}
