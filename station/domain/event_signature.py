"""Events signed by the station that recorded them (issue 15, part 5).

Each event a station publishes carries `sig`: its origin station's Ed25519 signature over
`signed_form(event)`, so a station with access to the hub still cannot publish events in
another station's name, and nobody can alter one on the way. The form is defined here once:
a tag (so an event signature can never pass for a pass token's, or for a later form's), the
event's fields but its data as one JSON array, a newline, then the data as the log stores it
(compact JSON, keys sorted: domain.remote.data_text), which is also how the wire carries it,
so a receiver verifies the very text it received without encoding the data again.

Which key an origin is trusted with, and what to do with events from before signing, are the
services' decisions (services/event_trust.py); `EventTrust` is their snapshot, plain enough
to be sent to the worker process that prepares a history download.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from station.domain.events import Event
from station.domain.remote import data_text

FORM_TAG = b"station-event-v1\n"
SIG_LENGTH = 86  # 64 bytes, base64url without padding


def signed_form(event: Event, text: str | None = None) -> bytes:
    """The bytes an event's signature covers; `text`: its data as the log stores it, when the
    caller has it already (data_text(event.data) otherwise)."""
    head = json.dumps([event.id, event.type, event.timestamp, event.origin, event.origin_seq,
                       event.hlc, event.pass_id], separators=(",", ":"))
    return b"".join((FORM_TAG, head.encode(), b"\n",
                     (data_text(event.data) if text is None else text).encode()))


def sign_event(key: Ed25519PrivateKey, event: Event, text: str | None = None) -> str:
    return base64.urlsafe_b64encode(key.sign(signed_form(event, text))).rstrip(b"=").decode()


def verifies(event: Event, keys: tuple[Ed25519PublicKey, ...], text: str | None = None) -> bool:
    """Whether `event.sig` is a signature by one of `keys` over the event as it is."""
    sig = event.sig
    if not keys or sig is None or len(sig) != SIG_LENGTH:
        return False
    try:
        raw = base64.urlsafe_b64decode(sig + "==")
    except (binascii.Error, ValueError):
        return False
    if len(raw) != 64:
        return False
    form = signed_form(event, text)
    for key in keys:
        try:
            key.verify(raw, form)
            return True
        except InvalidSignature:
            continue
    return False


# Why an event was refused (the log names them, with the origin and how many).
UNKNOWN_ORIGIN = "its origin station has no key this station trusts"
BAD_SIGNATURE = "its signature is not its origin station's (forged or altered)"
UNSIGNED = "it is unsigned, and the hub stored it after signed events were switched on"
REMOVED_ORIGIN = ("its origin station was removed from the organisation (only what it published "
                  "itself before then is kept)")


@dataclass(frozen=True)
class EventTrust:
    """Which keys each origin is trusted with (raw Ed25519 public keys), and up to which hub
    stream sequence unsigned events (from before signing) are accepted (None: none are).

    `removed`: the keys of stations the organisation removed. Their events are accepted only as
    they arrive on the removed station's own subject, which only that station could publish on
    (its hub user is gone since): what it published before its removal stays, an event its key
    signs afterwards, published by anybody else, is refused."""

    keys: Mapping[str, tuple[bytes, ...]]
    unsigned_until: int | None
    removed: Mapping[str, tuple[bytes, ...]] = field(default_factory=dict)
    _loaded: dict[tuple[str, bool], tuple[Ed25519PublicKey, ...]] = field(
        default_factory=dict, compare=False, repr=False)

    def __getstate__(self) -> dict[str, object]:
        # Sent to the worker process without the loaded keys (not picklable; loaded again there).
        return {"keys": dict(self.keys), "unsigned_until": self.unsigned_until,
                "removed": dict(self.removed)}

    def __setstate__(self, state: dict[str, object]) -> None:
        for name, value in {**state, "_loaded": {}}.items():
            object.__setattr__(self, name, value)

    def keys_of(self, origin: str, removed: bool = False) -> tuple[Ed25519PublicKey, ...]:
        loaded = self._loaded.get((origin, removed))
        if loaded is None:
            held = (self.removed if removed else self.keys).get(origin, ())
            loaded = tuple(Ed25519PublicKey.from_public_bytes(k) for k in held)
            self._loaded[(origin, removed)] = loaded
        return loaded

    def before_switch(self, stream_seq: int) -> bool:
        """Whether the hub stored the message at this sequence before signing was switched on."""
        return self.unsigned_until is not None and stream_seq <= self.unsigned_until

    def refusal(self, event: Event, before_switch: bool, text: str | None = None,
                sender: str | None = None) -> str | None:
        """None when the event may be applied, else why not (one of the reasons above).
        `before_switch`: the hub stored it before signed events were switched on; `sender`:
        the station whose subject it arrived on."""
        if event.sig is None:
            return None if before_switch else UNSIGNED
        keys = self.keys_of(event.origin)
        if not keys and event.origin in self.removed:
            if sender != event.origin:
                return REMOVED_ORIGIN
            keys = self.keys_of(event.origin, removed=True)
        if not keys:
            return UNKNOWN_ORIGIN
        return None if verifies(event, keys, text) else BAD_SIGNATURE
