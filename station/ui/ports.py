"""What the window needs from a running station, as protocols: the composition root
(station.app) sits above the UI layer, so the UI names the parts it uses instead of importing
it; station.app's Core and Station satisfy these (station.app checks it for mypy).

The API, webhooks and sync are optional parts (None when the station runs without them); each
is declared by what the window and its views use of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from station.domain.sync_status import SyncStatus
from station.net.integrations import Integrations
from station.net.sync.url import SyncTarget
from station.services.bus import EventBus
from station.services.clients import ClientService
from station.services.context import Context
from station.services.lists import ListService
from station.services.passes import PassService
from station.services.scans import ScanService
from station.services.venue import VenueService
from station.store.db import Store


class CoreParts(Protocol):
    store: Store
    bus: EventBus
    ctx: Context
    passes: PassService
    clients: ClientService
    scans: ScanService
    lists: ListService
    venue: VenueService


class ApiPart(Protocol):
    """The embedded HTTP API, for the status bar's "API: host:port"."""

    @property
    def address(self) -> str | None: ...  # None until it listens

    @property
    def error(self) -> str | None: ...  # why it is not running, in words


class HubAdminPart(Protocol):
    """The hosted hub's enrolled doors (net/sync/hub_admin.py); every call waits on the hub."""

    def stations(self) -> list[Any]: ...

    def remove(self, name_or_id: str) -> tuple[Any, str | None]: ...

    def rotate_join(self) -> str: ...


class SyncPart(Protocol):
    """The sync client, for the status bar and the Sync section."""

    @property
    def target(self) -> SyncTarget | None: ...  # None while --sync auto is looking for the hub

    def status(self) -> SyncStatus: ...

    def join_url(self) -> str | None: ...  # what another door joins with (None: not held here)

    @property
    def hub_admin(self) -> HubAdminPart | None: ...  # None: this station hosts no hub

    def state_digest(self) -> str: ...  # reads every pass row: only where it is shown


class RunningStation(Protocol):
    @property
    def core(self) -> CoreParts: ...

    @property
    def api(self) -> ApiPart | None: ...

    @property
    def sync(self) -> SyncPart | None: ...

    # The Integrations page uses most of this net-layer class (keys, webhooks, deliveries,
    # networks), so it is named as it is rather than mirrored member by member.
    @property
    def integrations(self) -> Integrations | None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


class StationFactory(Protocol):
    """Builds (does not start) the station for a data directory (None: the default one)."""

    def __call__(self, data_dir: Path | None) -> RunningStation: ...
