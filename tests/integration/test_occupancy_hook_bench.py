"""The occupancy hook benchmark runs end to end (no figures asserted: they are for reading)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_quick_run_prints_both_orders() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run([sys.executable, "benchmarks/occupancy_hook_bench.py", "--events", "600",
                          "--rounds", "1"], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert "in order: 600 events without hooks " in run.stdout
    assert "shuffled: 600 events without hooks " in run.stdout
