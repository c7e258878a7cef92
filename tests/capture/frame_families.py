"""Single frames by family: one dominant way a frame goes wrong per family, drawn harder and more
varied than tests/capture/hard_frames.py mixes them, for what held-out frames fail on (issue 13
part 4: motion blur, glare and occlusion first) and the issue's other list.

- motion: a linear smear at any angle, or a curved / shaken hand path, 10-40 px long;
- glare: specular blobs of varied shape, size and hardness; a screen's reflection washing out
  part of the code; a bright band (a window, a ceiling tube);
- occlusion: a finger or thumb over a corner or an edge, a sticker, a fold line across a ticket,
  a smudge (a hand, a label, dirt) over 6-25 % of the code anywhere;
- module: small modules, 1.4-3 px, whatever the code's version;
- curved: paper bent over a cylinder;
- moire: a phone screen's pixel grid beating against the sensor's, strong;
- dark: a dark-mode (light-on-dark) code on a glowing screen;
- jpeg: heavy compression (quality 12-45), sometimes after the camera downscaled;
- slant: the pass turned 35-65 degrees away from the camera about an axis at any angle, seen by
  a pinhole camera from 1.5-4 times its width (added in session 20: no family had a code
  turned further than the small random perspective every frame gets).

Codes are the station's real passes (format 2 as URL or bare token, format 1, bare codes) and
strangers' payloads (menus, wifi cards, vCards, any text) as the code to read; small strangers'
codes hang in the background too. Every frame comes from (seed, family, index); the ranges are
drawn from how hands, paper, screens and webcams behave, never fitted to what the station reads.
"""

from __future__ import annotations

import math
import string

import cv2
import numpy as np
from degrade import _camera, _clutter, _place, background
from hard_frames import (
    _STRANGERS,
    H,
    W,
    HardFrame,
    _curve,
    _matrix,
    _moire,
    _rand,
    _render,
    _strangers,
    _warp,
    decoded,
    pass_text,
)

from station.domain.qr_content import make_qr

FAMILIES: tuple[str, ...] = ("motion", "glare", "occlusion", "module", "curved", "moire", "dark", "jpeg", "slant")
SEED = 4013
CODE_KINDS = ("format-2 URL", "format-2 token", "format-1 URL", "bare code", "stranger")  # index % 5


def code_text(rng: np.random.Generator, kind: int) -> str:
    if kind % 5 < 4:
        return pass_text(rng, kind % 5)
    tpl = _STRANGERS[int(rng.integers(0, len(_STRANGERS)))]
    return tpl.format(_rand(rng, string.ascii_letters + string.digits, int(rng.integers(6, 60))))


def _path_kernel(rng: np.random.Generator, length: float) -> tuple[np.ndarray, str]:
    """A motion blur kernel: the path the code's image travelled while the shutter was open."""
    kind = ("linear", "curved", "shaken")[int(rng.integers(0, 3))]
    ang = float(rng.uniform(0, 2 * math.pi))
    t = np.linspace(0, 1, 200)
    if kind == "linear":
        x, y = t * length * math.cos(ang), t * length * math.sin(ang)
    elif kind == "curved":  # an arc: the wrist turns while the arm moves
        bend = float(rng.uniform(0.5, 2.5)) * rng.choice([-1, 1])
        a = ang + bend * (t - 0.5)
        x, y = np.cumsum(np.cos(a)) * length / len(t), np.cumsum(np.sin(a)) * length / len(t)
    else:  # a shaking hand: a smooth random walk
        steps = rng.normal(0, 1, (12, 2)).cumsum(axis=0)
        steps = cv2.resize(steps.astype(np.float32), (2, 200), interpolation=cv2.INTER_CUBIC)
        seg = np.hypot(*np.diff(steps, axis=0).T).sum()
        x, y = steps[:, 0] * length / seg, steps[:, 1] * length / seg
    # Speed varies along the path (it starts and stops): weight the samples unevenly.
    weights = 0.5 + rng.uniform(0, 1) * np.sin(np.pi * t) ** 2
    x, y = x - x.min(), y - y.min()
    size = int(max(x.max(), y.max())) + 3
    k = np.zeros((size, size), np.float32)
    for xi, yi, wi in zip(x, y, weights, strict=True):
        k[int(round(yi)) + 1, int(round(xi)) + 1] += wi
    return k / k.sum(), kind


