"""Repairing a covered finder pattern: a thumb over a corner of the pass, a sticker, a finger.

A QR code is found by its three finder patterns (the big squares in three corners). Cover one and
neither engine finds the code at all, although the data modules the thumb leaves are often
plenty for the error correction (level M restores 15 % of the codewords). This rung finds the
finder patterns that are still visible (a dark square in a light ring around a dark core, by the
nesting of contours), and for each pair of the same size at a distance a QR version allows, it
paints the missing third where the QR layout puts it (beside one finder, or across from the
pair's diagonal) and asks the engine again. The pair alone does not fix the third's place under
perspective, so each guess is also tried a module and a half off along both axes.

A painted finder carries no data: a read still needs every Reed-Solomon block of the code to
check, as for every other rung (ladder.py), so a wrong guess reads nothing rather than the
wrong thing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

import cv2
import numpy as np

from station.capture import climb_memo, denoise
from station.capture.view import Hints, View

_MIN_AREA = 60.0  # px^2: a finder of 1.1 px modules; smaller ones no engine reads anyway
_MAX_FINDERS = 12  # a frame full of strangers' codes: the pairs grow as the square
_MAX_GUESSES = 16  # x 9 places: 144 views at most; the frame's deadline ends them sooner
_SEARCH_PIXELS = 1920 * 1080
# A square finder seen at most this much longer than wide. Past it, up to _SQUASHED, a finder is
# kept apart as squashed: paper bent over a cylinder crowds the code's columns towards its edges
# (to cos(bend) of their width, 0.45 at a wrist's bend) and a photo's perspective adds to that
# (a bent photo's third finder measured 1.72). Only the bent rung (unbend.bent) looks at those:
# the rungs that pair finders would spend a many-code photo's budget on the extra pairs.
_SQUARE = 1.6
_SQUASHED = 2.5
# Where to paint around a guess, in modules along the code's two axes: the guess first, then a
# ring of 1.5 modules (perspective moves a corner that far on a 15-20 degree tilt).
_OFFSETS: tuple[tuple[float, float], ...] = ((0.0, 0.0),) + tuple(
    (a, b) for a in (-1.5, 0.0, 1.5) for b in (-1.5, 0.0, 1.5) if (a, b) != (0.0, 0.0))


@dataclass(frozen=True, slots=True)
class Finder:
    x: float  # centre, px
    y: float
    side: float  # px across the 7x7 dark square
    # The dark square's four outer corners (px, in no set order): under perspective they tell
    # the code's axes and its module along each where the centre alone does not (finder_grid.py).
    quad: tuple[tuple[float, float], ...] = ()


# A dim room's big modules: the noise breaks every finder's outline in the binaries of the
# picture as it is, smoothed at 3 or 4 px they come back (a finder 7 modules of 10-17 px
# across keeps its rings). The code's modules are then read from the picture as it is.
_IN_NOISE = (3.0, 4.0)


def _binaries(gray: np.ndarray) -> Iterator[np.ndarray]:
    """Dark as foreground, three ways: a global (Otsu) split, and local means over two windows
    (glare and shadow leave each finder its own light level); each cleaned of speckle when
    noise splits it (_speckled)."""
    _, otsu = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    soft = cv2.GaussianBlur(gray, (0, 0), 1.0)
    for binary in (otsu, *(cv2.adaptiveThreshold(soft, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV,
                                                 block, 5) for block in (31, 61))):
        if _speckled(binary):
            binary = cv2.medianBlur(binary, 3)
            if _speckled(binary):
                continue
        yield binary


# A dim room's frame, its gain turned up, splits into speckle where the threshold falls inside the
# noise: the Otsu split of low-light frames drawn apart (tests/capture/apart_frames.py, seed 3)
# changed colour between 40-50 % of neighbouring pixels and held 50,000-205,000 contours, whose
# search took 0.1-1.8 s of a 1080p frame (the finder rung alone 2 s, past station decode's whole
# budget). The frame families' and other apart frames' binaries change at under 11 % of pixels.
# A 3x3 median removes the speckle (a finder's ring is a module wide, two pixels or more where a
# finder is found at all): on those 30 frames the same finders were found, the worst search
# 1.8 s -> 0.28 s.
_SPECKLE = 0.25


def _speckled(binary: np.ndarray) -> bool:
    """Whether more than _SPECKLE of horizontally neighbouring pixels differ."""
    return bool(np.count_nonzero(binary[:, 1:] != binary[:, :-1]) > _SPECKLE * binary.size)


def finders(gray: np.ndarray) -> list[Finder]:
    """The finder patterns visible in `gray`: a dark outline holding a light hole holding a dark
    core, areas about 49 : 25 : 9 modules, nearly square, the core at the centre. Within one
    ladder climb a picture is searched once (climb_memo.py): the finder, unbend and regrid rungs
    each ask."""
    return list(climb_memo.once(_search, gray)[0])


def squashed(gray: np.ndarray) -> list[Finder]:
    """Finder patterns as `finders` sees them but for their shape: _SQUARE to _SQUASHED times
    longer than wide (a bent or steeply turned code's). Found by the same search."""
    return list(climb_memo.once(_search, gray)[1])


def finders_in_noise(gray: np.ndarray) -> list[Finder]:
    """`finders`, and on a noisy picture (denoise.NOISY) those the picture smoothed at
    _IN_NOISE px shows besides (up to _MAX_FINDERS in all): tens of ms more on a noisy 720p
    frame, so for `station decode`'s grid rungs only, not a camera's frame."""
    found = finders(gray)
    if denoise.noise_level(gray) < denoise.NOISY:
        return found
    for f in climb_memo.once(_search_in_noise, gray):
        if len(found) < _MAX_FINDERS and not any(math.hypot(f.x - g.x, f.y - g.y) < g.side / 3 for g in found):
            found.append(f)
    return found


def _search_in_noise(gray: np.ndarray) -> list[Finder]:
    # Smoothed this much, the picture loses nothing at half its size, and the search costs a
    # quarter (a noisy frame's binaries hold tens of thousands of contours).
    half = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    found: list[Finder] = []
    for sigma in _IN_NOISE:
        for f in _search(cv2.GaussianBlur(half, (0, 0), sigma / 2))[0]:
            if not any(math.hypot(2 * f.x - g.x, 2 * f.y - g.y) < g.side / 3 for g in found):
                found.append(_scaled(f, 0.5))
    return found


def _search(gray: np.ndarray) -> tuple[list[Finder], list[Finder]]:
    """(square finders, squashed ones) in `gray`'s pixels."""
    scale = 1.0
    if gray.size > _SEARCH_PIXELS:
        # A phone photo (12 Mpx) would take ~20x a 720p frame's 10 ms; its codes' finders are
        # large enough to be found at a fraction of the size.
        scale = (_SEARCH_PIXELS / gray.size) ** 0.5
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    square, flat = _finders(gray)
    return ([_scaled(f, scale) for f in square], [_scaled(f, scale) for f in flat])


def _scaled(f: Finder, scale: float) -> Finder:
    return Finder(f.x / scale, f.y / scale, f.side / scale, tuple((x / scale, y / scale) for x, y in f.quad))


def _finders(gray: np.ndarray) -> tuple[list[Finder], list[Finder]]:
    found: list[Finder] = []
    flat: list[Finder] = []
    for binary in _binaries(gray):
        contours, hierarchy = cv2.findContours(binary, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)
        if hierarchy is None:
            continue
        links = hierarchy[0]
        # Only an outline holding a hole that holds a core can be a finder: picked out at once
        # (a noisy frame has tens of thousands of contours, a Python loop over them 0.1 s).
        holes = links[:, 2]
        cores = np.where(holes >= 0, links[np.maximum(holes, 0), 2], -1)
        for i in np.flatnonzero(cores >= 0):
            outer, hole, core = contours[int(i)], int(holes[i]), int(cores[i])
            a0 = cv2.contourArea(outer)
            if a0 < _MIN_AREA:
                continue
            a1, a2 = cv2.contourArea(contours[hole]), cv2.contourArea(contours[core])
            # 49/9 = 5.4 and 49/25 = 2.0 on paper; blur and thresholds move the edges a lot.
            if a1 <= 0 or a2 <= 0 or not (2.5 < a0 / a2 < 12 and 1.3 < a0 / a1 < 3.5):
                continue
            (cx, cy), (w, h), _ = cv2.minAreaRect(outer)
            if min(w, h) <= 0 or max(w, h) / min(w, h) > _SQUASHED:
                continue
            if cv2.contourArea(cv2.convexHull(outer)) > 1.25 * a0:
                continue  # a ragged blob (text, clutter), not a square
            m = cv2.moments(contours[core])
            if m["m00"] == 0 or math.hypot(m["m10"] / m["m00"] - cx, m["m01"] / m["m00"] - cy) > 0.075 * (w + h):
                continue
            side = math.sqrt(a0)
            into = found if max(w, h) / min(w, h) <= _SQUARE else flat
            if not any(math.hypot(cx - f.x, cy - f.y) < side / 3 for f in into):
                into.append(Finder(cx, cy, side, _quad(outer)))
    # A finder seen square by one binary and squashed by another is square.
    flat = [f for f in flat if not any(math.hypot(f.x - g.x, f.y - g.y) < f.side / 3 for g in found)]
    return found[:_MAX_FINDERS], flat[:_MAX_FINDERS]


def _quad(outline: np.ndarray) -> tuple[tuple[float, float], ...]:
    """Four corners of a finder's outline: its polygon when that has four, else the smallest
    rectangle around it. Contour points are the outermost dark pixels' centres: half a pixel
    in from the edge, which the grid's refinement (resample.fit) takes up."""
    poly = cv2.approxPolyDP(outline, 0.05 * cv2.arcLength(outline, True), True).reshape(-1, 2)
    if len(poly) != 4 or not cv2.isContourConvex(poly):
        poly = cv2.boxPoints(cv2.minAreaRect(outline))
    return tuple((float(x), float(y)) for x, y in poly)


@dataclass(frozen=True, slots=True)
class Guess:
    """Where the missing finder should be: centre, the code's axes (unit vectors) and module."""

    centre: tuple[float, float]
    u: tuple[float, float]
    v: tuple[float, float]
    module: float
    corners: tuple[tuple[float, float], ...]  # the four finder-like corners' centres


def guesses(found: list[Finder], gray: np.ndarray) -> list[Guess]:
    """For each pair of finders of one size, where the third would be: two guesses beside each
    finder when the pair is a side of the code, two across when it is the diagonal; only the
    spacing a QR version allows, and only where no finder was seen already."""
    out: list[Guess] = []
    h, w = gray.shape[:2]
    for i, a in enumerate(found):
        for b in found[i + 1:]:
            if max(a.side, b.side) > 1.5 * min(a.side, b.side):
                continue
            module = (a.side + b.side) / 14
            pa, pb = np.array([a.x, a.y]), np.array([b.x, b.y])
            d = pb - pa
            dist = float(np.hypot(*d))
            for diagonal in (False, True):
                span = dist / math.sqrt(2) if diagonal else dist
                n = span / module + 7  # modules across: finder centres sit 3.5 from the edges
                version = round((n - 17) / 4)
                if not 1 <= version <= 40 or abs(n - (17 + 4 * version)) > 0.2 * n:
                    continue
                m = span / (10 + 4 * version)
                perp = np.array([-d[1], d[0]])
                if diagonal:
                    mid = (pa + pb) / 2
                    ang = math.atan2(d[1], d[0]) + math.pi / 4
                    sides = [(mid + perp / 2, mid - perp / 2), (mid - perp / 2, mid + perp / 2)]
                else:
                    ang = math.atan2(d[1], d[0])
                    sides = [(pa + s * perp, pb + s * perp) for s in (1, -1)] + \
                            [(pb + s * perp, pa + s * perp) for s in (1, -1)]
                u = (math.cos(ang), math.sin(ang))
                v = (-u[1], u[0])
                for c, fourth in sides:
                    if any(math.hypot(c[0] - f.x, c[1] - f.y) < 3 * m for f in found):
                        continue  # all three are there: the engine failed for another reason
                    if not (-3 * m <= c[0] <= w + 3 * m and -3 * m <= c[1] <= h + 3 * m):
                        continue
                    if any(math.hypot(c[0] - g.centre[0], c[1] - g.centre[1]) < 2 * m for g in out):
                        continue
                    corners = tuple((float(p[0]), float(p[1])) for p in (pa, pb, c, fourth))
                    out.append(Guess((float(c[0]), float(c[1])), u, v, m, corners))
    edges = np.abs(np.diff(gray.astype(np.float32), axis=1))
    return sorted(out, key=lambda g: _unlikely(edges, g))[:_MAX_GUESSES]


def _unlikely(edges: np.ndarray, g: Guess) -> float:
    """How unlikely a guess is, for trying the likely first: the code it implies must be busy with
    modules (a guess on the pair's wrong side implies a code of bare background), and where it
    puts the missing finder should be smooth (a thumb, a sticker or glare; a wrong guess on the
    right side lands on data modules: another corner of the code, or its middle)."""
    xs, ys = [p[0] for p in g.corners], [p[1] for p in g.corners]
    code = _mean_near(edges, sum(xs) / 4, sum(ys) / 4, (max(xs) - min(xs)) / 4)
    there = _mean_near(edges, g.centre[0], g.centre[1], 3.5 * g.module)
    if code is None:
        return math.inf
    return (there if there is not None else code) / (code + 1.0)


def _mean_near(edges: np.ndarray, x: float, y: float, r: float) -> float | None:
    h, w = edges.shape
    x0, x1, y0, y1 = int(max(0, x - r)), int(min(w, x + r + 1)), int(max(0, y - r)), int(min(h, y + r + 1))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return float(edges[y0:y1, x0:x1].mean())


def _square(img: np.ndarray, centre: np.ndarray, u: np.ndarray, v: np.ndarray, half: float, level: float) -> None:
    pts = np.array([centre + (sx * u + sy * v) * half for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))])
    cv2.fillConvexPoly(img, np.round(pts * 16).astype(np.int32), level, cv2.LINE_AA, 4)


