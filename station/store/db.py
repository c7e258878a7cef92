"""Connections, the writer and the reads.

Every write is a job of the one writer thread (store/writer.py), which owns the write
connection: `Store.write(fn, priority)` (or `submit`, `awrite`, `submit_steps`) runs `fn(tx)`
in one transaction. Each thread that reads has its own reader connection (WAL lets readers
run beside the writer). Durability is `synchronous=FULL`: a scan whose verdict was shown
survives a power cut.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from station.domain.codes import new_id
from station.domain.errors import InvalidInput
from station.domain.events import Event
from station.domain.models import Client, Pass
from station.store import health, migrations, search
from station.store.failures import storage_errors
from station.store.lists import keep_lists
from station.store.occupancy import keep_occupancy
from station.store.privacy import make_private
from station.store.rows import client_from_row, event_from_row, pass_from_row, scan_from_row
from station.store.search import filter_sql as search_filter
from station.store.search import is_common as search_is_common
from station.store.tx import AppendHook, Tx, chunks, marks, nocase
from station.store.writer import Priority, Writer

__all__ = ["DB_NAME", "AppendHook", "Page", "Priority", "Store", "Tx", "chunks", "marks", "nocase"]

log = logging.getLogger(__name__)

DB_NAME = "station.db"

T = TypeVar("T")


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


WAL_COPY_INTERVAL_S = 0.25


class Store:
    """The station's data. Writes: `write`/`submit`/`awrite`/`submit_steps`, run by the writer
    thread (`station-writer`) by priority; `inline_writes=True` runs them on the caller's
    thread instead (tests, one-shot commands). Reads: the methods below, on the calling
    thread's own reader connection."""

    def __init__(self, data_dir: Path, *, inline_writes: bool = False) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / DB_NAME
        self._local = threading.local()
        self._readers: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._readers_lock = threading.Lock()
        # The store's own derived rows, kept with every event that changes them.
        self._append_hooks: list[AppendHook] = [keep_occupancy, keep_lists]
        self._checkpointer: threading.Thread | None = None
        self._checkpoint_lock = threading.Lock()
        self._checkpoint_wanted = False
        self._closing = threading.Event()
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
            conn = _connect(self.path)
            try:
                found = migrations.migrate(conn)
                self.schema_found = 0 if new else found
                self.station_id = self._ensure_station_id(conn)
            except BaseException:
                conn.close()
                raise
        self._writer = Writer(conn, self.data_dir, self._new_tx, inline=inline_writes,
                              after_unsynced_commit=self.checkpoint_soon)

    # --- lifecycle -------------------------------------------------------------------------
    def _ensure_station_id(self, conn: sqlite3.Connection) -> str:
        """A station id is minted once per data directory, and again when the database file is
        not the one that minted it (restored from a backup or copied to another machine), so
        two stations never share an id. Runs before the writer starts, on its connection."""
        stat = os.stat(self.path)
        identity = f"{stat.st_dev}:{stat.st_ino}"
        current = self.setting("station_id")
        if current is not None and self.setting("db_identity") == identity:
            return str(current)

        def setting(key: str) -> Any:
            row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
            return None if row is None else json.loads(row[0])

        conn.execute("BEGIN IMMEDIATE")
        try:
            # Again in the transaction: another process starting on the same new directory
            # may have minted it since (two ids would both be kept in memory).
            current, owner = (setting(k) for k in ("station_id", "db_identity"))
            if current is not None and owner == identity:
                conn.execute("COMMIT")
                return str(current)
            station_id = new_id("sta")
            tx = Tx(conn, station_id)
            tx.set_setting("station_id", station_id)
            tx.set_setting("db_identity", identity)
            if current is not None:
                previous = list(setting("previous_station_ids") or [])
                tx.set_setting("previous_station_ids", [*previous, current])
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        if current is not None:
            log.warning(
                "This data directory was restored or copied; it now belongs to a new station id %s "
                "(was %s).", station_id, current,
            )
        return station_id

    def close(self) -> None:
        """Run the writes already submitted, wait for a WAL copy under way, then close."""
        self._writer.close()
        self._closing.set()
        with self._checkpoint_lock:
            checkpointer = self._checkpointer
        if checkpointer is not None:
            checkpointer.join()
        with self._readers_lock:
            for _, conn in self._readers:
                conn.close()
            self._readers.clear()

    def add_append_hook(self, hook: AppendHook) -> None:
        """Call `hook(tx, events)` inside the transaction each time new event rows are inserted.

        A hook's writes share the event's fate: if the transaction rolls back, so do they."""
        if hook not in self._append_hooks:
            self._append_hooks.append(hook)

    # --- writes ----------------------------------------------------------------------------
    def _new_tx(self, conn: sqlite3.Connection) -> Tx:
        return Tx(conn, self.station_id, tuple(self._append_hooks))

    def submit(self, fn: Callable[[Tx], T], priority: Priority = Priority.USER, *,
               fsync: bool = True) -> Future[T]:
        """Queue `fn(tx)` to run in one transaction (rolled back if it raises; the future
        carries the result or the error, a StorageError for a full or read-only disk).
        `fsync=False`: see Writer._transaction (catch-up batches that can be downloaded again)."""
        return self._writer.submit(fn, priority, fsync=fsync)

    def write(self, fn: Callable[[Tx], T], priority: Priority = Priority.USER, *,
              fsync: bool = True) -> T:
        """`submit` and wait: for services and commands. The caller publishes the events the
        job appended (`tx.appended`) after this returns, so only committed events go out.
        Raises NestedWrite when called from inside a write job (it would wait for itself)."""
        return self._writer.write(fn, priority, fsync=fsync)

    async def awrite(self, fn: Callable[[Tx], T], priority: Priority = Priority.USER, *,
                     fsync: bool = True) -> T:
        """`submit` for the asyncio loop (see Writer.awrite for cancellation)."""
        return await self._writer.awrite(fn, priority, fsync=fsync)

    def submit_steps(self, steps: Sequence[Callable[[Tx], T]], priority: Priority, *,
                     fsync: bool = True) -> Future[list[T]]:
        """Large background work as small steps. They share a transaction while nothing more
        urgent waits; a more urgent job runs at the next step boundary, after a commit. The
        future holds every step's result, or the first error (the steps committed before it
        stay, those of its own transaction are rolled back, the rest do not run)."""
        return self._writer.submit_steps(steps, priority, fsync=fsync)

    def downloading(self, within_s: float) -> bool:
        """Whether a history download wrote in the last `within_s` (its batches commit
        without fsync)."""
        return self._writer.unsynced_within(within_s)

    def checkpoint(self) -> None:
        """Copy the WAL into the database file without holding up writers (PASSIVE: what a
        reader still needs stays in the WAL until the next time)."""
        self._reader().execute("PRAGMA wal_checkpoint(PASSIVE)")

    def checkpoint_soon(self) -> None:
        """`checkpoint()` in a background thread: commits with fsync=False leave the WAL's copy
        to it, so the WAL stays small and a door's next commit does not have to copy it. One
        copy at a time and at most one per WAL_COPY_INTERVAL_S: a download interrupted by every
        scan commits 20 times a second, and a copy (a new connection) after each one made the
        scans' reads and commits wait on SQLite's locks. `close()` waits for it."""
        with self._checkpoint_lock:
            self._checkpoint_wanted = True
            if self._checkpointer is not None or self._closing.is_set():
                return  # the running copier sees the request
            self._checkpointer = threading.Thread(
                target=self._copy_wal_while_wanted, name="station-wal-copy", daemon=True)
            self._checkpointer.start()

    def _copy_wal_while_wanted(self) -> None:
        conn: sqlite3.Connection | None = None
        try:  # its own connection, for as long as copies are asked for
            while True:
                with self._checkpoint_lock:
                    if not self._checkpoint_wanted or self._closing.is_set():
                        self._checkpointer = None  # under the lock: the next request starts one
                        return
                    self._checkpoint_wanted = False
                if conn is None:
                    conn = _connect(self.path)
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                self._closing.wait(WAL_COPY_INTERVAL_S)
        except Exception as exc:  # the next one, or SQLite's own, copies it then
            log.debug("copying the WAL into the database failed (%s)", exc)
            with self._checkpoint_lock:
                self._checkpointer = None
        finally:
            if conn is not None:
                conn.close()

    # --- reads -----------------------------------------------------------------------------
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

    @contextlib.contextmanager
    def read_snapshot(self) -> Iterator[None]:
        """The reads of this thread inside see one moment of the data (one read transaction):
        a door's decision reads a pass and which of its journal entries are merged, and a
        merge committed between the two reads must not make an entry count twice or not at
        all. Nested use joins the outer snapshot."""
        conn = self._reader()
        if conn.in_transaction:
            yield
            return
        conn.execute("BEGIN")
        try:
            yield
        finally:
            conn.execute("COMMIT")

    def db(self) -> sqlite_utils.Database:
        """A read-only view for this thread (sqlite-utils helpers for ad-hoc reads and tests)."""
        return sqlite_utils.Database(self._reader())

    def fetch_one(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
                  ) -> dict[str, Any] | None:
        """One row of a read on this thread's reader connection (for the store's modules)."""
        row = self._reader().execute(sql, params).fetchone()
        return dict(row) if row else None

    def fetch_row(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
                  ) -> sqlite3.Row | None:
        """The first row of a read as the reader gives it (no dict built), or None."""
        row: sqlite3.Row | None = self._reader().execute(sql, params).fetchone()
        return row

    def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in self._reader().execute(sql, params).fetchall()]

    def iter_rows(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
                  ) -> Iterator[sqlite3.Row]:
        """Rows one at a time (a read over every pass need not hold them all)."""
        yield from self._reader().execute(sql, params)

    # --- settings ----------------------------------------------------------------------------
    def setting(self, key: str, default: Any = None) -> Any:
        row = self._reader().execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def settings(self, keys: Sequence[str]) -> dict[str, Any]:
        """Several settings in one statement (a key not set is left out): each statement gives
        up the GIL, which a scanning door then waits to get back."""
        marks = ", ".join("?" * len(keys))
        rows = self._reader().execute(
            f"SELECT key, value FROM settings WHERE key IN ({marks})", tuple(keys))
        return {str(key): json.loads(value) for key, value in rows}

    def set_setting(self, key: str, value: Any) -> None:
        self.write(lambda tx: tx.set_setting(key, value), Priority.USER)

    # --- passes ------------------------------------------------------------------------------
    def pass_by_code(self, code: str) -> Pass | None:
        row = self.fetch_one("SELECT * FROM passes WHERE code = ?", (code,))
        return pass_from_row(row) if row else None

    def pass_by_id(self, pass_id: str) -> Pass | None:
        row = self.fetch_one("SELECT * FROM passes WHERE id = ?", (pass_id,))
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
        rows = self.fetch_all(sql, [*params, limit + 1])
        items = [pass_from_row(r) for r in rows[:limit]]
        return Page(items, _next_cursor(rows, limit, "created_at"))

    def count_passes(self, *, status: str | None = None, type_: str | None = None,
                     search: str | None = None) -> int:
        common = bool(search) and search_is_common(self._reader(), search or "", for_count=True)
        where, params = self._pass_filters(status, type_, search, common=common)
        sql = "SELECT count(*) AS n FROM passes" + (" WHERE " + " AND ".join(where) if where else "")
        row = self.fetch_one(sql, params)
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
        rows = self.fetch_all(
            "SELECT * FROM passes WHERE status = 'active' AND valid_until IS NOT NULL "
            "AND valid_until < ? ORDER BY valid_until LIMIT ?",
            (now_iso, limit),
        )
        return [pass_from_row(r) for r in rows]

    def pass_counts(self) -> dict[str, int]:
        rows = self.fetch_all("SELECT status, count(*) AS n FROM passes GROUP BY status")
        return {r["status"]: r["n"] for r in rows}

    # --- clients -----------------------------------------------------------------------------
    def client_by_id(self, client_id: str) -> Client | None:
        row = self.fetch_one("SELECT * FROM clients WHERE id = ?", (client_id,))
        return client_from_row(row) if row else None

    def list_clients(self, *, limit: int = 50, cursor: str | None = None) -> Page:
        params: list[Any] = []
        sql = "SELECT rowid AS _row, * FROM clients"
        if cursor:
            sql += " WHERE (created_at, rowid) < (?, ?)"
            params += _cursor(cursor)
        sql += " ORDER BY created_at DESC, rowid DESC LIMIT ?"
        rows = self.fetch_all(sql, [*params, limit + 1])
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
        rows = self.fetch_all(sql, [*params, limit + 1])
        items = [scan_from_row(r) for r in rows[:limit]]
        return Page(items, _next_cursor(rows, limit, "scanned_at"))

    def iter_scan_rows(self, batch: int = 1000) -> Iterator[dict[str, Any]]:
        """Scans joined with their pass's code and name, oldest first, for CSV export."""
        last = ("", "")
        while True:
            rows = self.fetch_all(
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
        rows = self.fetch_all("SELECT * FROM events WHERE pass_id = ? ORDER BY hlc, origin, id", (pass_id,))
        return [event_from_row(r) for r in rows]

    def events_present(self, event_ids: Sequence[str]) -> set[str]:
        """Which of these event ids the log holds."""
        found: set[str] = set()
        for chunk in chunks(list(event_ids)):
            found.update(r["id"] for r in self.fetch_all(
                f"SELECT id FROM events WHERE id IN ({marks(len(chunk))})", chunk))
        return found

    def max_hlc(self) -> str | None:
        row = self.fetch_one("SELECT max(hlc) AS h FROM events")
        return row["h"] if row else None

    def count_events(self) -> int:
        row = self.fetch_one("SELECT count(*) AS n FROM events")
        return int(row["n"]) if row else 0

