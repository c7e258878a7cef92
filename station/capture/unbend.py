"""Unbending a pass on curved paper: a ticket held in a hand or wrapped round a wrist.

Bent over a cylinder, the code's columns crowd towards the bend's edges and its rows sag, so no
homography (all the engines fit) lays the module grid flat: both engines find the three finder
patterns and still misread or give up. This rung takes the three finders (finder_repair.finders),
which fix the code's centre and axes, and resamples the code as if flat for a few bends along
either axis: observed = sin(b * flat) / sin(b) across the bend (the projection of a cylinder),
with a sag of the rows. The bent sheet is then seen at a slant, so the bent plane is laid on the
picture by a homography fitted, for each bend, to the three finders' centres and outer corners
(_fit): the affine frame of the three centres alone leaves a photo's perspective in the grid
(photo_bench.py, seed 77 photo 49: a version 19 code of 7.7 px modules read only so). Like every
rung it only moves pixels; a read needs the code's error correction (ladder.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import cv2
import numpy as np

from station.capture.finder_repair import Finder, Plan, finders, squashed
from station.capture.view import Hints, View

# Bends (radians over half the finders' span): the frame families' paper wraps 0.35-1.1 rad over
# half its width and the finders span 50-80 % of it. Sags in modules: a row's bow between the
# finders and the code's middle; a quarter of a module off already loses a big code's rows, and
# half-module steps read 5 more of 120 curved frames than whole modules did (three seeds).
_BENDS = (0.55, 0.8, 0.3, 1.05)
_SAGS = (0.0, 0.5, -0.5, 1.0, -1.0, 1.5, -1.5, 2.0, -2.0, 2.5, -2.5, 3.0, -3.0)
_MODULE_PX = 5.0  # module size of the flat image: comfortably above what both engines need
_MAX_TRIPLES = 3
_FLAT = 1e-3  # a bend that is none (sin(b x) / sin(b) -> x)
# Finders under this many px across (modules under ~3.5 px): their corners, good to a pixel or so,
# are too coarse to fit a slant from, and the far corner it extrapolates to lands modules off
# (a curved family frame of 2.7 px modules, read through the affine frame, was lost to the fit:
# tests/capture/test_machine_pace.py); those codes keep the three centres' affine frame.
_FIT_SIDE_PX = 24.0
# Square finders on bent paper (a bend of 0.3-1 rad over a big-module code leaves them square):
# a homography of the flat code misses their outer corners by 0.017-0.39 of a finder's side
# (median 0.053, 22 of 24 at _SHOWS_A_BEND or more: the single-code bent photos of
# photo_bench.py seeds 77, 99 and 5150), a flat code's by 0.004-0.37 (median 0.018, 52 of 154).
# So the miss tells a bend only roughly: past _SHOWS_A_BEND the bent rung tries the _BEST_FITS
# bends that fit the corners best at _EARLY_SAGS (10 views, not unbend's 104), since on a photo
# the unbend rung comes after rungs that take the whole budget.
_SHOWS_A_BEND = 0.025
# ... on a picture bigger than a camera's frame only. Up to 1080p the rungs before unbend leave it
# time (the families' and apart paper frames: read the same without those views), and on
# decode_bench.py's 720p frames the views took what was left of the budget (p95 25.3 -> 29.3 ms);
# on a phone's photo of 3-12 Mpx each rung before costs 50-170 ms.
_PHOTO_PIXELS = 1920 * 1080
_BEST_FITS = 2
_EARLY_SAGS = (0.0, 0.5, -0.5, 1.0, -1.0)


def _triples(found: list[Finder], among: list[Finder] | None = None) -> list[tuple[Finder, Finder, Finder]]:
    """(top-left, top-right, bottom-left) of each three finders of one size that make a corner
    near 90 degrees with arms of similar length (a bend shortens one arm up to ~40 %); with
    `among`, only the threes that hold one of those."""
    out = []
    for i, a in enumerate(found):
        for j in range(i + 1, len(found)):
            for k in range(j + 1, len(found)):
                three = (a, found[j], found[k])
                if among is not None and not any(f in among for f in three):
                    continue
                sides = [f.side for f in three]
                if max(sides) > 1.6 * min(sides):
                    continue
                for tl, p, q in ((three[0], three[1], three[2]), (three[1], three[0], three[2]),
                                 (three[2], three[0], three[1])):
                    u = np.array([p.x - tl.x, p.y - tl.y])
                    v = np.array([q.x - tl.x, q.y - tl.y])
                    lu, lv = float(np.hypot(*u)), float(np.hypot(*v))
                    if min(lu, lv) < 1.5 * tl.side or max(lu, lv) > 1.7 * min(lu, lv):
                        continue
                    if abs(float(u @ v) / (lu * lv)) > 0.45:  # not within ~27 degrees of square
                        continue
                    # y points down: top-right is the arm clockwise of the other.
                    tr, bl = (p, q) if u[0] * v[1] - u[1] * v[0] > 0 else (q, p)
                    out.append((tl, tr, bl))
                    break
    return out[:_MAX_TRIPLES]


def _framed(tl: Finder, tr: Finder, bl: Finder) -> _Frame | None:
    """The code's frame between these finders; None when its flat image would be too small or
    too big to be worth reading."""
    o = np.array([(tr.x + bl.x) / 2, (tr.y + bl.y) / 2], np.float32)  # the code's centre
    ax = np.array([tr.x - tl.x, tr.y - tl.y], np.float32) / 2  # canonical (1, 0)
    ay = np.array([bl.x - tl.x, bl.y - tl.y], np.float32) / 2  # canonical (0, 1)
    half = (float(np.hypot(*ax)) + float(np.hypot(*ay))) / 2
    finder = (tl.side + tr.side + bl.side) / 3 / half  # a finder's side in canonical units (7 modules)
    extent = 1 + finder * 1.6  # finder centre to the code's edge (3.5 modules), a quiet zone (4) and slack
    px = _MODULE_PX * 7 / finder  # output px per canonical unit
    size = int(2 * extent * px)
    if size < 32 or size > 1600:
        return None
    return _Frame(o, ax, ay, extent, px, size, finder / 7, half)


def flat_plans(gray: np.ndarray, tl: Finder, tr: Finder, bl: Finder) -> list[Plan]:
    """The code between these finders resampled flat, for each sag, axis and bend (in the order
    tried: no sag first, the commonest bends first)."""
    frame = _framed(tl, tr, bl)
    if frame is None:
        return []
    seen = {(axis, bend): _fit(frame, (tl, tr, bl), axis, bend)[0] for axis in (0, 1) for bend in _BENDS}
    return [partial(_flat, frame, seen[axis, bend], sag, axis, bend)
            for sag in _SAGS for axis in (0, 1) for bend in _BENDS]


def bent_plans(tl: Finder, tr: Finder, bl: Finder) -> list[Plan]:
    """For three square finders: if the corners of their dark squares show a bend (a homography
    of the flat code misses them by _SHOWS_A_BEND of a finder's side or more), the few flat views
    whose bends fit the corners best, at the smaller sags; else none."""
    frame = _framed(tl, tr, bl)
    if frame is None or not _SHOWS_A_BEND <= _fit(frame, (tl, tr, bl), 0, _FLAT)[1] < math.inf:
        return []
    fits = sorted(((_fit(frame, (tl, tr, bl), axis, bend), axis, bend) for axis in (0, 1) for bend in _BENDS),
                  key=lambda fit: fit[0][1])[:_BEST_FITS]
    return [partial(_flat, frame, seen, sag, axis, bend) for sag in _EARLY_SAGS for (seen, _), axis, bend in fits]


@dataclass(frozen=True, slots=True)
class _Frame:
    """Where the code is: centre, canonical axes (finder centres at +-1), and the flat image."""

    o: np.ndarray
    ax: np.ndarray
    ay: np.ndarray
    extent: float  # canonical units either side of the centre the flat image covers
    px: float  # flat image px per canonical unit
    size: int
    module: float  # canonical units
    half: float  # image px per canonical unit, about

    def affine(self) -> np.ndarray:
        """The three centres' frame as a homography: canonical units to the picture's px."""
        return np.array([[self.ax[0], self.ay[0], self.o[0]], [self.ax[1], self.ay[1], self.o[1]], [0.0, 0.0, 1.0]])


def _bent(p: Any, q: Any, axis: int, bend: float) -> tuple[Any, Any]:
    """Flat canonical coordinates (arrays or numbers) bent over the cylinder (a cylinder seen
    from afar)."""
    if axis == 0:
        return np.sin(bend * p) / math.sin(bend), q
    return p, np.sin(bend * q) / math.sin(bend)


def _fit(f: _Frame, three: tuple[Finder, Finder, Finder], axis: int, bend: float) -> tuple[np.ndarray, float]:
    """The homography from the bent plane (canonical units) to the picture, fitted to the three
    finders' centres and the outer corners of their dark squares (each finder's corner nearest
    where the affine frame puts it), and how far it misses those corners (root mean square, in
    finders' sides); the affine frame and an infinite miss when the finders are too small to fit
    from, a finder has no corners, or the fit folds the code over."""
    affine = f.affine()
    side = sum(finder.side for finder in three) / 3
    if side < _FIT_SIDE_PX or any(len(finder.quad) != 4 for finder in three):
        return affine, math.inf
    d = 3.5 * f.module  # a finder's centre to its outer corners, in flat canonical units
    flat, seen = [], []
    for finder, (cp, cq) in zip(three, ((-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0))):
        flat.append((cp, cq))
        seen.append((finder.x, finder.y))
        quad = np.array(finder.quad)
        for sp in (-1.0, 1.0):
            for sq in (-1.0, 1.0):
                flat.append((cp + sp * d, cq + sq * d))
                bp, bq = _bent(cp + sp * d, cq + sq * d, axis, bend)
                guess = affine[:2, :2] @ (bp, bq) + affine[:2, 2]
                seen.append(tuple(quad[int(np.argmin(np.hypot(*(quad - guess).T)))]))
    points = np.array(flat, np.float64)
    bent_p, bent_q = _bent(points[:, 0], points[:, 1], axis, bend)
    src = np.stack([bent_p, bent_q], axis=1)
    h, _ = cv2.findHomography(src.astype(np.float32), np.array(seen, np.float32), 0)
    if h is None:
        return affine, math.inf
    edge = f.extent
    corners = np.array([[-edge, -edge, 1.0], [edge, -edge, 1.0], [edge, edge, 1.0], [-edge, edge, 1.0]])
    w = corners @ h[2]
    # Every corner of the flat image in front of the camera, and the same way round as the affine
    # frame: a fit that turns the code inside out or past the horizon is a bad set of corners.
    if not (w > 0).all() and not (w < 0).all():
        return affine, math.inf
    at_centre = h[:2, :2] * h[2, 2] - np.outer(h[:2, 2], h[2, :2])  # the Jacobian there, times w^2
    if np.sign(np.linalg.det(at_centre)) != np.sign(np.linalg.det(affine[:2, :2])):
        return affine, math.inf
    mapped = np.column_stack([src, np.ones(len(src))]) @ h.T
    miss = np.hypot(*(mapped[:, :2] / mapped[:, 2:] - np.array(seen)).T)
    return h, float(np.sqrt(np.mean(miss ** 2))) / side


def _flat(f: _Frame, seen: np.ndarray, sag: float, axis: int, bend: float, gray: np.ndarray) -> View:
    t = (np.arange(f.size, dtype=np.float32) + 0.5) / f.px - f.extent
    pf, qf = np.meshgrid(t, t)  # flat canonical coordinates of each output pixel
    across, along = (pf, qf) if axis == 0 else (qf, pf)
    sagged = along + sag * f.module * (1 - across * across)
    p, q = _bent(*((pf, sagged) if axis == 0 else (sagged, qf)), axis, bend)
    w = seen[2, 0] * p + seen[2, 1] * q + seen[2, 2]
    mx = (seen[0, 0] * p + seen[0, 1] * q + seen[0, 2]) / w
    my = (seen[1, 0] * p + seen[1, 1] * q + seen[1, 2]) / w
    flat = cv2.remap(gray, mx.astype(np.float32), my.astype(np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)

    def back(x: float, y: float) -> tuple[float, float]:
        # The flat image's pixel (x, y) in `gray`: the same mapping as the remap's, at one point.
        a, b = x / f.px - f.extent, y / f.px - f.extent
        across, along = (a, b) if axis == 0 else (b, a)
        sagged_ = along + sag * f.module * (1 - across * across)
        p_, q_ = _bent(*((a, sagged_) if axis == 0 else (sagged_, b)), axis, bend)
        x_, y_, w_ = seen @ (float(p_), float(q_), 1.0)
        return (float(x_ / w_), float(y_ / w_))

    return View(flat, f.px / f.half, back=back)


def plans(gray: np.ndarray, found: list[Finder] | None = None) -> list[Plan]:
    """The flattenings to try, one a frame (sequence.py); `found`: the picture's finders when the
    caller has searched already."""
    return [p for three in _triples(finders(gray) if found is None else found) for p in flat_plans(gray, *three)]


def unbend(gray: np.ndarray, hints: Hints) -> Iterator[View]:
    """The ladder rung: flat views of each three finders' code. Lazy: the first read ends it."""
    for plan in plans(gray):
        yield plan(gray)


def bent(gray: np.ndarray, hints: Hints) -> Iterator[View]:
    """The bent rung: flat views of the codes one of whose three finders is squashed (paper bent
    over a cylinder crowds the columns at its edges; finder_repair.squashed), then on a photo a
    few of the codes whose three square finders' corners show a bend (bent_plans). Early in the ladder,
    since nothing before it reads such a code, and it costs a picture without one only the finder
    search the later rungs make anyway. The unbend rung takes every view of the square threes."""
    flat = squashed(gray)
    square = finders(gray)
    for three in _triples(square + flat, among=flat) if flat else []:
        for plan in flat_plans(gray, *three):
            yield plan(gray)
    if gray.size <= _PHOTO_PIXELS:
        return
    for three in _triples(square):
        for plan in bent_plans(*three):
            yield plan(gray)
