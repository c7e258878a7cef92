"""Reading a code from two of its finder patterns (finder_grid.py): a lamp's band or spot washes a
finder out, the engine cannot locate the code, and painting the finder back (finder_repair.py)
leaves the engine measuring the module across the glare's white run. Frames are drawn here with
the washed-out finder chosen, so each test knows what the rung must read."""

from __future__ import annotations

import math
import time

import cv2
import numpy as np
import pytest
import segno
from degrade import _camera, _place, background
from hard_frames import H, W, _matrix, _render, decoded

from station.capture import erasures, finder_grid, machine_pace
from station.capture.decoders import ZxingDecoder, make_decoder
from station.capture.finder_repair import finders
from station.capture.ladder import DEFAULT_RUNGS, DecodeLadder
from station.capture.sequence import SequenceReader
from station.domain.qr_content import make_qr

PASS = "https://passes.station.example/p/" + "1414213562373095048801688724209698078569671875376948"
# Each reads finder_grid's grids (unsmeared and straight: on the deconvolving rungs' views).
WITHOUT = tuple(r for r in DEFAULT_RUNGS if r not in ("regrid", "washed", "unsmeared", "straight"))
NOT_PAINTING = tuple(r for r in DEFAULT_RUNGS if r != "finder")  # the rung before it that reads some


def ladder(rungs: tuple[str, ...]) -> DecodeLadder:
    return DecodeLadder(make_decoder("zxing"), rungs=rungs, budget_ms=math.inf, every_code=True)


def _pose(size: float, angle: float, tilt: float, at: tuple[float, float]) -> np.ndarray:
    """A homography putting a `size` px square patch at `at`, turned by `angle` degrees, its
    right side `tilt` of its height shorter (a pass held at a slant)."""
    src = np.array([[0, 0], [size, 0], [size, size], [0, size]], np.float32)
    dst = np.array([[0, 0], [size, tilt * size / 2], [size, size - tilt * size / 2], [0, size]], np.float32)
    a = math.radians(angle)
    turn = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]], np.float32)
    dst = (dst - size / 2) @ turn.T + np.array(at, np.float32)
    return cv2.getPerspectiveTransform(src, dst.astype(np.float32))


def glared(text: str, module: float, covered: int, angle: float, tilt: float, seed: int,
           mirror: bool = False, spot: bool = False) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """A frame of the code with a bright band across the corner of finder `covered` (0 top-left,
    1 top-right, 2 bottom-left), or a lamp's spot on it, clipping it to white; and the frame's
    three finder centres."""
    canvas, centres = glared_scene(text, module, covered, angle, tilt, seed, mirror, spot)
    return _camera(np.random.default_rng(seed), canvas), centres


def glared_scene(text: str, module: float, covered: int, angle: float, tilt: float, seed: int,
                 mirror: bool = False, spot: bool = False) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """`glared`'s scene before the camera: a camera sees it frame after frame with new noise."""
    rng = np.random.default_rng(seed)
    matrix = _matrix(make_qr(text))
    if mirror:
        matrix = matrix.T.copy()
    n = matrix.shape[0] - 8
    patch = _render(matrix, module, 30, 215)
    m = _pose(float(patch.shape[0]), angle, tilt, (W / 2, H / 2))
    canvas = background(rng, W, H)
    _place(canvas, patch, rng, m)
    centres = []
    for x, y in ((7.5, 7.5), (4 + n - 3.5, 7.5), (7.5, 4 + n - 3.5)):
        v = m @ np.array([x * module, y * module, 1.0])
        centres.append((float(v[0] / v[2]), float(v[1] / v[2])))
    cx, cy = centres[covered]
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    if spot:  # a lamp's reflection: an ellipse 12 x 8 modules, hard edged
        u, v = (xx - cx) / (6.0 * module), (yy - cy) / (4.0 * module)
        light = np.exp(-((u * u + v * v) ** 3))
    else:  # a window's band, 10 modules wide, across the corner (square to the code's diagonal)
        d = np.array([cx, cy]) - m[:2, :2] @ np.array([patch.shape[1] / 2, patch.shape[0] / 2]) - m[:2, 2]
        d /= np.linalg.norm(d)
        dist = (xx - cx) * d[0] + (yy - cy) * d[1]
        light = np.exp(-np.abs(dist / (5.0 * module)) ** 6)
    canvas += 260.0 * light
    return canvas, centres


