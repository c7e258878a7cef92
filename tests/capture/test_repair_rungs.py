"""The rungs that rebuild a code's geometry (issue 13 part 4): a finder pattern painted back where
a thumb covers it (finder_repair.py), and paper bent over a cylinder resampled flat (unbend.py).
Frames drawn here with the covered finder or the bend chosen, so each test knows what the rung
must undo; counts over the seeded frame families are in test_frame_families.py."""

from __future__ import annotations

import math
import time

import cv2
import numpy as np
import pytest
from degrade import _camera, _place, background
from hard_frames import W, H, _curve, _matrix, _render, decoded

from station.capture import machine_pace
from station.capture.decoders import ZxingDecoder, make_decoder
from station.capture import climb_memo, finder_repair, unbend
from station.capture.finder_repair import finders, guesses, squashed
from station.capture.ladder import CRUMPLE, DEFAULT_RUNGS, DecodeLadder, StreamLadder
from station.capture.sequence import SequenceReader
from station.capture.view import View
from station.domain.qr_content import make_qr

PASS = "https://passes.station.example/p/" + "2718281828459045235360287471352662497757247093699959574966967627"
# The rungs that place a code by its finders (the unsmeared and straight rungs read finder_grid's plans on
# the deconvolving rungs' views: two finders are enough for them too) left out.
OTHER_RUNGS = tuple(r for r in DEFAULT_RUNGS if r not in ("finder", "regrid", "unbend", "bent", "washed",
                                                                "unsmeared", "straight"))
# The finder rung's own test: finder_grid.py's rung reads a code with a covered finder too
# (tests/capture/test_finder_grid.py).
PAINTING = tuple(r for r in DEFAULT_RUNGS if r != "regrid")


def ladder(rungs: tuple[str, ...] = DEFAULT_RUNGS) -> DecodeLadder:
    return DecodeLadder(make_decoder("zxing"), rungs=rungs, budget_ms=math.inf, every_code=True)


