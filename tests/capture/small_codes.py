"""Small-module codes drawn for the resample rung's tests and benchmark: a code (no quiet zone
given) at 1.5-4 px a module, turned and tilted a little, in a frame of a grey wall, blurred and
noisy, with its true corners (tests/capture/test_resample.py, benchmarks/resample_bench.py)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import segno

from station.capture import erasures
from station.capture.decoders import FailedSymbol

W, H = 640, 480


def matrix_of(qr: segno.QRCode) -> np.ndarray:
    return np.array(list(qr.matrix_iter(scale=1, border=0)), dtype=bool)


def pass_text(rng: np.random.Generator) -> str:
    return "HTTPS://PASSES.STATION.EXAMPLE/P/" + "".join(str(d) for d in rng.integers(0, 10, 120))


def draw(rng: np.random.Generator, m: np.ndarray, module: float, blur: float) -> tuple[np.ndarray, np.ndarray]:
    """`m` (no quiet zone) at `module` px a module, turned and tilted a little, in a frame of a
    grey wall, blurred and noisy; and the code's four corners in the frame."""
    n = m.shape[0]
    side = int(round((n + 8) * module))
    patch = cv2.resize(np.where(np.pad(m, 4), 35.0, 210.0).astype(np.float32), (side, side),
                       interpolation=cv2.INTER_AREA)
    square = np.array([[0, 0], [side, 0], [side, side], [0, side]], np.float32)
    a = float(rng.uniform(0, 2 * math.pi))
    turn = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    centre = np.array([W / 2, H / 2]) + rng.uniform(-60, 60, 2)
    placed = ((square - side / 2) @ turn.T * (1 + rng.uniform(-0.06, 0.06, (4, 1))) + centre).astype(np.float32)
    to_frame = cv2.getPerspectiveTransform(square, placed)
    warped = cv2.warpPerspective(patch, to_frame, (W, H), flags=cv2.INTER_LINEAR, borderValue=-1.0)
    frame = np.where(warped >= 0, warped, 120.0)
    frame = cv2.GaussianBlur(frame, (0, 0), blur) + rng.normal(0, 3.0, frame.shape)
    # The code's edges in the patch's pixel index coordinates (the warp's: a pixel's centre at
    # its index, so an edge half a pixel before it).
    inner = np.array([[4, 4], [4 + n, 4], [4 + n, 4 + n], [4, 4 + n]], np.float32) * (side / (n + 8)) - 0.5
    corners = cv2.perspectiveTransform(inner.reshape(-1, 1, 2), to_frame).reshape(4, 2)
    return np.clip(frame, 0, 255).astype(np.uint8), corners.astype(np.float32)


def junk(rng: np.random.Generator, level: str, versions: int = 10) -> tuple[np.ndarray, FailedSymbol]:
    """A code of version 1-`versions` at `level` with real function patterns (so a fit converges
    and its format is a code's) and random data, drawn at 1.6-4 px a module; and what an engine
    that located it would report: nothing may decode it."""
    version = int(rng.integers(1, versions + 1))
    qr = segno.make_qr("0", version=version, error=level, mask=int(rng.integers(0, 8)), boost_error=False)
    m = matrix_of(qr)
    fixed = erasures.function_patterns(version)
    m[~fixed] = rng.random(int((~fixed).sum())) < 0.5
    frame, corners = draw(rng, m, float(rng.uniform(1.6, 4.0)), float(rng.uniform(0.5, 0.9)))
    return frame, FailedSymbol(corners, version, level, qr.mask)
