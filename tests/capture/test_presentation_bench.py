"""The presentation benchmark runs end to end and prints both readers, the goals and the ratios
(no figures asserted: a benchmark's numbers are for reading, not for a test)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_a_short_run_prints_both_readers_goals_ratios_and_where_the_time_goes(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(tmp_path)}
    run = subprocess.run([sys.executable, "benchmarks/presentation_bench.py", "--clips", "2", "--breakdown"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "| measure | per frame (today) | sequence |" in out
    for row in ("| verdict ms median |", "| false reads |", "| frames decoded / dropped |",
                "| decoder calls per frame mean / max |"):
        assert row in out, row
    assert "- median: sequence / per frame (today) = " in out
    assert "- sequence: goals " in out
    assert "## Where the time goes, per clip" in out
    assert "Until a frame is readable at all: median" in out
    assert "Traceback" not in run.stderr
