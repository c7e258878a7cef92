"""Reading a code off a phone screen through its moire: the moire rung.

A webcam looking at a phone screen samples the screen's pixel grid with its own: the two beat
into a moire, stripes or a checker of a few pixels' period laid over the code, which darkens
paper modules and lightens nothing, so the engine's binarizer sees edges everywhere. The
stripes repeat, a code does not: in the picture's spectrum the moire is a few sharp peaks
standing far above their neighbourhood, the code a broad hump. The rung finds such peaks and
removes them (a notch filter), then hands the engine the picture without them, as it is and
through the median, threshold and sharpen rungs' filters (the cheap rungs that read the
filtered pictures, ad hoc; ladder._moire).

The moire multiplies the screen's light, so the filtering is done on the logarithm of the grey,
where it adds. Peaks are looked for on the picture with its border tapered (a picture's edges
make a cross of energy along the spectrum's axes), and removed from the picture's own spectrum.
A sharp code's own module lattice makes peaks too (10 of 12 printed codes of 4-10 px modules drawn
by the test; 1-9 of 60 frames of each kind but screens among the frames drawn apart): such a
picture is filtered for nothing, which costs time, not the code (a test checks that the filtered
code still reads), and only on a frame the cheaper rungs have not read.

Measured (docs/decode-benchmark.md, session 29): on the screen frames drawn apart
(tests/capture/apart_frames.py, seeds 4-7, 120) station decode read 106 without the rung and 111
with it, and nothing in their 120 frames without a code. The look for peaks costs ~12 ms a 720p
picture on the development machine (benchmarks/rung_costs.py: 32 ms before the grey's logarithm
was looked up and the band and taper kept a size; 50 -> 26 ms a frame on the build machine).

What it does not read: a screen tilted so that its moire drifts across it (the period and the
direction change over the code) spreads the peak over many frequencies, none standing out. A
spectrum tile by tile (128 px) would follow the drift and read more of the screen frames missed
(7 of 8 against 4, ad hoc), but in tiles of 128 px a code's module lattice makes peaks as strong
as a moire's in frames of every kind, so nothing then said which pictures to filter, and the
tiles on the code's region alone cost 22 ms a frame (p95 61, up to 426) on every frame.

As with every rung the views are only filtered pixels; a read needs the engine's own error
correction (ladder.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

import cv2
import numpy as np

from station.capture.view import Hints, View

# A frequency whose magnitude is this many times its neighbourhood's median is a peak. Where the
# rung read the screen frames drawn apart (seeds 4 and 5), the strongest stood 8-36 times over
# it; at 8, 19 of their 60 screen frames showed peaks, and 1-9 of 60 of each other kind.
PEAK = 8.0
_LONGEST = 32.0  # px: the longest period looked at (nearer the zero frequency lies the code's hump)
_TAPER = 32  # px of the border tapered to zero before the peaks are looked for
_NOTCH = 5  # px (in the spectrum) a peak is widened by: the moire's period wanders a little
_MOST_PIXELS = 2_100_000  # bigger pictures are filtered shrunk by a whole factor (envelope.py's bound)
# log1p of each grey level, looked up: computed over a 720p picture it was a quarter of the look
# for peaks (10 of ~40 ms here), and the same values come out of the table.
_LOG1P = np.log1p(np.arange(256, dtype=np.float32))


def peaks(gray: np.ndarray) -> np.ndarray | None:
    """Where the spectrum of log(`gray`) has periodic peaks (a boolean mask, the zero frequency
    at [0, 0] as cv2.dft lays it out), or None when it has none."""
    logged = _logged(gray)
    tapered = (logged - float(logged.mean())) * _taper(*gray.shape[:2])
    spectrum = cv2.dft(tapered, flags=cv2.DFT_COMPLEX_OUTPUT)
    magnitude = np.log(cv2.magnitude(spectrum[..., 0], spectrum[..., 1]) + 1e-3)
    shifted = np.fft.fftshift(magnitude)
    neighbourhood = np.fft.ifftshift(cv2.GaussianBlur(cv2.medianBlur(shifted, 5), (0, 0), 3.0))
    found = _band(*gray.shape[:2]) & (magnitude - neighbourhood > np.log(PEAK))
    return found if found.any() else None


def flattened(gray: np.ndarray) -> np.ndarray | None:
    """`gray` with its periodic peaks removed, or None when it has none (nothing to remove)."""
    found = peaks(gray)
    if found is None:
        return None
    logged = _logged(gray)
    mean = float(logged.mean())
    spectrum = cv2.dft(logged - mean, flags=cv2.DFT_COMPLEX_OUTPUT)
    # widened where the spectrum is laid out with its zero frequency in the middle, so that a
    # low frequency's peak is widened across the layout's wrap too
    notch = cv2.dilate(np.fft.fftshift(found).astype(np.uint8), np.ones((_NOTCH, _NOTCH), np.uint8))
    spectrum[np.fft.ifftshift(notch).astype(bool)] = 0.0
    back = cv2.idft(spectrum, flags=cv2.DFT_SCALE | cv2.DFT_REAL_OUTPUT) + mean
    out: np.ndarray = np.clip(np.expm1(back), 0, 255).astype(np.uint8)
    return out


def rung(gray: np.ndarray, hints: Hints) -> Iterator[View]:
    """The picture without its moire; nothing when the picture shows no moire. The ladder adds
    the cheap rungs' filters of it (ladder._moire)."""
    scale = 1.0
    if gray.size > _MOST_PIXELS:
        factor = int(np.ceil((gray.size / _MOST_PIXELS) ** 0.5))
        gray = cv2.resize(gray, None, fx=1.0 / factor, fy=1.0 / factor, interpolation=cv2.INTER_AREA)
        scale = 1.0 / factor
    flat = flattened(gray)
    if flat is not None:
        yield View(flat, scale)


def _logged(gray: np.ndarray) -> np.ndarray:
    """log(1 + `gray`) as float32."""
    if gray.dtype == np.uint8:
        out: np.ndarray = _LOG1P[gray]
        return out
    return np.log1p(gray.astype(np.float32))


# A camera's pictures come in a few sizes: the band and the taper are made once a size (the band
# ~9 ms at 720p here), read-only.
@lru_cache(maxsize=8)
def _band(h: int, w: int) -> np.ndarray:
    """The frequencies looked at for peaks (periods of _LONGEST px and less), laid out as cv2.dft
    lays out an h x w spectrum."""
    radius = np.hypot(np.fft.fftfreq(h)[:, None], np.fft.fftfreq(w)[None, :])
    band: np.ndarray = radius > 1.0 / _LONGEST
    band.flags.writeable = False
    return band


@lru_cache(maxsize=8)
def _taper(h: int, w: int) -> np.ndarray:
    """1 inside, falling to 0 over _TAPER px at each edge (a cosine)."""

    def ramp(n: int) -> np.ndarray:
        edge = min(_TAPER, n // 4)
        r = np.ones(n, np.float32)
        if edge > 0:
            t = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, edge, dtype=np.float32))
            r[:edge], r[n - edge:] = t, t[::-1]
        return r

    taper: np.ndarray = np.outer(ramp(h), ramp(w))
    taper.flags.writeable = False
    return taper
