"""A lens's disc measured from its rings in the spectrum (disc_radius.py), and the disc rung's
views at that radius. Pictures are blurred here by a disc drawn 8x finer and averaged down (not
the kernel the rung deconvolves with), the webcam's own softness, noise, sometimes its
sharpening, and JPEG."""

from __future__ import annotations

import math

import cv2
import numpy as np
import apart_frames
import pytest
from small_codes import matrix_of, pass_text
from test_defocus import _place, _wall

from station.capture import defocus, disc_radius
from station.capture.decoders import make_decoder
from station.domain.qr_content import make_qr

W, H = 1280, 720


def out_of_focus(rng: np.random.Generator, text: str, module: float,
                 radius: float) -> tuple[np.ndarray, tuple[int, ...]]:
    """`text`'s code at `module` px, blurred by a disc of `radius` px as a webcam sees it; and
    the box around the code (where the ladder's region finder would put it)."""
    canvas = np.ascontiguousarray(_wall(rng)[:H, :W])
    m = matrix_of(make_qr(text))
    centre = (W / 2 + rng.uniform(-120, 120), H / 2 + rng.uniform(-60, 60))
    _place(rng, canvas, m, module, centre)
    img = cv2.filter2D(canvas, -1, apart_frames.disc_kernel(radius))  # drawn 8x finer, averaged down
    img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.45, 1.0)))
    img = img + rng.normal(0, float(rng.uniform(1.0, 3.0)), img.shape)
    if rng.random() < 0.4:  # the webcam's own sharpening
        img = img + float(rng.uniform(0.3, 0.8)) * (img - cv2.GaussianBlur(img, (0, 0), float(rng.uniform(1, 2))))
    u8 = np.clip(img, 0, 255).astype(np.uint8)
    u8 = cv2.imdecode(cv2.imencode(".jpg", u8, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(50, 90))])[1],
                      cv2.IMREAD_GRAYSCALE)
    half = (len(m) + 8) * module * 0.75 + 2 * radius
    x0, y0 = max(0, int(centre[0] - half)), max(0, int(centre[1] - half))
    return u8, (x0, y0, min(W, int(centre[0] + half)), min(H, int(centre[1] + half)))


def test_the_radius_is_measured_to_a_few_per_cent() -> None:
    rng = np.random.default_rng(33)
    errors = []
    for _ in range(16):
        # A disc of a module or so: under ~0.7 module the Gaussian views read it (test_defocus.py),
        # and its first ring falls where the code's own modules leave the spectrum empty.
        module = float(rng.uniform(2.6, 7.0))
        radius = max(3.0, module * float(rng.uniform(0.8, 1.8)))
        text = pass_text(rng)[:int(rng.integers(30, 150))]
        image, (x0, y0, x1, y1) = out_of_focus(rng, text, module, radius)
        found = disc_radius.estimate(image[y0:y1, x0:x1])
        errors.append(math.inf if found is None else abs(found / radius - 1))
    # When written (seed 33): 14 of 16 within 3 % (it runs about 1 % over), one no disc, one 3.8x
    # the truth; seed 34: 16 of 16. The Gaussian estimate the rung had before is off by a factor
    # of 2-3.6, and 10 % off reads nothing.
    assert sum(e <= 0.04 for e in errors) >= 13, [round(e, 3) for e in sorted(errors)]


def test_a_sharp_or_smeared_code_shows_no_disc() -> None:
    rng = np.random.default_rng(7)
    claimed = []
    for blur in ("sharp", "smear", "gauss") * 4:
        canvas = np.ascontiguousarray(_wall(rng)[:H, :W])
        _place(rng, canvas, matrix_of(make_qr(pass_text(rng)[:80])), float(rng.uniform(3, 8)), (W / 2, H / 2))
        if blur == "smear":
            length, angle = float(rng.uniform(8, 30)), float(rng.uniform(0, math.pi))
            k = np.zeros((61, 61), np.float32)
            cv2.line(k, (int(30 - length / 2 * math.cos(angle)), int(30 - length / 2 * math.sin(angle))),
                     (int(30 + length / 2 * math.cos(angle)), int(30 + length / 2 * math.sin(angle))), 1.0, 1)
            canvas = cv2.filter2D(canvas, -1, k / k.sum())
        elif blur == "gauss":
            canvas = cv2.GaussianBlur(canvas, (0, 0), float(rng.uniform(1.5, 4)))
        image = np.clip(canvas + rng.normal(0, 2.0, canvas.shape), 0, 255).astype(np.uint8)
        found = disc_radius.estimate(image[H // 2 - 250:H // 2 + 250, W // 2 - 250:W // 2 + 250])
        if found is not None:
            claimed.append((blur, round(found, 1)))
    # A disc claimed where there is none costs the rung's views (time), never a false read; but
    # it should be rare. When written: none of 12.
    assert len(claimed) <= 2, claimed


def test_the_rung_reads_codes_whose_disc_only_the_rings_give(monkeypatch: pytest.MonkeyPatch) -> None:
    """Codes blurred by a disc of 1.1-1.6 modules: the rung's views at the measured radius read
    what its views at multiples of the Gaussian estimate miss (10 % off the radius reads nothing)."""
    rng = np.random.default_rng(2112)
    engine = make_decoder("zxing")
    pictures = []
    for _ in range(12):
        module = float(rng.uniform(3.5, 7.0))
        text = pass_text(rng)[:int(rng.integers(30, 120))]
        pictures.append((text, out_of_focus(rng, text, module, module * float(rng.uniform(1.1, 1.6)))[0]))

    def reads() -> int:
        count = 0
        for text, image in pictures:
            got = {d.text for view in defocus.disc(image, ()) for d in engine.decode(view.image).detections}
            assert got <= {text}  # no false read
            count += text in got
        return count

    with_rings = reads()
    monkeypatch.setattr(disc_radius, "estimate", lambda crop: None)
    without = reads()
    # When written (seed 2112): 11 of 12 with the rings' views, 1 with the Gaussian estimate's alone.
    assert with_rings >= without + 6, (with_rings, without)


def test_a_flat_or_tiny_region_has_no_disc() -> None:
    assert disc_radius.estimate(np.full((300, 300), 128, np.uint8)) is None  # no power at all
    assert disc_radius.estimate(np.zeros((40, 300), np.uint8)) is None  # too few rings to fit
    rng = np.random.default_rng(5)
    noise = np.clip(rng.normal(128, 20, (300, 300)), 0, 255).astype(np.uint8)
    assert disc_radius.estimate(noise) is None  # white noise: a flat spectrum, no dips
