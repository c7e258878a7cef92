"""The Stats chart's inside-now lines from each slot's net movement (domain/occupancy_series)."""

from __future__ import annotations

from station.domain.occupancy_series import occupancy_series, slot_of

SLOTS = ["2026-06-01T18:00:00Z", "2026-06-01T18:15:00Z", "2026-06-01T18:30:00Z"]


def test_slot_of() -> None:
    assert slot_of("2026-06-01T18:29:59.120Z") == "2026-06-01T18:15:00Z"


def test_people_inside_before_the_window_start_the_line() -> None:
    moves = [(SLOTS[0], "hall", 3), (SLOTS[2], "hall", -1)]
    # 7 inside now, the window moved +2: 5 were inside when it began
    assert occupancy_series({"hall": 7}, moves, [], SLOTS) == {"hall": [8, 8, 7]}


def test_a_checkout_empties_its_list_or_the_venue_and_the_line_ends_at_the_count_now() -> None:
    moves = [(SLOTS[0], "hall", 4), (SLOTS[0], "", 2), (SLOTS[1], "hall", 2), (SLOTS[2], "hall", 1),
             (SLOTS[2], "", 1)]
    # everyone out at 18:20: the slot of the check-out ends at what came after it (unordered
    # within the slot: walked back from the count now)
    out = occupancy_series({"hall": 1, "": 1}, moves, [("2026-06-01T18:20:00.000Z", None)], SLOTS)
    assert out == {"": [2, 0, 1], "hall": [4, 0, 1]}
    only_hall = occupancy_series({"hall": 1, "": 3}, moves, [("2026-06-01T18:20:00.000Z", "hall")],
                                 SLOTS)
    assert only_hall == {"": [2, 2, 3], "hall": [4, 0, 1]}
    # a check-out after the last movement of its slot: 0 now, 0 at the end
    assert occupancy_series({}, [(SLOTS[2], "hall", 3)], [("2026-06-01T18:44:00.000Z", "hall")],
                            SLOTS) == {"hall": [0, 0, 0]}
