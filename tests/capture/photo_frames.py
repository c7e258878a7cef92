"""Photos: what `station decode` gets when someone sends a phone's picture of a pass or a poster,
not a webcam frame (issue 13 part 4's real photos).

A photo differs from a webcam frame in kind, not only in degree: 1.2 to 12 megapixels, portrait
or landscape; one code or several (a sheet of passes, a wall of posters) of any version 1-30 and
error-correction level, from a close-up filling most of the picture to a stamp-sized code far
off; strong perspective; paper bent over a cylinder; a hard shadow (a hand, the phone) across
part of it; defocus and hand shake that scale with the picture; sensor noise; and the phone's
JPEG. Each photo comes from (seed, index); the ranges come from how phones and paper behave,
never fitted to what the station reads. `texts` are every code drawn: a read of anything else
is a false read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import segno
from degrade import background
from hard_frames import _B62, _STRANGERS, _curve, _matrix, _rand, _render, decoded, pass_text, square_pose

from station.domain.qr_content import make_qr

SEED = 5150
_LONG_SIDES = (1280, 1600, 2048, 2448, 3264, 4032)
_TEXT = _B62 + " /:.-_?=&"


@dataclass(frozen=True)
class Photo:
    index: int
    image: np.ndarray  # grey uint8
    texts: tuple[str, ...]  # every code drawn, as a decoder returns it
    detail: str


def _code(rng: np.random.Generator) -> tuple[segno.QRCode, str]:
    """A pass as the station prints it, or a stranger's code of any length and level."""
    if rng.random() < 0.35:
        raw = pass_text(rng, int(rng.integers(0, 4)))
        return make_qr(raw), decoded(raw)
    n = int(rng.choice([rng.integers(4, 60), rng.integers(60, 300), rng.integers(300, 800)], p=[0.45, 0.35, 0.2]))
    tpl = _STRANGERS[int(rng.integers(0, len(_STRANGERS)))]
    text = tpl.format(_rand(rng, _TEXT, n)).strip() or "x"
    return segno.make_qr(text, error=str(rng.choice(list("LMQH"))), boost_error=False), text


def _pose(rng: np.random.Generator, size: int, w: int, h: int) -> np.ndarray | None:
    """Any rotation, a perspective up to a quarter of the code's size per corner, anywhere."""
    ang = math.radians(float(rng.uniform(0, 360)))
    return square_pose(rng, size, ang, float(rng.uniform(0, 0.25)), w, h)


def _shadow(canvas: np.ndarray, rng: np.random.Generator) -> str:
    """A hard-edged shadow (a hand, the phone itself) over one side of the picture."""
    h, w = canvas.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = float(rng.uniform(0, 2 * math.pi))
    reach = w * abs(math.cos(a)) + h * abs(math.sin(a))
    edge = xx * math.cos(a) + yy * math.sin(a) - float(rng.uniform(0.2, 0.8)) * reach
    soft = float(rng.uniform(1, 0.01 * reach))
    depth = float(rng.uniform(0.35, 0.7))
    lit = 0.5 * (1 + np.tanh(edge / (2 * soft)))  # a logistic step, without exp's overflow
    canvas *= (1 - (1 - depth) * lit).astype(np.float32)
    return f"shadow={depth:.2f}"


def _glare(canvas: np.ndarray, rng: np.random.Generator, box: tuple[int, int, int, int]) -> str:
    """A lamp's reflection on glossy paper over a code (`box`): one to three specular blobs or a
    bright band (a window, a ceiling tube), hard or soft edged, bright enough to clip."""
    h, w = canvas.shape
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0)
    # The light reaches a code's side past the code; beyond that it adds nothing worth drawing.
    X0, Y0, X1, Y1 = max(0, x0 - side), max(0, y0 - side), min(w, x1 + side), min(h, y1 + side)
    yy, xx = np.mgrid[Y0:Y1, X0:X1].astype(np.float32)
    hard = float(rng.uniform(1, 4))  # 1: a soft falloff, 4: a hard edge
    kind = ("specular", "band")[int(rng.integers(0, 2))]
    if kind == "specular":
        light = np.zeros_like(xx)
        for _ in range(int(rng.integers(1, 4))):
            a, ra = float(rng.uniform(0, math.pi)), side * float(rng.uniform(0.04, 0.2))
            rb = ra * float(rng.uniform(0.3, 1.0))
            bx, by = rng.uniform(x0, x1), rng.uniform(y0, y1)
            u = (xx - bx) * math.cos(a) + (yy - by) * math.sin(a)
            v = -(xx - bx) * math.sin(a) + (yy - by) * math.cos(a)
            light = np.maximum(light, np.exp(-(((u / ra) ** 2 + (v / rb) ** 2) ** hard)))
    else:
        a = float(rng.uniform(0, math.pi))
        dist = (xx - rng.uniform(x0, x1)) * math.cos(a) + (yy - rng.uniform(y0, y1)) * math.sin(a)
        light = np.exp(-np.abs(dist / (side * float(rng.uniform(0.04, 0.15)))) ** (2 * hard))
    canvas[Y0:Y1, X0:X1] += float(rng.uniform(120, 260)) * light
    return f"glare={kind}"


