"""The magnify rung (region_rungs.magnify): codes of 1.4-1.8 px a module, which the engine does not
locate in the frame or in the region at 3x bicubic, read from the region at 4x (Lanczos) with its
edges sharpened; `station decode`'s ladder only."""

from __future__ import annotations

import math

import numpy as np
from hard_frames import decoded
from small_codes import draw, matrix_of, pass_text

from station.capture import region_rungs
from station.capture.decoders import make_decoder
from station.capture.ladder import DEFAULT_RUNGS, DecodeLadder, StreamLadder
from station.domain.qr_content import make_qr

# The tiles rung (tiles.py) hands the engine the same magnified view of every part of the frame,
# so it reads these too: left out with magnify to show what the magnified view gains.
WITHOUT = tuple(r for r in DEFAULT_RUNGS if r not in ("magnify", "tiles"))


def ladder(rungs: tuple[str, ...]) -> DecodeLadder:
    return DecodeLadder(make_decoder("zxing"), rungs=rungs, budget_ms=math.inf, every_code=True)


def tiny_codes(seed: int, count: int) -> list[tuple[str, np.ndarray]]:
    """Passes and their prefixes (20-120 characters) at 1.4-1.8 px a module, turned any way,
    tilted a little, blurred 0.5-0.8 px, noisy (small_codes.draw); seeded, not chosen by what reads."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        text = pass_text(rng)[: int(rng.integers(20, 120))]
        image, _ = draw(rng, matrix_of(make_qr(text)), float(rng.uniform(1.4, 1.8)), float(rng.uniform(0.5, 0.8)))
        out.append((decoded(text), image))
    return out


def test_codes_of_tiny_modules_are_read_by_the_magnify_rung_where_every_other_rung_fails() -> None:
    # When written (seed 5): of 24, every other rung with no time limit read 6; the rung alone 12,
    # those 6 among them; the whole ladder 12. A few under, so a change that loses reads shows.
    without = with_rung = alone = 0
    for text, image in tiny_codes(5, 24):
        others = {d.text for d in ladder(WITHOUT).decode(image).detections}
        result = ladder(DEFAULT_RUNGS).decode(image)
        only = {d.text for d in ladder(("magnify",)).decode(image).detections}
        assert others | only | {d.text for d in result.detections} <= {text}  # no false read
        without += text in others
        alone += text in only
        if text in {d.text for d in result.detections}:
            with_rung += 1
            if text not in others:
                assert result.rung in ("magnify", "tiles"), result.rung  # the magnified view
    assert without <= 8 and with_rung >= without + 4 and alone >= 10, (without, with_rung, alone)


def test_the_rung_magnifies_only_small_regions_and_keeps_the_frame_coordinates() -> None:
    # A region over 200 x 200 px (a code of big modules, or a region of clutter) makes no view: 16x
    # its pixels would cost more than the rung's reads are worth. A small one comes back at 4x,
    # placed where it was in the frame.
    gray = np.full((480, 640), 120, np.uint8)
    small = region_rungs.magnify(gray, ((100.0, 80.0, 200.0, 180.0),))
    big = region_rungs.magnify(gray, ((50.0, 40.0, 600.0, 440.0),))
    assert big == []
    assert len(small) == 1
    view = small[0]
    assert view.scale == 4.0 and view.image.shape[0] == 4 * (view.image.shape[0] // 4)
    x0, y0 = view.dx, view.dy
    assert 70 <= x0 <= 100 and 50 <= y0 <= 80  # the region's box, with its margin


def test_the_camera_never_takes_the_magnify_rung() -> None:
    # Its 16x view costs several ms when it runs, more than a camera frame's share of the ladder.
    single = ladder(DEFAULT_RUNGS)
    assert "magnify" in single.rungs
    assert "magnify" not in StreamLadder(single).rungs
