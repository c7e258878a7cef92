"""Hidden codes: a pass with one thing over it (a sticker, a thumb, a smudge: an ellipse, a
rectangle or a stroke from outside, of any grey) hiding 4-25 % of the code anywhere, finders
included; read by raw zxing-cpp, by `station decode`'s ladder without erasure decoding and with
it (station/capture/erasures.py), in one run. Rows by how much is hidden and how many finder
patterns the occluder covers (a third of one or more). Prints Markdown; not a test.

    taskset -c 1 python benchmarks/occlusion_bench.py               # 120 frames
    taskset -c 1 python benchmarks/occlusion_bench.py --seed 7      # frames not developed on
    taskset -c 1 python benchmarks/occlusion_bench.py --junk 20000  # the false-read margin, on junk
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "capture")]

from degrade import _camera, background  # noqa: E402
from hard_frames import H, W, _matrix, _render, decoded, pass_text  # noqa: E402

from station.capture import erasures  # noqa: E402
from station.capture.decode_files import FILE_BUDGET_MS, file_ladder  # noqa: E402
from station.capture.decoders import make_decoder  # noqa: E402
from station.capture.ladder import DEFAULT_RUNGS, RESAMPLE  # noqa: E402
from station.domain.qr_content import make_qr  # noqa: E402


def hidden_frame(seed: int, index: int) -> tuple[np.ndarray, str, int, float]:
    """(frame, the pass as read, finders covered, fraction of the code hidden)."""
    rng = np.random.default_rng([seed, index])
    raw = pass_text(rng, index % 4)
    matrix = _matrix(make_qr(raw))
    module = float(rng.uniform(160, 320)) / (matrix.shape[0] - 8)
    patch = _render(matrix, module, float(rng.uniform(10, 60)), float(rng.uniform(150, 245)))
    s, quiet = patch.shape[0], 4 * module
    area = float(rng.uniform(0.04, 0.25)) * (s - 2 * quiet) ** 2
    cx, cy = rng.uniform(quiet, s - quiet, 2)
    layer = np.zeros_like(patch)
    shape = int(rng.integers(0, 3))
    if shape == 0:
        a = math.sqrt(area / math.pi * rng.uniform(0.5, 2))
        cv2.ellipse(layer, (int(cx), int(cy)), (int(a), int(area / math.pi / a)), float(rng.uniform(0, 180)),
                    0, 360, 1.0, -1)
    elif shape == 1:
        a = math.sqrt(area * rng.uniform(0.3, 3))
        rect = ((float(cx), float(cy)), (a, area / a), float(rng.uniform(0, 90)))
        cv2.fillPoly(layer, [cv2.boxPoints(rect).astype(np.int32)], 1.0)
    else:  # a finger from outside
        ang, wide = float(rng.uniform(0, 2 * math.pi)), math.sqrt(area / 2.5)
        far = (cx + math.cos(ang) * s * 2, cy + math.sin(ang) * s * 2)
        cv2.line(layer, (int(far[0]), int(far[1])), (int(cx), int(cy)), 1.0, max(1, int(wide)))
        cv2.circle(layer, (int(cx), int(cy)), int(wide / 2), 1.0, -1)
    layer = cv2.GaussianBlur(layer, (0, 0), 1.5)
    inner = layer[int(quiet):int(s - quiet), int(quiet):int(s - quiet)]
    hidden = float((inner > 0.5).mean())
    f7 = 7 * module
    covered = sum(layer[int(y):int(y + f7), int(x):int(x + f7)].mean() > 0.3
                  for x, y in ((quiet, quiet), (s - quiet - f7, quiet), (quiet, s - quiet - f7)))
    patch = patch * (1 - layer) + float(rng.uniform(40, 220)) * layer
    canvas = background(rng, W, H)
    x, y = int(rng.uniform(10, W - s - 10)), int(rng.uniform(10, H - s - 10))
    canvas[y:y + s, x:x + s] = patch
    frame = _camera(rng, cv2.GaussianBlur(canvas, (0, 0), float(rng.uniform(0.3, 1.2))))
    return frame, decoded(raw), int(covered), hidden


_BUCKETS = ("≤ 10 %", "10-18 %", "> 18 %")


def _bucket(hidden: float) -> str:
    return _BUCKETS[0] if hidden <= 0.10 else _BUCKETS[1] if hidden <= 0.18 else _BUCKETS[2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--budget-ms", type=float, default=FILE_BUDGET_MS)
    parser.add_argument("--junk", type=int, default=0, help="instead: this many random grids per margin")
    args = parser.parse_args()
    if args.junk:
        return junk(args.junk, args.seed)
    raw = make_decoder("zxing")
    # without erasure decoding anywhere: the resample rung decodes with hidden modules as erasures too
    without = file_ladder("zxing", args.budget_ms, rungs=[r for r in DEFAULT_RUNGS if r != RESAMPLE],
                          erasures=False)
    with_ = file_ladder("zxing", args.budget_ms)
    rows: dict[tuple[int, str], Counter[str]] = {}
    for i in range(args.frames):
        frame, text, covered, hidden = hidden_frame(args.seed, i)
        c = rows.setdefault((min(covered, 2), _bucket(hidden)), Counter())
        got = [{d.text for d in r} for r in (raw.decode(frame).detections, without.decode(frame).detections,
                                              with_.decode(frame).detections)]
        c.update(frames=1, raw=int(text in got[0]), without=int(text in got[1]), with_=int(text in got[2]),
                 bad=sum(len(g - {text}) for g in got))
    print(f"# Hidden codes: {args.frames} frames 1280x720, seed {args.seed}, {args.budget_ms:.0f} ms budget x "
          f"{with_.budget_ms / args.budget_ms:.2f} (this machine's slowness)\n")
    print("| finders covered | hidden | frames | raw zxing-cpp | ladder without erasures | with erasures | false reads |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    total: Counter[str] = Counter()
    for (covered, bucket), c in sorted(rows.items(), key=lambda kv: (kv[0][0], _BUCKETS.index(kv[0][1]))):
        label = "2 or 3" if covered == 2 else str(covered)
        print(f"| {label} | {bucket} | {c['frames']} | {c['raw']} | {c['without']} | {c['with_']} | {c['bad']} |")
        total.update(c)
    n = total["frames"]
    print(f"| **all** | | {n} | {total['raw']} ({100 * total['raw'] / n:.1f} %) | "
          f"{total['without']} ({100 * total['without'] / n:.1f} %) | "
          f"**{total['with_']} ({100 * total['with_'] / n:.1f} %)** | {total['bad']} |")
    return 0


def junk(trials: int, seed: int) -> int:
    """How often erasure decoding turns random modules into a code, by the check symbols each
    block must leave unused: one-block versions 1-3 (the weakest case), a hidden square of 20-50 %."""
    print(f"# Junk grids: {trials} a margin, versions 1-3, every level, seed {seed}\n")
    print("| check symbols left unused | junk grids decoded |")
    print("|---:|---:|")
    for spare in range(4):
        rng = np.random.default_rng([seed, spare])
        hits = 0
        for i in range(trials):
            version = int(rng.integers(1, 4))
            n = 17 + 4 * version
            lost = np.zeros((n, n), bool)
            side = int(rng.integers(n // 5, n // 2))
            a = int(rng.integers(0, n - side))
            lost[a:a + side, a:a + side] = True
            grid = erasures.Grid(rng.random((n, n)) < 0.5, lost)
            hits += erasures.correct(grid, version, "LMQH"[i % 4], int(rng.integers(0, 8)), spare) is not None
        print(f"| {spare}{' (the station)' if spare == erasures._SPARE else ''} | {hits} of {trials} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
