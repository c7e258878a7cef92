"""The retry ladder: what makes the station read frames the raw decoders give up on.

The first rung is the plain decoder on the grey frame. Only when it finds nothing do the other
rungs run, each an image fix for one way frames go wrong, cheapest and most useful first, until
something is read or the frame's time budget is spent. `StreamLadder` spreads the rungs over
successive camera frames instead: each frame gets the plain try plus the next rung or two, so a
code held in front of the camera meets every rung within a few frames at a fraction of the cost.

False reads are guarded by the engines' error correction (a valid Reed-Solomon block is needed
for any text); no rung invents pixels that could pass it: they filter, threshold, rescale and
resample, and the one that paints (finder_repair.py) paints a finder pattern, which holds no data.
Erasure decoding (erasures.py) and the resample rung (resample.py, which reads the modules itself)
do paint data: the code as its own error correction restored it, and only when every block leaves
3 check symbols unused, which is then the guard.
That holds for full-size QR codes only, which is all the engines look for: a Micro QR M1 has
error detection alone, and a thresholded finder pattern of a pass was read as one (decoders.py).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from station.capture import (climb_memo, defocus, denoise, disc_grid, envelope, erasures, finder_grid, finder_repair,
                             foreshorten, local_grid, machine_pace, moire, path_deblur, region_rungs, resample,
                             smear_speed, tiles, unbend, unsmeared_grid)
from station.capture.decoders import Attempt, Decoder, FailedSymbol, ZxingDecoder, make_decoder
from station.capture.detection import Detection
from station.capture.region import box_of, locate
from station.capture.view import Hints, View

Clock = Callable[[], float]


# A rung yields its views lazily; None is a guess tried that left nothing to decode (a grid
# that did not decode, finder_grid.py), so that the frame's deadline can end the rung there too.
RungFn = Callable[[np.ndarray, Hints], Iterable[View | None]]

_CLAHE = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8))
# Failed codes a decoder call gets erasure decoding for. zxing-cpp often reports one code twice
# (two binarizers): both are tried, as their corners differ a little and now and then only the
# second grid decodes (occlusion_bench.py's frames: 184 of 240 read, 183 with one of each).
_MAX_FAILED = 2
# The resample rung: codes the plain try or an earlier rung's view located but could not read,
# read from their modules in the frame by us (resample.py: corners fitted to the function
# patterns, the blur between neighbours undone), at 10-80 ms a code, so a frame's first two codes
# only (a code reported twice, or by two views, is one code: the fit moves both onto its corners).
RESAMPLE = "resample"
_MAX_RESAMPLED = 2
# The crumple rung: the same codes read through a module grid fitted locally (local_grid.py: a
# crumpled or creased sheet), up to seven grids a code, each a view the deadline can end on. The
# codes reported most often first: a crumpled code is reported by most views, each with a
# version or two misread (one frame's 118 reports were of 30 versions and formats at 6 places;
# in 26 of the 28 apart paper frames with a report, the version reported most was the code's).
CRUMPLE = "crumple"
_MAX_CRUMPLED = 4  # reports read a frame
_REPORTS_A_CODE = 2
_LOCATED_RUNGS = frozenset({RESAMPLE, CRUMPLE})  # rungs that take the codes located, not the picture
# What a rung costs before the ladder has measured it, in the development machine's ms (a ladder
# multiplies them by its machine's slowness, machine_pace.py), so a camera-sized budget does not
# start it on a guess of nothing. Assumed free, every rung's first run was a gamble: on the slow
# machine half of decode_bench.py's 720p frames over 30 ms were a rung's first run started with
# a few ms left (with these, p95 43 -> 30 ms --quick, 32 -> 28 ms in full; the same degraded
# frames read: docs/decode-benchmark.md). From
# `benchmarks/rung_costs.py` (the mean over 720p frames the plain try does not read; for the rungs
# of many guesses that a deadline ends, their set-up and first guess, what starting them commits
# to), except three older ones: resample's median a code on photos (15-20 ms at 1-3 megapixels;
# 17-18 at 720p), defocus's estimate and first view on a blurred photo (20-40 ms at 2-8
# megapixels; 11 at 720p), regrid's finder search and first grid (started unmeasured, it took the
# 720p p95 from 40 to 51 ms at a 25 ms budget on the slow machine; 34 measured).
_PRIOR_MS: dict[str, float] = {
    "median": 1.3, "threshold": 2.9, "deblur": 4.1, "enlarge": 1.0, "magnify": 0.9, "adaptive": 3.6, "half": 0.5,
    "sharpen": 4.4, "clahe": 5.7, "zbar": 6.4, "upscale": 6.2, RESAMPLE: 20.0, "defocus": 30.0,
    CRUMPLE: 10.0,  # rung_costs.py: 5.7 started, mostly frames with no located code; a code's first grid 15-60
    "finder": 34.0, "unbend": 31.0, "regrid": 30.0, "slant": 11.7, "speed": 8.9, "path": 6.8, "envelope": 4.7,
    "unsmeared": 30.0,  # as regrid: its finder searches (a few ms a noted view) and a first grid
    "straight": 30.0,  # the unsmeared rung on fewer views
    "washed": 30.0,  # as regrid: a finder search (shared) and a first grid
    "bent": 16.0,  # rung_costs.py: 15.4 (the finder search, shared with the later rungs, and its views)
    "tiles": 7.3,  # its set-up and first tile
    "disc": 10.7,  # its blur estimate and first view
    "disc_grid": 30.0,  # a measured disc's full-size view and finder search (~44 ms here); no disc measured: 0
    "denoise": 3.0,  # mostly its noise estimate: a clean frame gets no view
    "moire": 12.0,  # its look for peaks (a 720p picture's spectrum): a picture without gets no view
}


def _median(gray: np.ndarray, hints: Hints) -> list[View]:
    # Sensor noise and JPEG speckle break module edges; a 3x3 median removes them without
    # moving edges (zbar in particular reads noisy codes only after it, docs/measured-facts.md).
    return [View(cv2.medianBlur(gray, 3))]


def _half(gray: np.ndarray, hints: Hints) -> list[View]:
    # Averaging 2x2 pixels is a strong, cheap denoiser for codes with big modules.
    return [View(cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA), 0.5)]


def _threshold(gray: np.ndarray, hints: Hints) -> list[View]:
    # A local threshold wins on uneven light and low contrast where zxing's own binarizer loses.
    soft = cv2.GaussianBlur(gray, (0, 0), 1.0)
    return [View(cv2.adaptiveThreshold(soft, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 31, 2))]


def _clahe(gray: np.ndarray, hints: Hints) -> list[View]:
    # Local contrast stretch: faint codes, and the washed-out rim around a glare spot.
    return [View(_CLAHE.apply(gray))]


def _crops(gray: np.ndarray, hints: Hints, margin: float = 0.25) -> list[View]:
    """The regions where a code was seen but not read, with a margin; else the whole frame."""
    if not hints:
        return [View(gray)]
    h, w = gray.shape
    views = []
    for x0, y0, x1, y1 in hints[:3]:
        mx, my = (x1 - x0) * margin + 8, (y1 - y0) * margin + 8
        a, b = int(max(0, x0 - mx)), int(max(0, y0 - my))
        c, d = int(min(w, x1 + mx)), int(min(h, y1 + my))
        if c - a >= 16 and d - b >= 16:
            views.append(View(gray[b:d, a:c], 1.0, a, b))
    return views or [View(gray)]


def _sharpen(gray: np.ndarray, hints: Hints) -> list[View]:
    # Unsharp mask restores module edges of an out-of-focus code (phones held too close).
    out = []
    for v in _crops(gray, hints):
        blur = cv2.GaussianBlur(v.image, (0, 0), 2.0)
        out.append(View(cv2.addWeighted(v.image, 2.5, blur, -1.5, 0), v.scale, v.dx, v.dy))
    return out


def _upscale(gray: np.ndarray, hints: Hints) -> list[View]:
    # Small codes (2-3 px per module) and soft edges: decoders sample module centres better
    # on a 2x bicubic image. Only the seen-but-unread regions when known: 4x the pixels is costly.
    out = []
    for v in _crops(gray, hints):
        if v.image.shape[0] * v.image.shape[1] > 1280 * 720:
            continue  # a 1080p frame doubled is 8 Mpx: too slow for a door
        big = cv2.resize(v.image, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)
        out.append(View(big, 2.0, v.dx, v.dy))
    return out


def _moire(gray: np.ndarray, hints: Hints) -> Iterator[View]:
    # The picture with a screen's moire notched out (moire.py), then the cheap rungs' filters of
    # it: those are what read the flattened pictures.
    for flat in moire.rung(gray, hints):
        yield flat
        for make in (_median, _threshold, _sharpen):
            for v in make(flat.image, ()):
                yield View(v.image, flat.scale * v.scale, v.dx / flat.scale, v.dy / flat.scale)


def _inverted(gray: np.ndarray, hints: Hints) -> list[View]:
    # Phones in dark mode show light-on-dark codes; zbar reads them only inverted.
    return [View(cv2.bitwise_not(gray))]


RUNGS: dict[str, RungFn] = {
    "inverted": _inverted,
    "median": _median,
    "half": _half,
    "threshold": _threshold,
    "clahe": _clahe,
    "sharpen": _sharpen,
    "upscale": _upscale,
    "enlarge": region_rungs.enlarge,
    "magnify": region_rungs.magnify,
    "deblur": unsmeared_grid.noted(region_rungs.deblur, straight=True),
    "zbar": region_rungs.zbar,
    "adaptive": region_rungs.adaptive,
    "finder": finder_repair.repair,
    "regrid": finder_grid.regrid,
    "washed": finder_grid.washed,
    "path": unsmeared_grid.noted(path_deblur.unsmear),
    "speed": unsmeared_grid.noted(smear_speed.unsmear, straight=True),
    "straight": unsmeared_grid.straight,
    "unsmeared": unsmeared_grid.rung,
    "unbend": unbend.unbend,
    "bent": unbend.bent,
    "defocus": unsmeared_grid.noted(defocus.undo),
    "disc": unsmeared_grid.noted(defocus.disc),
    "disc_grid": disc_grid.rung,
    "slant": foreshorten.rung,
    "envelope": envelope.rung,
    "tiles": tiles.tiles,
    "denoise": denoise.rung,
    "moire": _moire,
}
# Rungs that undo what happened to the whole picture (a lens out of focus): past a read they still
# take the whole frame, not the unread region (the busiest one no read code covers: on a sheet
# of several codes, often not where the codes left are), but only their first view. Measured
# with benchmarks/photo_bench.py, seeds 5150 / 77 (codes read, ms p50): without the defocus rung
# 132 / 124 (131, 121 ms); on the unread region as other rungs 135 / 128 (137, 135); the whole
# picture, every view 137 / 132 (277, 269); the whole picture, past a read one view, 137-138 / 132
# (191-209, 189-190; two runs).
# The envelope rung (envelope.py) too: on the unread region (the busiest one, or a failed code's
# box, often a background code's) it read 3 of 59 frame-family misses (seven seeds), on the whole
# picture 7 with every view, 6 with the first past a read (its zbar view cost ~80 ms a frame here,
# and station decode goes on past most reads).
_WHOLE_PICTURE = frozenset({"defocus", "envelope", "tiles"})
# ... except the tiles rung (tiles.py), which past a read looks at its six busiest tiles of the
# picture with the codes read painted over (_blanked): the code it is for is seldom where the
# ladder looks, and most often a stranger's code beside it was read (17 of 19 of its reads on
# five seeds' small-module frames). Small-module frames over ten seeds: every tile 387 of 400
# read, p50 198-292 ms; ten tiles 387, 153-190 ms; six of the blanked picture 386, 102-143 ms.
# A read of a code already found does not end it.
_VIEWS_PAST_A_READ = {"tiles": 6}
_EVERY_VIEW = frozenset(_VIEWS_PAST_A_READ)
# Rungs whose views are guesses (up to 144, 32, 312 and 16 decoder calls or grids): the first view
# that reads ends them.
# The envelope rung's three views are the same stretch at two windows and for the second engine:
# alternatives, not parts, and the last costs several times the first (envelope.py).
_FIRST_READ_ENDS = frozenset({"finder", "regrid", "unbend", "bent", "speed", "path", "defocus", "disc", "disc_grid",
                              "envelope", "washed", "tiles", "unsmeared", "straight", CRUMPLE})
# Cheapest per frame read first (benchmarks/hard_frames_bench.py and decode_bench.py, by rung),
# so a camera's per-frame budget buys the most reads; upscale reads little the others miss. The
# geometry rungs come last: they read only codes with a covered finder or on bent paper, and at a
# 25 ms budget they took the time in which upscale read a blurred frame (decode_bench.py). The
# path rung (a smear along any path, path_deblur.py) comes after them: it costs the most per
# view, and a curved-paper frame it cannot read must not spend unbend's time. The two-finder
# grid (regrid, finder_grid.py) comes after finder and unbend: before them it read 7 covered
# codes that finder read 6 of, and cost unbend 2 curved frames (37 -> 35 of 40, seed 9001); after
# them it reads what they miss (glare over a finder) and cost nothing. The speed rung (a straight
# smear of uneven speed, smear_speed.py) comes just before path: it fits a line of weights where
# path fits a square, and read four straight smears of seed 777 that path misses (motion 16 -> 20
# of 40, hard_frames_bench.py); path still reads the curved ones after it. Resample comes
# before the geometry rungs: it reads small modules the cheaper rungs miss, and at once (RESAMPLE above).
# The crumple rung (a crumpled sheet's grid fitted locally, local_grid.py) comes right after it, on
# the same located codes: put after regrid, the budget ran out before it on frames it reads (apart
# paper seeds 1 and 2: 22 and 25 of 30 there, 25 and 27 right after resample). A frame with no
# located code costs it nothing; a located code it cannot read, one grid (15-60 ms; a defocused
# frame the path rung read at the budget's end, apart seed 2, was lost to that).
# The slant rung (a code turned away from the camera, foreshorten.py: three views, a few ms) comes
# after the geometry rungs and before the two deconvolving ones, which cost the most; it read 2
# more photos of 187 (photo_bench.py) and none of the hard frames' misses, which are not turned.
# The envelope rung (a glare band's washed modules stretched back, envelope.py) comes last: it
# reads about one glare frame in 40 that every other rung misses, on the whole picture, and no
# earlier rung's read should wait for it. The washed rung (regrid's grids read from a stretched
# crop, and codes whose three finders show, finder_grid.py) comes after it: it doubles regrid's
# cost on a frame of many guesses, and inside regrid it would take the time of the rungs after.
# The magnify rung (a small region at 4x, sharpened: modules of 1.4-1.8 px, region_rungs.py)
# comes right after resample: right after enlarge or upscale it read as many module frames
# (356 of 400, ten seeds) but took resample's time at a 25 ms budget (range_bench.py). The tiles
# rung (the whole picture in magnified tiles, tiles.py) comes last: up to 28 views a 720p frame,
# for codes too small for any region the ladder looks at. The denoise rung (a dim room's noisy
# frame smoothed, denoise.py) comes after median and half, the cheaper denoisers it averages
# further than; a clean frame costs it only its noise estimate. The disc rung (a lens's blur undone as a disc,
# defocus.disc) comes right after defocus, whose Gaussian views read blurs up to about a module.
# The disc_grid rung (the discs the disc rung measured, undone at full size and read through the
# grid, disc_grid.py) comes right after disc: as part of the unsmeared rung, after path, the budget
# ran out before it on the defocus frames it reads (apart seeds 23-25).
# The moire rung (a screen's moire notched out of the spectrum, moire.py) comes right after
# denoise, the other filter of the whole picture that only a picture in need of it gets.
# The unsmeared rung (unsmeared_grid.py: the deconvolving rungs' unread views read through the
# grid) comes right after path, the last of the rungs that note views for it: inside the speed
# rung its grids took the path rung's time (the families' motion reads 26 -> 25); after path it
# reads what they left (apart motion and defocus, seeds 10, 3, 11, 12: 171 -> 187 of 240).
# Its straight part (the straight rung: the deblur and speed rungs' views only) comes right before
# path: a straight smear whose views read through the grid was lost when the path rung's rounds,
# which cannot better it, took the budget first (apart motion, seeds 21-30: 220 -> 224 of 300,
# 5 straight smears gained). The whole unsmeared rung there cost shaken smears the path rung's
# time (221: a lens's whole-picture views take 150-230 ms a finder search at 1080p).
# The bent rung (unbend.bent: the unbend rung's flat views of a code one of whose finders a bend
# squashed) comes right after crumple: nothing before it reads such a code, and on a photo the
# rungs before the finder rung take the whole budget (a bent photo's code, read by it at plan 33
# in 70 ms, was lost at the budget: docs/decode-benchmark.md, session 37). A picture without a
# squashed finder costs it the finder search the later rungs share (median 5 ms a frame on apart
# motion and defocus frames, seed 2). In a picture bigger than 1080p it also gives three square
# finders whose corners show a bend ten of unbend's views (unbend.bent_plans): bent photos of big
# modules had three square finders, and the budget ended before unbend (photo_bench.py seeds 77
# and 99, with unbend's slant fit: 137 -> 140 and 138; docs/decode-benchmark.md, session 38).
DEFAULT_RUNGS: tuple[str, ...] = (
    "median", "threshold", "deblur", "enlarge", "adaptive", "half", "denoise", "moire", "sharpen", "clahe", "zbar",
    "upscale", RESAMPLE, CRUMPLE, "bent", "magnify", "defocus", "disc", "disc_grid", "finder", "unbend", "regrid",
    "slant", "speed", "straight", "path", "unsmeared", "envelope", "washed", "tiles")
# Rungs a camera stream does not take turns with (StreamLadder): each costs more than a frame's
# few ms, and the camera's sequence reader has its own deblurring (sequence.py).
SINGLE_FRAME_RUNGS = frozenset({"deblur", "denoise", "moire", "magnify", "zbar", RESAMPLE, CRUMPLE, "defocus", "disc",
                                "disc_grid",
                                "regrid", "finder", "unbend", "bent", "slant", "speed", "straight", "path", "unsmeared",
                                "envelope", "washed", "tiles"})


@dataclass(frozen=True, slots=True)
class LadderResult:
    detections: tuple[Detection, ...]
    rung: str | None  # the rung that read the codes ("plain" for the first try), None if nothing
    tried: tuple[str, ...]
    ms: float  # time spent decoding this frame


def to_gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def _hint_boxes(misses: Sequence[Sequence[Detection]]) -> Hints:
    boxes = []
    for group in misses:
        for d in group:
            xs = [p[0] for p in d.corners]
            ys = [p[1] for p in d.corners]
            boxes.append((min(xs), min(ys), max(xs), max(ys)))
    return tuple(boxes)


class DecodeLadder:
    """Decode one frame: the plain try, then the rungs while the frame's budget lasts."""

    def __init__(
        self,
        decoder: Decoder | None = None,
        rungs: Sequence[str] = DEFAULT_RUNGS,
        budget_ms: float | None = None,
        clock: Clock = time.perf_counter,
        every_code: bool = False,
        erasures: bool = True,
        pace: float | None = None,
    ) -> None:
        """`every_code`: a read does not end the climb while a busy region no read code covers
        is left (`station decode`: a photo of a pass beside a poster's code must give the pass;
        a camera frame's budget is too small for it, and the next frame comes anyway).
        `erasures`: a code the engine located but failed the check of is decoded again with its
        hidden part as erasures (erasures.py), on every view of every rung.
        `pace`: how many times slower than the development machine this one is, which a rung's
        prior cost is multiplied by (None: machine_pace.slowness(), measured when first needed)."""
        self.decoder = decoder or ZxingDecoder()
        names = list(rungs)
        if not self.decoder.reads_inverted and "inverted" not in names:
            names.insert(0, "inverted")
        unknown = [n for n in names if n not in RUNGS and n not in _LOCATED_RUNGS]
        if unknown:
            raise ValueError(f"Unknown ladder rungs: {', '.join(unknown)}; known: {', '.join(RUNGS)}, "
                             f"{', '.join(sorted(_LOCATED_RUNGS))}.")
        self.rungs: tuple[str, ...] = tuple(names)
        self.budget_ms = self.decoder.budget_ms if budget_ms is None else budget_ms
        self._clock = clock
        self.every_code = every_code
        self.erasures = erasures
        # The plain try's frame and the codes located in it but not read, by the plain try and the
        # rungs' views (the resample rung's input), and where the rungs' work image sits in it.
        self._frame: np.ndarray | None = None
        self._failed: list[FailedSymbol] = []
        self._offset = (0, 0)
        # What each rung usually costs, so a rung that cannot finish inside the budget is not
        # started (a late answer is worth less than the next frame's).
        self._cost_ms: dict[str, float] = {}
        self._pace = pace
        self._engines: dict[str, Decoder | None] = {"": self.decoder, self.decoder.name: self.decoder}

    def plain(self, gray: np.ndarray, memory: erasures.GridMemory | None = None) -> tuple[tuple[Detection, ...], Hints]:
        """The plain try on the whole frame; `memory`: a camera's recent grids of failed codes."""
        attempt = self.read(self.decoder, gray, memory)
        self._frame, self._failed, self._offset = gray, list(attempt.failed), (0, 0)
        return _unique(attempt.detections), _hint_boxes(attempt.near_misses)

    def read(self, engine: Decoder, image: np.ndarray, memory: erasures.GridMemory | None = None) -> Attempt:
        """One engine call; and for each code it located but whose check failed, one more on
        the code repainted as its erasures decode, when they do (erasures.py)."""
        attempt = engine.decode(image)
        if not self.erasures or not attempt.failed:
            return attempt
        found = list(attempt.detections)
        for symbol in attempt.failed[:_MAX_FAILED]:
            fixed = erasures.recover(image, symbol, memory)
            if fixed is not None:
                found.extend(engine.decode(fixed).detections)
        return Attempt(tuple(found), attempt.near_misses, attempt.failed)

    def run_rung(self, name: str, gray: np.ndarray, hints: Hints, deadline: float | None = None,
                 views: int | None = None, known: set[str] | None = None) -> tuple[Detection, ...]:
        """`deadline` (on the ladder's clock) ends a rung of many guesses between two of them;
        `views`: at most this many of the rung's views; `known`: texts already read in this
        frame, whose read does not end a rung of _EVERY_VIEW."""
        start = self._clock()
        found: list[Detection] = []
        located = {RESAMPLE: self._resampled, CRUMPLE: self._crumpled}.get(name)
        made = located() if located is not None else RUNGS[name](gray, hints)
        for view in itertools.islice(made, views):
            if deadline is not None and name in _FIRST_READ_ENDS and self._clock() > deadline:
                break
            if view is None:
                continue
            engine = self._engine(view.engine)
            if engine is None:
                continue
            attempt = self.read(engine, view.image)
            found.extend(view.to_source(d) for d in attempt.detections)
            if view.back is None:  # a view's codes located but not read, in the frame's pixels
                shift = np.array([view.dx + self._offset[0], view.dy + self._offset[1]], np.float32)
                self._failed.extend(replace(f, corners=f.corners / view.scale + shift) for f in attempt.failed)
            if found and name in _FIRST_READ_ENDS and (
                    name not in _EVERY_VIEW or any(d.text not in (known or set()) for d in found)):
                break
        spent = (self._clock() - start) * 1000.0
        old = self.cost_ms(name)
        self._cost_ms[name] = spent if old is None else 0.8 * old + 0.2 * spent
        return _unique(tuple(found))

    def _resampled(self) -> Iterator[View]:
        """The resample rung's views: each code located but not read so far in this frame, as it
        decodes from its modules read by us (erasures.resampled), cut out around the code and
        placed where it is in the rungs' work image."""
        if self._frame is None:
            return
        done: list[FailedSymbol] = []
        for symbol in self._failed:
            if len(done) == _MAX_RESAMPLED:
                break
            if any(_same_code(symbol, d) for d in done):
                continue
            done.append(symbol)
            painted = erasures.resampled(self._frame, symbol)
            if painted is None:
                continue
            yield _cut_out(painted, symbol, self._offset)

    def _crumpled(self) -> Iterator[View | None]:
        """The crumple rung's views: the codes located but not read so far, most reported first,
        each read through grids fitted locally (local_grid.painted), cut out and placed as the
        resample rung's; None for a grid that did not decode."""
        if self._frame is None:
            return
        for symbol in _crumple_candidates(self._failed):
            for painted in local_grid.painted(self._frame, symbol):
                yield None if painted is None else _cut_out(painted, symbol, self._offset)

    def _engine(self, name: str) -> Decoder | None:
        """The decoder a view asks for; None if it cannot be had (zbar needs libzbar0)."""
        if name not in self._engines:
            try:
                self._engines[name] = make_decoder(name)
            except RuntimeError:
                self._engines[name] = None  # the zxing rungs still run
        return self._engines[name]

    def cost_ms(self, name: str) -> float | None:
        """What the rung usually costs here: as measured, else its prior scaled to this machine
        (None: neither)."""
        learned = self._cost_ms.get(name)
        if learned is not None or name not in _PRIOR_MS:
            return learned
        if self._pace is None:
            self._pace = machine_pace.slowness()  # once per process, ~150 ms on the slow machine
        return _PRIOR_MS[name] * self._pace

    def fits(self, name: str, spent_ms: float, budget_ms: float) -> bool:
        return spent_ms + (self.cost_ms(name) or 0.0) <= budget_ms

    def decode(self, image: np.ndarray) -> LadderResult:
        with climb_memo.one_climb():  # rungs that analyse the same picture do it once
            return self._climb(image)

    def _climb(self, image: np.ndarray) -> LadderResult:
        start = self._clock()
        gray = to_gray(image)
        found, hints = self.plain(gray)
        tried = ["plain"]
        rung = "plain" if found else None
        # A read ends the climb only once no code seen is left unread: a poster's or a badge's
        # code read in the background must not stop the ladder short of the pass beside it.
        unread = self._left(gray, _unread(hints, found), found)
        work, ox, oy = _work(gray, unread, found)
        self._offset = (ox, oy)
        for name in self.rungs:
            if found and not unread:
                break
            if not self.fits(name, (self._clock() - start) * 1000.0, self.budget_ms):
                continue
            tried.append(name)
            deadline = start + self.budget_ms / 1000.0
            if name in _WHOLE_PICTURE:
                self._offset = (0, 0)
                views = _VIEWS_PAST_A_READ.get(name, 1) if found else None
                picture = _blanked(gray, found) if found and name in _EVERY_VIEW else gray
                more = self.run_rung(name, picture, unread, deadline, views, {d.text for d in found})
                self._offset = (ox, oy)
            else:
                local = tuple((a - ox, b - oy, c - ox, d - oy) for a, b, c, d in unread)
                more = tuple(d.moved(1.0, ox, oy) for d in self.run_rung(name, work, local, deadline))
            if {d.text for d in more} - {d.text for d in found}:
                found, rung = _unique(found + more), name
                unread = self._left(gray, _unread(unread, found), found)
                work, ox, oy = _work(gray, unread, found)
                self._offset = (ox, oy)
        return LadderResult(found, rung, tuple(tried), (self._clock() - start) * 1000.0)

    def _left(self, gray: np.ndarray, unread: Hints, found: tuple[Detection, ...]) -> Hints:
        """What is left to read once codes are read: the unread hints, or with `every_code`
        the busiest region no read code covers (a stranger's code read by a rung must not end
        the climb either, when the pass beside it is unread)."""
        if not found or unread or not self.every_code:
            return unread
        box = locate(gray, _hint_boxes([found]))
        return ((float(box[0]), float(box[1]), float(box[2]), float(box[3])),) if box else ()


