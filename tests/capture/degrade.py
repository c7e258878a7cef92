"""Degraded camera frames with known contents, for the capture tests and the decode benchmark.

Every frame is made from a fixed seed, so a test that reads 7 of 8 frames today reads the same 7
tomorrow. Each bucket stresses one thing a cheap webcam at a door does to a pass; every frame
also gets a little sensor noise and lens softness, because no real frame is clean.

Payloads mix the three sizes a station meets: a bare 12-character code (QR version 2), a short
URL, and a full pass URL with its signed token (about 300 characters, QR version 16), because
a version-16 code at 2 px per module is a very different problem from a version-2 one.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import cv2
import numpy as np
import segno

CODE_BUCKETS: tuple[str, ...] = (
    "module_size",
    "rotation",
    "perspective",
    "gaussian_blur",
    "motion_blur",
    "noise",
    "low_contrast",
    "glare",
    "occlusion",
    "inverted",
    "clutter",
)
EMPTY_BUCKETS: tuple[str, ...] = ("finder_squares", "stripes")
BUCKETS: tuple[str, ...] = CODE_BUCKETS + EMPTY_BUCKETS

SIZES: dict[str, tuple[int, int]] = {"480p": (640, 480), "720p": (1280, 720), "1080p": (1920, 1080)}

_B62 = string.ascii_letters + string.digits
_B64URL = string.ascii_letters + string.digits + "-_"


@dataclass(frozen=True)
class DegradedFrame:
    bucket: str
    index: int
    image: np.ndarray  # grayscale uint8, what a camera delivers after cvtColor
    texts: tuple[str, ...]  # what is really in the frame (empty for no-code buckets)
    detail: str  # the parameters, to tell which frame failed


def _rand(rng: np.random.Generator, alphabet: str, n: int) -> str:
    return "".join(alphabet[i] for i in rng.integers(0, len(alphabet), n))


def payload(rng: np.random.Generator, kind: int) -> str:
    code = _rand(rng, _B62, 12)
    if kind % 3 == 0:
        return code
    if kind % 3 == 1:
        return f"https://tix.example.org/p/{code}"
    # Same length as a real signed token: base64url(claims JSON) "." base64url(Ed25519 signature).
    return f"https://passes.example.org/p/{code}?token={_rand(rng, _B64URL, 175)}.{_rand(rng, _B64URL, 86)}"


def qr_matrix(text: str, border: int = 4) -> np.ndarray:
    """The code as a 0/255 array, one pixel per module, quiet zone included."""
    rows = segno.make_qr(text, error="q").matrix
    m = np.array([list(r) for r in rows], dtype=np.uint8)
    m = np.pad(m, border, constant_values=0)
    return np.where(m == 1, 0, 255).astype(np.uint8)


def background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A dim, uneven room: a lighting gradient plus soft blotches."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a, b = rng.uniform(-0.08, 0.08, 2)
    base = rng.uniform(70, 150) + a * xx + b * yy
    blot = cv2.resize(rng.uniform(-25, 25, (6, 8)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(base + blot, 0, 255).astype(np.float32)


def _place(canvas: np.ndarray, patch: np.ndarray, rng: np.random.Generator, m: np.ndarray) -> np.ndarray:
    """Warp the patch onto the canvas with the 2x3 or 3x3 matrix m; returns the mask it covers."""
    h, w = canvas.shape
    if m.shape == (2, 3):
        warped = cv2.warpAffine(patch, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
        mask = cv2.warpAffine(np.ones_like(patch), m, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)
    else:
        warped = cv2.warpPerspective(patch, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
        mask = cv2.warpPerspective(np.ones_like(patch), m, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)
    canvas[mask > 0] = warped[mask > 0]
    return mask


def _code_patch(text: str, module: float, dark: float = 20.0, light: float = 235.0) -> np.ndarray:
    mat = qr_matrix(text)
    size = int(round(mat.shape[0] * module))
    # INTER_AREA keeps fractional module sizes honest (edges fall between pixels, as in a camera).
    img = cv2.resize(mat.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)
    return (dark + (light - dark) * img / 255.0).astype(np.float32)


def _affine(rng: np.random.Generator, patch: np.ndarray, w: int, h: int, angle: float) -> np.ndarray | None:
    ps = patch.shape[0]
    diag = int(ps * (abs(np.cos(np.radians(angle))) + abs(np.sin(np.radians(angle))))) + 2
    if diag >= min(w, h):
        return None
    cx = rng.uniform(diag / 2, w - diag / 2)
    cy = rng.uniform(diag / 2, h - diag / 2)
    m = cv2.getRotationMatrix2D((ps / 2, ps / 2), angle, 1.0)
    m[0, 2] += cx - ps / 2
    m[1, 2] += cy - ps / 2
    return m


def _motion_kernel(length: int, angle: float) -> np.ndarray:
    k = np.zeros((length, length), np.float32)
    k[length // 2, :] = 1.0
    r = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1.0)
    k = cv2.warpAffine(k, r, (length, length))
    return k / k.sum()


def _finder(size: int) -> np.ndarray:
    """A 7x7 finder pattern (1:1:3:1:1) scaled to size px: looks exactly like a QR corner."""
    f = np.full((7, 7), 255, np.uint8)
    f[0, :] = f[6, :] = f[:, 0] = f[:, 6] = 0
    f[2:5, 2:5] = 0
    return cv2.resize(f, (size, size), interpolation=cv2.INTER_NEAREST).astype(np.float32)


def _clutter(rng: np.random.Generator, canvas: np.ndarray, avoid: np.ndarray | None, n: int) -> None:
    """Text, boxes and grids: the lanyards, logos and posters behind a guest."""
    h, w = canvas.shape
    for _ in range(n):
        kind = int(rng.integers(0, 4))
        x, y = int(rng.integers(0, w - 60)), int(rng.integers(0, h - 40))
        colour = float(rng.choice([10.0, 240.0, rng.uniform(0, 255)]))
        layer = canvas.copy()
        if kind == 0:
            cv2.putText(layer, _rand(rng, _B62, int(rng.integers(3, 12))), (x, y + 30),
                        cv2.FONT_HERSHEY_SIMPLEX, rng.uniform(0.6, 2.0), colour, int(rng.integers(1, 4)))
        elif kind == 1:
            cv2.rectangle(layer, (x, y), (x + int(rng.integers(10, 120)), y + int(rng.integers(10, 120))),
                          colour, int(rng.choice([-1, 2, 4])))
        elif kind == 2:
            step = int(rng.integers(4, 14))
            for i in range(0, int(rng.integers(40, 160)), step):
                cv2.line(layer, (x + i, y), (x + i, y + 80), colour, 1)
                cv2.line(layer, (x, y + i // 2), (x + 120, y + i // 2), colour, 1)
        else:
            cv2.circle(layer, (x + 30, y + 20), int(rng.integers(5, 50)), colour, int(rng.choice([-1, 3])))
        if avoid is not None:
            layer[avoid > 0] = canvas[avoid > 0]
        canvas[:] = layer


def _camera(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """What every frame gets: lens softness and sensor noise."""
    img = cv2.GaussianBlur(img, (0, 0), 0.6)
    img = img + rng.normal(0, 3.0, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def make_frame(bucket: str, index: int, size: str = "720p", seed: int = 20240917) -> DegradedFrame:
    """Frame `index` of `bucket`; the same arguments always give the same pixels."""
    w, h = SIZES[size]
    rng = np.random.default_rng([seed, BUCKETS.index(bucket), index, w])
    canvas = background(rng, w, h)
    if bucket in EMPTY_BUCKETS:
        return _empty_frame(bucket, index, rng, canvas)

    text = payload(rng, index)
    module = float(rng.uniform(3.0, 6.0))
    angle = float(rng.uniform(-12, 12))  # nobody holds a phone perfectly straight
    dark, light = 20.0, 235.0
    detail = ""
    if bucket == "module_size":
        module = 2.0 + (index % 7) + float(rng.uniform(0, 0.9))
        detail = f"module={module:.1f}"
    elif bucket == "rotation":
        angle = float(rng.uniform(0, 360))
        detail = f"angle={angle:.0f}"
    elif bucket == "low_contrast":
        mid = float(rng.uniform(60, 190))
        span = float(rng.uniform(18, 40))
        dark, light = mid - span / 2, mid + span / 2
        detail = f"contrast={span:.0f}"
    elif bucket == "inverted":
        dark, light = light, dark  # phone in dark mode

    patch = _code_patch(text, module, dark, light)
    for _ in range(4):  # the biggest codes do not fit 640x480 at large module sizes: shrink
        if patch.shape[0] * 1.5 < min(w, h):
            break
        module *= 0.75
        patch = _code_patch(text, module, dark, light)

    if bucket == "perspective":
        ps = patch.shape[0]
        src = np.float32([[0, 0], [ps, 0], [ps, ps], [0, ps]])
        jitter = rng.uniform(-0.22, 0.22, (4, 2)).astype(np.float32) * ps
        dst = src + jitter
        dst -= dst.min(axis=0)
        span = dst.max(axis=0)
        off = np.float32([rng.uniform(0, max(1, w - span[0])), rng.uniform(0, max(1, h - span[1]))])
        mat = cv2.getPerspectiveTransform(src, dst + off)
        detail = f"jitter={np.abs(jitter).max() / ps:.2f}"
    else:
        mat = _affine(rng, patch, w, h, angle)
        assert mat is not None, "code does not fit the frame"
    mask = _place(canvas, patch, rng, mat)

    if bucket == "clutter":
        _clutter(rng, canvas, mask, 40)
        detail = "40 distractors"
    elif bucket == "occlusion":
        # A thumb over the data area. Covering a finder pattern defeats every decoder we tried
        # (docs/measured-facts.md), so the thumb lands between the finders, over up to ~12 % of the code.
        ps = patch.shape[0]
        frac = float(rng.uniform(0.18, 0.34))
        ow, oh = int(ps * frac), int(ps * frac * rng.uniform(0.9, 1.4))
        ox, oy = float(rng.uniform(0.32, 0.62) * ps), float(rng.uniform(0.35, 0.55) * ps)
        thumb = np.zeros_like(patch)
        cv2.ellipse(thumb, (int(ox + ow / 2), int(oy + oh / 2)), (ow // 2, oh // 2), 0, 0, 360, 1.0, -1)
        warped = cv2.warpAffine(thumb, mat, (w, h)) if mat.shape == (2, 3) else cv2.warpPerspective(thumb, mat, (w, h))
        canvas[warped > 0.5] = float(rng.uniform(120, 190))
        detail = f"thumb={frac:.2f}"
    elif bucket == "glare":
        ys, xs = np.nonzero(mask)
        cx, cy = float(rng.choice(xs)), float(rng.choice(ys))
        radius = float(patch.shape[0] * rng.uniform(0.2, 0.45))
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        spot = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * radius**2))
        strength = float(rng.uniform(150, 230))
        canvas = canvas + strength * spot  # light adds up and clips: the screen washes out
        detail = f"glare={strength:.0f}"

    canvas = np.clip(canvas, 0, 255)
    if bucket == "gaussian_blur":
        sigma = module * float(rng.uniform(0.35, 0.6))
        canvas = cv2.GaussianBlur(canvas, (0, 0), sigma)
        detail = f"sigma={sigma:.1f}"
    elif bucket == "motion_blur":
        length = int(rng.integers(5, 15))
        canvas = cv2.filter2D(canvas, -1, _motion_kernel(length, float(rng.uniform(0, 180))))
        detail = f"streak={length}"
    img = _camera(rng, canvas)
    if bucket == "noise":
        sigma = float(rng.uniform(18, 32))
        noisy = img.astype(np.float32) + rng.normal(0, sigma, img.shape).astype(np.float32)
        salt = rng.random(img.shape)
        noisy[salt < 0.01] = 0
        noisy[salt > 0.99] = 255
        img = np.clip(noisy, 0, 255).astype(np.uint8)
        detail = f"noise={sigma:.0f}"
    return DegradedFrame(bucket, index, img, (text,), detail or f"module={module:.1f}")


def _empty_frame(bucket: str, index: int, rng: np.random.Generator, canvas: np.ndarray) -> DegradedFrame:
    """Frames with nothing to read that look as much like a code as we can make them."""
    h, w = canvas.shape
    _clutter(rng, canvas, None, 15)
    if bucket == "finder_squares":
        # Three finder patterns in a QR's L arrangement with random "modules" between them:
        # everything a detector looks for, except a valid format and error-correction block.
        module = float(rng.uniform(3, 6))
        n = int(rng.choice([25, 33, 41, 57]))
        mods = (rng.random((n, n)) < 0.5).astype(np.uint8)
        grid = np.where(mods == 1, 0, 255).astype(np.uint8)
        fp = np.full((8, 8), 255, np.uint8)
        fp[:7, :7] = cv2.resize(_finder(7), (7, 7), interpolation=cv2.INTER_NEAREST)
        grid[:8, :8] = fp
        grid[:8, -8:] = fp[:, ::-1]
        grid[-8:, :8] = fp[::-1, :]
        grid = np.pad(grid, 4, constant_values=255)
        size = int(grid.shape[0] * module)
        patch = cv2.resize(grid, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)
        mat = _affine(rng, patch, w, h, float(rng.uniform(-20, 20)))
        if mat is not None:
            _place(canvas, patch, rng, mat)
        for _ in range(6):  # loose finder squares too
            s = int(rng.integers(14, 60))
            x, y = int(rng.integers(0, w - s)), int(rng.integers(0, h - s))
            canvas[y : y + s, x : x + s] = _finder(s)
        detail = f"fake n={n}"
    else:
        # 1D-barcode-like stripes and a checkerboard: strong periodic edges, no 2D code.
        for _ in range(3):
            bw, bh = int(rng.integers(150, 400)), int(rng.integers(60, 200))
            x, y = int(rng.integers(0, w - bw)), int(rng.integers(0, h - bh))
            pos = x
            while pos < x + bw:
                bar = int(rng.integers(1, 5)) * 2
                if rng.random() < 0.5:
                    canvas[y : y + bh, pos : pos + bar] = 15
                pos += bar
        cs = int(rng.integers(4, 10))
        board = (np.indices((24, 24)).sum(axis=0) % 2 * 230 + 10).astype(np.uint8)
        board = cv2.resize(board, (24 * cs, 24 * cs), interpolation=cv2.INTER_NEAREST)
        x, y = int(rng.integers(0, w - board.shape[1])), int(rng.integers(0, h - board.shape[0]))
        canvas[y : y + board.shape[0], x : x + board.shape[1]] = board
        detail = "stripes+checkerboard"
    return DegradedFrame(bucket, index, _camera(rng, canvas), (), detail)


def multi_code_frame(texts: list[str], size: str = "720p", seed: int = 7) -> np.ndarray:
    """Several codes side by side in one frame (a guest showing two phones, a sheet of passes)."""
    w, h = SIZES[size]
    rng = np.random.default_rng(seed)
    canvas = background(rng, w, h)
    cell = w // len(texts)
    for i, text in enumerate(texts):
        patch = _code_patch(text, 3.0)
        ps = patch.shape[0]
        assert ps < cell, "too many codes for the frame width"
        m = cv2.getRotationMatrix2D((ps / 2, ps / 2), float(rng.uniform(-10, 10)), 1.0)
        m[0, 2] += i * cell + (cell - ps) / 2
        m[1, 2] += (h - ps) / 2
        _place(canvas, patch, rng, m)
    return _camera(rng, canvas)
