"""Reading that uses the sequence (issue 13 part 3): what one frame cannot give, the frames
around it can; never a read that does not verify, and the work per frame stays bounded.

Budgets are counted in decoder calls: a fake clock advances a fixed step per call, so what a
reader does on a frame never depends on how busy the test machine is."""

from __future__ import annotations

import math

import numpy as np
import pytest
from capture_fakes import STEP_S, CountingDecoder, StepClock
from presentation_clips import Clip, _motion, make_clip, pass_link, verifier

from station.capture.decoders import ZxingDecoder
from station.capture.demo_source import qr_image
from station.capture.ladder import DEFAULT_RUNGS, DecodeLadder, StreamLadder
from station.capture.sequence import _STARVED_FRAMES as STARVED
from station.capture.sequence import SequenceReader, fuse, wiener



def per_frame() -> StreamLadder:
    clock = StepClock()
    return StreamLadder(DecodeLadder(CountingDecoder(clock), clock=clock, pace=1.0))


def sequence(**kw: object) -> SequenceReader:
    clock = StepClock()
    kw.setdefault("verify", verifier)
    return SequenceReader(DecodeLadder(CountingDecoder(clock), clock=clock, pace=1.0), **kw)  # type: ignore[arg-type]


def verified_reads(reader: StreamLadder | SequenceReader, frames: list[np.ndarray]) -> list[str]:
    return [d.text for f in frames for d in reader.decode(f).detections if verifier(d.text)]


def unlimited_ladder() -> DecodeLadder:
    return DecodeLadder(ZxingDecoder(), budget_ms=math.inf)


@pytest.fixture(scope="module")
def clip4() -> Clip:
    return make_clip(4)


def test_a_moment_the_per_frame_path_misses_is_read_from_the_sequence(clip4: Clip) -> None:
    # Frames 31-34 of clip 4: the phone tilts and trembles; frame by frame, at the camera's
    # per-frame budget, none reads. The sequence reader sharpens the sharpest of the crops it kept.
    frames = list(clip4.frames[31:35])
    assert verified_reads(per_frame(), frames) == []
    reader = sequence()
    results = [reader.decode(f) for f in frames]
    texts = [d.text for r in results for d in r.detections]
    assert clip4.text in texts
    assert set(texts) <= clip4.allowed
    assert any(r.rung == "sharpest" for r in results)


def _code_frame(link: str) -> np.ndarray:
    code = qr_image(link, 4).astype(np.float32)
    frame = np.full((code.shape[0] + 80, code.shape[1] + 80), 120, np.float32)
    frame[40:-40, 40:-40] = 30 + code * 0.8
    return frame


def _noisy(img: np.ndarray, seed: int) -> np.ndarray:
    return np.clip(img + np.random.default_rng(seed).normal(0, 2, img.shape), 0, 255).astype(np.uint8)


def test_glare_that_moves_over_a_still_code_is_fused_away() -> None:
    link = pass_link(np.random.default_rng(5))
    frame = _code_frame(link)
    h, w = frame.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    frames = []
    for k, (gx, gy) in enumerate([(0.25, 0.3), (0.75, 0.35), (0.45, 0.78)]):
        # A spot of 0.2 h: one of 0.16 h is read from a single frame since the erasures decoding
        glare = 400 * np.exp(-(((xx - gx * w) ** 2 + (yy - gy * h) ** 2) / (2 * (0.2 * h) ** 2)))
        frames.append(_noisy(frame + glare, k))
    # Every rung but one, no time limit. The washed rung (station decode's, not the camera's:
    # finder_grid.py) reads two of the three alone, where the spot's rim lifts the ink unclipped.
    ladder = DecodeLadder(ZxingDecoder(), rungs=[r for r in DEFAULT_RUNGS if r != "washed"], budget_ms=math.inf)
    assert all(ladder.decode(f).detections == () for f in frames)
    assert [d.text for d in ladder.decoder.decode(fuse(frames)).detections] == [link.replace(
        "https://passes.station.example/p/", "HTTPS://PASSES.STATION.EXAMPLE/P/")]
    reader = sequence()
    results = [reader.decode(f) for f in frames]
    assert [r.rung for r in results] == [None, None, "fuse"]
    assert verifier(results[-1].detections[0].text)


def test_a_smear_along_a_known_motion_is_undone() -> None:
    link = pass_link(np.random.default_rng(6))
    smeared = _noisy(_motion(_code_frame(link), 12.0, 0.0), 1)
    # (The path and speed rungs, which estimate a smear's path and the speed along it, read it
    # too: left out here.)
    no_deblur = DecodeLadder(ZxingDecoder(), rungs=[r for r in DEFAULT_RUNGS if r not in ("deblur", "speed", "path")],
                             budget_ms=math.inf)
    assert no_deblur.decode(smeared).detections == ()
    assert unlimited_ladder().decoder.decode(wiener(smeared, 12.0, 0.0, noise=0.003, defocus=0.5)).detections
    # The single-frame ladder's deblur rung finds the smear in the frame itself (region.smear).
    result = unlimited_ladder().decode(smeared)
    assert result.rung == "deblur" and [verifier(d.text) for d in result.detections] == [True]


