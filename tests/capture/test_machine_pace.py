"""A file's decode budget follows the machine's measured slowness (machine_pace.py), so `station
decode` reads on a slow or busy machine what it reads on the one its rungs were chosen on."""

from __future__ import annotations

import math
import time

import pytest
from frame_families import make_family_frame

from station.capture import machine_pace
from station.capture.decode_files import FILE_BUDGET_MS, file_ladder
from station.capture.ladder import CRUMPLE, DEFAULT_RUNGS


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
    """A curved ticket the unbend rung reads late in the climb: on a machine four times slower
    (a clock that runs four times fast) a budget that reads it here, left unscaled, stops the
    ladder before the rung; scaled by the slowness, it reads the ticket. The budget is set from
    what the read takes in this process, not from the machine's cached slowness: measured while
    other tests loaded the machine (CI), that once gave a budget the slow clock still read in."""
    frame = make_family_frame("curved", 27)
    # The rungs up to the one that reads it: `station decode` climbs on past a read (every code);
    # without the crumple rung, early in the ladder, which reads this ticket too.
    rungs = tuple(r for r in DEFAULT_RUNGS[:DEFAULT_RUNGS.index("unbend") + 1] if r != CRUMPLE)
    ladder = file_ladder(budget_ms=math.inf, slowness=1.0, rungs=rungs)
    ladder.decode(frame.image)  # the first run fills caches the timed one must not pay for
    timed = ladder.decode(frame.image)
    assert frame.text in {d.text for d in timed.detections} and timed.rung == "unbend"
    budget = 1.5 * timed.ms  # reads here, with room for the machine's noise

    def slow_clock() -> float:
        return 4 * time.process_time()

    unscaled = file_ladder(budget_ms=budget, slowness=1.0, clock=slow_clock, rungs=rungs).decode(frame.image)
    assert frame.text not in {d.text for d in unscaled.detections}
    scaled = file_ladder(budget_ms=budget, slowness=4.0, clock=slow_clock, rungs=rungs).decode(frame.image)
    assert frame.text in {d.text for d in scaled.detections}
    assert scaled.rung == "unbend"
