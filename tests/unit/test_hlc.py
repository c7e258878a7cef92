"""Hybrid logical clock: monotonic whatever the wall clock does."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from station.domain.hlc import HybridClock, Stamp


def test_stamps_increase_when_wall_clock_stalls_or_goes_back() -> None:
    walls = iter([1000, 1000, 999, 500, 1001])
    clock = HybridClock(lambda: next(walls))
    stamps = [clock.now() for _ in range(5)]
    assert stamps == sorted(stamps) and len(set(stamps)) == 5
    assert stamps[-1] == Stamp(1001, 0)


def test_observe_moves_past_a_remote_stamp_from_the_future() -> None:
    clock = HybridClock(lambda: 1000)
    remote = Stamp(5000, 7)
    merged = clock.observe(remote)
    assert merged > remote
    assert clock.now() > merged


def test_encoding_sorts_like_the_stamps() -> None:
    stamps = [Stamp(5, 10), Stamp(5, 9), Stamp(40, 0), Stamp(1_700_000_000_000, 3)]
    assert sorted(s.encode() for s in stamps) == [s.encode() for s in sorted(stamps)]
    assert all(Stamp.decode(s.encode()) == s for s in stamps)


@given(st.lists(st.one_of(
    st.tuples(st.just("tick"), st.integers(0, 10_000)),
    st.tuples(st.just("recv"), st.integers(0, 10_000), st.integers(0, 50)),
), max_size=60))
def test_monotonic_under_any_sequence(ops: list[tuple[int, ...]]) -> None:
    wall = [0]
    clock = HybridClock(lambda: wall[0])
    last = Stamp(0, 0)
    for op in ops:
        if op[0] == "tick":
            wall[0] = int(op[1])
            stamp = clock.now()
        else:
            remote = Stamp(int(op[1]), int(op[2]))
            stamp = clock.observe(remote)
            assert stamp > remote
        assert stamp > last
        last = stamp
