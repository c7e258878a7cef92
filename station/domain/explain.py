"""The sentence a door volunteer reads under the verdict ("Already used at Door 2 at 19:03")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from station.domain.events import Event, EventType
from station.domain.fold import counts_as_use
from station.domain.models import REASON_TEXT, Pass, PassType, Reason, Verdict
from station.domain.times import parse_iso


def _when(iso: str, now: datetime) -> str:
    moment = parse_iso(iso).astimezone()
    local_now = now.astimezone()
    if moment.date() == local_now.date():
        return moment.strftime("%H:%M")
    if moment.year == local_now.year:
        return moment.strftime("%d %b %H:%M")
    return moment.strftime("%d %b %Y")


def _last_admission(events: Sequence[Event]) -> dict[str, str] | None:
    reverted = {e.data.get("scanId") for e in events if e.type == EventType.SCAN_REVERTED}
    for event in reversed(events):
        scan = event.data.get("scan") if event.type == EventType.PASS_SCANNED else None
        if (scan and scan.get("verdict") == Verdict.ACCEPTED and scan.get("id") not in reverted
                and counts_as_use(scan)):
            admission: dict[str, str] = scan
            return admission
    return None


def _last_revocation(events: Sequence[Event]) -> Event | None:
    for event in reversed(events):
        if event.type == EventType.PASS_STATUS_CHANGED and event.data.get("trigger") == "revoke":
            return event
    return None


def admitted_text(p: Pass) -> str:
    left = p.uses_left()
    name = p.name or "Guest"
    if p.type is PassType.SINGLE:
        return f"{name} · single entry"
    if left is None:
        return f"{name} · multi-use · {p.uses} used"
    return f"{name} · multi-use · {left} use{'s' if left != 1 else ''} left"


def explain_needs_log(reason: str | None) -> bool:
    """Whether explain() reads the pass's events for `reason` (else it may be given none)."""
    return reason in (Reason.USED, Reason.MAX_USES_REACHED, Reason.REVOKED)


def explain(reason: str | None, p: Pass | None, events: Sequence[Event],
            station_names: Mapping[str, str], now: datetime) -> str:
    if reason is None:
        return admitted_text(p) if p else "Admitted"
    if reason in (Reason.USED, Reason.MAX_USES_REACHED):
        last = _last_admission(events)
        if last:
            where = station_names.get(last.get("stationId", ""), "another door")
            when = _when(last["scannedAt"], now)
            if reason == Reason.MAX_USES_REACHED:
                return f"No uses left: last used at {where} at {when}"
            return f"Already used at {where} at {when}"
    if reason == Reason.REVOKED:
        revocation = _last_revocation(events)
        if revocation:
            why = revocation.data.get("reason")
            by = revocation.data.get("by") or "a manager"
            return f"Revoked by {by}" + (f": {why}" if why else "")
    if reason == Reason.EXPIRED and p and p.valid_until:
        return f"Expired {_when(p.valid_until, now)}"
    if reason == Reason.NOT_YET_VALID and p and p.valid_from:
        return f"Not valid until {_when(p.valid_from, now)}"
    if reason == Reason.BAD_SIGNATURE:
        return "Forged or altered pass: call a manager"
    return REASON_TEXT.get(reason, str(reason))
