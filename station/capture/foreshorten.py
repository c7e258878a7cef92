"""A code seen at a slant: a phone or ticket turned 40-65 degrees away from the camera (a guest
showing the screen to the door staff, not to the webcam) is squeezed along one direction, to
two thirds of its width or less. zxing-cpp's finder search matches the 1:1:3:1:1 pattern
across and down with one module size, so a squeezed finder fails the cross-check although
every module is still there to read: on the presentation clips such frames were read neither
whole nor cut out, but stretched back along the squeezed direction they were. The rung is the
single-frame ladder's (`station decode`); on the camera it cost more late frames than it read
sooner (docs/decode-benchmark.md, "A code seen at a slant").

The squeezed direction is the structure tensor's: a code's edges come in two families at right
angles, as many of each when seen square-on; squeezed along a direction, the family crossing it
packs its edges closer, so the image's gradients line up with that direction more than across it.
The tensor gives the direction, not reliably how much (glare and the paper's own edge bend the
ratio), so each region is stretched by three fixed factors, for turns of about 40 to 65 degrees.
Like every rung this only resamples pixels; a read still needs the engine's error correction.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from station.capture.region_rungs import scaled_crops
from station.capture.view import Hints, View

# cos(44 deg), cos(56 deg) and cos(65 deg) undone: each factor reads frames up to ~0.2 either
# side of it (1.4 and 1.8 read 59 and 63 of 1,158 unread clip frames alone, 82 together; 2.4
# adds the cards turned past 60 degrees: docs/decode-benchmark.md).
FACTORS = (1.4, 1.8, 2.4)
_MOST_PIXELS = 400 * 400  # a larger region is scaled down first: the decoder's cost is its area
# Within this of an image axis a squeeze is undone along the axis, by a resize (cos 10 deg is
# 0.985: the stretch is off by less than the tensor's own error on a noisy frame).
_SNAP = math.radians(10)


def squeezed_direction(crop: np.ndarray) -> float:
    """The direction (radians from the x axis) along which the crop's code is squeezed: the
    structure tensor's major eigenvector, summed over the whole crop."""
    g = crop.astype(np.float32)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    xx, xy, yy = float((gx * gx).sum()), float((gx * gy).sum()), float((gy * gy).sum())
    return 0.5 * math.atan2(2.0 * xy, xx - yy)


def stretched(crop: np.ndarray, factor: float, angle: float, dx: float = 0.0, dy: float = 0.0,
              scale: float = 1.0) -> View:
    """`crop` stretched by `factor` along `angle`, as a view whose way back maps its pixels to the
    crop's (divided by `scale`, the crop's scale against its source, plus `dx`, `dy`)."""
    axis = round(angle / (math.pi / 2))
    if abs(angle - axis * math.pi / 2) < _SNAP:
        # Near an image axis: a resize along it, at a tenth of a warp's cost (cubic warpAffine
        # took 4.5 ms on a clip's region here, cv2.resize 0.5 ms).
        fx, fy = (factor, 1.0) if axis % 2 == 0 else (1.0, factor)
        image = cv2.resize(crop, None, fx=fx, fy=fy, interpolation=cv2.INTER_CUBIC)
        return View(image, back=lambda x, y: (x / fx / scale + dx, y / fy / scale + dy))
    c, s = math.cos(angle), math.sin(angle)
    rot = np.array([[c, s], [-s, c]])
    m = rot.T @ np.diag([factor, 1.0]) @ rot
    h, w = crop.shape[:2]
    corners = np.array([[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]]) @ m.T
    low, high = corners.min(axis=0), corners.max(axis=0)
    affine = np.hstack([m, -low[:, None]])
    size = (int(math.ceil(high[0] - low[0])), int(math.ceil(high[1] - low[1])))
    image = cv2.warpAffine(crop, affine, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    inverse = np.linalg.inv(m)

    def back(x: float, y: float) -> tuple[float, float]:
        px, py = inverse @ np.array([x + low[0], y + low[1]])
        return float(px / scale + dx), float(py / scale + dy)

    return View(image, back=back)


def views(crop: np.ndarray, dx: float = 0.0, dy: float = 0.0, scale: float = 1.0) -> list[View]:
    """The crop stretched back along its squeezed direction by each of FACTORS, their way back to
    the crop's pixels divided by `scale` plus (`dx`, `dy`)."""
    angle = squeezed_direction(crop)
    return [stretched(crop, f, angle, dx, dy, scale) for f in FACTORS]


def rung(gray: np.ndarray, hints: Hints) -> list[View]:
    """The ladder rung: each region where a code is (region_rungs.scaled_crops), stretched back."""
    out: list[View] = []
    for box, crop, scale in scaled_crops(gray, hints, 32, _MOST_PIXELS):
        out += views(crop, box[0], box[1], scale)
    return out
