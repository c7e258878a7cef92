"""Reading a code on a crumpled or creased sheet: its module grid fitted locally.

A crumpled ticket moves each part of the code by up to one or two modules, each part its own way,
so no single homography (the engines', resample.fit's) nor unbend.py's cylinder lays the grid on
its modules: the engine locates the code and reads its format where the finders are, and the
Reed-Solomon check fails on the modules the crumple moved. On the paper frames drawn apart from
the ladder (tests/capture/apart_frames.py, seeds 1-3), 30 frames no rung read; sampled through the
engine's corners, they had 3-52 % of their modules wrong (docs/decode-benchmark.md).

Module edges lie only on the grid's lines, so the edges' own phase says where the lines are:
the code is rectified through the engine's corners at `_PX` px a module, and for each axis the
picture's gradient magnitude along it is multiplied by a complex wave of one module's period
and smoothed over about a module (`_SIGMA`). The angle of the result at a module's centre is
how far that module's grid line sits from where the homography put it, but only up to whole
modules: a phase wraps every module. The whole modules are recovered by growing outward from the
finder patterns, where the homography is right, through the modules whose edges are strongest
first (quality-guided phase unwrapping), each taking the whole-module shift that keeps it
nearest its neighbour's. A crease can break that chain, so the growth starts from every
finder, then from each alone and each pair (`_SEED_SETS`): a wrong start gives a grid that does not
decode. Each distinct grid is sampled on the straightened picture, its format read from its own
format modules (the engine's can be misread), and decoded.

Nothing here reads a code: a grid decodes only through erasures.correct, leaving 3 check symbols
unused in every block, and the repainted code is then read by the engine with its own check.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator

import cv2
import numpy as np

from station.capture import erasures, finder_grid, resample
from station.capture.decoders import FailedSymbol

_PX = 8  # px a module of the rectified code
_MARGIN = 3  # modules of quiet zone rectified around it, room for the grid to move into
_SIGMA = 1.0  # modules: the window a grid line's local phase is measured over (1.5 read 15 of 30, 1.0 17)
# Where the unwrapping starts: every finder; each alone; each pair (indices of _finder_cores).
# All three first: of the 17 paper frames read (ad hoc), it read 16; one needed the bottom-left
# finder alone (a crease between it and the other two).
_SEED_SETS = ((0, 1, 2), (0,), (1,), (2,), (0, 1), (0, 2), (1, 2))


def painted(gray: np.ndarray, symbol: FailedSymbol) -> Iterator[np.ndarray | None]:
    """For each grid fitted from a different start, lazily: `gray` with the code painted as the
    grid decodes, or None when it does not (so a caller's deadline can end the search between
    two grids)."""
    size = 17 + 4 * symbol.version
    if not np.isfinite(symbol.corners).all():
        return
    rectified = _rectified(gray, symbol.corners, size)
    if rectified is None:
        return
    wrapped, weight = _phases(rectified, size)
    cores = _finder_cores(size)
    rows, cols = np.mgrid[0:rectified.shape[0], 0:rectified.shape[1]].astype(np.float32)
    seen: set[bytes] = set()
    for chosen in _SEED_SETS:
        seeds = [cell for k in chosen for cell in cores[k]]
        shifts = _unwrapped(wrapped, weight, seeds)
        key = np.round(shifts).astype(np.int8).tobytes()
        if key in seen:
            continue  # the same whole-module shifts as a grid already tried
        seen.add(key)
        straight = cv2.remap(rectified, cols + _dense(shifts[0], size), rows + _dense(shifts[1], size),
                             cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        soft = cv2.GaussianBlur(straight, (0, 0), _PX / 4)
        grid = _grid(soft, size)
        matrix = _decoded(grid, soft, symbol.version)
        yield None if matrix is None else erasures.repaint(gray, symbol.corners, matrix)
        if not _torn(shifts):
            return  # every path between two modules agrees: another start grows the same grid
        if len(seen) == 1 and not finder_grid.timing_agrees(grid, symbol.version):
            # No timing pattern between the finders the growth started from: the engine's
            # version or place is wrong (a crumpled code is reported at 2-6 versions), and no
            # other start mends that.
            return


def _rectified(gray: np.ndarray, corners: np.ndarray, size: int) -> np.ndarray | None:
    """The code and `_MARGIN` modules around it, rectified through `corners` at `_PX` px a module."""
    side = (size + 2 * _MARGIN) * _PX
    square = np.array([[_MARGIN, _MARGIN], [_MARGIN + size, _MARGIN], [_MARGIN + size, _MARGIN + size],
                       [_MARGIN, _MARGIN + size]], np.float32) * _PX
    to_image = cv2.getPerspectiveTransform(square, corners.astype(np.float32))
    if not np.isfinite(to_image).all():
        return None
    return cv2.warpPerspective(gray.astype(np.float32), to_image, (side, side),
                               flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)


def _phases(rectified: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Each module's grid-line offset from the homography's, in modules within (-0.5, 0.5], along
    x and y (2 x size x size), and how strong the edges it rests on are (size x size: the product
    of both axes', so a module is trusted only where both are seen)."""
    soft = cv2.GaussianBlur(rectified, (0, 0), 1.0)
    side = rectified.shape[0]
    wave = -2.0 * np.pi * np.arange(side, dtype=np.float32) / _PX
    cos, sin = np.cos(wave), np.sin(wave)
    centres = ((np.arange(size) + _MARGIN + 0.5) * _PX).astype(int)
    offsets, strengths = [], []
    for axis in (0, 1):
        edges = np.abs(cv2.Sobel(soft, cv2.CV_32F, 1 - axis, axis, ksize=3))
        c, s = (cos[None, :], sin[None, :]) if axis == 0 else (cos[:, None], sin[:, None])
        re = cv2.GaussianBlur(edges * c, (0, 0), _SIGMA * _PX)[np.ix_(centres, centres)]
        im = cv2.GaussianBlur(edges * s, (0, 0), _SIGMA * _PX)[np.ix_(centres, centres)]
        offsets.append(-np.arctan2(im, re) / (2.0 * np.pi))
        strengths.append(np.hypot(re, im))
    return np.stack(offsets), strengths[0] * strengths[1]


