"""A rung the ladder has not timed yet is assumed to cost its prior (`ladder._PRIOR_MS`, the
development machine's ms from benchmarks/rung_costs.py) times this machine's slowness, not
nothing: a 25 ms camera budget then does not start a 15 ms rung with 5 ms left, which was most of
decode_bench's 720p p95 on a slow machine (docs/decode-benchmark.md)."""

from __future__ import annotations

import pytest

from capture_fakes import StepClock
from degrade import make_frame
from station.capture import machine_pace
from station.capture.decoders import make_decoder
from station.capture.ladder import _PRIOR_MS, DEFAULT_RUNGS, DecodeLadder


def _ladder(rungs: tuple[str, ...], budget_ms: float, pace: float | None,
            clock: StepClock | None = None) -> DecodeLadder:
    return DecodeLadder(make_decoder("zxing"), rungs=rungs, budget_ms=budget_ms, clock=clock or StepClock(),
                        pace=pace)


def test_every_rung_has_a_prior_cost() -> None:
    assert set(DEFAULT_RUNGS) <= set(_PRIOR_MS) and all(ms > 0 for ms in _PRIOR_MS.values())


def test_a_rung_not_yet_timed_starts_only_if_its_prior_fits_what_is_left() -> None:
    stripes = make_frame("stripes", 0).image  # nothing reads: the ladder climbs every rung it may
    cheap, dear = "half", "clahe"
    assert _PRIOR_MS[cheap] < _PRIOR_MS[dear]
    budget = (_PRIOR_MS[cheap] + _PRIOR_MS[dear]) / 2  # between the two on the development machine
    assert _ladder((dear, cheap), budget, pace=1.0).decode(stripes).tried == ("plain", cheap)
    # On a machine so much slower that even the cheap one's prior overruns: neither starts.
    slow = budget / _PRIOR_MS[cheap] * 1.01
    assert _ladder((dear, cheap), budget, pace=slow).decode(stripes).tried == ("plain",)
    # Told the machine is this much faster than the development one, both do.
    fast = budget / (_PRIOR_MS[cheap] + _PRIOR_MS[dear]) * 0.99
    assert _ladder((dear, cheap), budget, pace=fast).decode(stripes).tried == ("plain", dear, cheap)


def test_once_timed_the_measured_cost_takes_over_from_the_prior() -> None:
    stripes = make_frame("stripes", 0).image
    clock = StepClock()  # moved only by a CountingDecoder: here time stands still
    dear = "clahe"
    ladder = _ladder((dear,), _PRIOR_MS[dear] / 2, pace=1.0, clock=clock)
    assert ladder.decode(stripes).tried == ("plain",)
    # The rung, run by hand (as a stream ladder's one-rung-a-frame turn does), costs nothing on
    # the still clock: its cost falls towards that, and within a few runs it fits the budget.
    runs = 0
    while ladder.decode(stripes).tried == ("plain",):
        ladder.run_rung(dear, stripes, ())
        runs += 1
        assert runs < 10, ladder.cost_ms(dear)
    assert ladder.decode(stripes).tried == ("plain", dear) and runs >= 2


def test_no_pace_given_is_this_machines_measured_slowness() -> None:
    ladder = _ladder(("median",), 25.0, pace=None)
    assert ladder.cost_ms("median") == pytest.approx(_PRIOR_MS["median"] * machine_pace.slowness())
    assert ladder.cost_ms("not a rung") is None
