"""Occupancy: a fold of entries and exits from every door that converges and never goes negative."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from station.domain.events import Event, EventType, checkout_event_id
from station.domain.hlc import Stamp
from station.domain.occupancy import (
    DOUBLE_ENTRY, EXIT_NOT_INSIDE, Kind, Presence, fold_events, fold_tally, movement_from_event,
    overlaid,
)
from station.domain.times import from_ms


def scan(n: int, wall: int, pass_id: str, direction: str = "entry", list_id: str | None = None,
         origin: str = "sta_a", verdict: str = "accepted") -> Event:
    s: dict[str, Any] = {"id": f"scn_{n}", "verdict": verdict, "stationId": origin,
                         "scannedAt": from_ms(wall), "list": list_id}
    if direction == "exit":
        s["direction"] = "exit"
    return Event(id=f"evt_{n:05d}", type=EventType.PASS_SCANNED, timestamp=from_ms(wall),
                 data={"id": pass_id, "scan": s}, origin=origin, origin_seq=n,
                 hlc=Stamp(wall, 0).encode(), pass_id=pass_id)


def revert(n: int, wall: int, scan_n: int) -> Event:
    return Event(id=f"evt_{n:05d}", type=EventType.SCAN_REVERTED, timestamp=from_ms(wall),
                 data={"scanId": f"scn_{scan_n}"}, origin="sta_a", origin_seq=n,
                 hlc=Stamp(wall, 0).encode())


def checkout(at_ms: int, list_id: str | None = None, origin: str = "sta_a",
             hlc_ms: int | None = None) -> Event:
    at = from_ms(at_ms)
    return Event(id=checkout_event_id(list_id, at), type=EventType.OCCUPANCY_CHECKOUT,
                 timestamp=at, data={"at": at, "listId": list_id, "by": "schedule"},
                 origin=origin, origin_seq=1, hlc=Stamp(hlc_ms or at_ms, 0).encode())


def test_entries_and_exits_count_per_list_and_for_the_venue() -> None:
    occ = fold_events([scan(1, 100, "p1", list_id="vip"), scan(2, 110, "p2", list_id="ga"),
                       scan(3, 120, "p3", list_id="ga"), scan(4, 130, "p2", "exit", "ga")])
    assert (occ.inside, occ.on("vip"), occ.on("ga")) == (2, 1, 1)
    assert occ.presence("p1").inside and not occ.presence("p2").inside
    assert occ.presence("p2").may_reenter and not occ.presence("p9").may_reenter


def test_refused_scans_are_no_movement() -> None:
    assert movement_from_event(scan(1, 100, "p1", verdict="rejected")) is None
    assert fold_events([scan(1, 100, "p1", verdict="rejected")]).inside == 0


def test_an_exit_without_an_entry_never_makes_the_count_negative() -> None:
    occ = fold_events([scan(1, 100, "p1", "exit"), scan(2, 110, "p2")])
    assert occ.inside == 1 and not occ.presence("p1").inside
    assert [(a.kind, a.pass_id) for a in occ.anomalies] == [(EXIT_NOT_INSIDE, "p1")]


def test_an_entry_that_arrives_late_but_happened_first_matches_its_exit() -> None:
    exit_ = scan(2, 200, "p1", "exit", origin="sta_b")
    assert fold_events([exit_]).inside == 0
    late = fold_events([exit_, scan(1, 100, "p1", origin="sta_a")])  # synced after a partition
    assert late.inside == 0 and late.anomalies == ()


def test_two_entries_offline_at_two_doors_count_two_people_until_both_leave() -> None:
    # Never lose a person: the pass may have been copied; the manager sees the anomaly.
    a, b = scan(1, 100, "p1", origin="sta_a"), scan(2, 101, "p1", origin="sta_b")
    occ = fold_events([a, b])
    assert occ.inside == 2 and [x.kind for x in occ.anomalies] == [DOUBLE_ENTRY]
    after_one = fold_events([a, b, scan(3, 200, "p1", "exit")])
    assert after_one.inside == 1 and after_one.presence("p1").inside
    assert fold_events([a, b, scan(3, 200, "p1", "exit"), scan(4, 300, "p1", "exit")]).inside == 0


def test_an_exit_takes_the_entry_on_its_own_list_else_the_latest() -> None:
    events = [scan(1, 100, "p1", list_id="ga"), scan(2, 110, "p1", list_id="vip")]
    own = fold_events([*events, scan(3, 120, "p1", "exit", "ga")])
    assert (own.on("ga"), own.on("vip")) == (0, 1)
    other = fold_events([*events, scan(3, 120, "p1", "exit", "side")])
    assert (other.on("ga"), other.on("vip")) == (1, 0)


def test_an_undone_entry_or_exit_never_happened_whenever_the_undo_arrives() -> None:
    events = [scan(1, 100, "p1"), scan(2, 200, "p2"), revert(3, 300, 1)]
    assert fold_events(events).inside == 1 and not fold_events(events).presence("p1").inside
    undone_exit = [scan(1, 100, "p1"), scan(2, 200, "p1", "exit"), revert(3, 300, 2)]
    assert fold_events(undone_exit).inside == 1


def test_automatic_check_out_takes_everyone_out_and_ends_the_visit() -> None:
    events = [scan(1, 100, "p1", list_id="ga"), scan(2, 110, "p2", list_id="vip"),
              scan(3, 120, "p3", list_id="ga"), scan(4, 130, "p3", "exit", "ga")]
    occ = fold_events([*events, checkout(1000)])
    assert occ.inside == 0 and occ.presence("p3") == Presence()  # a new visit: not a re-entry
    after = fold_events([*events, checkout(1000), scan(5, 2000, "p1", list_id="ga")])
    assert after.inside == 1
    assert after.presence("p1").open_lists == ("ga",)


def test_check_out_of_one_list_leaves_the_others() -> None:
    events = [scan(1, 100, "p1", list_id="ga"), scan(2, 110, "p2", list_id="vip"), checkout(500, "ga")]
    occ = fold_events(events)
    assert (occ.on("ga"), occ.on("vip"), occ.inside) == (0, 1, 1)


def test_check_out_is_ordered_by_its_time_not_by_the_station_that_wrote_it() -> None:
    # Two stations run the same scheduled check-out; their copies share the id and the data.
    at_a = checkout(1000, origin="sta_a", hlc_ms=1000)
    at_b = checkout(1000, origin="sta_b", hlc_ms=5000)
    entry_between = scan(1, 3000, "p1")
    assert at_a.id == at_b.id
    for copy in (at_a, at_b):
        occ = fold_events([copy, entry_between])
        assert occ.inside == 1  # the entry at 3000 came after the 1000 check-out either way
    assert movement_from_event(at_b).kind is Kind.CHECKOUT  # type: ignore[union-attr]


PASSES = ["p1", "p2", "p3", "p4"]
LISTS = [None, "ga", "vip"]
DOORS = ["sta_a", "sta_b", "sta_c"]

operations = st.lists(
    st.tuples(st.sampled_from(["entry", "entry", "exit", "exit", "revert", "checkout"]),
              st.integers(1, 10_000), st.sampled_from(PASSES), st.sampled_from(LISTS),
              st.sampled_from(DOORS)),
    max_size=60,
)


def build(ops: list[tuple[str, int, str, str | None, str]]) -> list[Event]:
    events: list[Event] = []
    for n, (op, wall, pass_id, list_id, door) in enumerate(ops):
        if op == "checkout":
            events.append(checkout(wall, list_id, origin=door, hlc_ms=wall + n))
        elif op == "revert":
            if n:
                events.append(revert(n, wall, wall % n))
        else:
            events.append(scan(n, wall, pass_id, op, list_id, door))
    return events


@settings(max_examples=300, deadline=None)
@given(operations, st.randoms(use_true_random=False))
def test_any_order_and_any_duplicates_converge(ops: list[tuple[str, int, str, str | None, str]],
                                              rnd: random.Random) -> None:
    events = build(ops)
    expected = fold_events(events)
    shuffled = events + rnd.sample(events, k=len(events) // 2)  # redelivered facts
    rnd.shuffle(shuffled)
    got = fold_events(shuffled)
    assert got == expected


@settings(max_examples=300, deadline=None)
@given(operations)
def test_counts_are_never_negative_and_add_up(ops: list[tuple[str, int, str, str | None, str]]) -> None:
    occ = fold_events(build(ops))
    assert all(n > 0 for n in occ.by_list.values())
    assert occ.inside == sum(len(p.open_lists) for p in occ.passes.values())
    for list_id, n in occ.by_list.items():
        assert n == sum(p.open_lists.count(list_id) for p in occ.passes.values())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(("entry", "exit")), st.sampled_from(("p1", "p2", "p3")),
                          st.sampled_from((None, "vip", "ga"))), max_size=25),
       st.integers(min_value=0, max_value=25))
def test_the_door_journal_overlay_equals_the_fold_of_the_log_with_its_entries(
        moves: list[tuple[str, str, str | None]], split: int) -> None:
    """A door decides from the rows (the fold of the log) with its unmerged scans applied
    after them: the same as folding the log once they are merged (they sort after it)."""
    events = [scan(n, 100 + n, p, d, lst) for n, (d, p, lst) in enumerate(moves)]
    facts = [m for e in events if (m := movement_from_event(e)) is not None]
    logged = fold_tally(facts[:split])
    got = overlaid(logged.by_list, logged.open,
                   {p: frozenset(v) for p, v in logged.visited.items()}, facts[split:])
    want = fold_events(events)
    assert got.by_list == want.by_list
    assert {p: got.presence(p) for p in ("p1", "p2", "p3")} == \
        {p: want.presence(p) for p in ("p1", "p2", "p3")}
