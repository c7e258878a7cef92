"""Reading a code from two of its finder patterns when the third is washed out or covered.

A lamp's reflection or a window's band over a corner of a glossy pass clips a finder pattern
to white; a thumb hides one. finder_repair.py paints the missing finder back for the engine,
but the engine then measures the code's module size along the line between two finders, where
the glare's long white run makes modules look several times larger: it reads the code as a much
smaller version (version 2 for 5, 1 for 4: docs/decode-benchmark.md) and fails. Here the
module grid is set by us instead: the two finders seen (their centres, and each one's module
measured along the line between them: a finder is 7 modules across) allow one or two versions;
for each, the eight corners of the two finders' squares give the code's perspective, the grid
is sampled there, kept only if a timing pattern and a format show, refined on the function
patterns (resample.fit) and read with the blur between modules undone (resample.darkness), the
format from whichever of its two copies is visible, the data with the glare's flat modules as
erasures (erasures.py). A code with big modules is read from the picture scaled down.

A band of glare that does not clip lifts the ink under it to a grey lighter than the paper
beside it: the grid, dark or light against one level, fails there, and a band across a finder
hides the code from the engine even when all three finders show. The washed rung, last in
`station decode`'s ladder, reads the same guesses from the crop stretched between its local ink
and paper, then the codes whose three finders are all seen (all_three), as they are and stretched.

False reads: as for every grid we read ourselves, every Reed-Solomon block must decode leaving
3 check symbols unused, and the engine then reads the repainted code with its own check
(erasures.py, ladder.py). A wrong version, format or place decodes as nothing.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from functools import partial

import cv2
import numpy as np

from station.capture import alignment_walk, envelope, erasures, finder_repair, resample
from station.capture.view import Hints, View

_MODULE_PX = 6.0  # a code with bigger modules is read from a picture scaled down to this
_MAX_FORMATS = 2  # formats tried a grid: the closest two within _MAX_FORMAT_ERRORS
_MAX_FORMAT_ERRORS = 3  # a format copy's wrong modules still taken (valid ones differ in >= 7)
_STRETCH_MODULES = 1.5  # the window of the stretched picture (_looks), in modules


def _roles(points: tuple[tuple[float, float], ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three finder centres as top-left, top-right, bottom-left: the top-left is the one at
    the right angle (opposite the longest side); top-right is the one clockwise from it on
    screen. A mirrored code comes out transposed, which erasures.py tries too."""
    p = [np.array(q, np.float64) for q in points]
    sides = [np.linalg.norm(p[1] - p[2]), np.linalg.norm(p[0] - p[2]), np.linalg.norm(p[0] - p[1])]
    tl = int(np.argmax(sides))
    a, b = (p[i] for i in range(3) if i != tl)
    d1, d2 = a - p[tl], b - p[tl]
    if d1[0] * d2[1] - d1[1] * d2[0] < 0:
        a, b = b, a
    return p[tl], a, b


def _corners(tl: np.ndarray, tr: np.ndarray, bl: np.ndarray, size: int) -> np.ndarray:
    """The symbol's corners (top-left first, clockwise) from its finder centres, 3.5 modules in
    from each edge (an affine guess: the refinement adds the perspective)."""
    u = (tr - tl) / (size - 7)
    v = (bl - tl) / (size - 7)
    origin = tl - 3.5 * (u + v)
    return np.array([origin, origin + size * u, origin + size * (u + v), origin + size * v], np.float32)


def formats(grid: erasures.Grid, version: int) -> list[tuple[str, int]]:
    """The (level, mask) pairs the grid's format modules agree with, closest first: a copy counts
    when at least 10 of its 15 modules are visible, and a pair when its wrong visible modules
    stay within `_MAX_FORMAT_ERRORS`."""
    copies = []
    for k, (rows, cols) in enumerate(erasures.format_places(version)):
        seen = ~grid.lost[rows, cols]
        if seen.sum() >= 10:
            copies.append((k, grid.dark[rows, cols], seen))
    scored: list[tuple[float, str, int]] = []
    for (level, mask), bits in erasures.format_bits().items():
        best = min((np.count_nonzero((dark != bits[k])[seen]) / seen.sum() * 15 for k, dark, seen in copies),
                   default=math.inf)
        if best <= _MAX_FORMAT_ERRORS:
            scored.append((best, level, mask))
    scored.sort()
    return [(level, mask) for _, level, mask in scored[:_MAX_FORMATS]]


