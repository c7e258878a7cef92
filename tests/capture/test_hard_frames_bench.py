"""The per-family single-frame benchmark runs end to end and prints every family's row (no
figures asserted: a benchmark's numbers are for reading, not for a test)."""

from __future__ import annotations

from pathlib import Path

from bench_runs import run_bench
from frame_families import FAMILIES


def test_a_short_run_prints_each_family_with_raw_and_ladder_reads(tmp_path: Path) -> None:
    out = run_bench(tmp_path, "hard_frames_bench.py", "--frames", "1")
    assert "| family | frames | raw zxing-cpp | station decode | false reads | ms p50 | ms p95 | read by rung |" in out
    for family in FAMILIES:
        assert f"| {family} | 1 |" in out, family
    assert f"| **all** | {len(FAMILIES)} |" in out
