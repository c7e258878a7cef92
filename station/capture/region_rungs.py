"""Ladder rungs that work on the code's region only: where a decoder saw a code it could not
read, else the frame's busiest region of edges (region.locate). Each answers one way single
frames fail that the whole-frame rungs do not fix (benchmarks/hard_frames_bench.py, by family):

- deblur: a smear along one direction (a moving hand) undone by Wiener deconvolution along the
  smear estimated from the region itself;
- zbar: the second engine, which samples modules differently and reads some codes under
  glare, a finger or strong moire that zxing-cpp gives up on;
- enlarge: the region at 3x, for codes of 1.5-3 px per module (small or far away);
- magnify: a small region at 4x, Lanczos, its edges sharpened: modules of 1.4-1.8 px, whose
  one-module rings of the finders bicubic 3x leaves too grey for the engine to find;
- adaptive: a local threshold whose window follows the code's module size (4 and 8 modules),
  for glare and shadows that leave each part of the code a different light level.
Like every rung they only filter and rescale pixels; a read still needs the engine's error
correction (ladder.py says why that guards false reads).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import cv2
import numpy as np

from station.capture import climb_memo
from station.capture.region import Box, box_of, cut, faint_reach, locate, smear, wiener
from station.capture.view import Hints, View

_MAX_REGIONS = 2
WIDEN_FROM = 20.0  # px of smear, at the frame's scale
DEBLUR_PIXELS = 450 * 450
_MAGNIFY_PIXELS = 200 * 200  # 16x the pixels: a code of 1.4-1.7 px modules is under 130 px
_SATURATED = 250  # a grey level that glare has clipped
_LEAST_HINT = 8  # px a side: no code is smaller; zxing-cpp gives all four corners at (0, 0) when it
# reports a code it could not place at all (most of the photos' misses, benchmarks/photo_bench.py)


def regions(gray: np.ndarray, hints: Hints) -> list[Box]:
    """Where the code probably is: the regions where codes were seen, else the busiest one. A
    hint with no extent says nothing of where: taken as a region it was a 12 px box in the
    frame's corner, and every region rung worked on that instead of the busiest region."""
    hints = placed(hints)
    if hints:
        boxes = [box_of(((x0, y0), (x1, y1)), gray.shape, 0.15) for x0, y0, x1, y1 in hints[:_MAX_REGIONS]]
        return [b for b in boxes if b[2] - b[0] >= 8 and b[3] - b[1] >= 8]  # a hint off the image: none
    box = locate(gray)
    return [box] if box is not None else []


def placed(hints: Hints) -> Hints:
    """The hints that say where a code is (zxing-cpp reports a code it could not place at all
    with its four corners at (0, 0))."""
    return tuple(h for h in hints if h[2] - h[0] >= _LEAST_HINT and h[3] - h[1] >= _LEAST_HINT)


def scaled_crops(
    gray: np.ndarray, hints: Hints, least: int, pixels: int,
) -> Iterator[tuple[Box, np.ndarray, float]]:
    """Each region's box, its crop scaled down to at most `pixels` (the scale), skipping crops
    under `least` px a side. For the deconvolving rungs: the FFTs grow with the area (a
    whole-frame region took 170 ms, a phone photo's would take seconds), and scaled down, a
    smear is as much shorter and still undone."""
    for box in regions(gray, hints):
        crop = cut(gray, box)
        if min(crop.shape) < least:
            continue
        yield box, *fitted(crop, pixels)


def fitted(crop: np.ndarray, pixels: int) -> tuple[np.ndarray, float]:
    """`crop` scaled down to at most `pixels`, and the scale (1 when it already fits)."""
    if crop.shape[0] * crop.shape[1] <= pixels:
        return crop, 1.0
    scale = (pixels / (crop.shape[0] * crop.shape[1])) ** 0.5
    return cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), scale