def timing_agrees(grid: erasures.Grid, version: int) -> bool:
    """Whether a timing pattern (row and column 6, alternating between the finders) shows in
    the grid: a grid of the wrong version or place shows neither. 80 % of at least 5 visible
    modules of one of them."""
    size = 17 + 4 * version
    run = np.arange(8, size - 8)
    ideal = run % 2 == 0
    for dark, lost in ((grid.dark[6, run], grid.lost[6, run]), (grid.dark[run, 6], grid.lost[run, 6])):
        seen = ~lost
        if seen.sum() >= 5 and np.count_nonzero(dark[seen] == ideal[seen]) >= 0.8 * seen.sum():
            return True
    return False


def _polarity(grid: erasures.Grid, version: int) -> erasures.Grid:
    """The grid with dark as ink: a light-on-dark code's finders sample inverted."""
    areas = erasures.finder_areas(version) & ~grid.lost
    ideal = erasures.function_modules(version, "M", 0)
    if np.count_nonzero(grid.dark[areas] == ideal[areas]) < areas.sum() / 2:
        return grid.inverted()
    return grid


def _finder_corners(role: str, size: int) -> np.ndarray:
    """A finder's dark square's corners in module coordinates."""
    x, y = {"tl": (0, 0), "tr": (size - 7, 0), "bl": (0, size - 7)}[role]
    return np.array([(x, y), (x + 7, y), (x + 7, y + 7), (x, y + 7)], np.float64)


