"""The per-family single-frame benchmark runs end to end and prints every family's row (no
figures asserted: a benchmark's numbers are for reading, not for a test)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from frame_families import FAMILIES

REPO = Path(__file__).resolve().parents[2]


def test_a_short_run_prints_each_family_with_raw_and_ladder_reads(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(tmp_path)}
    run = subprocess.run([sys.executable, "benchmarks/hard_frames_bench.py", "--frames", "1"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "| family | frames | raw zxing-cpp | station decode | false reads | ms p50 | ms p95 | read by rung |" in out
    for family in FAMILIES:
        assert f"| {family} | 1 |" in out, family
    assert "| **all** | 8 |" in out
    assert "Traceback" not in run.stderr
