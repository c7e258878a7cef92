"""Removing an enrolled station (`station hub remove NAME|ID`), listing them, and the records
that tell every station a removed one's key is no longer the organisation's.

Removal drops the station's user from the hub's configuration and reloads the server, which
disconnects it at once; then a removal record signed with the organisation key goes into the
`removed` bucket, which every station reads (services/key_trust.py). The records are also kept
in the hub's directory (`removed.json`): the enrolment desk puts them again at each start, so
a removal made while the hub was stopped reaches the stations too.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from station.domain import trust
from station.domain.errors import InvalidInput
from station.domain.times import to_iso
from station.net.sync import jetstream
from station.net.sync.hub import HubServer
from station.net.sync.hub_tls import connect_hub
from station.net.sync.registry import Enrolled
from station.services.org_authority import OrgAuthority

RECORDS = "removed.json"


@dataclass(frozen=True, slots=True)
class Listed:
    station: Enrolled
    last_seen: str | None  # what it last told the hub (None: never, or the hub is stopped)


def _records_path(server: HubServer) -> Path:
    return server.dir / RECORDS


def saved_records(server: HubServer) -> list[dict[str, Any]]:
    try:
        return list(json.loads(_records_path(server).read_text(encoding="utf-8")))
    except FileNotFoundError:
        return []


def _save_record(server: HubServer, record: dict[str, Any]) -> None:
    records = [r for r in saved_records(server) if r.get("stationId") != record["stationId"]]
    path = _records_path(server)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump([*records, record], fh, indent=1)
    os.replace(tmp, path)


def pick(server: HubServer, name_or_id: str) -> Enrolled:
    """The one enrolled station called or identified so, or a clear error."""
    found = server.registry.find(name_or_id.strip())
    if not found:
        raise InvalidInput(f"No enrolled station is called {name_or_id[:60]!r} or has that id; "
                           "`station hub stations` lists them.")
    if len(found) > 1:
        raise InvalidInput(f"{len(found)} enrolled stations are called {name_or_id[:60]!r}: "
                           "remove one by its id (`station hub stations` shows them).")
    return found[0]


def remove(server: HubServer, authority: OrgAuthority, station: Enrolled) -> dict[str, Any]:
    """Drop the station's user (the running hub reloads and disconnects it) and sign its
    removal record, kept for the desk; the caller then puts it on the hub (put_records)."""
    server.registry.change(lambda stations: [s for s in stations
                                             if s.station_id != station.station_id])
    server.reload()
    record = trust.sign_removal(authority.private, trust.Removal(
        station.org, station.station_id, station.name, station.key,
        to_iso(datetime.now(timezone.utc))))
    _save_record(server, record)
    return record


async def put_records(server: HubServer, org: str, records: list[dict[str, Any]]) -> None:
    """Put removal records in the organisation's `removed` bucket (as the hub's admin)."""
    if not records:
        return
    nc = await connect_hub(server.target.at("127.0.0.1", server.port), connect_timeout=5,
                           allow_reconnect=False, max_reconnect_attempts=0)
    try:
        handles = await jetstream.open_space(nc.jetstream(timeout=10), org)
        for record in records:
            await handles.removed.put(str(record["stationId"]), json.dumps(record).encode())
    finally:
        await nc.close()


async def _last_seen(server: HubServer, org: str) -> dict[str, str]:
    nc = await connect_hub(server.target.at("127.0.0.1", server.port), connect_timeout=5,
                           allow_reconnect=False, max_reconnect_attempts=0)
    try:
        handles = await jetstream.open_space(nc.jetstream(timeout=10), org)
        seen = {}
        for station_id, raw in (await handles.read("stations")).items():
            info = jetstream.json_or_none(raw) or {}
            seen[station_id] = str(info.get("at") or "")
        return seen
    finally:
        await nc.close()


def listing(server: HubServer, org: str | None) -> list[Listed]:
    """The enrolled stations, with when each last told the hub it was there (when the hub
    runs; `org` None: the hub's organisation is not known, so neither is that)."""
    stations = server.registry.stations()
    seen: dict[str, str] = {}
    if org is not None:
        try:
            seen = asyncio.run(asyncio.wait_for(_last_seen(server, org), 15))
        except Exception:  # noqa: BLE001 - a stopped hub: the list without last-seen times
            seen = {}
    return [Listed(s, seen.get(s.station_id) or None) for s in stations]
