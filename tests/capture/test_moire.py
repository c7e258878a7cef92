"""The moire rung (moire.py): a code on a phone screen under the beat of the screen's pixel grid
with the camera's. The beats are drawn here as a checker: two waves at an angle to each other,
each dimming the screen's light by up to `depth` (apart_frames.py draws one wave or the mean of
two, hard_frames.py adds a wave), their period drifting a little over the screen."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import segno
import zxingcpp

from station.capture import moire
from station.capture.decoders import make_decoder
from station.capture.ladder import DEFAULT_RUNGS, DecodeLadder

W, H = 640, 480
WITHOUT = tuple(r for r in DEFAULT_RUNGS if r != "moire")


def ladder(rungs: tuple[str, ...]) -> DecodeLadder:
    return DecodeLadder(make_decoder("zxing"), rungs=rungs, budget_ms=math.inf)


def _code(rng: np.random.Generator, module: float) -> tuple[np.ndarray, str]:
    """A version-4 code with a 4-module border, `module` px a module, as 30 (ink) / 225 (paper)."""
    text = "".join(rng.choice(list("ABCDEFGHJKLMNPQRSTUVWXYZ23456789"), 40))
    qr = segno.make(text, error="m", version=4, boost_error=False)
    matrix = np.array([list(r) for r in qr.matrix_iter(scale=1, border=4)], np.float32)
    size = int(round(matrix.shape[0] * module))
    patch = cv2.resize(np.where(matrix > 0, 30.0, 225.0).astype(np.float32), (size, size),
                       interpolation=cv2.INTER_AREA)
    return patch, text


def _placed(rng: np.random.Generator, patch: np.ndarray, fill: float) -> tuple[np.ndarray, np.ndarray]:
    """The patch turned by up to 25 degrees in the middle of a W x H frame of grey `fill`, and
    the mask of where it is."""
    size = patch.shape[0]
    turn = cv2.getRotationMatrix2D((size / 2, size / 2), rng.uniform(-25, 25), 1.0)
    turn[:, 2] += (W / 2 - size / 2 + rng.uniform(-30, 30), H / 2 - size / 2 + rng.uniform(-20, 20))
    frame = cv2.warpAffine(patch, turn, (W, H), flags=cv2.INTER_LINEAR, borderValue=fill)
    mask = cv2.warpAffine(np.ones_like(patch), turn, (W, H), flags=cv2.INTER_LINEAR, borderValue=0.0)
    return frame, mask


def screen_frame(seed: int) -> tuple[np.ndarray, str]:
    """A phone screen showing a code of 5-9 px modules, under a checker beat of 4-11 px whose
    period drifts by up to a tenth over the frame, each of its waves dimming the light by up to
    35-60 %."""
    rng = np.random.default_rng(seed)
    patch, text = _code(rng, rng.uniform(5.0, 9.0))
    frame, screen = _placed(rng, cv2.copyMakeBorder(patch, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=225.0), 70.0)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    period = rng.uniform(4.0, 11.0)
    drift = 1.0 + rng.uniform(-0.1, 0.1) * xx / W  # the period changes across the frame a little
    waves = []
    for angle in (rng.uniform(0, math.pi), None):
        angle = waves[0][1] + rng.uniform(0.5, 1.2) if angle is None else angle
        phase = (xx * math.cos(angle) + yy * math.sin(angle)) / (period * drift)
        waves.append((0.5 + 0.5 * np.cos(2 * math.pi * phase + rng.uniform(0, 2 * math.pi)), angle))
    depth = rng.uniform(0.35, 0.6)
    for wave, _ in waves:
        frame = frame * (1 - depth * wave * screen)
    frame = cv2.GaussianBlur(frame, (0, 0), 0.6) + rng.normal(0, 2.5, frame.shape)
    return np.clip(frame, 0, 255).astype(np.uint8), text


def paper_frame(seed: int) -> tuple[np.ndarray, str]:
    """A printed code (no pixel grid), turned, a little soft and noisy, on a grey desk."""
    rng = np.random.default_rng(seed)
    patch, text = _code(rng, rng.uniform(4.0, 10.0))
    frame, _ = _placed(rng, patch, 90.0)
    frame = cv2.GaussianBlur(frame, (0, 0), 0.7) + rng.normal(0, 3.0, frame.shape)
    return np.clip(frame, 0, 255).astype(np.uint8), text


def test_a_screens_beat_filtered_out_reads_codes_the_other_rungs_miss() -> None:
    without = with_rung = 0
    for seed in range(200, 224):
        frame, text = screen_frame(seed)
        without += text in {d.text for d in ladder(WITHOUT).decode(frame).detections}
        with_rung += text in {d.text for d in ladder(DEFAULT_RUNGS).decode(frame).detections}
    assert with_rung > without, (without, with_rung)


@pytest.mark.parametrize("seed", [1, 2, 4, 5, 6])
def test_the_filter_keeps_a_printed_code_readable(seed: int) -> None:
    # A sharp code's own module lattice makes peaks too (moire.py; these seeds' codes do): the
    # picture the rung filters for nothing must still read.
    frame, text = paper_frame(seed)
    assert [b.text for b in zxingcpp.read_barcodes(frame)] == [text]
    flat = moire.flattened(frame)
    assert flat is not None
    assert [b.text for b in zxingcpp.read_barcodes(flat)] == [text]


def test_a_picture_with_nothing_periodic_gets_no_view() -> None:
    rng = np.random.default_rng(9)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    desk = 80 + 60 * xx / W + 30 * np.sin(yy / 90) + rng.normal(0, 4.0, (H, W))
    frame = np.clip(desk, 0, 255).astype(np.uint8)
    assert moire.peaks(frame) is None
    assert list(moire.rung(frame, ())) == []


def test_the_filter_takes_the_beat_out() -> None:
    # What is left of the picture over the code once the same code drawn without the beat is
    # fitted out of it (the beat also dims the light as a whole, which the filter leaves) falls
    # by more than half once filtered.
    frame, text = screen_frame(201)
    rng_free = np.random.default_rng(201)
    patch, same = _code(rng_free, rng_free.uniform(5.0, 9.0))
    assert same == text
    plain, _ = _placed(rng_free, cv2.copyMakeBorder(patch, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=225.0), 70.0)
    flat = moire.flattened(frame)
    assert flat is not None
    box = np.s_[H // 2 - 60:H // 2 + 60, W // 2 - 60:W // 2 + 60]
    reference = cv2.GaussianBlur(plain, (0, 0), 0.6)[box].ravel()
    before, after = (_left(picture[box].astype(np.float32).ravel(), reference) for picture in (frame, flat))
    assert after < 0.5 * before, (before, after)


def _left(picture: np.ndarray, reference: np.ndarray) -> float:
    """The standard deviation of `picture` less its least-squares fit a * reference + b."""
    design = np.stack([reference, np.ones_like(reference)], axis=1)
    fit, *_ = np.linalg.lstsq(design, picture, rcond=None)
    return float(np.std(picture - design @ fit))


def test_the_grey_levels_logarithm_is_looked_up_as_log1p_gives_it() -> None:
    # The rung looks log(1 + grey) up in a table (a quarter of its cost computed); the same values.
    levels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    assert np.array_equal(moire._logged(levels), np.log1p(levels.astype(np.float32)))
    assert moire._logged(levels).dtype == np.float32
    wide = levels.astype(np.uint16) * 200  # not a camera's grey: computed, not looked up
    assert np.array_equal(moire._logged(wide), np.log1p(wide.astype(np.float32)))
    # the band a size keeps is the one made afresh, and cannot be written to
    picture = np.random.default_rng(1).integers(0, 256, (90, 130), dtype=np.uint8)
    band = moire._band(90, 130).copy()
    moire.peaks(picture)
    assert np.array_equal(moire._band(90, 130), band)
    with pytest.raises(ValueError):
        moire._band(90, 130)[0, 0] = True
    fresh = np.hypot(np.fft.fftfreq(90)[:, None], np.fft.fftfreq(130)[None, :]) > 1.0 / moire._LONGEST
    assert np.array_equal(band, fresh)
