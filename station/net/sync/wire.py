"""Events on the wire: compact JSON, checked on the way in (a peer's bytes are untrusted)."""

from __future__ import annotations

import json
from typing import Any

from station.domain.errors import InvalidInput
from station.domain.events import Event

MAX_EVENT_BYTES = 256 * 1024
_FIELDS = ("id", "type", "timestamp", "data", "origin", "originSeq", "hlc")


def encode(event: Event) -> bytes:
    return json.dumps({
        "id": event.id, "type": event.type, "timestamp": event.timestamp, "data": event.data,
        "origin": event.origin, "originSeq": event.origin_seq, "hlc": event.hlc,
        "passId": event.pass_id,
    }, separators=(",", ":"), sort_keys=True).encode()


def decode(raw: bytes) -> Event:
    if len(raw) > MAX_EVENT_BYTES:
        raise InvalidInput("A synced event is larger than 256 KiB.")
    try:
        body: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("A synced event is not JSON.") from None
    if not isinstance(body, dict) or any(k not in body for k in _FIELDS):
        raise InvalidInput("A synced event lacks one of " + ", ".join(_FIELDS) + ".")
    if not isinstance(body["data"], dict):
        raise InvalidInput("A synced event's data must be an object.")
    strings = ("id", "type", "timestamp", "origin", "hlc")
    if not all(isinstance(body[k], str) for k in strings) or not isinstance(body["originSeq"], int):
        raise InvalidInput("A synced event has a field of the wrong type.")
    pass_id = body.get("passId")
    if pass_id is not None and not isinstance(pass_id, str):
        raise InvalidInput("A synced event's passId must be a string.")
    return Event(
        id=body["id"], type=body["type"], timestamp=body["timestamp"], data=body["data"],
        origin=body["origin"], origin_seq=body["originSeq"], hlc=body["hlc"], pass_id=pass_id,
    )
