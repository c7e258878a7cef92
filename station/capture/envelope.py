"""The `envelope` rung: each pixel placed between the darkest and the lightest grey around it.

A band of glare (a window, a ceiling tube mirrored on a phone or a glossy ticket) lifts the part
of the code under it towards white: its dark modules are still darker than its light ones, but
by a fraction of the contrast elsewhere, and its edge runs across the code as a steep ramp. A
threshold, global or local, puts that ramp's side in one colour; the rungs that stretch contrast
in tiles (clahe) or divide by the paper's level (zbar's flat-fielded view) keep the ramp. Here
the ink and paper levels are followed over about two modules (a grey erosion and dilation,
smoothed), and each pixel is rescaled to where it lies between them, so a washed module gets
the full contrast of the code again wherever the light is.

The window follows the picture's size (a code in a 720p frame at the door has 2-15 px modules):
1/80 and 1/48 of its short side, 9 and 15 px at 720p. Found on the frame families' misses
(benchmarks/hard_frames_bench.py, seven seeds, 59 glare and occlusion frames no rung read): the
two windows and the second engine on the first read 8 of them on the whole frame; in the ladder,
on the region it works on past a read, 3 (the code a band washes out is often not seen at all,
and the region was a background code's); so the ladder gives this rung the whole picture even
past a read (ladder._WHOLE_PICTURE). Like every rung it only filters pixels; a read still needs the
engine's error correction.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import cv2
import numpy as np

from station.capture.view import Hints, View

_SHARES = (80, 48)  # the windows: the picture's short side divided by these
# The gain's bound: a neighbourhood is stretched as if at least this many grey levels deep, so
# at most 32x. A washed code's modules 20-40 levels apart get the full range; a wall's noise
# stays as deep as it was times 32 / its depth (it does get louder: zxing-cpp took 16 ms on a
# stretched 720p frame against 4 on the frame itself, the stretch 28; CPU medians of 20 glare
# frames on the slow machine).
_LEAST_RANGE = 8.0

# A phone photo (up to 12 megapixels) is stretched and decoded shrunk by a whole factor to at
# most this: at full size the rung took station decode's median time a photo from 648 to 863 ms
# (benchmarks/photo_bench.py), and a photo's codes have modules of many px.
_MOST_PIXELS = 2_100_000

Morph = Callable[..., Any]  # cv2.erode or cv2.dilate


def stretch(gray: np.ndarray, window: int) -> np.ndarray:
    """`gray` with each pixel rescaled between the darkest and lightest grey within `window` px."""
    ink, paper = _level(gray, window, cv2.erode), _level(gray, window, cv2.dilate)
    spread = np.maximum(paper - ink, _LEAST_RANGE)
    out: np.ndarray = np.clip((gray.astype(np.float32) - ink) / spread * 255.0, 0, 255).astype(np.uint8)
    return out


def _level(gray: np.ndarray, window: int, extreme: Morph) -> np.ndarray:
    """The grey erosion (or dilation) of `gray` over `window` px, smoothed, as float32."""
    level = cv2.GaussianBlur(extreme(gray, np.ones((window, window), np.uint8)), (0, 0), window / 4)
    return np.asarray(level, np.float32)


def windows(short: int) -> tuple[int, int]:
    """The two windows, odd px, for a picture whose short side is `short` px (9 and 15 at 720p)."""
    narrow, wide = (max(5, int(short / share) | 1) for share in _SHARES)
    return narrow, wide


def rung(gray: np.ndarray, hints: Hints) -> Iterator[View]:
    """The ladder rung: the picture stretched at both windows, then zbar on the narrower one (of
    the eight misses these views read, zbar alone read two, at several times the cost: last).
    Lazy: a frame whose time is up stops between views."""
    shrink = math.ceil(math.sqrt(gray.shape[0] * gray.shape[1] / _MOST_PIXELS))
    if shrink > 1:
        gray = cv2.resize(gray, None, fx=1 / shrink, fy=1 / shrink, interpolation=cv2.INTER_AREA)
    first, second = windows(min(gray.shape[:2]))
    scale = 1 / shrink
    narrow = stretch(gray, first)
    yield View(narrow, scale)
    yield View(stretch(gray, second), scale)
    yield View(narrow, scale, engine="zbar")