CASES = [(0, 4.0, 10.0, 0.2, False, False), (1, 6.0, -25.0, 0.3, False, True), (2, 5.0, 140.0, 0.1, False, False),
         (1, 12.0, 60.0, 0.25, False, False), (0, 5.0, 30.0, 0.15, True, True), (2, 3.5, -70.0, 0.2, False, True)]


@pytest.mark.parametrize(("covered", "module", "angle", "tilt", "mirror", "spot"), CASES)
def test_a_finder_washed_out_by_glare_is_read_from_the_other_two(
        covered: int, module: float, angle: float, tilt: float, mirror: bool, spot: bool) -> None:
    frame, centres = glared(PASS, module, covered, angle, tilt, covered + int(module), mirror, spot)
    seen = finders(frame)
    washed = centres[covered]
    assert not any(math.hypot(f.x - washed[0], f.y - washed[1]) < 3 * module for f in seen)  # the glare took it
    assert not ZxingDecoder().decode(frame).detections
    result = ladder(NOT_PAINTING).decode(frame)
    assert [d.text for d in result.detections] == [decoded(PASS)] and result.rung == "regrid", result
    assert [d.text for d in ladder(DEFAULT_RUNGS).decode(frame).detections] == [decoded(PASS)]
    # Mapped back to the frame: the read's corners lie around the code's centre.
    xs, ys = [p[0] for p in result.detections[0].corners], [p[1] for p in result.detections[0].corners]
    assert min(xs) < W / 2 < max(xs) and min(ys) < H / 2 < max(ys)


def test_without_the_rung_half_of_them_are_not_read() -> None:
    # The same frames through every other rung: painting the finder back (finder_repair.py) reads
    # some, and the others not at all; and nothing else reads any of them.
    painted = 0
    for covered, module, angle, tilt, mirror, spot in CASES:
        frame, _ = glared(PASS, module, covered, angle, tilt, covered + int(module), mirror, spot)
        result = ladder(WITHOUT).decode(frame)
        assert result.rung in (None, "finder")
        painted += result.rung == "finder"
    assert painted <= len(CASES) // 2


def test_two_lone_finders_and_noise_read_nothing() -> None:
    # Two finder patterns at a version's spacing with module-like noise where the code would be:
    # the rung samples a grid for each guess, and the error correction refuses every one.
    rng = np.random.default_rng(11)
    canvas = np.full((H, W), 200.0, np.float32)
    canvas[300:480, 500:780] = rng.choice([30.0, 200.0], (180, 280))
    for x in (400, 650):
        patch = np.full((7, 7), 1.0, np.float32)
        patch[1:6, 1:6] = 0.0
        patch[2:5, 2:5] = 1.0
        canvas[200:235, x:x + 35] = 200 - 170 * cv2.resize(patch, (35, 35), interpolation=cv2.INTER_NEAREST)
    frame = _camera(rng, canvas)
    assert len(finders(frame)) == 2
    views = list(finder_grid.regrid(frame, ()))
    assert views and all(v is None for v in views)  # it tried, and nothing decoded
    assert ladder(("regrid",)).decode(frame).detections == ()


