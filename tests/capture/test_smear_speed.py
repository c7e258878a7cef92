"""Undoing a straight smear of uneven speed (smear_speed.py, issue 13 part 4). The speed profiles
are drawn here, unlike the frame families' (tests/capture/frame_families.py, slowest mid-path):
a hand slowing to a stop, one speeding up, one pausing at both ends, one that jerks to half
speed, so the rung is not checked against the profiles it was developed on."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from degrade import _camera, _place, background
from hard_frames import H, W, _matrix, _render, decoded
from test_path_deblur import PASS, smeared_pass

from station.capture import region_rungs
from station.capture.decoders import make_decoder
from station.capture.ladder import DecodeLadder
from station.capture.path_deblur import two_level
from station.capture.region import smear, wiener
from station.capture.smear_speed import profile_kernel, unsmear
from station.domain.qr_content import make_qr

PROFILES = {
    "slowing": lambda t: 1.0 / (1.0 - 0.75 * t),  # time spent a px grows as the hand stops
    "speeding": lambda t: 1.0 / (0.25 + 0.75 * t),
    "pausing": lambda t: 1.0 + 3.0 * np.cos(np.pi * t) ** 2,
    "jerk": lambda t: np.where(t < 0.4, 1.0, 2.0),
}


def uneven_line(length: float, angle: float, profile: str | None) -> np.ndarray:
    """A straight smear `length` px long at `angle` radians, the time spent along it by
    `profile` (None: even), each sample shared between its four nearest pixels (a continuous motion)."""
    t = np.linspace(0, 1, 400)
    x, y = t * length * math.cos(angle), t * length * math.sin(angle)
    x, y = x - x.min() + 1, y - y.min() + 1
    weights = np.ones_like(t) if profile is None else PROFILES[profile](t)
    size = int(max(x.max(), y.max())) + 3
    k = np.zeros((size, size), np.float32)
    for xi, yi, wi in zip(x, y, weights, strict=True):
        x0, y0 = int(xi), int(yi)
        fx, fy = xi - x0, yi - y0
        k[y0, x0] += wi * (1 - fx) * (1 - fy)
        k[y0, x0 + 1] += wi * fx * (1 - fy)
        k[y0 + 1, x0] += wi * (1 - fx) * fy
        k[y0 + 1, x0 + 1] += wi * fx * fy
    return k / k.sum()


def ladder(rungs: tuple[str, ...]) -> DecodeLadder:
    return DecodeLadder(make_decoder("zxing"), rungs=rungs, budget_ms=math.inf, every_code=True)


# Eight smears drawn once, not chosen by what reads: (length, angle, profile, module, turn, seed).
SMEARS = [(30, 0.3, "slowing", 6.0, 5.0, 1), (26, 1.2, "speeding", 5.5, -12.0, 2), (34, 2.0, "pausing", 7.0, 8.0, 3),
          (22, 2.7, "jerk", 5.0, 20.0, 4), (36, 0.9, "slowing", 7.5, -4.0, 5), (28, 1.8, "pausing", 6.0, 15.0, 6),
          (32, 0.1, "jerk", 6.5, -20.0, 7), (24, 1.5, "speeding", 5.0, 2.0, 8)]


def test_straight_smears_of_uneven_speed_are_read_by_the_speed_rung_where_the_even_line_fails() -> None:
    # When written: the speed rung read all 8, the deblur rung (an even line) none, the path
    # rung 6 (not the jerks). One under, so a change that loses a frame shows.
    text = decoded(PASS)
    by_speed = only_speed = 0
    for length, angle, profile, module, turn, seed in SMEARS:
        frame = smeared_pass(uneven_line(length, angle, profile), module, turn, seed)
        result = ladder(("speed",)).decode(frame)
        assert {d.text for d in result.detections} <= {text}
        if not result.detections:
            continue
        by_speed += 1
        xs = [p[0] for p in result.detections[0].corners]  # mapped back to the frame: the code is at 640, 360
        ys = [p[1] for p in result.detections[0].corners]
        assert abs(np.mean(xs) - 640) < 25 and abs(np.mean(ys) - 360) < 25, (seed, result.detections)
        if text not in {d.text for d in ladder(("deblur",)).decode(frame).detections}:
            only_speed += 1
    assert by_speed >= 7 and only_speed >= 6, (by_speed, only_speed)


def test_a_smear_the_usual_noise_terms_leave_ringing_is_read_at_the_lowest() -> None:
    # From a seeded scan of 40 smears drawn as above (24-40 px, modules 3.5-6.5 px): a jerk of
    # 31 px over 5.2 px modules, the one whose only read was the second round's view at 0.001
    # (smear_speed._LOWER_NOISE). A round's views: its deconvolution at 0.01 and its median,
    # then at 0.003 and at 0.001, each with its median.
    text, engine = decoded(PASS), make_decoder("zxing")
    frame = smeared_pass(uneven_line(30.642, 0.809, "jerk"), 5.160, 10.40, 136)
    reads = [i for i, view in enumerate(unsmear(frame, ())) if text in {d.text for d in engine.decode(view.image).detections}]
    assert reads and all(i % 6 >= 4 for i in reads), reads


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_the_speed_profile_is_found_from_the_sharp_code_and_the_smeared_one(profile: str) -> None:
    # The estimator alone: given the two-level code and its smear along a known direction, the
    # weights it fits follow the time spent along the line (as a convolution, mirrored).
    rng = np.random.default_rng(3)
    sharp = np.kron(rng.integers(0, 2, (45, 45)).astype(np.float32) * 190 + 30, np.ones((6, 6), np.float32))
    angle = 0.6
    kernel = uneven_line(30, angle, profile)
    blurred = cv2.filter2D(sharp, -1, kernel, borderType=cv2.BORDER_REPLICATE)
    blurred = np.clip(blurred + rng.normal(0, 2.0, blurred.shape), 0, 255).astype(np.uint8)
    c, s = math.cos(angle), math.sin(angle)
    found = profile_kernel(two_level(sharp.astype(np.uint8)), blurred, c, s, 20)
    assert found is not None and abs(float(found.sum()) - 1) < 1e-4

    def along(k: np.ndarray) -> np.ndarray:
        """The kernel's weight by position along the line, 1 px bins, centred on its mass."""
        ys, xs = np.nonzero(k)
        w = k[ys, xs]
        t = (xs - (w * xs).sum() / w.sum()) * c + (ys - (w * ys).sum() / w.sum()) * s
        return np.bincount(np.round(t).astype(int) + 25, weights=w, minlength=51)

    truth, got = along(kernel[::-1, ::-1]), along(found)
    smooth = np.ones(3) / 3  # a pixel either way is the splatting's, not the fit's
    truth, got = np.convolve(truth, smooth, "same"), np.convolve(got, smooth, "same")
    assert float(np.dot(truth, got) / (np.linalg.norm(truth) * np.linalg.norm(got))) > 0.9
    # and not an even line: the profile's shape is what the fit is for
    even = np.convolve(along(uneven_line(30, angle, None)), smooth, "same")
    assert float(np.dot(truth, got) / (np.linalg.norm(truth) * np.linalg.norm(got))) > float(
        np.dot(even, got) / (np.linalg.norm(even) * np.linalg.norm(got)))


