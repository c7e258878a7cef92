"""The unsmeared rung (unsmeared_grid.py): a smeared code's deconvolutions, which the engine fails
on, read through the grid. The passes and smears are drawn here: a dense pass (format 1, version
13) at 3.2-4.4 px a module smeared straight over 3.5-5.5 modules, or out of focus, turned any
way, with a lens's softness, sensor noise and JPEG; not the apart frames the rung was found on."""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np
import pytest
from hard_frames import decoded
from small_codes import pass_text
from test_path_deblur import disk, smeared_pass

from station.capture import climb_memo, disc_radius, unsmeared_grid
from station.capture.decoders import make_decoder
from station.capture.ladder import DEFAULT_RUNGS, DecodeLadder, StreamLadder
from station.capture.view import View


def line(length: float, angle: float) -> np.ndarray:
    """A straight smear `length` px long at `angle`, as a kernel."""
    t = np.linspace(-length / 2, length / 2, 200)
    x, y = t * math.cos(angle), t * math.sin(angle)
    x, y = x - x.min(), y - y.min()
    size = int(max(x.max(), y.max())) + 3
    k = np.zeros((size, size), np.float32)
    for xi, yi in zip(x, y, strict=True):
        k[int(round(yi)) + 1, int(round(xi)) + 1] += 1.0
    return k / k.sum()


def smeared(seed: int) -> tuple[str, np.ndarray]:
    """The pass smeared, then a webcam's lens softness, sensor noise and JPEG."""
    rng = np.random.default_rng(seed)
    text = pass_text(rng)
    module = float(rng.uniform(3.2, 4.4))
    kernel = line(float(rng.uniform(3.5, 5.5)) * module, float(rng.uniform(0, math.pi)))
    return webcam(rng, text, smeared_pass(kernel, module, float(rng.uniform(-30, 30)), seed, noise=False, text=text))


def out_of_focus(seed: int) -> tuple[str, np.ndarray]:
    """The pass at 4.5-7 px a module through a lens out of focus: a disc of 0.9-1.3 modules."""
    rng = np.random.default_rng(seed)
    text = pass_text(rng)
    module = float(rng.uniform(4.5, 7.0))
    kernel = disk(float(rng.uniform(0.9, 1.3)) * module)
    return webcam(rng, text, smeared_pass(kernel, module, float(rng.uniform(-30, 30)), seed, noise=False, text=text))


def webcam(rng: np.random.Generator, text: str, frame: np.ndarray) -> tuple[str, np.ndarray]:
    """`frame` as a webcam gives it (lens softness, sensor noise, JPEG), with the text it reads as."""
    frame = cv2.GaussianBlur(frame.astype(np.float32), (0, 0), float(rng.uniform(0.5, 1.0)))
    frame = np.clip(frame + rng.normal(0, float(rng.uniform(3.0, 7.0)), frame.shape), 0, 255).astype(np.uint8)
    jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(55, 90))])[1]
    return decoded(text), cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE)


def reads(make: Callable[[int], tuple[str, np.ndarray]], rungs: tuple[str, ...], seeds: range) -> tuple[int, int]:
    """Of the frames `make` draws, how many `rungs` read, and with the unsmeared rung after them;
    no other text ever."""
    without = with_rung = 0
    for seed in seeds:
        text, frame = make(seed)
        before = {d.text for d in ladder(rungs).decode(frame).detections}
        after = {d.text for d in ladder(rungs + ("unsmeared",)).decode(frame).detections}
        assert before | after <= {text}
        without += text in before
        with_rung += text in after
    return without, with_rung


def ladder(rungs: tuple[str, ...]) -> DecodeLadder:
    return DecodeLadder(make_decoder("zxing"), rungs=rungs, budget_ms=math.inf)


def test_smeared_dense_passes_the_deconvolving_rungs_fail_on_are_read_through_the_grid() -> None:
    # When written (seeds 0-11): the speed and path rungs alone read 4 of 12; with the unsmeared
    # rung after them 10 (seeds 12-15: 2 -> 4).
    without, with_rung = reads(smeared, ("speed", "path"), range(12))
    assert with_rung >= without + 4, (without, with_rung)