def _finder_cores(size: int) -> tuple[list[tuple[int, int]], ...]:
    """The 3 x 3 modules at the middle of each finder (top-left, top-right, bottom-left)."""
    corners = ((0, 0), (0, size - 7), (size - 7, 0))
    return tuple([(r, c) for r in range(r0 + 2, r0 + 5) for c in range(c0 + 2, c0 + 5)] for r0, c0 in corners)


def _unwrapped(wrapped: np.ndarray, weight: np.ndarray, seeds: list[tuple[int, int]]) -> np.ndarray:
    """`wrapped` (2 x size x size offsets) with whole modules added, grown from `seeds` through
    the strongest modules first, each taking the whole shift nearest the neighbour it was
    reached from. Python lists and a heap: a version 15 grid grows in 17-22 ms here."""
    size = wrapped.shape[1]
    xs, ys = wrapped[0].ravel().tolist(), wrapped[1].ravel().tolist()
    priority = (-weight).ravel().tolist()
    out_x, out_y = [0.0] * (size * size), [0.0] * (size * size)
    done = [False] * (size * size)
    heap: list[tuple[float, int, int]] = []
    for r, c in seeds:
        i = r * size + c
        done[i], out_x[i], out_y[i] = True, xs[i], ys[i]
    for r, c in seeds:
        _reach(r * size + c, size, done, priority, heap)
    while heap:
        _, j, i = heapq.heappop(heap)
        if done[j]:
            continue
        done[j] = True
        out_x[j] = xs[j] + round(out_x[i] - xs[j])
        out_y[j] = ys[j] + round(out_y[i] - ys[j])
        _reach(j, size, done, priority, heap)
    return np.array([out_x, out_y]).reshape(2, size, size)


def _torn(shifts: np.ndarray) -> bool:
    """Whether two neighbouring modules' shifts differ by more than half a module: where the
    growth met itself the long way round, so a start elsewhere could grow it otherwise. A flat or
    gently crumpled code has no such place (a defocused version 15 code spent ~150 ms on the six
    other starts, all growing the same grid)."""
    return bool((np.abs(np.diff(shifts, axis=1)) > 0.5).any() or (np.abs(np.diff(shifts, axis=2)) > 0.5).any())


def _reach(i: int, size: int, done: list[bool], priority: list[float], heap: list[tuple[float, int, int]]) -> None:
    r, c = divmod(i, size)
    for j, inside in ((i + 1, c + 1 < size), (i - 1, c > 0), (i + size, r + 1 < size), (i - size, r > 0)):
        if inside and not done[j]:
            heapq.heappush(heap, (priority[j], j, i))


def _dense(shift: np.ndarray, size: int) -> np.ndarray:
    """A module-centre shift (modules) as px over the whole rectified picture, interpolated
    between module centres and held flat across the margin."""
    padded = cv2.copyMakeBorder(shift.astype(np.float32) * _PX, _MARGIN, _MARGIN, _MARGIN, _MARGIN,
                                cv2.BORDER_REPLICATE)
    side = (size + 2 * _MARGIN) * _PX
    return cv2.resize(padded, (side, side), interpolation=cv2.INTER_LINEAR)


def _grid(soft: np.ndarray, size: int) -> erasures.Grid:
    """The modules of the straightened code (`soft`: blurred by a quarter module), each dark or
    light against the ink and paper of the 7 x 7 modules around it (as erasures.sample decides),
    none taken as hidden."""
    centres = ((np.arange(size) + _MARGIN + 0.5) * _PX).astype(int)
    grey = soft[np.ix_(centres, centres)]
    block = np.ones((7, 7), np.uint8)
    ink, paper = cv2.erode(grey, block), cv2.dilate(grey, block)
    dark = grey < (ink + paper) / 2
    return erasures.Grid(dark, np.zeros_like(dark))


def _decoded(grid: erasures.Grid, soft: np.ndarray, version: int) -> np.ndarray | None:
    """The corrected module matrix of `grid` (or of it transposed: a mirrored code), with the
    format its own format modules say; failing that, of each module's ink with the blur between
    neighbours undone (resample.darkness, on the straightened code as on a flat one: small modules,
    a crumpled sheet's soft print; 17 -> 21 of the 30 paper frames, ad hoc). None if no format
    shows or no block decodes."""
    size = grid.dark.shape[0]
    square = np.array([[0, 0], [size, 0], [size, size], [0, size]], np.float32) + _MARGIN
    known = resample.symmetric(erasures.function_patterns(version))
    for g, back in ((grid, False), (grid.transposed(), True)):
        for level, mask in finder_grid.formats(g, version):
            matrix = erasures.correct(g, version, level, mask)
            if matrix is None:
                ideal = erasures.function_modules(version, level, mask)
                ink = resample.darkness(soft, square * _PX, ideal.T if back else ideal, known)
                if ink is not None:
                    unblurred = erasures.Grid(ink > 0.5, np.zeros_like(grid.lost))
                    matrix = erasures.correct(unblurred.transposed() if back else unblurred, version, level, mask)
            if matrix is not None:
                return matrix.T if back else matrix
    return None
