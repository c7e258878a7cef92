"""Check-in lists as events: edits made at different doors converge key by key."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from station.domain.events import Event, EventType
from station.domain.hlc import Stamp
from station.domain.list_log import change_data, fold_lists


def changed(n: int, wall: int, changes: dict[str, Any], origin: str = "sta_a",
            list_id: str = "lst_vip") -> Event:
    return Event(id=f"evt_{n:04d}", type=EventType.LIST_CHANGED, timestamp="2026-06-01T10:00:00.000Z",
                 data=change_data(list_id, changes, "Mia"), origin=origin, origin_seq=n,
                 hlc=Stamp(wall, 0).encode())


def test_a_list_is_created_then_edited() -> None:
    state = fold_lists([changed(1, 100, {"name": "VIP", "fields": {"tier": "vip"}}),
                        changed(2, 200, {"capacity": 300})])
    vip = state.lists["lst_vip"]
    assert (vip.name, vip.fields, vip.capacity) == ("VIP", {"tier": "vip"}, 300)
    assert state.find("vip") is vip and state.find("lst_vip") is vip and state.find("GA") is None


def test_edits_of_different_keys_at_two_offline_doors_both_stay() -> None:
    create = changed(1, 100, {"name": "VIP"})
    at_a, at_b = changed(2, 200, {"capacity": 250}, "sta_a"), changed(3, 190, {"reentry": True}, "sta_b")
    vip = fold_lists([at_b, create, at_a]).lists["lst_vip"]
    assert (vip.capacity, vip.reentry) == (250, True)


def test_two_valid_edits_that_add_up_to_an_invalid_list_skip_the_later_one() -> None:
    create = changed(1, 100, {"name": "VIP", "validFrom": "2026-06-01T18:00:00Z",
                              "validUntil": "2026-06-02T04:00:00Z"})
    earlier_end = changed(2, 200, {"validUntil": "2026-06-01T20:00:00Z"}, "sta_a")
    later_start = changed(3, 300, {"validFrom": "2026-06-01T21:00:00Z"}, "sta_b")
    state = fold_lists([later_start, earlier_end, create])
    assert state.lists["lst_vip"].valid_until == "2026-06-01T20:00:00.000Z"
    assert state.lists["lst_vip"].valid_from == "2026-06-01T18:00:00.000Z"
    assert state.skipped == ("evt_0003",)


def test_an_edit_before_its_create_arrived_waits_for_the_name() -> None:
    state = fold_lists([changed(1, 100, {"capacity": 5})])
    assert state.lists == {} and state.skipped == ("evt_0001",)


edits = st.lists(st.tuples(
    st.integers(1, 500), st.sampled_from(["sta_a", "sta_b", "sta_c"]),
    st.sampled_from([{"name": "VIP"}, {"name": "Lounge"}, {"capacity": 10}, {"capacity": None},
                     {"reentry": True}, {"validFrom": "2026-06-01T18:00:00Z"},
                     {"validUntil": "2026-06-01T17:00:00Z"}, {"validUntil": None},
                     {"rules": [{"rule": "entriesPerDay", "max": 1}]}, {"capacity": 0}]),
    st.sampled_from(["lst_a", "lst_b"])), max_size=30)


@settings(max_examples=300, deadline=None)
@given(edits, st.randoms(use_true_random=False))
def test_lists_converge_whatever_order_edits_arrive_in(
        ops: list[tuple[int, str, dict[str, Any], str]], rnd: random.Random) -> None:
    events = [changed(n, wall, c, origin, list_id) for n, (wall, origin, c, list_id) in enumerate(ops)]
    expected = fold_lists(events)
    shuffled = events + events[: len(events) // 3]
    rnd.shuffle(shuffled)
    assert fold_lists(shuffled) == expected
