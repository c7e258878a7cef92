"""A file's decode budget follows the machine's measured slowness (machine_pace.py), so `station
decode` reads on a slow or busy machine what it reads on the one its rungs were chosen on."""

from __future__ import annotations

import time

import pytest
from frame_families import make_family_frame

from station.capture import machine_pace
from station.capture.decode_files import FILE_BUDGET_MS, file_ladder


def test_slowness_is_bounded_both_ways() -> None:
    ref = machine_pace.REFERENCE_MS
    assert machine_pace.slowness_of(ref * 3) == pytest.approx(3.0)
    assert machine_pace.slowness_of(ref / 4) == 1.0  # a fast machine keeps the promised budget
    assert machine_pace.slowness_of(ref * 100) == machine_pace.MAX_SLOWNESS


def test_this_machine_is_measured_once() -> None:
    first = machine_pace.slowness()
    assert 1.0 <= first <= machine_pace.MAX_SLOWNESS
    assert machine_pace.slowness() == first  # cached: `station decode` pays for it once
    assert machine_pace.workload_ms() > 0


def test_the_file_ladder_budget_is_scaled_and_on_the_cpu_clock() -> None:
    ladder = file_ladder(slowness=3.0)
    assert ladder.budget_ms == pytest.approx(3 * FILE_BUDGET_MS)
    assert ladder.every_code
    assert ladder._clock is time.process_time


def test_a_slower_machine_gets_the_same_reads() -> None:
    """A curved ticket the unbend rung reads about 220 ms (development machine's) into the climb:
    on a machine four times slower than this one (a clock that runs four times fast) the budget
    left unscaled stops the ladder before the rung; scaled by the slowness, it reads the ticket."""
    frame = make_family_frame("curved", 27)
    pace = machine_pace.slowness()

    def slow_clock() -> float:
        return 4 * time.process_time()

    unscaled = file_ladder(slowness=pace, clock=slow_clock).decode(frame.image)
    assert frame.text not in {d.text for d in unscaled.detections}
    scaled = file_ladder(slowness=4 * pace, clock=slow_clock).decode(frame.image)
    assert frame.text in {d.text for d in scaled.detections}
    assert scaled.rung == "unbend"
