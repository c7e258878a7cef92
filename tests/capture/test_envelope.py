"""The envelope rung (envelope.py): a band of glare that lifts the code under it towards white,
leaving its modules a fraction of their contrast. Frames are drawn here, not by the frame
families the rung was found on (tests/capture/frame_families.py adds light; here the band also
takes the code's contrast away, as a reflection on glossy paper does), so the rung is checked on
glare it was not developed on."""

from __future__ import annotations

import math

import numpy as np
import pytest
from degrade import _camera, _place, background
from hard_frames import H, W, _matrix, _render, decoded
from test_finder_grid import _pose

from station.capture import envelope
from station.capture.decoders import make_decoder
from station.capture.ladder import DEFAULT_RUNGS, DecodeLadder
from station.domain.qr_content import make_qr

PASS = "https://passes.station.example/p/" + "2718281828459045235360287471352662497757247093699959"
STRANGER = "https://example.com/menu/today"
WITHOUT = tuple(r for r in DEFAULT_RUNGS if r != "envelope")


def washed(seed: int, stranger: bool = False) -> np.ndarray:
    """A frame of the pass with a band of reflected light across it: under the band the paper
    and the ink are lifted to within 20-40 grey levels of each other, the band's edges soft over
    1-2 modules; with `stranger`, a readable code of someone else's in the frame's corner."""
    rng = np.random.default_rng(100 + seed)
    module, angle = float(rng.uniform(3, 6)), float(rng.uniform(0, 90))
    width, keep = float(rng.uniform(0.3, 0.55)), float(rng.uniform(0.05, 0.15))
    lift, edge = float(rng.uniform(190, 215)), float(rng.uniform(0.9, 2.0))
    rng = np.random.default_rng(seed)
    patch = _render(_matrix(make_qr(PASS)), module, 30, 215)
    m = _pose(float(patch.shape[0]), angle, 0.1, (W / 2, H / 2))
    canvas = background(rng, W, H)
    _place(canvas, patch, rng, m)
    if stranger:
        other = _render(_matrix(make_qr(STRANGER)), 4.0, 30, 215)
        _place(canvas, other, rng, _pose(float(other.shape[0]), 10.0, 0.0, (150, 150)))
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    a, side = math.radians(angle + 60), patch.shape[0]
    dist = (xx - W / 2 - rng.uniform(-0.2, 0.2) * side) * math.cos(a) + (yy - H / 2) * math.sin(a)
    light = 0.5 * (np.tanh((width * side / 2 - np.abs(dist)) / (edge * module)) + 1)
    canvas[:] = canvas * (1 - (1 - keep) * light) + lift * light
    return _camera(rng, canvas)


def _reads(image: np.ndarray) -> bool:
    return decoded(PASS) in {d.text for d in make_decoder("zxing").decode(image).detections}


def test_the_stretch_reads_codes_a_washed_band_hides_from_the_engine() -> None:
    frames = [washed(seed) for seed in range(16)]
    raw = sum(_reads(f) for f in frames)
    stretched = sum(any(_reads(envelope.stretch(f, w)) for w in envelope.windows(H)) for f in frames)
    # Measured when written: the engine 1 of 16, the stretch at 9 or 15 px (720p's windows) 5.
    assert raw <= 2
    assert stretched >= raw + 3


# Of 24 frames drawn by `washed`, the ladder without the rung read 13 (clahe, threshold and
# adaptive most), with it 15: these two.
READ_BY_THE_RUNG_ONLY = (13, 22)


@pytest.mark.parametrize("seed", READ_BY_THE_RUNG_ONLY)
def test_the_ladder_reads_through_the_envelope_rung_what_the_others_miss(seed: int) -> None:
    frame = washed(seed)
    without = DecodeLadder(make_decoder("zxing"), rungs=WITHOUT, budget_ms=math.inf, every_code=True).decode(frame)
    assert decoded(PASS) not in {d.text for d in without.detections}
    result = DecodeLadder(make_decoder("zxing"), budget_ms=math.inf, every_code=True).decode(frame)
    assert decoded(PASS) in {d.text for d in result.detections}
    assert result.rung == "envelope"


@pytest.mark.parametrize("seed", READ_BY_THE_RUNG_ONLY)
def test_past_a_strangers_code_read_the_rung_still_stretches_the_whole_frame(seed: int) -> None:
    # The stranger's code is read at once; the ladder then works on the busiest region no read
    # code covers, which is not the washed pass: on that region the rung did not read it.
    frame = washed(seed, stranger=True)
    result = DecodeLadder(make_decoder("zxing"), budget_ms=math.inf, every_code=True).decode(frame)
    assert {d.text for d in result.detections} == {decoded(PASS), decoded(STRANGER)}
    assert result.rung == "envelope"


def test_a_picture_of_any_size_keeps_its_shape_and_a_flat_one_stays_flat() -> None:
    rng = np.random.default_rng(1)
    for h, w in ((720, 1280), (1080, 1920), (40, 60)):
        wall = np.full((h, w), 120, np.uint8)
        out = envelope.stretch(wall, envelope.windows(min(h, w))[0])
        assert out.shape == (h, w) and out.dtype == np.uint8
        assert int(out.max()) == int(out.min())  # nothing to stretch: no pattern invented
    noisy = rng.integers(118, 123, (200, 300)).astype(np.uint8)  # 4 grey levels of noise
    # the gain is bounded: a neighbourhood 4 levels deep is stretched to half the range, not all
    assert int(np.ptp(envelope.stretch(noisy, 9))) <= 4 * 255 // 8 + 1


def test_a_large_photo_is_stretched_shrunk_and_its_reads_placed_back() -> None:
    # A 12-megapixel photo is worked on shrunk to about 2 (the rung's time on photos); the
    # views say how to map a read back onto the photo.
    photo = np.full((3000, 4000), 200, np.uint8)
    views = list(envelope.rung(photo, ()))
    assert len(views) == 3 and views[2].engine == "zbar"
    for view in views:
        assert view.image.shape[0] * view.image.shape[1] <= 2_100_000
        assert view.image.shape[0] * round(1 / view.scale) in range(2990, 3001)
    small = np.full((720, 1280), 200, np.uint8)
    assert all(v.scale == 1.0 and v.image.shape == (720, 1280) for v in envelope.rung(small, ()))
