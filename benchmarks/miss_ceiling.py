"""Of the apart frames `station decode` misses, how many would its own grid reader decode if it
knew where the code is: the misses a better locator could still read, and the ones lost at the
sampling (the spot's clipped core, the photon noise, the blur) whatever finds them. Prints
Markdown; not a test.

    taskset -c 1 python benchmarks/miss_ceiling.py --seed 11
    taskset -c 1 python benchmarks/miss_ceiling.py --seed 12 --categories occlusion,glare

Frames come from tests/capture/apart_frames.py (as in apart_bench.py); the code's true corners
are the ones the generator drew it at (its `code_geom`, watched as it draws; the generator is not
changed). For each frame the grid is sampled through those corners as the ladder samples the
grids it reads itself (erasures.sample: the plain grid, then the refined and deblurred grids of
finder_grid's reading) and decoded with the code's true version, level and mask, with the same
check-symbol margin as every grid the station reads (erasures.correct). "Within reach" is a miss
whose true-place grid decodes so. Paper frames are left out (a bent or crumpled sheet is no
four-corner grid); nocode frames have nothing to place.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import segno

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "capture"), str(REPO / "benchmarks")]

import apart_frames  # noqa: E402
from apart_bench import run_station, write_frames  # noqa: E402

from station.capture import erasures, finder_grid, resample  # noqa: E402

PLACED = ("motion", "glare", "occlusion", "defocus", "lowlight", "small", "screen")
_PREFIX = "HTTPS://PASSES.STATION.EXAMPLE/P/"


class _Watch:
    """The corners of the last code the generator drew (apart_frames.code_geom's first result)."""

    def __init__(self) -> None:
        self.corners: np.ndarray | None = None
        self._drawn = apart_frames.code_geom

    def __call__(self, carrier, projection):  # type: ignore[no-untyped-def]
        box, finders, width = self._drawn(carrier, projection)
        self.corners = np.array(box, np.float32)
        return box, finders, width


def _symbol(payload: str) -> tuple[int, int]:
    """(version, mask) of the code the generator drew for `payload` (as apart_frames.make_payload)."""
    if payload.startswith(_PREFIX):
        qr = segno.make([_PREFIX, payload[len(_PREFIX):]], error="m", boost_error=False)
    elif payload.startswith("https://"):
        qr = segno.make(payload, error="m", boost_error=False)
    else:
        qr = segno.make(payload, error="m", boost_error=False, micro=False)
    return int(qr.version), int(qr.mask)


def within_reach(gray: np.ndarray, corners: np.ndarray, version: int, mask: int) -> bool:
    """Whether the grid sampled through the true `corners` decodes, as the ladder's own grids do."""
    size = 17 + 4 * version
    pad = int(3 * resample.module_px(corners, size)) + 4
    x0, y0 = (max(0, int(v) - pad) for v in corners.min(axis=0))
    x1, y1 = min(gray.shape[1], int(corners[:, 0].max()) + pad), min(gray.shape[0], int(corners[:, 1].max()) + pad)
    if x1 - x0 < size or y1 - y0 < size:
        return False
    crop, local = gray[y0:y1, x0:x1], corners - np.array([x0, y0], np.float32)
    first = erasures.sample(crop, local, size)
    known = resample.symmetric(erasures.function_patterns(version))
    ideal = erasures.function_modules(version, "M", 0)
    grids = [first, *(grid for _, grid in finder_grid._grids(crop, local, first, size, ideal, known))]
    return any(erasures.correct(g, version, "M", mask) is not None for grid in grids for g in (grid, grid.inverted()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--per-category", type=int, default=30)
    parser.add_argument("--categories", default=",".join(PLACED))
    args = parser.parse_args()
    categories = [c for c in args.categories.split(",") if c]
    unknown = [c for c in categories if c not in PLACED]
    if unknown:
        parser.error(f"not a category with a placed code: {', '.join(unknown)} (one of {', '.join(PLACED)})")
    watch = _Watch()
    apart_frames.code_geom = watch  # type: ignore[assignment]
    reach: dict[str, bool] = {}
    with tempfile.TemporaryDirectory(prefix="miss_ceiling_") as tmp:
        folder = Path(tmp)
        frames = write_frames(folder, args.seed, args.per_category, categories)
        for f in frames:
            category, index = f.category, int(f.name.split("_")[1].split(".")[0]) % 1000
            drawn = apart_frames.make_apart_frame(category, index, args.seed)  # the same frame, watched
            assert drawn.payload == f.payload and watch.corners is not None
            version, mask = _symbol(drawn.payload)
            gray = cv2.cvtColor(drawn.image, cv2.COLOR_BGR2GRAY)
            reach[f.name] = within_reach(gray, watch.corners, version, mask)
        run_station(folder, frames)
    counts: Counter[tuple[str, bool, bool]] = Counter()
    for f in frames:
        counts[f.category, f.read(f.station), reach[f.name]] += 1
    print(f"# Apart frames, seed {args.seed}: the misses a locator could still read\n")
    print("| category | frames | station reads | misses | misses within reach at the true place "
          "| reads whose true-place grid fails |")
    print("|---|---:|---:|---:|---:|---:|")
    total = Counter[str]()
    for c in categories:
        row = {"reads": counts[c, True, True] + counts[c, True, False],
               "misses": counts[c, False, True] + counts[c, False, False],
               "reach": counts[c, False, True], "beyond": counts[c, True, False]}
        total.update(row)
        print(f"| {c} | {args.per_category} | {row['reads']} | {row['misses']} | {row['reach']} | {row['beyond']} |")
    print(f"| **all** | {args.per_category * len(categories)} | {total['reads']} | {total['misses']} "
          f"| {total['reach']} | {total['beyond']} |")
    print("\nMisses within reach (located right, the station's grid reader would decode them):\n")
    for f in frames:
        if not f.read(f.station) and reach[f.name]:
            print(f"- {f.name}: {f.detail}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
