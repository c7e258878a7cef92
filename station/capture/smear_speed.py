"""Undoing a straight smear whose speed changed while the shutter was open.

A hand does not move at one speed for a whole exposure: it speeds up, slows down, stops. The
smear it draws is a straight line (region.smear finds its direction and about its length), but
the time the code's image spent at each point of that line is uneven, and Wiener deconvolution
along a line of even weight leaves ringing that the engine cannot read through: on the motion
frames of seed 777 the deblur rung's line read none of seven smears that deconvolution along the
true path reads (benchmarks/hard_frames_bench.py), and the true path's line with even weights
read one of them.

The weights along the line are few unknowns (one a pixel of its length) where the path rung
(path_deblur.py) fits a whole square of them, so they are estimated well from the code's two
grey levels: deconvolve, predict the sharp code (ink and paper), and fit the weights that best
map the prediction onto the frame by least squares on the derivative along the smear, kept
non-negative. Each round's deconvolution is a view for the engine; the rung ends at the first
read. A smear of 20 px or more first widens the region (region_rungs.around_smear).

As with every rung the views are only filtered pixels: a read still needs the engine's error
correction (ladder.py), so a wrong profile reads nothing rather than the wrong thing.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import cv2
import numpy as np

from station.capture.path_deblur import DEFOCUS, NOISE, two_level
from station.capture.region import deconvolve, line_kernel, smear
from station.capture.region_rungs import DEBLUR_PIXELS, around_smear, scaled_crops
from station.capture.view import Hints, View

# In trials on seeds 777 and 9001 the first fit read 4 of the 5 frames read, the fourth fit the
# other; with two rounds the rung reads all five (a round: 50-100 ms on the slow machine).
_ROUNDS = 2
# The profile may reach past the estimated length: region.smear read 10-12 px for smears of 13-16
# px whose ends the hand crossed slowly.
_REACH = 0.75
_RIDGE = 1e-3  # the least squares' regularisation, relative to the mean diagonal
_LOW_NOISE = 0.003  # 4 of those 5 trial reads came at this Wiener noise term, one at the usual
# On the 26 motion frames of seeds 6262 and 8383 no rung read, one more (a straight 29 px smear of
# 7 px modules) read at 0.001 from the second round on, at no other term.
_LOWER_NOISE = 0.001
_NNLS_STEPS = 200
_FIT_PIXELS = 20_000


def profile_kernel(latent: np.ndarray, blurred: np.ndarray, c: float, s: float, reach: int) -> np.ndarray | None:
    """The kernel along the line t * (c, s), |t| <= reach px, whose weights best map `latent` onto
    `blurred` (least squares on the derivative along the line: the light level's slow changes
    would dominate the grey levels themselves), or None when no weight is left."""
    def along(img: np.ndarray) -> np.ndarray:
        f = img.astype(np.float32)
        return cv2.Sobel(f, cv2.CV_32F, 1, 0) * c + cv2.Sobel(f, cv2.CV_32F, 0, 1) * s

    lat, blur = along(latent), along(blurred)
    h, w = lat.shape
    m = reach + 2  # the shifted copies' borders are not data
    if h <= 2 * m + 8 or w <= 2 * m + 8:
        return None
    ts = np.arange(-reach, reach + 1)
    # A few unknowns need few equations: every `stride`-th pixel each way, about _FIT_PIXELS of
    # them, each shifted copy sampled there only (whole shifted copies of a 600 x 600 region
    # made the fit cost several deconvolutions).
    stride = max(1, round(math.sqrt((h - 2 * m) * (w - 2 * m) / _FIT_PIXELS)))
    ys, xs = np.mgrid[m:h - m:stride, m:w - m:stride].astype(np.float32)
    cols = [cv2.remap(lat, xs - np.float32(t * c), ys - np.float32(t * s), cv2.INTER_LINEAR).ravel() for t in ts]
    a = np.stack(cols, 1).astype(np.float64)
    b = blur[m:h - m:stride, m:w - m:stride].ravel().astype(np.float64)
    ata, atb = a.T @ a, a.T @ b
    trace = float(np.trace(ata))
    if not trace > 0.0:  # a flat prediction (nothing along the line): no weight to fit, and the
        return None  # system would be singular (a glare-washed region did it: LinAlgError)
    ridge = _RIDGE * trace / len(ts)
    ata += ridge * np.eye(len(ts))
    weights = np.linalg.solve(ata, atb)
    step = 1.0 / float(np.linalg.norm(ata, 2))
    for _ in range(_NNLS_STEPS):  # projected gradient: the weights are time spent, never negative
        weights = np.maximum(weights - step * (ata @ weights - atb), 0.0)
    if weights.sum() <= 0:
        return None
    return _splat(ts, weights / weights.sum(), c, s, reach)


def _splat(ts: np.ndarray, weights: np.ndarray, c: float, s: float, reach: int) -> np.ndarray:
    """The weights placed along the line in a square kernel, each shared between its four
    nearest pixels."""
    half = reach + 1
    k = np.zeros((2 * half + 1, 2 * half + 1), np.float32)
    for t, wt in zip(ts, weights, strict=True):
        x, y = half + t * c, half + t * s
        x0, y0 = math.floor(x), math.floor(y)
        fx, fy = x - x0, y - y0
        k[y0, x0] += wt * (1 - fx) * (1 - fy)
        k[y0, x0 + 1] += wt * fx * (1 - fy)
        k[y0 + 1, x0] += wt * (1 - fx) * fy
        k[y0 + 1, x0 + 1] += wt * fx * fy
    out: np.ndarray = k / k.sum()
    return out


def unsmear(gray: np.ndarray, hints: Hints) -> Iterator[View]:
    """The ladder rung. Lazy: the ladder stops at the first view that reads."""
    for box, crop, scale in scaled_crops(gray, hints, 32, DEBLUR_PIXELS):
        found = smear(crop)
        if found is None:
            continue
        box, crop = around_smear(gray, box, crop, scale, *found)
        length = math.hypot(*found)
        c, s = found[0] / length, found[1] / length
        reach = int(math.ceil(_REACH * length))
        # The even line's deconvolution is the deblur rung's view: here only the first prediction.
        sharp = deconvolve(crop, line_kernel(*found), NOISE, DEFOCUS)
        for _ in range(_ROUNDS):
            kernel = profile_kernel(two_level(sharp), crop, c, s, reach)
            if kernel is None:
                break
            sharp = deconvolve(crop, kernel, NOISE, DEFOCUS)  # the next round's prediction too
            lower = (deconvolve(crop, kernel, noise, DEFOCUS) for noise in (_LOW_NOISE, _LOWER_NOISE))
            for image in itertools.chain((sharp,), lower):  # each made only once the one before fails
                yield View(image, scale, box[0], box[1])
                # Deconvolution rings around each edge; the 3x3 median removes most of it.
                yield View(cv2.medianBlur(image, 3), scale, box[0], box[1])
