"""Walking a two-finder guess of a code's grid onto its alignment patterns (alignment_walk.py): a
finger over one finder of a pass held at a slant leaves the regrid rung a guess whose far corner
is modules off. Frames are drawn here with the true corners known, so each test measures how
far off the grid is before and after the walk."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from degrade import _camera, _place, background
from hard_frames import H, W, _matrix, _render, decoded

from station.capture import alignment_walk, finder_grid, resample
from station.capture.decoders import ZxingDecoder, make_decoder
from station.capture.finder_repair import finders
from station.capture.ladder import DEFAULT_RUNGS, DecodeLadder
from station.domain.qr_content import make_qr

# A format-1 pass as printed before format 2: version 13 at level M, the densest the door sees.
TOKEN = "".join("AbcDefGhiJklMnoPqrStuVwxYz0123456789-_"[(i * 7 + 3) % 38] for i in range(250))
LONG_PASS = "https://passes.station.example/p/Xy7Qp2Lm9Rt4?token=" + TOKEN + ".sig"


def _pose(size: float, angle: float, slant: float, at: tuple[float, float]) -> np.ndarray:
    """A homography putting a `size` px square patch at `at`, turned by `angle` degrees, its
    bottom side `slant` of its width shorter (a pass tipped back)."""
    src = np.array([[0, 0], [size, 0], [size, size], [0, size]], np.float32)
    dst = np.array([[0, 0], [size, 0], [size * (1 - slant / 2), size], [size * slant / 2, size]], np.float32)
    a = math.radians(angle)
    turn = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]], np.float32)
    dst = (dst - size / 2) @ turn.T + np.array(at, np.float32)
    return cv2.getPerspectiveTransform(src, dst.astype(np.float32))


def scene(text: str, module: float, angle: float, slant: float, seed: int, finger: int | None = None,
          dark_mode: bool = False) -> tuple[np.ndarray, np.ndarray, int]:
    """A frame of the code (ink 30, paper 215, or the other way round), a finger over finder
    `finger` (0 top-left, 1 top-right, 2 bottom-left) if given; with the symbol's true corners
    and its version."""
    rng = np.random.default_rng(seed)
    qr = make_qr(text)
    matrix = _matrix(qr)
    n = matrix.shape[0] - 8
    patch = _render(matrix, module, 215, 30) if dark_mode else _render(matrix, module, 30, 215)
    m = _pose(float(patch.shape[0]), angle, slant, (W / 2, H / 2))
    canvas = background(rng, W, H)
    _place(canvas, patch, rng, m)

    def frame_point(x: float, y: float) -> np.ndarray:
        v = m @ np.array([x * module, y * module, 1.0])
        return v[:2] / v[2]

    corners = np.array([frame_point(4 + x, 4 + y) for x, y in ((0, 0), (n, 0), (n, n), (0, n))], np.float32)
    if finger is not None:
        # A fingertip: an ellipse 8 x 14 modules, skin grey, soft edged, over the finder and on
        # past the code's edge.
        fx, fy = ((3.5, 3.5), (n - 3.5, 3.5), (3.5, n - 3.5))[finger]
        tip = frame_point(4 + fx, 4 + fy)
        out = frame_point(4 + fx + (-6 if fx < n / 2 else 6), 4 + fy + (-6 if fy < n / 2 else 6))
        centre = (tip + out) / 2
        length = float(np.linalg.norm(out - tip)) + 8 * module
        along = math.degrees(math.atan2(*(out - tip)[::-1]))
        mask = np.zeros((H, W), np.float32)
        cv2.ellipse(mask, (int(centre[0]), int(centre[1])), (int(length / 2), int(4 * module)), along, 0, 360, 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), module)
        canvas = canvas * (1 - mask) + float(rng.uniform(140, 180)) * mask
    return _camera(rng, canvas), corners, qr.version


def _off(corners: np.ndarray, truth: np.ndarray, size: int) -> float:
    """The farthest corner's distance from the truth, in modules."""
    return float(np.linalg.norm(corners - truth, axis=1).max()) / resample.module_px(truth, size)


def _start(truth: np.ndarray, size: int) -> np.ndarray:
    """A two-finder guess (top-left and top-right seen): right along the top, the bottom corners
    extrapolated as if the code were seen square on (an affine map), as the regrid rung's guess
    does when it cannot know the slant."""
    across = (truth[1] - truth[0]) / size
    down = np.array([-across[1], across[0]])
    return np.array([truth[0], truth[1], truth[1] + size * down, truth[0] + size * down], np.float32)




@pytest.mark.parametrize(("module", "angle", "slant", "seed"),
                         [(3.5, 10.0, 0.12, 1), (4.0, -35.0, 0.15, 2), (3.0, 120.0, 0.2, 3), (5.0, 200.0, 0.18, 4),
                          (2.8, 60.0, 0.15, 5), (6.0, -100.0, 0.2, 6)])
