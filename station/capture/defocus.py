"""Undoing a lens out of focus: a phone's photo of a pass taken too close, or focused on the
background, blurs every edge alike, by a blur as wide as a module or more. The other rungs
sharpen (a fixed unsharp mask) or undo a smear along one path (deblur, path); neither undoes a
blur of several pixels both ways, and the path rung works on a region cut down to 400 x 400 px,
where a photo's code keeps under a pixel a module.

The blur is estimated from the picture itself (Zhuo and Sim, "Defocus map estimation from a
single image", 2011): blurring a step edge blurred by sigma once more by a known s0 lowers its
gradient by the ratio R = sqrt(sigma^2 + s0^2) / sigma, so sigma = s0 / sqrt(R^2 - 1) at each
edge; the median over the picture's edges is the estimate. The picture is then scaled down until
that blur is _TARGET px (a module of a code blurred by less than its width keeps 3 px or more),
and Wiener deconvolution with a Gaussian of 1.15, 1.0 and 1.5 times the estimate gives a view
each: on a code the estimate runs 10-35 % under the true blur (its edges lie a module apart, not
alone as the method assumes), and over it with a shaken hand. On the photo benchmark's misses
(benchmarks/photo_bench.py, seed 5150), Wiener told the true blur read 8 of 55 codes this way;
the three estimates read 9, and 10 of 79 on seed 77 (docs/decode-benchmark.md).

As with every rung, the views are only filtered pixels: a read still needs the engine's error
correction (ladder.py says why that guards false reads).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import cache

import cv2
import numpy as np

from station.capture import climb_memo, disc_radius
from station.capture.region import cut, deconvolve
from station.capture.region_rungs import regions
from station.capture.view import Hints, View

_ESTIMATE_PIXELS = 1.0e6  # the blur is estimated on a copy this size: a photo's 12 MP cost 10x more
_REBLUR = 1.0  # s0, px of the estimating copy
_SMOOTH = 0.7  # px of the estimating copy: the smoothing against noise
_LEAST = 1.5  # px of the frame: a sharper picture is the other rungs' (a webcam's lens softness is ~1)
_TARGET = 3.0  # px the blur is scaled down to before it is undone
_PIXELS = 8.0e6  # the deconvolved picture's size at most: capped at 2.5 MP, 2 codes fewer of 8 read
_FACTORS = (1.15, 1.0, 1.5)  # of the estimate, the likeliest first (see the module docstring)
_NOISE = 0.002  # Wiener's noise term: with 0.01 (the smear rungs') the true blur read 6 codes, not 8
_REACH = 8.0  # the filter's radius in blurs: 99 % of its weight (a shorter one rings where it is cut)
# The disc rung: a lens's blur is a disc (the aperture's image), whose spectrum crosses zero and
# turns negative where a Gaussian's only fades, so past a radius of about a module the Gaussian
# views above restore the code's finest pattern with its sign wrong. Its radius, in Gaussian
# estimates (blur_sigma): on 19 frames of disc blur no rung read (benchmarks/apart_bench.py,
# defocus, seeds 1 and 2) the true radius was 2.0-3.9 estimates; views at these four read 5 of
# them, the true radius 6 (docs/decode-benchmark.md, session 26). The likeliest first.
_DISC_FACTORS = (3.0, 3.4, 2.6, 3.8)
_DISC_TARGET = 6.0  # px the disc is scaled down to: as many reads as at full size, a fifth the time
_DISC_NOISE = 0.002  # Wiener's, as the Gaussian views'; 0.0005 read one frame more of 19 and lost two
# The disc the spectrum's rings measure (disc_radius.py), as (factor, Wiener's noise): the estimate
# runs about 1 % over the true radius, and a radius known this closely is undone with less noise
# left in. With the webcam's own lens softness (_LENS px, a Gaussian) in the kernel. On 22 defocus
# frames of apart seeds 21 and 22 that the ladder missed, these views read 10; side by side, apart
# defocus seeds 21-25 107 -> 126 of 150 (docs/decode-benchmark.md, session 33).
_RING_VIEWS = ((0.99, 0.0005), (0.99, 0.002), (0.97, 0.0005))
_LENS = 0.6
RINGS = "rings"  # the climb_memo notes' kind: (region, radius) of each disc the rings measured (disc_grid.py)


def blur_sigma(gray: np.ndarray) -> float | None:
    """The Gaussian blur (px) over `gray`'s edges, or None when it has too few edges to say."""
    scale = min(1.0, math.sqrt(_ESTIMATE_PIXELS / gray.size))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    # A little smoothing first: sensor noise and JPEG blocks would read as the sharpest edges.
    soft = cv2.GaussianBlur(small.astype(np.float32), (0, 0), _SMOOTH)
    again = cv2.GaussianBlur(soft, (0, 0), _REBLUR)
    edges = cv2.Canny(small, 40, 100) > 0
    ratio = _gradient(soft)[edges] / np.maximum(_gradient(again)[edges], 1e-3)
    ratio = ratio[ratio > 1.01]
    if ratio.size < 50:
        return None
    # The smoothing is left in the estimate (taking it off in quadrature read 4-6 codes fewer in
    # benchmarks/photo_bench.py: the estimate runs under the truth on codes, see above).
    return float(np.median(_REBLUR / np.sqrt(ratio**2 - 1))) / scale


