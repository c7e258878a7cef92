"""Unbending a pass on curved paper: a ticket held in a hand or wrapped round a wrist.

Bent over a cylinder, the code's columns crowd towards the bend's edges and its rows sag, so no
homography (all the engines fit) lays the module grid flat: both engines find the three finder
patterns and still misread or give up. This rung takes the three finders (finder_repair.finders),
which fix the code's centre and axes, and resamples the code as if flat for a few bends along
either axis: observed = sin(b * flat) / sin(b) across the bend (the projection of a cylinder),
with a sag of the rows. Like every rung it only moves pixels; a read needs the code's error
correction (ladder.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

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


def flat_plans(gray: np.ndarray, tl: Finder, tr: Finder, bl: Finder) -> list[Plan]:
    """The code between these finders resampled flat, for each sag, axis and bend (in the order
    tried: no sag first, the commonest bends first)."""
    o = np.array([(tr.x + bl.x) / 2, (tr.y + bl.y) / 2], np.float32)  # the code's centre
    ax = np.array([tr.x - tl.x, tr.y - tl.y], np.float32) / 2  # canonical (1, 0)
    ay = np.array([bl.x - tl.x, bl.y - tl.y], np.float32) / 2  # canonical (0, 1)
    half = (float(np.hypot(*ax)) + float(np.hypot(*ay))) / 2
    finder = (tl.side + tr.side + bl.side) / 3 / half  # a finder's side in canonical units (7 modules)
    extent = 1 + finder * 1.6  # finder centre to the code's edge (3.5 modules), a quiet zone (4) and slack
    px = _MODULE_PX * 7 / finder  # output px per canonical unit
    size = int(2 * extent * px)
    if size < 32 or size > 1600:
        return []
    frame = _Frame(o, ax, ay, extent, px, size, finder / 7, half)
    return [partial(_flat, frame, sag, axis, bend) for sag in _SAGS for axis in (0, 1) for bend in _BENDS]


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


def _flat(f: _Frame, sag: float, axis: int, bend: float, gray: np.ndarray) -> View:
    t = (np.arange(f.size, dtype=np.float32) + 0.5) / f.px - f.extent
    pf, qf = np.meshgrid(t, t)  # flat canonical coordinates of each output pixel
    across, along = (pf, qf) if axis == 0 else (qf, pf)
    bent = np.sin(bend * across) / math.sin(bend)  # a cylinder seen from afar
    sagged = along + sag * f.module * (1 - across * across)
    p, q = (bent, sagged) if axis == 0 else (sagged, bent)
    mx = f.o[0] + f.ax[0] * p + f.ay[0] * q
    my = f.o[1] + f.ax[1] * p + f.ay[1] * q
    flat = cv2.remap(gray, mx.astype(np.float32), my.astype(np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)

    def back(x: float, y: float) -> tuple[float, float]:
        # The flat image's pixel (x, y) in `gray`: the same mapping as the remap's, at one point.
        a, b = x / f.px - f.extent, y / f.px - f.extent
        across, along = (a, b) if axis == 0 else (b, a)
        bent_, sagged_ = math.sin(bend * across) / math.sin(bend), along + sag * f.module * (1 - across * across)
        p_, q_ = (bent_, sagged_) if axis == 0 else (sagged_, bent_)
        return (float(f.o[0] + f.ax[0] * p_ + f.ay[0] * q_), float(f.o[1] + f.ax[1] * p_ + f.ay[1] * q_))

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
    over a cylinder crowds the columns at its edges; finder_repair.squashed). Early in the ladder,
    since nothing before it reads such a code, and it costs a picture without one only the finder
    search the later rungs make anyway. The unbend rung takes the threes of square finders."""
    flat = squashed(gray)
    if not flat:
        return
    for three in _triples(finders(gray) + flat, among=flat):
        for plan in flat_plans(gray, *three):
            yield plan(gray)
