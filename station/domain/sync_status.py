"""What the sync client reports about itself, as values: the status bar, the Sync section, the
`station` CLI and GET /api/v1/sync/status read these instead of a dict.

The state digest is not part of the status: it hashes every pass row (about a second at 1M
passes), and the status bar asks for the status every 2 s. Who shows the digest asks the sync
client for it separately and hands it to `SyncStatus.as_dict` for the API's JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class CatchUp:
    """The history download: messages applied since this station started, and still waiting."""

    done: int
    remaining: int  # still waiting on the hub for this station (0 when unknown)

    @property
    def total(self) -> int:
        return self.done + self.remaining


@dataclass(frozen=True, slots=True)
class PeerStatus:
    """Another station of the organisation as this one last saw it."""

    station_id: str
    name: str | None
    seen_at: str | None
    lag: int  # events of that station not yet applied here


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """A snapshot of the sync client; every field is cheap to read (no per-row work)."""

    hub: str | None  # host:port, never the password; None while --sync auto is looking
    url: str | None  # the public form of the sync URL (without password)
    organisation: str | None
    connected: bool
    in_sync: bool
    pending: int  # events recorded here and not yet acknowledged by the hub
    last_sync_at: str | None  # ISO-8601 UTC
    last_sync_ago_s: float | None
    unreachable_for_s: float | None
    alarm: bool  # the hub has been unreachable for over a minute
    error: str | None  # what went wrong and what to do, in words
    refused: bool  # the hub serves another organisation: nothing syncs in this run
    catch_up: CatchUp
    peers: tuple[PeerStatus, ...] = ()
    enabled: bool = True
    # Not enrolled (joined before enrolment existed): every key on the hub is trusted; what to
    # do about it, in words (None: enrolled, only certified keys are trusted).
    trust_note: str | None = None

    def as_dict(self, state_digest: str | None = None) -> dict[str, Any]:
        """The JSON shape of GET /api/v1/sync/status (camelCase keys, as before)."""
        out: dict[str, Any] = {
            "enabled": self.enabled,
            "hub": self.hub,
            "url": self.url,
            "organisation": self.organisation,
            "connected": self.connected,
            "inSync": self.in_sync,
            "pending": self.pending,
            "lastSyncAt": self.last_sync_at,
            "lastSyncAgoS": self.last_sync_ago_s,
            "unreachableForS": self.unreachable_for_s,
            "alarm": self.alarm,
            "error": self.error,
            "refused": self.refused,
            "catchUp": {"done": self.catch_up.done, "remaining": self.catch_up.remaining,
                        "total": self.catch_up.total},
            "peers": [{"stationId": p.station_id, "name": p.name, "seenAt": p.seen_at,
                       "lag": p.lag} for p in self.peers],
        }
        if state_digest is not None:
            out["stateDigest"] = state_digest
        return out
