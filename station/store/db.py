"""Connections, transactions and every query.

One writer connection behind a lock (all writes go through `Store.transaction()`), and one
reader connection per thread (WAL lets readers run beside the writer). Durability is
`synchronous=FULL`: a scan whose verdict was shown survives a power cut.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from station.domain.codes import new_id
from station.domain.errors import InvalidInput
from station.domain.events import Event
from station.domain.models import Client, Pass, Scan
from station.store import health, migrations, search
from station.store.failures import storage_errors
from station.store.privacy import make_private
from station.store.rows import (
    PASS_COLUMNS,
    client_from_row,
    event_from_row,
    pass_from_row,
    pass_values,
    scan_from_row,
)
from station.store.search import filter_sql as search_filter
from station.store.search import is_common as search_is_common

log = logging.getLogger(__name__)

DB_NAME = "station.db"


WAL_AUTOCHECKPOINT = 1000  # pages: SQLite's default, restored after a deferred-checkpoint commit


def _connect(path: Path) -> sqlite3.Connection:
    # Autocommit mode: transactions are opened explicitly with BEGIN IMMEDIATE.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA cache_size=-65536")  # 64 MiB: keeps the code index hot at 1M passes
    search.register(conn)  # the pass upsert folds the search key with it
    return conn


def _initialise(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode=WAL")
    migrations.migrate(conn)


CHUNK = 500  # values per IN (...) list, well under SQLite's limit on bound parameters


def chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def marks(n: int) -> str:
    return ", ".join("?" * n)


# SQLite's NOCASE folds ASCII letters only; this is the same fold, so a dict keyed by it agrees
# with `email = ? COLLATE NOCASE` (and is the same on every station).
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def nocase(text: str) -> str:
    return text.translate(_ASCII_LOWER)


def _cursor(cursor: str) -> list[Any]:
    """A page cursor is "<timestamp>|<rowid>": the sort key of the last row of the previous page.
    Rowid breaks ties between rows stamped in the same millisecond (imports)."""
    stamp, _, row = cursor.partition("|")
    if not stamp or not row.isdigit() or len(cursor) > 64:
        raise InvalidInput("That page cursor is not one this station gave out; start from the first page.")
    return [stamp, int(row)]


def _next_cursor(rows: list[dict[str, Any]], limit: int, key: str) -> str | None:
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return f"{last[key]}|{last['_row']}"


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Any]
    next_cursor: str | None


@functools.cache
def _upsert_pass_sql(columns: tuple[str, ...]) -> str:
    # Numbered parameters: the search key is folded from the name and e-mail parameters, in
    # the statement, so no caller can write a pass without it (an update without an e-mail
    # keeps the row's e-mail, and the key keeps it too).
    marks = ", ".join(f"?{i}" for i in range(1, len(columns) + 1))
    name, email = (f"?{columns.index(c) + 1}" for c in ("name", "email"))
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in ("id", "email"))
    return (f"INSERT INTO passes ({', '.join(columns)}, search_key) "
            f"VALUES ({marks}, {search.key_sql(name, email)}) "
            f"ON CONFLICT(id) DO UPDATE SET {updates}, email = coalesce(excluded.email, passes.email), "
            f"search_key = {search.key_sql('excluded.name', 'coalesce(excluded.email, passes.email)')}")


# Called with the events a statement just inserted (one, or a whole batch: imports, sync).
AppendHook = Callable[["Tx", Sequence[Event]], None]


class Tx:
    """Write access inside one transaction. Only `Store.transaction()` makes these."""

    def __init__(self, conn: sqlite3.Connection, station_id: str,
                 hooks: Sequence[AppendHook] = ()) -> None:
        self._conn = conn
        self.station_id = station_id
        self.appended: list[Event] = []
        self._hooks = hooks
        self._origin_seq: int | None = None
        self.memo: dict[str, Any] = {}  # what hooks look up once per transaction

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Raw SQL inside this transaction, for the store's own modules (outbox, keys…)."""
        return self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> sqlite3.Cursor:
        return self._conn.executemany(sql, rows)

    # reads that must see this transaction's own writes
    def pass_by_code(self, code: str) -> Pass | None:
        row = self._conn.execute("SELECT * FROM passes WHERE code = ?", (code,)).fetchone()
        return pass_from_row(dict(row)) if row else None

    def pass_by_id(self, pass_id: str) -> Pass | None:
        row = self._conn.execute("SELECT * FROM passes WHERE id = ?", (pass_id,)).fetchone()
        return pass_from_row(dict(row)) if row else None

    def client_by_id(self, client_id: str) -> Client | None:
        row = self._conn.execute("SELECT * FROM clients WHERE id = ?", (client_id,)).fetchone()
        return client_from_row(dict(row)) if row else None

    def client_by_email(self, email: str) -> Client | None:
        row = self._conn.execute(
            "SELECT * FROM clients WHERE email = ? COLLATE NOCASE ORDER BY created_at LIMIT 1",
            (email,),
        ).fetchone()
        return client_from_row(dict(row)) if row else None

    def clients_by_emails(self, emails: Sequence[str]) -> dict[str, Client]:
        """The oldest client of each address, keyed by `nocase(email)` (as client_by_email)."""
        found: dict[str, Client] = {}
        for chunk in chunks(sorted({nocase(e) for e in emails})):
            rows = self._conn.execute(
                f"SELECT * FROM clients WHERE email COLLATE NOCASE IN ({marks(len(chunk))}) "
                "ORDER BY created_at DESC", chunk).fetchall()
            for row in rows:  # newest first: the oldest of an address is written last
                found[nocase(row["email"])] = client_from_row(dict(row))
        return found

    def clients_by_ids(self, client_ids: Sequence[str]) -> dict[str, Client]:
        found: dict[str, Client] = {}
        for chunk in chunks(sorted(set(client_ids))):
            for row in self._conn.execute(
                    f"SELECT * FROM clients WHERE id IN ({marks(len(chunk))})", chunk):
                found[row["id"]] = client_from_row(dict(row))
        return found

    def taken_codes(self, codes: Sequence[str]) -> set[str]:
        taken: set[str] = set()
        for chunk in chunks(list(codes)):
            taken.update(r[0] for r in self._conn.execute(
                f"SELECT code FROM passes WHERE code IN ({marks(len(chunk))})", chunk))
        return taken

    def events_for_pass(self, pass_id: str) -> list[Event]:
        rows = self._conn.execute(
            "SELECT * FROM events WHERE pass_id = ? ORDER BY hlc, origin, id", (pass_id,)
        ).fetchall()
        return [event_from_row(dict(r)) for r in rows]

    def has_event(self, event_id: str) -> bool:
        return self._conn.execute("SELECT 1 FROM events WHERE id = ?", (event_id,)).fetchone() is not None

    def scan_event_id(self, scan_id: str) -> str | None:
        row = self._conn.execute("SELECT event_id FROM scans WHERE id = ?", (scan_id,)).fetchone()
        return row[0] if row else None

    def event_by_id(self, event_id: str) -> Event | None:
        row = self._conn.execute("SELECT * FROM events WHERE id = ?", (event_id,)).fetchone()
        return event_from_row(dict(row)) if row else None

    # writes
    def upsert_pass(self, p: Pass, email: str | None = None) -> None:
        self.upsert_pass_values([pass_values(p, email)])

    def upsert_passes(self, items: Sequence[tuple[Pass, str | None]]) -> None:
        """Many passes in one statement (sync applies thousands per transaction)."""
        self.upsert_pass_values([pass_values(p, email) for p, email in items])

    def upsert_pass_values(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Rows already in PASS_COLUMNS order (see rows.pass_values)."""
        if rows:
            top = search.last_rowid(self._conn)
            self._conn.executemany(_upsert_pass_sql(PASS_COLUMNS), rows)
            search.index_new_rows(self._conn, top)

    def insert_client(self, c: Client) -> None:
        self.insert_clients([c])

    def insert_clients(self, clients: Sequence[Client]) -> None:
        self._conn.executemany(
            "INSERT INTO clients (id, name, email, phone, created_at) VALUES (?, ?, ?, ?, ?)",
            [(c.id, c.name, c.email, c.phone, c.created_at) for c in clients],
        )

    def insert_scan(self, s: Scan, event_id: str | None) -> None:
        self._conn.execute(
            "INSERT INTO scans (id, pass_id, station_id, scanned_at, verdict, reason, source, "
            "operator, payload, event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (s.id, s.pass_id, s.station_id, s.scanned_at, str(s.verdict), s.reason, s.source,
             s.operator, s.payload[:256], event_id),
        )

    def next_origin_seq(self) -> int:
        # Asked once per transaction; the writer lock makes the local count safe to keep.
        if self._origin_seq is None:
            row = self._conn.execute(
                "SELECT coalesce(max(origin_seq), 0) FROM events WHERE origin = ?", (self.station_id,)
            ).fetchone()
            self._origin_seq = int(row[0])
        self._origin_seq += 1
        return self._origin_seq

    def append_event(self, event: Event) -> bool:
        """Insert if the id is new (events arrive again from peers); True when inserted."""
        cur = self._conn.execute(
            "INSERT OR IGNORE INTO events (id, type, origin, origin_seq, hlc, pass_id, timestamp, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (event.id, event.type, event.origin, event.origin_seq, event.hlc, event.pass_id,
             event.timestamp, json.dumps(event.data, separators=(",", ":"), sort_keys=True)),
        )
        if cur.rowcount:
            self.inserted([event])
            return True
        return False

    def append_new_events(self, events: Sequence[Event]) -> None:
        """Insert events this station has just made (fresh ids) in one statement (imports)."""
        self._conn.executemany(
            "INSERT INTO events (id, type, origin, origin_seq, hlc, pass_id, timestamp, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(e.id, e.type, e.origin, e.origin_seq, e.hlc, e.pass_id, e.timestamp,
              json.dumps(e.data, separators=(",", ":"), sort_keys=True)) for e in events],
        )
        self.inserted(events)

    def inserted(self, events: Sequence[Event]) -> None:
        """Events just inserted into the log by this transaction (one at a time above, or in
        bulk by store.sync): published after commit, and passed to the append hooks."""
        self.appended.extend(events)
        # Hooks write rows that must commit or roll back with the event (webhook outbox).
        if events:
            for hook in self._hooks:
                hook(self, events)

    def set_setting(self, key: str, value: Any) -> None:
        self._conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )


class Store:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / DB_NAME
        self._write_lock = threading.RLock()
        self._urgent = 0  # door transactions waiting for the writer lock
        self.door_active_at = float("-inf")  # time.monotonic() of the last door transaction
        self._urgent_lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._readers_lock = threading.Lock()
        self._append_hooks: list[AppendHook] = []
        # A full or read-only disk at start is told like any failed write, not as a traceback.
        with storage_errors(self.data_dir, doing="open the station's data", os_errors=True):
            # Only a missing file makes a new station; an existing one must prove it is a
            # healthy Station database before anything changes on disk, modes included (a
            # zero-byte or foreign file once became a new station that admitted used passes).
            new = health.is_new(self.path)
            if not new:
                health.probe(self.path)
            make_private(self.data_dir)
            if new:
                health.create_atomically(self.path, _initialise)
            self._writer = _connect(self.path)
            try:
                found = migrations.migrate(self._writer)
                self.schema_found = 0 if new else found
                self.station_id = self._ensure_station_id()
            except BaseException:
                self._writer.close()
                raise

    # --- lifecycle -------------------------------------------------------------------------
    def _ensure_station_id(self) -> str:
        """A station id is minted once per data directory, and again when the database file is
        not the one that minted it (restored from a backup or copied to another machine), so
        two stations never share an id."""
        stat = os.stat(self.path)
        identity = f"{stat.st_dev}:{stat.st_ino}"
        current = self.setting("station_id")
        if current is not None and self.setting("db_identity") == identity:
            return str(current)
        with self._write_lock:
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                # Again under the write lock: another process starting on the same new
                # directory may have minted it since (two ids would both be kept in memory).
                current, owner = (self._writer_setting(k) for k in ("station_id", "db_identity"))
                if current is not None and owner == identity:
                    self._writer.execute("COMMIT")
                    return str(current)
                station_id = new_id("sta")
                tx = Tx(self._writer, station_id)
                tx.set_setting("station_id", station_id)
                tx.set_setting("db_identity", identity)
                if current is not None:
                    previous = list(self._writer_setting("previous_station_ids") or [])
                    tx.set_setting("previous_station_ids", [*previous, current])
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            self._writer.execute("COMMIT")
        if current is not None:
            log.warning(
                "This data directory was restored or copied; it now belongs to a new station id %s "
                "(was %s).", station_id, current,
            )
        return station_id

    def _writer_setting(self, key: str) -> Any:
        row = self._writer.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def close(self) -> None:
        with self._readers_lock:
            for _, conn in self._readers:
                conn.close()
            self._readers.clear()
        with self._write_lock:
            self._writer.close()

    def add_append_hook(self, hook: AppendHook) -> None:
        """Call `hook(tx, events)` inside the transaction each time new event rows are inserted.

        A hook's writes share the event's fate: if the transaction rolls back, so do they."""
        if hook not in self._append_hooks:
            self._append_hooks.append(hook)

    @contextlib.contextmanager
    def transaction(self, *, fsync: bool = True, door: bool = False) -> Iterator[Tx]:
        """The one write path. `fsync=False` commits without waiting for the disk (WAL with
        synchronous=NORMAL): still atomic, but a power cut may undo it. Only for writes that
        can be redone from elsewhere, as a sync catch-up batch together with its stream
        position. The next fsync'd commit (a scan) makes it durable too: it syncs the WAL,
        which holds both. Such a commit also leaves the WAL's copy into the database file to
        `checkpoint()`, run by the caller from another thread: done at commit, it held the
        writer lock (and a door's scan) for as long again as the batch itself. `door=True`
        marks a transaction a person at the door waits for (a scan): background jobs give way
        to it (see let_waiting_writers_in)."""
        if door:  # let_waiting_writers_in() sees it wait
            self.door_active_at = time.monotonic()
            with self._urgent_lock:
                self._urgent += 1
        try:
            self._write_lock.acquire()
        finally:
            if door:
                with self._urgent_lock:
                    self._urgent -= 1
        try:
            if not fsync:
                self._writer.execute("PRAGMA synchronous=NORMAL")
                self._writer.execute("PRAGMA wal_autocheckpoint=0")
            try:
                with storage_errors(self.data_dir):
                    self._writer.execute("BEGIN IMMEDIATE")
                    tx = Tx(self._writer, self.station_id, tuple(self._append_hooks))
                    try:
                        yield tx
                        # A COMMIT that fails (disk full) is rolled back too: the writer must
                        # be ready for the next transaction once the disk has room again.
                        self._writer.execute("COMMIT")
                    except BaseException:
                        self._rollback()
                        raise
            finally:
                if not fsync:
                    self._writer.execute("PRAGMA synchronous=FULL")
                    self._writer.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")
        finally:
            self._write_lock.release()

    def _rollback(self) -> None:
        # SQLite may already have rolled back by itself (SQLITE_FULL, IOERR): only roll back an
        # open transaction, and never let a failed rollback hide the error that caused it.
        if self._writer.in_transaction:
            try:
                self._writer.execute("ROLLBACK")
            except sqlite3.Error:
                log.exception("rolling back a failed transaction failed")

    def door_used_within(self, seconds: float) -> bool:
        """Whether a door transaction (a scan) began in the last `seconds`: long background jobs
        write in small steps then, and in large ones while the door is quiet."""
        return time.monotonic() - self.door_active_at < seconds

    def let_waiting_writers_in(self, limit_s: float = 0.5) -> None:
        """Between two transactions of a long background job (a history download): first let
        the door's transactions waiting for the writer lock through, for up to `limit_s`. A
        lock is not fair: released and taken again at once, it starved them."""
        deadline = time.monotonic() + limit_s
        while self._urgent and time.monotonic() < deadline:
            time.sleep(0.0005)

    def checkpoint(self) -> None:
        """Copy the WAL into the database file without holding up writers (PASSIVE: what a
        reader still needs stays in the WAL until the next time)."""
        self._reader().execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            with storage_errors(self.data_dir, doing="read the station's data",
                                outcome="nothing was changed"):
                conn = _connect(self.path)
            self._local.conn = conn
            with self._readers_lock:
                # Threads come and go (pools give each job a fresh thread state): close the
                # connections of threads that have ended, or file handles pile up.
                alive = []
                for thread, reader in self._readers:
                    if thread.is_alive():
                        alive.append((thread, reader))
                    else:
                        reader.close()
                alive.append((threading.current_thread(), conn))
                self._readers = alive
        return conn

    def db(self) -> sqlite_utils.Database:
        """A read-only view for this thread (sqlite-utils helpers for ad-hoc reads and tests)."""
        return sqlite_utils.Database(self._reader())

    def _one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        row = self._reader().execute(sql, params).fetchone()
        return dict(row) if row else None

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in self._reader().execute(sql, params).fetchall()]

    # --- settings ----------------------------------------------------------------------------
    def setting(self, key: str, default: Any = None) -> Any:
        row = self._reader().execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set_setting(self, key: str, value: Any) -> None:
        with self.transaction() as tx:
            tx.set_setting(key, value)

    # --- passes ------------------------------------------------------------------------------
    def pass_by_code(self, code: str) -> Pass | None:
        row = self._one("SELECT * FROM passes WHERE code = ?", (code,))
        return pass_from_row(row) if row else None

    def pass_by_id(self, pass_id: str) -> Pass | None:
        row = self._one("SELECT * FROM passes WHERE id = ?", (pass_id,))
        return pass_from_row(row) if row else None

    def list_passes(
        self,
        *,
        status: str | None = None,
        type_: str | None = None,
        search: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        """Newest first, keyset-paged: the cursor is the (created_at, id) of the last row."""
        common = bool(search) and search_is_common(self._reader(), search or "")
        where, params = self._pass_filters(status, type_, search, common=common)
        if cursor:
            where.append("(created_at, rowid) < (?, ?)")
            params += _cursor(cursor)
        sql = "SELECT rowid AS _row, * FROM passes"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, rowid DESC LIMIT ?"
        rows = self._all(sql, [*params, limit + 1])
        items = [pass_from_row(r) for r in rows[:limit]]
        return Page(items, _next_cursor(rows, limit, "created_at"))

    def count_passes(self, *, status: str | None = None, type_: str | None = None,
                     search: str | None = None) -> int:
        common = bool(search) and search_is_common(self._reader(), search or "", for_count=True)
        where, params = self._pass_filters(status, type_, search, common=common)
        sql = "SELECT count(*) AS n FROM passes" + (" WHERE " + " AND ".join(where) if where else "")
        row = self._one(sql, params)
        return int(row["n"]) if row else 0

    @staticmethod
    def _pass_filters(status: str | None, type_: str | None, search: str | None, *,
                      common: bool = False) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if status:
            where.append("status = ?")
            params.append(status)
        if type_:
            where.append("type = ?")
            params.append(type_)
        if search:
            term, values = search_filter(search, common=common)
            where.append(term)
            params += values
        return where, params

    def passes_due_to_expire(self, now_iso: str, limit: int = 500) -> list[Pass]:
        rows = self._all(
            "SELECT * FROM passes WHERE status = 'active' AND valid_until IS NOT NULL "
            "AND valid_until < ? ORDER BY valid_until LIMIT ?",
            (now_iso, limit),
        )
        return [pass_from_row(r) for r in rows]

    def pass_counts(self) -> dict[str, int]:
        rows = self._all("SELECT status, count(*) AS n FROM passes GROUP BY status")
        return {r["status"]: r["n"] for r in rows}

    # --- clients -----------------------------------------------------------------------------
    def client_by_id(self, client_id: str) -> Client | None:
        row = self._one("SELECT * FROM clients WHERE id = ?", (client_id,))
        return client_from_row(row) if row else None

    def list_clients(self, *, limit: int = 50, cursor: str | None = None) -> Page:
        params: list[Any] = []
        sql = "SELECT rowid AS _row, * FROM clients"
        if cursor:
            sql += " WHERE (created_at, rowid) < (?, ?)"
            params += _cursor(cursor)
        sql += " ORDER BY created_at DESC, rowid DESC LIMIT ?"
        rows = self._all(sql, [*params, limit + 1])
        items = [client_from_row(r) for r in rows[:limit]]
        return Page(items, _next_cursor(rows, limit, "created_at"))

    # --- scans -------------------------------------------------------------------------------
    def list_scans(self, *, pass_id: str | None = None, limit: int = 50,
                   cursor: str | None = None, since: str | None = None) -> Page:
        where: list[str] = []
        params: list[Any] = []
        if pass_id:
            where.append("pass_id = ?")
            params.append(pass_id)
        if since:
            where.append("scanned_at >= ?")
            params.append(since)
        if cursor:
            where.append("(scanned_at, rowid) < (?, ?)")
            params += _cursor(cursor)
        sql = "SELECT rowid AS _row, * FROM scans" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY scanned_at DESC, rowid DESC LIMIT ?"
        rows = self._all(sql, [*params, limit + 1])
        items = [scan_from_row(r) for r in rows[:limit]]
        return Page(items, _next_cursor(rows, limit, "scanned_at"))

    def iter_scan_rows(self, batch: int = 1000) -> Iterator[dict[str, Any]]:
        """Scans joined with their pass's code and name, oldest first, for CSV export."""
        last = ("", "")
        while True:
            rows = self._all(
                "SELECT s.id, s.scanned_at AS scannedAt, s.verdict, s.reason, s.pass_id AS passId, "
                "p.code AS passCode, p.name AS passName, s.station_id AS stationId, s.source, "
                "s.operator FROM scans s LEFT JOIN passes p ON p.id = s.pass_id "
                "WHERE (s.scanned_at, s.id) > (?, ?) ORDER BY s.scanned_at, s.id LIMIT ?",
                (*last, batch),
            )
            if not rows:
                return
            yield from rows
            last = (rows[-1]["scannedAt"], rows[-1]["id"])

    # --- events ------------------------------------------------------------------------------
    def events_for_pass(self, pass_id: str) -> list[Event]:
        rows = self._all("SELECT * FROM events WHERE pass_id = ? ORDER BY hlc, origin, id", (pass_id,))
        return [event_from_row(r) for r in rows]

    def max_hlc(self) -> str | None:
        row = self._one("SELECT max(hlc) AS h FROM events")
        return row["h"] if row else None

    def count_events(self) -> int:
        row = self._one("SELECT count(*) AS n FROM events")
        return int(row["n"]) if row else 0
