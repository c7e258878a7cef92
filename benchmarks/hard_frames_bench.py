"""Single frames by family (issue 13 part 4): how many each decoder reads, false reads, cost.

    taskset -c 1 python benchmarks/hard_frames_bench.py                 # 40 frames a family
    taskset -c 1 python benchmarks/hard_frames_bench.py --frames 10     # a quick look
    taskset -c 1 python benchmarks/hard_frames_bench.py --rungs median,half,threshold
    taskset -c 1 python benchmarks/hard_frames_bench.py --no-erasures  # without erasure decoding
    taskset -c 1 python benchmarks/hard_frames_bench.py --no-resample  # without resample.py
    taskset -c 1 python benchmarks/hard_frames_bench.py --without defocus  # without a rung (comma list)
    taskset -c 1 python benchmarks/hard_frames_bench.py --misses       # and list the frames missed

Frames come from tests/capture/frame_families.py (seeded; one dominant degradation a family).
"raw zxing-cpp" is one decoder call; "station decode" is the ladder as `station decode` runs it
(the same rungs, `--budget-ms` a frame, default the command's). A read of a code not drawn in
the frame is a false read. The last columns say which rung read the frames the plain try missed,
so each rung's gain is visible per family. Prints Markdown; not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "capture")]

from frame_families import FAMILIES, make_family_frame  # noqa: E402

from station.capture.decode_files import FILE_BUDGET_MS, file_ladder  # noqa: E402
from station.capture.decoders import make_decoder  # noqa: E402
from station.capture.ladder import DEFAULT_RUNGS, RESAMPLE  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=40, help="frames per family (default 40)")
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--rungs", default=None, help="comma list of ladder rungs (default: the station's)")
    parser.add_argument("--budget-ms", type=float, default=FILE_BUDGET_MS)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--no-erasures", action="store_true", help="without erasure decoding (erasures.py)")
    parser.add_argument("--no-resample", action="store_true", help="without the resample rung (resample.py)")
    parser.add_argument("--without", default="", help="comma list of ladder rungs to leave out (e.g. defocus)")
    parser.add_argument("--slowness", type=float, default=None,
                        help="scale the budget by this, not by the machine's measured slowness (1: as given)")
    parser.add_argument("--misses", action="store_true", help="after the table, each frame not read and why it is hard")
    args = parser.parse_args()
    rungs = tuple(args.rungs.split(",")) if args.rungs else DEFAULT_RUNGS
    left_out = set(filter(None, args.without.split(","))) | ({RESAMPLE} if args.no_resample else set())
    rungs = tuple(r for r in rungs if r not in left_out)
    raw = make_decoder("zxing")
    ladder = file_ladder("zxing", args.budget_ms, args.slowness, rungs=rungs, erasures=not args.no_erasures)
    print(f"# Single frames by family: {args.frames} a family, 1280x720, ladder {','.join(ladder.rungs)}, "
          f"{args.budget_ms:.0f} ms budget x {ladder.budget_ms / args.budget_ms:.2f} (this machine's slowness)"
          f"{', no erasure decoding' if args.no_erasures else ''}"
          f"{', no resampling' if args.no_resample else ''}\n")
    print("| family | frames | raw zxing-cpp | station decode | false reads | ms p50 | ms p95 | read by rung |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    totals = Counter[str]()
    all_ms: list[float] = []
    misses: list[str] = []
    for family in args.families.split(","):
        frames = [make_family_frame(family, i, **({"seed": args.seed} if args.seed is not None else {}))
                  for i in range(args.frames)]
        ladder.decode(frames[0].image)  # warm up
        n_raw = n_ladder = bad = 0
        ms: list[float] = []
        by_rung = Counter[str]()
        for f in frames:
            n_raw += f.text in {d.text for d in raw.decode(f.image).detections}
            t = time.perf_counter()
            result = ladder.decode(f.image)
            ms.append((time.perf_counter() - t) * 1000)
            got = {d.text for d in result.detections}
            bad += len(got - f.allowed)
            if f.text in got:
                n_ladder += 1
                if result.rung != "plain":
                    by_rung[result.rung or "?"] += 1
            else:
                misses.append(f"- {family} {f.index}: {f.detail} ({ms[-1]:.0f} ms, tried {','.join(result.tried)})")
        totals.update(frames=len(frames), raw=n_raw, ladder=n_ladder, bad=bad)
        all_ms += ms
        rung_text = ", ".join(f"{k} {v}" for k, v in by_rung.most_common()) or "-"
        print(f"| {family} | {len(frames)} | {n_raw} | {n_ladder} | {bad} | {statistics.median(ms):.1f} | "
              f"{np.percentile(ms, 95):.1f} | {rung_text} |", flush=True)
    n = totals["frames"]
    print(f"| **all** | {n} | {totals['raw']} ({100 * totals['raw'] / n:.1f} %) | "
          f"{totals['ladder']} ({100 * totals['ladder'] / n:.1f} %) | {totals['bad']} | "
          f"{statistics.median(all_ms):.1f} | {np.percentile(all_ms, 95):.1f} | |")
    if args.misses:
        print(f"\nFrames not read ({len(misses)}):\n" + "\n".join(misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
