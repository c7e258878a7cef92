"""The disc rung (defocus.disc): a lens out of focus blurs by a disc, whose spectrum turns negative
past a radius of about a module, where the Gaussian views of the defocus rung restore the finest
pattern with its sign wrong. Pictures are drawn here as test_defocus.py draws them, with a disc
(the aperture's image) instead of a Gaussian."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from small_codes import matrix_of, pass_text
from test_defocus import _ladder, _place, _wall

from station.capture import defocus
from station.capture.decoders import make_decoder
from station.capture.ladder import DEFAULT_RUNGS, StreamLadder
from station.domain.qr_content import make_qr

W, H = 1280, 960
# The unsmeared rung reads the views the rung leaves (unsmeared_grid.py): without the rung, without it too
# (and its straight part, which reads the deblur rung's views).
# And without the path rung, which estimates any one-piece kernel: since its rounds at half size
# (path_deblur._from_half_size, session 35) it reads 21 of the 24 below with no time limit (5 before),
# after the disc rung in the ladder and at several times its cost.
WITHOUT = tuple(r for r in DEFAULT_RUNGS if r not in ("disc", "unsmeared", "straight", "path"))


def disc_blurred(rng: np.random.Generator, text: str, share: float) -> np.ndarray:
    """`text`'s code at 4-8 px a module, out of focus by a disc of `share` of a module in radius;
    sensor noise, JPEG."""
    module = float(rng.uniform(4.0, 8.0))
    canvas = np.ascontiguousarray(_wall(rng)[:H, :W])
    _place(rng, canvas, matrix_of(make_qr(text)), module, (W / 2 + rng.uniform(-150, 150), H / 2 + rng.uniform(-100, 100)))
    blurred = cv2.filter2D(canvas, -1, defocus.disc_kernel(share * module)) + rng.normal(0, 2.0, canvas.shape)
    img = np.clip(blurred, 0, 255).astype(np.uint8)
    return cv2.imdecode(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])[1], cv2.IMREAD_GRAYSCALE)


def test_passes_out_of_focus_by_a_disc_of_a_module_read_with_the_rung() -> None:
    without = with_rung = 0
    rng = np.random.default_rng(26)
    for _ in range(24):
        text = pass_text(rng)[:int(rng.integers(40, 150))]
        image = disc_blurred(rng, text, float(rng.uniform(1.0, 1.5)))
        others = {d.text for d in _ladder(WITHOUT).decode(image).detections}
        result = _ladder(DEFAULT_RUNGS).decode(image)
        got = {d.text for d in result.detections}
        assert others | got <= {text}  # no false read
        without += text in others
        with_rung += text in got
    # When written (seed 26): of 24 drawn at 1.0-1.5 modules, the ladder without the rung read 5
    # (no time limit, all by the path rung), with it 18. A few under, so a change that loses reads
    # shows. Without the path rung too (session 35): 0 without, with it 24.
    assert without <= 7 and with_rung >= without + 10, (without, with_rung)


def test_the_disc_is_centred_and_keeps_the_light() -> None:
    for radius in (2.0, 4.7, 8.3):
        k = defocus.disc_kernel(radius)
        assert k.shape[0] == k.shape[1] and k.shape[0] % 2 == 1
        assert abs(float(k.sum()) - 1.0) < 1e-5
        c = k.shape[0] // 2
        assert np.allclose(k, k[::-1, ::-1]) and float(k[c, c]) == float(k.max())
        # its area is the disc's, within the anti-aliased rim
        assert abs(float((k > 0).sum()) - math.pi * radius**2) < 2 * math.pi * radius + 4


def test_blurred_junk_reads_nothing_through_the_disc() -> None:
    """Disc views of blurred clutter (edges everywhere, no code): the engine's check holds."""
    rng = np.random.default_rng(9)
    engine = make_decoder("zxing")
    views = 0
    for _ in range(6):
        canvas = np.ascontiguousarray(_wall(rng)[:H, :W])
        for _ in range(60):
            x, y = int(rng.integers(0, W - 80)), int(rng.integers(0, H - 80))
            canvas[y:y + int(rng.integers(5, 80)), x:x + int(rng.integers(5, 80))] = float(rng.uniform(0, 255))
        image = np.clip(cv2.filter2D(canvas, -1, defocus.disc_kernel(float(rng.uniform(4, 8))))
                        + rng.normal(0, 2.0, canvas.shape), 0, 255).astype(np.uint8)
        for view in defocus.disc(image, ()):
            views += 1
            assert engine.decode(view.image).detections == ()
    assert views >= 12  # the pictures were blurred enough for the rung to try them


def test_the_camera_never_takes_the_disc_rung() -> None:
    single = _ladder(DEFAULT_RUNGS)
    assert "disc" in single.rungs
    assert "disc" not in StreamLadder(single).rungs


def test_one_climb_estimates_the_pictures_blur_once_for_both_rungs(monkeypatch: pytest.MonkeyPatch) -> None:
    # The defocus rung and the disc rung right after it both start from the picture's blur
    # estimate (~10 ms at 720p): within one climb it is worked out once (climb_memo.py).
    rng = np.random.default_rng(3)
    image = disc_blurred(rng, pass_text(rng), 1.6)
    estimated: list[int] = []
    real = defocus.blur_sigma
    monkeypatch.setattr(defocus, "blur_sigma", lambda g: estimated.append(id(g)) or real(g))
    result = _ladder(("defocus", "disc")).decode(image)
    assert result.tried[1:] == ("defocus", "disc")  # both rungs ran (a disc of 1.6 modules: neither reads)
    assert len(estimated) == 1
    assert list(defocus.disc(image, ())) and len(estimated) == 2  # outside a climb, every call estimates
