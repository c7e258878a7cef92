"""Reading codes of 1.4-1.8 px a module wherever they are in the picture: the tiles rung.

The magnify rung (region_rungs.magnify) reads such a code once the ladder has its region, but
a code that small is rarely the busiest part of a picture: a poster's code, a badge's or a
label's text draws the region elsewhere, and the engine never located the code itself. On the
43 small-module frames of ten seeds that no rung read (benchmarks/hard_frames_bench.py), the
picture cut into tiles of 320 px, each magnified as that rung does, read 27, the whole picture
at 2x 13 (docs/decode-benchmark.md, session 25). So the rung hands the engine every tile, the
busiest first (gradient energy on a quarter-size copy), skipping flat ones. Tiles overlap by half,
so any code up to 160 px across lies whole in one of them; a code of 1.8 px modules and version
13 is 146 px with its quiet zone. Last in `station decode`'s ladder (a 720p picture is 28 tiles,
~5-10 ms each): it takes only the time the other rungs leave, and past a read only six tiles of
the picture with the codes read painted over (ladder.py says why).

As with every rung the views are only resampled pixels; a read needs the engine's own error
correction (ladder.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

from station.capture.region_rungs import magnified
from station.capture.view import Hints, View

TILE = 320  # px a side
_STEP = TILE // 2
_FLAT = 4.0  # mean grey-level gradient (quarter size) under which a tile holds no code


def tiles(gray: np.ndarray, hints: Hints) -> Iterator[View]:
    """The rung: each tile of `gray` magnified, the busiest first. `hints` (where codes were seen)
    do not narrow it: a code this small is seldom where the ladder saw one."""
    h, w = gray.shape[:2]
    small = cv2.resize(gray, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    grad = cv2.morphologyEx(small, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)).astype(np.float32)
    boxes = [(x, y, min(w, x + TILE), min(h, y + TILE)) for y in _starts(h) for x in _starts(w)]
    busy = [float(grad[y0 // 4:max(y0 // 4 + 1, y1 // 4), x0 // 4:max(x0 // 4 + 1, x1 // 4)].mean())
            for x0, y0, x1, y1 in boxes]
    for energy, (x0, y0, x1, y1) in sorted(zip(busy, boxes, strict=True), reverse=True):
        if energy < _FLAT:
            return
        yield View(magnified(gray[y0:y1, x0:x1]), 4.0, x0, y0)


def _starts(n: int) -> list[int]:
    """Where tiles start along a side of `n` px: every half tile, the last flush with the end."""
    if n <= TILE:
        return [0]
    starts = list(range(0, n - TILE, _STEP))
    return [*starts, n - TILE]
