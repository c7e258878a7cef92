"""What each ladder rung costs on this machine, and on the development machine: the numbers
behind `ladder._PRIOR_MS`, the cost a ladder assumes for a rung it has not timed yet.

Every rung is run, with no time limit, on each 720p frame whose plain try reads nothing (the
frames rungs are climbed on): the degraded frames of tests/capture/degrade.py and the harder ones
of tests/capture/hard_frames.py. Prints each rung's mean and p90 CPU ms here; for the rungs of
many guesses that a deadline ends between two guesses, also what they cost started with no time
left (their set-up and first guess: what starting them commits to). A frame's rungs run within
one climb (climb_memo.one_climb), as the ladder runs them: a rung that reads what an earlier one
noted (unsmeared, disc_grid) or reuses what it worked out (the blur estimate, the finder search)
costs here what it costs there (before session 34 each rung ran alone, so those two cost nothing
here and every rung paid for the shared estimates itself). The runs started with no time left
are a second climb of their own. Divided by this machine's
slowness (station/capture/machine_pace.py), those are development machine ms, which a ladder
multiplies by the slowness of the machine it runs on. Prints Markdown; not a test.

    taskset -c 1 .venv/bin/python benchmarks/rung_costs.py
    taskset -c 1 .venv/bin/python benchmarks/rung_costs.py --frames 8 --hard 20   # a quick look
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "capture")]

from degrade import CODE_BUCKETS, make_frame  # noqa: E402
from hard_frames import make_hard_frame  # noqa: E402

from station.capture import climb_memo, machine_pace  # noqa: E402
from station.capture.decoders import make_decoder  # noqa: E402
from station.capture.ladder import _FIRST_READ_ENDS, _PRIOR_MS, DEFAULT_RUNGS, DecodeLadder, to_gray  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=24, help="degraded frames per bucket")
    parser.add_argument("--hard", type=int, default=80, help="harder frames")
    args = parser.parse_args()
    pace = machine_pace.slowness()
    ladder = DecodeLadder(make_decoder("zxing"), clock=time.thread_time, pace=1.0)
    images = [make_frame(b, i, "720p").image for b in CODE_BUCKETS for i in range(args.frames)]
    images += [make_hard_frame(i).image for i in range(args.hard)]
    costs: dict[str, list[float]] = {name: [] for name in DEFAULT_RUNGS}
    started: dict[str, list[float]] = {name: [] for name in DEFAULT_RUNGS if name in _FIRST_READ_ENDS}
    climbed = 0
    for image in images:
        gray = to_gray(image)
        found, hints = ladder.plain(gray)
        if found:
            continue
        climbed += 1
        with climb_memo.one_climb():
            for name in DEFAULT_RUNGS:
                start = time.thread_time()
                ladder.run_rung(name, gray, hints)
                costs[name].append((time.thread_time() - start) * 1000.0)
        # Started with no time left, in a climb of their own: in the climb above, a rung run
        # twice would note its views twice for the rungs that read them.
        with climb_memo.one_climb():
            for name in started:
                start = time.thread_time()
                ladder.run_rung(name, gray, hints, deadline=start)
                started[name].append((time.thread_time() - start) * 1000.0)
    print(f"# Ladder rung costs\n\n{climbed} of {len(images)} 720p frames not read by the plain try; "
          f"this machine's slowness {pace:.2f} (development machine = 1).\n")
    print("| rung | mean ms here | p90 ms here | started with no time left, mean ms here | "
          "development machine ms (mean, or started) | prior in ladder.py |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, spent in costs.items():
        p90 = statistics.quantiles(spent, n=10)[8] if len(spent) > 1 else spent[0]
        mean = statistics.fmean(spent)
        first = statistics.fmean(started[name]) if name in started else None
        cell = "" if first is None else f"{first:.1f}"
        print(f"| {name} | {mean:.1f} | {p90:.1f} | {cell} | {(mean if first is None else first) / pace:.1f} "
              f"| {_PRIOR_MS.get(name, 0.0):.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
