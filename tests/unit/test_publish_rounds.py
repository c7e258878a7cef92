"""One signature per publish round (docs/sync-trust.md, "Rounds"): only a round's last event is
signed, the events below carry their link; a receiver takes what a verified chain reaches, holds
a round back until its top has arrived, and never applies an event nothing verified covers."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from station.domain.event_signature import (
    BAD_SIGNATURE,
    CHAIN_SEGMENT,
    UNCOVERED,
    ends_segment,
    sign_chained,
    starts_chain,
)
from station.domain.events import Event
from station.domain.remote import data_text
from station.net.sync import wire
from station.net.sync.round_tops import HeldBack, clean_parts
from tests.unit.signed_events import KEY, OTHER, made_event, refusals_of


def _rounds(origin: str, key: Ed25519PrivateKey, first: int, sizes: list[int]) -> list[Event]:
    """An origin's events from `first`, published in rounds of `sizes`, as the publisher signs
    them (services/event_trust.py: the chain restarts every CHAIN_SEGMENT events, a round's
    last event and a segment's last are signed)."""
    out: list[Event] = []
    prev, seq = "", first
    for size in sizes:
        for k in range(size):
            event = made_event(origin, seq)
            top = k == size - 1 or ends_segment(seq)
            sig, prev_next = sign_chained(key if top else None, event,
                                          "" if starts_chain(seq) else prev)
            out.append(dataclasses.replace(event, sig=sig))
            prev, seq = prev_next, seq + 1
    return out


def test_a_round_carries_one_signature_and_verifies_whole() -> None:
    events = _rounds("sta_a", KEY, 1, [200, 1])
    link_only = [e for e in events if e.sig and e.sig.startswith(".")]
    assert len(link_only) == 199 and events[199].sig and len(events[199].sig) == 130
    assert events[200].sig and len(events[200].sig) == 130  # a live event: a round of one
    assert refusals_of(events) == [None] * 201


def test_an_unsigned_tail_is_never_applied_alone_and_is_once_its_top_arrives() -> None:
    events = _rounds("sta_a", KEY, 1, [50])
    assert refusals_of(events[:-1]) == [UNCOVERED] * 49  # the top has not arrived
    assert refusals_of(events) == [None] * 50


def test_a_round_across_a_chain_segment_is_covered_by_the_segment_end() -> None:
    first = CHAIN_SEGMENT - 9
    events = _rounds("sta_a", KEY, first, [30])
    ends = [e for e in events if ends_segment(e.origin_seq)]
    assert len(ends) == 1 and ends[0].sig and not ends[0].sig.startswith(".")
    cut = events.index(ends[0]) + 1
    # Up to the segment end, the events verify without the round's top (a publisher that
    # restarted links the rest of the round afresh: nothing below the segment end waits).
    assert refusals_of(events[:cut]) == [None] * cut
    assert refusals_of(events) == [None] * 30


ALTERATIONS = ("data", "seq", "origin", "prev", "relink", "drop")


@settings(max_examples=300, deadline=None)
@given(n=st.integers(3, 40), data=st.data())
def test_an_altered_dropped_or_relinked_event_never_rides_with_its_round(
        n: int, data: st.DataObject) -> None:
    how = data.draw(st.sampled_from(ALTERATIONS))
    round_ = _rounds("sta_a", KEY, data.draw(st.integers(1, 3 * CHAIN_SEGMENT)), [n])
    j = data.draw(st.integers(0, n - 2))  # below the top (the top alone: test_event_chain)
    e = round_[j]
    assert e.sig is not None
    if how == "drop":
        altered = [*round_[:j], *round_[j + 1:]]
    elif how == "relink":  # two events' places in the chain swapped (their links kept)
        altered = [*round_[:j], dataclasses.replace(round_[j + 1], sig=e.sig),
                   dataclasses.replace(e, sig=round_[j + 1].sig), *round_[j + 2:]]
    else:
        changed = {
            "data": dataclasses.replace(e, data={**e.data, "verdict": "rejected"}),
            "seq": dataclasses.replace(e, origin_seq=e.origin_seq + 1000),
            "origin": dataclasses.replace(e, origin="sta_b"),
            "prev": dataclasses.replace(e, sig="." + ("B" * 43 if e.sig[1:2] != "B"
                                                      else "C" * 43)),
        }[how]
        altered = [*round_[:j], changed, *round_[j + 1:]]
    # Another door's round, interleaved as the hub's stream holds them.
    other = _rounds("sta_b", OTHER, 1, [data.draw(st.integers(1, 5))])
    order = data.draw(st.permutations([0] * len(altered) + [1] * len(other)))
    sources = (iter(altered), iter(other))
    stream = [next(sources[k]) for k in order]
    whys = {id(x): w for x, w in zip(stream, refusals_of(stream), strict=True)}

    def why(x: Event) -> str | None:
        return whys[id(x)]

    assert all(why(x) is None for x in other)  # the other door's round is untouched
    if how != "drop":  # (a missing event forges nothing: the chain just stops there)
        assert any(why(x) is not None for x in altered)  # the round never verifies whole
    if how not in ("drop", "relink"):
        assert why(altered[j]) in (UNCOVERED, BAD_SIGNATURE)  # the altered one is refused
    # Nothing refused is above the break: the top still vouches for the events it reaches.
    above = altered[j + (0 if how == "drop" else 2 if how == "relink" else 1):]
    assert all(why(x) is None for x in above if x.origin == "sta_a")


def test_the_order_events_arrive_in_does_not_matter_to_their_chain() -> None:
    events = _rounds("sta_a", KEY, 1, [20])
    shuffled = [*events[10:], *events[:10]]  # the top arrives before some of its round
    assert refusals_of(shuffled) == [None] * 20


def test_the_wire_carries_the_data_as_the_log_stores_it() -> None:
    for event in _rounds("sta_a", KEY, 1, [3]) + [made_event("sta_b", 9)]:
        assert wire.encode(event, data_text(event.data)) == wire.encode(event)
        raw = wire.encode(event)
        assert wire.carries_link_only(raw) == bool(event.sig and event.sig.startswith("."))
    sneaky = dataclasses.replace(made_event("sta_a", 1), data={"sig": ".x"}, sig=None)
    assert not wire.carries_link_only(wire.encode(sneaky))  # a "sig" in the data is not its own


def _msgs(events: list[Event], start: int = 1) -> list[Any]:
    return [SimpleNamespace(subject=f"station.org.events.{e.origin}", data=wire.encode(e),
                            metadata=SimpleNamespace(sequence=SimpleNamespace(stream=start + i)))
            for i, e in enumerate(events)]


def test_the_follower_holds_a_round_back_until_its_top_arrives_and_not_forever() -> None:
    ours = _rounds("sta_a", KEY, 1, [10])
    theirs = _rounds("sta_b", OTHER, 1, [3])
    msgs = _msgs([*ours[:4], *theirs, *ours[4:]])  # stream 1..13
    held = HeldBack(300.0, "station.org.events.sta_me")
    # The first part arrives: sta_a's round is open, sta_b's complete.
    now = held.take(msgs[:7], now=0.0)
    assert [m.data for m in now] == [m.data for m in msgs[4:7]] and held.first_held() == 1
    assert held.take(msgs[7:10], now=1.0) == []  # more of the round, still no top
    assert held.first_held() == 1
    now = held.take(msgs[10:], now=2.0)  # the top: the whole round goes on, in stream order
    assert [m.data for m in now] == [m.data for m in (*msgs[:4], *msgs[7:])]
    assert held.first_held() is None and not held.expired(1e9)
    # A tail whose top never comes is let go after the wait, and then refused, never applied.
    tail = _msgs(ours[:5], start=20)
    assert held.take(tail, now=10.0) == [] and not held.expired(309.0)
    assert held.expired(310.0) and held.take([], now=310.0) == tail
    assert refusals_of(ours[:5]) == [UNCOVERED] * 5
    # Each subject waits on its own: a forger's tail that never gets a top lets go of its own
    # messages, not of another station's round whose top is on its way.
    forger = _msgs(ours[:2], start=30)
    assert held.take(forger, now=400.0) == [] and held.first_held() == 30
    round_b = _rounds("sta_b", OTHER, 4, [3])
    part = _msgs(round_b[:2], start=32)
    assert held.take(part, now=699.0) == []
    assert held.take([], now=700.0) == forger and held.first_held() == 32
    top = _msgs(round_b[2:], start=34)
    assert held.take(top, now=701.0) == [*part, *top] and held.first_held() is None


def test_a_worker_part_ends_only_where_no_round_is_open() -> None:
    events = _rounds("sta_a", KEY, 1, [7, 7, 7])
    data = [wire.encode(e) for e in events]
    senders = [e.origin for e in events]
    assert clean_parts(data, senders, 5) == [(0, 7), (7, 14), (14, 21)]
    assert clean_parts(data, None, 5) == [(0, 5), (5, 10), (10, 15), (15, 20), (20, 21)]
