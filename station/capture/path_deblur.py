"""Undoing a smear along any path: a hand that turns while it moves draws an arc, a shaking one a
wobble, and the deblur rung's straight smear (region.smear) fits neither.

A QR code is the one picture whose sharp version we know the look of: two grey levels. So the
path is estimated by alternating (Cho and Lee's scheme, "Fast motion deblurring", 2009, with the
QR's two levels as the prediction step):
1. undo the current kernel estimate (Wiener deconvolution, region.deconvolve);
2. predict the sharp code: that result thresholded to ink and paper;
3. the kernel that best maps the predicted code onto the frame, by least squares on both
   gradients (one division in the Fourier domain), cut to a window, kept non-negative and to its
   largest connected piece (a hand's path is one stroke).
It starts from the straight smear, and each round's deconvolution is a view for the engine (then
the same kernel at a lower noise term, LOW_NOISE): the rung ends at the first read. After the
first two rounds, the rounds run on the region at half size, where a path is half as long, and the
full-size rounds go on from where those end (_from_half_size). A path of
20 px or more then gets its rounds again on the region widened by it (the quiet zone of a code
of big modules smeared far lies outside its busiest region). With the true path known, Wiener
deconvolution read 33 of the 73 smeared frames the other rungs miss (benchmarks/
hard_frames_bench.py, motion, seeds 4013, 9001, 31337); the estimate reads 27
(docs/decode-benchmark.md).

As with every rung, the views are only filtered pixels: a read still needs the engine's error
correction (ladder.py), so a wrong kernel reads nothing rather than the wrong thing.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Generator, Iterator

import cv2
import numpy as np

from station.capture.region import Box, cut, deconvolve, line_kernel, smear
from station.capture.region_rungs import WIDEN_FROM, fitted, scaled_crops, widened
from station.capture.view import Hints, View

ROUNDS = 8  # reads came after 1-4 rounds, one after 8 (seed 4013's motion frames)
_RADIUS = 30  # px: the longest path found is 2 x 30 (a smear of 40 px on a 720p frame fits)
_PIXELS = 400 * 400  # FFT work grows with the area; a larger region is scaled down to this
NOISE = 0.01  # Wiener's noise term (the deblur rung's)
# A second view a round, at a lower noise term: on the motion frames of seeds 6262 and 8383 that no
# rung read (26), each round's kernel at 0.003 read two arcs (14 and 24 px) that 0.01 did not,
# from the third and sixth rounds on; 0.001 and 0.0003 read no other.
LOW_NOISE = 0.003
DEFOCUS = 0.8
_FLOOR = 0.05  # kernel weights below this share of its peak are noise of the least squares
_RIDGE = 0.01  # the least squares' regularisation, relative to the gradient energy
# A kernel this compact (its weights' RMS distance from their centre, px) is no smear: the region
# is sharp, or not a code (a poster, clutter), and undoing it gives the crop back. On sharp
# regions the estimate falls to 0.7-1.6 px in a round or two; paths that read were 2.3 px and up.
_LEAST_SPREAD = 1.5
_SETTLED = 0.05  # a round that moves less of the kernel's weight than this would repeat a view
# Each round's kernel is fitted to a code predicted from a picture the last kernel under-undid, so
# it moves only part of the way to the true path: on three shaken smears drawn apart (tests/capture/
# apart_frames.py), told the true path, the estimate's match to it rose from 0.46-0.57 to only
# 0.59-0.65 in eight rounds; two read from the 10th and 15th round. Each round now goes 1.5x the
# step it fitted: those two read from the 8th and 11th round (the first now within ROUNDS); the
# rounds alone read 98 -> 101 of the frame families' 159 curved and shaken smears of seeds
# 201-206 (5 read, 2 lost), and test_path_deblur.py's tremors (a path drawn for the test) 8 -> 10
# of 16, none later.
OVERSHOOT = 1.5
# Rounds from the straight smear before those at half size: a straight smear's rounds read early
# (on apart motion seeds 21-30, one read at the 2nd round that the rounds from the half-size
# kernel, one round after the first, missed; two rounds first lost none of their gains).
_BEFORE_HALF_SIZE = 2
_HALF_LEAST = 48  # px a side: a half-size crop smaller is too small to estimate a path on (_from_half_size)


def path_kernel(latent: np.ndarray, blurred: np.ndarray, radius: int = _RADIUS) -> np.ndarray | None:
    """The blur kernel (2r+1 square, summing to 1) that best maps `latent` onto `blurred`, or
    None when nothing of it is left above the floor. Fitted on the gradients (both ways at
    once: in the Fourier domain, weighting by |S|^2 of the Sobel filters is fitting
    the x and y derivatives together); on the grey levels themselves, the light level's slow
    changes would dominate the fit."""
    h, w = blurred.shape
    window = np.outer(np.hanning(h), np.hanning(w))
    # The window takes both images to zero at the border, so zero padding to a size with small
    # prime factors changes nothing but the time (a 307 px side is prime: 3x slower).
    size = (cv2.getOptimalDFTSize(h + radius), cv2.getOptimalDFTSize(w + radius))
    lat = np.fft.rfft2((latent - latent.mean()) * window, s=size)
    blur = np.fft.rfft2((blurred - blurred.mean()) * window, s=size)
    fy, fx = np.fft.fftfreq(size[0])[:, None], np.fft.rfftfreq(size[1])[None, :]
    # |Sobel|^2 both ways: a difference across, a [1 2 1] smoothing along (noise stays out).
    weight = (np.sin(2 * np.pi * fx) * (1 + np.cos(2 * np.pi * fy))) ** 2 + (
        np.sin(2 * np.pi * fy) * (1 + np.cos(2 * np.pi * fx))) ** 2
    den = weight * np.abs(lat) ** 2
    full = np.fft.irfft2(weight * np.conj(lat) * blur / (den + _RIDGE * float(den.mean())), s=size)
    k = np.roll(full, (radius, radius), axis=(0, 1))[:2 * radius + 1, :2 * radius + 1]
    k = np.maximum(k, 0.0)
    peak = float(k.max())
    if peak <= 0.0:
        return None
    k[k < _FLOOR * peak] = 0.0
    n, labels = cv2.connectedComponents((k > 0).astype(np.uint8), connectivity=8)
    if n > 2:
        mass = np.bincount(labels.ravel(), weights=k.ravel(), minlength=n)
        mass[0] = 0.0
        k[labels != int(np.argmax(mass))] = 0.0
    out: np.ndarray = (k / k.sum()).astype(np.float32)
    return out


def two_level(image: np.ndarray) -> np.ndarray:
    """The sharp code predicted from a deconvolved one: ink and paper, split by Otsu."""
    return cv2.threshold(image, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]


def first_kernel(crop: np.ndarray) -> np.ndarray | None:
    """Where the rounds start: the straight smear read off the crop, else, if the crop is
    blurred at all, the path estimated from it as it is; None for a sharp region."""
    found = smear(crop)
    if found is not None:
        return line_kernel(*found)
    # Not smeared one way (an arc, a wobble, a lens out of focus blur both ways alike): smeared
    # at all? The path from the crop thresholded as it is (a few ms) is near a point on most
    # sharp regions, where a round (a deconvolution and two decoder calls) would give the crop back.
    first = path_kernel(two_level(crop), crop)
    if first is None or spread(first) < _LEAST_SPREAD:
        return None
    return first


def refine(sharp: np.ndarray, crop: np.ndarray) -> np.ndarray | None:
    """The kernel estimated from a round's deconvolution `sharp` of `crop`; None when it has
    collapsed to a point (nothing left to undo)."""
    refined = path_kernel(two_level(sharp), crop)
    if refined is None or spread(refined) < _LEAST_SPREAD:
        return None
    return refined


def rounds(crop: np.ndarray, kernel: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Each round's deconvolution of `crop` and the kernel it undid, from `kernel` (first_kernel)
    on, refined between rounds."""
    for _ in range(ROUNDS):
        sharp = deconvolve(crop, kernel, NOISE, DEFOCUS)
        yield sharp, kernel
        refined = refine(sharp, crop)
        if refined is None:
            return
        refined = overshot(kernel, refined)
        if refined.shape == kernel.shape and float(np.abs(refined - kernel).sum()) < _SETTLED:
            return
        kernel = refined


