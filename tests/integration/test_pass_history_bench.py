"""The pass-history benchmark runs end to end: a door scans one pass many times while a second
station follows it, and both hold the same pass at the end (the bench asserts that); its lines
are printed for every mark (no figures asserted: a benchmark's numbers are for reading)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_a_short_run_prints_a_line_per_mark(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(tmp_path)}
    run = subprocess.run([sys.executable, "benchmarks/pass_history_bench.py", "--uses", "40",
                          "--sample", "5"], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr
    lines = [line for line in run.stdout.splitlines() if line.startswith("pass used")]
    assert [line.split()[2] for line in lines] == ["0", "40"], run.stdout
    assert all("scan at the door median" in line and "applied at a follower median" in line
               for line in lines)
    assert "Traceback" not in run.stderr
