"""Schema versions, tracked in PRAGMA user_version.

Each step is plain DDL run inside one explicit transaction (SQLite DDL is transactional), so a
failed step leaves the previous version intact. sqlite-utils' table helpers are not used for
writes because they commit on their own (`with conn:`), which would split a transaction.
"""

from __future__ import annotations

import sqlite3

from station.domain.errors import StationError
from station.store import occupancy, search
from station.store.tx import Tx

V1_CORE = """
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE clients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX idx_clients_email ON clients (email);
CREATE INDEX idx_clients_created ON clients (created_at, id);
CREATE TABLE passes (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    uses INTEGER NOT NULL DEFAULT 0,
    max_uses INTEGER,
    valid_from TEXT,
    valid_until TEXT,
    client_id TEXT,
    email TEXT,            -- the client's, copied so that search needs no join
    fields TEXT NOT NULL DEFAULT '{}',
    public_url TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    provisional INTEGER NOT NULL DEFAULT 0,
    conflicts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX idx_passes_created ON passes (created_at, id);
CREATE INDEX idx_passes_status_until ON passes (status, valid_until);
CREATE INDEX idx_passes_name ON passes (name COLLATE NOCASE);
CREATE INDEX idx_passes_email ON passes (email COLLATE NOCASE);
CREATE TABLE scans (
    id TEXT PRIMARY KEY,
    pass_id TEXT,
    station_id TEXT NOT NULL,
    scanned_at TEXT NOT NULL,
    verdict TEXT NOT NULL,
    reason TEXT,
    source TEXT NOT NULL,
    operator TEXT,
    payload TEXT NOT NULL DEFAULT '',
    event_id TEXT
);
CREATE INDEX idx_scans_pass ON scans (pass_id, scanned_at);
CREATE INDEX idx_scans_time ON scans (scanned_at, id);
-- seq is the local arrival order (what triggers, outboxes and sync page by);
-- (origin, origin_seq) is the event's place in its own station's log.
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    origin TEXT NOT NULL,
    origin_seq INTEGER NOT NULL,
    hlc TEXT NOT NULL,
    pass_id TEXT,
    timestamp TEXT NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (origin, origin_seq)
);
CREATE INDEX idx_events_pass ON events (pass_id, hlc);
CREATE INDEX idx_events_type ON events (type, seq);
CREATE INDEX idx_events_time ON events (timestamp, id);
"""

V2_API = """
-- Embedded API keys: only a SHA-256 of the key is kept; `prefix` lets a person recognise one.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    rate_limit INTEGER NOT NULL DEFAULT 30,   -- requests per minute
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
-- Webhook subscriptions; their signing secrets live in the SecretStore, never here.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    target_url TEXT NOT NULL,
    created_at TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    disabled_reason TEXT,
    disabled_at TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX idx_webhooks_event ON webhooks (event, enabled);
-- The outbox: one row per (subscription, event), written in the event's own transaction.
CREATE TABLE webhook_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',    -- pending | succeeded | failed
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,            -- unix seconds
    created_at TEXT NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX idx_deliveries_due ON webhook_deliveries (webhook_id, state, next_attempt_at);
CREATE TABLE webhook_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at TEXT NOT NULL,
    status INTEGER,
    duration_ms REAL NOT NULL,
    response TEXT,                            -- the first bytes of the answer
    error TEXT
);
CREATE INDEX idx_attempts_delivery ON webhook_attempts (delivery_id, id);
-- Polling (`GET /api/v1/triggers?event=`) pages newest first by (timestamp, id) within a type.
CREATE INDEX idx_events_type_time ON events (type, timestamp, id);
"""

V2_SYNC = """
-- Sync bookkeeping (station/store/sync.py). One row per hub this station has synced with:
-- published_seq is the local events.seq up to which every own event was acknowledged by it.
CREATE TABLE sync_progress (
    hub TEXT PRIMARY KEY,
    published_seq INTEGER NOT NULL DEFAULT 0,
    last_sync_at TEXT
);
-- What peers announced about themselves (name, head of their own log) for names and lag.
CREATE TABLE sync_peers (
    station_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    head_seq INTEGER NOT NULL DEFAULT 0,
    seen_at TEXT NOT NULL
);
"""

