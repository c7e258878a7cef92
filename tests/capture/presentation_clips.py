"""Seeded clips of a pass presented to a door's webcam: 720p, 30 fps, for the sequence-reading
tests and benchmarks/presentation_bench.py.

A phone (a real format-2 pass, signed with a key made here, rendered by the station's QR path)
enters the frame from one side along a reaching hand's path (fast in the middle, slowing to a
stop), then settles with a trembling hand while it tilts
back and forth. While it moves, each frame is smeared along its motion (the exposure is a good
part of the frame time); a glare patch sits where the lamp reflects and moves across the code as
the phone tilts; focus hunts; every frame gets sensor noise and most get JPEG. Some clips also
show a stranger's code in the background (a poster's), some show no pass at all.

`appears` is the index of the first frame in which the whole code is inside the frame: the time
to the verdict is measured from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from degrade import _rand, background

from station.domain import token_v2
from station.domain.codes import BASE62
from station.domain.models import PassType
from station.domain.payload import compact_url
from station.domain.qr_content import make_qr, segments

W, H = 1280, 720
FPS = 30.0
SEED = 1313
BASE_URL = "https://passes.station.example"


@dataclass(frozen=True)
class Clip:
    index: int
    frames: tuple[np.ndarray, ...]  # grey uint8, one every 1/FPS s
    text: str | None  # the pass as a decoder returns it; None: no pass in this clip
    allowed: frozenset[str]  # every code drawn (the pass and a stranger's): anything else is a false read
    appears: int | None  # first frame with the whole code inside the frame
    detail: str
    smear: tuple[tuple[float, float], ...] = ()  # each frame's motion blur (dx, dy), px


@cache
def signing_key() -> Ed25519PrivateKey:
    # A fixed key: the same seed gives the same clips, tokens included.
    return Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def verifier(text: str) -> bool:
    """True if `text` is a format-2 pass signed by the clips' key (what the scan service checks)."""
    tail = text.rpartition("/")[2]
    try:
        token_v2.verify(tail, [signing_key().public_key()])
    except Exception:
        return False
    return True


def pass_link(rng: np.random.Generator) -> str:
    """A format-2 pass URL with every claim set, as the station prints it."""
    key = signing_key()
    code = "".join(BASE62[i] for i in rng.integers(0, 62, 12))
    claims = token_v2.message(key.public_key(), code, PassType.MULTI, int(rng.integers(1, 1000)),
                              "2026-06-01T18:00:00Z", "2099-12-31T23:00:00Z")
    return compact_url(BASE_URL, token_v2.token(claims, key.sign(claims)))


def _patch(matrix: np.ndarray, module: float, ink: float, paper: float) -> np.ndarray:
    size = max(8, int(round(matrix.shape[0] * module)))
    img = cv2.resize(np.where(matrix == 1, 0.0, 1.0).astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)
    return ink + (paper - ink) * img


def _quad(size: float, centre: tuple[float, float], roll: float, yaw: float, pitch: float) -> np.ndarray:
    """The code's corners after an in-plane turn and a tilt (a far edge shrinks)."""
    half = size / 2
    pts = []
    for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        # Tilting about the vertical axis shortens the far side and narrows the code.
        depth = 1.0 + 0.35 * (sx * math.sin(yaw) + sy * math.sin(pitch))
        x, y = sx * half * math.cos(yaw) / depth, sy * half * math.cos(pitch) / depth
        c, s = math.cos(roll), math.sin(roll)
        pts.append((centre[0] + c * x - s * y, centre[1] + s * x + c * y))
    return np.float32(pts)


def _motion(img: np.ndarray, dx: float, dy: float) -> np.ndarray:
    length = math.hypot(dx, dy)
    if length < 1.5:
        return img
    n = int(math.ceil(length)) | 1
    k = np.zeros((n, n), np.float32)
    c = n // 2
    cv2.line(k, (int(round(c - dx / 2)), int(round(c - dy / 2))), (int(round(c + dx / 2)), int(round(c + dy / 2))), 1.0, 1)
    return cv2.filter2D(img, -1, k / k.sum())


def _stranger(rng: np.random.Generator, canvas: np.ndarray) -> str:
    text = f"https://shop.example.net/item/{_rand(rng, BASE62, int(rng.integers(4, 12)))}"
    matrix = np.array(list(segno.make_qr(text, error="l").matrix_iter(scale=1, border=4)), np.uint8)
    patch = _patch(matrix, float(rng.uniform(3.0, 5.0)), float(rng.uniform(10, 50)), float(rng.uniform(190, 240)))
    s = patch.shape[0]
    x, y = int(rng.integers(0, W - s)), int(rng.integers(0, H - s))
    canvas[y:y + s, x:x + s] = patch
    return text


