"""The check-in list benchmark runs end to end (no figures asserted: they are for reading)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_quick_run_prints_both_verdicts_and_the_fold() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run([sys.executable, "benchmarks/door_rules_bench.py", "--calls", "50",
                          "--facts", "500"], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert "decide(): " in run.stdout and "decide_at_door(), list + 3 rules: " in run.stdout
    assert "occupancy fold of 500 facts: " in run.stdout
