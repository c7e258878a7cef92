"""The API benchmark runs end to end without wrk (deliveries, verdict latency idle and with a
saturated sender, the door's 1,000-scans-a-minute scenario): a private call it used had gone
with the door journal, and nothing ran it. Its lines are printed (no figures asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_a_short_run_prints_every_figure(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(tmp_path)}
    run = subprocess.run([sys.executable, "benchmarks/api_bench.py", "--skip-http",
                          "--deliveries", "40", "--scans", "10", "--door-scans", "5"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    for figure in ("webhook deliveries/s", "verdict latency idle", "verdict latency saturated",
                   "saturated/idle p95 ratio", "door at 1,000 scans/min, no subscriptions",
                   "door at 1,000 scans/min, 10 subscriptions"):
        assert figure in run.stdout, run.stdout
    assert "Traceback" not in run.stderr