def _blanked(gray: np.ndarray, found: tuple[Detection, ...]) -> np.ndarray:
    """`gray` with each code read painted over in the picture's median grey: a rung that ranks
    the whole picture by busyness (tiles.py) then spends its views elsewhere."""
    out = gray.copy()
    fill = int(np.median(gray[::8, ::8]))
    for d in found:
        x0, y0, x1, y1 = box_of(d.corners, gray.shape, 0.05)
        out[y0:y1, x0:x1] = fill
    return out


def _module_px(symbol: FailedSymbol) -> float:
    return resample.module_px(symbol.corners, 17 + 4 * symbol.version)


def _cut_out(painted: np.ndarray, symbol: FailedSymbol, offset: tuple[int, int]) -> View:
    """The repainted code and its quiet zone, placed where it is in the rungs' work image."""
    h, w = painted.shape
    quiet = 6.0 * _module_px(symbol)  # the quiet zone the engine needs, and a little
    x0, y0 = (max(0, int(v - quiet)) for v in symbol.corners.min(axis=0))
    x1, y1 = (int(v + quiet) + 1 for v in symbol.corners.max(axis=0))
    return View(painted[y0:min(h, y1), x0:min(w, x1)], 1.0, x0 - offset[0], y0 - offset[1])


def _crumple_candidates(failed: list[FailedSymbol]) -> list[FailedSymbol]:
    """The reports the crumple rung reads: the codes reported most often first, and of each the
    first `_REPORTS_A_CODE` reports whose corners differ by half a module or more (the engine's
    corners of a crumpled code differ from view to view, and a grid grows from them: on one
    apart paper frame, f1_07029, only the second report's grid read)."""
    codes: list[list[FailedSymbol]] = []
    for symbol in failed:
        group = next((g for g in codes if _same_code(symbol, g[0])), None)
        if group is None:
            codes.append([symbol])
        else:
            group.append(symbol)
    out: list[FailedSymbol] = []
    for group in sorted(codes, key=len, reverse=True):
        picked: list[FailedSymbol] = []
        for symbol in group:
            if len(picked) < _REPORTS_A_CODE and all(
                    float(np.abs(symbol.corners - p.corners).max()) >= 0.5 * _module_px(p) for p in picked):
                picked.append(symbol)
        out.extend(picked)
    return out[:_MAX_CRUMPLED]


