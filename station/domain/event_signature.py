"""Events signed by the station that recorded them (issue 15, part 5).

Each event a station publishes carries `sig`: its origin station's Ed25519 signature over the
event's signed form, so a station with access to the hub still cannot publish events in
another station's name, and nobody can alter one on the way. The forms are defined here once:
a tag (so an event signature can never pass for a pass token's, or for another form's), the
event's fields but its data as one JSON array, a newline, then the data as the log stores it
(compact JSON, keys sorted: domain.remote.data_text), which is also how the wire carries it,
so a receiver verifies the very text it received without encoding the data again.

Form v2 (`station-event-v2`) adds `prev` to the array: the SHA-256 of the v2 form of the
previous event the origin signed (by origin_seq), or "" where a chain starts. `sig` is then
`<signature>.<prev>`. A receiver holding a run of an origin's events linked that way verifies
the signature of the run's last event only: it covers that event's form, which binds the hash
of the one before, and so on down (`EventTrust.refusals`). v1 signatures keep verifying, each
on its own. A publisher signs only the last event of each publish round (and of each chain
segment of CHAIN_SEGMENT events); the others carry `.<prev>`, their link only (link_only),
and count only where a verified chain reaches them (docs/sync-trust.md, "Rounds").

Which key an origin is trusted with, and what to do with events from before signing, are the
services' decisions (services/event_trust.py); `EventTrust` is their snapshot, plain enough
to be sent to the worker process that prepares a history download.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from station.domain.events import Event
from station.domain.remote import data_text

FORM_TAG = b"station-event-v1\n"
FORM_TAG_V2 = b"station-event-v2\n"
SIG_LENGTH = 86  # 64 bytes, base64url without padding
HASH_LENGTH = 43  # SHA-256, base64url without padding
LINK_ONLY = "."  # starts the `sig` of an event that carries its link only (link_only)
CHAIN_SEGMENT = 512  # events per chain segment of an origin (starts_chain)


# json.dumps(..., separators=(",", ":")) makes a new encoder at each call, as much time as the
# encoding of a form's head: one encoder made once writes the same bytes (a download forms
# every event's head to follow its origin's chain).
_compact = json.JSONEncoder(separators=(",", ":")).encode


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def signed_form(event: Event, text: str | None = None) -> bytes:
    """The bytes a v1 signature covers; `text`: the event's data as the log stores it, when
    the caller has it already (data_text(event.data) otherwise)."""
    head = _compact([event.id, event.type, event.timestamp, event.origin, event.origin_seq,
                     event.hlc, event.pass_id])
    return b"".join((FORM_TAG, head.encode(), b"\n",
                     (data_text(event.data) if text is None else text).encode()))


def signed_form_v2(event: Event, prev: str, text: str | None = None) -> bytes:
    """The bytes a v2 signature covers: v1's fields, then `prev` (the previous event's
    `chain_hash`, "" where a chain starts)."""
    head = _compact([event.id, event.type, event.timestamp, event.origin, event.origin_seq,
                     event.hlc, event.pass_id, prev])
    return b"".join((FORM_TAG_V2, head.encode(), b"\n",
                     (data_text(event.data) if text is None else text).encode()))


def chain_hash(form: bytes) -> str:
    """What the next event's `prev` names: the SHA-256 of this event's v2 form."""
    return _b64(hashlib.sha256(form).digest())


def sign_event(key: Ed25519PrivateKey, event: Event, text: str | None = None) -> str:
    """A v1 signature (stations before v2 made these; they keep verifying)."""
    return _b64(key.sign(signed_form(event, text)))


def sign_chained(key: Ed25519PrivateKey | None, event: Event, prev: str,
                 text: str | None = None) -> tuple[str, str]:
    """A v2 `sig` linking `event` to the event whose chain_hash is `prev` ("" starts a chain),
    and this event's own chain_hash (the next one's `prev`). `key` None: the link only, no
    signature (an event below its publish round's signed top: link_only)."""
    form = signed_form_v2(event, prev, text)
    if key is None:
        return link_only(prev), chain_hash(form)
    return f"{_b64(key.sign(form))}.{prev}", chain_hash(form)


def link_only(prev: str) -> str:
    """The `sig` of an event below its publish round's top: no signature, only the link
    (`prev`) that the signed top's chain authenticates (docs/sync-trust.md, rounds)."""
    return LINK_ONLY + prev


def starts_chain(origin_seq: int) -> bool:
    """Whether an origin's chain starts afresh at this event (`prev` ""): every CHAIN_SEGMENT
    events, so that a station that restarts computes the same `prev` for any event from at
    most CHAIN_SEGMENT - 1 earlier ones in its log (the chain is a function of the log)."""
    return origin_seq % CHAIN_SEGMENT == 1


def ends_segment(origin_seq: int) -> bool:
    """The last event of a chain segment: always signed, so events below it never wait for a
    top that a later segment cannot give them."""
    return origin_seq % CHAIN_SEGMENT == 0


def read_sig(sig: str | None) -> tuple[bytes, str | None] | None:
    """The 64 signature bytes (b"": a link-only event below its round's top) and `prev` (None:
    a v1 signature), or None when malformed."""
    if sig is None:
        return None
    if sig[:1] == LINK_ONLY and len(sig) in (1, 1 + HASH_LENGTH):
        return b"", sig[1:]
    if len(sig) == SIG_LENGTH:
        prev = None
    elif len(sig) in (SIG_LENGTH + 1, SIG_LENGTH + 1 + HASH_LENGTH) and sig[SIG_LENGTH] == ".":
        prev = sig[SIG_LENGTH + 1:]
    else:
        return None
    try:
        raw = base64.urlsafe_b64decode(sig[:SIG_LENGTH] + "==")
    except (binascii.Error, ValueError):
        return None
    return (raw, prev) if len(raw) == 64 else None


def _form(event: Event, prev: str | None, text: str | None) -> bytes:
    return signed_form(event, text) if prev is None else signed_form_v2(event, prev, text)


def verifies(event: Event, keys: tuple[Ed25519PublicKey, ...], text: str | None = None) -> bool:
    """Whether `event.sig` is a signature by one of `keys` over the event as it is."""
    parsed = read_sig(event.sig)
    if not keys or parsed is None or not parsed[0]:
        return False
    raw, prev = parsed
    form = _form(event, prev, text)
    for key in keys:
        try:
            key.verify(raw, form)
            return True
        except InvalidSignature:
            continue
    return False


def linked_runs(events: Sequence[Event], texts: Sequence[str | None],
                indexes: Sequence[int]) -> list[list[int]]:
    """`indexes` (one origin's events, in the order received) cut into runs: in each, every
    event's `prev` is the chain_hash of the one before it. An altered event (its data, seq,
    origin, prev…) matches no `prev`, so it ends up the last of its run."""
    runs: list[list[int]] = []
    last_hash: str | None = None
    for i in indexes:
        event = events[i]
        parsed = read_sig(event.sig)
        prev = parsed[1] if parsed is not None else None
        if runs and prev and prev == last_hash:
            runs[-1].append(i)
        else:
            runs.append([i])
        last_hash = (chain_hash(signed_form_v2(event, prev, texts[i])) if prev is not None
                     else None)
    return runs


# Why an event was refused (the log names them, with the origin and how many).
UNKNOWN_ORIGIN = "its origin station has no key this station trusts"
BAD_SIGNATURE = "its signature is not its origin station's (forged or altered)"
UNSIGNED = "it is unsigned, and the hub stored it after signed events were switched on"
UNCOVERED = ("it carries no signature of its own, and no signed event of its origin station "
             "covers it")
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
        return self.refusals([event], [text], [before_switch], [sender])[0]

    def refusals(self, events: Sequence[Event], texts: Sequence[str | None],
                 before_switch: Sequence[bool], senders: Sequence[str | None],
                 ) -> list[str | None]:
        """`refusal()` for each of a batch's events (the other sequences give each event's
        text, whether the hub stored it before the switch, and its sender), verifying one
        signature per chain where it can (_covered): the signature of the last event of a run
        of linked events authenticates the whole run. When it does not verify, that event is
        refused and the one below it is tried as the top of what remains, so a bad event
        refuses only itself and costs one verification more. An event below its publish
        round's top carries no signature (link_only): only a verified chain above it carries
        it; the follower holds such events back until their top has arrived."""
        out: list[str | None] = [None] * len(events)
        groups: dict[tuple[str, bool], list[int]] = {}
        for i, event in enumerate(events):
            if event.sig is None:
                out[i] = None if before_switch[i] else UNSIGNED
                continue
            removed = False
            if not self.keys_of(event.origin) and event.origin in self.removed:
                if senders[i] != event.origin:
                    out[i] = REMOVED_ORIGIN
                    continue
                removed = True
            if not self.keys_of(event.origin, removed):
                out[i] = UNKNOWN_ORIGIN
                continue
            groups.setdefault((event.origin, removed), []).append(i)
        for (origin, removed), indexes in groups.items():
            self._covered(events, texts, indexes, self.keys_of(origin, removed), out)
        return out

    @staticmethod
    def _covered(events: Sequence[Event], texts: Sequence[str | None], indexes: Sequence[int],
                 keys: tuple[Ed25519PublicKey, ...], out: list[str | None]) -> None:
        """Marks in `out` which of one origin's events (`indexes`, in the order received) no
        verified signature covers. From the last event down: one whose signature verifies
        vouches for every event its chain reaches (each one's `prev` is the hash of the v2 form
        of the one below), which are then not verified again; an event no verified chain
        reaches is refused, unsigned (a link-only event) or not."""
        parsed = [read_sig(events[i].sig) for i in indexes]
        by_hash: dict[str, list[int]] = {}
        for k, i in enumerate(indexes):
            p = parsed[k]
            if p is not None and p[1] is not None:  # a v2 form (v1 events stand alone)
                by_hash.setdefault(chain_hash(signed_form_v2(events[i], p[1], texts[i])),
                                   []).append(k)
        vouched = [False] * len(indexes)
        for k in reversed(range(len(indexes))):
            if vouched[k]:
                continue
            i, p = indexes[k], parsed[k]
            if p is not None and not p[0]:
                out[i] = UNCOVERED
                continue
            if not verifies(events[i], keys, texts[i]):
                out[i] = BAD_SIGNATURE
                continue
            below = [k]
            while below:  # everything this signature's chain reaches
                j = below.pop()
                if vouched[j]:
                    continue
                vouched[j] = True
                out[indexes[j]] = None
                pj = parsed[j]
                prev = pj[1] if pj is not None else None
                if prev:
                    below += by_hash.get(prev, ())