V3_SYNC_STREAM_SEQ = """
-- The hub stream's sequence up to which this station has applied (or skipped) every message.
-- Written in the same transaction as the events it covers: the consumer restarts from it.
ALTER TABLE sync_progress ADD COLUMN stream_seq INTEGER NOT NULL DEFAULT 0;
"""

V4_DROP_UNUSED_INDEXES = """
-- Every replicated event and pass row updates each of these B-trees (the writer thread is the
-- critical path of a sync catch-up), yet no query uses them (EXPLAIN QUERY PLAN of every query
-- in station/store/): (type, seq) is covered by idx_events_type_time's (type) prefix; nothing
-- orders events by (timestamp, id) without a type; pass search is LIKE '%text%', which no
-- index can serve, so the NOCASE name and email indexes were only ever written.
DROP INDEX IF EXISTS idx_events_type;
DROP INDEX IF EXISTS idx_events_time;
DROP INDEX IF EXISTS idx_passes_name;
DROP INDEX IF EXISTS idx_passes_email;
"""

V5_SYNC_RELEASES = """
-- Hub claims this station must give back (a single-use admission undone while strict claims
-- are on): written in the undo's own transaction, deleted once the hub has been told, so an
-- undo made while the hub was away is released after a restart too. One row per pass:
-- admitted_at is the undone admission's time (a claim this door made later stands).
CREATE TABLE sync_releases (
    pass_id TEXT PRIMARY KEY,
    admitted_at TEXT NOT NULL
);
"""

V6_WEBHOOK_TOMBSTONES = """
-- A deleted webhook subscription (unsubscribed, or its target answered 410 Gone) stays as a
-- tombstone for a few days (store/webhooks.py KEEP_DELETED) so its delivery log stays readable;
-- it no longer counts toward the 10 and is never sent to. Purging the tombstone removes its
-- deliveries and attempts (ON DELETE CASCADE).
ALTER TABLE webhooks ADD COLUMN deleted_at TEXT;
"""

V7_STATION_APPLICATION_ID = """
-- Marks the file as a Station database ("STN1", station.store.health.APPLICATION_ID), so that
-- another program's SQLite file put in a data directory is recognised and refused.
PRAGMA application_id = 1398033969;
"""

V8_CLIENTS_EMAIL_NOCASE_INDEX = """
-- A client is found by e-mail whatever its case (COLLATE NOCASE: ASCII letters only, the same
-- on every station, so clients synced from other doors match alike). The BINARY index could
-- not serve that comparison: each lookup scanned the table, and an import with e-mails was
-- quadratic (50k rows: 291 s). This index has the query's collation, and created_at after it
-- gives the oldest client of an address without a sort.
DROP INDEX IF EXISTS idx_clients_email;
CREATE INDEX idx_clients_email_nocase ON clients (email COLLATE NOCASE, created_at);
"""

V9_IMPORTED_ROWS = """
-- Which CSV rows are already passes, so that importing a file again (after a kill, or once it
-- finished) imports only the rows still missing. row_key is the row's reference column value
-- or a hash of its content, with its occurrence in the file (station/services/imports.py).
-- Written in the transaction that creates the pass. Local to this data directory.
CREATE TABLE imported_rows (
    row_key TEXT PRIMARY KEY,
    pass_id TEXT NOT NULL,
    imported_at TEXT NOT NULL
) WITHOUT ROWID;
"""

V10_SEARCH_KEY = """
-- Search ignores case and accents ("chloe" finds "Chloé Müller", "MÜLLER" finds her too), through
-- an index (LIKE '%text%' read every row; SQLite's NOCASE folds ASCII only). search_key is the
-- name and e-mail folded in Python (station/store/search.py), written by every pass upsert;
-- passes_search indexes its trigrams (SQLite >= 3.34). New rows are indexed by the upsert, one
-- statement per batch: an AFTER INSERT trigger made FTS5 flush a segment for every row (a
-- statement savepoint each), 88 against 25 us a row. The rare change of a key and a removed
-- pass follow through the triggers below, which skip updates that keep the key (a scan). The
-- index refers to passes by rowid, which the backup API keeps; after a VACUUM run by hand,
-- rebuild it: INSERT INTO passes_search (passes_search) VALUES ('rebuild').
ALTER TABLE passes ADD COLUMN search_key TEXT NOT NULL DEFAULT '';
UPDATE passes SET search_key = station_fold(name || ' ' || coalesce(email, ''));
CREATE VIRTUAL TABLE passes_search USING fts5(
    search_key, content='passes', content_rowid='rowid', tokenize='trigram'
);
INSERT INTO passes_search (passes_search) VALUES ('rebuild');
CREATE TRIGGER passes_search_update AFTER UPDATE OF search_key ON passes
WHEN old.search_key IS NOT new.search_key BEGIN
    INSERT INTO passes_search (passes_search, rowid, search_key)
        VALUES ('delete', old.rowid, old.search_key);
    INSERT INTO passes_search (rowid, search_key) VALUES (new.rowid, new.search_key);
END;
CREATE TRIGGER passes_search_delete AFTER DELETE ON passes BEGIN
    INSERT INTO passes_search (passes_search, rowid, search_key)
        VALUES ('delete', old.rowid, old.search_key);
END;
"""