def around_smear(gray: np.ndarray, box: Box, crop: np.ndarray, scale: float, dx: float, dy: float) -> tuple[Box, np.ndarray]:
    """The region widened by a smear of (dx, dy) px (in the crop's scale) each way and a fifth of
    its size, and its crop at that scale. A smear spreads the code half its length past each
    edge, and the busiest region of a smeared code of big modules is narrower than the code:
    codes of 9-15 px modules smeared 33-40 px were read by Wiener deconvolution on the whole
    frame and on the region widened so, never on the region (benchmarks/hard_frames_bench.py,
    motion, seed 9001); the engine needs the quiet zone around the code, which the deconvolution
    rings at a crop's edge. A smear under WIDEN_FROM px keeps its region (`crop`): the region's
    margin holds half of it, and the wider crop doubled the rung's cost, which at decode_bench's
    40 ms a frame cost it a third of its motion frames (5-15 px smears)."""
    if math.hypot(dx, dy) / scale < WIDEN_FROM:
        return box, crop
    wide = widened(gray.shape, box, abs(dx) / scale, abs(dy) / scale)
    # The busiest region can be one side of such a code; grown through its fainter edges it
    # covers it (when that still holds this region's middle, it is the same code). In station
    # decode (deblur and the speed rung, which widens likewise): apart motion frames of seeds 1-6
    # 131 -> 133 of 180 (seeds 3-6, never looked at for this, 88 -> 89), frame families' motion
    # of seeds 301-304 114 -> 115 of 160, none lost (docs/decode-benchmark.md, session 27).
    reach = climb_memo.once(faint_reach, gray)  # deblur's and speed's regions ask alike
    if reach is not None:
        reach = widened(gray.shape, reach, abs(dx) / scale, abs(dy) / scale)
        mx, my = (wide[0] + wide[2]) / 2, (wide[1] + wide[3]) / 2
        if reach[0] <= mx <= reach[2] and reach[1] <= my <= reach[3]:
            wide = (min(wide[0], reach[0]), min(wide[1], reach[1]), max(wide[2], reach[2]), max(wide[3], reach[3]))
    crop = cut(gray, wide)
    if scale < 1.0:
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return wide, crop


def widened(shape: tuple[int, ...], box: Box, dx: float, dy: float) -> Box:
    """`box` grown by a smear of (dx, dy) frame px and a fifth of its size each way, 8 px more,
    within a frame of `shape`."""
    h, w = shape[:2]
    mx = int(abs(dx) + 0.2 * (box[2] - box[0])) + 8
    my = int(abs(dy) + 0.2 * (box[3] - box[1])) + 8
    return max(0, box[0] - mx), max(0, box[1] - my), min(w, box[2] + mx), min(h, box[3] + my)


def deblur(gray: np.ndarray, hints: Hints) -> list[View]:
    out = []
    for box, crop, scale in scaled_crops(gray, hints, 32, DEBLUR_PIXELS):
        found = smear(crop)
        if found is None:
            continue
        box, crop = around_smear(gray, box, crop, scale, *found)
        sharp = wiener(crop, found[0], found[1], noise=0.01, defocus=0.8)
        # Deconvolution rings around each edge; a 3x3 median removes most of it (read 2 of the
        # 4 linear smears the plain Wiener output missed, benchmarks/hard_frames_bench.py).
        out += [View(sharp, scale, box[0], box[1]), View(cv2.medianBlur(sharp, 3), scale, box[0], box[1])]
    return out


def zbar(gray: np.ndarray, hints: Hints) -> list[View]:
    out = []
    for box in regions(gray, hints):
        crop = cut(gray, box)
        out.append(View(crop, 1.0, box[0], box[1], engine="zbar"))
        if crop.shape[0] * crop.shape[1] <= 300 * 300:  # zbar needs ~3 px a module
            big = cv2.resize(crop, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)
            out.append(View(big, 2.0, box[0], box[1], engine="zbar"))
        if np.count_nonzero(crop >= _SATURATED) > 0.01 * crop.size:
            out.append(View(_flatten(crop), 1.0, box[0], box[1], engine="zbar"))
    return out


