"""Ids sort by when they were made, and stay unguessable (domain/codes.py says why)."""

from __future__ import annotations

import re
import time

from hypothesis import given
from hypothesis import strategies as st

from station.domain.codes import BASE62, new_id, time_base62
from station.domain.events import new_event_id


@given(st.integers(0, 62**8 - 2), st.integers(1, 62**8 - 1))
def test_the_time_part_sorts_as_the_time(ms: int, later: int) -> None:
    later = min(ms + later, 62**8 - 1)
    assert len(time_base62(ms)) == 8
    assert time_base62(ms) < time_base62(later)


def _made_across_milliseconds(make, n: int = 50) -> list[str]:  # type: ignore[no-untyped-def]
    made = []
    for _ in range(n):
        made.append(make())
        start = time.time_ns()
        while time.time_ns() // 1_000_000 == start // 1_000_000:
            pass  # the next id in a later millisecond
    return made


def test_ids_made_later_sort_later_and_keep_their_shape() -> None:
    ids = _made_across_milliseconds(lambda: new_id("scn"))
    assert ids == sorted(ids)
    assert all(re.fullmatch(r"scn_[0-9A-Za-z]{20}", i) for i in ids)
    events = _made_across_milliseconds(new_event_id)
    assert events == sorted(events)
    assert all(re.fullmatch(r"evt_[0-9a-f]{32}", e) for e in events)  # as uuid4().hex was


def test_ids_made_in_the_same_millisecond_differ_in_their_random_part() -> None:
    ids = [new_id("cli") for _ in range(20_000)]
    events = [new_event_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids) and len(set(events)) == len(events)
    # The random part spreads over the whole alphabet (not a counter, not guessable).
    tails = "".join(i[-12:] for i in ids)
    assert set(tails) == set(BASE62)
    assert len({e[16:] for e in events}) == len(events)
