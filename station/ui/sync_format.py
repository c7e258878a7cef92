"""Words for the sync state (issue 6): the status bar's "synced N s ago · M pending · hub
host:port" and the Sync section's lines, from SyncClient.status(). Plain functions of the
status dict, so they are tested without a hub."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class SyncLine:
    text: str
    alarm: bool  # red: the hub has been unreachable for more than a minute, or refused


def ago(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    s = max(0, int(round(seconds)))
    if s < 120:
        return f"{s} s ago"
    if s < 7200:
        return f"{s // 60} min ago"
    return f"{s // 3600} h ago"


def status_line(state: dict[str, Any] | None) -> SyncLine:
    """The status bar text: "Sync: synced 3 s ago · 0 pending · hub 10.0.0.2:4222"."""
    if not state or not state.get("enabled"):
        return SyncLine("Sync: off", False)
    if state.get("refused"):
        # Not a passing outage: nothing will sync until the station is restarted differently
        # (the Sync section shows the whole sentence: why, and what to do).
        return SyncLine(f"Sync: refused · hub {state.get('hub')} belongs to another "
                        f"organisation · {int(state.get('pending') or 0)} pending", True)
    if state.get("hub") is None:  # --sync auto, no hub chosen yet
        return SyncLine(f"Sync: looking for the venue hub on the LAN · "
                        f"{int(state.get('pending') or 0)} pending", bool(state.get("alarm")))
    last = state.get("lastSyncAgoS")
    synced = "not synced yet" if last is None else f"synced {ago(last)}"
    parts = [synced, f"{int(state.get('pending') or 0)} pending", f"hub {state.get('hub')}"]
    if not state.get("connected"):
        parts.append("unreachable")
    else:
        catch = state.get("catchUp") or {}
        if catch.get("remaining"):
            parts.append(f"downloading {catch.get('done', 0)}/{catch.get('total', 0)}")
    return SyncLine("Sync: " + " · ".join(parts), bool(state.get("alarm")))


def short_digest(digest: str | None) -> str:
    return (digest or "–")[:12]
