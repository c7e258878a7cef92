"""How slow this machine is at the decode ladder's work, so a file's budget buys the same rungs
on a slow or busy machine as on the one the rungs were chosen on.

A file's budget (`station decode`) is there so one photo does not hold the command for long; it
was set, and every rung's order and prior cost chosen, on the development machine. On a machine
three times slower a 500 ms budget stops the ladder a third of the way up: measured on one such
machine (docs/decode-benchmark.md, "A slow machine"), the frame families' reads fell from 286 to
265 of 320 with the same code and frames, and came back to 285 with the budget tripled. The
slowdown there was uneven (large-image filtering and FFTs 3-4x, small crops 1.2x), so the
measure is a sample of the ladder's own work: a filter, blurs, a resize, edges, a threshold, an
FFT and a zxing-cpp search on a busy picture, timed on the process's CPU clock (another
process's load does not count; OpenCV's worker threads do, so it reads the same pinned to one
core or not; the ladder's clock for files is the same one).
"""

from __future__ import annotations

import time
from functools import cache

import cv2
import numpy as np
import zxingcpp

# The workload's CPU time on the development machine, ms. Derived, not measured there: it took
# 35.2-36.7 ms (five starts) on the slow machine, where the families' median frame took 99.5 ms
# against 33.2 ms on the development machine (the same code and frames): 36 / 3.0.
REFERENCE_MS = 12.0
# A machine more than this much slower still gets a bounded wait per file.
MAX_SLOWNESS = 6.0
_RUNS = 4


def _picture() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1313)
    blocks = np.where(rng.random((45, 80)) < 0.5, 30, 220).astype(np.uint8)
    image = cv2.resize(blocks, (800, 450), interpolation=cv2.INTER_NEAREST)
    image = np.asarray(cv2.GaussianBlur(image, (0, 0), 1.2))
    g = cv2.getGaussianKernel(31, 5.0)
    return image, (g @ g.T).astype(np.float32)


def _workload(image: np.ndarray, kernel: np.ndarray) -> None:
    f = image.astype(np.float32)
    cv2.filter2D(f, -1, kernel)
    cv2.GaussianBlur(f, (0, 0), 2.0)
    cv2.resize(image, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA)
    cv2.Canny(image, 50, 150)
    cv2.adaptiveThreshold(image, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 31, 5)
    np.fft.irfft2(np.fft.rfft2(f[:256, :512]))
    zxingcpp.read_barcodes(image)


def workload_ms() -> float:
    """The sample's CPU time in this process, ms: the fastest of a few runs (the first pays for
    OpenCV's and zxing-cpp's first-call set-up; one interrupted by other work counts less)."""
    image, kernel = _picture()
    best = float("inf")
    for _ in range(_RUNS):
        start = time.process_time()
        _workload(image, kernel)
        best = min(best, time.process_time() - start)
    return best * 1000.0


def slowness_of(measured_ms: float) -> float:
    """How many times slower than the development machine, from 1 (never less: a faster
    machine keeps the budget as promised) to MAX_SLOWNESS."""
    return min(MAX_SLOWNESS, max(1.0, measured_ms / REFERENCE_MS))


@cache
def slowness() -> float:
    """This machine's slowness, measured once per process (four runs: ~50 ms of CPU on the
    development machine, ~150 ms on the slow one)."""
    return slowness_of(workload_ms())
