"""Harder single frames: the station's real passes under what a door's webcam does to them, and
small codes that are not passes in the background. For the false-read tests.

Every frame is drawn from one seed and its index. Each degradation is drawn independently from
ranges chosen for how phones, paper, hands and webcams behave, not for what the station reads
(the product is checked on held-out frames we never see): the pass's format sets its QR version
and the code's width in the frame is drawn in pixels, so the module size follows from the
version; glare as a band, an ellipse or specular blobs; a finger or a sticker over the code;
motion blur of any length and angle; defocus (a disk, as a lens does); paper curved over a
cylinder; a phone screen's moiré; dark-mode (inverted) codes; perspective, noise and JPEG.

A frame's `allowed` texts are every code drawn in it: a read of anything else is a false read.
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass

import cv2
import numpy as np
import segno
from degrade import _camera, _clutter, _motion_kernel, _place, background

from station.capture.demo_source import qr_image
from station.domain import token_v2
from station.domain.qr_content import make_qr, segments

W, H = 1280, 720
SEED = 1313
_B62 = string.ascii_letters + string.digits
_B64URL = _B62 + "-_"
# What else hangs in front of a door: posters, menus, wifi cards, product labels.
_STRANGERS = ("https://example.com/menu", "WIFI:S:VenueGuest;T:WPA;P:{};;", "https://shop.example.net/item/{}",
              "BEGIN:VCARD\nFN:{}\nEND:VCARD", "{}")


@dataclass(frozen=True)
class HardFrame:
    index: int
    image: np.ndarray  # grey uint8
    text: str  # the pass, as a decoder returns it
    allowed: frozenset[str]  # every code in the frame (the pass and the strangers)
    detail: str


def _rand(rng: np.random.Generator, alphabet: str, n: int) -> str:
    return "".join(alphabet[i] for i in rng.integers(0, len(alphabet), n))


PASS_KINDS = ("format-2 URL", "format-2 token", "format-1 URL", "bare code")  # frame i draws kind i % 4


def pass_text(rng: np.random.Generator, kind: int) -> str:
    """A pass as the station prints it: format 2 (URL or bare token), format 1, or a bare code."""
    digits = str(int(rng.integers(1, 10))) + _rand(rng, string.digits, int(rng.integers(
        token_v2.MIN_DIGITS, token_v2.MAX_DIGITS + 1)) - 1)
    code = _rand(rng, _B62, 12)
    return (f"https://passes.station.example/p/{digits}", digits,
            f"https://passes.station.example/p/{code}?token={_rand(rng, _B64URL, 175)}.{_rand(rng, _B64URL, 86)}",
            code)[kind % 4]


def decoded(text: str) -> str:
    """What a decoder returns for the station's QR of `text` (its URL prefix is printed upper case)."""
    return "".join(part for part, _ in segments(text))


def _matrix(qr: segno.QRCode) -> np.ndarray:
    return np.array(list(qr.matrix_iter(scale=1, border=4 if not qr.is_micro else 2)), dtype=np.uint8)


def _render(matrix: np.ndarray, module: float, ink: float, paper: float) -> np.ndarray:
    size = max(8, int(round(matrix.shape[0] * module)))
    img = cv2.resize(np.where(matrix == 1, 0.0, 1.0).astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)
    return ink + (paper - ink) * img


def _curve(patch: np.ndarray, rng: np.random.Generator, fill: float) -> np.ndarray:
    """Paper bent over a cylinder: columns crowd towards the edges and rows sag."""
    s = patch.shape[0]
    bend = float(rng.uniform(0.35, 1.1))  # half the angle the paper's width wraps, radians
    sag = float(rng.uniform(-0.06, 0.06)) * s
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)
    u = (xx - s / 2) / (s / 2)  # -1..1 across the image
    src_x = s / 2 + (s / 2) * np.arcsin(np.clip(u * math.sin(bend), -1, 1)) / bend
    src_y = yy + sag * (1 - u**2)
    return cv2.remap(patch, src_x, src_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=fill)


