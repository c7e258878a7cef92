"""The reading-range benchmark runs end to end and prints its goal lines (no figures asserted:
a benchmark's numbers are for reading, not for a test)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_quick_run_prints_both_formats_and_the_goal_lines(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(tmp_path)}
    run = subprocess.run([sys.executable, "benchmarks/range_bench.py", "--quick", "--frames", "2"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "- format 1: " in out and "- format 2: " in out and "QR version 7" in out
    assert "| 1920x1080 | format 2 |" in out
    assert "false reads: " in out
    assert "reading distance, format 2 / format 1 at the same level (M): " in out
    assert "(goal ≥ 1.6x): " in out
    assert "Traceback" not in run.stderr
