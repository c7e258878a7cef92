"""Reading a smeared or defocused code's deconvolutions through the grid (the unsmeared rung).

A smear of a few modules, or a lens out of focus by about a module, hides a code's finders from
every search on the frame. The deconvolving rungs (smear_speed.py, path_deblur.py, the deblur rung
of region_rungs.py, defocus.py's two) give them back often enough, but the engine can still fail
on the data: the deconvolution rings and lifts the noise with the edges. The grid reader
(finder_grid.py: the grid placed by the finders, refined on the function patterns, read with the
blur between modules undone and checked by Reed-Solomon with spare symbols) reads some of those.
Of the 11 motion frames of apart seed 10 (tests/capture/apart_frames.py) that `station decode`
missed, the finders showed in those rungs' views of 5, within 0.2 modules of where the generator
drew them, and the grid plans on the views read 4, each correctly; the defocus rungs' views
read more defocused codes the same way (docs/decode-benchmark.md).

The deconvolving rungs note each view the engine did not read (`noted`, kept for the climb by
climb_memo.py); this rung, after the last of them, searches those views for finders (~5 ms a
view) and reads the plans of the views where two or more show: a view where three show at once
(its three-finder read first), those where two show after all are searched, each set of finders
on at most _TRIES_A_SET views (the rounds of one deconvolution find the same finders over and
over). As a rung of its own after them rather than inside each, it takes no time from their own
views: inside the speed rung it cost the path rung 3 of the frame families' motion reads
(benchmarks/hard_frames_bench.py).

Its straight part (`straight`, the straight rung) reads the views of the rungs that undo a
straight smear before the path rung, whose rounds would otherwise take the budget first; this
rung, after the path rung, reads the rest (ladder.py says what each order measured).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import cast

import numpy as np

from station.capture import climb_memo, finder_grid, finder_repair
from station.capture.view import Hints, View

_KIND = "deconvolved"  # the climb_memo notes' kind
# What this rung noted for its next run in the same climb: the views it is done with, and the
# sets of finders it planned.
_DONE, _TRIED = "grid read", "grid planned"
_STRAIGHT = "deconvolved straight"  # the straight-smear rungs' views, noted under both kinds
# The views a deconvolving rung notes, its first ones (each rung's likeliest first). Every read
# this rung made on apart seeds 2, 3, 10-13's motion and defocus frames came from a rung's first
# 8 (speed's 5th and 8th, path's 1st, defocus's and disc's 1st-4th); unbounded, the path rung's
# up to 64 views made a climb with no time limit (the tests') 25 % slower.
_NOTED_A_RUNG = 8
_TRIES_A_SET = 2
_SAME_PX = 3.0  # two views' finders this close (frame px) are the same finders

Deconvolving = Callable[[np.ndarray, Hints], Iterable[View | None]]


def noted(rung: Deconvolving, straight: bool = False) -> Callable[[np.ndarray, Hints], Iterator[View | None]]:
    """`rung` (a deconvolving one), noting on the picture the first _NOTED_A_RUNG views the
    ladder goes on past: a view is noted once the next is asked for, so the one that read (the
    last) is not. `straight`: a rung that undoes a straight smear, whose views `straight` (the
    straight rung) reads too."""
    def views(gray: np.ndarray, hints: Hints) -> Iterator[View | None]:
        kept = 0
        for view in rung(gray, hints):
            yield view
            if view is not None and view.back is None and not view.engine and kept < _NOTED_A_RUNG:
                climb_memo.note(_KIND, gray, view)
                if straight:
                    climb_memo.note(_STRAIGHT, gray, view)
                kept += 1
    return views


def rung(gray: np.ndarray, hints: Hints) -> Iterator[View | None]:
    """The ladder rung: the grid plans of the noted views' finders, lazily; None between
    finder searches and for a plan that did not decode, so the ladder's deadline is checked.
    Views the straight rung searched and planned in this climb are not searched again, nor
    its sets of finders planned again."""
    yield from _read(gray, climb_memo.notes(_KIND, gray))


def straight(gray: np.ndarray, hints: Hints) -> Iterator[View | None]:
    """The straight rung: this rung on the views of the rungs that undo a straight smear (the
    deblur and speed rungs) only, before the path rung. A straight smear's views that show
    finders read through the grid within the frame's budget so: after the path rung, whose rounds
    take most of it, they did not (apart motion seeds 21-30: 5 frames more read, all straight
    smears; docs/decode-benchmark.md). The other rungs' views wait for the path rung: a lens's
    whole-picture views take 150-230 ms a finder search at 1080p."""
    yield from _read(gray, climb_memo.notes(_STRAIGHT, gray))


def _read(gray: np.ndarray, views: list[object]) -> Iterator[View | None]:
    done = climb_memo.notes(_DONE, gray)
    tried = [cast(list[tuple[float, float]], at) for at in climb_memo.notes(_TRIED, gray)]
    later: list[tuple[View, list[finder_repair.Finder]]] = []
    for view in views:
        assert isinstance(view, View)
        if any(view is d for d in done):
            continue
        found = finder_repair.finders(view.image)
        yield None
        if len(found) >= 3:  # read at once: a code whose three finders show reads first
            yield from _planned_noted(gray, view, found, tried)
        elif len(found) == 2:
            later.append((view, found))
            continue
        climb_memo.note(_DONE, gray, view)
    for view, found in later:
        yield from _planned_noted(gray, view, found, tried)
        climb_memo.note(_DONE, gray, view)


def _planned_noted(gray: np.ndarray, view: View, found: list[finder_repair.Finder],
                   tried: list[list[tuple[float, float]]]) -> Iterator[View | None]:
    """planned(), its sets of finders also noted on `gray` for the rung's next run."""
    known = len(tried)
    for got in planned(view, found, tried):
        for at in tried[known:]:  # noted at once: a read or the deadline may end the plans
            climb_memo.note(_TRIED, gray, at)
        known = len(tried)
        yield got
    for at in tried[known:]:
        climb_memo.note(_TRIED, gray, at)


def planned(view: View, found: list[finder_repair.Finder],
             tried: list[list[tuple[float, float]]]) -> Iterator[View | None]:
    """The plans of `view`'s finders, mapped onto the rung's picture; nothing when this set of
    finders has been read on _TRIES_A_SET views already (noted in `tried`)."""
    at = [(f.x / view.scale + view.dx, f.y / view.scale + view.dy) for f in found]
    if sum(_same(at, t) for t in tried) >= _TRIES_A_SET:
        return
    tried.append(at)
    for plan in finder_grid.plans(view.image, found, three_first=True):
        got = plan(view.image)
        # a plan's view maps onto the deconvolved view, which maps onto the rung's picture
        yield None if got is None else View(got.image, got.scale * view.scale,
                                             got.dx / view.scale + view.dx, got.dy / view.scale + view.dy)


def _same(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> bool:
    return len(a) == len(b) and all(min(math.hypot(x - u, y - v) for u, v in b) < _SAME_PX for x, y in a)
