"""Pulling a guessed module grid onto a code one alignment pattern at a time.

When a finger or a glare spot hides one finder, the regrid rung (finder_grid.py) guesses the
code's corners from the two finders it sees: right beside them, but the far corner is
extrapolated across the whole code, and a code held at a slant puts it several modules off (a
version 15 code under a finger: 3.5 and 4.9 modules at the two far corners). The refinement
that follows (resample.fit, ECC over the function patterns) climbs from where it starts and
settles within a module or two of it: it never gets there.

A code from version 2 on carries alignment patterns (5 x 5 modules: a dark ring, a light ring,
a dark centre) on a regular lattice, the same for every code of a version. So the guess is
walked outward from the finders seen: the nearest alignment pattern is looked for around where
the current grid puts it (within `_REACH` modules and `_REACH_PER_MODULE` of its distance from
what is already sure: the further the extrapolation, the further off; normalised
cross-correlation on the picture rectified through that grid), its place found is added to the
finders' corners, the homography is fitted again, and the next nearest is predicted from it:
each step extrapolates over a few modules only. Patterns hidden by the same finger or spot do
not match and are passed over. On four apart frames of version-15 passes under a finger the far
corners went from 3.4-8.5 modules off to 0.05-0.4 (docs/decode-benchmark.md, session 30).

Nothing here reads a code: the grid it gives is sampled and decoded by finder_grid.py with the
Reed-Solomon check's unused-symbol margin (erasures.py), then read by the engine.
"""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np
from segno import consts

_PX = 4  # px a module in the rectified patches
_REACH = 2.0  # modules either way a pattern is looked for around where the grid puts it, plus
_REACH_PER_MODULE = 0.15  # this much of its distance from the nearest module the grid is sure of
_MATCH = 0.6  # the normalised cross-correlation a patch must reach to be taken as the pattern


def centres(version: int) -> list[tuple[float, float]]:
    """The alignment patterns' centres (x, y) in module coordinates (a module's edges at whole
    numbers), without the three that would overlap the finders."""
    if version < 2:
        return []
    size = 17 + 4 * version
    at: tuple[int, ...] = consts.ALIGNMENT_POS[version - 2]
    out = []
    for r in at:
        for c in at:
            if (r < 9 and c < 9) or (r < 9 and c > size - 9) or (r > size - 9 and c < 9):
                continue
            out.append((c + 0.5, r + 0.5))
    return out


@cache
def _template() -> np.ndarray:
    pattern = np.ones((5, 5), np.float32)
    pattern[1:4, 1:4] = 0.0
    pattern[2, 2] = 1.0
    ink = cv2.resize(pattern, (5 * _PX, 5 * _PX), interpolation=cv2.INTER_NEAREST)
    return cv2.GaussianBlur(255.0 * (1.0 - ink), (0, 0), _PX * 0.4)


def walk(gray: np.ndarray, corners: np.ndarray, version: int, anchors: np.ndarray,
         inverted: bool = False) -> np.ndarray | None:
    """`corners` (the symbol's four, top-left first, clockwise) moved so that the code's
    alignment patterns lie where its grid puts them, walking out from `anchors` (module
    coordinates the guess is trusted at: the seen finders' corners); None when no pattern was
    found (version 1 has none) or the fit went wrong. `inverted`: a light-on-dark code."""
    wanted = centres(version)
    if not wanted or len(anchors) < 4:
        return None
    size = 17 + 4 * version
    square = np.array([[0, 0], [size, 0], [size, size], [0, size]], np.float32)
    grid = cv2.getPerspectiveTransform(square, corners.astype(np.float32)).astype(np.float64)
    src = [np.asarray(anchors, np.float64)]
    dst = [_project(grid, anchors)]
    picture = (255.0 - gray.astype(np.float32)) if inverted else gray.astype(np.float32)
    pending = sorted(wanted, key=lambda p: float(np.min(np.hypot(*(anchors - np.array(p)).T))))
    found = 0
    for cx, cy in pending:
        sure = np.concatenate(src)
        reach = _REACH + _REACH_PER_MODULE * float(np.min(np.hypot(sure[:, 0] - cx, sure[:, 1] - cy)))
        at = _find(picture, grid, cx, cy, reach)
        if at is None:
            continue
        src.append(np.array([[cx, cy]]))
        dst.append(_project(grid, np.array([at])))
        fitted, _ = cv2.findHomography(np.concatenate(src).astype(np.float32),
                                       np.concatenate(dst).astype(np.float32), 0)
        if fitted is None or not np.isfinite(fitted).all():
            return None
        grid = fitted.astype(np.float64)
        found += 1
    if not found:
        return None
    out = _project(grid, square.astype(np.float64)).astype(np.float32)
    return out if np.isfinite(out).all() else None


def _find(picture: np.ndarray, grid: np.ndarray, cx: float, cy: float,
          reach: float) -> tuple[float, float] | None:
    """Where the alignment pattern the grid puts at (cx, cy) is, in module coordinates of the
    grid; None when nothing within `reach` modules looks like one."""
    half = reach + 2.5
    side = int(round(2 * half * _PX))
    # patch pixel (j, i) -> module (cx - half + (j + 0.5) / _PX, ...) -> picture, through `grid`
    to_modules = np.array([[1 / _PX, 0, cx - half + 0.5 / _PX], [0, 1 / _PX, cy - half + 0.5 / _PX], [0, 0, 1]])
    patch = cv2.warpPerspective(picture, grid @ to_modules, (side, side),
                                flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if float(patch.std()) < 1.0:
        return None  # flat: under a spot, or off the picture
    score = cv2.matchTemplate(patch, _template(), cv2.TM_CCOEFF_NORMED)
    _, best, _, (x, y) = cv2.minMaxLoc(score)
    if best < _MATCH:
        return None
    # the template's left edge at patch pixel x (to a tenth of a pixel: a parabola through the
    # peak and its neighbours): its centre 2.5 modules on
    fx, fy = x + _vertex(score, x, y, 1), y + _vertex(score, x, y, 0)
    return cx - half + fx / _PX + 2.5, cy - half + fy / _PX + 2.5


def _vertex(score: np.ndarray, x: int, y: int, axis: int) -> float:
    """The peak's offset from (x, y) along `axis` (0: rows, 1: columns), from a parabola through
    it and its two neighbours; 0 at the edge of `score`."""
    i, n = (y, score.shape[0]) if axis == 0 else (x, score.shape[1])
    if i == 0 or i == n - 1:
        return 0.0
    a, b, c = ((score[i - 1, x], score[i, x], score[i + 1, x]) if axis == 0
               else (score[y, i - 1], score[y, i], score[y, i + 1]))
    bend = float(a - 2 * b + c)
    return 0.0 if bend >= 0 else float(np.clip(0.5 * (a - c) / bend, -0.5, 0.5))


def _project(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    return cv2.perspectiveTransform(np.asarray(points, np.float64).reshape(-1, 1, 2), h).reshape(-1, 2)
