"""The door journal: a small SQLite file of its own where a door's scan is durable first.

A scan decided at the door is appended here (one INSERT and one fsync'd COMMIT) and only then
shown; a writer job merges it into the station's log soon after and deletes it here. The
door thus never waits for the main database's writer, whatever a download is writing there.
See docs/door-journal.md.

WAL with synchronous=FULL: an append is one write and one fsync of the WAL (a rollback
journal took three fsyncs: 4 ms a scan instead of 1-2 here). A delete after a merge commits
with synchronous=NORMAL (no fsync): a power cut may undo it, and the next merge then finds the
entries in the log and only deletes them again. On a full disk an append fails as soon as the
WAL has to grow; one that fits (the room grown below, some 60 scans) is durable all the same,
and its merge waits for space.

Appends overwrite, they do not grow the file: SQLite copies its WAL into the database file only
every 1,000 pages (4 MiB, some 180 scans here), so for a station's first minutes every append
made the WAL longer, and an fsync that changes a file's size commits ext4's journal, which
first writes out the data of every other file written meanwhile (data=ordered): the main
database's WAL, megabytes of a history download. Before each merge's delete the merge thread
copies the WAL (PASSIVE, on a connection of its own: an append never waits for it), so the next
write starts the WAL from its beginning again, over pages already on the disk (appends while
another database takes a download's writes: p50 2.8 -> 2.0-2.3 ms, p95 19-23 -> 12-17 ms,
benchmarks/journal_fsync_bench.py; see docs/door-journal.md).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from station.domain.errors import StorageCause, StorageError
from station.store.failures import storage_errors
from station.store.privacy import create_private_file

log = logging.getLogger(__name__)

JOURNAL_NAME = "door-journal.db"

# The padding row that grows the WAL when the journal is opened (_preallocate_wal): its insert
# and delete leave ~1 MiB of WAL. A merge copies the WAL back every second at most, after ~20
# appends of ~5 pages each at a door scanning every 50 ms: room for 2.5 times that.
WAL_PADDING = 1 << 19

# A journal that is not a database any more (damaged, or another program's file).
_DAMAGED = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


class Appending:
    """Inside the journal's write transaction (DoorJournal.appending): the file is locked
    against every other writer, this process's and other processes' on the same data
    directory, so a decision made here sees every entry appended before it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def entries_for(self, pass_id: str) -> list[str]:
        return entries_for(self._conn, pass_id)

    def moving_entries(self) -> list[str]:
        """The entries of admissions and exits (any pass), oldest first: what moves a list's
        count inside before the merge."""
        rows = self._conn.execute("SELECT entry FROM entries WHERE json_extract(entry, "
                                  "'$.scan.verdict') = 'accepted' ORDER BY id")
        return [str(r[0]) for r in rows]

    def add(self, created: str, pass_id: str | None, scan_id: str, entry: str) -> int:
        cursor = self._conn.execute(
            "INSERT INTO entries (created, pass_id, scan_id, entry) VALUES (?, ?, ?, ?)",
            (created, pass_id, scan_id, entry))
        assert cursor.lastrowid is not None
        return cursor.lastrowid


def entries_for(conn: sqlite3.Connection, pass_id: str) -> list[str]:
    rows = conn.execute("SELECT entry FROM entries WHERE pass_id = ? ORDER BY id", (pass_id,))
    return [str(r[0]) for r in rows]


