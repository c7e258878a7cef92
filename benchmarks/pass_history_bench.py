"""A scan's cost against how often its pass was scanned before (a crew or season pass is
scanned thousands of times an evening): the median time of ScanService.submit for a multi-use
pass on its first uses and after 1,000 and 5,000 uses, in one process, with the ratio to the
first. A door's admission should cost the same on the 5,000th use as on the first.

    .venv/bin/python benchmarks/pass_history_bench.py [--uses 5000] [--sample 200]

Real SQLite file (synchronous=FULL, as at a door); no sync, no GUI. Nothing is asserted."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from station.app import build_core  # noqa: E402
from station.services.passes import PassService  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--uses", type=int, default=5000, help="uses before the last sample")
    parser.add_argument("--sample", type=int, default=200, help="scans timed at each point")
    args = parser.parse_args()
    core = build_core(Path(tempfile.mkdtemp(prefix="pass-history-")) / "station")
    try:
        crew = core.passes.create(PassService.validate("Crew", "multi"))
        marks = sorted({0, 1000, args.uses})
        medians: dict[int, float] = {}
        done = 0
        for mark in marks:
            while done < mark:  # untimed uses up to the mark
                core.scans.submit(crew.code)
                done += 1
            times = []
            for _ in range(args.sample):
                t = time.perf_counter()
                result = core.scans.submit(crew.code)
                times.append((time.perf_counter() - t) * 1000)
                assert result.accepted, result.message
                done += 1
            medians[mark] = statistics.median(times)
        for mark in marks:
            print(f"scan of a pass used {mark:>5} times before: median {medians[mark]:6.2f} ms "
                  f"({medians[mark] / medians[0]:.2f}x the first uses)")
    finally:
        core.close()


if __name__ == "__main__":
    main()
