"""The disc_grid rung (disc_grid.py): a dense pass out of focus by a disc of 1.6-2.2 modules, whose
radius the disc rung measures from its rings but whose deconvolutions the engine cannot read,
read through the grid on the measured disc's deconvolution at full size. The passes are drawn
here as test_unsmeared_grid.py draws them (a dense format-1 pass, turned any way, a webcam's
softness, sensor noise and JPEG), blurred by a disc drawn 8x finer than the rung's kernel; not
the apart frames the rung was found on."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from apart_frames import disc_kernel
from hard_frames import decoded
from small_codes import pass_text
from test_defocus import _ladder, _wall
from test_path_deblur import smeared_pass
from test_unsmeared_grid import line, webcam

from station.capture import climb_memo, defocus, disc_grid, finder_repair
from station.capture.decoders import make_decoder
from station.capture.ladder import DEFAULT_RUNGS, StreamLadder

# What reads a lens-blurred pass without the rung, given all the time it needs: the defocus and
# disc rungs, and the unsmeared rung reading the disc rung's (scaled) views through the grid.
BEFORE = ("defocus", "disc", "unsmeared")
AFTER = ("defocus", "disc", "disc_grid", "unsmeared")


def far_out_of_focus(seed: int) -> tuple[str, np.ndarray]:
    """A dense pass at 3.2-4.5 px a module through a lens out of focus by a disc of 1.6-2.2 modules,
    a lens's softness, sensor noise and JPEG (at test_unsmeared_grid.py's webcam noise, 3-7 grey
    levels, these discs read 3 of 12 with the rung or without it: the noise the deconvolution
    lifts, not the locating, is what stops them there)."""
    rng = np.random.default_rng(seed)
    text = pass_text(rng)
    module = float(rng.uniform(3.2, 4.5))
    kernel = disc_kernel(float(rng.uniform(1.6, 2.2)) * module)
    frame = smeared_pass(kernel, module, float(rng.uniform(-40, 40)), seed, noise=False, text=text)
    frame = cv2.GaussianBlur(frame.astype(np.float32), (0, 0), float(rng.uniform(0.4, 0.8)))
    frame = np.clip(frame + rng.normal(0, float(rng.uniform(1.0, 3.0)), frame.shape), 0, 255).astype(np.uint8)
    jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(75, 95))])[1]
    return decoded(text), cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE)


def test_passes_far_out_of_focus_read_through_the_grid_at_the_measured_disc() -> None:
    before = after = early = 0
    for seed in range(16):
        text, image = far_out_of_focus(seed)
        old = {d.text for d in _ladder(BEFORE).decode(image).detections}
        result = _ladder(AFTER).decode(image)
        new = {d.text for d in result.detections}
        assert old | new <= {text}  # no false read
        before += text in old
        after += text in new
        early += result.rung == "disc_grid"
    # When written (seeds 0-15, no time limit): the disc rung alone read 8; with the unsmeared
    # rung reading its scaled views through the grid, 13; with this rung 15, 7 of them by this
    # rung: the 5 the unsmeared rung read, now one rung after the disc rung instead of after the
    # path rung (in `station decode`'s budget, the difference: docs/decode-benchmark.md), and 2 more.
    assert after >= before + 1 and after >= 13 and early >= 5, (before, after, early)


def test_a_picture_with_no_disc_measured_costs_the_rung_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # A smeared pass: the disc rung measures no disc there (disc_radius.py), so nothing is noted
    # and the rung searches for no finder.
    text, image = webcam(np.random.default_rng(4), pass_text(np.random.default_rng(4)),
                         smeared_pass(line(18.0, 0.7), 3.8, 12.0, 4, noise=False))
    searched: list[int] = []
    real = finder_repair.finders
    monkeypatch.setattr(finder_repair, "finders", lambda g: searched.append(1) or real(g))
    with climb_memo.one_climb():
        list(defocus.disc(image, ()))
        assert climb_memo.notes(defocus.RINGS, image) == []
        assert list(disc_grid.rung(image, ())) == []
    assert searched == []


def test_the_rung_reads_the_disc_rungs_measured_discs_only_within_a_climb() -> None:
    _, image = far_out_of_focus(0)
    with climb_memo.one_climb():
        assert list(disc_grid.rung(image, ())) == []  # the disc rung has not run: no disc noted
        list(defocus.disc(image, ()))
        assert climb_memo.notes(defocus.RINGS, image)
        assert list(disc_grid.rung(image, ()))
    assert list(disc_grid.rung(image, ())) == []  # outside a climb nothing is kept


def test_blurred_junk_reads_nothing_through_the_rung() -> None:
    """Clutter of squares and finder-like rings, out of focus by a disc: whatever the rung's
    finder search finds there, no grid it places decodes, and the engine reads nothing."""
    rng = np.random.default_rng(12)
    engine = make_decoder("zxing")
    measured = 0
    for _ in range(6):
        canvas = np.ascontiguousarray(_wall(rng)[:720, :1280])
        for _ in range(60):
            x, y = int(rng.integers(0, 1200)), int(rng.integers(0, 640))
            canvas[y:y + int(rng.integers(5, 80)), x:x + int(rng.integers(5, 80))] = float(rng.uniform(0, 255))
        for _ in range(6):  # finder-like targets: 1:1:3:1:1 squares
            m, x, y = float(rng.uniform(3, 6)), int(rng.integers(40, 1200)), int(rng.integers(40, 640))
            for k, shade in ((3.5, 0.0), (2.5, 255.0), (1.5, 0.0)):
                canvas[int(y - k * m):int(y + k * m), int(x - k * m):int(x + k * m)] = shade
        image = np.clip(cv2.filter2D(canvas, -1, disc_kernel(float(rng.uniform(6, 9))))
                        + rng.normal(0, 2.0, canvas.shape), 0, 255).astype(np.uint8)
        with climb_memo.one_climb():
            list(defocus.disc(image, ()))
            measured += len(climb_memo.notes(defocus.RINGS, image))
            for view in disc_grid.rung(image, ()):
                assert view is None or engine.decode(view.image).detections == ()
    assert measured >= 1  # the rings measured a disc somewhere: the rung had something to try


def test_the_camera_never_takes_the_rung() -> None:
    single = _ladder(DEFAULT_RUNGS)
    assert "disc_grid" in single.rungs
    assert "disc_grid" not in StreamLadder(single).rungs