def _same_code(a: FailedSymbol, b: FailedSymbol) -> bool:
    """Two reports of one code: the same version, every corner within two modules."""
    return a.version == b.version and float(np.abs(a.corners - b.corners).max()) < 2 * _module_px(a)


def _work(gray: np.ndarray, unread: Hints, found: tuple[Detection, ...]) -> tuple[np.ndarray, int, int]:
    """Past a read, the rungs work on the unread region only (and its offset in the frame): on the
    whole frame they would spend most of their time re-reading the codes already read."""
    if not (found and unread):
        return gray, 0, 0
    x0, y0, x1, y1 = box_of(((min(u[0] for u in unread), min(u[1] for u in unread)),
                             (max(u[2] for u in unread), max(u[3] for u in unread))), gray.shape, 0.15)
    return gray[y0:y1, x0:x1], x0, y0


def _unread(hints: Hints, found: tuple[Detection, ...]) -> Hints:
    """The hint boxes whose centre lies in no read code's box."""
    boxes = _hint_boxes([found])
    return tuple(h for h in hints if not any(
        b[0] <= (h[0] + h[2]) / 2 <= b[2] and b[1] <= (h[1] + h[3]) / 2 <= b[3] for b in boxes))


class StreamLadder:
    """The ladder spread over a camera stream: each frame gets the plain try and the next
    rung(s) in turn within a small budget, so a held-up code meets every rung in a few frames."""

    def __init__(self, ladder: DecodeLadder, frame_budget_ms: float = 6.0, blind_every: int = 2) -> None:
        """`blind_every`: when the plain try saw nothing code-like at all (no near miss), climb
        the ladder only on every n-th frame. An empty doorway is most of a station's day, and
        this halves what it costs; a held-up code still meets every rung within a second."""
        self.ladder = ladder
        self.frame_budget_ms = frame_budget_ms
        self.blind_every = max(1, blind_every)
        self.rungs = tuple(r for r in ladder.rungs if r not in SINGLE_FRAME_RUNGS) or ladder.rungs
        self._next = 0
        self._blind = 0

    def decode(self, image: np.ndarray) -> LadderResult:
        clock = self.ladder._clock
        start = clock()
        gray = to_gray(image)
        found, hints = self.ladder.plain(gray)
        tried = ["plain"]
        if found:
            return LadderResult(found, "plain", tuple(tried), (clock() - start) * 1000.0)
        if not hints:
            self._blind += 1
            if self._blind % self.blind_every:
                return LadderResult((), None, tuple(tried), (clock() - start) * 1000.0)
        return self.climb(gray, hints, start, tried, self.frame_budget_ms)

    def climb(self, gray: np.ndarray, hints: Hints, start: float, tried: list[str],
              budget_ms: float, at_least_one: bool = True) -> LadderResult:
        """The next rung(s) in turn on a frame whose plain try read nothing, within `budget_ms`
        of `start`; by default at least one rung, whatever it costs (otherwise a slow rung never
        runs), unless the caller has spent the frame's time on something else."""
        clock = self.ladder._clock
        rungs = self.rungs
        first = len(tried) if at_least_one else -1
        for _ in range(len(rungs)):
            spent = (clock() - start) * 1000.0
            name = rungs[self._next % len(rungs)]
            if len(tried) > first and not self.ladder.fits(name, spent, budget_ms):
                break
            self._next += 1
            tried.append(name)
            found = self.ladder.run_rung(name, gray, hints, start + budget_ms / 1000.0)
            if found:
                # Start the next frame from the rung that worked: the code is probably still there.
                self._next -= 1
                return LadderResult(found, name, tuple(tried), (clock() - start) * 1000.0)
        return LadderResult((), None, tuple(tried), (clock() - start) * 1000.0)


def _unique(found: tuple[Detection, ...]) -> tuple[Detection, ...]:
    """One detection per text: the same code seen twice (or by two views) is one code."""
    seen: dict[str, Detection] = {}
    for d in found:
        seen.setdefault(d.text, d)
    return tuple(seen.values())