def _glare(canvas: np.ndarray, rng: np.random.Generator, box: tuple[float, float, float, float]) -> str:
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    cx, cy = float(rng.uniform(x0, x1)), float(rng.uniform(y0, y1))
    kind = ("specular", "reflection", "band")[int(rng.integers(0, 3))]
    hard = float(rng.uniform(1, 4))  # 1: a soft falloff, 4: a hard-edged spot
    if kind == "specular":  # lamps on glossy paper or glass: blobs of any shape
        light = np.zeros_like(xx)
        for _ in range(int(rng.integers(1, 5))):
            a, ra = float(rng.uniform(0, math.pi)), side * rng.uniform(0.04, 0.22)
            rb = ra * rng.uniform(0.3, 1.0)
            bx, by = rng.uniform(x0, x1), rng.uniform(y0, y1)
            u = (xx - bx) * math.cos(a) + (yy - by) * math.sin(a)
            v = -(xx - bx) * math.sin(a) + (yy - by) * math.cos(a)
            light = np.maximum(light, np.exp(-(((u / ra) ** 2 + (v / rb) ** 2) ** hard)))
        canvas += float(rng.uniform(120, 260)) * light
    elif kind == "reflection":  # a bright screen or window mirrored on a phone: a soft-edged
        # region where the code's contrast drops to a fraction and everything lightens
        a = float(rng.uniform(0, math.pi))
        dist = (xx - cx) * math.cos(a) + (yy - cy) * math.sin(a)
        light = 0.5 * (1 + np.tanh(dist / (2 * side * rng.uniform(0.02, 0.12))))  # a logistic edge
        keep = float(rng.uniform(0.15, 0.5))
        lift = float(rng.uniform(80, 200))
        canvas[:] = canvas * (1 - (1 - keep) * light) + lift * light
    else:  # a bright band: a window or a ceiling tube
        a = float(rng.uniform(0, math.pi))
        dist = (xx - cx) * math.cos(a) + (yy - cy) * math.sin(a)
        light = np.exp(-np.abs(dist / (side * rng.uniform(0.04, 0.2))) ** (2 * hard))
        canvas += float(rng.uniform(120, 260)) * light
    return f"glare={kind} hard={hard:.1f}"


