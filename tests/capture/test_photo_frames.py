"""Photos (issue 13 part 4): phone pictures of 1.2-12 megapixels are varied, `station decode`'s
ladder reads more of their codes than raw zxing-cpp and never misreads one, and the glare rung's
paper level, worked out on a pooled copy so a photo's region costs milliseconds instead of
seconds, is the level worked out at full size. Counts, never times."""

from __future__ import annotations

import math
import re
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from bench_runs import run_bench
from frame_families import make_family_frame
from photo_frames import Photo, make_photo

from station.capture.decoders import make_decoder
from station.capture.ladder import DecodeLadder
from station.capture.region_rungs import _flatten, cut, regions

PHOTOS = 24
# Codes in the first PHOTOS photos (seed 5150): raw zxing-cpp read RAW, the ladder with no time
# limit LADDER when this was written; the floor is one under it, so a lost code shows.
RAW, LADDER = 19, 22


@cache
def photos() -> tuple[Photo, ...]:
    return tuple(make_photo(i) for i in range(PHOTOS))


def test_photos_are_deterministic_and_varied() -> None:
    a, b = make_photo(5), make_photo(5)
    assert (a.image == b.image).all() and a.texts == b.texts
    sizes = {p.image.shape for p in photos()}
    assert len(sizes) >= 4 and max(h * w for h, w in sizes) > 5e6 and min(h * w for h, w in sizes) < 2e6
    details = " ".join(p.detail for p in photos())
    for kind in ("shadow", "shake", "bent", "jpeg"):
        assert kind in details, kind
    assert any(len(p.texts) > 1 for p in photos())
    versions = {int(v) for p in photos() for v in re.findall(r"\bv(\d+)[LMQH]", p.detail)}
    assert min(versions) <= 3 and max(versions) >= 15


def test_the_ladder_reads_more_codes_of_photos_than_raw_zxing_and_never_misreads() -> None:
    raw = make_decoder("zxing")
    station = DecodeLadder(make_decoder("zxing"), budget_ms=math.inf, every_code=True)
    n_raw = n_station = 0
    for p in photos():
        drawn = set(p.texts)
        got_raw = {d.text for d in raw.decode(p.image).detections}
        got = {d.text for d in station.decode(p.image).detections}
        assert got | got_raw <= drawn, f"false read {(got | got_raw) - drawn} in #{p.index} {p.detail}"
        n_raw += len(drawn & got_raw)
        n_station += len(drawn & got)
    assert (n_raw, n_station) >= (RAW, LADDER - 1), (n_raw, n_station)
    assert n_station > n_raw


def _paper_at_full_size(crop: np.ndarray) -> np.ndarray:
    """The glare rung's paper level as first written: a dilation and blur at full size."""
    k = max(15, (min(crop.shape) // 8) | 1)
    paper = cv2.GaussianBlur(cv2.dilate(crop, np.ones((k, k), np.uint8)), (0, 0), k / 2).astype(np.float32)
    return np.clip(crop.astype(np.float32) / np.maximum(paper, 1.0) * 200.0, 0, 255).astype(np.uint8)


def test_the_glare_rungs_pooled_paper_level_matches_the_full_size_one() -> None:
    glare = make_family_frame("glare", 2).image
    big = cv2.resize(glare, None, fx=2.5, fy=2.5, interpolation=cv2.INTER_CUBIC)  # a photo-sized region
    for image in (glare, big):
        crop = cut(image, regions(image, ())[0])
        diff = np.abs(_flatten(crop).astype(int) - _paper_at_full_size(crop))
        assert min(crop.shape) > 200
        assert diff.mean() < 1.5 and np.percentile(diff, 99) <= 8, (crop.shape, diff.mean())


def test_a_short_photo_bench_run_prints_each_size_and_the_total(tmp_path: Path) -> None:
    out = run_bench(tmp_path, "photo_bench.py", "--photos", "6")
    assert "| photos | n | codes | raw zxing-cpp | station decode | all codes read | false reads " in out
    assert "| **all** |" in out


def test_a_code_zxing_cannot_place_leaves_the_region_rungs_the_busiest_region() -> None:
    """zxing-cpp reports some codes it cannot read with all four corners at (0, 0); taken as
    where the code is, that gave the region rungs a 12 px box in the picture's corner."""
    image = make_photo(10).image
    _, hints = DecodeLadder(make_decoder("zxing")).plain(image)
    assert hints and all(h == (0.0, 0.0, 0.0, 0.0) for h in hints)  # the photo shows the case
    boxes = regions(image, hints)
    assert boxes == regions(image, ())  # the busiest region, as with no hint at all
    x0, y0, x1, y1 = boxes[0]
    assert x1 - x0 > 500 and y1 - y0 > 500  # the code's region (about 1,000 px), not a corner box


def test_glare_photos_are_the_same_photos_under_a_lamp() -> None:
    plain, lit, again = make_photo(5), make_photo(5, glare=True), make_photo(5, glare=True)
    assert lit.texts == plain.texts and "glare=" in lit.detail and "glare=" not in plain.detail
    assert (lit.image == again.image).all()
    assert (lit.image >= 250).sum() > (plain.image >= 250).sum()  # the reflection clips
    assert np.mean(np.abs(lit.image.astype(int) - plain.image.astype(int)) > 30) < 0.5  # the rest is the same photo
