import type { Database } from 'better-sqlite3';
import { stmt } from './statements.js';

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
function nextRev(db: Database): number {
  const row = stmt(db, 'SELECT max(r) AS r FROM (SELECT max(rev) AS r FROM preview_messages UNION ALL SELECT max(rev) FROM preview_threads)').get() as {
    r: number | null;
  };
  return (row.r ?? 0) + 1;
}

/** The number of the last change: the page polls it to know when to reload. */
export function previewRevision(db: Database): number {
  return nextRev(db) - 1;
}

/** The highest message id kept, so ids made after a restart keep growing. */
export function lastPreviewId(db: Database): bigint {
  const row = stmt(db, 'SELECT id FROM preview_messages ORDER BY length(id) DESC, id DESC LIMIT 1').get() as { id: string } | undefined;
  return row ? BigInt(row.id) : 0n;
}

/** A message by id. */
export function previewMessage(db: Database, id: string): PreviewMessage | undefined {
  const row = stmt(db, 'SELECT id, channel_id, body, created_at, edited_at FROM preview_messages WHERE id = ?').get(id) as MessageRow | undefined;
  return row && toMessage(row);
}

/** The message posted earlier in this channel with this nonce (a retried post), if any. */
export function previewByNonce(db: Database, channelId: string, nonce: string): PreviewMessage | undefined {
  const row = stmt(db, 'SELECT id, channel_id, body, created_at, edited_at FROM preview_messages WHERE channel_id = ? AND nonce = ?').get(channelId, nonce) as
    MessageRow | undefined;
  return row && toMessage(row);
}

/** Stores a new message with its files, in one transaction. */
export function insertPreviewMessage(
  db: Database,
  m: { id: string; channelId: string; body: object; nonce?: string; createdAt: number; files: ReadonlyArray<{ filename: string; data: Buffer }> },
): void {
  db.transaction(() => {
    stmt(db, 'INSERT INTO preview_messages (id, channel_id, body, nonce, created_at, rev) VALUES (?, ?, ?, ?, ?, ?)').run(
      m.id,
      m.channelId,
      JSON.stringify(m.body),
      m.nonce ?? null,
      m.createdAt,
      nextRev(db),
    );
    for (const f of m.files) stmt(db, 'INSERT OR REPLACE INTO preview_files (message_id, filename, data) VALUES (?, ?, ?)').run(m.id, f.filename, f.data);
  })();
}

/** Replaces a message's body; files not in `keep` are dropped, `files` added. */
export function updatePreviewMessage(
  db: Database,
  m: { id: string; body: object; editedAt: number; keep: readonly string[]; files: ReadonlyArray<{ filename: string; data: Buffer }> },
): void {
  db.transaction(() => {
    stmt(db, 'UPDATE preview_messages SET body = ?, edited_at = ?, rev = ? WHERE id = ?').run(JSON.stringify(m.body), m.editedAt, nextRev(db), m.id);
    const kept = new Set([...m.keep, ...m.files.map((f) => f.filename)]);
    for (const { filename } of stmt(db, 'SELECT filename FROM preview_files WHERE message_id = ?').all(m.id) as { filename: string }[]) {
      if (!kept.has(filename)) stmt(db, 'DELETE FROM preview_files WHERE message_id = ? AND filename = ?').run(m.id, filename);
    }
    for (const f of m.files) stmt(db, 'INSERT OR REPLACE INTO preview_files (message_id, filename, data) VALUES (?, ?, ?)').run(m.id, f.filename, f.data);
  })();
}

/** A file of a message (the chart), or undefined. */
export function previewFile(db: Database, messageId: string, filename: string): Buffer | undefined {
  const row = stmt(db, 'SELECT data FROM preview_files WHERE message_id = ? AND filename = ?').get(messageId, filename) as { data: Buffer } | undefined;
  return row?.data;
}

/** Whether a thread was started on this message (its id). */
export function previewThread(db: Database, id: string): { id: string; channelId: string; archived: boolean } | undefined {
  const row = stmt(db, 'SELECT id, channel_id, archived FROM preview_threads WHERE id = ?').get(id) as
    { id: string; channel_id: string; archived: number } | undefined;
  return row && { id: row.id, channelId: row.channel_id, archived: row.archived === 1 };
}

/** Starts a thread on a message. */
export function insertPreviewThread(db: Database, t: { id: string; channelId: string; name: string }): void {
  stmt(db, 'INSERT INTO preview_threads (id, channel_id, name, rev) VALUES (?, ?, ?, ?)').run(t.id, t.channelId, t.name, nextRev(db));
}

/** Archives (true) or reopens (false) a thread. */
export function setPreviewThreadArchived(db: Database, id: string, archived: boolean): void {
  stmt(db, 'UPDATE preview_threads SET archived = ?, rev = ? WHERE id = ?').run(archived ? 1 : 0, nextRev(db), id);
}

/** Threads are the only channels whose id is a message's: everything else is a channel. */
function isThread(db: Database, channelId: string): boolean {
  return previewThread(db, channelId) !== undefined;
}

/**
 * The newest channel messages (not those in threads), newest first, each with its thread's
 * messages (oldest first) and the message it replies to.
 */
export function previewEntries(db: Database, limit: number): PreviewEntry[] {
  const rows = stmt(
    db,
    `SELECT id, channel_id, body, created_at, edited_at FROM preview_messages
     WHERE channel_id NOT IN (SELECT id FROM preview_threads)
     ORDER BY length(id) DESC, id DESC LIMIT ?`,
  ).all(limit) as MessageRow[];
  return rows.map((r) => {
    const entry: PreviewEntry = toMessage(r);
    const thread = stmt(db, 'SELECT id, name, archived FROM preview_threads WHERE id = ?').get(r.id) as
      { id: string; name: string; archived: number } | undefined;
    if (thread) {
      const messages = (
        stmt(db, 'SELECT id, channel_id, body, created_at, edited_at FROM preview_messages WHERE channel_id = ? ORDER BY length(id), id').all(
          thread.id,
        ) as MessageRow[]
      ).map(toMessage);
      entry.thread = { id: thread.id, name: thread.name, archived: thread.archived === 1, messages };
    }
    const ref = (entry.body.message_reference as { message_id?: unknown } | undefined)?.message_id;
    if (typeof ref === 'string') {
      const target = previewMessage(db, ref);
      if (target) entry.replyTo = target;
    }
    return entry;
  });
}

/**
 * Keeps the newest `keep` channel messages; older ones go with their threads' messages and files.
 * Returns how many channel messages were dropped.
 */
export function prunePreview(db: Database, keep: number): number {
  return db.transaction(() => {
    const old = stmt(
      db,
      `SELECT id FROM preview_messages WHERE channel_id NOT IN (SELECT id FROM preview_threads)
       ORDER BY length(id) DESC, id DESC LIMIT -1 OFFSET ?`,
    ).all(keep) as { id: string }[];
    for (const { id } of old) {
      if (isThread(db, id)) stmt(db, 'DELETE FROM preview_messages WHERE channel_id = ?').run(id);
      stmt(db, 'DELETE FROM preview_messages WHERE id = ?').run(id);
    }
    return old.length;
  })();
}
