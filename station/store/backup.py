"""`station backup FILE`: a consistent copy of the database, safe while a station runs.

SQLite's online backup API copies the pages in ONE step, i.e. inside one read transaction: in
WAL mode that is a snapshot the running station's writer does not wait for (a copy made in
several steps would restart each time another process commits, and might never finish at a
busy door). The copy goes to a private temporary file beside FILE (0600: it holds every pass
and client), is flushed to disk and renamed over FILE only when complete, so FILE is either
the previous file or the whole backup.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from station.domain.errors import StationError
from station.store import health


def backup(db: Path, dest: Path, *, force: bool = False) -> int:
    """Copy `db` to `dest`; returns the size of the backup in bytes."""
    if not db.exists():
        raise StationError(f"There is no database at {db} to back up; check --data-dir.")
    health.probe(db)  # a damaged database is refused, not copied over a good backup
    dest = dest.absolute()
    if dest.is_dir():
        raise StationError(f"{dest} is a folder; give the name of the backup file to write.")
    if not dest.parent.is_dir():
        raise StationError(f"The folder {dest.parent} does not exist; create it or choose another.")
    if dest.exists() and not force:
        raise StationError(f"{dest} already exists; choose another name, or add --force to replace it.")
    if dest.resolve() == db.resolve():
        raise StationError("A backup cannot replace the database itself; choose another file.")
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        os.chmod(tmp, 0o600)  # O_CREAT's mode is ignored when a leftover file was there
        _copy(db, tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, dest)
    except OSError as exc:
        raise StationError(f"Could not write the backup {dest} ({exc.strerror}); nothing was "
                           f"replaced: choose another place with free space.") from None
    finally:
        for leftover in (tmp, health.wal_path(tmp), tmp.with_name(tmp.name + "-shm")):
            leftover.unlink(missing_ok=True)
    health.fsync_dir(dest.parent)
    return dest.stat().st_size


def _copy(db: Path, tmp: Path) -> None:
    # A plain connection (not immutable): it takes part in the running station's WAL locking.
    # It writes nothing; being the last one to close, it removes the -wal/-shm it made.
    source = sqlite3.connect(db, timeout=30)
    target = sqlite3.connect(tmp)
    try:
        source.backup(target)  # pages=-1: all in one step, one snapshot
        # One self-contained file (no -wal beside it) that can be copied or mailed as it is;
        # a station that opens it again switches it back to WAL.
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()
        source.close()
