"""Events from other stations: what one must satisfy to enter the log, and its data's text.

Pure functions, kept apart from the services that apply remote events so that the worker process
preparing a history download (net/sync/prepare.py) needs nothing but the domain to use them.
"""

from __future__ import annotations

import json
from typing import Any

from station.domain.errors import InvalidInput
from station.domain.events import Event, EventType
from station.domain.hlc import Stamp

_EVENT_TYPES = frozenset(EventType)
_PASSLESS = frozenset({EventType.CLIENT_CREATED, EventType.SCAN_REVERTED})


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


def data_text(data: dict[str, Any]) -> str:
    """An event's data as the log stores it (compact, keys sorted)."""
    return json.dumps(data, separators=(",", ":"), sort_keys=True)
