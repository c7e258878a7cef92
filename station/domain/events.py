"""Events: the append-only log every state change lands in.

The four vendor events keep the vendor's names. `scan.reverted` is internal (an undo records a
compensating event rather than deleting a fact) and is never delivered to webhooks; so are
`pass.attention_set`, `list.changed` and `occupancy.checkout` (check-in lists, attention and
occupancy: docs/checkin-lists.md).
"""

from __future__ import annotations

import enum
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any


class EventType(enum.StrEnum):
    PASS_CREATED = "pass.created"
    PASS_SCANNED = "pass.scanned"
    PASS_STATUS_CHANGED = "pass.status_changed"
    CLIENT_CREATED = "client.created"
    SCAN_REVERTED = "scan.reverted"
    PASS_ATTENTION_SET = "pass.attention_set"  # the door note of a pass set or cleared
    LIST_CHANGED = "list.changed"  # a check-in list created or edited: the keys that changed
    OCCUPANCY_CHECKOUT = "occupancy.checkout"  # everyone inside (a list, or the venue) is out


VENDOR_EVENTS: tuple[str, ...] = (
    EventType.PASS_CREATED,
    EventType.PASS_SCANNED,
    EventType.PASS_STATUS_CHANGED,
    EventType.CLIENT_CREATED,
)


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    type: str
    timestamp: str
    data: dict[str, Any]
    origin: str  # station id that recorded it
    origin_seq: int  # 1, 2, 3… per origin station
    hlc: str  # encoded hlc.Stamp
    pass_id: str | None = None
    # The origin station's signature (domain/event_signature.py), as received from the hub or
    # made as it is published; the log itself does not keep it.
    sig: str | None = None

    def order_key(self) -> tuple[str, str, str]:
        """Total order used by the fold: HLC, then station id, then event id."""
        return (self.hlc, self.origin, self.id)

    def to_payload(self) -> dict[str, Any]:
        """The vendor webhook / trigger shape."""
        return {"id": self.id, "event": self.type, "timestamp": self.timestamp, "data": self.data}


def new_event_id() -> str:
    # 32 hex digits, as uuid4().hex was: the millisecond it was made in (12), so the log's
    # index on ids takes new events near its end (codes.new_id says why), then 80 random bits.
    return f"evt_{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"


def expiry_event_id(pass_id: str, valid_until: str) -> str:
    """Every station that notices the same expiry mints the same id, so the log keeps one."""
    return f"evt_{uuid.uuid5(uuid.NAMESPACE_URL, f'station:expire:{pass_id}:{valid_until}').hex}"


def checkout_event_id(list_id: str | None, at: str) -> str:
    """A scheduled automatic check-out gets the same id on every station that runs it."""
    scope = list_id or "*"
    return f"evt_{uuid.uuid5(uuid.NAMESPACE_URL, f'station:checkout:{scope}:{at}').hex}"