def _occlude(canvas: np.ndarray, rng: np.random.Generator, box: tuple[float, float, float, float]) -> str:
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0)
    kind = ("finger", "thumb", "sticker", "fold", "smudge")[int(rng.integers(0, 5))]
    layer = np.zeros_like(canvas)
    if kind == "smudge":  # a hand, a big label or a smear of dirt: 6-25 % of the code, anywhere on it
        area = float(rng.uniform(0.06, 0.25)) * (x1 - x0) * (y1 - y0)
        c = (float(rng.uniform(x0, x1)), float(rng.uniform(y0, y1)))
        shape = int(rng.integers(0, 3))
        if shape == 0:
            a = math.sqrt(area / math.pi * rng.uniform(0.5, 2.0))
            cv2.ellipse(layer, (int(c[0]), int(c[1])), (int(a), int(area / math.pi / a)), float(rng.uniform(0, 180)),
                        0, 360, 1.0, -1)
        elif shape == 1:
            a = math.sqrt(area * rng.uniform(0.3, 3.0))
            rect = (c, (a, area / a), float(rng.uniform(0, 90)))
            cv2.fillPoly(layer, [cv2.boxPoints(rect).astype(np.int32)], 1.0)
        else:  # a stroke reaching in from outside the code
            ang, wide = float(rng.uniform(0, 2 * math.pi)), math.sqrt(area / 2.5)
            far = (c[0] + math.cos(ang) * side * 2, c[1] + math.sin(ang) * side * 2)
            cv2.line(layer, (int(far[0]), int(far[1])), (int(c[0]), int(c[1])), 1.0, max(1, int(wide)))
            cv2.circle(layer, (int(c[0]), int(c[1])), int(wide / 2), 1.0, -1)
        tone = float(rng.uniform(30, 225))
        soft = cv2.GaussianBlur(layer, (0, 0), float(rng.uniform(0.8, 2.5)))
        canvas[:] = canvas * (1 - soft) + tone * soft
        return f"smudge={100 * area / ((x1 - x0) * (y1 - y0)):.0f}%"
    if kind in ("finger", "thumb"):  # from outside the code over an edge (finger) or a corner (thumb)
        if kind == "finger":
            t = float(rng.uniform(0.1, 0.9))
            edge = int(rng.integers(0, 4))
            tip = [(x0 + t * (x1 - x0), y1), (x0 + t * (x1 - x0), y0), (x0, y0 + t * (y1 - y0)),
                   (x1, y0 + t * (y1 - y0))][edge]
            width = side * rng.uniform(0.12, 0.25)
        else:
            tip = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)][int(rng.integers(0, 4))]
            width = side * rng.uniform(0.2, 0.35)
        inward = math.atan2((y0 + y1) / 2 - tip[1], (x0 + x1) / 2 - tip[0]) + float(rng.uniform(-0.5, 0.5))
        reach = side * float(rng.uniform(0.08, 0.3))  # how far past the edge the fingertip goes
        end = (tip[0] + math.cos(inward) * reach, tip[1] + math.sin(inward) * reach)
        far = (end[0] - math.cos(inward) * side * 2, end[1] - math.sin(inward) * side * 2)
        cv2.line(layer, (int(far[0]), int(far[1])), (int(end[0]), int(end[1])), 1.0, int(width))
        cv2.circle(layer, (int(end[0]), int(end[1])), int(width / 2), 1.0, -1)
        tone = float(rng.uniform(80, 210))
        soft = cv2.GaussianBlur(layer, (0, 0), float(rng.uniform(1.5, 4)))
        canvas[:] = canvas * (1 - soft) + tone * soft
        return kind
    if kind == "sticker":
        s = int(side * rng.uniform(0.1, 0.28))
        c = (int(rng.uniform(x0, x1)), int(rng.uniform(y0, y1)))
        if rng.random() < 0.5:
            cv2.circle(layer, c, s // 2, 1.0, -1)
        else:
            rect = ((float(c[0]), float(c[1])), (float(s), float(s * rng.uniform(0.4, 1.6))), float(rng.uniform(0, 90)))
            cv2.fillPoly(layer, [cv2.boxPoints(rect).astype(np.int32)], 1.0)
        tone = float(rng.choice([rng.uniform(0, 60), rng.uniform(180, 255)]))
        soft = cv2.GaussianBlur(layer, (0, 0), 1.2)
        canvas[:] = canvas * (1 - soft) + tone * soft
        return kind
    # A fold line: one side of the crease turned from the light, a thin dark or bright crease.
    cx, cy = float(rng.uniform(x0, x1)), float(rng.uniform(y0, y1))
    a = float(rng.uniform(0, math.pi))
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    dist = (xx - cx) * math.cos(a) + (yy - cy) * math.sin(a)
    shade = float(rng.uniform(0.55, 0.9))
    canvas[dist > 0] *= shade
    crease = np.exp(-(dist / rng.uniform(0.8, 2.5)) ** 2)
    canvas += float(rng.choice([-1, 1])) * float(rng.uniform(30, 90)) * crease
    return kind


def turned_pose(size: int, tilt: float, axis: float, distance: float, span: float) -> np.ndarray:
    """The perspective that shows a square patch of `size` px turned `tilt` radians in 3D about
    an axis at `axis` radians in the image, seen by a pinhole camera from `distance` times its
    width, `span` px across (width plus height of its outline, halved), its outline's corner at
    the origin."""
    k = np.array([math.cos(axis), math.sin(axis), 0.0])
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    rot = np.eye(3) + math.sin(tilt) * kx + (1 - math.cos(tilt)) * kx @ kx  # Rodrigues
    src = np.float32([[0, 0], [size, 0], [size, size], [0, size]])
    card = np.c_[(src - size / 2) / size, np.zeros(4)] @ rot.T + np.array([0.0, 0.0, distance])
    proj = card[:, :2] / card[:, 2:]
    proj *= span * 2 / (np.ptp(proj[:, 0]) + np.ptp(proj[:, 1]))
    return cv2.getPerspectiveTransform(src, (proj - proj.min(axis=0)).astype(np.float32))


def _turned(rng: np.random.Generator, size: int) -> tuple[np.ndarray | None, str]:
    """A pose for the slant family (and what it is, for the frame's detail); None if it does not fit."""
    tilt, axis = math.radians(float(rng.uniform(35, 65))), float(rng.uniform(0, math.pi))
    distance = float(rng.uniform(1.5, 4.0))
    # Turned where it was held: the side along the axis keeps its length, the other shrinks.
    m = turned_pose(size, tilt, axis, distance, size * (1 + math.cos(tilt)) / 2)
    corners = cv2.perspectiveTransform(np.float32([[[0, 0], [size, 0], [size, size], [0, size]]]), m)[0]
    span = corners.max(axis=0)
    if span[0] >= W - 4 or span[1] >= H - 4:
        return None, ""
    shift = np.array([[1, 0, rng.uniform(2, W - span[0] - 2)], [0, 1, rng.uniform(2, H - span[1] - 2)], [0, 0, 1]])
    return shift @ m, f"turned={math.degrees(tilt):.0f}deg axis={math.degrees(axis):.0f}deg distance={distance:.1f}"


def make_family_frame(family: str, index: int, seed: int = SEED) -> HardFrame:
    """Frame `index` of `family`; the same arguments always give the same pixels."""
    rng = np.random.default_rng([seed, FAMILIES.index(family), index])
    canvas = background(rng, W, H)
    raw = code_text(rng, index)
    matrix = _matrix(make_qr(raw))
    n = matrix.shape[0] - 8
    if family == "module":
        module = float(rng.uniform(1.4, 3.0))
    else:
        module = float(rng.uniform(130, 320)) / n  # px across the code: how far the pass is held
    ink, paper = float(rng.uniform(10, 60)), float(rng.uniform(150, 245))
    if family == "dark":  # light modules on a dark screen; the screen's glow lifts the black
        ink, paper = paper * rng.uniform(0.6, 0.95), ink + float(rng.uniform(0, 40))
    patch = _render(matrix, module, ink, paper)
    detail = [f"{family} {CODE_KINDS[index % 5]} v{(n - 17) // 4} module={module:.1f}"]
    if family == "curved":
        patch = _curve(patch, rng, paper)  # up to a third of a cylinder's round (hard_frames.py)
    if family in ("moire", "dark") and rng.random() < (1.0 if family == "moire" else 0.5):
        for _ in range(int(rng.integers(1, 3))):
            patch = _moire(patch, rng)
        detail.append("moire")
    if family == "slant":
        m, turn = _turned(rng, patch.shape[0])
        detail.append(turn)
    else:
        m = _warp(rng, patch.shape[0], float(rng.uniform(0, 0.1)))
    if m is None:  # a big code at 3 px per module does not fit: draw it smaller
        patch = cv2.resize(patch, (H - 40, H - 40), interpolation=cv2.INTER_AREA)
        m = _warp(rng, patch.shape[0], 0.0)
        assert m is not None
    mask = _place(canvas, patch, rng, m)
    ys, xs = np.nonzero(mask)
    box = (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))
    _clutter(rng, canvas, mask, int(rng.integers(0, 10)))
    allowed = _strangers(canvas, rng, mask.astype(bool).copy())
    if family == "glare":
        detail.append(_glare(canvas, rng, box))
    if family == "occlusion":
        detail.append(_occlude(canvas, rng, box))
    canvas = np.clip(canvas, 0, 255)
    if family == "motion":
        length = float(rng.uniform(10, 40))
        kernel, kind = _path_kernel(rng, length)
        canvas = cv2.filter2D(canvas, -1, kernel)
        detail.append(f"blur={kind}:{length:.0f}")
    img = _camera(rng, canvas)
    if family == "jpeg":
        if rng.random() < 0.4:  # a camera streaming a smaller picture, scaled up again
            f = float(rng.uniform(0.6, 0.85))
            img = cv2.resize(cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_AREA), (W, H))
            detail.append(f"scaled={f:.2f}")
        q = int(rng.integers(12, 46))
        img = cv2.imdecode(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, q])[1], cv2.IMREAD_GRAYSCALE)
        detail.append(f"jpeg={q}")
    text = decoded(raw)
    return HardFrame(index, img, text, frozenset(allowed | {text}), " ".join(detail))