def _axes(seen: list[tuple[str, finder_repair.Finder]], centres: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The code's axes on screen (unit vectors along its rows and its columns), from the line
    between the two seen finders, and the side the guessed third is on for the other axis (the
    guess's distance is unsure under perspective; its side is not)."""
    def unit(d: np.ndarray) -> np.ndarray:
        return d / max(float(np.linalg.norm(d)), 1e-9)

    def toward(d: np.ndarray, target: np.ndarray) -> np.ndarray:
        n = np.array([-d[1], d[0]])
        return n if float(n @ target) >= 0 else -n

    roles = {r for r, _ in seen}
    tl, tr, bl = centres["tl"], centres["tr"], centres["bl"]
    if roles == {"tl", "tr"}:
        u = unit(tr - tl)
        return u, toward(u, bl - tl)
    if roles == {"tl", "bl"}:
        v = unit(bl - tl)
        return toward(v, tr - tl), v
    w = unit(bl - tr)  # the diagonal (v - u) / sqrt 2; its square points from the top-left on
    z = toward(w, (tr + bl) / 2 - tl)
    return (z - w) / math.sqrt(2), (z + w) / math.sqrt(2)


def _correspondences(seen: list[tuple[str, finder_repair.Finder]], centres: dict[str, np.ndarray],
                     size: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The seen finders' corners in module coordinates and in pixels (two finders: eight
    points), each corner placed on its square by which side of the finder's centre it lies
    along the code's two axes; None when that is not one corner to each."""
    u, v = _axes(seen, centres)
    src: list[np.ndarray] = []
    dst: list[tuple[float, float]] = []
    for role, f in seen:
        if len(f.quad) != 4:
            return None
        square = _finder_corners(role, size)
        rel = np.array(f.quad, np.float64) - (f.x, f.y)
        order = [(0 if a < 0 else 1) + (0 if b < 0 else 2) for a, b in zip(rel @ u, rel @ v, strict=True)]
        if sorted(order) != [0, 1, 2, 3]:
            return None
        src.extend(square[[0, 1, 3, 2][k]] for k in order)
        dst.extend(f.quad)
    return np.array(src, np.float32), np.array(dst, np.float32)


def _starts(seen: list[tuple[str, finder_repair.Finder]], centres: dict[str, np.ndarray], size: int) -> list[np.ndarray]:
    """First guesses of the symbol's corners, best first: the homography of the seen finders'
    eight corners, and the affine map through the three centres (the third guessed). The regrid
    rung alone, no time limit, on the glare and occlusion frames of seeds 9001 and 4013 (160,
    153 with a two-finder guess; session 19): the homography alone read 135, the affine map
    alone 127, both 136. (Session 18: the affine map that fits the eight corners best read none
    the homography did not.)"""
    square = np.array([[[0, 0]], [[size, 0]], [[size, size]], [[0, size]]], np.float32)
    out = []
    pairs = _correspondences(seen, centres, size)
    if pairs is not None:
        h, _ = cv2.findHomography(*pairs, 0)
        if h is not None and np.isfinite(h).all():
            out.append(cv2.perspectiveTransform(square, h).reshape(4, 2))
    out.append(_corners(centres["tl"], centres["tr"], centres["bl"], size))
    return [c.astype(np.float32) for c in out]


def read(gray: np.ndarray, seen: list[tuple[str, finder_repair.Finder]], centres: dict[str, np.ndarray],
         version: int, looks: tuple[str, ...] = ("plain",)) -> tuple[np.ndarray, np.ndarray] | None:
    """The code of `version` whose finders are `seen` (with their roles) and centred at
    `centres`, as its modules decode: (its corners in `gray`, its corrected module matrix), or None.
    `looks`: the code's crop as it is ("plain") and/or stretched ("stretched", _looks)."""
    size = 17 + 4 * version
    known = resample.symmetric(erasures.function_patterns(version))
    ideal = erasures.function_modules(version, "M", 0)
    anchors = np.concatenate([_finder_corners(role, size) for role, _ in seen])
    diagonal = {role for role, _ in seen} == {"tr", "bl"}  # both timing patterns run from the guessed corner
    for start in _starts(seen, centres, size):
        walked: np.ndarray | None = None  # the walk, once a guess: both looks share it
        have_walked = False
        for look in looks:
            first = _sampled(gray, start, version, look)
            if first is None:
                continue
            timing = timing_agrees(first[3], version)
            if not (timing or diagonal) or not _has_format(first[3], version):
                continue
            # The format sits beside the finders seen, where the first guess of the grid is good
            # enough to read it: a guess without one is passed over before the refinement, which
            # costs the most (ECC: 50-170 ms a grid); so is one whose timing pattern does not
            # show. But a two-finder guess's far corners may be modules off at a slant: it is
            # walked onto the alignment patterns first (alignment_walk.py, ~2 ms), and from a
            # top-right and a bottom-left finder, whose timing patterns both run from the
            # guessed corner, walked before its timing pattern is asked for.
            candidates = []  # the walked guess instead of the guess, when it passes (ECC twice: 300 ms)
            if not have_walked:
                walked = alignment_walk.walk(gray, start, version, anchors, _light_on_dark(gray, start, seen, size))
                have_walked = True
            on_walk = None if walked is None else _sampled(gray, walked, version, look)
            if on_walk is not None and timing_agrees(on_walk[3], version) and _has_format(on_walk[3], version):
                candidates.append(on_walk)
            if timing and not candidates:
                candidates.append(first)
            for shift, crop, local, grid in candidates:
                for at, sampled in _grids(crop, local, grid, size, ideal, known):
                    for g, back in ((sampled, False), (sampled.transposed(), True)):
                        g = _polarity(g, version)
                        for level, mask in formats(g, version):
                            matrix = erasures.correct(g, version, level, mask)
                            if matrix is not None:
                                return at + shift, (matrix.T if back else matrix)
    return None


Sampled = tuple[np.ndarray, np.ndarray, np.ndarray, erasures.Grid]


def _sampled(gray: np.ndarray, corners: np.ndarray, version: int, look: str) -> Sampled | None:
    """The code's crop around `corners` as `look` asks (_looks), where it is, the corners in it
    and its grid as first sampled: (shift, crop, local corners, grid); None when the corners
    leave no room for a grid."""
    size = 17 + 4 * version
    module = resample.module_px(corners, size)
    if not np.isfinite(corners).all() or module < 1.0 or not _fits(corners, gray.shape):
        return None
    rows, cols = gray.shape
    pad = int(3 * module) + 2
    x0, y0 = (max(0, int(v) - pad) for v in corners.min(axis=0))
    x1, y1 = min(cols, int(corners[:, 0].max()) + pad + 1), min(rows, int(corners[:, 1].max()) + pad + 1)
    if x1 - x0 < size or y1 - y0 < size:
        return None
    shift = np.array([x0, y0], np.float32)
    local = (corners - shift).astype(np.float32)
    crop = next(_looks(gray[y0:y1, x0:x1], module, (look,)))
    return shift, crop, local, _polarity(erasures.sample(crop, local, size), version)


def _fits(corners: np.ndarray, shape: tuple[int, ...]) -> bool:
    """Whether a code with these corners could be in a picture of this shape: each corner within
    the picture's own size of its edges. A guess from finders found on a deconvolved view can put
    a corner thousands of px out (tests/capture/hard_frames.py frame 41: a module of 17,839 px),
    and the grid's blur at a quarter module then took 39 s for a read that cannot be."""
    rows, cols = shape[:2]
    xs, ys = corners[:, 0], corners[:, 1]
    return bool((xs > -cols).all() and (xs < 2 * cols).all() and (ys > -rows).all() and (ys < 2 * rows).all())


def _has_format(grid: erasures.Grid, version: int) -> bool:
    return any(formats(g, version) for g in (grid, grid.transposed()))


def _light_on_dark(gray: np.ndarray, corners: np.ndarray, seen: list[tuple[str, finder_repair.Finder]],
                   size: int) -> bool:
    """Whether the seen finders' centres are lighter than their light ring (a dark-mode code)."""
    square = np.array([[0, 0], [size, 0], [size, size], [0, size]], np.float32)
    h = cv2.getPerspectiveTransform(square, corners.astype(np.float32))
    centre = ring = 0.0
    for role, _ in seen:
        x, y = _finder_corners(role, size)[0] + 3.5
        points = np.array([[x, y], [x - 2, y], [x + 2, y], [x, y - 2], [x, y + 2]], np.float32)
        at = cv2.perspectiveTransform(points.reshape(-1, 1, 2), h).reshape(-1, 2)
        rows, cols = gray.shape
        values = [float(gray[min(rows - 1, max(0, int(py))), min(cols - 1, max(0, int(px)))]) for px, py in at]
        centre += values[0]
        ring += sum(values[1:]) / 4
    return centre > ring


def _looks(crop: np.ndarray, module: float, looks: tuple[str, ...]) -> Iterator[np.ndarray]:
    """The code's crop as `looks` asks, lazily: as it is, and stretched, each pixel placed
    between the darkest and the lightest grey within 1.5 modules (envelope.stretch). A band of
    glare that does not clip lifts the ink under it to a grey lighter than the paper elsewhere: a
    grid sampled against one level reads those modules (a finder's, the format's, the data's) as
    light and the check fails; stretched, they get their contrast back. (Deciding dark or light
    against the modules within 3 modules instead, in the grid, read 21 of 31 such frames where
    the stretch read 29: the band's edge runs through modules; docs/decode-benchmark.md.)"""
    for look in looks:
        yield crop if look == "plain" else envelope.stretch(crop, max(5, int(_STRETCH_MODULES * module) | 1))


def _grids(crop: np.ndarray, local: np.ndarray, first: erasures.Grid, size: int, ideal: np.ndarray,
           known: np.ndarray) -> Iterator[tuple[np.ndarray, erasures.Grid]]:
    """The grids worth decoding and the corners they were read through, best first, lazily.
    The corners refined on the function modules the glare left (`first`'s flat ones left out:
    a washed-out finder aligned with the picture's white pulls the fit off, 85 of 1,681 visible
    modules wrong against 1 so), then on all of them (small modules: flat patches cover too much
    of the pattern). On each, each module's ink with the blur between neighbours undone
    (resample.darkness; a shaken photo: 21 wrong modules of 441 as sampled, none so), with the
    flat patches as erasures and then without (a glare's soft edge leaves much of a flat patch
    readable: 145 modules flat, 52 of them wrong); then as sampled. Last, the first guess."""
    for used in ((known & ~first.lost, known) if first.lost[known].any() else (known,)):
        fitted = resample.fit(crop, local, ideal, used)
        if fitted is None or not _fits(fitted, crop.shape):
            continue
        plain = erasures.sample(crop, fitted, size)
        ink = resample.darkness(crop, fitted, ideal, known)
        if ink is not None:
            yield fitted, erasures.Grid(ink > 0.5, plain.lost)
            yield fitted, erasures.Grid(ink > 0.5, np.zeros_like(plain.lost))
        yield fitted, plain
    yield local, first


Triple = tuple[list[tuple[str, finder_repair.Finder]], dict[str, np.ndarray], float]


def triples(gray: np.ndarray, found: list[finder_repair.Finder] | None = None) -> Iterator[Triple]:
    """The finders seen with their roles, the three centres (the third guessed), and the module,
    likeliest first. `found`: the picture's finders when the caller has searched already."""
    found = finder_repair.finders(gray) if found is None else found
    if len(found) < 2:
        return
    for g in finder_repair.guesses(found, gray):
        tl, tr, bl = _roles(g.corners[:3])
        centres = {"tl": tl, "tr": tr, "bl": bl}
        seen = []
        for role, p in centres.items():
            f = min(found, key=lambda f: math.hypot(f.x - p[0], f.y - p[1]))
            if math.hypot(f.x - p[0], f.y - p[1]) < 1.0:
                seen.append((role, f))
        if len(seen) != 2:
            continue
        module = sum(f.side for _, f in seen) / 14
        if _holds_another(found, [f for _, f in seen], centres, module):
            continue
        yield seen, centres, module


def all_three(found: list[finder_repair.Finder]) -> Iterator[Triple]:
    """Three finders seen that make one code's corners (of one size; the two sides from the
    corner at the right angle about as long, and about square), with their roles and module.
    The engine saw such a code and failed on it: a band of glare over a finder or the format
    is one reason (zxing-cpp then does not locate it at all), the washed rung's to read."""
    for trio in itertools.combinations(found, 3):
        sides = [f.side for f in trio]
        if max(sides) > 1.5 * min(sides):
            continue
        tl, tr, bl = _roles(tuple((f.x, f.y) for f in trio))
        across, down = tr - tl, bl - tl
        a, b = float(np.linalg.norm(across)), float(np.linalg.norm(down))
        if min(a, b) <= 0 or max(a, b) > 1.4 * min(a, b) or abs(float(across @ down)) > 0.5 * a * b:
            continue  # not a right angle within 30 degrees: finders of different codes
        centres = {"tl": tl, "tr": tr, "bl": bl}
        seen = [(role, min(trio, key=lambda f: math.hypot(f.x - p[0], f.y - p[1]))) for role, p in centres.items()]
        yield seen, centres, sum(sides) / 21


GridPlan = Callable[[np.ndarray], "View | None"]


def plans(gray: np.ndarray, found: list[finder_repair.Finder] | None = None,
          washed: bool = False, three_first: bool = False) -> list[GridPlan]:
    """For each two-finder guess and version, a plan: read the grid from a picture of the same
    place and return it repainted for the engine, or None. Plans, not views: the camera's
    sequence reader runs one a frame, each on its newest frame (sequence.py). `found`: the
    picture's finders when the caller has searched already. `washed`: the washed rung's plans
    instead, the same guesses read from the stretched crop, then each code whose three finders
    are all seen, as it is and stretched (_looks). `three_first`: each code whose three finders
    are seen first, as it is, then the guesses (a deconvolved view: unsmeared_grid.py)."""
    found = finder_repair.finders(gray) if found is None else found
    out: list[GridPlan] = []
    shrunk: dict[float, tuple[np.ndarray, np.ndarray]] = {}  # the plans' scaled-down picture, by scale
    guessed = [(*t, ("stretched",) if washed else ("plain",)) for t in triples(gray, found)]
    seen_all = [(*t, ("plain", "stretched")) for t in all_three(found)] if washed else []
    first = [(*t, ("plain",)) for t in all_three(found)] if three_first else []
    for seen, centres, module, looks in first + guessed + seen_all:
        # The spacing of the two seen finders says the version (the guessed third adds nothing)
        # in modules as wide as theirs: by the square root of their area, or by their reach
        # along the line between them. Under perspective either can be off by one version (the
        # first said 5 of a version 6 held at a 30 % slant, the second 5 of a 6 seen from
        # below): both are tried.
        a, b = (centres[r] for r, _ in seen[:2])  # of three seen, the top side
        diagonal = {r for r, _ in seen} == {"tr", "bl"}
        span = float(np.linalg.norm(a - b)) / (math.sqrt(2) if diagonal else 1.0)
        along = _module_along(seen, (b - a) / max(float(np.linalg.norm(b - a)), 1e-6), diagonal)
        versions = _versions_from(span, module)
        versions += [v for v in _versions_from(span, along or module) if v not in versions]
        # A photo's big modules are read as well at _MODULE_PX, and a 12-megapixel photo's code
        # costs the blur and the refinement tens of times more at full size.
        scale = min(1.0, round(_MODULE_PX / module, 2))
        out.extend(partial(_planned, seen, centres, scale, version, shrunk, looks) for version in versions)
    return out


def _planned(seen: list[tuple[str, finder_repair.Finder]], centres: dict[str, np.ndarray], scale: float,
             version: int, shrunk: dict[float, tuple[np.ndarray, np.ndarray]], looks: tuple[str, ...],
             gray: np.ndarray) -> View | None:
    image = gray
    if scale < 1.0:
        # the plans of one picture share its scaled-down copy (a 12-megapixel photo's costs 10-30 ms)
        if scale not in shrunk or shrunk[scale][0] is not gray:
            shrunk[scale] = (gray, cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))
        image = shrunk[scale][1]
    got = read(image, [(role, _scaled(f, scale)) for role, f in seen],
               {role: p * scale for role, p in centres.items()}, version, looks)
    if got is None:
        return None
    corners, matrix = got
    corners = corners / scale
    h, w = gray.shape
    painted = erasures.repaint(gray, corners, matrix)
    quiet = 6.0 * resample.module_px(corners, matrix.shape[0])
    x0, y0 = (max(0, int(v - quiet)) for v in corners.min(axis=0))
    x1, y1 = (int(v + quiet) + 1 for v in corners.max(axis=0))
    return View(painted[y0:min(h, y1), x0:min(w, x1)], 1.0, x0, y0)


def _holds_another(found: list[finder_repair.Finder], seen: list[finder_repair.Finder],
                   centres: dict[str, np.ndarray], module: float) -> bool:
    """Whether a finder other than the two seen lies within the code the guess implies: then
    the guess is a code whose finders are all in view, taken the wrong way round (its third
    finder where the guess puts a corner without one), which the engine failed on for another
    reason. On photos whose three finders show, such guesses cost the rung ~0.5 s a photo."""
    tl, tr, bl = centres["tl"], centres["tr"], centres["bl"]
    outline = np.array([tl, tr, tr + bl - tl, bl], np.float32)
    for f in found:
        if any(f is g for g in seen):
            continue
        if cv2.pointPolygonTest(outline, (f.x, f.y), True) > -2 * module:
            return True
    return False


def regrid(gray: np.ndarray, hints: Hints) -> Iterator[View | None]:
    """The ladder rung: each plan's view, lazily; None for a guess that did not decode (the
    ladder's deadline is checked between guesses)."""
    for plan in plans(gray, finder_repair.finders_in_noise(gray)):
        yield plan(gray)


def washed(gray: np.ndarray, hints: Hints) -> Iterator[View | None]:
    """The washed rung (after every other: it costs the most and reads only what a band of
    glare left): regrid's guesses read from the stretched crop, then the codes whose three
    finders are seen, as they are and stretched; lazily, like regrid."""
    for plan in plans(gray, finder_repair.finders_in_noise(gray), washed=True):
        yield plan(gray)


def _module_along(seen: list[tuple[str, finder_repair.Finder]], d: np.ndarray, diagonal: bool) -> float | None:
    """The seen finders' module measured along `d` (a finder is 7 modules across; along a
    diagonal, its corners are 7 * sqrt 2 apart); None without their corners."""
    widths = []
    for _, f in seen:
        if len(f.quad) != 4:
            return None
        reach = np.array(f.quad) @ d
        widths.append(float(reach.max() - reach.min()))
    return sum(widths) / len(widths) / (7 * math.sqrt(2) if diagonal else 7)


def _scaled(f: finder_repair.Finder, scale: float) -> finder_repair.Finder:
    return finder_repair.Finder(f.x * scale, f.y * scale, f.side * scale, tuple((x * scale, y * scale) for x, y in f.quad))


def _versions_from(span: float, module: float) -> list[int]:
    """The versions whose finder spacing (`span` px between two finders' centres along a side)
    a `module` px module allows, the likeliest first."""
    v = (span / module + 7 - 17) / 4
    out = sorted({round(v), math.floor(v), math.ceil(v)}, key=lambda c: abs(c - v))
    return [c for c in out if 1 <= c <= 40 and abs(c - v) < 1.0]
