"""Finding a code's finders in a dim room's noise (finder_repair.finders_in_noise): a webcam at a
few photo-electrons a pixel breaks every finder's outline in the picture as it is, and the grid
rungs (finder_grid.py) then have nothing to start from. Frames are drawn here the way a sensor
counts light (photons, read noise, flare, auto gain, JPEG), so each test knows where the finders
are and what the code says."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from degrade import _place, background
from hard_frames import H, W, _matrix, _render, decoded

from station.capture import denoise, finder_repair
from station.capture.decoders import make_decoder
from station.capture.ladder import DEFAULT_RUNGS, DecodeLadder
from station.domain.qr_content import make_qr

TEXT = "Pq7Rs2Tu9Vw4"


def dim(module: float, photons: float, seed: int, text: str | None = TEXT) -> tuple[np.ndarray, list[np.ndarray]]:
    """A frame of `text`'s code (none if None) at `module` px, turned, seen with `photons`
    electrons at full white (read noise 5 e-, flare, auto gain to a dim mean, JPEG 60); and the
    frame's finder centres."""
    rng = np.random.default_rng(seed)
    angle = 15.0 + 30.0 * seed
    canvas = background(rng, W, H)
    centres: list[np.ndarray] = []
    if text is not None:
        matrix = _matrix(make_qr(text))
        patch = _render(matrix, module, 15, 235)
        c = patch.shape[0] / 2
        m = cv2.getRotationMatrix2D((c, c), angle, 1.0)
        m[:, 2] += (W / 2 - c, H / 2 - c)
        _place(canvas, patch, rng, m)
        n = matrix.shape[0] - 8
        for x, y in ((7.5, 7.5), (4 + n - 3.5, 7.5), (7.5, 4 + n - 3.5)):
            centres.append(m @ np.array([x * module, y * module, 1.0]))
    light = (canvas / 255.0) ** 2.2 * 0.6 + 0.1
    electrons = rng.poisson(light * photons).astype(np.float32) + rng.normal(0, 5.0, light.shape).astype(np.float32)
    light = electrons / photons
    light = light * (0.06 / light.mean())
    image = cv2.GaussianBlur((255 * np.clip(light, 0, 1) ** (1 / 2.2)).astype(np.uint8), (0, 0), 0.8)
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 60])
    assert ok
    return cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE), centres


def _near(found: list[finder_repair.Finder], centres: list[np.ndarray], module: float) -> int:
    return sum(any(math.hypot(f.x - c[0], f.y - c[1]) < 2 * module for f in found) for c in centres)


@pytest.mark.parametrize(("module", "photons", "seed"), [(13.0, 6.0, 1), (16.0, 4.0, 1), (16.0, 4.0, 2)])
def test_finders_the_noise_hides_are_found_in_the_picture_smoothed(module: float, photons: float, seed: int) -> None:
    frame, centres = dim(module, photons, seed)
    assert denoise.noise_level(frame) >= denoise.NOISY
    assert _near(finder_repair.finders(frame), centres, module) == 0
    assert _near(finder_repair.finders_in_noise(frame), centres, module) >= 2


def test_a_clean_picture_is_not_searched_again() -> None:
    frame, _ = dim(13.0, 6.0, 1)
    clean = cv2.GaussianBlur(frame, (0, 0), 3.0)  # the noise gone: nothing more to find
    assert denoise.noise_level(clean) < denoise.NOISY
    assert finder_repair.finders_in_noise(clean) == finder_repair.finders(clean)


CASES = [(module, photons, seed) for module in (10.0, 13.0, 16.0) for photons in (4.0, 6.0) for seed in (1, 2)]


def _read(frame: np.ndarray) -> list[str]:
    ladder = DecodeLadder(make_decoder("zxing"), rungs=DEFAULT_RUNGS, budget_ms=math.inf, every_code=True)
    return [d.text for d in ladder.decode(frame).detections]


def test_the_ladder_reads_more_dim_codes_and_nothing_else(monkeypatch: pytest.MonkeyPatch) -> None:
    frames = [dim(*case)[0] for case in CASES]
    found = [_read(f) for f in frames]
    monkeypatch.setattr(finder_repair, "finders_in_noise", finder_repair.finders)
    before = [_read(f) for f in frames]
    assert all(texts in ([], [decoded(TEXT)]) for texts in found + before)  # never anything else
    assert all(now for now, then in zip(found, before, strict=True) if then)  # none read before is lost
    assert sum(bool(t) for t in found) >= sum(bool(t) for t in before) + 3, (found, before)


def test_noise_without_a_code_reads_nothing() -> None:
    for seed in (3, 4):
        frame, _ = dim(13.0, 4.0, seed, text=None)
        assert _read(frame) == []
