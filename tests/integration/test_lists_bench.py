"""`station bench --only lists` (issue 14's figures) runs end to end on a tiny data set: the
occupancy rows it filled in bulk equal the fold of the log (the bench checks that and stops
otherwise), and it prints every row and every goal line. No figure is asserted: a benchmark's
numbers are for reading."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_a_tiny_run_prints_every_row_and_goal_line(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(tmp_path),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    run = subprocess.run([sys.executable, "-m", "station", "bench", "--only", "lists",
                          "--sizes", "400", "--facts", "600", "--scans", "20"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "lists: 400 passes written" in out and "600 entries and exits" in out, out
    assert "occupancy rows = the facts' counts on every list, and the fold of the log" in out
    rows = [line.split()[:3] for line in out.splitlines() if line.startswith("  door ")
            or line.startswith("  API ")]
    assert [r[:2] for r in rows] == [["door", "no"], ["door", "VIP"], ["door", "VIP"],
                                     ["API", "no"], ["API", "VIP"], ["API", "VIP"]], out
    goals = [line for line in out.splitlines() if line.startswith(("[PASS]", "[MISS]"))]
    assert len(goals) == 5, out
    assert sum("(goal <= 1.2x)" in g for g in goals) == 4, out
    assert ["entry" in g for g in goals[:4]] == [True, False, True, False], out
    assert "occupancy query" in goals[4] and "(goal <= 1 ms)" in goals[4], out
    assert "Traceback" not in run.stderr