def overshot(kernel: np.ndarray, refined: np.ndarray) -> np.ndarray:
    """`refined` taken OVERSHOOT times as far from `kernel` as the fit moved it, kept a kernel
    (non-negative, its noise floor cut, summing to 1). The first round's kernel, a straight
    smear in its own window, is replaced as it is."""
    if refined.shape != kernel.shape:
        return refined
    k = np.maximum(kernel + OVERSHOOT * (refined - kernel), 0.0)  # sums to >= 1: never empty
    k /= k.sum()
    k[k < _FLOOR * k.max()] = 0.0
    out: np.ndarray = (k / k.sum()).astype(np.float32)
    return out


def spread(kernel: np.ndarray) -> float:
    """How far a kernel's weight lies from its centre (RMS, px)."""
    ys, xs = np.nonzero(kernel)
    w = kernel[ys, xs] / kernel.sum()
    cy, cx = float((w * ys).sum()), float((w * xs).sum())
    return float(np.sqrt((w * ((ys - cy) ** 2 + (xs - cx) ** 2)).sum()))


def unsmear(gray: np.ndarray, hints: Hints) -> Iterator[View | None]:
    """The ladder rung. Lazy: the ladder stops at the first view that reads. Each region's
    rounds, then, for a path of WIDEN_FROM px or more, the rounds of the region widened by it."""
    for box, crop, scale in scaled_crops(gray, hints, 48, _PIXELS):
        first = first_kernel(crop)
        if first is None:
            continue
        yield from _views(crop, first, box, scale)
        wide = _widened(gray, box, scale, first)
        if wide is not None:
            wide_box, wide_crop, wide_scale = wide
            again = first_kernel(wide_crop)
            if again is not None:
                yield from _views(wide_crop, again, wide_box, wide_scale)


