"""The erasures rung: a code whose middle is hidden (a sticker, a thumb, a smudge) is read by
marking the hidden modules as erasures, which Reed-Solomon corrects twice as many of as errors;
and junk never decodes. Grids are checked against segno's own codes; frames are drawn here."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import segno
from bench_runs import run_bench
from small_codes import matrix_of, pass_text

from station.capture import erasures
from station.capture.decoders import FailedSymbol, make_decoder
from station.capture.ladder import DEFAULT_RUNGS, RESAMPLE, DecodeLadder
from station.capture.sequence import SequenceReader
from station.domain.qr_content import make_qr

_REMAINDER_BITS = {range(1, 2): 0, range(2, 7): 7, range(7, 14): 0, range(14, 21): 3, range(21, 28): 4,
                   range(28, 35): 3, range(35, 41): 0}


@pytest.mark.parametrize("version", range(1, 41))
def test_every_version_has_room_for_exactly_its_codewords(version: int) -> None:
    lay = erasures.layout(version, "M")
    words = sum(total for total, _ in lay.blocks)
    remainder = next(bits for versions, bits in _REMAINDER_BITS.items() if version in versions)
    assert len(lay.rows) == 8 * words + remainder
    assert len(set(zip(lay.rows.tolist(), lay.cols.tolist(), strict=True))) == len(lay.rows)


@pytest.mark.parametrize(("version", "level"), [(1, "L"), (2, "M"), (5, "Q"), (7, "M"), (10, "H"), (13, "Q"),
                                                 (21, "L"), (25, "H"), (33, "M"), (40, "Q")])
def test_an_undamaged_code_comes_back_as_segno_drew_it(version: int, level: str) -> None:
    rng = np.random.default_rng(version)
    room = sum(data for _, data in erasures.layout(version, level).blocks) - 4  # bytes, less mode and count
    text = "".join(chr(c) for c in rng.integers(33, 127, int(room * 0.9)))
    qr = segno.make_qr(text, version=version, error=level, boost_error=False)
    m = matrix_of(qr)
    fixed = erasures.correct(erasures.Grid(m, np.zeros_like(m)), version, level, qr.mask)
    assert fixed is not None and (fixed == m).all()


def _hide(m: np.ndarray, side: int, value: bool) -> tuple[np.ndarray, np.ndarray]:
    n = m.shape[0]
    a = (n - side) // 2 + 2
    hidden, lost = m.copy(), np.zeros_like(m)
    hidden[a:a + side, a:a + side] = value
    lost[a:a + side, a:a + side] = True
    return hidden, lost


@pytest.mark.parametrize("value", [True, False])
def test_a_hidden_patch_past_what_errors_allow_is_corrected_as_erasures(value: bool) -> None:
    qr = make_qr("HTTPS://PASSES.STATION.EXAMPLE/P/" + "31415926535897932384" * 6)
    m = matrix_of(qr)
    side = int(m.shape[0] * 0.34)  # ~11 % of the modules: past level M's errors (7 %), inside its erasures (13 %)
    hidden, lost = _hide(m, side, value)
    assert erasures.correct(erasures.Grid(hidden, np.zeros_like(m)), qr.version, qr.error.upper(), qr.mask) is None
    fixed = erasures.correct(erasures.Grid(hidden, lost), qr.version, qr.error.upper(), qr.mask)
    assert fixed is not None and (fixed == m).all()


def test_too_many_erasures_or_junk_never_decode() -> None:
    qr = make_qr("HTTPS://PASSES.STATION.EXAMPLE/P/" + "27182818284590452353" * 6)
    m = matrix_of(qr)
    hidden, lost = _hide(m, int(m.shape[0] * 0.6), True)  # 36 %: past what erasures allow with a margin
    assert erasures.correct(erasures.Grid(hidden, lost), qr.version, qr.error.upper(), qr.mask) is None
    rng = np.random.default_rng(5)
    for i in range(300):
        version = int(rng.integers(1, 15))
        level = "LMQH"[i % 4]
        n = 17 + 4 * version
        junk = rng.random((n, n)) < 0.5
        lost = np.zeros((n, n), bool)
        if i % 2:
            a = int(rng.integers(0, n // 2))
            lost[a:a + n // 3, a:a + n // 3] = True
        assert erasures.correct(erasures.Grid(junk, lost), version, level, int(rng.integers(0, 8))) is None


def test_nonsense_corners_give_no_repair_rather_than_an_error() -> None:
    gray = (np.random.default_rng(1).random((480, 640)) * 255).astype(np.uint8)
    for corners in ([[10, 10], [300, 10], [600, 10], [900, 10]],  # on one line
                    [[100, 100]] * 4,  # one point
                    [[100, 100], [400, 100], [400, 400], [math.nan, 400]],
                    [[-500, -500], [2000, -500], [2000, 2000], [-500, 2000]]):  # past the frame
        assert erasures.recover(gray, FailedSymbol(np.array(corners, np.float32), 5, "M", 3)) is None


def _occluded_frame(rng: np.random.Generator, text: str, tone: float, hidden: float = 0.15) -> np.ndarray:
    """A pass in a 640x480 frame with a sticker of one grey over `hidden` of its middle."""
    qr = make_qr(text)
    m = np.pad(matrix_of(qr), 4)
    module = float(rng.uniform(4.5, 7.0))
    size = int(round(m.shape[0] * module))
    patch = cv2.resize(np.where(m, 30.0, 220.0).astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)
    inner = size - 8 * module
    side = math.sqrt(hidden) * inner
    cx, cy = size / 2 + rng.uniform(-0.08, 0.08, 2) * inner
    rect = ((float(cx), float(cy)), (float(side * 1.2), float(side / 1.2)), float(rng.uniform(0, 90)))
    cv2.fillPoly(patch, [cv2.boxPoints(rect).astype(np.int32)], tone)
    frame = np.full((480, 640), 110.0, np.float32)
    y, x = (480 - size) // 2, (640 - size) // 2
    frame[y:y + size, x:x + size] = patch
    frame = cv2.GaussianBlur(frame, (0, 0), 0.8) + rng.normal(0, 2.5, frame.shape)
    return np.clip(frame, 0, 255).astype(np.uint8)


def test_a_pass_with_a_sticker_over_its_middle_is_read_with_erasures_and_not_without() -> None:
    rng = np.random.default_rng(2024)
    raw = make_decoder("zxing")
    # without erasures anywhere: the resample and washed rungs decode their own grids with the
    # hidden part as erasures too (washed reads a code whose three finders show, finder_grid.py)
    without = DecodeLadder(make_decoder("zxing"), rungs=[r for r in DEFAULT_RUNGS if r not in (RESAMPLE, "washed")],
                           budget_ms=math.inf, erasures=False)
    station = DecodeLadder(make_decoder("zxing"), budget_ms=math.inf)
    read = read_without = 0
    for i in range(10):
        text = pass_text(rng)
        frame = _occluded_frame(rng, text, (25.0, 120.0, 215.0)[i % 3])
        assert not raw.decode(frame).detections
        got = {d.text for d in station.decode(frame).detections}
        assert got <= {text}
        read += text in got
        read_without += text in {d.text for d in without.decode(frame).detections}
    assert read >= 7 and read - read_without >= 6, (read, read_without)


@pytest.mark.parametrize("turn", ["dark mode", "mirrored"])
def test_a_dark_mode_or_mirrored_pass_with_a_sticker_over_its_middle_is_read_too(turn: str) -> None:
    # Light modules on dark (a phone in dark mode); or mirrored (a selfie camera's picture):
    # zxing-cpp reads both and reports their format, the grid must be read the same way round.
    rng = np.random.default_rng(77)
    without = DecodeLadder(make_decoder("zxing"), rungs=(), erasures=False)
    station = DecodeLadder(make_decoder("zxing"), rungs=())  # the plain try alone
    read = read_without = 0
    for i in range(6):
        text = pass_text(rng)
        # 12 % hidden: past what errors allow, inside what erasures do
        frame = _occluded_frame(rng, text, (25.0, 120.0, 215.0)[i % 3], hidden=0.12)
        frame = 255 - frame if turn == "dark mode" else np.ascontiguousarray(frame[:, ::-1])
        got = {d.text for d in station.decode(frame).detections}
        assert got <= {text}
        read += text in got
        read_without += text in {d.text for d in without.decode(frame).detections}
    assert read >= 5 and read - read_without >= 4, (read, read_without)


def _thumb_sliding(rng: np.random.Generator, text: str, hidden: float, frames: int = 8) -> list[np.ndarray]:
    """A pass held still in a 640x480 frame while a thumb hiding `hidden` of it slides across."""
    m = np.pad(matrix_of(make_qr(text)), 4)
    module = float(rng.uniform(4.5, 6.5))
    size = int(round(m.shape[0] * module))
    base = cv2.resize(np.where(m, 30.0, 220.0).astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)
    inner, tone = size - 8 * module, float(rng.choice([25.0, 120.0, 215.0]))
    out = []
    for k in range(frames):
        patch = base.copy()
        w = math.sqrt(hidden) * inner
        cx = 4 * module + w / 2 + (inner - w) * k / (frames - 1)
        cy = size / 2 + rng.uniform(-0.05, 0.05) * inner
        cv2.ellipse(patch, (int(cx), int(cy)), (int(w / 2), int(w / 2 * 1.3)), 0, 0, 360, tone, -1)
        frame = np.full((480, 640), 110.0, np.float32)
        y, x = (480 - size) // 2, (640 - size) // 2
        frame[y:y + size, x:x + size] = patch
        frame = cv2.GaussianBlur(frame, (0, 0), 0.8) + rng.normal(0, 2.5, frame.shape)
        out.append(np.clip(frame, 0, 255).astype(np.uint8))
    return out


def test_a_thumb_sliding_over_a_still_pass_is_read_from_what_each_frame_saw() -> None:
    # A quarter of the code hidden in every frame: past what erasures allow in any one frame;
    # the camera's sequence reader fills each frame's hidden modules from the frames before.
    rng = np.random.default_rng(2)
    single = DecodeLadder(make_decoder("zxing"), budget_ms=math.inf)
    for _ in range(4):
        text = pass_text(rng)
        frames = _thumb_sliding(rng, text, 0.25)
        assert not any(single.decode(f).detections for f in frames)
        reader = SequenceReader(DecodeLadder(make_decoder("zxing"), budget_ms=math.inf))
        first = next((k for k, f in enumerate(frames) if text in {d.text for d in reader.decode(f).detections}), None)
        assert first is not None and first <= 4, first


def test_grids_of_two_passes_held_up_in_turn_never_read_as_a_third() -> None:
    rng = np.random.default_rng(3)
    for _ in range(3):
        a, b = pass_text(rng), pass_text(rng)
        reader = SequenceReader(DecodeLadder(make_decoder("zxing"), budget_ms=math.inf))
        for frame in _thumb_sliding(rng, a, 0.25, 4)[:2] + _thumb_sliding(rng, b, 0.25, 4)[2:]:
            assert {d.text for d in reader.decode(frame).detections} <= {a, b}


def test_a_short_occlusion_bench_run_prints_rows_and_the_total(tmp_path: Path) -> None:
    out = run_bench(tmp_path, "occlusion_bench.py", "--frames", "4")
    assert "| finders covered | hidden | frames | raw zxing-cpp | ladder without erasures | with erasures |" in out
    assert "| **all** | | 4 |" in out


@pytest.mark.parametrize("version", [1, 2, 7, 13, 25])
def test_function_modules_are_segnos_for_every_level_and_mask(version: int) -> None:
    # Drawn once a version and the format and remainder set per level and mask (segno takes
    # ~100 ms a version 20 code): every module but the data must be as segno draws that code.
    lay = erasures.layout(version, "M")
    fixed = np.ones((lay.size, lay.size), bool)
    fixed[lay.rows[:8 * sum(t for t, _ in lay.blocks)], lay.cols[:8 * sum(t for t, _ in lay.blocks)]] = False
    for level in "LMQH":
        for mask in range(8) if version < 13 else (0, 5):
            qr = segno.make_qr("0", version=version, error=level, mask=mask, boost_error=False)
            drawn = np.array(list(qr.matrix_iter(scale=1, border=0)), bool)
            assert (erasures.function_modules(version, level, mask)[fixed] == drawn[fixed]).all(), (level, mask)
