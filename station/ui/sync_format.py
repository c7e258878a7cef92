"""Words for the sync state (issue 6): the status bar's "synced N s ago · M pending · hub
host:port" and the Sync section's lines, from SyncClient.status(). Plain functions of the
SyncStatus value, so they are tested without a hub."""

from __future__ import annotations

from dataclasses import dataclass

from station.domain.sync_status import SyncStatus


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


def status_line(state: SyncStatus | None, *, with_note: bool = True) -> SyncLine:
    """The status bar text: "Sync: synced 3 s ago · 0 pending · hub 10.0.0.2:4222".
    `with_note` False: without the short migration note (where its whole sentence is shown)."""
    if state is None or not state.enabled:
        return SyncLine("Sync: off", False)
    if state.refused:
        # Not a passing outage: nothing will sync until the station is restarted differently
        # (the Sync section shows the whole sentence: why, and what to do).
        return SyncLine(f"Sync: refused · hub {state.hub} belongs to another "
                        f"organisation · {state.pending} pending", True)
    if state.hub is None:  # --sync auto, no hub chosen yet
        return SyncLine(f"Sync: looking for the venue hub on the LAN · {state.pending} pending",
                        state.alarm)
    last = state.last_sync_ago_s
    synced = "not synced yet" if last is None else f"synced {ago(last)}"
    parts = [synced, f"{state.pending} pending", f"hub {state.hub}"]
    if state.trust_note and with_note:
        parts.append("not enrolled: trusts every key on the hub")
    if not state.connected:
        parts.append("unreachable")
    elif state.catch_up.remaining:
        parts.append(f"downloading {state.catch_up.done}/{state.catch_up.total}")
    return SyncLine("Sync: " + " · ".join(parts), state.alarm)


def short_digest(digest: str | None) -> str:
    return (digest or "–")[:12]
