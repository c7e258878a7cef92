"""The resample rung: a code of small modules (1.5-2.5 px) that the engine locates and reads the
format of but misreads is read from its modules by us: corners fitted to its function patterns,
the blur between neighbours undone; a code of junk data never reads. Frames come from small_codes.py."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import segno
from bench_runs import run_bench
from small_codes import H, W, draw, junk, matrix_of, pass_text

from station.capture import erasures, resample
from station.capture.decoders import Attempt, FailedSymbol, ZxingDecoder, make_decoder
from station.capture.ladder import RESAMPLE, DecodeLadder
from station.domain.qr_content import make_qr


def _misread_frames(seed: int, turn: str, want: int = 8) -> list[tuple[str, np.ndarray]]:
    """Small-module passes the engine locates (and reads the format of) but cannot read."""
    rng = np.random.default_rng(seed)
    raw = make_decoder("zxing")
    frames: list[tuple[str, np.ndarray]] = []
    for _ in range(200):
        text = pass_text(rng)
        frame, _ = draw(rng, matrix_of(make_qr(text)), float(rng.uniform(1.6, 2.4)), float(rng.uniform(0.6, 0.9)))
        if turn == "dark mode":
            frame = 255 - frame
        elif turn == "mirrored":
            frame = np.ascontiguousarray(frame[:, ::-1])
        attempt = raw.decode(frame)
        if not attempt.detections and attempt.failed:
            frames.append((text, frame))
            if len(frames) == want:
                break
    assert len(frames) == want  # the drawing makes such frames about one in eight
    return frames


@pytest.mark.parametrize("turn", ["as printed", "dark mode", "mirrored"])
def test_small_module_passes_the_engine_misreads_are_read_by_the_resample_rung(turn: str) -> None:
    plain = DecodeLadder(make_decoder("zxing"), rungs=(), budget_ms=math.inf)  # erasures included
    rung = DecodeLadder(make_decoder("zxing"), rungs=(RESAMPLE,), budget_ms=math.inf)
    read = read_plain = 0
    for text, frame in _misread_frames({"as printed": 11, "dark mode": 12, "mirrored": 13}[turn], turn):
        result = rung.decode(frame)
        got = {d.text for d in result.detections}
        assert got <= {text}
        read += text in got
        read_plain += text in {d.text for d in plain.decode(frame).detections}
        if got:
            assert result.rung == RESAMPLE
    assert read >= 6 and read_plain == 0, (read, read_plain)


def test_fit_puts_a_grid_most_of_a_module_off_back_on_the_code() -> None:
    # What counts is the grid the corners give: the far (bottom-right) corner, held by one
    # alignment pattern, may stay a few tenths of a module off while every module reads right.
    rng = np.random.default_rng(3)
    wrong_guessed = wrong_fitted = 0
    for i in range(12):
        version = (2, 5, 7, 10)[i % 4]
        qr = segno.make_qr("STATION" * version, version=version, error="M", boost_error=False)
        m = matrix_of(qr)
        module = float(rng.uniform(1.8, 2.6))
        frame, truth = draw(rng, m, module, 0.7)
        guess = truth + rng.uniform(-0.8, 0.8, (4, 2)).astype(np.float32) * module
        ideal = erasures.function_modules(version, "M", qr.mask)
        known = resample.symmetric(erasures.function_patterns(version))
        fitted = resample.fit(frame, guess, ideal, known)
        assert fitted is not None
        data = ~known
        wrong = (resample.darkness(frame, fitted, ideal, known) > 0.5)[data] != m[data]  # type: ignore[operator]
        # Under 2 % wrong: far inside what error correction restores. (One v10 case measured
        # 1.06 % on a CPU whose OpenCV kernels round differently from the one it was written on.)
        assert wrong.mean() < 0.02, (i, version, wrong.mean())
        wrong_fitted += int(wrong.sum())
        wrong_guessed += int(np.count_nonzero(
            (resample.darkness(frame, guess, ideal, known) > 0.5)[data] != m[data]))  # type: ignore[operator]
    assert wrong_guessed > 10 * max(1, wrong_fitted), (wrong_guessed, wrong_fitted)


def test_darkness_undoes_the_blur_between_neighbours() -> None:
    rng = np.random.default_rng(4)
    wrong_threshold = wrong_darkness = total = 0
    for version in (3, 6, 9):
        qr = segno.make_qr("PASS" * (version * 4), version=version, error="M", boost_error=False)
        m = matrix_of(qr)
        frame, corners = draw(rng, m, 1.8, 0.9)  # a module's grey is about half its neighbours'
        ideal = erasures.function_modules(version, "M", qr.mask)
        known = resample.symmetric(erasures.function_patterns(version))
        ink = resample.darkness(frame, corners, ideal, known)
        assert ink is not None
        data = ~known
        wrong_darkness += int(np.count_nonzero((ink > 0.5)[data] != m[data]))
        wrong_threshold += int(np.count_nonzero(erasures.sample(frame, corners, m.shape[0]).dark[data] != m[data]))
        total += int(data.sum())
    assert wrong_darkness < 0.03 * total and wrong_darkness * 5 < wrong_threshold, (wrong_darkness, wrong_threshold)


def test_a_code_of_junk_never_resamples_to_a_read() -> None:
    # Real function patterns (so the fit converges and the format is a code's), random data:
    # the Reed-Solomon decoding with its margin must refuse every one.
    rng = np.random.default_rng(8)
    for i in range(60):
        frame, symbol = junk(rng, "LMQH"[i % 4])
        assert erasures.resampled(frame, symbol) is None


class _Reports(ZxingDecoder):
    """zxing-cpp, with the plain try reporting the given codes as located but not read."""

    def __init__(self, failed: tuple[FailedSymbol, ...]) -> None:
        super().__init__()
        self.failed = failed
        self.calls = 0

    def decode(self, gray: np.ndarray) -> Attempt:
        self.calls += 1
        return Attempt((), (), self.failed if self.calls == 1 else ())


def test_the_rung_resamples_a_frames_first_two_codes_and_a_code_reported_twice_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    square = np.array([[100, 100], [200, 100], [200, 200], [100, 200]], np.float32)
    one = FailedSymbol(square, 5, "M", 1)
    again = FailedSymbol(square + 1.5, 5, "M", 1)  # the same code, a second binarizer's corners
    two, three = FailedSymbol(square + 200, 5, "M", 1), FailedSymbol(square + 300, 5, "M", 1)
    seen: list[FailedSymbol] = []
    monkeypatch.setattr(erasures, "resampled", lambda gray, symbol: seen.append(symbol))
    ladder = DecodeLadder(_Reports((one, again, two, three)), rungs=(RESAMPLE,), budget_ms=math.inf, erasures=False)
    ladder.decode(np.full((H, W), 200, np.uint8))
    assert seen == [one, two]


def test_nonsense_corners_give_no_read_rather_than_an_error() -> None:
    gray = (np.random.default_rng(1).random((480, 640)) * 255).astype(np.uint8)
    for corners in ([[10, 10], [300, 10], [600, 10], [900, 10]],  # on one line
                    [[100, 100]] * 4,  # one point
                    [[100, 100], [400, 100], [400, 400], [math.nan, 400]],
                    [[-500, -500], [2000, -500], [2000, 2000], [-500, 2000]],  # past the frame
                    [[620, 460], [700, 460], [700, 540], [620, 540]]):  # mostly outside it
        assert erasures.resampled(gray, FailedSymbol(np.array(corners, np.float32), 5, "M", 3)) is None


def test_a_pass_beside_a_code_already_read_is_resampled_where_it_is_in_the_frame() -> None:
    # With a stranger's code read, `station decode` works on the unread region only: the rung's
    # view must still give the pass's corners in the frame's pixels.
    rng = np.random.default_rng(21)
    raw = make_decoder("zxing")
    stranger = "HTTPS://MENU.EXAMPLE/TABLE/12"
    sticker = cv2.resize(np.where(np.pad(matrix_of(segno.make_qr(stranger, error="M")), 4), 30, 220).astype(np.uint8),
                         None, fx=4, fy=4, interpolation=cv2.INTER_NEAREST)
    ladder = DecodeLadder(make_decoder("zxing"), rungs=(RESAMPLE,), budget_ms=math.inf, every_code=True)
    checked = 0
    for _ in range(300):
        text = pass_text(rng)
        frame, corners = draw(rng, matrix_of(make_qr(text)), float(rng.uniform(1.6, 2.4)), float(rng.uniform(0.6, 0.9)))
        if corners[:, 0].min() < sticker.shape[1] + 20:
            continue
        frame[10:10 + sticker.shape[0], 10:10 + sticker.shape[1]] = sticker
        attempt = raw.decode(frame)
        if {d.text for d in attempt.detections} != {stranger} or not attempt.failed:
            continue
        result = ladder.decode(frame)
        got = {d.text: d for d in result.detections}
        assert set(got) <= {stranger, text}
        if text in got:
            at = np.array(got[text].corners, np.float32)
            # the engine's corner order may start elsewhere: each true corner has one near it
            assert max(float(np.linalg.norm(at - c, axis=1).min()) for c in corners) < 4.0
            checked += 1
            if checked == 3:
                break
    assert checked == 3


def test_a_short_resample_bench_run_prints_both_ways_and_the_junk(tmp_path: Path) -> None:
    out = run_bench(tmp_path, "resample_bench.py", "--codes", "3", "--junk", "5")
    assert "| zxing-cpp's corners, threshold (erasures.recover) |" in out
    assert "| fitted corners, blur undone (erasures.resampled) |" in out
    assert "5 codes of versions 1-10" in out and "**0 decoded**" in out
