"""No false reads: a read that is not a code drawn in the frame admits or refuses the wrong
person at a door (issue 13). Frames from tests/capture/hard_frames.py, seeded."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
import segno
from capture_fakes import QrFamilyDecoder
from frame_families import FAMILIES, make_family_frame
from hard_frames import PASS_KINDS, HardFrame, glare_band_frame, make_hard_frame

from station.capture.decoders import Decoder, make_decoder
from station.capture.ladder import DecodeLadder

HARD_FRAMES = 300


def ladder(decoder: Decoder | None = None, every_code: bool = False) -> DecodeLadder:
    # No time limit: what a rung reads must not depend on how busy the test machine is.
    return DecodeLadder(decoder or make_decoder("zxing"), budget_ms=math.inf, every_code=every_code)


def reads(ladder: DecodeLadder, frame: HardFrame) -> set[str]:
    return {d.text for d in ladder.decode(frame.image).detections}


@pytest.mark.parametrize("at", [0.75, 0.8, 0.85, 0.9, 0.95])
def test_glare_over_a_pass_is_not_read_as_a_micro_qr_inside_its_finder_pattern(at: float) -> None:
    # The ladder's threshold rung turned a glare-washed finder pattern of this pass into a Micro
    # QR M1 symbol (a finder plus a few modules: 5 digits, error detection only) reading "52570".
    frame = glare_band_frame("v", at, shift=1)
    got = reads(ladder(), frame)
    assert got <= frame.allowed, f"false read {got - frame.allowed} in {frame.detail}"


def _matrix_image(qr: segno.QRCode, scale: int) -> np.ndarray:
    img = np.array(list(qr.matrix_iter(scale=scale, border=4)), dtype=np.uint8)
    return np.where(img == 1, 0, 255).astype(np.uint8)


def test_the_station_reads_full_size_qr_codes_only() -> None:
    # A pass is always a full-size QR code (qr_content.make_qr): a Micro QR in view is a label or a
    # false finding, and the station's decoder does not look for one.
    micro = _matrix_image(segno.make("52570", micro=True), 8)
    full = _matrix_image(segno.make_qr("52570"), 8)
    decoder = make_decoder("zxing")
    assert decoder.decode(micro).detections == ()
    assert [d.text for d in decoder.decode(full).detections] == ["52570"]
    assert [d.text for d in QrFamilyDecoder().decode(micro).detections] == ["52570"]  # what it was


@cache
def hard_frame(index: int) -> HardFrame:
    return make_hard_frame(index)


def test_hard_frames_are_deterministic_and_varied() -> None:
    a, b = make_hard_frame(7), make_hard_frame(7)
    assert (a.image == b.image).all() and a.allowed == b.allowed
    some = [hard_frame(i) for i in range(100)]
    details = " ".join(f.detail for f in some)
    for what in ("dark", "curved", "moire", "glare=band", "glare=ellipse", "glare=blobs", "finger", "sticker",
                 "streak=", "defocus=", "jpeg="):
        assert what in details, what
    assert sum(len(f.allowed) > 1 for f in some) >= 25  # strangers' codes too


@pytest.mark.slow
# Two ladders with no time limit over 300 frames: 345 s before the unsmeared rung, 370 s after, on
# a 2-core machine with the other core busy (docs/decode-benchmark.md). A count, not a timing: the
# bound only catches a hang.
@pytest.mark.timeout(900)
def test_hard_frames_give_no_false_reads_and_read_at_least_what_the_qr_family_decoder_read() -> None:
    # As `station decode` reads them: on past a read while a busy region is unread. Stopping at
    # the first read, the comparison measured the engines' junk: the whole family's decoder
    # reported Micro QR near misses beside a stranger's code read in the background, so its
    # ladder climbed on to the pass where the station's stopped (frames 24, 228, 243, 251: read by
    # the envelope rung for it only, 230 against 226 of 300).
    station, before = ladder(every_code=True), ladder(QrFamilyDecoder(), every_code=True)
    false_reads, read, read_before = [], 0, 0
    by_kind: dict[str, list[int]] = {}  # pass kind: [read, frames]
    for f in map(hard_frame, range(HARD_FRAMES)):
        got = reads(station, f)
        if got - f.allowed:
            false_reads.append(f"#{f.index} {f.detail}: {sorted(got - f.allowed)}")
        read += f.text in got
        read_before += f.text in reads(before, f)
        tally = by_kind.setdefault(PASS_KINDS[f.index % 4], [0, 0])
        tally[0] += f.text in got
        tally[1] += 1
    print(f"hard frames: the station reads {read}/{HARD_FRAMES} ({100 * read / HARD_FRAMES:.1f} %; "
          + ", ".join(f"{k} {r}/{n}" for k, (r, n) in by_kind.items())
          + f"), with zxing-cpp's whole QR family {read_before}/{HARD_FRAMES}")
    assert not false_reads, "\n".join(false_reads)
    assert read >= read_before


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_the_frame_families_give_no_false_reads_through_every_rung(family: str) -> None:
    # Another seed than the read-rate tests (tests/capture/test_frame_families.py), the ladder as
    # `station decode` runs it: every rung, and on past a read while a busy region is unread.
    station = DecodeLadder(make_decoder("zxing"), budget_ms=math.inf, every_code=True)
    for i in range(16):
        f = make_family_frame(family, i, seed=77)
        got = reads(station, f)
        assert got <= f.allowed, f"false read {sorted(got - f.allowed)} in #{i} {f.detail}"
