"""Telling a storage failure (disk full, read-only, I/O error, locked) from a bug.

SQLite's result codes say which it is, so classification goes by code (and errno for the
data folder's own file operations), never by the wording of a message. A failure classified
here becomes a `StorageError` that the door, the API and the command line tell in one
sentence; anything else stays what it was (a bug, with its traceback in the log).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from station.domain.errors import StorageCause, StorageError

log = logging.getLogger(__name__)

# Primary result codes (the low byte of the extended code SQLite reports).
_SQLITE: dict[int, StorageCause | None] = {
    sqlite3.SQLITE_FULL: StorageCause.FULL,
    sqlite3.SQLITE_READONLY: StorageCause.READ_ONLY,
    sqlite3.SQLITE_PERM: StorageCause.READ_ONLY,
    sqlite3.SQLITE_BUSY: StorageCause.BUSY,
    sqlite3.SQLITE_LOCKED: StorageCause.BUSY,
    # These two say only "the file system failed": the folder itself tells which way.
    sqlite3.SQLITE_IOERR: None,
    sqlite3.SQLITE_CANTOPEN: None,
}

_ERRNO: dict[int, StorageCause] = {
    errno.ENOSPC: StorageCause.FULL,
    errno.EDQUOT: StorageCause.FULL,
    errno.EROFS: StorageCause.READ_ONLY,
    errno.EACCES: StorageCause.READ_ONLY,
    errno.EPERM: StorageCause.READ_ONLY,
    errno.EIO: StorageCause.IO_ERROR,
}


def _folder_state(folder: Path) -> StorageCause:
    """Why a file in `folder` could not be opened or written, from the file system's flags."""
    where = folder if folder.exists() else folder.parent
    if not hasattr(os, "statvfs"):  # Windows: no read-only flag to read, but free space
        try:
            full = shutil.disk_usage(where).free == 0
        except OSError:
            return StorageCause.IO_ERROR
        return StorageCause.FULL if full else StorageCause.IO_ERROR
    try:
        stat = os.statvfs(where)
    except OSError:
        return StorageCause.IO_ERROR
    if stat.f_flag & os.ST_RDONLY:
        return StorageCause.READ_ONLY
    if stat.f_bavail == 0 or stat.f_favail == 0:
        return StorageCause.FULL
    if not os.access(folder, os.W_OK):
        return StorageCause.READ_ONLY
    return StorageCause.IO_ERROR


def classify(exc: BaseException, folder: Path) -> StorageCause | None:
    """The storage cause of `exc`, or None when it is not a storage failure."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is None or (code & 0xFF) not in _SQLITE:
            return None
        return _SQLITE[code & 0xFF] or _folder_state(folder)
    if isinstance(exc, OSError) and exc.errno is not None:
        return _ERRNO.get(exc.errno)
    return None


@contextlib.contextmanager
def storage_errors(folder: Path, *, doing: str = "save the change",
                   outcome: str = "nothing was changed", os_errors: bool = False) -> Iterator[None]:
    """Turn a storage failure raised inside into a StorageError. `os_errors`: also the data
    folder's own file operations (mkdir, chmod), not only SQLite's."""
    try:
        yield
    except StorageError as exc:  # from a nested read or write: told as this outer action
        raise exc.about(doing, outcome) from exc.__cause__
    except (sqlite3.Error, OSError) as exc:
        if isinstance(exc, OSError) and not os_errors:
            raise
        cause = classify(exc, folder)
        if cause is None:
            raise
        # INFO: the person is told in the sentence; a WARNING would print a second line.
        log.info("storage failure (%s): %s", cause, exc)
        raise StorageError(cause, doing, outcome) from exc
