"""The data folder is private to its user: folders 0700, files 0600.

It holds personal data, the manager PIN's hash, API key hashes and every pass's signed URL
(a usable ticket). A folder made by an older version, or copied with loose modes, is tightened
when the station opens it, and the log says so once (only when something changed).
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

FOLDER_MODE = 0o700
FILE_MODE = 0o600
_OTHERS = stat.S_IRWXG | stat.S_IRWXO


def _tighten(path: Path) -> bool:
    """Remove group and other permissions from `path` (not following symlinks); True if any
    were there. A file gone meanwhile (another process's SQLite journal, a database being
    built aside at a first start) needed nothing."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(mode) or not mode & _OTHERS:
        return False
    try:
        path.chmod(stat.S_IMODE(mode) & ~_OTHERS)
    except FileNotFoundError:
        return False
    except PermissionError:  # another user's file: the station can still work; say so
        log.warning("%s is readable by other users and is not yours to change; make it "
                    "private (chmod go-rwx) to protect the data in it.", path)
        return False
    return True


def make_private(folder: Path) -> None:
    """Create `folder` (0700) or tighten it and everything under it. SQLite creates its -wal
    and -shm files with the database file's mode, so files created 0600 keep them private."""
    if not folder.exists():
        folder.mkdir(mode=FOLDER_MODE, parents=True)
        folder.chmod(FOLDER_MODE)  # mkdir's mode is filtered by the umask; be exact
        return
    changed = int(_tighten(folder))
    for root, dirs, files in os.walk(folder):
        for name in (*dirs, *files):
            changed += _tighten(Path(root) / name)
    if changed:
        log.warning("The data folder %s was readable by other users; it is now private to you "
                    "(%d files and folders tightened).", folder, changed)


def create_private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 if it does not exist (before SQLite opens it, so the
    database and its -wal/-shm files are never readable by others, whatever the umask)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)
