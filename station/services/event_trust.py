"""Whose events this station applies: each origin station's key, and the rule for events from
before signing (issue 15, part 5; the signed form: domain/event_signature.py).

Which key a station is trusted with is answered by `trusted_key_for` alone. Once this station
has enrolled (services/key_trust.py) it is the key the organisation certified for that station,
and none for a station the organisation removed (what that one published on its own subject
before its removal still counts: EventTrust.removed): a station with hub access cannot publish
events in another's name, nor a removed one through somebody else. A station not enrolled yet
(it joined a hub from before enrolment) learns a station's key from that station's own entry in
the hub's `stations` bucket, the first time it is seen, and keeps it: a later entry naming
another key is ignored and logged; the window and the log say it is not enrolled.

Unsigned events (from stations before this change) are accepted only when the hub stored them
before the organisation switched to signed events: the first station that signs reaching the hub
records the stream's last sequence then (first one wins), and every station keeps the first
value it learns. See docs/sync-trust.md.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.domain import tokens
from station.domain.event_signature import (
    CHAIN_SEGMENT,
    EventTrust,
    ends_segment,
    sign_chained,
    starts_chain,
)
from station.domain.events import Event
from station.domain.trust import Untrusted, public_key
from station.services.context import Context
from station.services.key_trust import KeyTrust
from station.store.sync import SyncLedger

log = logging.getLogger(__name__)

BINDINGS = "station_event_keys"  # setting: station id -> ids of the keys it is trusted with
UNSIGNED_UNTIL = "unsigned_events_until"  # setting: hub stream -> its sequence, once learnt
RESIGNED = "resigned_streams"  # setting: hub streams our late unsigned events went to again

# (origin station, why) -> how many of a batch's events were refused for it
Refused = dict[tuple[str, str], int]

# The chain hashes of the events signed last, per origin: enough to sign again the same way a
# publish round that is retried (a round is at most SyncSettings.publish_batch events).
CHAIN_KEPT = 4096


def log_refused(refused: Mapping[tuple[str, str], int]) -> None:
    """One line per origin and reason for a batch (a flood of forgeries is one line, not a
    line each)."""
    for (origin, why), count in sorted(refused.items()):
        log.warning("refused %d synced event%s claiming to come from station %s: %s", count,
                    "" if count == 1 else "s", origin[:64], why)


def add_refused(into: Refused, more: Mapping[tuple[str, str], int]) -> Refused:
    for key, count in more.items():
        into[key] = into.get(key, 0) + count
    return into


class EventTrustService:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._ignored: set[tuple[str, tuple[str, ...]]] = set()  # claims logged already
        # origin -> {origin_seq: chain hash} of the events signed here lately (sign()).
        self._chain: dict[str, dict[int, str]] = {}
        self._chain_lock = threading.Lock()  # the publisher and resign.py sign in threads

    # --- this station's own events ---------------------------------------------------------
    def own_key_ids(self) -> list[str]:
        """What this station announces as its event key (its signing key's id)."""
        return [tokens.key_id(self._ctx.keys.private.public_key())]

    def sign(self, events: Sequence[Event], texts: Sequence[str] | None = None, *,
             each: bool = False) -> list[Event]:
        """This station's events as a publish round: each linked to its origin's previous event
        (`prev`), and only the last one of each origin in the round (and the last of each chain
        segment) signed; the others carry their link only, which that signature covers
        (docs/sync-trust.md, rounds). `texts`: each event's data as the log stores it (encoded
        afresh when not given); `each`: every event signed (events published apart).
        A round that is retried, here or after a restart, is signed again byte for byte."""
        key = self._ctx.keys.private
        top = {event.origin: k for k, event in enumerate(events)}
        signed: list[Event] = []
        with self._chain_lock:
            for k, event in enumerate(events):
                hashes = self._chain.setdefault(event.origin, {})
                signs = each or top[event.origin] == k or ends_segment(event.origin_seq)
                sig, own_hash = sign_chained(key if signs else None, event, self._prev(event),
                                             texts[k] if texts is not None else None)
                hashes[event.origin_seq] = own_hash
                if len(hashes) > 2 * CHAIN_KEPT:
                    newest = max(hashes)
                    for seq in [s for s in hashes if s <= newest - CHAIN_KEPT]:
                        del hashes[seq]
                signed.append(replace(event, sig=sig))
        return signed

    def sign_each(self, events: Sequence[Event]) -> list[Event]:
        """`sign(events, each=True)`: for events published apart (net/sync/resign.py)."""
        return self.sign(events, each=True)

    def _prev(self, event: Event) -> str:
        """`prev` of `event`: the chain hash of its origin's event origin_seq - 1, or "" where a
        chain segment starts or that event is not in the log. A function of the log alone, so
        a station that restarts links a round it publishes again exactly as before: the signed
        top of that round then covers what the hub kept of it (its messages that reached the
        hub before the stop carry the same links). Computed from the log, up to
        CHAIN_SEGMENT - 1 events, when not remembered (after a start)."""
        seq = event.origin_seq
        if starts_chain(seq):
            return ""
        known = self._chain.get(event.origin, {}).get(seq - 1)
        if known is not None:
            return known
        first = seq - (seq - 1) % CHAIN_SEGMENT
        prev, at = "", first - 1
        for earlier, text in SyncLedger(self._ctx.store).origin_events(event.origin, first,
                                                                         seq - 1):
            link = prev if earlier.origin_seq == at + 1 else ""
            _, prev = sign_chained(None, earlier, link, text)
            at = earlier.origin_seq
        return prev if at == seq - 1 else ""

    # --- other stations' keys --------------------------------------------------------------
    def trusted_key_for(self, station_id: str) -> tuple[Ed25519PublicKey, ...]:
        """The keys whose signature on an event makes it `station_id`'s (none: unknown)."""
        return self._trusted_keys([station_id])[station_id]

    def _trusted_keys(self, station_ids: Iterable[str] | None = None,
                      ) -> dict[str, tuple[Ed25519PublicKey, ...]]:
        """Keys by station, for `station_ids` (None: every station known here, and this one)."""
        own = self._ctx.station_id
        held = self._certified()
        if held is None:
            bindings = self._ctx.store.setting(BINDINGS) or {}
            by_id = {tokens.key_id(k): k for k in self._ctx.keys.trusted}
            held = {station_id: tuple(by_id[kid] for kid in kids or [] if kid in by_id)
                    for station_id, kids in bindings.items()}
        held[own] = (self._ctx.keys.private.public_key(),)
        return {station_id: held.get(station_id, ())
                for station_id in (held if station_ids is None else station_ids)}

    def _certified(self) -> dict[str, tuple[Ed25519PublicKey, ...]] | None:
        """Enrolled: each station's certified key (removed stations left out); else None (not
        enrolled: the first-seen keys apply)."""
        keys = KeyTrust(self._ctx)
        if keys.org_key() is None:
            return None
        out: dict[str, tuple[Ed25519PublicKey, ...]] = {}
        for station_id, b64 in keys.certified_keys().items():
            try:
                out[station_id] = (public_key(b64),)
            except Untrusted:
                continue  # it verified when learnt; a damaged setting trusts nothing
        return out

    def learn_keys_of_stations(self, announced: Mapping[str, Iterable[str]]) -> None:
        """Each station's key ids as its entry on the hub names them: kept for a station seen
        for the first time; for one known already, a different claim is ignored (logged once)."""
        own = self._ctx.station_id
        known: dict[str, list[str]] = dict(self._ctx.store.setting(BINDINGS) or {})
        added = False
        for station_id, kids in announced.items():
            claim = tuple(sorted({str(k) for k in kids if isinstance(k, str)}))[:8]
            if station_id == own or not claim:
                continue
            held = known.get(station_id)
            if held is None:
                known[station_id] = list(claim)
                added = True
            elif tuple(sorted(held)) != claim and (station_id, claim) not in self._ignored:
                self._ignored.add((station_id, claim))
                log.warning("station %s now names another event key on the hub than the one it "
                            "is trusted with here; ignored (re-enrol it to change its key)",
                            station_id[:64])
        if added:
            self._ctx.store.set_setting(BINDINGS, known)

    def learn_unsigned_until(self, stream: str, stream_seq: int) -> None:
        """Where the hub's stream `stream` (its identity: membership.same_stream) switched to
        signed events; the first value learnt for a stream is kept."""
        held: dict[str, int] = dict(self._ctx.store.setting(UNSIGNED_UNTIL) or {})
        if stream not in held:
            held[stream] = int(stream_seq)
            self._ctx.store.set_setting(UNSIGNED_UNTIL, held)
        elif held[stream] != stream_seq:
            log.warning("the hub now says signed events started at %d, not %d as it said "
                        "before; keeping %d", stream_seq, held[stream], held[stream])

    def resigned(self, stream: str) -> bool:
        """Whether this station's events published unsigned after `stream`'s switch point were
        published again, signed (net/sync/resign.py)."""
        return stream in (self._ctx.store.setting(RESIGNED) or [])

    def mark_resigned(self, stream: str) -> None:
        held = list(self._ctx.store.setting(RESIGNED) or [])
        if stream not in held:
            self._ctx.store.set_setting(RESIGNED, [*held, stream])

    def snapshot(self, stream: str | None = None) -> EventTrust:
        """What signatures are checked against (here, or in the worker preparing a download),
        with where `stream` switched to signed events (None: no unsigned event is accepted)."""
        held_by = self._trusted_keys()
        keys = {station_id: tuple(tokens.public_key_bytes(k) for k in held)
                for station_id, held in held_by.items()}
        held = (self._ctx.store.setting(UNSIGNED_UNTIL) or {}).get(stream) if stream else None
        removed = {r.station_id: (tokens.public_key_bytes(r.key),)
                   for r in KeyTrust(self._ctx).removed()}
        return EventTrust(keys, None if held is None else int(held), removed)

    def screen(self, events: Sequence[Event], before_switch: frozenset[str],
               texts: Mapping[str, str], trust: EventTrust | None = None,
               own_subject: frozenset[str] = frozenset(),
               ) -> tuple[list[Event], Refused]:
        """The events that may be applied, and how many were refused, by origin and reason.
        `before_switch`: ids of events the hub stored before signing was switched on;
        `own_subject`: ids of events that arrived on their origin station's own subject."""
        trust = trust or self.snapshot()
        accepted: list[Event] = []
        refused: Refused = {}
        whys = trust.refusals(events, [texts.get(e.id) for e in events],
                              [e.id in before_switch for e in events],
                              [e.origin if e.id in own_subject else None for e in events])
        for event, why in zip(events, whys, strict=True):
            if why is None:
                accepted.append(event)
            else:
                key = (event.origin, why)
                refused[key] = refused.get(key, 0) + 1
        return accepted, refused