def test_a_finders_corners_are_found_under_perspective() -> None:
    module = 6.0
    matrix = _matrix(make_qr(PASS))
    patch = _render(matrix, module, 30, 215)
    m = _pose(float(patch.shape[0]), 35.0, 0.3, (W / 2, H / 2))
    rng = np.random.default_rng(2)
    canvas = background(rng, W, H)
    _place(canvas, patch, rng, m)
    frame = _camera(rng, canvas)
    corners = cv2.perspectiveTransform(np.array([[[x, y] for x, y in ((4, 4), (11, 4), (11, 11), (4, 11))]],
                                                np.float32) * module, m)[0]
    centre = corners.mean(axis=0)
    f = min(finders(frame), key=lambda f: math.hypot(f.x - centre[0], f.y - centre[1]))
    assert len(f.quad) == 4
    for c in corners:  # each true corner has a found one within a module
        assert min(math.hypot(c[0] - x, c[1] - y) for x, y in f.quad) < module


@pytest.mark.parametrize("hidden", [0, 1])
def test_the_format_is_read_from_whichever_copy_is_visible(hidden: int) -> None:
    version = 7
    rows, cols = erasures.format_places(version)[hidden]
    for level in "LMQH":
        for mask in range(8):
            qr = segno.make_qr("STATION", version=version, error=level, mask=mask, boost_error=False)
            dark = np.array(list(qr.matrix_iter(scale=1, border=0)), bool)
            lost = np.zeros_like(dark)
            lost[rows, cols] = True
            dark[rows, cols] = ~dark[rows, cols]  # the hidden copy reads wrong, and is known lost
            dark[8, 0] = ~dark[8, 0] if hidden else dark[8, 0]  # one wrong module in the copy read
            assert finder_grid.formats(erasures.Grid(dark, lost), version)[0] == (level, mask)


def junk_scene(rng: np.random.Generator, i: int, wash_finder: bool) -> tuple[np.ndarray, int, str, int]:
    """A code of a random version and level (by `i`) whose data modules are random, its top-right
    finder washed out when `wash_finder`: the scene, the version, the level, and its px across."""
    version, level = int(rng.integers(1, 12)), "LMQH"[i % 4]
    m = np.array(list(segno.make_qr("X", version=version, error=level, boost_error=False)
                      .matrix_iter(scale=1, border=0)), np.uint8)
    data = ~erasures.function_patterns(version)
    m[data] = rng.random(int(data.sum())) < 0.5
    if wash_finder:
        m[:8, m.shape[0] - 8:] = 0
    patch = _render(np.pad(m, 4), float(rng.uniform(3, 8)), 30, 220)
    canvas = np.full((H, W), 200.0, np.float32)
    s = min(patch.shape[0], H - 20)
    canvas[10:10 + s, 100:100 + s] = patch[:s, :s]
    return canvas, version, level, s


def test_junk_under_real_finders_timing_and_format_never_decodes() -> None:
    # The worst case for a reader that sets the grid itself: everything but the data is a real
    # code's (finders, timing, format, alignment), the data random, one finder washed out. Every
    # grid the rung samples passes its gates and reaches the Reed-Solomon check, which must
    # refuse it (300 such codes, 2,740 grids: none decoded; docs/decode-benchmark.md).
    rng = np.random.default_rng(1)
    grids = 0
    for i in range(24):
        canvas, version, level, _ = junk_scene(rng, i, wash_finder=True)
        views = list(finder_grid.regrid(_camera(rng, canvas), ()))
        grids += len(views)
        assert all(v is None for v in views), (version, level)
    assert grids >= 24  # every code's grid was tried