V11_CHECKIN_LISTS = """
-- Check-in lists, exits and occupancy (docs/checkin-lists.md "The store"). The door's verdict
-- with a list reads these with index probes; nothing on its path folds the log.
-- The lists as the fold of every list.changed event (a handful of rows), data = to_json().
CREATE TABLE checkin_lists (id TEXT PRIMARY KEY, name TEXT NOT NULL, data TEXT NOT NULL);
-- Which way a scan counted people, at which list; a re-entry is a movement, not a use (stats
-- count neither an exit nor a re-entry as an admission). Old rows are entries, as their events.
ALTER TABLE scans ADD COLUMN direction TEXT NOT NULL DEFAULT 'entry';
ALTER TABLE scans ADD COLUMN list_id TEXT;
ALTER TABLE scans ADD COLUMN reentry INTEGER NOT NULL DEFAULT 0;
-- The occupancy fold's state as rows ('' stands for "no list"): one row per open entry (the
-- latest by entry_key is what an exit takes), the lists a pass entered since their last
-- check-out (re-entry), and the count inside per list, all kept in the transaction of the
-- event that changes them (store/occupancy.py).
CREATE TABLE occupancy_open (
    pass_id TEXT NOT NULL,
    list_id TEXT NOT NULL,
    entry_key TEXT NOT NULL,
    scan_id TEXT,
    PRIMARY KEY (pass_id, entry_key)
) WITHOUT ROWID;
CREATE TABLE occupancy_visited (
    pass_id TEXT NOT NULL,
    list_id TEXT NOT NULL,
    PRIMARY KEY (pass_id, list_id)
) WITHOUT ROWID;
CREATE TABLE occupancy_counts (list_id TEXT PRIMARY KEY, inside INTEGER NOT NULL);
-- A pass's note for the door ("Check ID — under 18"); NULL: none.
ALTER TABLE passes ADD COLUMN attention TEXT;
"""

MIGRATIONS: list[str] = [V1_CORE, V2_SYNC, V2_API, V3_SYNC_STREAM_SEQ, V4_DROP_UNUSED_INDEXES,
                         V5_SYNC_RELEASES, V6_WEBHOOK_TOMBSTONES, V7_STATION_APPLICATION_ID,
                         V8_CLIENTS_EMAIL_NOCASE_INDEX, V9_IMPORTED_ROWS, V10_SEARCH_KEY,
                         V11_CHECKIN_LISTS]
LATEST = len(MIGRATIONS)


def current_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _statements(script: str) -> list[str]:
    """The statements of a script, whole: a trigger's body holds semicolons of its own."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines():
        pending += line.split("--")[0] + "\n"
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        statements.append(pending.strip())
    return statements


def apply_step(conn: sqlite3.Connection, version: int) -> None:
    """Run the statements that take the schema from `version` to the next (no transaction,
    no user_version: migrate() does both). Steps may call the store's SQL functions."""
    search.register(conn)
    for statement in _statements(MIGRATIONS[version]):
        conn.execute(statement)
    if MIGRATIONS[version] is V11_CHECKIN_LISTS:
        # The rows of what the log already holds (every admission so far is an entry).
        occupancy.rebuild(Tx(conn, ""))


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to LATEST; returns the version found before. `conn` is in autocommit mode."""
    found = current_version(conn)
    if found > LATEST:
        raise StationError(
            f"This data directory was written by a newer Station (schema {found}; this one knows "
            f"{LATEST}). Upgrade Station or use another data directory."
        )
    for version in range(found, LATEST):
        conn.execute("BEGIN IMMEDIATE")
        try:
            apply_step(conn, version)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return found
