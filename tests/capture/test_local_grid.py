"""The crumple rung (local_grid.py): a code on a crumpled or creased sheet, whose modules a
crumple has moved by up to a module or more, each part of the code its own way, read through a
grid fitted locally. The sheets are drawn here (neither the frame families' nor the apart
frames' generator): a smooth field of a few bumps of different sizes and a crease (a line across
which the sheet steps) moves the printed code, the creases shade it, and it is placed in
perspective, blurred and noisy."""

from __future__ import annotations

import math

import cv2
import numpy as np
from small_codes import junk, matrix_of

from station.capture import local_grid
from station.capture.decoders import FailedSymbol, make_decoder
from station.capture.ladder import CRUMPLE, RESAMPLE, DecodeLadder
from station.domain.qr_content import make_qr

W, H = 800, 600


def _field(rng: np.random.Generator, side: int, reach: float) -> tuple[np.ndarray, np.ndarray]:
    """A crumple's displacement (px, x and y) over a `side`-px square: 3-6 bumps of 8-30 % of
    the side with random directions, and a crease stepping the sheet, scaled so the largest move
    is `reach` px."""
    ys, xs = np.mgrid[0:side, 0:side].astype(np.float32)
    dx, dy = np.zeros_like(xs), np.zeros_like(xs)
    for _ in range(int(rng.integers(3, 7))):
        cx, cy = rng.uniform(0, side, 2)
        width = float(rng.uniform(0.08, 0.3)) * side
        bump = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * width ** 2))
        a = float(rng.uniform(0, 2 * math.pi))
        dx += math.cos(a) * bump * rng.uniform(0.4, 1.0)
        dy += math.sin(a) * bump * rng.uniform(0.4, 1.0)
    a = float(rng.uniform(0, 2 * math.pi))
    across = (xs - side / 2) * math.cos(a) + (ys - side / 2) * math.sin(a) - rng.uniform(-0.3, 0.3) * side
    step = 0.5 * (1 + np.tanh(across / (0.03 * side)))  # a crease: one side of the line moved
    b = float(rng.uniform(0, 2 * math.pi))
    dx += 0.6 * math.cos(b) * step
    dy += 0.6 * math.sin(b) * step
    largest = float(np.hypot(dx, dy).max())
    return dx * reach / largest, dy * reach / largest


def crumpled(rng: np.random.Generator, text: str, reach: float) -> np.ndarray:
    """`text`'s code printed at 6-10 px a module on a sheet crumpled by up to `reach` modules,
    the sheet shaded along its bumps, placed turned and tilted in a frame, blurred and noisy."""
    m = matrix_of(make_qr(text))
    module = float(rng.uniform(6.0, 10.0))
    side = int(round((m.shape[0] + 8) * module))
    flat = cv2.resize(np.where(np.pad(m, 4), 30.0, 225.0).astype(np.float32), (side, side),
                      interpolation=cv2.INTER_AREA)
    dx, dy = _field(rng, side, reach * module)
    ys, xs = np.mgrid[0:side, 0:side].astype(np.float32)
    sheet = cv2.remap(flat, xs - dx, ys - dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # The crumple's slopes face the light differently: shade by the field's divergence.
    slope = cv2.Sobel(dx, cv2.CV_32F, 1, 0, ksize=3) + cv2.Sobel(dy, cv2.CV_32F, 0, 1, ksize=3)
    sheet *= np.clip(1.0 - 0.5 * slope, 0.6, 1.15)
    square = np.array([[0, 0], [side, 0], [side, side], [0, side]], np.float32)
    a = float(rng.uniform(0, 2 * math.pi))
    turn = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    scale = min(1.0, 0.8 * H / (side * 1.42))
    centre = np.array([W / 2, H / 2]) + rng.uniform(-40, 40, 2)
    placed = ((square - side / 2) @ turn.T * scale * (1 + rng.uniform(-0.05, 0.05, (4, 1))) + centre)
    to_frame = cv2.getPerspectiveTransform(square, placed.astype(np.float32))
    warped = cv2.warpPerspective(sheet, to_frame, (W, H), flags=cv2.INTER_LINEAR, borderValue=-1.0)
    frame = np.where(warped >= 0, warped, float(rng.uniform(60, 140)))
    frame = cv2.GaussianBlur(frame, (0, 0), float(rng.uniform(0.5, 1.0))) + rng.normal(0, 3.0, frame.shape)
    return np.clip(frame, 0, 255).astype(np.uint8)


def _ladder(rungs: tuple[str, ...]) -> DecodeLadder:
    # No time limit: the test counts reads, and a slow machine must not turn a rung away.
    return DecodeLadder(make_decoder("zxing"), rungs=rungs, budget_ms=math.inf)


def _text(rng: np.random.Generator) -> str:
    return "HTTPS://PASSES.STATION.EXAMPLE/P/" + "".join(str(d) for d in rng.integers(0, 10, int(rng.integers(8, 90))))


def test_codes_on_crumpled_sheets_read_through_a_grid_fitted_locally() -> None:
    without = with_rung = 0
    rng = np.random.default_rng(30)
    for _ in range(20):
        text = _text(rng)
        image = crumpled(rng, text, float(rng.uniform(0.9, 1.8)))
        others = {d.text for d in _ladder((RESAMPLE,)).decode(image).detections}
        got = {d.text for d in _ladder((RESAMPLE, CRUMPLE)).decode(image).detections}
        assert others | got <= {text}  # no false read
        without += text in others
        with_rung += text in got
    # When written: seed 30, without the rung 8 of 20 read, with it 19 (seeds 28, 29, 31: 14 -> 18,
    # 5 -> 20, 13 -> 17; no false read). A few under, so a change that loses reads shows.
    assert with_rung >= without + 8, (without, with_rung)


def test_a_flat_code_needs_no_whole_module_shift() -> None:
    rng = np.random.default_rng(3)
    image = crumpled(rng, "HTTPS://PASSES.STATION.EXAMPLE/P/123", 0.01)
    attempt = make_decoder("zxing").decode(image)
    assert attempt.detections  # read plainly: its corners are the engine's
    corners = np.array(attempt.detections[0].corners, np.float32)
    size = matrix_of(make_qr("HTTPS://PASSES.STATION.EXAMPLE/P/123")).shape[0]
    rectified = local_grid._rectified(image, corners, size)
    assert rectified is not None
    wrapped, weight = local_grid._phases(rectified, size)
    shifts = local_grid._unwrapped(wrapped, weight, local_grid._finder_cores(size)[0])
    assert float(np.abs(shifts).max()) < 0.5  # within half a module everywhere: no module moved


def test_junk_codes_decode_as_nothing() -> None:
    rng = np.random.default_rng(5)
    for _ in range(30):
        frame, symbol = junk(rng, "M", versions=7)
        assert not any(p is not None for p in local_grid.painted(frame, symbol))


def test_a_symbol_with_corners_that_are_not_numbers_gives_nothing() -> None:
    corners = np.full((4, 2), np.nan, np.float32)
    assert list(local_grid.painted(np.zeros((100, 100), np.uint8), FailedSymbol(corners, 2, "M", 0))) == []