class DoorJournal:
    """Entries (id, created, pass id, scan id, JSON) appended by the door and deleted once
    merged. One connection, used under a lock: appends come from the deciding thread, deletes
    from the merge, and neither may wait on SQLite's busy handler (another process on the same
    data directory may make them wait on it: then the file's own lock serializes them)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / JOURNAL_NAME
        self._folder = Path(data_dir)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._copier: sqlite3.Connection | None = None  # for checkpoints (_copy_wal)
        self._copier_lock = threading.Lock()

    @contextmanager
    def _failures(self, doing: str, outcome: str) -> Iterator[None]:
        with storage_errors(self._folder, doing=doing, outcome=outcome, os_errors=True):
            try:
                yield
            except sqlite3.DatabaseError as exc:
                code = getattr(exc, "sqlite_errorcode", None)
                if code is None or (code & 0xFF) not in _DAMAGED:
                    raise
                self._drop_connection()
                raise StorageError(StorageCause.IO_ERROR, doing, outcome) from exc

    def _drop_connection(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _empty(self) -> bool:
        """No entries, known without opening it: no file, or the empty file a first append
        made before the disk refused its table (a read must not need to write)."""
        try:
            return self.path.stat().st_size == 0
        except FileNotFoundError:
            return True

    def _connection(self) -> sqlite3.Connection:
        """Opened on first use: a station that never scans at a door has no journal file."""
        if self._conn is None:
            create_private_file(self.path)  # 0600 before SQLite creates its -wal and -shm
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                   timeout=10)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")  # appended means on the disk
                conn.execute("CREATE TABLE IF NOT EXISTS entries (id INTEGER PRIMARY KEY "
                             "AUTOINCREMENT, created TEXT NOT NULL, pass_id TEXT, "
                             "scan_id TEXT NOT NULL, entry TEXT NOT NULL)")
                conn.execute("CREATE INDEX IF NOT EXISTS entries_pass ON entries (pass_id)")
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _preallocate_wal(self, conn: sqlite3.Connection) -> None:
        """Grow the WAL to ~1 MiB once, when the journal is opened, and copy it back (so
        the first append starts it from its beginning again): the appends of the next cycles
        then overwrite pages already on the disk instead of lengthening the file (see the
        module's docstring). Without fsync but the checkpoint's; on a full disk it is left
        out (an append then grows the WAL as before, or is refused)."""
        wal = self.path.with_name(self.path.name + "-wal")
        if wal.exists() and wal.stat().st_size >= 2 * WAL_PADDING:
            return  # another process on this data directory has it open and grown already
        conn.execute("CREATE TABLE IF NOT EXISTS wal_padding (b BLOB)")
        conn.execute("PRAGMA synchronous=NORMAL")
        try:
            conn.execute("INSERT INTO wal_padding VALUES (zeroblob(?))", (WAL_PADDING,))
            conn.execute("DELETE FROM wal_padding")
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.DatabaseError as exc:
            code = getattr(exc, "sqlite_errorcode", None)
            if code is not None and (code & 0xFF) in _DAMAGED:
                raise
            log.debug("growing the door journal's WAL failed (%s)", exc)
        finally:
            conn.execute("PRAGMA synchronous=FULL")

    @contextmanager
    def appending(self) -> Iterator[Appending]:
        """One write transaction (committed with fsync when the block ends, rolled back if
        it raises). Raises StorageError when the file cannot take it."""
        with self._lock, self._failures("record the scan", "nothing was admitted"):
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield Appending(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def open(self) -> None:
        """Open the journal now and grow its WAL (tens of ms on a busy disk), not at a scan:
        a running station's door (Station.start). Only there: a one-shot command that reads
        the journal, or one refused for a damaged database, must leave its file as it was."""
        with self._lock, self._failures("open the door journal", "nothing was changed"):
            self._preallocate_wal(self._connection())

    def append(self, created: str, pass_id: str | None, scan_id: str, entry: str) -> int:
        """One entry in a transaction of its own; its id."""
        with self.appending() as journal:
            return journal.add(created, pass_id, scan_id, entry)

    def entries_for(self, pass_id: str) -> list[str]:
        """The entries of one pass not merged yet, oldest first."""
        if self._empty():
            return []
        with self._lock, self._failures("read the door's unsaved scans", "nothing was changed"):
            return entries_for(self._connection(), pass_id)

    def entry_of_scan(self, scan_id: str) -> int | None:
        if self._empty():
            return None
        with self._lock, self._failures("read the door's unsaved scans", "nothing was changed"):
            row = self._connection().execute("SELECT id FROM entries WHERE scan_id = ?",
                                             (scan_id,)).fetchone()
            return None if row is None else int(row[0])

    def count(self) -> int:
        if self._empty():
            return 0
        with self._lock, self._failures("read the door's unsaved scans", "nothing was changed"):
            return int(self._connection().execute("SELECT count(*) FROM entries").fetchone()[0])

    def pending(self) -> list[tuple[int, str]]:
        """Every entry not merged yet, oldest first (none when the file does not exist)."""
        if self._empty():
            return []
        with self._lock, self._failures("read the door's unsaved scans", "nothing was changed"):
            rows = self._connection().execute("SELECT id, entry FROM entries ORDER BY id")
            return [(int(r[0]), str(r[1])) for r in rows]

    def delete(self, entry_ids: Sequence[int]) -> None:
        """Forget merged entries (a crash before this only makes the merge find them again)."""
        if not entry_ids:
            return
        self._copy_wal()
        with self._lock, self._failures("tidy the door journal", "the scans are kept"):
            conn = self._connection()
            conn.execute("PRAGMA synchronous=NORMAL")  # no fsync: see the module's docstring
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.executemany("DELETE FROM entries WHERE id = ?",
                                     [(i,) for i in entry_ids])
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            finally:
                conn.execute("PRAGMA synchronous=FULL")

    def _copy_wal(self) -> None:
        """Copy the WAL's appends into the journal's file, so that the delete that follows
        starts the WAL from its beginning again (and pays its header's fsync, not a door's
        append). PASSIVE, on a connection of its own, outside the lock: an append goes on
        meanwhile (then the WAL is not restarted this time, and the next merge copies it).
        A failure is harmless: SQLite's own copy, every 1,000 pages, still bounds the WAL."""
        with self._copier_lock:
            try:
                if self._copier is None:
                    self._copier = sqlite3.connect(self.path, isolation_level=None,
                                                   check_same_thread=False, timeout=10)
                self._copier.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error as exc:
                log.debug("copying the door journal's WAL failed (%s)", exc)

    def close(self) -> None:
        with self._copier_lock:
            if self._copier is not None:
                self._copier.close()
                self._copier = None
        with self._lock:
            self._drop_connection()
