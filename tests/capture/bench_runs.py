"""Running a benchmark script end to end from a test (the figures are for reading, not asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_bench(tmp_path: Path, script: str, *args: str) -> str:
    """`benchmarks/<script>` with `args`; its stdout, after checking it ran cleanly."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(tmp_path)}
    run = subprocess.run([sys.executable, f"benchmarks/{script}", *args],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr and "Warning" not in run.stderr, run.stderr
    return run.stdout
