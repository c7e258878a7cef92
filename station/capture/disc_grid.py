"""Reading a lens-blurred code through the grid at the disc its rings measured (the disc_grid rung).

The disc rung (defocus.disc) undoes a disc the region's spectrum measured (disc_radius.py) on the
region scaled down until the disc is 6 px: the engine reads as many codes there as at full size,
in a fifth of the time. What the engine still misses is mostly lost to locating the code: on the
14 defocus frames of apart seeds 23-25 (tests/capture/apart_frames.py) that `station decode`
missed, the station's grid reader placed at the generator's true corners decoded 7 on the
measured disc's deconvolution (benchmarks/miss_ceiling.py's kind of probe), and the engine none.
The finders show on that deconvolution at full size more often than scaled down, where a module
of 3-4 px keeps under 3: the grid plans (finder_grid.py, three finders first) on the full-size
view read 5 of those 7, on the scaled view 2 (docs/decode-benchmark.md, session 34).

This rung, after the disc rung, takes the discs it measured (noted with climb_memo) and reads each
region deconvolved at full size (down to _PIXELS for a photo's big code) through the grid: a
finder search (10-70 ms on a code's region at 720p) and the plans of what it finds, as the
unsmeared rung reads the deconvolving rungs' views (unsmeared_grid.planned). As a rung of its own,
not inside the disc rung, the deadline ends it between grids, and a picture where no disc was
measured (every sharp, smeared or Gaussian-blurred one) costs it nothing.

False reads: as for every grid read (finder_grid.py): every Reed-Solomon block must decode with
check symbols to spare, and the engine reads the repainted code with its own check.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import cast

import numpy as np

from station.capture import climb_memo, defocus, finder_repair, unsmeared_grid
from station.capture.view import Hints, View

# The disc rung's likeliest view (defocus._RING_VIEWS' first). A second at Wiener's noise 0.002
# read nothing more, on the 5 apart misses it reads nor on tests/capture/test_disc_grid.py's 16.
_FACTOR = 0.99
_NOISE = 0.0005
_PIXELS = 1.5e6  # a photo's region is scaled down to this before it is undone
_LENS = 0.6  # px: the webcam's own softness, as the disc rung's (defocus.py)


def rung(gray: np.ndarray, hints: Hints) -> Iterator[View | None]:
    """The ladder rung: each measured disc's full-size deconvolution's grid plans, lazily; None
    between finder searches and for a plan that did not decode, so the ladder's deadline is
    checked."""
    tried: list[list[tuple[float, float]]] = []
    for held in climb_memo.notes(defocus.RINGS, gray):
        region, radius = cast(tuple[tuple[float, float, float, float], float], held)
        x0, y0, x1, y1 = region
        margin = 8 * radius
        scale = min(1.0, math.sqrt(_PIXELS / max(1.0, (x1 - x0 + margin) * (y1 - y0 + margin))))
        view = defocus.disc_view(gray, region, radius * _FACTOR, _NOISE, _LENS, scale)
        found = finder_repair.finders(view.image)
        yield None
        if len(found) >= 2:
            yield from unsmeared_grid.planned(view, found, tried)