def test_the_camera_reads_a_pass_held_still_with_glare_over_a_finder() -> None:
    # A pass held still under a lamp whose spot sits on a finder: the camera's geometry step reads
    # the grid from the other two (one guess a frame, taking turns with the painted finder);
    # without the step it is never read. Frames at 30 fps, new sensor noise each.
    canvas, _ = glared_scene(PASS, 5.0, 1, -25.0, 0.3, 7, spot=True)
    frames = [_camera(np.random.default_rng(i), canvas) for i in range(60)]
    text = decoded(PASS)

    def first_read(reader: SequenceReader) -> tuple[int, str | None]:
        for i, frame in enumerate(frames):
            result = reader.decode(frame)
            if text in {d.text for d in result.detections}:
                return i, result.rung
        return -1, None

    # The camera's budgets are in the development machine's ms (machine_pace.py): checked on a
    # clock at that pace, as test_repair_rungs.py's thumb test is (the rungs' prior costs too:
    # pace=1.0).
    def pace() -> float:
        return time.process_time() / machine_pace.slowness()

    def verify(t: str) -> bool:
        return t == text

    without = SequenceReader(DecodeLadder(clock=pace, pace=1.0), verify=verify,
                             steps=tuple(s for s in SequenceReader.STEPS if s != "geometry"))
    assert first_read(without) == (-1, None)
    at, rung = first_read(SequenceReader(DecodeLadder(clock=pace, pace=1.0), verify=verify))
    assert 0 <= at < 60 and rung == "geometry", (at, rung)


def lifted(text: str, seed: int) -> np.ndarray:
    """A frame of the code under a band of glare that lifts the ink under it (by 120-180 grey
    levels, 4-8 modules wide, anywhere across the code at any angle) without clipping it all:
    the ink under the band is lighter than the paper beside it."""
    rng = np.random.default_rng(seed)
    matrix = _matrix(make_qr(text))
    module = float(rng.uniform(200, 300)) / (matrix.shape[0] - 8)
    patch = _render(matrix, module, float(rng.uniform(20, 50)), float(rng.uniform(170, 215)))
    m = _pose(float(patch.shape[0]), float(rng.uniform(0, 360)), float(rng.uniform(0.05, 0.3)), (W / 2, H / 2))
    canvas = background(rng, W, H)
    _place(canvas, patch, rng, m)
    at = m @ np.array([rng.uniform(0, patch.shape[1]), rng.uniform(0, patch.shape[0]), 1.0])
    a = float(rng.uniform(0, math.pi))
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    dist = (xx - at[0] / at[2]) * math.cos(a) + (yy - at[1] / at[2]) * math.sin(a)
    canvas += float(rng.uniform(120, 180)) * np.exp(-np.abs(dist / (rng.uniform(2, 4) * module)) ** 6)
    return _camera(rng, canvas)


def _reads(frame: np.ndarray, text: str, washed: bool) -> bool:
    """Whether regrid's plans (or the washed rung's) read `text` in the frame."""
    for plan in finder_grid.plans(frame, washed=washed):
        view = plan(frame)
        if view is not None and text in {d.text for d in ZxingDecoder().decode(view.image).detections}:
            return True
    return False


def test_a_band_of_glare_that_lifts_the_ink_is_read_from_the_stretched_crop() -> None:
    # Under the band the ink is lighter than the paper beside it: the engine does not locate the
    # code (the band crosses a finder) or its check fails, and regrid's grid, sampled against one
    # level, fails as well. Stretched (finder_grid._looks), the modules get their contrast back.
    # Of 60 such frames drawn while building it, 31 the engine missed: 29 read, 0 without.
    unread = read = read_plain = 0
    for seed in range(24):
        text = PASS if seed % 2 else "XK7Q2M9PLA4T"
        frame = lifted(text, seed)
        if ZxingDecoder().decode(frame).detections:
            continue
        unread += 1
        read += _reads(frame, decoded(text), washed=True)
        read_plain += _reads(frame, decoded(text), washed=False)
    assert unread >= 6, unread
    assert read >= 0.75 * unread and read_plain == 0, (unread, read, read_plain)


