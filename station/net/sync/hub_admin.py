"""What a manager does to the hub's enrolled stations, for the CLI (`station hub stations|remove|
rotate-join`) and the window (Integrations → Sync on the door that hosts the hub). Every call
waits on the hub (a reload, a connection): never on the GUI thread."""

from __future__ import annotations

import asyncio

from station.net.sync.hub import HubServer
from station.net.sync.registry import Enrolled
from station.net.sync.removal import Listed, listing, pick, put_records, remove
from station.net.sync.setup import rotate_join
from station.services.org_authority import OrgAuthority
from station.store.secrets import SecretStore

RECORD_TIMEOUT_S = 30.0


class HubAdmin:
    def __init__(self, server: HubServer, secrets: SecretStore) -> None:
        self.server = server
        self._secrets = secrets

    def stations(self) -> list[Listed]:
        stations = self.server.registry.stations()
        return listing(self.server, stations[0].org) if stations else []

    def remove(self, name_or_id: str) -> tuple[Enrolled, str | None]:
        """Remove one station; returns it, and why its removal record is not on the hub yet
        (None: it is; else the hub puts it at its next start)."""
        station = pick(self.server, name_or_id)
        record = remove(self.server, OrgAuthority(self._secrets), station)
        try:
            asyncio.run(asyncio.wait_for(put_records(self.server, station.org, [record]),
                                         RECORD_TIMEOUT_S))
        except Exception as exc:  # noqa: BLE001 - kept in removed.json: put at the next start
            return station, str(exc) or type(exc).__name__
        return station, None

    def rotate_join(self) -> str:
        """A new join URL; the old one stops enrolling at once."""
        return rotate_join(self._secrets, self.server).full_url()
