"""Frames drawn apart from the ladder (tests/capture/apart_frames.py): the generator is seeded and
repeatable, draws frames of the documented sizes in every category, and a frame's payload is the
text its code encodes (none on nocode frames). No read rates: those are benchmark figures
(benchmarks/apart_bench.py), not tests."""

from __future__ import annotations

import re
from functools import cache

import cv2
import numpy as np
import pytest
import segno
from apart_frames import CATEGORIES, FRAME_SIZES, ApartFrame, make_apart_frame

SEED = 2
B62 = "[0-9A-Za-z]"
B64URL = "[0-9A-Za-z_-]"
PAYLOAD_FORMS = {
    "fmt2": re.compile(r"HTTPS://PASSES\.STATION\.EXAMPLE/P/2[0-9]{188,216}"),
    "fmt1": re.compile(rf"https://passes\.station\.example/p/{B62}{{12}}\?token={B64URL}{{240,260}}\.{B64URL}{{86}}"),
    "bare": re.compile(f"{B62}{{12}}"),
}


@cache
def first_frame(category: str) -> ApartFrame:
    return make_apart_frame(category, 0, SEED)


def test_the_same_arguments_draw_the_same_frame() -> None:
    a, b = make_apart_frame("small", 1, SEED), make_apart_frame("small", 1, SEED)
    assert np.array_equal(a.image, b.image)
    assert a.encoded == b.encoded
    assert (a.payload, a.meta, a.jpeg_quality, a.name) == (b.payload, b.meta, b.jpeg_quality, b.name)
    other = make_apart_frame("small", 2, SEED)
    assert other.payload != a.payload
    assert other.image.shape != a.image.shape or not np.array_equal(other.image, a.image)


def test_a_frame_is_drawn_as_it_was_when_the_figures_were_taken() -> None:
    # motion 0 of seed 2, as the stand-alone script drew it for the first figure on these frames
    f = first_frame("motion")
    assert f.name == "f2_00000.jpg"
    assert f.meta == {"size": [1280, 720], "bg": "desk", "payload_kind": "fmt1", "version": 15, "module_px": 4.42,
                      "carrier": "paper", "code_px": 317.7,
                      "motion": {"shape": "linear", "len": 9.3, "where": "frame"}, "jpeg_q": 51}
    assert f.payload is not None and len(f.payload) == 383
    assert f.payload.startswith("https://passes.station.example/p/sIhyGStZjPSK?token=EZUNcPdR")


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_category_draws_a_frame_of_a_documented_size_as_its_file_holds_it(category: str) -> None:
    f = first_frame(category)
    assert f.category == category and f.index == 0 and f.seed == SEED
    h, w = f.image.shape[:2]
    assert (w, h) in FRAME_SIZES and f.meta["size"] == [w, h]
    assert f.image.dtype == np.uint8 and f.image.shape[2] == 3
    decoded = cv2.imdecode(np.frombuffer(f.encoded, np.uint8), cv2.IMREAD_COLOR)
    assert np.array_equal(decoded, f.image)  # the pixels are the file's (JPEG-decoded for a JPEG)
    if f.is_jpeg:
        assert f.jpeg_quality is not None and 40 <= f.jpeg_quality <= 85 and f.meta["jpeg_q"] == f.jpeg_quality
        assert f.name.endswith(".jpg") and f.encoded[:2] == b"\xff\xd8"
    else:
        assert f.name.endswith(".png") and f.encoded[:4] == b"\x89PNG" and "jpeg_q" not in f.meta
    assert (f.payload is None) == (category == "nocode")
    assert f.detail.startswith(category)


@pytest.mark.parametrize("category", ["motion", "defocus", "small"])  # a format 1, a format 2 and a bare code
def test_the_payload_is_the_text_the_code_encodes(category: str) -> None:
    f = first_frame(category)
    kind = f.meta["payload_kind"]
    assert f.payload is not None and PAYLOAD_FORMS[kind].fullmatch(f.payload), (kind, f.payload)
    if kind == "fmt2":  # the URL prefix and the digits in segments of their own, as a printed pass
        prefix = "HTTPS://PASSES.STATION.EXAMPLE/P/"
        qr = segno.make([prefix, f.payload[len(prefix):]], error="m", boost_error=False)
    else:
        qr = segno.make(f.payload, error="m", boost_error=False, micro=False)
    assert qr.version == f.meta["version"]


def test_the_three_frames_cover_every_kind_of_payload() -> None:
    assert {first_frame(c).meta["payload_kind"] for c in ("motion", "defocus", "small")} == set(PAYLOAD_FORMS)


def test_nocode_frames_have_no_payload_only_distractors() -> None:
    for i in range(3):
        f = make_apart_frame("nocode", i, SEED)
        assert f.payload is None
        assert f.meta["distractors"] and "version" not in f.meta


def test_an_unknown_category_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown category"):
        make_apart_frame("module", 0, SEED)