def _gradient(image: np.ndarray) -> np.ndarray:
    return cv2.magnitude(cv2.Sobel(image, cv2.CV_32F, 1, 0), cv2.Sobel(image, cv2.CV_32F, 0, 1))


def undo(gray: np.ndarray, hints: Hints) -> Iterator[View]:
    """The ladder rung, on the whole picture (a photo's codes can be anywhere, and a sheet has
    several). Lazy: the ladder stops at the first view that reads."""
    sigma = climb_memo.once(blur_sigma, gray)  # the disc rung right after asks too
    if sigma is None or sigma < _LEAST:
        return
    for factor in _FACTORS:
        blur = sigma * factor
        scale = min(1.0, _TARGET / blur, math.sqrt(_PIXELS / gray.size))
        small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
        sharp = cv2.filter2D(small.astype(np.float32), -1, wiener_filter(round(blur * scale, 2)),
                             borderType=cv2.BORDER_REPLICATE)
        yield View(np.clip(sharp, 0, 255).astype(np.uint8), scale)


@cache
def wiener_filter(sigma: float) -> np.ndarray:
    """Wiener deconvolution of a Gaussian blur of `sigma` px as a filter in the picture itself.
    The blur has no direction, so neither has the filter: applied by cv2.filter2D it costs a
    fifth of the same deconvolution through numpy's FFTs of the whole picture (27 against 147 ms
    on 2.5 MP here), and the usual blur is the same _TARGET, so the filter is computed once."""
    radius = int(math.ceil(_REACH * sigma))
    n = 1 << (4 * radius + 3).bit_length()  # room for the filter's tails on both sides
    f = np.fft.fftfreq(n)
    otf = np.exp(-2 * (math.pi * sigma) ** 2 * (f[:, None] ** 2 + f[None, :] ** 2))
    whole = np.fft.fftshift(np.real(np.fft.ifft2(otf / (otf**2 + _NOISE))))
    c = n // 2
    return whole[c - radius:c + radius + 1, c - radius:c + radius + 1].astype(np.float32)


def disc(gray: np.ndarray, hints: Hints) -> Iterator[View]:
    """The disc rung: the regions where the code probably is (region_rungs.regions), each
    deconvolved by the disc its spectrum's rings measure (disc_radius.py), then by a disc of each
    of _DISC_FACTORS times the picture's estimated blur. The region, not the picture: a disc's
    deconvolution is an FFT the size of what it undoes (5-8 ms a view on a code's region here,
    30-45 on a 720p frame), and reads as many."""
    sigma = climb_memo.once(blur_sigma, gray)  # the defocus rung's, when the picture is the same
    if sigma is None or sigma < _LEAST:
        return
    for region in regions(gray, hints):
        x0, y0, x1, y1 = region
        rings = disc_radius.estimate(cut(gray, (int(x0), int(y0), int(x1), int(y1))))
        if rings is not None:
            climb_memo.note(RINGS, gray, (region, rings))
            for factor, noise in _RING_VIEWS:
                yield _disc_view(gray, region, rings * factor, noise, _LENS)
        for factor in _DISC_FACTORS:
            yield _disc_view(gray, region, sigma * factor, _DISC_NOISE, 0.0)


def _disc_view(gray: np.ndarray, region: tuple[float, float, float, float], radius: float, noise: float,
               lens: float) -> View:
    """The region (and as far around as the disc spreads it) deconvolved by a disc of `radius`
    and a Gaussian of `lens` px, scaled down so the disc is _DISC_TARGET px."""
    return disc_view(gray, region, radius, noise, lens, _DISC_TARGET / radius)


def disc_view(gray: np.ndarray, region: tuple[float, float, float, float], radius: float, noise: float,
              lens: float, scale: float) -> View:
    """The region (and as far around as the disc spreads it) deconvolved by a disc of `radius`
    and a Gaussian of `lens` px, scaled by `scale` first (at most 1)."""
    x0, y0, x1, y1 = region
    h, w = gray.shape[:2]
    margin = int(4 * radius)  # the blur spreads the code's edge this far out
    a, b = max(0, int(x0) - margin), max(0, int(y0) - margin)
    crop = cut(gray, (a, b, min(w, int(x1) + margin), min(h, int(y1) + margin)))
    scale = min(1.0, scale)
    small = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else crop
    return View(deconvolve(small, disc_kernel(radius * scale), noise, lens * scale), scale, a, b)


def disc_kernel(radius: float) -> np.ndarray:
    """A disc of `radius` px, its rim anti-aliased over a pixel, summing to 1."""
    r = int(math.ceil(radius)) + 1
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    k: np.ndarray = np.clip(radius + 0.5 - np.hypot(xx, yy), 0.0, 1.0).astype(np.float32)
    return k / np.float32(k.sum())