def _views(crop: np.ndarray, first: np.ndarray, box: Box, scale: float) -> Iterator[View | None]:
    """The first _BEFORE_HALF_SIZE rounds' views from `first`, then the rounds' from the kernel the
    rounds at half size reach (_from_half_size; None between those, so that the ladder's deadline
    is checked), or, where the crop is too small for them, the rest of `first`'s rounds."""
    from_first = rounds(crop, first)
    for sharp, kernel in itertools.islice(from_first, _BEFORE_HALF_SIZE):
        yield from _round_views(crop, sharp, kernel, box, scale)
    begun = yield from _from_half_size(crop)
    for sharp, kernel in (from_first if begun is None else rounds(crop, begun)):
        yield from _round_views(crop, sharp, kernel, box, scale)


def _round_views(crop: np.ndarray, sharp: np.ndarray, kernel: np.ndarray, box: Box, scale: float) -> Iterator[View]:
    yield View(sharp, scale, box[0], box[1])
    # Deconvolution rings around each edge; the 3x3 median removes most of it.
    yield View(cv2.medianBlur(sharp, 3), scale, box[0], box[1])
    low = deconvolve(crop, kernel, LOW_NOISE, DEFOCUS)  # made only once the two above fail
    yield View(low, scale, box[0], box[1])
    yield View(cv2.medianBlur(low, 3), scale, box[0], box[1])


def _from_half_size(crop: np.ndarray) -> Generator[None, None, np.ndarray | None]:
    """The kernel the rounds reach on `crop` at half size, at full size (None between rounds);
    None for a crop under twice _HALF_LEAST px a side or one sharp at half size.

    Coarse to fine, as blind deconvolution is usually done (Fergus et al. 2006; Cho and Lee 2009):
    at half size the path is half as long (it lies on half as many of the fit's weights, whose
    window stays 2 x _RADIUS + 1), the fit takes a quarter of the pixels, and the thresholded
    prediction of a code of 2-3 px modules is still right, so the rounds close in on a shaken
    path that the full-size rounds from the straight smear approach only slowly (their match to
    the true path was 0.6-0.7 after eight rounds on three shaken smears that Wiener reads when
    told the path). On the motion frames of apart seeds
    21-30 (benchmarks/apart_bench.py) the rung with them read 11 shaken smears it did not without
    them (the rung alone, no time limit), most in the first round from their kernel
    (docs/decode-benchmark.md).
    The half-size rounds' own views read none of those that the full-size rounds after them did
    not, and cost engine calls: they are not handed to the engine."""
    if min(crop.shape) < 2 * _HALF_LEAST:
        return None
    small = cv2.resize(crop, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    begun = first_kernel(small)
    if begun is None:
        return None
    last = begun
    for _, kernel in rounds(small, begun):
        last = kernel
        yield None
    doubled = np.maximum(cv2.resize(last, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR), 0.0)
    out: np.ndarray = (doubled / doubled.sum()).astype(np.float32)
    return out


def _widened(gray: np.ndarray, box: Box, scale: float, kernel: np.ndarray) -> tuple[Box, np.ndarray, float] | None:
    """The region widened by the path's extent and a fifth of its size each way
    (region_rungs.widened), its crop scaled down to at most _PIXELS; None for a path under
    WIDEN_FROM px (the region's margin holds it) or a region that cannot grow.

    A long smear spreads a code half its length past each edge, and the busiest region of a
    smeared code of big modules is narrower than the code; the engine needs the quiet zone,
    which the deconvolution rings at a crop's edge. On the motion frames of ten seeds
    (benchmarks/hard_frames_bench.py) the widened region alone read 4 frames the region did not
    and lost 3 it read; the region's rounds and then the widened region's read 5 more than the
    region's alone and lost none (docs/decode-benchmark.md, session 25)."""
    ys, xs = np.nonzero(kernel)
    extent = float(np.ptp(xs)) / scale, float(np.ptp(ys)) / scale
    if math.hypot(*extent) < WIDEN_FROM:
        return None
    wide = widened(gray.shape, box, *extent)
    if wide == box:
        return None
    return wide, *fitted(cut(gray, wide), _PIXELS)
