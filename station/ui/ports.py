"""What the window needs from a running station, as protocols: the composition root
(station.app) sits above the UI layer, so the UI names the parts it uses instead of importing
it; station.app's Core and Station satisfy these."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from station.services.bus import EventBus
from station.services.clients import ClientService
from station.services.context import Context
from station.services.passes import PassService
from station.services.scans import ScanService
from station.store.db import Store


class CoreParts(Protocol):
    store: Store
    bus: EventBus
    ctx: Context
    passes: PassService
    clients: ClientService
    scans: ScanService


class RunningStation(Protocol):
    @property
    def core(self) -> CoreParts: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


class StationFactory(Protocol):
    """Builds (does not start) the station for a data directory (None: the default one)."""

    def __call__(self, data_dir: Path | None) -> RunningStation: ...
