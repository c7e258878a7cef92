"""The decoders and the retry ladder on degraded frames with known contents."""

from __future__ import annotations

import math
from functools import cache

import cv2
import pytest
import segno

from degrade import CODE_BUCKETS, EMPTY_BUCKETS, DegradedFrame, make_frame, multi_code_frame, qr_matrix
from station.capture.decoders import make_decoder
from station.capture.ladder import DEFAULT_RUNGS, SINGLE_FRAME_RUNGS, DecodeLadder, StreamLadder

FRAMES_PER_BUCKET = 8

# Frames out of 8 the station pipeline (zxing + ladder, no time limit) must read, per bucket.
# Measured with zxing-cpp 3.1; motion blur is the known weak spot (streaks of 8-14 px).
PIPELINE_MIN: dict[str, int] = {
    "module_size": 8,
    "rotation": 8,
    "perspective": 8,
    "gaussian_blur": 7,
    "motion_blur": 3,
    "noise": 8,
    "low_contrast": 8,
    "glare": 8,
    "occlusion": 8,
    "inverted": 8,
    "clutter": 8,
}


@cache
def frames(bucket: str) -> tuple[DegradedFrame, ...]:
    return tuple(make_frame(bucket, i) for i in range(FRAMES_PER_BUCKET))


@cache
def zxing_ladder() -> DecodeLadder:
    # No time limit: what a rung reads must not depend on how busy the test machine is.
    return DecodeLadder(make_decoder("zxing"), budget_ms=math.inf)


def reads(texts: set[str], frame: DegradedFrame) -> bool:
    assert texts <= set(frame.texts), f"false read in {frame.bucket} #{frame.index}: {texts - set(frame.texts)}"
    return bool(frame.texts) and set(frame.texts) <= texts


def test_generator_is_deterministic() -> None:
    a, b = make_frame("noise", 3), make_frame("noise", 3)
    assert (a.image == b.image).all() and a.texts == b.texts
    assert not (make_frame("noise", 4).image == a.image).all()


@pytest.mark.parametrize("bucket", CODE_BUCKETS)
def test_pipeline_reads_each_bucket_and_never_misreads(bucket: str) -> None:
    ladder = zxing_ladder()
    read = sum(reads({d.text for d in ladder.decode(f.image).detections}, f) for f in frames(bucket))
    assert read >= PIPELINE_MIN[bucket], f"{bucket}: read {read}/{FRAMES_PER_BUCKET}"


@pytest.mark.parametrize("bucket", CODE_BUCKETS)
def test_pipeline_reads_at_least_what_raw_zxing_reads(bucket: str) -> None:
    raw = make_decoder("zxing")
    ladder = zxing_ladder()
    for f in frames(bucket):
        if reads({d.text for d in raw.decode(f.image).detections}, f):
            assert reads({d.text for d in ladder.decode(f.image).detections}, f)


def test_ladder_beats_raw_zxing_overall() -> None:
    raw, ladder = make_decoder("zxing"), zxing_ladder()
    all_frames = [f for b in CODE_BUCKETS for f in frames(b)]
    raw_read = sum(reads({d.text for d in raw.decode(f.image).detections}, f) for f in all_frames)
    ladder_read = sum(reads({d.text for d in ladder.decode(f.image).detections}, f) for f in all_frames)
    assert ladder_read >= raw_read + 4
    assert ladder_read / len(all_frames) >= 0.92


@pytest.mark.parametrize("engine", ["zxing", "zbar"])
@pytest.mark.parametrize("bucket", EMPTY_BUCKETS)
def test_no_code_frames_give_no_reads(engine: str, bucket: str) -> None:
    ladder = DecodeLadder(make_decoder(engine), budget_ms=math.inf)
    for i in range(12):
        f = make_frame(bucket, i)
        result = ladder.decode(f.image)
        assert result.detections == (), f"{engine} read {result.detections} from {bucket} #{i}"
        # Every rung was tried and none invented a code.
        assert result.rung is None and result.tried == ("plain", *ladder.rungs)


def test_zbar_pipeline_reads_inverted_codes_via_its_inverted_rung() -> None:
    ladder = DecodeLadder(make_decoder("zbar"), budget_ms=math.inf)
    raw = make_decoder("zbar")
    f = frames("inverted")[0]
    assert raw.decode(f.image).detections == ()
    result = ladder.decode(f.image)
    assert [d.text for d in result.detections] == list(f.texts)
    assert result.rung == "inverted"


def test_several_codes_in_one_frame_are_all_returned_with_their_corners() -> None:
    texts = ["AbCdEfGhIjK1", "https://tix.example.org/p/ZyXwVuTsRqP2", "QwErTyUiOp34"]
    image = multi_code_frame(texts)
    result = zxing_ladder().decode(image)
    assert sorted(d.text for d in result.detections) == sorted(texts)
    # Left-to-right placement: each code's corners lie in its own third of the frame.
    by_x = sorted(result.detections, key=lambda d: min(x for x, _ in d.corners))
    assert [d.text for d in by_x] == texts
    for i, d in enumerate(by_x):
        assert len(d.corners) == 4
        assert all(i * 1280 / 3 <= x <= (i + 1) * 1280 / 3 for x, _ in d.corners)


