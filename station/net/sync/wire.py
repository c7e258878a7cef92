"""Events on the wire: compact JSON, checked on the way in (a peer's bytes are untrusted)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from station.domain.errors import InvalidInput
from station.domain.event_signature import LINK_ONLY
from station.domain.events import Event
from station.domain.remote import data_text

MAX_EVENT_BYTES = 256 * 1024
_FIELDS = ("id", "type", "timestamp", "data", "origin", "originSeq", "hlc")
_REQUIRED = frozenset(_FIELDS)


def encode(event: Event, text: str | None = None) -> bytes:
    """`text`: the event's data as the log stores it (data_text), when the caller has it: put
    in as it is rather than encoded again (the same bytes: "data" sorts first)."""
    if text is not None:
        rest = {"id": event.id, "type": event.type, "timestamp": event.timestamp,
                "origin": event.origin, "originSeq": event.origin_seq, "hlc": event.hlc,
                "passId": event.pass_id}
        if event.sig is not None:
            rest["sig"] = event.sig
        tail = json.dumps(rest, separators=(",", ":"), sort_keys=True)
        return f'{_DATA_FIRST}{text},{tail[1:]}'.encode()
    body = {
        "id": event.id, "type": event.type, "timestamp": event.timestamp, "data": event.data,
        "origin": event.origin, "originSeq": event.origin_seq, "hlc": event.hlc,
        "passId": event.pass_id,
    }
    if event.sig is not None:  # the origin's signature (domain/event_signature.py)
        body["sig"] = event.sig
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


_SIG_KEY = b',"sig":"'
_LINK_ONLY = LINK_ONLY.encode()


def carries_link_only(raw: bytes) -> bool:
    """Whether a message, as `encode` writes it, is an event below its publish round's signed
    top (its `sig` starts with event_signature.LINK_ONLY), told without decoding it: keys are
    sorted, so the event's own "sig" is the last one (a "sig" in its data comes before). Only
    decides what the follower holds back until the top arrives; the signatures are checked on
    the decoded events (EventTrust.refusals)."""
    at = raw.rfind(_SIG_KEY)
    return at >= 0 and raw[at + len(_SIG_KEY):at + len(_SIG_KEY) + 1] == _LINK_ONLY


_DECODER = json.JSONDecoder()
# The C scanner under json.loads: one JSON value from a position, and where it ends. Called
# directly it skips json.loads' Python layers, which cost as much as parsing an event.
# JSONDecoder sets scan_once in __init__; typeshed does not declare it.
scan_value: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
_DATA_FIRST = '{"data":'


def decode_with_text(raw: bytes) -> tuple[Event, str]:
    """The event, and the text of its data as the log stores it (see domain.remote.data_text).

    `encode` puts "data" first, so the data's text is cut out of the message while parsing it
    (the parser gives where the value ends: exactly one JSON value) rather than encoded again,
    which was a third of a catch-up's decoding time. Anything else — other spacing, another
    key order, a repeated "data" key — takes the general path and is encoded afresh."""
    if len(raw) <= MAX_EVENT_BYTES:
        try:
            text = raw.decode()
            if text.startswith(_DATA_FIRST):
                data, end = scan_value(text, len(_DATA_FIRST))
                if text[end:end + 1] == ",":
                    rest = "{" + text[end + 1:]
                    body, stop = scan_value(rest, 0)
                    if stop == len(rest) and isinstance(body, dict) and "data" not in body:
                        body["data"] = data
                        return _event_from(body), text[len(_DATA_FIRST):end]
        except (ValueError, UnicodeDecodeError, StopIteration):
            pass  # the general path says what is wrong
    event = decode(raw)
    return event, data_text(event.data)


def decode(raw: bytes) -> Event:
    if len(raw) > MAX_EVENT_BYTES:
        raise InvalidInput("A synced event is larger than 256 KiB.")
    try:
        body: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("A synced event is not JSON.") from None
    return _event_from(body)


def _event_from(body: Any) -> Event:
    if not isinstance(body, dict) or not _REQUIRED <= body.keys():
        raise InvalidInput("A synced event lacks one of " + ", ".join(_FIELDS) + ".")
    if not isinstance(body["data"], dict):
        raise InvalidInput("A synced event's data must be an object.")
    event_id, kind, at, origin, hlc = (body["id"], body["type"], body["timestamp"], body["origin"],
                                       body["hlc"])
    if type(event_id) is not str or type(kind) is not str or type(at) is not str \
            or type(origin) is not str or type(hlc) is not str \
            or not isinstance(body["originSeq"], int):
        raise InvalidInput("A synced event has a field of the wrong type.")
    pass_id, sig = body.get("passId"), body.get("sig")
    if pass_id is not None and not isinstance(pass_id, str):
        raise InvalidInput("A synced event's passId must be a string.")
    if sig is not None and not isinstance(sig, str):
        raise InvalidInput("A synced event's sig must be a string.")
    return Event(id=event_id, type=kind, timestamp=at, data=body["data"], origin=origin,
                 origin_seq=body["originSeq"], hlc=hlc, pass_id=pass_id, sig=sig)