def placed(patch: np.ndarray, angle: float, at: tuple[float, float], seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The patch rotated by `angle` degrees with its centre at `at` on a room background; the
    canvas (float) and the 3x3 matrix that put it there."""
    rng = np.random.default_rng(seed)
    canvas = background(rng, W, H)
    s = patch.shape[0]
    m = np.vstack([cv2.getRotationMatrix2D((s / 2, s / 2), angle, 1.0), [0, 0, 1]])
    m[0, 2] += at[0] - s / 2
    m[1, 2] += at[1] - s / 2
    _place(canvas, patch, rng, m)
    return canvas, m


def finder_centres(n: int, module: float, m: np.ndarray) -> list[tuple[float, float]]:
    """Frame coordinates of the three finder centres of an n-module code with a 4-module border."""
    pts = [(4 + 3.5, 4 + 3.5), (4 + n - 3.5, 4 + 3.5), (4 + 3.5, 4 + n - 3.5)]
    out = []
    for x, y in pts:
        v = m @ np.array([x * module, y * module, 1.0])
        out.append((float(v[0] / v[2]), float(v[1] / v[2])))
    return out


@pytest.mark.parametrize("covered", [0, 1, 2])
def test_a_thumb_over_any_finder_is_read_by_painting_the_finder_back(covered: int) -> None:
    matrix = _matrix(make_qr(PASS))
    n, module = matrix.shape[0] - 8, 5.0
    canvas, m = placed(_render(matrix, module, 30, 220), 12.0, (640, 360))
    centre = finder_centres(n, module, m)[covered]
    # A thumb: a skin-grey disk wider than the finder (7 modules), over it and the modules beside.
    cv2.circle(canvas, (int(centre[0]), int(centre[1])), int(5.5 * module), 150.0, -1)
    frame = _camera(np.random.default_rng(covered), canvas)
    text = decoded(PASS)

    assert not ZxingDecoder().decode(frame).detections
    assert not ladder(OTHER_RUNGS).decode(frame).detections  # no filter finds a code with two finders
    result = ladder(PAINTING).decode(frame)
    assert [d.text for d in result.detections] == [text] and result.rung == "finder"
    assert [d.text for d in ladder().decode(frame).detections] == [text]
    # The read is mapped back to the frame: its corners lie around the code's centre.
    xs = [p[0] for p in result.detections[0].corners]
    assert min(xs) < 640 < max(xs)


def test_one_climb_searches_a_picture_for_finders_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # The finder, unbend and regrid rungs each look for finders in the same picture: within one
    # ladder climb the search runs once a picture, and answers as it would alone.
    matrix = _matrix(make_qr(PASS))
    canvas, m = placed(_render(matrix, 5.0, 30, 220), 12.0, (640, 360))
    centre = finder_centres(matrix.shape[0] - 8, 5.0, m)[1]
    cv2.circle(canvas, (int(centre[0]), int(centre[1])), 28, 150.0, -1)
    frame = _camera(np.random.default_rng(5), canvas)
    alone = finders(frame)
    searched: list[int] = []
    real = finder_repair._search
    monkeypatch.setattr(finder_repair, "_search", lambda g: searched.append(id(g)) or real(g))
    with climb_memo.one_climb():
        assert finders(frame) == alone and finders(frame) == alone
        assert len(searched) == 1
        other = frame.copy()
        assert finders(other) == alone and len(searched) == 2  # another picture is searched
    assert finders(frame) == alone and len(searched) == 3  # outside a climb, every call searches
    searched.clear()
    result = ladder(("unbend", "finder")).decode(frame)  # unbend finds two finders, no code
    assert [d.text for d in result.detections] == [decoded(PASS)] and result.rung == "finder"
    assert result.tried == ("plain", "unbend", "finder") and len(searched) == 1


def test_two_finder_patterns_without_a_code_between_them_read_nothing() -> None:
    # Two lone finder patterns at a QR version's spacing, and noise where the code would be:
    # the rung guesses the third, paints it, and the error correction refuses every guess.
    rng = np.random.default_rng(11)
    canvas = np.full((H, W), 200.0, np.float32)
    canvas[300:480, 500:780] = rng.choice([30.0, 200.0], (180, 280))  # module-like noise
    for x in (400, 650):
        patch = np.full((7, 7), 1.0, np.float32)
        patch[1:6, 1:6] = 0.0
        patch[2:5, 2:5] = 1.0
        big = cv2.resize(patch, (35, 35), interpolation=cv2.INTER_NEAREST)
        canvas[200:235, x:x + 35] = 200 - 170 * big
    frame = _camera(rng, canvas)
    found = finders(frame)
    assert len(found) == 2
    assert guesses(found, frame)  # it did try
    result = ladder(("finder",)).decode(frame)
    assert result.detections == ()


def _curved(patch: np.ndarray, bend: float, sag: float) -> np.ndarray:
    """The generator's curve (hard_frames._curve) with this bend and sag."""

    class Paper:  # the generator's curve draws the bend, then the sag, from an rng: these give ours
        def uniform(self, lo: float, hi: float) -> float:
            return bend if (lo, hi) == (0.35, 1.1) else sag

    return _curve(patch, Paper(), 220.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(("bend", "sag", "angle"), [(0.9, 0.0, 0.0), (1.0, 0.04, 20.0), (0.8, -0.06, -35.0),
                                                   (0.5, 0.04, 160.0)])
def test_a_pass_on_paper_bent_over_a_cylinder_is_read_flat(bend: float, sag: float, angle: float) -> None:
    matrix = _matrix(make_qr(PASS))
    patch = _render(matrix, 5.0, 30, 220)

    canvas, _ = placed(_curved(patch, bend, sag), angle, (640, 360))
    frame = _camera(np.random.default_rng(int(bend * 10)), canvas)
    # The crumple rung (a grid fitted locally, early in the ladder) reads such a pass too; unbend's
    # own reading is what is tested here, so both ladders go without it.
    assert [d.text for d in ladder().decode(frame).detections] == [decoded(PASS)]
    assert not ladder(tuple(r for r in OTHER_RUNGS if r != CRUMPLE)).decode(frame).detections
    result = ladder(tuple(r for r in DEFAULT_RUNGS if r != CRUMPLE)).decode(frame)
    assert [d.text for d in result.detections] == [decoded(PASS)] and result.rung == "unbend"
    # The corners come back through the bend onto the frame: around the code's centre, turned as
    # the code is (cv2 turns anticlockwise on screen), about the code's width apart (205 px flat;
    # the generator's bend stretches the paper's middle, up to ~216 px at a bend of 1).
    tl, tr, br, bl = result.detections[0].corners
    cx, cy = sum(p[0] for p in (tl, tr, br, bl)) / 4, sum(p[1] for p in (tl, tr, br, bl)) / 4
    assert math.hypot(cx - 640, cy - 360) < 12
    turned = math.degrees(math.atan2(-(tr[1] - tl[1]), tr[0] - tl[0]))
    assert abs((turned - angle + 180) % 360 - 180) < 8, (turned, angle)
    assert 170 < math.hypot(tr[0] - tl[0], tr[1] - tl[1]) < 230


def _bent_and_slanted(bend: float, tilt: float, module: float, seed: int = 3,
                      size: tuple[int, int] = (W, H)) -> np.ndarray:
    """The pass on paper bent over a cylinder, then photographed at a slant: the far edge
    `tilt` of the code's side shorter, a near side longer, rolled 20 degrees, in the middle of
    a picture of `size`."""
    patch = _curved(_render(_matrix(make_qr(PASS)), module, 30, 220), bend, 0.0)
    s = patch.shape[0]
    k = tilt * s
    slanted = np.float32([[k, 0.6 * k], [s - 0.4 * k, 0], [s, s], [0, s - 0.3 * k]]) - s / 2
    turn = math.radians(20.0)
    rot = np.float32([[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]])
    w, h = size
    m = cv2.getPerspectiveTransform(np.float32([[0, 0], [s, 0], [s, s], [0, s]]),
                                    np.float32(slanted @ rot.T + (w / 2, h / 2)))
    canvas = background(np.random.default_rng(seed), w, h).astype(np.float32)
    warped = cv2.warpPerspective(patch, m, (w, h), flags=cv2.INTER_LINEAR)
    on = cv2.warpPerspective(np.ones_like(patch), m, (w, h), flags=cv2.INTER_NEAREST) > 0
    canvas[on] = warped[on]
    return _camera(np.random.default_rng(seed), canvas)


@pytest.mark.parametrize(("bend", "tilt", "module"), [(0.8, 0.15, 5.0), (1.0, 0.15, 6.0), (0.8, 0.22, 5.0)])
def test_a_bent_pass_seen_at_a_slant_is_laid_flat_through_the_finders_corners(
        bend: float, tilt: float, module: float, monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _bent_and_slanted(bend, tilt, module)
    result = ladder(("unbend",)).decode(frame)
    assert [d.text for d in result.detections] == [decoded(PASS)] and result.rung == "unbend"
    # The corners come back through the bend and the slant onto the frame, round the code's centre.
    cx = sum(p[0] for p in result.detections[0].corners) / 4
    cy = sum(p[1] for p in result.detections[0].corners) / 4
    assert math.hypot(cx - 640, cy - 360) < 40, (cx, cy)
    # Its finders are square, but their corners show the bend: in a photo (bigger than a camera's
    # frame) the bent rung reads it from the few views that fit them best, early in the ladder; in
    # a camera's frame it leaves it to unbend.
    with climb_memo.one_climb():
        assert list(unbend.bent(frame, ())) == []
    photo = _bent_and_slanted(bend, tilt, module, size=(2048, 1536))
    with climb_memo.one_climb():
        views = list(unbend.bent(photo, ()))
    assert 1 <= len(views) <= len(unbend._EARLY_SAGS) * unbend._BEST_FITS
    assert any(d.text == decoded(PASS) for v in views for d in make_decoder("zxing").decode(v.image).detections)
    # The three centres' affine frame alone (the rung before the fit) leaves the slant in the grid.
    monkeypatch.setattr(unbend, "_fit", lambda f, three, axis, bend: (f.affine(), math.inf))
    assert not ladder(("unbend",)).decode(frame).detections


def _bent_and_turned(bend: float, squeeze: float, angle: float, seed: int = 7) -> np.ndarray:
    """The pass on paper bent over a cylinder (no sag), then seen turned away so that it is
    `squeeze` as wide, and rolled by `angle` degrees: each finder is crowded across the bend and
    again by the turn, past what the finder search takes as square (a phone's photo of a
    wristband or a ticket curled in a hand)."""
    patch = _render(_matrix(make_qr(PASS)), 5.0, 30, 220)

    curved = _curved(patch, bend, 0.0)
    s = curved.shape[0]
    narrow = cv2.resize(curved, (int(s * squeeze), s), interpolation=cv2.INTER_AREA)
    turned = np.full((s, s), 220.0, np.float32)
    x0 = (s - narrow.shape[1]) // 2
    turned[:, x0:x0 + narrow.shape[1]] = narrow
    canvas, _ = placed(turned, angle, (640, 360))
    return _camera(np.random.default_rng(seed), canvas)


@pytest.mark.parametrize(("bend", "squeeze", "angle"), [(1.0, 0.65, 25.0), (1.1, 0.6, -70.0)])
def test_a_bent_pass_whose_finders_are_squashed_is_read_by_the_bent_rung(bend: float, squeeze: float,
                                                                         angle: float) -> None:
    frame = _bent_and_turned(bend, squeeze, angle)
    # Each finder is 1.7-2 times as long as it is wide: not square, so no rung that pairs or
    # triples square finders has a code to place, and every other rung misses it too.
    assert finders(frame) == [] and len(squashed(frame)) == 3
    assert not ladder(tuple(r for r in DEFAULT_RUNGS if r != "bent")).decode(frame).detections
    result = ladder().decode(frame)
    assert [d.text for d in result.detections] == [decoded(PASS)] and result.rung == "bent"
    assert [d.text for d in ladder(("bent",)).decode(frame).detections] == [decoded(PASS)]


def test_square_finders_are_not_squashed_and_the_bent_rung_leaves_their_code_to_the_others() -> None:
    # A flat pass: its finders are square, none squashed, and the bent rung has nothing to
    # flatten (it costs such a picture only the finder search the later rungs share).
    canvas, _ = placed(_render(_matrix(make_qr(PASS)), 5.0, 30, 220), 12.0, (640, 360))
    frame = _camera(np.random.default_rng(1), canvas)
    assert len(finders(frame)) == 3 and squashed(frame) == []
    assert list(unbend.bent(frame, ())) == []
    # In a photo, a flat pass at a slant may pass for bent (how far the flat code's homography
    # misses the finders' corners tells a bend only roughly: unbend.py), but costs the rung at
    # most its ten views.
    photo = _bent_and_slanted(1e-3, 0.15, 5.0, size=(2048, 1536))
    with climb_memo.one_climb():
        assert len(finders(photo)) == 3
        assert len(list(unbend.bent(photo, ()))) <= len(unbend._EARLY_SAGS) * unbend._BEST_FITS
    # And a squashed pass's finders are squashed only: one finder is never both.
    bent = _bent_and_turned(1.1, 0.6, -70.0)
    assert not {(round(f.x), round(f.y)) for f in finders(bent)} & {(round(f.x), round(f.y)) for f in squashed(bent)}


def test_the_bent_rung_comes_right_after_crumple_in_station_decode_only() -> None:
    at = DEFAULT_RUNGS.index("bent")
    assert DEFAULT_RUNGS[at - 1] == CRUMPLE and at < DEFAULT_RUNGS.index("unbend")
    assert "bent" not in StreamLadder(ladder()).rungs


def test_a_rung_of_guesses_stops_at_its_deadline() -> None:
    # The camera's ladder has a few ms a frame: a rung of ~70 guessed views must stop between two
    # of them when the frame's time is up, not finish its list.
    matrix = _matrix(make_qr(PASS))
    canvas, m = placed(_render(matrix, 5.0, 30, 220), 12.0, (640, 360))
    c = finder_centres(matrix.shape[0] - 8, 5.0, m)[2]
    cv2.circle(canvas, (int(c[0]), int(c[1])), 28, 150.0, -1)
    frame = _camera(np.random.default_rng(0), canvas)
    calls: list[View] = []

    class Counting(ZxingDecoder):
        def decode(self, gray: np.ndarray):  # type: ignore[no-untyped-def]
            calls.append(View(gray))
            return super().decode(gray)

    now = [0.0]
    station = DecodeLadder(Counting(), rungs=("finder",), budget_ms=math.inf, clock=lambda: now[0])
    assert station.run_rung("finder", frame, (), deadline=-1.0) == ()
    assert calls == []  # past its deadline before the first guess: no decoder call
    assert station.run_rung("finder", frame, (), deadline=None)  # with time, the guesses read it
    assert 1 <= len(calls) <= 72


def _thumb_frames(n: int) -> list[np.ndarray]:
    """A still pass with a thumb over its top-right finder, frame after frame (new sensor noise each)."""
    matrix = _matrix(make_qr(PASS))
    canvas, m = placed(_render(matrix, 5.0, 30, 220), -8.0, (600, 380))
    c = finder_centres(matrix.shape[0] - 8, 5.0, m)[1]
    cv2.circle(canvas, (int(c[0]), int(c[1])), 28, 150.0, -1)
    return [_camera(np.random.default_rng(i), canvas) for i in range(n)]


def test_the_camera_reads_a_ticket_held_by_a_thumb_over_a_finder_within_a_second() -> None:
    # The sequence reader's geometry step tries one repaired view a frame and reads it; without
    # the step the camera's path never does. No frame spends more than its three calls.
    frames = _thumb_frames(30)
    text = decoded(PASS)

    def first_read(reader: SequenceReader) -> tuple[int, str | None]:
        for i, frame in enumerate(frames):
            result = reader.decode(frame)
            assert sum(step in SequenceReader.STEPS for step in result.tried) <= 3
            if text in {d.text for d in result.detections}:
                return i, result.rung
        return -1, None

    def verify(t: str) -> bool:
        return t == text

    # The camera's budgets are in the development machine's ms: on a machine three times slower
    # the geometry step does not fit a frame and runs once in half a second (sequence.py), so
    # "within a second" is checked on a clock that runs at the development machine's pace (and
    # the rungs' prior costs at it: pace=1.0).
    def pace() -> float:
        return time.process_time() / machine_pace.slowness()

    without = SequenceReader(DecodeLadder(clock=pace, pace=1.0), verify=verify,
                             steps=tuple(s for s in SequenceReader.STEPS if s != "geometry"))
    assert first_read(without) == (-1, None)
    at, rung = first_read(SequenceReader(DecodeLadder(clock=pace, pace=1.0), verify=verify))
    assert 0 <= at < 30 and rung == "geometry", (at, rung)


def test_a_step_too_dear_for_the_frame_still_runs_now_and_then() -> None:
    """On a machine where the geometry step never fits the camera's frame budget (here each of
    its views costs 30 ms of a fake clock against 25 ms), it is not skipped for ever: it runs
    once in half a second, and the thumb-covered pass is read by it, late rather than never."""
    from capture_fakes import CountingDecoder, StepClock

    from station.capture.sequence import _STARVED_FRAMES

    clock = StepClock()

    class DearGeometry(SequenceReader):
        first = True

        def _next_geometry(self, current):  # type: ignore[no-untyped-def]
            clock.now += 0.030
            if self.first:  # the first try learns the cost and reads nothing
                self.first = False
                return np.full_like(current.image, 128), 1.0
            return super()._next_geometry(current)

    text = decoded(PASS)
    reader = DearGeometry(DecodeLadder(CountingDecoder(clock), clock=clock, pace=1.0), verify=lambda t: t == text)
    runs, read_at = [], None
    for i, frame in enumerate(_thumb_frames(30) * 6):
        result = reader.decode(frame)
        if "geometry" in result.tried:
            runs.append(i)
        if text in {d.text for d in result.detections}:
            read_at = i
            break
    assert len(runs) == 2 and runs[1] - runs[0] > _STARVED_FRAMES, runs
    assert read_at == runs[-1], (read_at, runs)


@pytest.mark.parametrize("photons, module", [(6, 4.0), (16, 6.0)])
def test_a_dim_rooms_speckle_is_cleaned_before_the_finder_search(photons: int, module: float) -> None:
    # A dim room, the webcam's gain turned up: white is a few photo-electrons, so the Otsu split
    # falls inside the noise and breaks into ~60,000-95,000 contours, whose search took up to 1.8 s
    # of a 1080p frame (finder_repair._SPECKLE). Cleaned, each binary searched holds a fifth of
    # that (when written), and the code's three finders are still found.
    matrix = _matrix(make_qr(PASS))
    n = matrix.shape[0] - 8
    canvas, m = placed(_render(matrix, module, 30, 220), 8.0, (640, 360))
    rng = np.random.default_rng(photons)
    electrons = rng.poisson(np.clip(canvas, 0, 255) / 255 * photons) + rng.normal(0, 1.5, canvas.shape)
    frame = np.clip(electrons / photons * 255 * 0.6, 0, 255).astype(np.uint8)

    _, otsu = cv2.threshold(frame, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    raw = len(cv2.findContours(otsu, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)[0])
    assert finder_repair._speckled(otsu) and raw > 50_000  # the frame is as dim as meant
    searched = [len(cv2.findContours(b, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)[0])
                for b in finder_repair._binaries(frame)]
    assert max(searched) < raw / 3, (raw, searched)
    found = finders(frame)
    for x, y in finder_centres(n, module, m):
        assert any(math.hypot(f.x - x, f.y - y) < module for f in found), ((x, y), found)
