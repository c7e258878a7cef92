"""The defocus rung: a photo whose lens was out of focus by most of a module is read once the
blur, estimated from the picture's edges, is undone; a sharp picture costs only the estimate;
blurred junk reads nothing. Pictures are drawn here: a code at 4-9 px a module, turned and
tilted, on a shaded wall, blurred by a Gaussian of a set share of a module, noisy, JPEG."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from small_codes import matrix_of, pass_text

from station.capture import defocus
from station.capture.decoders import make_decoder
from station.capture.ladder import DEFAULT_RUNGS, DecodeLadder
from station.domain.qr_content import make_qr

W, H = 1600, 1200


def _wall(rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    return 110 + 30 * np.sin(xx / 300 + rng.uniform(0, 6)) * np.cos(yy / 250 + rng.uniform(0, 6))


def _place(rng: np.random.Generator, canvas: np.ndarray, m: np.ndarray, module: float,
           centre: tuple[float, float]) -> None:
    n = m.shape[0]
    side = int(round((n + 8) * module))
    ink, paper = float(rng.uniform(20, 60)), float(rng.uniform(170, 235))
    patch = cv2.resize(np.where(np.pad(m, 4), ink, paper).astype(np.float32), (side, side),
                       interpolation=cv2.INTER_AREA)
    a = float(rng.uniform(0, 2 * math.pi))
    square = np.array([[0, 0], [side, 0], [side, side], [0, side]], np.float32)
    turn = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    placed = ((square - side / 2) @ turn.T * (1 + rng.uniform(-0.08, 0.08, (4, 1))) + np.array(centre))
    warped = cv2.warpPerspective(patch, cv2.getPerspectiveTransform(square, placed.astype(np.float32)),
                                 (canvas.shape[1], canvas.shape[0]), flags=cv2.INTER_LINEAR, borderValue=-1.0)
    canvas[warped >= 0] = warped[warped >= 0]


def _photo(rng: np.random.Generator, canvas: np.ndarray, sigma: float) -> np.ndarray:
    blurred = cv2.GaussianBlur(canvas, (0, 0), sigma) + rng.normal(0, 2.5, canvas.shape)
    img = np.clip(blurred, 0, 255).astype(np.uint8)
    return cv2.imdecode(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])[1], cv2.IMREAD_GRAYSCALE)


def defocused(rng: np.random.Generator, text: str, share: float) -> tuple[np.ndarray, float]:
    """`text`'s code out of focus by `share` of a module; and that blur in px."""
    module = float(rng.uniform(4.0, 9.0))
    canvas = _wall(rng)
    _place(rng, canvas, matrix_of(make_qr(text)), module, (W / 2 + rng.uniform(-200, 200), H / 2 + rng.uniform(-150, 150)))
    return _photo(rng, canvas, share * module), share * module


def _ladder(rungs: tuple[str, ...]) -> DecodeLadder:
    # No time limit: these tests count reads, and a slow machine must not turn a rung away.
    return DecodeLadder(make_decoder("zxing"), rungs=rungs, budget_ms=math.inf, every_code=True)


# The unsmeared rung reads the views the rung leaves (unsmeared_grid.py): without the rung, without it too
# (and its straight part, which reads the deblur rung's views).
WITHOUT = tuple(r for r in DEFAULT_RUNGS if r not in ("defocus", "unsmeared", "straight"))


@pytest.mark.parametrize("share", [0.4, 0.7])
def test_the_blur_is_estimated_from_the_picture(share: float) -> None:
    rng = np.random.default_rng(31)
    for _ in range(3):
        image, sigma = defocused(rng, pass_text(rng)[:90], share)
        found = defocus.blur_sigma(image)
        assert found is not None
        # Under the true blur on a code (edges a module apart), by up to a third: the rung's
        # views try 1.15, 1.0 and 1.5 times the estimate.
        assert 0.6 * sigma <= found <= 1.15 * sigma, (found, sigma)


def test_a_webcam_frame_in_focus_costs_only_the_estimate() -> None:
    rng = np.random.default_rng(5)
    canvas = np.ascontiguousarray(_wall(rng)[:720, :1280])
    _place(rng, canvas, matrix_of(make_qr(pass_text(rng)[:90])), 4.0, (640, 360))
    image = cv2.GaussianBlur(canvas, (0, 0), 0.6) + rng.normal(0, 3.0, canvas.shape)  # a webcam's lens
    image = np.clip(image, 0, 255).astype(np.uint8)
    found = defocus.blur_sigma(image)
    assert found is not None and found < 1.5, found
    assert list(defocus.undo(image, ())) == []


