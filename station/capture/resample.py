"""Reading a located code's modules ourselves when the engine's own reading of them failed:
small modules (1.4-2.5 px), where a corner estimate half a module off puts every sample on the
wrong module, and where the camera's blur makes a module's grey as much its neighbours' as its own.

Two steps, both resting on what every code of a version, level and mask has in the same place
(its function patterns: finders, separators, timing, alignment patterns):
1. `fit`: the symbol's four corners are refined by aligning those modules with the picture,
   OpenCV's ECC (enhanced correlation coefficient) maximisation over a homography, on the
   function modules only (the data is unknown). On small-module frames whose plain read failed,
   the share of modules sampled wrong fell from 5-38 % to 0-11 % (docs/decode-benchmark.md).
2. `darkness`: the blur is modelled as each module's grey being a linear mix of its own ink and
   the mean ink of its 4 side and 4 corner neighbours (plus an offset), fitted by least squares on
   the function modules, whose ink is known; the data modules are then solved for by a few
   Jacobi rounds. With the refined corners, 11 of 12 such codes came out with every codeword
   right or within the error correction, against 1 of 12 through the engine's corners.

Nothing here reads a code: the result goes through the Reed-Solomon decoding of erasures.py,
with its margin of unused check symbols, and is then painted for the engine to read and parse.
"""

from __future__ import annotations

import cv2
import numpy as np

_PX = 4  # px a module in the template ECC aligns the picture to
_ITERATIONS = 20  # ECC steps: 40 read no more codes in twice the time
_EPS = 1e-4
_ROUNDS = 4  # Jacobi rounds solving the blur model for the data modules


def module_px(corners: np.ndarray, size: int) -> float:
    """Pixels a module of a code `size` modules across within `corners` (top-left first, clockwise)."""
    return float(np.linalg.norm(corners[1] - corners[0]) + np.linalg.norm(corners[3] - corners[0])) / (2 * size)


def symmetric(fixed: np.ndarray) -> np.ndarray:
    """The function modules a mirrored code has in the same place too: without the format
    strips (row and column 8 by the finders) and the version blocks, which transposing moves."""
    size = fixed.shape[0]
    out = fixed.copy()
    out[8, :9] = out[:9, 8] = False
    out[8, size - 8:] = out[size - 8:, 8] = False
    if size >= 45:  # version 7 on: the version information blocks
        out[:6, size - 11:size - 8] = out[size - 11:size - 8, :6] = False
    return out


def fit(gray: np.ndarray, corners: np.ndarray, ideal: np.ndarray, known: np.ndarray) -> np.ndarray | None:
    """`corners` refined so that the `known` modules of `ideal` (True: dark) line up with the
    picture; None when the alignment does not converge."""
    size = ideal.shape[0]
    side = (size + 2) * _PX  # a module of quiet zone around the code: the finders' light edge
    modules = np.pad(np.where(ideal, 0.0, 255.0), 1, constant_values=255.0).astype(np.float32)
    # a camera's blur, and the gradients ECC climbs
    template = cv2.GaussianBlur(cv2.resize(modules, (side, side), interpolation=cv2.INTER_NEAREST), (0, 0), _PX * 0.5)
    used = np.pad(known, 1, constant_values=True).astype(np.uint8) * 255
    mask = cv2.resize(used, (side, side), interpolation=cv2.INTER_NEAREST)
    # The template's module edges in its pixel index coordinates (a pixel's centre at its index),
    # with the module of quiet zone: both the warp in and the corners out go through these.
    square = (np.array([[0, 0], [size, 0], [size, size], [0, size]], np.float32) + 1.0) * _PX - 0.5
    start = cv2.getPerspectiveTransform(square, corners.astype(np.float32))
    seen = cv2.warpPerspective(gray.astype(np.float32), start, (side, side),
                               flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inside = mask > 0
    # a light-on-dark code (dark mode) is aligned inverted
    picture = 255.0 - seen if np.corrcoef(template[inside], seen[inside])[0, 1] < 0 else seen
    warp: np.ndarray = np.eye(3, dtype=np.float32)
    try:
        _, warp = cv2.findTransformECC(template, picture, warp, cv2.MOTION_HOMOGRAPHY,
                                       (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, _ITERATIONS, _EPS), mask, 5)
    except cv2.error:
        return None  # did not converge (a code too damaged, or not a code at all)
    whole = start @ warp.astype(np.float64)
    refined = cv2.perspectiveTransform(square.reshape(-1, 1, 2), whole).reshape(4, 2)
    if not np.isfinite(refined).all():
        return None
    if np.abs(refined - corners).max() > 3 * module_px(corners, size):
        return None  # it slid onto something else: the engine's corners are never that far off
    return refined.astype(np.float32)


def _neighbours(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean of each module's 4 side neighbours and of its 4 corner neighbours (light beyond
    the code: the quiet zone)."""
    p = np.pad(m, 1, constant_values=0.0)
    sides = (p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:]) / 4
    diagonal = (p[:-2, :-2] + p[:-2, 2:] + p[2:, :-2] + p[2:, 2:]) / 4
    return sides, diagonal


def darkness(gray: np.ndarray, corners: np.ndarray, ideal: np.ndarray, known: np.ndarray) -> np.ndarray | None:
    """Each module's ink, 0 (light) to 1 (dark), the blur between neighbours undone; the `known`
    modules as `ideal` has them. None when the known modules show no ink at all."""
    size = ideal.shape[0]
    centres = np.stack(np.meshgrid(np.arange(size) + 0.5, np.arange(size) + 0.5), axis=-1).reshape(-1, 1, 2)
    square = np.array([[0, 0], [size, 0], [size, size], [0, size]], np.float32)
    to_image = cv2.getPerspectiveTransform(square, corners.astype(np.float32))
    at = cv2.perspectiveTransform(centres.astype(np.float32), to_image).reshape(size, size, 2)
    grey = cv2.remap(gray.astype(np.float32), at[..., 0], at[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)
    # Ink and paper as the extremes of a 7x7-module neighbourhood: glare and shadow leave each
    # part of the code its own light level.
    k = np.ones((7, 7), np.uint8)
    ink, paper = cv2.erode(grey, k), cv2.dilate(grey, k)
    g = (paper - grey) / np.maximum(paper - ink, 1.0)
    truth = ideal.astype(np.float32)
    sides, diagonal = _neighbours(truth)
    rows = np.stack([np.ones(int(known.sum())), truth[known], sides[known], diagonal[known]], axis=1)
    (c0, c1, c2, c3), *_ = np.linalg.lstsq(rows, g[known], rcond=None)
    if c1 < 0:  # light-on-dark: the same model on the inverted greys
        g = 1.0 - g
        (c0, c1, c2, c3), *_ = np.linalg.lstsq(rows, g[known], rcond=None)
    if c1 < 0.05:
        return None
    m = np.where(known, truth, np.clip((g - c0 - (c2 + c3) * 0.5) / c1, 0.0, 1.0))
    for _ in range(_ROUNDS):
        sides, diagonal = _neighbours(m)
        m = np.where(known, truth, np.clip((g - c0 - c2 * sides - c3 * diagonal) / c1, 0.0, 1.0))
    return m