def make_clip(index: int, seed: int = SEED, frames: int = 48, kind: str | None = None) -> Clip:
    """Clip `index`: `kind` is "pass" (the default for most), "stranger" (a pass and a stranger's
    code) or "empty" (no pass; a stranger's code or none). The same arguments give the same pixels."""
    rng = np.random.default_rng([seed, index])
    kind = kind or ("empty" if index % 8 == 7 else "stranger" if index % 4 == 1 else "pass")
    canvas = background(rng, W, H)
    allowed: set[str] = set()
    if kind != "pass" and rng.random() < 0.8:
        allowed.add(_stranger(rng, canvas))
    detail = [kind]
    link = pass_link(rng)
    text = "".join(part for part, _ in segments(link))  # the prefix is printed upper case
    matrix = np.array(list(make_qr(link).matrix_iter(scale=1, border=4)), np.uint8)
    width = float(rng.uniform(150, 260))  # px across the code at rest: arm's length at 720p
    module = width / (matrix.shape[0] - 8)
    ink, paper = float(rng.uniform(15, 60)), float(rng.uniform(170, 245))
    patch = _patch(matrix, module, ink, paper)
    side = patch.shape[0]
    src = np.float32([[0, 0], [side, 0], [side, side], [0, side]])
    # Where the phone comes to rest, and where it comes from (just outside one edge).
    rest = np.array([rng.uniform(0.3, 0.7) * W, rng.uniform(0.35, 0.65) * H])
    edge = int(rng.integers(0, 4))
    start = rest.copy()
    start[edge % 2] = (-0.6 * side) if edge < 2 else ((W, H)[edge % 2] + 0.6 * side)
    reach = float(rng.uniform(0.35, 0.8))  # s: how long the movement into place takes
    exposure = float(rng.uniform(0.4, 0.9))  # of the frame time: how long the shutter smears
    tremor = float(rng.uniform(0.5, 3.0))  # px per frame while held
    yaw0, pitch0 = float(rng.uniform(-0.5, 0.5)), float(rng.uniform(-0.4, 0.4))
    tilt_rate = float(rng.uniform(1.5, 4.0))  # rad/s of the tilting
    roll = float(rng.uniform(-0.35, 0.35))
    glare = rng.random() < 0.6
    glare_amp, glare_r = float(rng.uniform(120, 230)), float(rng.uniform(0.12, 0.3))
    glare_at = np.array([rng.uniform(0.25, 0.75), rng.uniform(0.25, 0.75)])
    focus0, focus_rate = float(rng.uniform(0.5, 2.2)), float(rng.uniform(1.0, 3.0))
    jpeg = int(rng.integers(45, 90))
    noise = float(rng.uniform(3, 8))
    detail.append(f"width={width:.0f} module={module:.1f} reach={reach:.2f}s exp={exposure:.2f} "
                  f"glare={'yes' if glare else 'no'} jpeg={jpeg}")
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    out: list[np.ndarray] = []
    appears: int | None = None
    shake = np.zeros(2)
    prev_centre: np.ndarray | None = None
    smear: list[tuple[float, float]] = []
    for i in range(frames):
        t = i / FPS
        # A reaching hand follows a minimum-jerk path (Flash & Hogan 1985): fast in the middle,
        # slowing smoothly to a stop; then the hand trembles around where it stopped.
        s = min(t / reach, 1.0)
        shake += rng.normal(0, tremor, 2) * s
        shake *= 0.8
        centre = start + (rest - start) * (10 * s**3 - 15 * s**4 + 6 * s**5) + shake
        yaw = yaw0 + 0.35 * math.sin(tilt_rate * t)
        pitch = pitch0 + 0.25 * math.sin(0.7 * tilt_rate * t + 1.0)
        frame = canvas.copy()
        if kind != "empty":
            quad = _quad(side, (float(centre[0]), float(centre[1])), roll, yaw, pitch)
            m = cv2.getPerspectiveTransform(src, quad)
            warped = cv2.warpPerspective(patch, m, (W, H), flags=cv2.INTER_LINEAR, borderValue=0)
            mask = cv2.warpPerspective(np.ones_like(patch), m, (W, H), flags=cv2.INTER_LINEAR, borderValue=0)
            frame = frame * (1 - mask) + warped * mask
            if glare:
                # The reflection stays where the lamp is as the phone tilts: it slides over the code.
                at = glare_at + 0.9 * np.array([yaw - yaw0, pitch - pitch0])
                gx, gy = cv2.perspectiveTransform(np.float32([[at * side]]), m)[0, 0]
                r = glare_r * side
                frame += glare_amp * mask * np.exp(-(((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * r * r)) ** 1.5)
            if prev_centre is not None:
                d = (centre - prev_centre) * exposure
                frame = _motion(frame, float(d[0]), float(d[1]))
                smear.append((float(d[0]), float(d[1])))
            else:
                smear.append((0.0, 0.0))
            prev_centre = centre
            if appears is None and (quad[:, 0].min() >= 0 and quad[:, 1].min() >= 0
                                    and quad[:, 0].max() < W and quad[:, 1].max() < H):
                appears = i
        focus = focus0 * abs(math.cos(focus_rate * t)) + 0.4
        frame = cv2.GaussianBlur(frame, (0, 0), focus)
        frame += rng.standard_normal((H, W), dtype=np.float32) * noise
        img = np.clip(frame, 0, 255).astype(np.uint8)
        img = cv2.imdecode(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, jpeg])[1], cv2.IMREAD_GRAYSCALE)
        out.append(img)
    has_pass = kind != "empty"
    if has_pass:
        allowed.add(text)
    return Clip(index, tuple(out), text if has_pass else None, frozenset(allowed),
                appears if has_pass else None, " ".join(detail), tuple(smear))