def test_a_guess_modules_off_at_the_far_corners_is_walked_onto_the_code(
        module: float, angle: float, slant: float, seed: int) -> None:
    frame, truth, version = scene(LONG_PASS, module, angle, slant, seed)
    size = 17 + 4 * version
    assert version >= 13
    start = _start(truth, size)
    anchors = np.concatenate([finder_grid._finder_corners(role, size) for role in ("tl", "tr")])
    assert _off(start, truth, size) > 3.0  # the guess puts the bottom corners modules off
    walked = alignment_walk.walk(frame, start, version, anchors)
    # Within a module: the refinement after it (resample.fit) climbs the rest of the way.
    assert walked is not None
    assert _off(walked, truth, size) < 1.0


def test_a_dark_mode_code_is_walked_with_its_patterns_inverted() -> None:
    frame, truth, version = scene(LONG_PASS, 4.0, 25.0, 0.15, 5, dark_mode=True)
    size = 17 + 4 * version
    start = _start(truth, size)
    anchors = np.concatenate([finder_grid._finder_corners(role, size) for role in ("tl", "tr")])
    walked = alignment_walk.walk(frame, start, version, anchors, inverted=True)
    assert walked is not None and _off(walked, truth, size) < 1.0
    # Looked for as dark on light, the patterns are not where the grid is walked to.
    wrong = alignment_walk.walk(frame, start, version, anchors, inverted=False)
    assert wrong is None or _off(wrong, truth, size) > 2.0


def test_nothing_to_walk_on_gives_nothing() -> None:
    frame, truth, version = scene(LONG_PASS, 4.0, 0.0, 0.15, 6)
    size = 17 + 4 * version
    anchors = np.concatenate([finder_grid._finder_corners(role, size) for role in ("tl", "tr")])
    blank = np.full((H, W), 128, np.uint8)
    assert alignment_walk.walk(blank, _start(truth, size), version, anchors) is None
    noise = np.random.default_rng(7).integers(0, 256, (H, W)).astype(np.uint8)
    walked = alignment_walk.walk(noise, _start(truth, size), version, anchors)
    assert walked is None or _off(walked, truth, size) > 2.0  # never onto a code that is not there
    assert alignment_walk.walk(frame, truth, 1, anchors) is None  # version 1 has no pattern
    assert alignment_walk.centres(1) == [] and len(alignment_walk.centres(15)) == 13


# (module px, turn, slant, finger over): a finger over each finder in turn, the pass tipped back
# by 15-20 % (its far side that much narrower than its near side).
CASES = [(3.5, 15.0, 0.15, 0), (3.5, -20.0, 0.18, 1), (4.0, 100.0, 0.2, 2), (3.2, 190.0, 0.15, 0),
         (4.5, 40.0, 0.2, 1), (3.0, -60.0, 0.15, 2), (5.0, 160.0, 0.18, 0), (3.8, 250.0, 0.2, 1)]


def _reads(frame: np.ndarray) -> bool:
    plans = finder_grid.plans(frame)
    for plan in plans:
        view = plan(frame)
        if view is not None:
            return [d.text for d in ZxingDecoder().decode(view.image).detections] == [decoded(LONG_PASS)]
    return False


def test_a_slanted_code_with_a_finger_over_a_finder_is_read_from_the_other_two(
        monkeypatch: pytest.MonkeyPatch) -> None:
    frames = []
    for k, (module, angle, slant, finger) in enumerate(CASES):
        frame, _, _ = scene(LONG_PASS, module, angle, slant, 10 + k, finger=finger)
        assert not ZxingDecoder().decode(frame).detections
        assert len(finders(frame)) >= 2
        frames.append(frame)
    walked = [_reads(f) for f in frames]
    monkeypatch.setattr(alignment_walk, "walk", lambda *args, **kwargs: None)
    unwalked = [_reads(f) for f in frames]
    assert sum(walked) == len(CASES), walked
    assert sum(unwalked) <= len(CASES) / 4, unwalked  # the guesses as they are: the far corners too far off


def test_the_ladder_reads_what_no_rung_read_before(monkeypatch: pytest.MonkeyPatch) -> None:
    """The finger over the top-right finder: the finder rung's painted finder does not read them
    (the cases with the finger elsewhere it does), the walked two-finder guess does."""
    frames = [scene(LONG_PASS, *CASES[k][:3], 10 + k, finger=CASES[k][3])[0] for k in (1, 4, 7)]

    def read(frame: np.ndarray) -> tuple[list[str], str | None]:
        ladder = DecodeLadder(make_decoder("zxing"), rungs=DEFAULT_RUNGS, budget_ms=math.inf, every_code=True)
        result = ladder.decode(frame)
        return [d.text for d in result.detections], result.rung

    assert [read(f) for f in frames] == [([decoded(LONG_PASS)], "regrid")] * 3
    monkeypatch.setattr(alignment_walk, "walk", lambda *args, **kwargs: None)
    assert [read(f) for f in frames] == [([], None)] * 3