def test_passes_out_of_focus_are_read_through_the_grid_of_the_defocus_rungs_views(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The disc rung's views at the radius its rings measure (disc_radius.py) read these passes
    # themselves (seeds 0-11: 7 of 12 alone, 7 with the unsmeared rung; 12-23: 9, 9). Where the
    # rings are not found it has only its views at the Gaussian estimate's multiples, which this is
    # about: when written (seeds 0-11) the deblur, defocus and disc rungs alone read 3 of 12 so;
    # with the unsmeared rung after them 7.
    monkeypatch.setattr(disc_radius, "estimate", lambda crop: None)
    without, with_rung = reads(out_of_focus, ("deblur", "defocus", "disc"), range(12))
    assert with_rung >= without + 3, (without, with_rung)


def test_the_rung_comes_right_after_the_path_rung_and_its_straight_part_before_it_in_station_decode_only() -> None:
    at = DEFAULT_RUNGS.index("unsmeared")
    assert DEFAULT_RUNGS[at - 3:at + 1] == ("speed", "straight", "path", "unsmeared")
    assert not {"unsmeared", "straight"} & set(StreamLadder(ladder(DEFAULT_RUNGS)).rungs)


def test_the_straight_rung_reads_the_straight_smears_views_and_the_rung_after_it_the_rest(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The straight rung (before the path rung) takes the views of the rungs noted as undoing a
    # straight smear; the unsmeared rung (after it) must not search those again, nor plan a set of
    # finders already planned on _TRIES_A_SET views.
    text = pass_text(np.random.default_rng(3))
    sharp = smeared_pass(line(1.0, 0.0), 4.0, 20.0, 3, noise=False, text=text).astype(np.uint8)
    frame = np.full_like(sharp, 128)
    searched: list[np.ndarray] = []
    search = unsmeared_grid.finder_repair.finders
    monkeypatch.setattr(unsmeared_grid.finder_repair, "finders", lambda image: searched.append(image) or search(image))
    first, blank, again, third = View(sharp), View(np.full_like(sharp, 200)), View(sharp.copy()), View(sharp.copy())

    def noting(views: list[View], straight: bool) -> None:
        assert list(unsmeared_grid.noted(lambda gray, hints: iter(views), straight=straight)(frame, ())) == views

    with climb_memo.one_climb():
        noting([first, blank], straight=True)
        noting([again, third], straight=False)
        plans = [v for v in unsmeared_grid.straight(frame, ()) if v is not None]
        assert [id(i) for i in searched] == [id(first.image), id(blank.image)]
        assert plans and decoded(text) in {d.text for d in make_decoder("zxing").decode(plans[0].image).detections}
        searched.clear()
        # `again` shows the same finders: their plans once more; `third`'s not (two views already)
        assert len([v for v in unsmeared_grid.rung(frame, ()) if v is not None]) == len(plans)
        assert [id(i) for i in searched] == [id(again.image), id(third.image)]
    with climb_memo.one_climb():  # a new climb remembers nothing, and noted nothing straight
        noting([first], straight=False)
        assert list(unsmeared_grid.straight(frame, ())) == []
        assert [v for v in unsmeared_grid.rung(frame, ()) if v is not None]


def test_with_nothing_noted_the_rung_has_nothing_to_read() -> None:
    frame = np.full((360, 640), 128, np.uint8)
    with climb_memo.one_climb():
        assert list(unsmeared_grid.rung(frame, ())) == []


def test_notes_last_one_climb_and_belong_to_their_picture() -> None:
    a, b = np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.uint8)
    view = View(a)
    climb_memo.note("kind", a, view)  # outside a climb: nothing is kept
    with climb_memo.one_climb():
        assert climb_memo.notes("kind", a) == []
        climb_memo.note("kind", a, view)
        climb_memo.note("kind", a, view)
        assert climb_memo.notes("kind", a) == [view, view]
        assert climb_memo.notes("kind", b) == [] and climb_memo.notes("other", a) == []
    with climb_memo.one_climb():
        assert climb_memo.notes("kind", a) == []


def test_the_deconvolving_rungs_note_the_views_the_ladder_went_on_past() -> None:
    # The view that read ends the rung and is not noted: only the ones before it.
    frame = np.zeros((8, 8), np.uint8)
    views = [View(np.full((8, 8), i, np.uint8)) for i in range(3)]
    rung = unsmeared_grid.noted(lambda gray, hints: iter(views))
    with climb_memo.one_climb():
        made = rung(frame, ())
        assert next(made) is views[0] and next(made) is views[1]
        assert climb_memo.notes("deconvolved", frame) == [views[0]]