def _moire(patch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A screen's pixel grid beating against the sensor's: faint fringes."""
    depth, period, ang = float(rng.uniform(0.04, 0.15)), float(rng.uniform(2.2, 8.0)), float(rng.uniform(0, math.pi))
    yy, xx = np.mgrid[0:patch.shape[0], 0:patch.shape[1]].astype(np.float32)
    return patch * (1 + depth * np.cos(2 * np.pi * (xx * math.cos(ang) + yy * math.sin(ang)) / period))


def _glare(canvas: np.ndarray, rng: np.random.Generator, box: tuple[float, float, float, float]) -> str:
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    cx, cy = float(rng.uniform(x0, x1)), float(rng.uniform(y0, y1))
    amp = float(rng.uniform(110, 240))
    shape = ("band", "ellipse", "blobs")[int(rng.integers(0, 3))]
    if shape == "band":  # a window or a ceiling tube reflected across the screen
        a = float(rng.uniform(0, math.pi))
        dist = (xx - cx) * math.cos(a) + (yy - cy) * math.sin(a)
        light = np.exp(-((dist / (side * rng.uniform(0.04, 0.25))) ** 4))
    elif shape == "ellipse":
        a, ra, rb = float(rng.uniform(0, math.pi)), side * rng.uniform(0.1, 0.4), side * rng.uniform(0.05, 0.25)
        u = (xx - cx) * math.cos(a) + (yy - cy) * math.sin(a)
        v = -(xx - cx) * math.sin(a) + (yy - cy) * math.cos(a)
        light = np.exp(-((u / ra) ** 2 + (v / rb) ** 2))
    else:  # specular points of a lamp on glossy paper
        light = np.zeros_like(xx)
        for _ in range(int(rng.integers(2, 7))):
            bx, by, r = rng.uniform(x0, x1), rng.uniform(y0, y1), side * rng.uniform(0.02, 0.08)
            light = np.maximum(light, np.exp(-(((xx - bx) ** 2 + (yy - by) ** 2) / (2 * r * r)) ** 2))
    canvas += amp * light  # light adds up and clips
    return f"glare={shape}:{amp:.0f}"


def _occlude(canvas: np.ndarray, rng: np.random.Generator, box: tuple[float, float, float, float]) -> str:
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0)
    layer = np.zeros_like(canvas)
    if rng.random() < 0.5:  # a finger from one edge of the code towards its middle
        edge = int(rng.integers(0, 4))
        t = float(rng.uniform(0.15, 0.85))
        start = [(x0 + t * (x1 - x0), y1 + side * 0.3), (x0 + t * (x1 - x0), y0 - side * 0.3),
                 (x0 - side * 0.3, y0 + t * (y1 - y0)), (x1 + side * 0.3, y0 + t * (y1 - y0))][edge]
        reach = float(rng.uniform(0.3, 0.55)) * side
        ang = math.atan2((y0 + y1) / 2 - start[1], (x0 + x1) / 2 - start[0]) + float(rng.uniform(-0.4, 0.4))
        centre = (int(start[0] + math.cos(ang) * reach / 2), int(start[1] + math.sin(ang) * reach / 2))
        width = int(side * rng.uniform(0.14, 0.3))  # a fingertip is 15-20 mm, a pass 40-80 mm
        cv2.ellipse(layer, centre, (int(reach), width // 2), math.degrees(ang), 0, 360, 1.0, -1)
        tone, what = float(rng.uniform(90, 200)), "finger"
    else:  # a sticker or a label on the ticket
        s = int(side * rng.uniform(0.08, 0.22))
        c = (int(rng.uniform(x0, x1)), int(rng.uniform(y0, y1)))
        if rng.random() < 0.5:
            cv2.circle(layer, c, s // 2, 1.0, -1)
        else:
            rect = ((float(c[0]), float(c[1])), (float(s), float(s * rng.uniform(0.5, 1.5))), float(rng.uniform(0, 90)))
            cv2.fillPoly(layer, [cv2.boxPoints(rect).astype(np.int32)], 1.0)
        tone, what = float(rng.choice([rng.uniform(0, 60), rng.uniform(180, 255)])), "sticker"
    soft = cv2.GaussianBlur(layer, (0, 0), 1.5)
    canvas[:] = canvas * (1 - soft) + tone * soft
    return what


def _warp(rng: np.random.Generator, size: int, tilt: float) -> np.ndarray | None:
    """A perspective that rotates, tilts and places a square patch inside the frame."""
    ang = math.radians(float(rng.uniform(0, 360) if rng.random() < 0.2 else rng.uniform(-25, 25)))
    return square_pose(rng, size, ang, tilt, W, H)


def square_pose(rng: np.random.Generator, size: int, ang: float, tilt: float, w: int, h: int) -> np.ndarray | None:
    """The perspective that turns a square patch by `ang`, moves each corner up to `tilt` of its
    size, and places it anywhere inside w x h; None if it does not fit."""
    src = np.float32([[0, 0], [size, 0], [size, size], [0, size]])
    rot = np.float32([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]])
    dst = (src - size / 2) @ rot.T + rng.uniform(-tilt, tilt, (4, 2)).astype(np.float32) * size
    dst -= dst.min(axis=0)
    span = dst.max(axis=0)
    if span[0] >= w - 4 or span[1] >= h - 4:
        return None
    dst += np.float32([rng.uniform(2, w - span[0] - 2), rng.uniform(2, h - span[1] - 2)])
    return cv2.getPerspectiveTransform(src, dst.astype(np.float32))


def _strangers(canvas: np.ndarray, rng: np.random.Generator, taken: np.ndarray) -> set[str]:
    """Small codes that are not passes: a poster's, a badge's, a Micro QR on a product label."""
    texts = set()
    for _ in range(int(rng.integers(0, 4))):
        tpl = _STRANGERS[int(rng.integers(0, len(_STRANGERS)))]
        text = tpl.format(_rand(rng, _B62, int(rng.integers(4, 12))))
        if rng.random() < 0.3:  # a Micro QR: a few digits on a product label
            text = str(int(rng.integers(0, 99999)))
            qr = segno.make(text, micro=True)
        else:
            qr = segno.make_qr(text, error="l")
        ink, paper = float(rng.uniform(10, 60)), float(rng.uniform(160, 240))
        patch = _render(_matrix(qr), float(rng.uniform(1.4, 3.2)), ink, paper)
        m = _warp(rng, patch.shape[0], 0.05)
        if m is None:
            continue
        probe = np.zeros_like(canvas)
        mask = _place(probe, np.ones_like(patch), rng, m)
        if (mask.astype(bool) & taken).any():
            continue  # never on the pass
        _place(canvas, patch, rng, m)
        taken |= mask.astype(bool)
        texts.add(text)
    return texts


def make_hard_frame(index: int, seed: int = SEED) -> HardFrame:
    """Frame `index`; the same arguments always give the same pixels."""
    rng = np.random.default_rng([seed, index])
    canvas = background(rng, W, H)
    raw = pass_text(rng, index)
    matrix = _matrix(make_qr(raw))
    n = matrix.shape[0] - 8
    width = float(rng.uniform(110, 340))  # px across the modules: how far the pass is held
    module = width / n
    ink, paper = float(rng.uniform(10, 70)), float(rng.uniform(140, 245))
    dark = rng.random() < 0.15
    if dark:  # a phone in dark mode: light modules on a dark screen, quiet zone included
        ink, paper = paper * 0.9, ink
    patch = _render(matrix, module, ink, paper)
    detail = [f"v{(n - 17) // 4} module={module:.1f}" + (" dark" if dark else "")]
    if rng.random() < 0.2:
        patch = _curve(patch, rng, paper)
        detail.append("curved")
    if rng.random() < 0.2:
        patch = _moire(patch, rng)
        detail.append("moire")
    m = _warp(rng, patch.shape[0], float(rng.uniform(0, 0.12)))
    assert m is not None, "the pass does not fit the frame"
    mask = _place(canvas, patch, rng, m)
    ys, xs = np.nonzero(mask)
    box = (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))
    _clutter(rng, canvas, mask, int(rng.integers(0, 12)))
    allowed = _strangers(canvas, rng, mask.astype(bool).copy())
    if rng.random() < 0.4:
        detail.append(_glare(canvas, rng, box))
    if rng.random() < 0.3:
        detail.append(_occlude(canvas, rng, box))
    canvas = np.clip(canvas, 0, 255)
    if rng.random() < 0.35:
        length = int(rng.integers(3, 21))
        canvas = cv2.filter2D(canvas, -1, _motion_kernel(length, float(rng.uniform(0, 180))))
        detail.append(f"streak={length}")
    if rng.random() < 0.3:
        r = float(rng.uniform(1.0, 3.5))
        k = np.zeros((2 * math.ceil(r) + 1,) * 2, np.float32)
        cv2.circle(k, (math.ceil(r), math.ceil(r)), int(round(r)), 1.0, -1)
        canvas = cv2.filter2D(canvas, -1, k / k.sum())
        detail.append(f"defocus={r:.1f}")
    img = _camera(rng, canvas)
    if rng.random() < 0.3:
        sigma = float(rng.uniform(4, 14))
        img = np.clip(img + rng.normal(0, sigma, img.shape), 0, 255).astype(np.uint8)
        detail.append(f"noise={sigma:.0f}")
    if rng.random() < 0.3:
        q = int(rng.integers(35, 85))
        img = cv2.imdecode(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, q])[1], cv2.IMREAD_GRAYSCALE)
        detail.append(f"jpeg={q}")
    text = decoded(raw)
    return HardFrame(index, img, text, frozenset(allowed | {text}), " ".join(detail))


def glare_band_frame(axis: str, at: float, shift: int, width: float = 0.15) -> HardFrame:
    """A format-2 pass (version 8, 4.4 px modules) at a fixed place with a bright band across it,
    `at` of the way along `axis` ("h" or "v"): the frame family in which the station once read a
    Micro QR "52570" out of a pass's glare-washed finder pattern."""
    text = "HTTPS://PASSES.STATION.EXAMPLE/P/" + "3141592653589793238462643383279502884197" * 5
    code = cv2.resize(qr_image(text, 1).astype(np.float32), None, fx=4.4, fy=4.4, interpolation=cv2.INTER_AREA)
    code = 30 + code * 0.8
    x, y, side = 420 + shift % 2, 160 + shift // 3, code.shape[0]
    frame = np.full((H, W), 110, np.float32)
    frame[y:y + side, x:x + side] = code
    frame += np.random.default_rng(shift).normal(0, 2.0, frame.shape).astype(np.float32)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    pos = (yy - 160) if axis == "h" else (xx - 420)
    frame += 230 * np.exp(-(((pos - at * side) / (width * side)) ** 4))
    img = np.clip(frame, 0, 255).astype(np.uint8)
    return HardFrame(shift, img, text, frozenset({text}), f"band {axis} at {at:.2f} width {width}")
