"""benchmarks/sync_bench.py keeps printing issue 12's goals (a small run; no figure is judged).

The bench starts its own hub (the same nats-server the sync fixtures find: the wheel's, or
STATION_NATS_SERVER / --nats-server, passed on through the environment) and in-process stations.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

GOAL_LINES = [
    r"door verdict p95 while its station downloads \d+ events, the station in its own process: "
    r"[\d.]+ ms \(goal <= 50 ms\)",
    r"door verdict max, the same: [\d.]+ ms \(goal <= 150 ms\)",
    r"download with the door vs without, stations in their own processes: [\d.]+ s vs [\d.]+ s = "
    r"[\d.]+x \(goal <= 1.3x\)",
    r"door verdict p95 while its station downloads \d+ events: [\d.]+ ms \(goal <= 50 ms\)",
    r"door verdict max while its station downloads \d+ events: [\d.]+ ms \(goal <= 150 ms\)",
    r"download with the door vs without: [\d.]+ s vs [\d.]+ s = [\d.]+x \(goal <= 1.3x\)",
    r"catch-up vs bare ordered push \+ bare SQLite insert: [\d.]+ s vs [\d.]+ \+ [\d.]+ = "
    r"[\d.]+ s = [\d.]+x \(goal <= 2x\)",
]


@pytest.mark.slow
@pytest.mark.timeout(660)  # the bench's own bound below, with room to report it
def test_sync_bench_prints_every_goal_with_its_baselines(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "benchmarks/sync_bench.py", "--events", "2000", "--revocations", "5",
         "--claims", "10"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    out = result.stdout
    for goal in GOAL_LINES:
        assert re.search(rf"^  \[(PASS|MISS)\] {goal}$", out, re.MULTILINE), f"no goal line {goal!r}:\n{out}"
    # Both baselines of the catch-up goal and their sum, and the two downloads compared.
    assert re.search(r"bare ordered push consumer [\d.]+ s .*\+ bare SQLite insert of C's \d+ events "
                     r"and \d+ pass rows [\d.]+ s \(of which their search index [\d.]+ s\) = [\d.]+ s; "
                     r"station [\d.]+ s: ratio [\d.]+x", out), out
    # The station with the door downloads exactly the history the one without it did.
    without = re.search(r"catch-up of (\d+) events by C \(no door\)", out)
    with_door = re.search(r"catch-up of (\d+) events by D while its door scans", out)
    assert without and with_door and without[1] == with_door[1] and int(without[1]) >= 2000, out
    assert not list(tmp_path.glob("sync-bench-*")), "the bench left its data directories behind"