def test_a_wall_or_a_sharp_code_gives_the_speed_rung_nothing_to_try() -> None:
    wall = np.full((H, W), 128, np.uint8)
    assert list(unsmear(wall, ())) == []
    sharp = smeared_pass(np.ones((1, 1), np.float32), 6.0, 10.0, 9)  # no smear: region.smear says so
    assert list(unsmear(sharp, ())) == []


def _big_code(text: str, module: float, kernel: np.ndarray, seed: int) -> np.ndarray:
    """A short code of big modules at (640, 360), turned 7 degrees, smeared by `kernel`."""
    rng = np.random.default_rng(seed)
    canvas = background(rng, W, H)
    patch = _render(_matrix(make_qr(text)), module, 35, 215)
    s = patch.shape[0]
    m = np.vstack([cv2.getRotationMatrix2D((s / 2, s / 2), 7.0, 1.0), [0, 0, 1]])
    m[0, 2] += 640 - s / 2
    m[1, 2] += 360 - s / 2
    _place(canvas, patch, rng, m)
    frame: np.ndarray = _camera(rng, cv2.filter2D(np.clip(canvas, 0, 255), -1, kernel))
    return frame


def test_the_deblur_rung_widens_the_region_by_the_smear_for_codes_of_big_modules() -> None:
    # The busiest region of a smeared code of 9-15 px modules is narrower than the code; cut
    # there, the deconvolution rings over the code's edge and quiet zone. When written, the rung
    # read 16 of these 18 with the region widened, 9 without.
    engine = make_decoder("zxing")
    read = tight = 0
    for text in ("K7Q2M9XW4T", "PX-2290-ALPHA"):
        for module in (9.0, 12.0, 15.0):
            for length, angle in ((32, 0.2), (38, 1.3), (35, 2.2)):
                frame = _big_code(text, module, uneven_line(length, angle, None), int(module * length))
                assert region_rungs.deblur(frame, ())
                # the region as located, not widened: the rung's deconvolution before
                for _, crop, _ in region_rungs.scaled_crops(frame, (), 32, region_rungs.DEBLUR_PIXELS):
                    found = smear(crop)
                    if found is not None:
                        sharp = wiener(crop, *found, noise=0.01, defocus=0.8)
                        tight += any(decoded(text) in {d.text for d in engine.decode(v).detections}
                                     for v in (sharp, cv2.medianBlur(sharp, 3)))
                read += decoded(text) in {d.text for d in ladder(("deblur",)).decode(frame).detections}
    assert read >= 15 and tight <= 10, (read, tight)


def test_a_flat_prediction_gives_no_kernel_rather_than_an_error() -> None:
    # A region glare washed to one level predicts a flat code: nothing along the line to fit.
    # The least squares were singular there and the rung raised (numpy's LinAlgError), which
    # ended `station decode` on the frame instead of going on to the next rung.
    rng = np.random.default_rng(5)
    flat = np.full((120, 120), 255, np.uint8)
    blurred = np.clip(rng.normal(250, 3.0, (120, 120)), 0, 255).astype(np.uint8)
    assert profile_kernel(flat, blurred, math.cos(0.3), math.sin(0.3), 12) is None
