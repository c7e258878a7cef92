"""Reading that uses the sequence: a pass held up to the webcam is seen in 30 frames a second,
most of them smeared while the phone moves, some washed by glare as it tilts. Each frame alone
often holds too little; together they hold more.

`SequenceReader` runs today's per-frame path first (the plain try; `StreamLadder`'s rungs) and,
when that reads nothing, spends a few bounded decoder calls on the region where the code is:
- it keeps the code's position between frames (where it was read or seen, else where the frame
  is busiest with edges: a code is) and decodes that crop, enlarged;
- when the code moved since the previous frame (phase correlation of the two crops), it undoes
  the smear (Wiener deconvolution of the crop) along the smear read off the crop itself
  (region.smear), else along the measured motion;
- it fuses the last three crops, aligned: glare slides over the code as the phone tilts while
  the code stays, so the per-pixel median of three keeps the code and drops the glare;
- it sharpens the sharpest crop it holds (variance of the Laplacian), not merely the newest;
- while the code is held still and still unread, it tries the single-frame ladder's geometry
  views one a frame: a finder pattern a thumb covers painted back, the paper unbent, the grid
  read from two finders when glare washed out the third (finder_repair.py, unbend.py,
  finder_grid.py); a ticket held by its corner is the usual case;
- a code held still but blurred (a pass held closer than the webcam focuses, a lens that hunts)
  is undone one round a frame: the path rung's blur estimate (path_deblur.py), refined on each
  new frame of the same region.
Whatever a fused or deblurred crop yields is a read only through the same checks as any read:
the engine's error correction, and `verify` (the scan service's signature check) when given;
a code that does not verify is never reported from these steps. At most `max_calls` decoder calls
a frame go to them, and a step whose usual cost would take the frame past the ladder's budget is
skipped, so the camera's 30 frames a second are still decoded.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from station.capture import finder_grid, finder_repair, path_deblur, unbend
from station.capture.detection import Detection
from station.capture.erasures import GridMemory
from station.capture.ladder import RUNGS, DecodeLadder, LadderResult, StreamLadder, to_gray
from station.capture.region import Box, cut, deconvolve, locate, smear, wiener
from station.capture.region import box_of as _box_of
from station.capture.region_rungs import placed
from station.capture.view import Hints, View

Verify = Callable[[str], bool]

# What a step costs before the reader has measured it: deblur took this on 720p clip crops on
# one core (smear estimate ~5 ms, Wiener ~7 ms), so even a fresh reader's first deblur does not
# push a frame past the budget. The first measurement replaces it.
_PRIOR_MS = {"deblur": 12.0, "focus": 12.0}  # focus: a round on a 300 x 300 crop, ~8-12 ms
_FOCUS_PIXELS = 300 * 300
_KEEP_FRAMES = 15  # a located box is trusted this long without being seen again (0.5 s at 30 fps)
_STARVED_FRAMES = 15  # a step too dear for the frame budget still runs once in this many (0.5 s)


@dataclass(frozen=True, slots=True)
class _Crop:
    image: np.ndarray
    box: Box
    sharpness: float  # variance of the Laplacian: higher is sharper
    shift: tuple[float, float]  # how far the code moved since the previous frame, px
    frame: int  # the reader's frame number


def sharpness(gray: np.ndarray) -> float:
    return float(cv2.Laplacian(gray, cv2.CV_32F).var())


def motion(before: np.ndarray, after: np.ndarray) -> tuple[float, float]:
    """How far the content moved between two crops of the same region (phase correlation).
    Band-passed and windowed first: the room's light gradients and the JPEG block grid stay put
    while the code moves, and left in they pull the estimate to no motion at all (on the
    presentation clips the estimate was off by a quarter or more in 79 of 137 moving frames
    as is, in 27 band-passed)."""
    def band(img: np.ndarray) -> np.ndarray:
        f = img.astype(np.float32)
        return np.asarray(cv2.GaussianBlur(f, (0, 0), 1.5) - cv2.GaussianBlur(f, (0, 0), 8.0))
    window = cv2.createHanningWindow((after.shape[1], after.shape[0]), cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(band(before), band(after), window)
    return float(dx), float(dy)


def fuse(crops: list[np.ndarray]) -> np.ndarray:
    """The per-pixel median of crops aligned on the last one (translation by phase correlation)."""
    ref = crops[-1].astype(np.float32)
    aligned = [crops[-1]]
    for c in crops[:-1]:
        (sx, sy), _ = cv2.phaseCorrelate(ref, c.astype(np.float32))
        m = np.array([[1, 0, -sx], [0, 1, -sy]], np.float32)
        aligned.append(np.asarray(cv2.warpAffine(c, m, (c.shape[1], c.shape[0]), borderMode=cv2.BORDER_REPLICATE)))
    fused: np.ndarray = np.median(np.stack(aligned), axis=0).astype(np.uint8)
    return fused


class SequenceReader:
    """Decodes a camera stream frame by frame like `StreamLadder`, plus bounded work on the
    code's region that uses the frames before (the module docstring says what and why)."""

    # In the order the presentation benchmark found pays (benchmarks/presentation_bench.py).
    STEPS: tuple[str, ...] = ("roi", "sharpest", "deblur", "focus", "geometry", "fuse")

    def __init__(self, ladder: DecodeLadder | None = None, *, verify: Verify | None = None,
                 steps: tuple[str, ...] = STEPS, max_calls: int = 3, frame_budget_ms: float = 6.0,
                 sequence_budget_ms: float = 14.0, history: int = 6) -> None:
        """`verify(text)`: whether a text is a pass this station admits (None: every text the
        engine decodes counts). `max_calls`: decoder calls a frame may spend on the sequence
        steps, besides the plain try and the ladder's rungs; `sequence_budget_ms` the time."""
        unknown = set(steps) - set(self.STEPS)
        if unknown:
            raise ValueError(f"Unknown sequence steps: {', '.join(sorted(unknown))}; known: {', '.join(self.STEPS)}.")
        self.stream = StreamLadder(ladder or DecodeLadder(), frame_budget_ms)
        self.ladder = self.stream.ladder
        self.verify = verify
        self.steps = steps
        self.max_calls = max_calls
        self.sequence_budget_ms = sequence_budget_ms
        self._box: Box | None = None  # where the code was last located
        self._box_age = 0  # frames since
        self._prev: np.ndarray | None = None  # the previous frame (grey), to measure motion
        self._crops: deque[_Crop] = deque(maxlen=history)
        self._sharpened: set[int] = set()  # frame numbers whose crop the sharpest step has tried
        self._geometry_box: Box | None = None  # the still region the geometry plans are for
        # its plans not yet tried; a plan gives None when its guess did not decode (finder_grid.py)
        self._geometry: Iterator[Callable[[np.ndarray], View | None]] = iter(())
        self._focus_box: Box | None = None  # the still region the blur estimate is for
        self._focus_kernel: np.ndarray | None = None  # its estimate; None: the region is sharp
        self._frame = 0
        self._cost_ms: dict[str, float] = {}  # what each step usually costs (view and decode)
        self._passed_over: dict[str, int] = {}  # frames in a row each step was skipped for its cost
        self._turn = 0  # frames the sequence steps have worked on
        self._seen = 0  # the last frame in which a decoder saw a code (read or not; 0: the start)
        self._grids = GridMemory()  # recent frames' grids of codes that failed (erasures.py)
        self._blind = 0

    def _verified(self, found: tuple[Detection, ...]) -> tuple[Detection, ...]:
        return found if self.verify is None else tuple(d for d in found if self.verify(d.text))

    def decode(self, image: np.ndarray) -> LadderResult:
        clock = self.ladder._clock
        start = clock()
        self._frame += 1
        gray = to_gray(image)
        tried: list[str] = []
        calls = 0
        if "roi" in self.steps and self._box is not None and self._box_age < _KEEP_FRAMES:
            # The region first: a code held still reads there at a fraction of the frame's cost.
            calls += 1
            tried.append("roi")
            got = self._try(gray, self._box, *_enlarge(cut(gray, self._box)))
            if got:
                self._prev = gray
                return LadderResult(got, "roi", tuple(tried), (clock() - start) * 1000.0)
        self._grids.tick()
        found, hints = self.ladder.plain(gray, self._grids)
        tried.append("plain")
        ours = self._verified(found)
        if ours:
            self._track(_box_of(ours[0].corners, gray.shape))
            self._prev = gray
            return LadderResult(found, "plain", tuple(tried), (clock() - start) * 1000.0)
        if found or hints:
            self._seen = self._frame
        elif self._frame - self._seen > _KEEP_FRAMES:
            # No decoder has seen a code for a while: most likely an empty doorway, the most of a
            # station's day. Work on every other frame only, as StreamLadder does; a pass held
            # up is seen (a near miss) within a frame or two and gets every frame again.
            self._blind += 1
            if self._blind % self.stream.blind_every:
                self._prev = gray
                return LadderResult(found, "plain" if found else None, tuple(tried), (clock() - start) * 1000.0)
        got = self._sequence(gray, hints, tried, calls, start)
        self._prev = gray
        if got:
            return LadderResult(found + got, tried[-1], tuple(tried), (clock() - start) * 1000.0)
        spent = (clock() - start) * 1000.0
        if not hints and self._box is not None and self._box_age == 0:
            hints = ((float(self._box[0]), float(self._box[1]), float(self._box[2]), float(self._box[3])),)
        result = self.stream.climb(gray, hints, start, tried, spent + self.stream.frame_budget_ms,
                                   at_least_one=spent < self.sequence_budget_ms)
        mine = self._verified(result.detections)
        if mine:
            self._track(_box_of(mine[0].corners, gray.shape))
        return LadderResult(found + result.detections, result.rung or ("plain" if found else None),
                            result.tried, (clock() - start) * 1000.0)

    def _try(self, gray: np.ndarray, box: Box, image: np.ndarray, scale: float,
             view: View | None = None) -> tuple[Detection, ...]:
        """Decode a view of the region `box` (`image` at `scale`, or a geometry `view` of the
        region, which knows its own way back); only a read that verifies counts."""
        attempt = self.ladder.read(self.ladder.decoder, image)
        back = view.to_source if view is not None else (lambda d: d.moved(scale, 0.0, 0.0))
        found = self._verified(tuple(back(d).moved(1.0, box[0], box[1]) for d in attempt.detections))
        if found:
            self._track(_box_of(found[0].corners, gray.shape))
        return found

    def _track(self, box: Box) -> None:
        self._box, self._box_age = box, 0

    def _where(self, gray: np.ndarray, hints: Hints) -> Box | None:
        """Where the code is in this frame: where a decoder saw one, else the busiest region."""
        # A hint with no extent is no place: taken as one, the region became a 12 px box in
        # the frame's corner, and the region-first try of the next frames decoded that.
        hints = placed(hints)
        if hints:
            x0, y0, x1, y1 = hints[0]
            self._track(_box_of(((x0, y0), (x1, y1)), gray.shape, 0.15))
            return self._box
        box = locate(gray)
        if box is None:
            self._box_age += 1
            return None
        if self._box is not None and _overlap(box, self._box) > 0.6:
            box = self._box  # the same place: keep the crops aligned
        self._track(box)
        return box

    def _sequence(self, gray: np.ndarray, hints: Hints, tried: list[str], calls: int,
                  start: float) -> tuple[Detection, ...]:
        # Turns, not frame numbers, share a still code's frames between geometry and focus: with
        # no code seen for a while the reader works on every other frame only, and by frame
        # parity geometry then never had a turn (a covered finder was never repaired).
        self._turn += 1
        box = self._where(gray, hints)
        if box is None:
            self._crops.clear()
            return ()
        crop = cut(gray, box)
        if crop.shape[0] < 32 or crop.shape[1] < 32:
            return ()
        shift = (0.0, 0.0)
        if self._prev is not None and self._prev.shape == gray.shape:
            shift = motion(cut(self._prev, box), crop)
        if self._crops and self._crops[-1].box != box:
            self._crops.clear()  # a new region: the old crops do not align with it
        current = _Crop(crop, box, sharpness(crop), shift, self._frame)
        self._crops.append(current)
        clock = self.ladder._clock
        for step in self.steps:
            spent = (clock() - start) * 1000.0
            if calls >= self.max_calls or spent > self.sequence_budget_ms:
                break
            cost = self._cost_ms.get(step, _PRIOR_MS.get(step, 0.0))
            if spent + cost > self.ladder.budget_ms and self._passed_over.get(step, 0) < _STARVED_FRAMES:
                # It would overrun the camera's frame budget (a deblur costs ~12 ms). A step that
                # never fits (a machine three times slower measured geometry at ~20 ms after a
                # ~10 ms plain try) still runs once in _STARVED_FRAMES: a pass that only it reads
                # is read late, at the cost of one late frame, rather than never.
                self._passed_over[step] = self._passed_over.get(step, 0) + 1
                continue
            began = clock()
            if step == "geometry":
                view: tuple[np.ndarray, float] | tuple[np.ndarray, float, View] | None = self._next_geometry(current)
            elif step == "focus":
                view = self._next_focus(current)
            else:
                view = self._view(step, current)
            if view is None:
                continue
            self._passed_over[step] = 0
            calls += 1
            tried.append(step)
            found = self._try(gray, box, *view)
            cost, old = (clock() - began) * 1000.0, self._cost_ms.get(step)
            self._cost_ms[step] = cost if old is None else 0.8 * old + 0.2 * cost
            if found:
                return found
        return ()

    def _next_geometry(self, current: _Crop) -> tuple[np.ndarray, float, View] | None:
        """The next geometry view of a still region: each frame decodes one more of the guesses
        (a repaired finder, then the paper unbent) made on the region's first still frame, drawn
        from this frame's crop; a region that moves or changes starts them over."""
        if math.hypot(*current.shift) >= 2.0:
            self._geometry_box = None
            return None  # moving: a smear, not the code's geometry, is what stops the read
        if self._turn % 2 and "fuse" in self.steps:
            return None  # every other turn: a still code's third call is fuse's (the step after)
        if current.box != self._geometry_box:
            self._geometry_box = current.box
            # A painted finder and a two-finder grid take turns (both guess a missing finder; up
            # to 144 and 32 plans, one a frame), then the paper unbent.
            found = finder_repair.finders(current.image)  # one search serves the three
            painted, grids = finder_repair.plans(current.image, found), finder_grid.plans(current.image, found)
            turns = [p for pair in itertools.zip_longest(painted, grids) for p in pair if p is not None]
            self._geometry = iter([*turns, *unbend.plans(current.image, found)])
        plan = next(self._geometry, None)
        if plan is None:
            return None  # every guess tried: nothing to gain until the region changes
        view = plan(current.image)
        if view is None:
            return None  # a grid that did not decode: the next frame tries the next guess
        return view.image, view.scale, view

    def _next_focus(self, current: _Crop) -> tuple[np.ndarray, float] | None:
        """One round of undoing the blur of a still region (path_deblur.py): this frame's crop
        deconvolved with the estimate so far, which the result then refines for the next frame.
        A region found sharp on its first still frame costs nothing more until it changes."""
        if math.hypot(*current.shift) >= 2.0:
            self._focus_box = None
            return None  # moving: the deblur step's (a straight smear along the motion)
        if self._turn % 2 == 0 and "geometry" in self.steps:
            return None  # every other turn: the geometry step has the even ones
        crop = current.image
        # At most _FOCUS_PIXELS: a round on a 500 px crop took more than a camera frame's budget
        # (the blur is as much smaller, and the scale is the same for every frame of the box).
        scale = min(1.0, (_FOCUS_PIXELS / (crop.shape[0] * crop.shape[1])) ** 0.5)
        if scale < 1.0:
            crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if current.box != self._focus_box:
            self._focus_box = current.box
            self._focus_kernel = path_deblur.first_kernel(crop)
        if self._focus_kernel is None:
            return None
        sharp = deconvolve(crop, self._focus_kernel, path_deblur.NOISE, path_deblur.DEFOCUS)
        refined = path_deblur.refine(sharp, crop)
        if refined is not None:
            self._focus_kernel = refined
        return sharp, scale

    def _view(self, step: str, current: _Crop) -> tuple[np.ndarray, float] | None:
        """The image a step decodes (and its scale against the crop), or None if it has none now."""
        crop = current.image
        if step == "roi":
            return None  # tried before the plain try, when the region was known
        if step == "deblur":
            dx, dy = current.shift
            if math.hypot(dx, dy) < 2.0:
                return None  # held still: glare, not motion, is what the crop's gradients show
            found = smear(crop)
            if found is not None and _fits_motion(found, (dx, dy)):
                # The smear read off the crop itself (region.smear): on the presentation clips it
                # read as many smeared frames as the true smear did, the motion between frames half.
                return _enlarge(wiener(crop, found[0], found[1], noise=0.003, defocus=1.0))
            # The shutter is open for part of the frame time: about half to most of the motion
            # smears; alternate the guess from frame to frame.
            exposure = (0.5, 0.8)[current.frame % 2]
            return _enlarge(wiener(crop, exposure * dx, exposure * dy))
        if step == "fuse":
            same = [c for c in self._crops if c.image.shape == crop.shape]
            if len(same) < 3:
                return None
            return _enlarge(fuse([c.image for c in same[-3:]]))
        if step == "sharpest":
            fresh = [c for c in self._crops if c.frame not in self._sharpened]
            if not fresh:
                return None
            best = max(fresh, key=lambda c: c.sharpness)
            # Only the frames still held: a station runs all day, this set must not grow.
            self._sharpened = {f for f in self._sharpened if f >= self._crops[0].frame}
            self._sharpened.add(best.frame)
            sharpened = next(iter(RUNGS["sharpen"](best.image, ())))
            return None if sharpened is None else (sharpened.image, 1.0)
        raise AssertionError(step)


def _fits_motion(found: tuple[float, float], shift: tuple[float, float]) -> bool:
    """Whether a smear read off a crop can be the code's motion: the shutter is open for at most
    a frame, so a smear is no longer than the motion (give or take the estimates' 2 px) and runs
    along it (either way: a straight smear has no sign). Glare on a code held still reads as a
    long smear; undoing it there spent the frame that a threshold rung would have read."""
    length, moved = math.hypot(*found), math.hypot(*shift)
    if length > moved + 2.0:
        return False
    return abs(found[0] * shift[0] + found[1] * shift[1]) >= 0.7 * length * moved


def _overlap(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _enlarge(crop: np.ndarray) -> tuple[np.ndarray, float]:
    # Decoders sample module centres better on a 2x image; a large crop is decoded as it is.
    if crop.shape[0] * crop.shape[1] > 400 * 400:
        return crop, 1.0
    return cv2.resize(crop, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC), 2.0
