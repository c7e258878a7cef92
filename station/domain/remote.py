"""Events from other stations: what one must satisfy to enter the log, and its data's text.

Pure functions, kept apart from the services that apply remote events so that the worker process
preparing a history download (net/sync/prepare.py) needs nothing but the domain to use them.
"""

from __future__ import annotations

import json
from typing import Any

from station.domain.errors import InvalidInput
from station.domain.events import Event, EventType
from station.domain.fold import COMMAND_TRIGGERS
from station.domain.hlc import Stamp
from station.domain.models import Direction, PassStatus, PassType
from station.domain.times import parse_iso

_EVENT_TYPES = frozenset(EventType)
# Events about no pass: a client, an undo (it names its scan), a check-in list, a check-out.
_PASSLESS = frozenset({EventType.CLIENT_CREATED, EventType.SCAN_REVERTED, EventType.LIST_CHANGED,
                       EventType.OCCUPANCY_CHECKOUT})
_CARRY_PASS = frozenset({EventType.PASS_CREATED, EventType.PASS_SCANNED})
_PASS_TYPES = frozenset(PassType)
_STATUSES = frozenset(PassStatus)
_DIRECTIONS = frozenset(Direction)
_OPTIONAL_TEXT = ("name", "publicUrl", "createdAt", "validFrom", "validUntil", "clientId",
                  "attention")


def check_event(event: Event) -> None:
    """What must hold before a stranger's event may enter the log."""
    if event.type not in _EVENT_TYPES:
        raise InvalidInput(f"Unknown event type {event.type[:40]!r}.")
    if not event.id.startswith("evt_") or len(event.id) > 64:
        raise InvalidInput(f"Event id {event.id[:40]!r} is not an event id.")
    if not event.origin or len(event.origin) > 64 or event.origin_seq < 1:
        raise InvalidInput("An event must name its origin station and its place in that log.")
    Stamp.decode(event.hlc)
    if event.type not in _PASSLESS and not event.pass_id:
        raise InvalidInput(f"A {event.type} event must name its pass.")
    _check_fold_input(event)


def _check_fold_input(event: Event) -> None:
    # What the fold reads from an event's data, checked here so that a malformed event from a
    # peer is refused on its own instead of failing the fold of a whole batch again and again.
    data = event.data
    if event.type in _CARRY_PASS:
        if not isinstance(data.get("id"), str) or not isinstance(data.get("code"), str) \
                or data.get("type") not in _PASS_TYPES:
            raise InvalidInput(f"A {event.type} event must carry its pass's id, code and type.")
        max_uses = data.get("maxUses")
        if max_uses is not None and (type(max_uses) is not int or max_uses < 0):
            raise InvalidInput(f"A {event.type} event carries a maxUses that is not a count.")
        if not isinstance(data.get("fields") or {}, dict) or any(
                data.get(k) is not None and not isinstance(data.get(k), str) for k in _OPTIONAL_TEXT):
            raise InvalidInput(f"A {event.type} event carries a field of the wrong type.")
        scan = data.get("scan")
        if isinstance(scan, dict) and (not _optional_text(scan, "list")
                                       or scan.get("direction") not in (None, *_DIRECTIONS)):
            raise InvalidInput(f"A {event.type} event carries a list or direction of the wrong kind.")
    elif event.type == EventType.PASS_ATTENTION_SET:
        if not _optional_text(data, "attention"):
            raise InvalidInput("A pass.attention_set event carries a note that is not text.")
    elif event.type == EventType.LIST_CHANGED:
        # Its changes are checked by the lists' fold, which skips an invalid one on every
        # station alike (domain/list_log.py); only its shape is checked here.
        if not isinstance(data.get("id"), str) or not isinstance(data.get("changes"), dict):
            raise InvalidInput("A list.changed event must carry its list's id and changes.")
    elif event.type == EventType.OCCUPANCY_CHECKOUT:
        # The occupancy rows order a check-out by its `at`, read inside the apply transaction.
        if not _optional_text(data, "listId") or not isinstance(data.get("at"), str) \
                or not _is_time(data["at"]):
            raise InvalidInput("An occupancy.checkout event must carry the time it took effect.")
    elif event.type == EventType.PASS_STATUS_CHANGED and data.get("trigger") in COMMAND_TRIGGERS \
            and data.get("to") not in _STATUSES:
        raise InvalidInput("A pass.status_changed event names no status to change to.")


def _optional_text(data: dict[str, Any], key: str) -> bool:
    return data.get(key) is None or isinstance(data.get(key), str)


def _is_time(text: str) -> bool:
    try:
        parse_iso(text).timestamp()
    except (InvalidInput, ValueError, OverflowError):
        return False
    return True


# Made once: json.dumps with these options makes a new encoder at each call (same output).
_data_text = json.JSONEncoder(separators=(",", ":"), sort_keys=True).encode


def data_text(data: dict[str, Any]) -> str:
    """An event's data as the log stores it (compact, keys sorted)."""
    return _data_text(data)
