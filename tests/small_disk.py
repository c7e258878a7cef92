"""A real small file system for storage-failure tests: a tmpfs mounted under the test's tmp
dir, filled with a ballast file (full disk) or remounted read-only.

Needs root (or CAP_SYS_ADMIN); the fixture skips with the reason when mounting is impossible.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


class SmallDisk:
    def __init__(self, mount: Path) -> None:
        self.mount = mount
        self.ballast = mount / "ballast"

    def fill(self) -> None:
        """Write the ballast until the file system refuses (ENOSPC): nothing more fits."""
        chunk = b"\0" * 65536
        fd = os.open(self.ballast, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            while True:
                try:
                    os.write(fd, chunk)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    if len(chunk) == 1:
                        break
                    chunk = chunk[: len(chunk) // 2]  # fill the last partial blocks too
        finally:
            os.close(fd)

    def free(self) -> None:
        self.ballast.unlink(missing_ok=True)

    def read_only(self) -> None:
        _mount("-o", "remount,ro", str(self.mount))

    def writable(self) -> None:
        _mount("-o", "remount,rw", str(self.mount))


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, text=True, timeout=60)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    """A 32 MiB tmpfs of this test's own (tmp_path is unique, so parallel runs never share)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    try:
        _mount("-t", "tmpfs", "-o", "size=32m,mode=0700", "tmpfs", str(mount))
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        pytest.skip(f"cannot mount a small file system here (needs root): {detail.strip()}")
    try:
        yield SmallDisk(mount)
    finally:
        # Lazy: a station that is still being stopped must not leave the mount behind.
        subprocess.run(["umount", "-l", str(mount)], check=False, timeout=60)