def test_a_strangers_code_in_every_frame_never_becomes_a_read() -> None:
    clip = next(c for c in map(lambda i: make_clip(i, kind="empty", frames=24), range(40)) if c.allowed)
    reader = sequence()
    for f in clip.frames:
        result = reader.decode(f)
        texts = {d.text for d in result.detections}
        assert texts <= clip.allowed  # the poster's code may be read (the door says "not ours")...
        assert not any(verifier(t) for t in texts)  # ...but it is never a pass
        assert result.rung not in SequenceReader.STEPS  # and no fused/deblurred crop reports it


def test_the_work_per_frame_stays_bounded(clip4: Clip) -> None:
    clock = StepClock()
    decoder = CountingDecoder(clock)
    reader = SequenceReader(DecodeLadder(decoder, clock=clock, pace=1.0), verify=verifier, max_calls=3)
    calls = []
    for f in clip4.frames:
        before = decoder.calls
        result = reader.decode(f)
        calls.append(decoder.calls - before)
        assert sum(step in SequenceReader.STEPS for step in result.tried) <= 3
    # The region, the plain try, three sequence steps and what the ladder's 6 ms allow (a rung
    # costs 1-3 calls here): at 2 ms a call that is well inside a frame's 33 ms.
    assert max(calls) <= 1 + 1 + 3 + 4
    assert sum(calls) / len(calls) <= 6


def test_unknown_steps_are_refused() -> None:
    with pytest.raises(ValueError, match="Unknown sequence steps: blur"):
        SequenceReader(steps=("roi", "blur"))


def test_a_reader_running_all_day_holds_only_its_last_few_frames(clip4: Clip) -> None:
    reader = sequence(history=4)
    for f in clip4.frames * 3:
        reader.decode(f)
    assert len(reader._crops) <= 4
    assert len(reader._sharpened) <= 4


def test_a_smear_is_undone_along_what_the_crop_itself_shows() -> None:
    # Clip 3: the phone is still slowing down when the code comes into view (frame 8). The
    # motion between two frames says how far it moved, not how long the shutter was open, so a
    # Wiener step along a guessed share of it missed frames 11 and 12; the smear read off the
    # crop (region.smear) reads frame 11, two frames (67 ms) sooner.
    clip = make_clip(3)
    reader = sequence()
    results = [reader.decode(f) for f in clip.frames[:12]]
    read = [i for i, r in enumerate(results) if any(verifier(d.text) for d in r.detections)]
    assert read and read[0] <= 11
    assert results[read[0]].rung == "deblur"
    assert all({d.text for d in r.detections} <= clip.allowed for r in results)


def test_a_step_that_would_overrun_the_frame_budget_is_skipped(clip4: Clip) -> None:
    # The deblur step's FFTs cost ~12 ms a frame on one core. Here its view "costs" 20 ms of the
    # fake clock: once that is known, it runs only where it still fits in the camera's 25 ms.
    clock = StepClock()

    class SlowDeblur(SequenceReader):
        def _view(self, step: str, current: object) -> tuple[np.ndarray, float] | None:
            if step == "deblur":
                clock.now += 0.020
            return super()._view(step, current)  # type: ignore[arg-type]

    ladder = DecodeLadder(CountingDecoder(clock), clock=clock, pace=1.0)
    reader = SlowDeblur(ladder, verify=verifier)
    runs = []
    for i, f in enumerate(clip4.frames[:40]):
        result = reader.decode(f)
        if "deblur" in result.tried:
            runs.append(i)
    # The first try learns the cost; after it the step runs at most once in _STARVED_FRAMES
    # frames (a step that never fits must not starve: test_repair_rungs.py).
    assert runs and all(b - a > STARVED for a, b in zip(runs, runs[1:], strict=False)), runs
    assert ladder.budget_ms == 25.0


def test_a_smear_longer_than_the_motion_or_across_it_is_not_believed() -> None:
    # Glare on a code held still reads as a long smear (region.smear); undoing it there spent
    # the frames a threshold rung would have read (clip 10: 682 -> 951 ms until this check).
    from station.capture.sequence import _fits_motion

    assert _fits_motion((8.0, 1.0), (18.0, 0.0))  # a third of the frame's motion, along it
    assert _fits_motion((-8.0, -1.0), (18.0, 0.0))  # a straight smear has no sign
    assert not _fits_motion((12.0, 0.0), (2.5, 0.0))  # longer than the motion: not a smear
    assert not _fits_motion((0.0, 8.0), (18.0, 0.0))  # across the motion


def test_a_code_seen_nowhere_does_not_move_the_region() -> None:
    # zxing-cpp reports a code it could not place with all four corners at (0, 0); taken as where
    # the code is, the region became a 12 px box in the frame's corner (presentation clips).
    frame = np.full((480, 640), 90, np.uint8)
    code = qr_image(pass_link(np.random.default_rng(9)), 4)
    frame[200:200 + code.shape[0], 300:300 + code.shape[1]] = code
    reader = sequence()
    box = reader._where(frame, ((0.0, 0.0, 0.0, 0.0),))
    assert box is not None
    x0, y0, x1, y1 = box
    assert x0 <= 300 + code.shape[1] // 2 <= x1 and y0 <= 200 + code.shape[0] // 2 <= y1, box