def paint(crop: np.ndarray, centre: np.ndarray, u: np.ndarray, v: np.ndarray, module: float,
          ink: float, paper: float) -> None:
    """A finder pattern with its light separator, drawn into `crop` in place."""
    for modules, level in ((9, paper), (7, ink), (5, paper), (3, ink)):
        _square(crop, centre, u, v, modules * module / 2, level)


def _levels(gray: np.ndarray, f: Finder) -> tuple[float, float]:
    """Ink from the finder's core, paper from the light around it."""
    r = max(1, int(f.side * 0.12))
    core = gray[max(0, int(f.y) - r):int(f.y) + r + 1, max(0, int(f.x) - r):int(f.x) + r + 1]
    r = int(f.side * 0.75)
    around = gray[max(0, int(f.y) - r):int(f.y) + r + 1, max(0, int(f.x) - r):int(f.x) + r + 1]
    return float(np.median(core)), float(np.percentile(around, 80))


Plan = Callable[[np.ndarray], View]  # one view to decode, drawn from a crop of the same place


def plans(gray: np.ndarray, found: list[Finder] | None = None) -> list[Plan]:
    """For each guess, the code's crop with the missing finder painted in: the guess first and
    then shifted. Plans, not images: the camera's sequence reader draws one a frame, each from
    its newest frame. `found`: the picture's finders when the caller has searched already."""
    found = finders(gray) if found is None else found
    if len(found) < 2:
        return []
    h, w = gray.shape[:2]
    out: list[Plan] = []
    for g in guesses(found, gray):
        ink, paper = _levels(gray, min(found, key=lambda f: math.hypot(f.x - g.corners[0][0], f.y - g.corners[0][1])))
        xs, ys = [p[0] for p in g.corners], [p[1] for p in g.corners]
        pad = 9 * g.module  # the finder's half, the quiet zone, and room for perspective
        x0, y0 = int(max(0, min(xs) - pad)), int(max(0, min(ys) - pad))
        x1, y1 = int(min(w, max(xs) + pad)), int(min(h, max(ys) + pad))
        if x1 - x0 < 16 or y1 - y0 < 16:
            continue
        u, v = np.array(g.u), np.array(g.v)
        for du, dv in _OFFSETS:
            at = np.array(g.centre) - (x0, y0) + (du * u + dv * v) * g.module
            out.append(partial(_painted, (x0, y0, x1, y1), at, u, v, g.module, ink, paper))
    return out


def _painted(box: tuple[int, int, int, int], at: np.ndarray, u: np.ndarray, v: np.ndarray, module: float,
             ink: float, paper: float, gray: np.ndarray) -> View:
    x0, y0, x1, y1 = box
    crop = gray[y0:y1, x0:x1].copy()
    paint(crop, at, u, v, module, ink, paper)
    return View(crop, 1.0, x0, y0)


def repair(gray: np.ndarray, hints: Hints) -> Iterator[View]:
    """The ladder rung. Lazy: the ladder stops at the first view that reads."""
    for plan in plans(gray):
        yield plan(gray)
