"""Which organisation a station's data belongs to, and the refusal of a hub of another one.

A station joins an organisation the first time it syncs: it adopts the organisation of the hub
it reaches (a fresh hub takes the station's own) and remembers it in the `sync_org` setting.
From then on its data directory belongs to that organisation for good: a hub serving another
one is refused before anything is exchanged, since syncing would hand that organisation this
one's log (passes, scans, names) and trust between their signing keys.

Leaving is not a switch on the same data: `--sync off` stops syncing and keeps the data and
its membership (it can sync again with its own hub, or be kept as the record); a station moves
to another venue with a new data directory. Nothing is ever deleted to make a station fit.
"""

from __future__ import annotations

from station.domain.errors import StationError
from station.store.db import Store
from station.store.sync import SyncLedger

JOINED_ORG = "sync_org"


def hub_key(hub: str, org: str, stream_created: str) -> str:
    """The name this station keeps its progress with one hub's stream under (sync_progress):
    a stream re-created on the same hub is another stream."""
    return f"{hub}|{org}|{stream_created}"


def same_stream(org: str, stream_created: str) -> str:
    """The end every hub key of this one stream shares, whatever address it was reached at."""
    return f"|{org}|{stream_created}"


def _org_of(key: str) -> str | None:
    parts = key.split("|")
    return parts[1] if len(parts) == 3 and parts[1] else None


class OtherOrganisation(StationError):
    """The hub serves another organisation than the one this station's data belongs to."""

    def __init__(self, hub: str, hub_org: str, joined: str) -> None:
        super().__init__(
            f"Refused to sync: the hub at {hub} serves organisation {hub_org}, but this station's "
            f"data belongs to organisation {joined}; nothing was exchanged. To scan for that "
            f"venue, start Station with a new --data-dir (this one keeps its data); to sync this "
            f"one, point it back at its own organisation's hub.")
        self.hub_org = hub_org
        self.joined = joined


def joined_org(store: Store) -> str | None:
    """The organisation this station has joined; None when it has never synced."""
    org = store.setting(JOINED_ORG)
    if org:
        return str(org)
    # Synced before the setting existed: the organisation of the stream it last synced with.
    for key in SyncLedger(store).hubs():
        found = _org_of(key)
        if found:
            return found
    return None


def organisation_id(store: Store) -> str:
    """The organisation this station works for: the one it joined, else the one it was
    created with (which an empty hub it reaches first will take)."""
    return joined_org(store) or str(store.setting("org_id"))


def join(store: Store, hub: str, hub_org: str) -> None:
    """Before anything is exchanged with a hub: join its organisation if this station has none
    yet, or raise OtherOrganisation when it belongs to another one."""
    joined = joined_org(store)
    if joined is not None and joined != hub_org:
        raise OtherOrganisation(hub, hub_org, joined)
    if store.setting(JOINED_ORG) != hub_org:
        store.set_setting(JOINED_ORG, hub_org)
