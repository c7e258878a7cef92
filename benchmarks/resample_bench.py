"""The resample rung (station/capture/resample.py) on the codes it is for: small-module passes
(1.5-2.5 px a module, a camera's blur) that zxing-cpp locates and reads the format of but
misreads. For each: the share of data modules read wrong through zxing-cpp's corners with a
threshold (what erasure decoding samples), and through the fitted corners with the blur between
neighbours undone; how many decode each way; what a resample costs. Then junk: codes with real
function patterns and random data, which must never decode. Prints Markdown; not a test.

    taskset -c 1 .venv/bin/python benchmarks/resample_bench.py                # 40 misread codes
    taskset -c 1 .venv/bin/python benchmarks/resample_bench.py --junk 2000    # and 2,000 junk codes
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "capture")]

from small_codes import draw, junk, matrix_of, pass_text  # noqa: E402

from station.capture import erasures, resample  # noqa: E402
from station.capture.decoders import Decoder, make_decoder  # noqa: E402
from station.capture.detection import Detection  # noqa: E402
from station.domain.qr_content import make_qr  # noqa: E402


def misread(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(args.seed)
    raw = make_decoder("zxing")
    wrong_engine: list[float] = []
    wrong_ours: list[float] = []
    by_recover = by_resample = drawn = 0
    ms: list[float] = []
    while len(wrong_engine) < args.codes and drawn < 50 * args.codes:
        drawn += 1
        text = pass_text(rng)
        qr = make_qr(text)
        m = matrix_of(qr)
        frame, _ = draw(rng, m, float(rng.uniform(1.5, 2.5)), float(rng.uniform(0.6, 0.9)))
        attempt = raw.decode(frame)
        if attempt.detections or not attempt.failed or 17 + 4 * attempt.failed[0].version != m.shape[0]:
            continue
        symbol = attempt.failed[0]
        ideal = erasures.function_modules(symbol.version, symbol.level, symbol.mask)
        known = resample.symmetric(erasures.function_patterns(symbol.version))
        data = ~known
        grid = erasures.sample(frame, symbol.corners, m.shape[0])
        wrong_engine.append(float(np.mean(grid.dark[data] != m[data])))
        fitted = resample.fit(frame, symbol.corners, ideal, known)
        ink = None if fitted is None else resample.darkness(frame, fitted, ideal, known)
        wrong_ours.append(1.0 if ink is None else float(np.mean((ink > 0.5)[data] != m[data])))
        by_recover += text in {d.text for d in _read(raw, erasures.recover(frame, symbol))}
        start = time.perf_counter()
        painted = erasures.resampled(frame, symbol)
        ms.append((time.perf_counter() - start) * 1000)
        by_resample += text in {d.text for d in _read(raw, painted)}
    n = len(wrong_engine)
    print(f"## Small-module passes zxing-cpp locates but misreads ({n} of {drawn} drawn, seed {args.seed})\n")
    print("| | data modules read wrong, median | p90 | max | codes decoded |")
    print("|---|---:|---:|---:|---:|")
    for name, wrong, read in (("zxing-cpp's corners, threshold (erasures.recover)", wrong_engine, by_recover),
                              ("fitted corners, blur undone (erasures.resampled)", wrong_ours, by_resample)):
        print(f"| {name} | {100 * statistics.median(wrong):.1f} % | {100 * np.percentile(wrong, 90):.1f} % | "
              f"{100 * max(wrong):.1f} % | {read} of {n} |")
    failed = sum(w == 1.0 for w in wrong_ours)
    print(f"\nThe fit did not converge on {failed} (counted as all wrong). A resample: median {statistics.median(ms):.1f} ms, p95 {np.percentile(ms, 95):.1f}, "
          f"max {max(ms):.1f} (one core).\n")


def _read(raw: Decoder, image: np.ndarray | None) -> tuple[Detection, ...]:
    return () if image is None else raw.decode(image).detections


def junk_run(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    decoded = sum(erasures.resampled(*junk(rng, "LMQH"[i % 4])) is not None for i in range(n))
    print(f"## Junk\n\n{n} codes of versions 1-10, every level, real function patterns and random data, "
          f"1.6-4 px a module: **{decoded} decoded** (goal 0).\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--codes", type=int, default=40, help="misread codes to measure (default 40)")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--junk", type=int, default=0, help="also this many junk codes")
    args = parser.parse_args()
    misread(args)
    if args.junk:
        junk_run(args.junk, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
