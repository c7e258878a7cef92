"""Where a door's verdict with a list spends its time (docs/checkin-lists.md, "The figures at
1M"): the same set-up as `station bench --only lists`, then scans with no list and at the VIP
list taken in turn, with `perf_counter` around the parts of the list's path.

    .venv/bin/python benchmarks/door_list_profile.py [--passes 40000] [--api]

Prints p50 and p95 in µs of the whole scan for each door, and of the list's parts: the pass
read with its probes (`pass_at_door`: the pass, the list, the venue's zone and what the list
needs of the pass's rows, in one statement), the decision (`decide_with_probes`), within it the
pure verdict (`decide_at_door`), and `pass_probe` when the decision had to read again (a list
with a capacity, or edited since to need more). `list_and_zone` shows only when a door journal
holds scans of many passes (its own statement).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from station.app import build_core  # noqa: E402
from station.cli import bench_lists  # noqa: E402
from station.domain.door import NO_LIST, Door  # noqa: E402
from station.services import door_probes, scans  # noqa: E402
from station.store import door_reads  # noqa: E402

PARTS: dict[str, list[float]] = {}


def timed(module: Any, name: str) -> None:
    """Replace module.name by a wrapper that records its duration (this script only)."""
    inner: Callable[..., Any] = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            PARTS.setdefault(name, []).append((time.perf_counter() - t0) * 1e6)

    setattr(module, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=40_000)
    parser.add_argument("--api", action="store_true", help="wait for the log, as the API does")
    args = parser.parse_args()
    for module, name in ((scans, "decide_with_probes"), (door_reads, "pass_at_door"),
                         (door_reads, "pass_probe"), (door_reads, "list_and_zone"),
                         (door_probes, "decide_at_door")):
        timed(module, name)
    with tempfile.TemporaryDirectory() as folder:
        core = build_core(Path(folder) / "data")
        try:
            draws = bench_lists.Draws(args.passes, 7)
            lst = bench_lists._setup(core, args.passes, args.passes, draws, 7)
            core.scans.merger.start()
            arms = [bench_lists.Arm("no list", NO_LIST), bench_lists.Arm("VIP entry", Door(lst))]
            whole: dict[str, list[float]] = {a.label: [] for a in arms}
            for _ in range(40):
                for arm in arms:
                    for _ in range(50):
                        code = draws.entry(arm)
                        t0 = time.perf_counter()
                        core.scans.submit(code, "hid", door=arm.door, wait_merged=args.api)
                        whole[arm.label].append((time.perf_counter() - t0) * 1e6)
        finally:
            core.close()
    for name, values in {**whole, **PARTS}.items():
        values.sort()
        print(f"{name:<20} {len(values):>5} p50 {statistics.median(values):>6.0f} µs "
              f"p95 {values[int(0.95 * len(values))]:>6.0f} µs")


if __name__ == "__main__":
    main()