def test_three_finders_are_taken_as_one_code_only_when_they_make_its_corners() -> None:
    # Two codes side by side at one module size: six finders, of which only each code's own three
    # make a right angle with sides of about one length, so two codes are found, each its own
    # corners with the roles the layout gives them.
    module, rng = 5.0, np.random.default_rng(4)
    canvas = background(rng, W, H)
    truth = []
    for text, at in ((PASS, (W / 2 - 200, H / 2)), ("XK7Q2M9PLA4T" * 3, (W / 2 + 200, H / 2 + 30))):
        matrix = _matrix(make_qr(text))
        n = matrix.shape[0] - 8
        patch = _render(matrix, module, 30, 215)
        m = _pose(float(patch.shape[0]), 12.0, 0.15, at)
        _place(canvas, patch, rng, m)
        centres = [m @ np.array([x * module, y * module, 1.0]) for x, y in
                   ((7.5, 7.5), (4 + n - 3.5, 7.5), (7.5, 4 + n - 3.5))]
        truth.append([(float(c[0] / c[2]), float(c[1] / c[2])) for c in centres])
    found = finders(_camera(rng, canvas))
    assert len(found) == 6
    codes = list(finder_grid.all_three(found))
    assert len(codes) == 2
    for seen, _, got_module in codes:
        assert [role for role, _ in seen] == ["tl", "tr", "bl"]
        points = [(f.x, f.y) for _, f in seen]
        code = min(truth, key=lambda t: math.hypot(t[0][0] - points[0][0], t[0][1] - points[0][1]))
        for (x, y), (tx, ty) in zip(points, code, strict=True):
            assert math.hypot(x - tx, y - ty) < module, (points, code)
        assert abs(got_module - module) < 1.0


def test_the_ladder_reads_with_the_washed_rung_what_every_other_rung_misses() -> None:
    # Most such frames a cheaper rung reads (a local threshold, the half-size picture); the ones it
    # does not, only the washed rung does, after every other (one of the eight here).
    without = tuple(r for r in DEFAULT_RUNGS if r != "washed")
    only_washed = 0
    for seed in range(24):
        text = PASS if seed % 2 else "XK7Q2M9PLA4T"
        frame = lifted(text, seed)
        if ZxingDecoder().decode(frame).detections:
            continue
        before = ladder(without).decode(frame)
        after = ladder(DEFAULT_RUNGS).decode(frame)
        assert [d.text for d in after.detections] == [decoded(text)], seed  # every one is read
        if not before.detections:
            assert after.rung == "washed"
            only_washed += 1
        else:
            assert after.rung == before.rung  # the rung comes last: what others read is theirs
    assert only_washed >= 1


def test_junk_under_real_finders_never_decodes_in_the_washed_rung_either() -> None:
    # As above, for the washed rung's grids: the stretch makes flat paper and noise look like
    # modules, so junk must still fail the check, with one finder washed out (the guesses) and
    # with all three in view (all_three), under a band that lifts part of it.
    rng = np.random.default_rng(3)
    grids = 0
    for i in range(24):
        canvas, version, level, s = junk_scene(rng, i, wash_finder=bool(i % 2))
        canvas[:, 100 + s // 3:100 + s // 2] += 150.0  # a band lifting a sixth of the code
        views = list(finder_grid.washed(_camera(rng, canvas), ()))
        grids += len(views)
        assert all(v is None for v in views), (version, level)
    assert grids >= 24


def test_corners_thrown_far_out_of_the_picture_are_not_sampled() -> None:
    # A guess from finders on a deconvolved view put a corner 60,000 px out of a 259 x 255 view
    # (tests/capture/hard_frames.py frame 41): a module of 1,685 px, whose blur at a quarter
    # module took 1-39 s a grid, for a read that cannot be.
    rng = np.random.default_rng(3)
    view = rng.integers(0, 255, (259, 255), dtype=np.uint8)
    thrown = np.array([[216, 62402], [211, 62], [128, 107], [45, 64]], np.float32)
    assert finder_grid._sampled(view, thrown, 5, "plain") is None
    # A code on the picture, or partly off its edge, is still sampled.
    for corners in ([[40, 30], [220, 35], [215, 220], [35, 215]], [[-60, 30], [150, 20], [160, 240], [-50, 250]]):
        got = finder_grid._sampled(view, np.array(corners, np.float32), 5, "plain")
        assert got is not None and got[3].dark.shape == (37, 37)