def test_a_rung_read_maps_corners_back_to_frame_coordinates() -> None:
    # A frame the plain try cannot read but the ladder can: its corners must land on the code.
    ladder = zxing_ladder()
    raw = make_decoder("zxing")
    for bucket in ("gaussian_blur", "low_contrast", "noise", "motion_blur"):
        for f in frames(bucket):
            if raw.decode(f.image).detections:
                continue
            result = ladder.decode(f.image)
            if not result.detections:
                continue
            assert result.rung != "plain"
            (d,) = result.detections
            xs = [x for x, _ in d.corners]
            ys = [y for _, y in d.corners]
            assert 0 <= min(xs) < max(xs) <= 1280 and 0 <= min(ys) < max(ys) <= 720
            # The corners enclose dark modules: the code's centre region is not background.
            assert max(xs) - min(xs) > 50
            return
    pytest.fail("no frame needed a rung: the buckets lost their teeth")


class StepClock:
    """Each call advances by `step` seconds: every rung 'costs' a known time."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_budget_stops_the_ladder_early() -> None:
    f = make_frame("stripes", 0)
    # The step clock's ms are no machine's: the rungs' prior costs at the development machine's.
    ladder = DecodeLadder(make_decoder("zxing"), budget_ms=5.0, clock=StepClock(0.003), pace=1.0)
    result = ladder.decode(f.image)
    # 3 ms pass per clock reading: the first rung (prior 1.3 ms) starts at ~3 ms, the second
    # would start past 5.
    assert result.tried == ("plain", DEFAULT_RUNGS[0])


def test_stream_ladder_spreads_rungs_over_frames() -> None:
    f = make_frame("stripes", 1)
    stream = StreamLadder(DecodeLadder(make_decoder("zxing"), clock=StepClock(0.004)), frame_budget_ms=5.0,
                          blind_every=1)
    seen = [stream.decode(f.image).tried for _ in range(len(stream.rungs) + 1)]
    # One rung per frame (each 'costs' more than the frame budget), in turn, wrapping around;
    # the rungs that cost more than a camera frame's share are left to single frames.
    assert stream.rungs == tuple(r for r in DEFAULT_RUNGS if r not in SINGLE_FRAME_RUNGS)
    assert [t[1:] for t in seen] == [(r,) for r in stream.rungs] + [(stream.rungs[0],)]
    assert all(t[0] == "plain" for t in seen)


def test_stream_ladder_climbs_only_every_other_frame_when_nothing_code_like_is_seen() -> None:
    f = make_frame("stripes", 1)  # zxing sees no code-like shape in it at all
    stream = StreamLadder(DecodeLadder(make_decoder("zxing"), clock=StepClock(0.004)), frame_budget_ms=5.0)
    seen = [stream.decode(f.image).tried for _ in range(4)]
    assert seen == [("plain",), ("plain", stream.rungs[0]), ("plain",), ("plain", stream.rungs[1])]


def test_stream_ladder_reads_a_hard_code_within_a_few_frames() -> None:
    raw = make_decoder("zxing")
    hard = next(f for f in frames("low_contrast") + frames("gaussian_blur") if not raw.decode(f.image).detections)
    stream = StreamLadder(DecodeLadder(make_decoder("zxing")), frame_budget_ms=0.0)  # one rung a frame
    results = [stream.decode(hard.image) for _ in range(2 * len(DEFAULT_RUNGS))]
    read = [r for r in results if r.detections]
    assert read and read[0].detections[0].text == hard.texts[0]
    # Once a rung works, the next frame starts with it, so the code keeps being read.
    first = results.index(read[0])
    climbed = [r for r in results[first:] if len(r.tried) > 1]
    assert len(climbed) >= 2 and all(r.detections and r.tried == ("plain", read[0].rung) for r in climbed)


def test_pass_images_are_real_qr_codes_not_micro_qr() -> None:
    code = "AbCdEfGhIjKl"
    assert segno.make(code).is_micro  # the trap
    assert not segno.make_qr(code, error="q").is_micro
    big = cv2.resize(qr_matrix(code), None, fx=4, fy=4, interpolation=cv2.INTER_NEAREST)
    for engine in ("zxing", "zbar"):
        assert [d.text for d in make_decoder(engine).decode(big).detections] == [code]


def test_unknown_engine_and_rung_are_refused() -> None:
    with pytest.raises(ValueError, match="Unknown decoder"):
        make_decoder("opencv")
    with pytest.raises(ValueError, match="Unknown ladder rungs"):
        DecodeLadder(rungs=("median", "magic"))
