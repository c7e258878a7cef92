"""Is this file a healthy Station database? Asked before anything opens it for writing.

Only a database file that does not exist (and has no write-ahead log beside it) makes a new
station. Anything else that is not a Station database — zero bytes, a wrong or truncated
header, another program's SQLite file, a newer schema — is refused with one sentence, and the
probe changes nothing on disk: it reads the header with plain file I/O and opens SQLite
read-only (immutable when no -wal exists, so no -wal/-shm is created beside the file).

The every-start probe is cheap (the first 100 bytes, the file size, the schema and a few
pragmas: well under a millisecond at any size); `PRAGMA quick_check` and `integrity_check`
read every page, seconds at 100,000 passes (README, "Measured"), so they are `station check`'s.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import struct
from collections.abc import Callable
from pathlib import Path

from station.domain.errors import StationError
from station.store import migrations
from station.store.privacy import create_private_file

# Exit status of every command that refuses a database (documented in the README).
DAMAGED_EXIT = 3

# `PRAGMA application_id` of a Station database ("STN1"), set by the V7 migration, so that
# another program's SQLite file is told apart. Databases from before V7 hold 0.
APPLICATION_ID = 0x53544E31

SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_SIZE = 100
# Tables every schema version has had since V1.
CORE_TABLES = frozenset({"settings", "clients", "passes", "scans", "events"})

# SQLite's primary result codes for a file that is damaged or not a database at all.
SQLITE_CORRUPT = 11
SQLITE_NOTADB = 26


class DamagedDatabase(StationError):
    """The data directory holds a file that is not a healthy Station database."""

    exit_code = DAMAGED_EXIT

    def __init__(self, path: Path | None, problem: str, *, upgrade: bool = False) -> None:
        """`path` None: the database SQLite was reading when it found the damage."""
        self.path = path
        self.problem = problem
        restore = ("stop Station and copy a backup made with `station backup` over it, or start a "
                   "new station with another --data-dir (nothing was changed).")
        subject = str(path) if path is not None else "The station's database"
        super().__init__(f"{subject} {problem}, so Station will not use it: "
                         + (f"upgrade Station, or {restore}" if upgrade else restore))


def wal_path(db: Path) -> Path:
    return db.with_name(db.name + "-wal")


def is_new(db: Path) -> bool:
    """True when `db` is to be created: neither it nor its write-ahead log exists. Raises
    DamagedDatabase when the log is there without its database (the file was lost)."""
    if db.exists():
        return False
    wal = wal_path(db)
    if wal.exists():
        raise DamagedDatabase(db, f"is missing although its write-ahead log {wal.name} is there")
    return True


def probe(db: Path) -> None:
    """Raise DamagedDatabase unless `db` (which exists) is a healthy Station database."""
    if not db.is_file():
        raise DamagedDatabase(db, "is not a file")
    try:
        _check_header(db)
    except OSError as exc:  # not damage: the person can fix this one
        raise StationError(f"Cannot read {db} ({exc.strerror}); check its owner and "
                           f"permissions.") from None
    conn = open_read_only(db)
    try:
        _check_schema(db, conn)
    except sqlite3.DatabaseError as exc:
        raise DamagedDatabase(db, f"is damaged (SQLite: {exc})") from None
    finally:
        conn.close()


def open_read_only(db: Path) -> sqlite3.Connection:
    """A read-only connection that creates nothing beside `db`. With no -wal there is nothing
    SQLite must merge, so `immutable=1` reads the file alone (plain `mode=ro` would leave an
    empty -wal and -shm behind); with a -wal (a station is running, or stopped by a crash) a
    read-only connection reads through it."""
    immutable = not wal_path(db).exists()
    uri = f"{db.resolve().as_uri()}?{'immutable=1' if immutable else 'mode=ro'}"
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=10)
    conn.row_factory = sqlite3.Row
    return conn


def _check_header(db: Path) -> None:
    size = db.stat().st_size
    if size == 0:
        raise DamagedDatabase(db, "is empty (0 bytes)")
    with open(db, "rb") as f:
        header = f.read(HEADER_SIZE)
    if len(header) < HEADER_SIZE or not header.startswith(SQLITE_MAGIC):
        raise DamagedDatabase(db, "is not a SQLite database (its header is wrong)")
    (page_size,) = struct.unpack(">H", header[16:18])
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        raise DamagedDatabase(db, "is not a SQLite database (its header is wrong)")
    wal = wal_path(db)
    if wal.exists() and wal.stat().st_size > 0:
        return  # pages may still be in the log (a crash mid-checkpoint): the size proves nothing
    (change_counter,) = struct.unpack(">I", header[24:28])
    (pages,) = struct.unpack(">I", header[28:32])
    (valid_for,) = struct.unpack(">I", header[92:96])
    if size % page_size or (valid_for == change_counter and size < pages * page_size):
        raise DamagedDatabase(db, f"is truncated ({size} bytes of {pages * page_size})")


def _check_schema(db: Path, conn: sqlite3.Connection) -> None:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if app_id not in (0, APPLICATION_ID):
        raise DamagedDatabase(db, "is not a Station database (another program's SQLite file)")
    if version > migrations.LATEST:
        raise DamagedDatabase(
            db, f"was written by a newer Station (schema {version}; this one knows "
                f"{migrations.LATEST})", upgrade=True)
    if version < 1 or not CORE_TABLES <= tables:
        raise DamagedDatabase(db, "is not a Station database (it holds no Station tables)")


def is_damage(exc: sqlite3.DatabaseError) -> bool:
    """SQLite found the file damaged (or not a database) while using it."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (SQLITE_CORRUPT, SQLITE_NOTADB)


def create_atomically(db: Path, initialise: Callable[[sqlite3.Connection], None]) -> None:
    """Make a new database beside `db` and link it into place once `initialise(conn)` has
    committed, so an interrupted first start leaves no half-made station.db (which every
    later start would refuse). Two processes starting at once on a new directory each build
    their own file; the first to finish wins and the other opens that one."""
    tmp = db.with_name(f"{db.name}.new-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        create_private_file(tmp)  # 0600 before SQLite opens it, whatever the umask
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            initialise(conn)
        finally:
            conn.close()  # the last connection folds its -wal into the file and removes it
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, db)  # unlike a rename, never replaces a database made meanwhile
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links (FAT on a USB stick)
            if not db.exists():
                os.replace(tmp, db)
        fsync_dir(db.parent)
    finally:
        for leftover in (tmp, wal_path(tmp), tmp.with_name(tmp.name + "-shm")):
            leftover.unlink(missing_ok=True)


def fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable (not possible, nor needed, on Windows)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
