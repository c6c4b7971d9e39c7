// The outbox table's schema steps (listed in order in db.ts MIGRATIONS); its queries are in outbox.ts.

/** Schema of the outbox table (migration 1 in db.ts). */
export const OUTBOX_MIGRATION = `
CREATE TABLE outbox (
  -- AUTOINCREMENT: ids are never reused, so a Discord nonce derived from the id stays unique.
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  order_key       TEXT    NOT NULL CHECK (length(order_key) > 0),
  kind            TEXT    NOT NULL CHECK (kind IN ('create', 'edit', 'reply')),
  channel_id      TEXT    NOT NULL,
  body            TEXT    NOT NULL CHECK (json_valid(body)),
  target_id       INTEGER NULL REFERENCES outbox(id),
  status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT    NULL,
  message_id      TEXT    NULL,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  CHECK ((kind = 'create') = (target_id IS NULL))
);
CREATE INDEX outbox_pending_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_pending_key ON outbox (order_key, id) WHERE status = 'pending';
`;

/** The file columns (migration 7 in db.ts): its name, and its bytes until the item is sent. */
export const OUTBOX_FILE_MIGRATION = `
ALTER TABLE outbox ADD COLUMN file_name TEXT NULL CHECK (file_name IS NULL OR length(file_name) BETWEEN 1 AND 1024);
ALTER TABLE outbox ADD COLUMN file_data BLOB NULL;
`;

/**
 * Widens the kind CHECK for the thread kinds (migration 8 in db.ts, run with foreign keys off).
 * SQLite cannot alter a CHECK, so the table is copied into a new one with the same columns, ids
 * included, and renamed; the references to it (target_id, incidents.create_outbox_id) name
 * "outbox" and hold again once the copy has the name (db.ts checks them before committing).
 */
export const OUTBOX_THREAD_MIGRATION = `
CREATE TABLE outbox_v8 (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  order_key       TEXT    NOT NULL CHECK (length(order_key) > 0),
  kind            TEXT    NOT NULL CHECK (kind IN ('create', 'edit', 'reply', 'thread', 'thread-post', 'thread-archive')),
  channel_id      TEXT    NOT NULL,
  body            TEXT    NOT NULL CHECK (json_valid(body)),
  target_id       INTEGER NULL REFERENCES outbox(id),
  status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT    NULL,
  message_id      TEXT    NULL,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  file_name       TEXT    NULL CHECK (file_name IS NULL OR length(file_name) BETWEEN 1 AND 1024),
  file_data       BLOB    NULL,
  CHECK ((kind = 'create') = (target_id IS NULL))
);
INSERT INTO outbox_v8 (id, order_key, kind, channel_id, body, target_id, status, attempts, next_attempt_at, last_error, message_id, created_at, updated_at, file_name, file_data)
  SELECT id, order_key, kind, channel_id, body, target_id, status, attempts, next_attempt_at, last_error, message_id, created_at, updated_at, file_name, file_data FROM outbox;
-- AUTOINCREMENT's high-water mark: ids of deleted items are still never reused.
DELETE FROM sqlite_sequence WHERE name = 'outbox_v8';
INSERT INTO sqlite_sequence (name, seq) SELECT 'outbox_v8', seq FROM sqlite_sequence WHERE name = 'outbox';
DROP TABLE outbox;
ALTER TABLE outbox_v8 RENAME TO outbox;
CREATE INDEX outbox_pending_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_pending_key ON outbox (order_key, id) WHERE status = 'pending';
`;

/**
 * The superseded status and the priority column (migration 11 in db.ts, run with foreign keys
 * off): the table is copied as in migration 8, with both added.
 */
export const OUTBOX_PRIORITY_MIGRATION = `
CREATE TABLE outbox_v11 (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  order_key       TEXT    NOT NULL CHECK (length(order_key) > 0),
  kind            TEXT    NOT NULL CHECK (kind IN ('create', 'edit', 'reply', 'thread', 'thread-post', 'thread-archive')),
  channel_id      TEXT    NOT NULL,
  body            TEXT    NOT NULL CHECK (json_valid(body)),
  target_id       INTEGER NULL REFERENCES outbox(id),
  status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'superseded')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT    NULL,
  message_id      TEXT    NULL,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  file_name       TEXT    NULL CHECK (file_name IS NULL OR length(file_name) BETWEEN 1 AND 1024),
  file_data       BLOB    NULL,
  priority        INTEGER NOT NULL DEFAULT 2 CHECK (priority BETWEEN 0 AND 4),
  CHECK ((kind = 'create') = (target_id IS NULL))
);
INSERT INTO outbox_v11 (id, order_key, kind, channel_id, body, target_id, status, attempts, next_attempt_at, last_error, message_id, created_at, updated_at, file_name, file_data)
  SELECT id, order_key, kind, channel_id, body, target_id, status, attempts, next_attempt_at, last_error, message_id, created_at, updated_at, file_name, file_data FROM outbox;
DELETE FROM sqlite_sequence WHERE name = 'outbox_v11';
INSERT INTO sqlite_sequence (name, seq) SELECT 'outbox_v11', seq FROM sqlite_sequence WHERE name = 'outbox';
DROP TABLE outbox;
ALTER TABLE outbox_v11 RENAME TO outbox;
CREATE INDEX outbox_pending_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_pending_key ON outbox (order_key, id) WHERE status = 'pending';
CREATE INDEX outbox_pending_target ON outbox (target_id, kind) WHERE status = 'pending';
`;

/**
 * Migration 22: who delivers an item (`claimed_by`, a replica id) and until when. A replica claims
 * an item right before its attempt; another replica takes it only once the claim has run out, so
 * two replicas never send the same item at once, and a replica that died loses its claims within
 * the claim's length (cluster.leaseTtl).
 */
export const OUTBOX_CLAIM_MIGRATION = `
ALTER TABLE outbox ADD COLUMN claimed_by TEXT NULL;
ALTER TABLE outbox ADD COLUMN claim_until INTEGER NULL;
`;