def make_photo(index: int, seed: int = SEED, glare: bool = False) -> Photo:
    """Photo `index`; the same arguments always give the same pixels. `glare`: each code under a
    lamp's reflection (drawn from a stream of its own, so the photo is otherwise the same)."""
    rng = np.random.default_rng([seed, index])
    lamp = np.random.default_rng([seed, index, 99])
    long = int(rng.choice(_LONG_SIDES))
    w, h = (long, long * 3 // 4) if rng.random() < 0.6 else (long * 3 // 4, long)
    canvas = background(rng, w, h) * float(rng.uniform(0.7, 1.6))
    wanted = 1 if rng.random() < 0.75 else int(rng.integers(2, 7))
    taken = np.zeros((h, w), np.uint8)
    texts: list[str] = []
    detail = [f"{w}x{h}"]
    for _ in range(wanted):
        qr, text = _code(rng)
        matrix = _matrix(qr)
        module = min(w, h) * float(rng.uniform(0.12, 0.75)) / math.sqrt(wanted) / matrix.shape[0]
        if module < 1.2:
            continue
        ink, paper = float(rng.uniform(5, 70)), float(rng.uniform(140, 250))
        patch = _render(matrix, module, ink, paper)
        bent = rng.random() < 0.15
        if bent:
            patch = _curve(patch, rng, paper)
        for _try in range(20):  # codes on a sheet do not overlap
            m = _pose(rng, patch.shape[0], w, h)
            if m is None:
                break
            mask = cv2.warpPerspective(np.ones_like(patch, np.uint8), m, (w, h), flags=cv2.INTER_NEAREST)
            if not (mask & taken).any():
                warped = cv2.warpPerspective(patch, m, (w, h), flags=cv2.INTER_LINEAR)
                canvas[mask > 0] = warped[mask > 0]
                taken |= cv2.dilate(mask, np.ones((15, 15), np.uint8))
                texts.append(text)
                detail.append(f"v{qr.version}{qr.error} module={module:.1f}{' bent' if bent else ''}")
                if glare:
                    ys, xs = np.nonzero(mask)
                    detail.append(_glare(canvas, lamp, (int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max()))))
                break
    if rng.random() < 0.3:
        detail.append(_shadow(canvas, rng))
    scale = long / 1280  # blur in a photo grows with its pixel count
    sigma = float(rng.uniform(0.5, 2.5)) * scale
    canvas = cv2.GaussianBlur(canvas, (0, 0), sigma)
    detail.append(f"defocus={sigma:.1f}")
    if rng.random() < 0.3:
        length = max(3, int(rng.uniform(3, 12) * scale))
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1
        turn = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), float(rng.uniform(0, 180)), 1)
        kernel = cv2.warpAffine(kernel, turn, (length, length))
        canvas = cv2.filter2D(canvas, -1, kernel / kernel.sum())
        detail.append(f"shake={length}")
    canvas += rng.normal(0, float(rng.uniform(1, 8)), canvas.shape).astype(np.float32)
    q = int(rng.integers(55, 96))
    img = cv2.imdecode(cv2.imencode(".jpg", np.clip(canvas, 0, 255).astype(np.uint8),
                                    [cv2.IMWRITE_JPEG_QUALITY, q])[1], cv2.IMREAD_GRAYSCALE)
    detail.append(f"jpeg={q}")
    return Photo(index, img, tuple(texts), " ".join(detail))