def test_the_filter_undoes_a_gaussian_blur() -> None:
    """Modules of 5 px blurred by 3.5 px (0.7 of a module): a threshold at each module's centre
    gets one in seven wrong; after the filter, none."""
    rng = np.random.default_rng(2)
    modules = rng.random((60, 60)) < 0.5
    sharp = cv2.resize(modules.astype(np.float32), None, fx=5, fy=5, interpolation=cv2.INTER_NEAREST) * 180 + 30
    blurred = cv2.GaussianBlur(sharp, (0, 0), 3.5) + rng.normal(0, 2.5, sharp.shape).astype(np.float32)
    undone = cv2.filter2D(blurred, -1, defocus.wiener_filter(3.5), borderType=cv2.BORDER_REPLICATE)
    inner = (slice(6, -6), slice(6, -6))  # the picture's own border is replicated, not known
    before = ((blurred[2::5, 2::5] > 120) != modules)[inner].mean()
    after = ((undone[2::5, 2::5] > 120) != modules)[inner].mean()
    assert before > 0.1 and after == 0.0, (before, after)
    # Centred: a filter off by a pixel would shift every module edge.
    k = defocus.wiener_filter(3.0)
    assert k.shape[0] == k.shape[1] and k.shape[0] % 2 == 1
    assert np.unravel_index(int(np.argmax(k)), k.shape) == (k.shape[0] // 2, k.shape[1] // 2)


def test_defocused_passes_read_with_the_rung_only() -> None:
    rng = np.random.default_rng(11)
    without, with_rung = _ladder(WITHOUT), _ladder(DEFAULT_RUNGS)
    missed = read = 0
    for _ in range(60):
        text = pass_text(rng)[:int(rng.integers(40, 150))]
        image, _ = defocused(rng, text, float(rng.uniform(0.62, 0.78)))
        if text in {d.text for d in without.decode(image).detections}:
            continue
        missed += 1
        result = with_rung.decode(image)
        if text in {d.text for d in result.detections}:
            read += 1
            assert result.rung in ("defocus", "unsmeared")  # unsmeared: the rung's views through the grid
    # Until session 23 this stopped at the sixth picture the other rungs missed (3 of them read
    # with the rung). The path rung's lower noise term (path_deblur.LOW_NOISE) now reads three of
    # those without it, so all 40 were drawn: 9 missed, 3 of them read with the rung. Session 25's
    # path rung, its rounds again on the region widened by a long path, reads two more of those
    # 40 without it (7 missed, 2 read with the rung), so 60 are drawn: 9 missed, 4 read with it.
    assert missed >= 6, missed  # the blur still defeats every other rung on some such pictures
    assert read >= 3, read


def test_past_a_read_the_rung_still_takes_the_whole_picture() -> None:
    """A sheet with a big code the plain try reads, a small one the blur hides, and a poster of
    bars busier than either: past the read, the region left to read is the poster's, and the
    small code is found only through the whole picture (fails if the rung took that region)."""
    rng = np.random.default_rng(4)
    for _ in range(30):
        canvas = _wall(rng)
        big, small = "BIG-" + pass_text(rng)[:8], pass_text(rng)[:int(rng.integers(60, 120))]
        _place(rng, canvas, matrix_of(make_qr(big)), 14.0, (330, 600))
        _place(rng, canvas, matrix_of(make_qr(small)), 6.0, (1200, 850))
        bars = (np.arange(420) // 9 % 2).astype(np.float32) * 220 + 20
        canvas[40:460, 820:1240] = bars[None, :] * (np.arange(420)[:, None] // 60 % 2) + bars[:, None] * (
            1 - np.arange(420)[:, None] // 60 % 2)
        image = _photo(rng, canvas, 6.0 * float(rng.uniform(0.62, 0.75)))
        got = {d.text for d in _ladder(WITHOUT).decode(image).detections}
        if got != {big}:
            continue
        result = _ladder(DEFAULT_RUNGS).decode(image)
        if {d.text for d in result.detections} == {big, small}:
            assert result.rung == "defocus"
            return
    pytest.fail("no sheet of the two codes read the small one through the rung")


def test_blurred_junk_reads_nothing() -> None:
    """Views of blurred clutter and of codes whose data is random: the engine's check holds."""
    from small_codes import junk

    rng = np.random.default_rng(8)
    engine = make_decoder("zxing")
    views = 0
    for i in range(12):
        if i % 2:
            canvas = _wall(rng)
            for _ in range(40):  # boxes and bars: edges everywhere, no code
                x, y = int(rng.integers(0, W - 80)), int(rng.integers(0, H - 80))
                canvas[y:y + int(rng.integers(5, 80)), x:x + int(rng.integers(5, 80))] = float(rng.uniform(0, 255))
            image = _photo(rng, canvas, float(rng.uniform(2.0, 5.0)))
        else:
            small, _ = junk(rng, str(rng.choice(list("LMQH"))))
            big = cv2.resize(small, None, fx=2.5, fy=2.5, interpolation=cv2.INTER_CUBIC)
            image = np.ascontiguousarray(_photo(rng, big.astype(np.float32), float(rng.uniform(2.0, 4.0)))[:H, :W])
        for view in defocus.undo(image, ()):
            views += 1
            assert engine.decode(view.image).detections == ()
    assert views >= 12  # the pictures were blurred enough for the rung to try them


def test_a_webcam_frame_out_of_focus_reads_too() -> None:
    """decode_bench's Gaussian blur frames (0.35-0.6 of a module; never used while building the
    rung) at 720p, which the rungs before the path rung miss: the rung alone reads 4 of 4 when
    written. The path, resample and washed rungs are left out on both sides: they read some of
    these too."""
    from degrade import make_frame

    rest = tuple(r for r in DEFAULT_RUNGS if r not in ("defocus", "path", "resample", "washed"))
    without = DecodeLadder(make_decoder("zxing"), rungs=rest, budget_ms=math.inf)
    with_rung = DecodeLadder(make_decoder("zxing"), rungs=rest + ("defocus",), budget_ms=math.inf)
    missed = gained = 0
    for i in range(24):
        frame = make_frame("gaussian_blur", i, "720p")
        want = set(frame.texts)
        if want <= {d.text for d in without.decode(frame.image).detections}:
            continue
        missed += 1
        got = {d.text for d in with_rung.decode(frame.image).detections}
        assert got <= want, f"false read in #{i} {frame.detail}"
        gained += want <= got
    assert missed >= 3 and gained >= 3, (missed, gained)