def _flatten(crop: np.ndarray) -> np.ndarray:
    """The crop divided by its local paper level (a blurred dilation: the brightest nearby),
    so a glare spot's washed rim gets the contrast of the rest of the code."""
    k = max(15, (min(crop.shape) // 8) | 1)
    # The level is smooth: work it out on a max-pooled copy where the window is ≤ 29 px. At full
    # size a phone photo's region (k ~ 270, a blur kernel ~ 800 px wide) took 3 s here.
    step = max(1, k // 15)
    pooled = cv2.dilate(crop, np.ones((step, step), np.uint8))[step // 2::step, step // 2::step] if step > 1 else crop
    kk = max(3, (k // step) | 1)
    level = cv2.GaussianBlur(cv2.dilate(pooled, np.ones((kk, kk), np.uint8)), (0, 0), kk / 2)
    if step > 1:
        level = cv2.resize(level, (crop.shape[1], crop.shape[0]), interpolation=cv2.INTER_LINEAR)
    paper = level.astype(np.float32)
    return np.clip(crop.astype(np.float32) / np.maximum(paper, 1.0) * 200.0, 0, 255).astype(np.uint8)


def module_px(crop: np.ndarray) -> float | None:
    """About one module's width in px: the short runs of a binarised crop's rows (a quarter of
    the runs are a single module; longer runs are several modules or the quiet zone)."""
    _, binary = cv2.threshold(crop, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    runs: list[np.ndarray] = []
    for row in binary[:: max(1, binary.shape[0] // 40)]:
        edges = np.flatnonzero(np.diff(row.astype(np.int8)))
        runs.append(np.diff(edges))
    found = np.concatenate(runs) if runs else np.empty(0)
    return float(np.percentile(found, 25)) if found.size else None


def adaptive(gray: np.ndarray, hints: Hints) -> list[View]:
    out = []
    for box in regions(gray, hints):
        crop = cut(gray, box)
        module = module_px(crop)
        if module is None:
            continue
        soft = cv2.GaussianBlur(crop, (0, 0), 1.0)
        # Windows of 4 and 8 modules: small enough to follow a glare spot's edge, big enough to
        # hold both dark and light modules (measured on the frame families: 5 of 95 misses read,
        # as many as three fixed windows at two thirds of the cost).
        for modules in (4, 8):
            block = max(11, min(151, int(modules * module) | 1))
            binary = cv2.adaptiveThreshold(soft, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, block, 0)
            out.append(View(binary, 1.0, box[0], box[1]))
    return out


def enlarge(gray: np.ndarray, hints: Hints) -> list[View]:
    out = []
    for box in regions(gray, hints):
        crop = cut(gray, box)
        if crop.shape[0] * crop.shape[1] <= 300 * 300:  # 9x the pixels: only small regions
            out.append(View(cv2.resize(crop, None, fx=3.0, fy=3.0, interpolation=cv2.INTER_CUBIC), 3.0, box[0], box[1]))
    return out


def magnify(gray: np.ndarray, hints: Hints) -> list[View]:
    """Each region of at most _MAGNIFY_PIXELS at 4x (Lanczos, which keeps more of a 1.4 px
    module's contrast than bicubic), with an unsharp mask of 2 px (half a module at that size).
    On the frame families' small modules (1.4-3 px a module, ten seeds) the ladder with it read
    357 of 400 against 347 without it; a Lanczos 3x in enlarge instead read 348
    (docs/decode-benchmark.md, session 25). A view costs several ms (a 16x picture for the
    engine), so the camera's stream leaves the rung out, and the ladder tries it after resample:
    before it, at a camera-sized 25 ms budget, it took the time in which resample read legacy
    passes (benchmarks/range_bench.py: 17 of 20 at 400 px instead of 20)."""
    out = []
    for box in regions(gray, hints):
        crop = cut(gray, box)
        if crop.shape[0] * crop.shape[1] <= _MAGNIFY_PIXELS:
            out.append(View(magnified(crop), 4.0, box[0], box[1]))
    return out


def magnified(crop: np.ndarray) -> np.ndarray:
    """`crop` at 4x (Lanczos) with an unsharp mask of 2 px: magnify's and the tiles rung's view."""
    big = cv2.resize(crop, None, fx=4.0, fy=4.0, interpolation=cv2.INTER_LANCZOS4)
    sharp: np.ndarray = cv2.addWeighted(big, 2.0, cv2.GaussianBlur(big, (0, 0), 2.0), -1.0, 0)
    return sharp
