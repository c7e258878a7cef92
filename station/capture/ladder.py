"""The retry ladder: what makes the station read frames the raw decoders give up on.

The first rung is the plain decoder on the grey frame. Only when it finds nothing do the other
rungs run, each an image fix for one way frames go wrong, cheapest and most useful first, until
something is read or the frame's time budget is spent. `StreamLadder` spreads the rungs over
successive camera frames instead: each frame gets the plain try plus the next rung or two, so a
code held in front of the camera meets every rung within a few frames at a fraction of the cost.

False reads are guarded by the engines' error correction (a valid Reed-Solomon block is needed
for any text); no rung invents pixels that could pass it (they filter, threshold and rescale).
That holds for full-size QR codes only, which is all the engines look for: a Micro QR M1 has
error detection alone, and a thresholded finder pattern of a pass was read as one (decoders.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from station.capture.decoders import Decoder, ZxingDecoder
from station.capture.detection import Detection

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class View:
    """An image derived from the frame, and how to map its pixels back (x / scale + dx)."""

    image: np.ndarray
    scale: float = 1.0
    dx: float = 0.0
    dy: float = 0.0


Hints = tuple[tuple[float, float, float, float], ...]  # x0, y0, x1, y1 of codes seen but not read
RungFn = Callable[[np.ndarray, Hints], list[View]]

_CLAHE = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8))


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
}
DEFAULT_RUNGS: tuple[str, ...] = ("median", "half", "threshold", "clahe", "sharpen", "upscale")


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
    ) -> None:
        self.decoder = decoder or ZxingDecoder()
        names = list(rungs)
        if not self.decoder.reads_inverted and "inverted" not in names:
            names.insert(0, "inverted")
        unknown = [n for n in names if n not in RUNGS]
        if unknown:
            raise ValueError(f"Unknown ladder rungs: {', '.join(unknown)}; known: {', '.join(RUNGS)}.")
        self.rungs: tuple[str, ...] = tuple(names)
        self.budget_ms = self.decoder.budget_ms if budget_ms is None else budget_ms
        self._clock = clock
        # What each rung usually costs, so a rung that cannot finish inside the budget is not
        # started (a late answer is worth less than the next frame's).
        self._cost_ms: dict[str, float] = {}

    def plain(self, gray: np.ndarray) -> tuple[tuple[Detection, ...], Hints]:
        attempt = self.decoder.decode(gray)
        return _unique(attempt.detections), _hint_boxes(attempt.near_misses)

    def run_rung(self, name: str, gray: np.ndarray, hints: Hints) -> tuple[Detection, ...]:
        start = self._clock()
        found: list[Detection] = []
        for view in RUNGS[name](gray, hints):
            attempt = self.decoder.decode(view.image)
            found.extend(d.moved(view.scale, view.dx, view.dy) for d in attempt.detections)
        spent = (self._clock() - start) * 1000.0
        old = self._cost_ms.get(name)
        self._cost_ms[name] = spent if old is None else 0.8 * old + 0.2 * spent
        return _unique(tuple(found))

    def fits(self, name: str, spent_ms: float, budget_ms: float) -> bool:
        return spent_ms + self._cost_ms.get(name, 0.0) <= budget_ms

    def decode(self, image: np.ndarray) -> LadderResult:
        start = self._clock()
        gray = to_gray(image)
        found, hints = self.plain(gray)
        tried = ["plain"]
        if found:
            return LadderResult(found, "plain", tuple(tried), (self._clock() - start) * 1000.0)
        for name in self.rungs:
            if not self.fits(name, (self._clock() - start) * 1000.0, self.budget_ms):
                continue
            tried.append(name)
            found = self.run_rung(name, gray, hints)
            if found:
                return LadderResult(found, name, tuple(tried), (self._clock() - start) * 1000.0)
        return LadderResult((), None, tuple(tried), (self._clock() - start) * 1000.0)


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
        rungs = self.ladder.rungs
        first = len(tried) if at_least_one else -1
        for _ in range(len(rungs)):
            spent = (clock() - start) * 1000.0
            name = rungs[self._next % len(rungs)]
            if len(tried) > first and not self.ladder.fits(name, spent, budget_ms):
                break
            self._next += 1
            tried.append(name)
            found = self.ladder.run_rung(name, gray, hints)
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
