"""The tiles rung (tiles.py): a code of 1.4-1.8 px a module away from where the ladder looks (a
bigger code or busy clutter draws its region elsewhere), read from the picture's tiles magnified."""

from __future__ import annotations

import math

import cv2
import numpy as np
from degrade import _camera, _clutter, _place, background
from hard_frames import H, W, _matrix, _render, _warp, decoded, pass_text

from station.capture import tiles
from station.capture.decoders import make_decoder
from station.capture.ladder import DEFAULT_RUNGS, DecodeLadder
from station.domain.qr_content import make_qr

WITHOUT = tuple(r for r in DEFAULT_RUNGS if r != "tiles")
POSTER = "https://example.org/menu/"


def ladder(rungs: tuple[str, ...]) -> DecodeLadder:
    return DecodeLadder(make_decoder("zxing"), rungs=rungs, budget_ms=math.inf, every_code=True)


def scene(seed: int) -> tuple[np.ndarray, str, set[str]]:
    """A 1280x720 frame: two or three posters' codes of 2-3.5 px modules (busier than the pass),
    clutter, and a pass of 1.4-1.7 px a module somewhere else; the pass's decoded text and the
    posters'."""
    rng = np.random.default_rng([seed, 25])
    canvas = background(rng, W, H)
    taken = np.zeros(canvas.shape, bool)
    codes = [(POSTER + str(int(rng.integers(1000, 9999))), float(rng.uniform(2.0, 3.5)))
             for _ in range(int(rng.integers(2, 4)))]
    codes.append((pass_text(rng, seed % 4), float(rng.uniform(1.4, 1.7))))
    texts = []
    for text, module in codes:
        patch = _render(_matrix(make_qr(text)), module, float(rng.uniform(10, 50)), float(rng.uniform(170, 240)))
        for _ in range(50):  # a place that does not overlap the other codes
            m = _warp(rng, patch.shape[0], 0.05)
            assert m is not None
            mask = _place(np.zeros_like(canvas), np.ones_like(patch), rng, m).astype(bool)
            if not (mask & taken).any():
                break
        _place(canvas, patch, rng, m)
        taken |= mask
        texts.append(decoded(text))
    _clutter(rng, canvas, taken.astype(np.uint8), int(rng.integers(12, 20)))
    return _camera(rng, np.clip(canvas, 0, 255)), texts[-1], set(texts[:-1])


def test_a_tiny_pass_beside_a_bigger_code_is_read_by_the_tiles_rung() -> None:
    # Past the posters' reads the ladder goes on to the busiest region left, often clutter; the
    # tiles rung looks everywhere. When written: 6 of 16 passes read without it, 10 with it.
    without = with_rung = 0
    for seed in range(16):
        frame, text, posters = scene(seed)
        other = {d.text for d in ladder(WITHOUT).decode(frame).detections}
        result = ladder(DEFAULT_RUNGS).decode(frame)
        read = {d.text for d in result.detections}
        assert other | read <= {text} | posters, (seed, other, read)  # no false read
        without += text in other
        with_rung += text in read
        assert not other - read  # what the other rungs read is still read
    assert with_rung >= without + 3, (without, with_rung)


def test_every_code_up_to_half_a_tile_lies_whole_in_a_tile() -> None:
    for n in (100, 320, 321, 480, 719, 720, 1080, 1281):
        starts = tiles._starts(n)
        assert starts[0] == 0 and starts[-1] + min(n, tiles.TILE) == n
        for a in range(0, max(1, n - tiles.TILE // 2) + 1, 7):  # a code from a to a + TILE / 2
            b = min(n, a + tiles.TILE // 2)
            assert any(s <= a and b <= s + tiles.TILE for s in starts), (n, a)


def test_a_flat_picture_gives_no_tile() -> None:
    flat = np.full((720, 1280), 128, np.uint8)
    assert list(tiles.tiles(flat, ())) == []
    busy = flat.copy()
    cv2.rectangle(busy, (900, 500), (1000, 600), 0, 3)
    views = list(tiles.tiles(busy, ()))
    assert views and views[0].scale == 4.0
    # The busiest tile first: the one holding the rectangle.
    assert views[0].dx <= 900 and views[0].dy <= 500 and views[0].dx + tiles.TILE >= 1000 and views[0].dy + tiles.TILE >= 600
