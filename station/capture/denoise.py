"""Reading a code in a dim room: the denoise rung.

A door at an evening event is dim, and a webcam there turns its gain up: each pixel of the code
carries a few dozen photons' worth of signal and the sensor's noise on top, so the module edges
the engine's binarizer looks for drown in speckle. The median rung (3x3) removes speckle of a
pixel or two; the half rung averages four pixels. Neither averages enough: a module of 4-8 px
holds 16-64 pixels, and averaging over most of them is what lifts the code out of the noise.

So the rung hands the engine the whole picture smoothed with a Gaussian of 1.5 and of 2.5 px
(a Gaussian, not a box: it keeps a module's centre where it is). On 21 low-light frames no rung
read (a set of frames drawn apart from the test suite's generators: 4-60 photo-electrons at full
white, read noise, colour casts), the rung read 5 in `station decode` (the smoothed frames through
the whole ladder, ad hoc, 6; docs/decode-benchmark.md, session 26).
The picture is smoothed only when it is noisy (NOISY): a clean frame smoothed is only blurred.

As with every rung the views are only filtered pixels; a read needs the engine's own error
correction (ladder.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

from station.capture.view import Hints, View

SIGMAS = (1.5, 2.5)  # px: of those 6, the frame smoothed at 1.5 read 5, at 2.5 5 (4 both)
# Grey levels of noise (noise_level) under which a picture is not smoothed.
NOISY = 6.0


def noise_level(gray: np.ndarray) -> float:
    """The sensor noise's standard deviation in grey levels: Immerkaer's estimate ("Fast noise
    variance estimation", 1996; a filter that cancels planes and ramps, so little of the picture
    itself passes it) with the median of its response instead of the mean, which the few pixels
    on edges barely move. Every other row and column is enough."""
    small = gray[::2, ::2].astype(np.float32)
    response = cv2.filter2D(small, -1, _IMMERKAER)[1:-1, 1:-1]
    # The filter's response to noise of sigma 1 has sigma 6; the median of |N(0, 1)| is 0.6745.
    return float(np.median(np.abs(response))) / (6.0 * 0.6745)


_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


def rung(gray: np.ndarray, hints: Hints) -> Iterator[View]:
    """The whole picture smoothed at each of SIGMAS, if it is noisy."""
    if noise_level(gray) < NOISY:
        return
    for sigma in SIGMAS:
        yield View(cv2.GaussianBlur(gray, (0, 0), sigma))
