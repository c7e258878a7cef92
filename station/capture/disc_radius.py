"""A lens's blur, measured from the rings it leaves in the picture's spectrum.

Out of focus, every point of the code is spread over a disc (the aperture's image). A disc's
spectrum is the jinc 2·J1(2πfr)/(2πfr): it falls to zero on rings at f = 0.61/r, 1.12/r,
1.62/r cycles a pixel and turns negative between them. A code's own spectrum is broad (its modules
are random), so the zeros show as dips in the power of the blurred region averaged around each
ring, and where they lie gives r to about one per cent. The edge-based estimate the defocus rung
starts from (defocus.blur_sigma, a Gaussian's width) is a fit of the wrong shape: on a code its
ratio to the true disc runs 2.0-3.6, and a disc deconvolution undone 10 % off the true radius
read none of the frames the true radius read (docs/decode-benchmark.md, session 33).

The fit: the region's log power, averaged over rings and with its slow trend taken off, against
the jinc's for each candidate radius; the best correlation wins, unless it is too weak or its dips
too shallow to be rings (_LEAST_FIT, _LEAST_DEPTH): a sharp or smeared code has no rings, and small
discs put their first ring where JPEG and noise fill the spectrum.
"""

from __future__ import annotations

import math
from functools import cache

import cv2
import numpy as np

_SIDE = 512  # px: a larger region is scaled down first (its rings scale with it); FFT ~10 ms
_BAND = (0.02, 0.35)  # cycles a px: under it the code's layout, over it noise and JPEG blocks
_RADII = np.exp(np.arange(math.log(1.5), math.log(20.0), 0.01))  # candidates, 1 % apart
# What a disc's rings look like and white noise's do not. Of ~260 candidate radii the best fits a
# noisy flat spectrum by chance at a correlation of 0.26-0.46 (ad hoc, 8 patches of white noise),
# but its dips are shallow: a tenth of the jinc's depth or less (the slope of the one on the
# other, 0.05-0.13). On the 60 defocus frames of apart seeds 21 and 22, the 43 radii within 4 %
# of the truth fitted at 0.40-0.81 with a slope of 0.24-0.79.
_LEAST_FIT = 0.38  # correlation
_LEAST_DEPTH = 0.2  # slope of the region's dips on the jinc's
_FLOOR = 1e-4  # the jinc's power near its zeros: a dip, not minus infinity
_TREND_BINS = 40  # the slow trend: a running mean over a 40th of the band's rings


def estimate(crop: np.ndarray) -> float | None:
    """The radius (px of `crop`) of the disc `crop` is blurred by, or None when its spectrum
    shows no disc's rings."""
    h, w = crop.shape[:2]
    if min(h, w) < 48:
        return None
    scale = min(1.0, _SIDE / max(h, w))
    small = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else crop
    freq, power = _ring_power(small)
    keep = (freq > _BAND[0]) & (freq < _BAND[1])
    if keep.sum() < 20:
        return None
    freq, observed = freq[keep], _detrended(power[keep][None, :])[0]
    x = 2 * math.pi * _RADII[:, None] * freq[None, :]
    table_x, table_y = _jinc_log_power()
    model = _detrended(np.interp(x, table_x, table_y))
    fit = _correlation(model, observed)
    best = int(np.argmax(fit))
    jinc = model[best] - model[best].mean()
    depth = float(jinc @ (observed - observed.mean())) / max(float(jinc @ jinc), 1e-12)
    if not (fit[best] >= _LEAST_FIT and depth >= _LEAST_DEPTH):
        return None
    return float(_RADII[best] / scale)


def _ring_power(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The log of the windowed picture's power, averaged over rings one frequency bin wide."""
    img = gray.astype(np.float32)
    img -= float(img.mean())
    h, w = img.shape
    img *= np.outer(np.hanning(h), np.hanning(w)).astype(np.float32)  # the crop's edges make no lines
    n = max(cv2.getOptimalDFTSize(h), cv2.getOptimalDFTSize(w))
    power = np.abs(np.fft.rfft2(img, s=(n, n))) ** 2
    rings = np.hypot(np.fft.fftfreq(n)[:, None], np.fft.rfftfreq(n)[None, :])
    index = np.minimum((rings * n).astype(np.int64), n // 2).ravel()
    total = np.bincount(index, power.ravel(), n // 2 + 1)
    count = np.maximum(np.bincount(index, None, n // 2 + 1), 1)
    freq = np.arange(n // 2 + 1) / n
    return freq[1:-1], np.log(total[1:-1] / count[1:-1] + 1e-9)


def _detrended(rows: np.ndarray) -> np.ndarray:
    """Each row less its running mean (what is left: the dips, not the slope)."""
    k = max(3, rows.shape[1] // _TREND_BINS)
    padded = np.pad(rows, ((0, 0), (k, k)), mode="edge")
    sums = np.cumsum(np.pad(padded, ((0, 0), (1, 0))), axis=1)
    mean = (sums[:, 2 * k + 1:] - sums[:, :-(2 * k + 1)]) / (2 * k + 1)
    return np.asarray(rows - mean[:, :rows.shape[1]])


def _correlation(rows: np.ndarray, target: np.ndarray) -> np.ndarray:
    a = rows - rows.mean(axis=1, keepdims=True)
    b = target - target.mean()
    norm = np.sqrt((a * a).sum(axis=1) * float((b * b).sum()))
    return np.asarray((a @ b) / np.maximum(norm, 1e-12))


@cache
def _jinc_log_power() -> tuple[np.ndarray, np.ndarray]:
    """log(jinc(x)^2 + floor) on a table of x (numerical Bessel J1: no scipy here)."""
    x = np.linspace(1e-6, 2 * math.pi * _BAND[1] * float(_RADII[-1]) + 1.0, 8000)
    tau = np.linspace(0.0, math.pi, 257)
    # J1(x) = (1/pi) * integral over [0, pi] of cos(tau - x sin tau)
    j1 = np.trapezoid(np.cos(tau[None, :] - x[:, None] * np.sin(tau)[None, :]), tau, axis=1) / math.pi
    return x, np.log((2 * j1 / x) ** 2 + _FLOOR)
