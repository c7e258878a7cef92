"""Where a code is in a frame, and undoing a straight smear over it: shared by the single-frame
ladder's region rungs (region_rungs.py) and the sequence reader (sequence.py)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in frame pixels

_LOCATE_SCALE = 4  # the busiest-region search runs on a quarter-size frame
# Down to this share of the peak edge energy, faint_reach grows the busiest region: at 0.4 an apart
# motion frame's region (a version-1 code of 15.7 px modules smeared 33 px) covered the code, at
# the usual 0.5 its left half, at 0.3 another frame's ran to the frame's edge; 0.35 between
# (tests/capture/apart_frames.py, docs/decode-benchmark.md).
_FAINT = 0.35


def box_of(corners: tuple[tuple[float, float], ...], shape: tuple[int, ...], margin: float = 0.3) -> Box:
    xs, ys = [p[0] for p in corners], [p[1] for p in corners]
    mx, my = (max(xs) - min(xs)) * margin + 12, (max(ys) - min(ys)) * margin + 12
    h, w = shape[:2]
    return (int(max(0, min(xs) - mx)), int(max(0, min(ys) - my)),
            int(min(w, max(xs) + mx)), int(min(h, max(ys) + my)))


def cut(gray: np.ndarray, box: Box) -> np.ndarray:
    return gray[box[1]:box[3], box[0]:box[2]]


def locate(gray: np.ndarray, exclude: Sequence[tuple[float, float, float, float]] = ()) -> Box | None:
    """The busiest region of edges, a code's likely place when no decoder saw a code at all
    (a smeared code has no finder pattern left to find, but still many edges); `exclude`:
    boxes (x0, y0, x1, y1) not to look in, such as codes already read."""
    energy = _edge_energy(gray)
    for x0, y0, x1, y1 in exclude:
        pad = 6  # the box filter spreads a code's edges this far (quarter-size px)
        energy[max(0, int(y0 / _LOCATE_SCALE) - pad):int(y1 / _LOCATE_SCALE) + pad,
               max(0, int(x0 / _LOCATE_SCALE) - pad):int(x1 / _LOCATE_SCALE) + pad] = 0
    found = _busiest(energy)
    if found is None:
        return None
    _, stats, best = found
    x, y, bw, bh = (int(v) * _LOCATE_SCALE for v in stats[best, :4])
    corners = ((float(x), float(y)), (float(x + bw), float(y + bh)))
    return box_of(corners, gray.shape, margin=0.1)


def faint_reach(gray: np.ndarray) -> Box | None:
    """The busiest region (locate's) grown through the edges around it down to _FAINT of the
    peak: a code of big modules smeared far is busiest where its smeared edges pile up, often
    one side of it, and fainter over the rest (region_rungs.around_smear)."""
    energy = _edge_energy(gray)
    found = _busiest(energy)
    if found is None:
        return None
    labels, _, best = found
    _, fainter, stats, _ = cv2.connectedComponentsWithStats((energy >= _FAINT * float(energy.max())).astype(np.uint8))
    grown = int(fainter[labels == best][0])  # the fainter mask holds the whole busiest region
    x, y, bw, bh = (int(v) * _LOCATE_SCALE for v in stats[grown, :4])
    return x, y, x + bw, y + bh


def _edge_energy(gray: np.ndarray) -> np.ndarray:
    """How busy with edges each place is, on a quarter-size frame."""
    small = cv2.resize(gray, None, fx=1 / _LOCATE_SCALE, fy=1 / _LOCATE_SCALE, interpolation=cv2.INTER_AREA)
    grad = cv2.morphologyEx(small, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    energy: np.ndarray = cv2.boxFilter(grad.astype(np.float32), -1, (9, 9))
    return energy


def _busiest(energy: np.ndarray) -> tuple[np.ndarray, np.ndarray, int] | None:
    """The labels and stats of the regions at half the peak energy or more, and the largest's
    label; None for a plain wall."""
    peak = float(energy.max())
    if peak < 12.0:  # a plain wall: nothing worth a decoder call
        return None
    n, labels, stats, _ = cv2.connectedComponentsWithStats((energy >= 0.5 * peak).astype(np.uint8))
    if n < 2:
        return None
    return labels, stats, 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))


def wiener(crop: np.ndarray, dx: float, dy: float, noise: float = 0.01, defocus: float = 1.5) -> np.ndarray:
    """`crop` with a straight smear of (dx, dy) px, on top of a little defocus (a Gaussian of
    `defocus` px: webcams at a door are rarely in perfect focus), undone by Wiener deconvolution."""
    return deconvolve(crop, line_kernel(dx, dy), noise, defocus)


def line_kernel(dx: float, dy: float) -> np.ndarray:
    """A straight smear of (dx, dy) px as a blur kernel, centred."""
    half = int(math.ceil(max(abs(dx), abs(dy)) / 2)) + 1
    k = np.zeros((2 * half + 1, 2 * half + 1), np.float32)
    steps = max(2, int(math.ceil(math.hypot(dx, dy))) * 2)
    for t in np.linspace(-0.5, 0.5, steps):
        k[half + int(round(t * dy)), half + int(round(t * dx))] += 1.0
    k /= k.sum()
    return k


def deconvolve(crop: np.ndarray, kernel: np.ndarray, noise: float = 0.01, defocus: float = 1.5) -> np.ndarray:
    """`crop` blurred by `kernel` (any path; its centre of mass stays put) and a Gaussian
    defocus of `defocus` px, undone by Wiener deconvolution."""
    pad = max(kernel.shape) + int(3 * defocus) + 8
    # The FFT sees the image as periodic: a replicated border, faded to the mean, keeps the
    # crop's hard edges from ringing across the code.
    # Sizes with small prime factors only: an FFT of an awkward size costs several times more.
    h = cv2.getOptimalDFTSize(crop.shape[0] + 2 * pad)
    w = cv2.getOptimalDFTSize(crop.shape[1] + 2 * pad)
    bottom, right = h - crop.shape[0] - pad, w - crop.shape[1] - pad
    img = cv2.copyMakeBorder(crop, pad, bottom, pad, right, cv2.BORDER_REPLICATE).astype(np.float32)
    ramp = np.linspace(0.0, 1.0, pad, dtype=np.float32)
    fade_y, fade_x = np.ones(h, np.float32), np.ones(w, np.float32)
    fade_y[:pad], fade_y[h - pad:], fade_x[:pad], fade_x[w - pad:] = ramp, ramp[::-1], ramp, ramp[::-1]
    mean = float(img.mean())
    img = mean + (img - mean) * np.outer(fade_y, fade_x)
    ys, xs = np.nonzero(kernel)
    weights = kernel[ys, xs].astype(np.float64)
    cy, cx = float((weights * ys).sum() / weights.sum()), float((weights * xs).sum() / weights.sum())
    psf = np.zeros((h, w), np.float64)
    np.add.at(psf, (np.round(ys - cy).astype(int) % h, np.round(xs - cx).astype(int) % w), weights)
    otf = np.fft.rfft2(psf / psf.sum())
    fy, fx = np.fft.fftfreq(h)[:, None], np.fft.rfftfreq(w)[None, :]
    otf = otf * np.exp(-2 * (math.pi * defocus) ** 2 * (fx**2 + fy**2))
    out = np.fft.irfft2(np.fft.rfft2(img) * np.conj(otf) / (np.abs(otf) ** 2 + noise), s=(h, w))
    return np.clip(out[pad:pad + crop.shape[0], pad:pad + crop.shape[1]], 0, 255).astype(np.uint8)


def smear(crop: np.ndarray, max_len: int = 48) -> tuple[float, float] | None:
    """The straight smear (dx, dy) over `crop`, or None when it does not look smeared.
    A code's module edges run both ways, so a sharp code has as much gradient across x as
    across y; motion leaves little along its own direction (the structure tensor's weak axis).
    The smear's length is where the derivative along that axis best cancels itself: a box blur
    of length L turns each edge into a pulse L long, so the autocorrelation dips at lag L."""
    f = crop.astype(np.float32)
    gx, gy = cv2.Sobel(f, cv2.CV_32F, 1, 0), cv2.Sobel(f, cv2.CV_32F, 0, 1)
    xx, xy, yy = float((gx * gx).sum()), float((gx * gy).sum()), float((gy * gy).sum())
    weak, strong = np.linalg.eigvalsh(np.array([[xx, xy], [xy, yy]]))
    if strong <= 0 or weak / strong > _SHARP_RATIO:
        return None
    angle = 0.5 * math.atan2(2 * xy, xx - yy) + math.pi / 2  # the weak axis: along the smear
    c, s = math.cos(angle), math.sin(angle)
    d = gx * c + gy * s
    ac = np.fft.irfft2(np.abs(np.fft.rfft2(d)) ** 2, s=d.shape)
    h, w = d.shape
    lags = range(4, min(max_len, min(h, w) // 3) + 1)
    if not lags:
        return None
    length = min(lags, key=lambda n: ac[int(round(n * s)) % h, int(round(n * c)) % w])
    return length * c, length * s


# A sharp code's gradient energy is nearly the same both ways (ratio ~1); the smears the
# frame families draw (10-40 px) gave 0.1-0.35, glare and occlusion frames 0.5-0.9.
_SHARP_RATIO = 0.45
