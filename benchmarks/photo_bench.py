"""Photos (issue 13 part 4): phone pictures of 1.2-12 megapixels with one code or several, read by
raw zxing-cpp and by `station decode` (the ladder as the command runs it), and what each costs.

    taskset -c 1 python benchmarks/photo_bench.py                  # 120 photos
    taskset -c 1 python benchmarks/photo_bench.py --photos 20      # a quick look
    taskset -c 1 python benchmarks/photo_bench.py --seed 77        # photos not developed on
    taskset -c 1 python benchmarks/photo_bench.py --no-erasures    # without erasure decoding
    taskset -c 1 python benchmarks/photo_bench.py --no-resample    # without the resample rung
    taskset -c 1 python benchmarks/photo_bench.py --without defocus   # without a rung (comma list)
    taskset -c 1 python benchmarks/photo_bench.py --glare          # the same photos, a lamp's reflection on each code

Photos come from tests/capture/photo_frames.py (seeded). Rows group them by size; a code counts
as read when its text is among the reads, and a read of a code not drawn is a false read. "over
budget" counts photos whose decode took longer than twice the command's per-file budget (a photo
must not hold `station decode` for seconds: the budget is what it promises), the budget scaled by
this machine's slowness as the command scales it (station/capture/machine_pace.py). Prints Markdown;
not a test.
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

from photo_frames import SEED, make_photo  # noqa: E402

from station.capture.decode_files import FILE_BUDGET_MS, file_ladder  # noqa: E402
from station.capture.decoders import make_decoder  # noqa: E402
from station.capture.ladder import DEFAULT_RUNGS, RESAMPLE  # noqa: E402

_GROUPS = (("up to 2 MP", 2.0), ("2-5 MP", 5.0), ("5-12.2 MP", 12.2))


def _group(pixels: int) -> str:
    return next(name for name, most in _GROUPS if pixels / 1e6 <= most)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=120)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--budget-ms", type=float, default=FILE_BUDGET_MS)
    parser.add_argument("--no-erasures", action="store_true", help="without erasure decoding (erasures.py)")
    parser.add_argument("--no-resample", action="store_true", help="without the resample rung (resample.py)")
    parser.add_argument("--without", default="", help="comma list of ladder rungs to leave out (e.g. defocus)")
    parser.add_argument("--glare", action="store_true", help="every code under a lamp's reflection (the same photos otherwise)")
    parser.add_argument("--slowness", type=float, default=None,
                        help="scale the budget by this, not by the machine's measured slowness (1: as given)")
    args = parser.parse_args()
    raw = make_decoder("zxing")
    left_out = set(filter(None, args.without.split(","))) | ({RESAMPLE} if args.no_resample else set())
    rungs = tuple(r for r in DEFAULT_RUNGS if r not in left_out)
    ladder = file_ladder("zxing", args.budget_ms, args.slowness, rungs=rungs, erasures=not args.no_erasures)
    print(f"# Photos: {args.photos}, seed {args.seed}{', glare on every code' if args.glare else ''}, "
          f"ladder {','.join(ladder.rungs)}, "
          f"{args.budget_ms:.0f} ms budget x {ladder.budget_ms / args.budget_ms:.2f} (this machine's slowness)"
          f"{', no erasure decoding' if args.no_erasures else ''}"
          f"{', no resampling' if args.no_resample else ''}{', without ' + args.without if args.without else ''}\n")
    print("| photos | n | codes | raw zxing-cpp | station decode | all codes read | false reads "
          "| ms p50 | ms p95 | ms max | over budget |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    counts: dict[str, Counter[str]] = {name: Counter() for name, _ in _GROUPS}
    times: dict[str, list[float]] = {name: [] for name, _ in _GROUPS}
    ladder.decode(make_photo(0, args.seed).image)  # warm up
    for i in range(args.photos):
        photo = make_photo(i, args.seed, args.glare)
        if not photo.texts:
            continue
        group = _group(photo.image.size)
        drawn = set(photo.texts)
        got_raw = {d.text for d in raw.decode(photo.image).detections}
        start = time.perf_counter()
        result = ladder.decode(photo.image)
        ms = (time.perf_counter() - start) * 1000
        got = {d.text for d in result.detections}
        c = counts[group]
        c.update(photos=1, codes=len(drawn), raw=len(drawn & got_raw), ladder=len(drawn & got),
                 whole=int(drawn <= got), bad=len((got | got_raw) - drawn), over=int(ms > 2 * ladder.budget_ms))
        times[group].append(ms)
    total: Counter[str] = Counter()
    all_ms: list[float] = []
    for name, _ in _GROUPS:
        if counts[name]["photos"]:
            _row(name, counts[name], times[name])
            total.update(counts[name])
            all_ms += times[name]
    if total["photos"]:
        _row("**all**", total, all_ms)
    return 0


def _row(name: str, c: Counter[str], ms: list[float]) -> None:
    def pct(k: str) -> str:
        return f"{c[k]} ({100 * c[k] / c['codes']:.1f} %)"
    print(f"| {name} | {c['photos']} | {c['codes']} | {pct('raw')} | {pct('ladder')} | {c['whole']} | {c['bad']} "
          f"| {statistics.median(ms):.0f} | {np.percentile(ms, 95):.0f} | {max(ms):.0f} | {c['over']} |", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
