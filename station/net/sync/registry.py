"""The hub's list of enrolled stations: `hub/stations.json` in the hub's data directory.

Read by the hub (to write each station's user into nats-server's config) and by the `station hub
stations|remove` commands, which may run while the hub does: every change happens under an
exclusive file lock and replaces the file atomically, so neither ever sees half a file. Holds
bcrypt hashes only (the stations keep their passwords), in a file only this user can read.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

FILE = "stations.json"


@dataclass(frozen=True, slots=True)
class Enrolled:
    station_id: str
    name: str
    key: str  # the certified signing key (base64)
    password_hash: str  # bcrypt, what nats-server checks the station's password against
    org: str
    enrolled_at: str


class Registry:
    def __init__(self, hub_dir: Path) -> None:
        self.path = Path(hub_dir) / FILE

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _read(self) -> list[Enrolled]:
        try:
            raw: Any = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        return [Enrolled(**item) for item in raw.get("stations", [])]

    def _write(self, stations: list[Enrolled]) -> None:
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"stations": [asdict(s) for s in stations]}, fh, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def stations(self) -> list[Enrolled]:
        with self._locked():
            return self._read()

    @contextmanager
    def locked(self) -> Iterator[list[Enrolled]]:
        """The list, with no change made by anyone (this process or another) until the block
        ends. Not to be nested with the other methods (the lock is per open file)."""
        with self._locked():
            yield self._read()

    def change(self, edit: Callable[[list[Enrolled]], list[Enrolled]]) -> list[Enrolled]:
        """Apply `edit` to the list under the lock and save what it returns."""
        with self._locked():
            stations = edit(self._read())
            self._write(stations)
            return stations

    def find(self, name_or_id: str) -> list[Enrolled]:
        """The stations with this id, else those with this name (several: the caller asks)."""
        stations = self.stations()
        by_id = [s for s in stations if s.station_id == name_or_id]
        return by_id or [s for s in stations if s.name.casefold() == name_or_id.casefold()]
