"""Reading a code part of which is hidden, with the hidden part as erasures.

A thumb, a sticker or a smudge over the middle of a code leaves its finders readable: the engine
locates the code, reads its format (level, mask, version) and gives up at the Reed-Solomon check,
because the hidden modules read as guesses and guesses are errors. Level M corrects errors in
13 % of a block's codewords, but twice as many codewords whose place is known to be lost
(erasures): a hidden region is such a place. `recover` samples the module grid where the engine
located the code, marks as lost every module in a patch of 4x4 modules without contrast (a code
has one by chance about once in 16,000 such patches), decodes each block with those erasures
(reedsolo), and paints the corrected code back where it was for the engine to read. The ladder
calls it for every code a decoder call located but could not check (DecodeLadder.read). Marking
modules of a grey between ink and paper as lost too read fewer hidden codes, not more (blur
leaves many such at 3-4 px a module, most read right): benchmarks/occlusion_bench.py.

False reads: a block decoded with e erasures and t errors must leave `_SPARE` check symbols
unused (e + 2t <= n - k - _SPARE), so that a wrong grid or a code of junk decodes only by a
chance of the order of 256**-_SPARE a block (`occlusion_bench.py --junk`: 0 of 20,000 random
grids at 2 or 3, 3 at 1); then the engine reads the repainted code with its own check and
parses its segments (ladder.py says why every rung relies on that check).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
import reedsolo  # type: ignore[import-untyped]
import segno
from segno import consts

from station.capture import resample
from station.capture.decoders import FailedSymbol

_SPARE = 3  # check symbols a block must leave unused (see above)
_FLAT = 4  # modules a side of a patch that, without contrast, is taken as hidden
_MEMORY_FRAMES = 15  # a camera's half second: how long a hidden module seen before still counts
_MEMORY_MIN_LOST = 0.05  # the share of a grid hidden before the memory's modules are tried
_FLATNESS = 0.35  # "without contrast": under this share of the contrast typical of the code
_LEVELS = {"L": consts.ERROR_LEVEL_L, "M": consts.ERROR_LEVEL_M, "Q": consts.ERROR_LEVEL_Q, "H": consts.ERROR_LEVEL_H}
_MASKS = (
    lambda i, j: (i + j) % 2 == 0,
    lambda i, j: i % 2 == 0,
    lambda i, j: j % 3 == 0,
    lambda i, j: (i + j) % 3 == 0,
    lambda i, j: (i // 2 + j // 3) % 2 == 0,
    lambda i, j: (i * j) % 2 + (i * j) % 3 == 0,
    lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
    lambda i, j: ((i + j) % 2 + (i * j) % 3) % 2 == 0,
)


def function_patterns(version: int) -> np.ndarray:
    """True where a module is no data: finders and separators, timing, alignment patterns,
    format and version information (ISO/IEC 18004 section 7; segno's verbose map marks one data
    module of row 8 as format, so it is not used here)."""
    size = 17 + 4 * version
    fixed = np.zeros((size, size), bool)
    fixed[:9, :9] = fixed[:9, size - 8:] = fixed[size - 8:, :9] = True  # finders, separators, format
    fixed[6, :] = fixed[:, 6] = True  # timing
    centres: tuple[int, ...] = consts.ALIGNMENT_POS[version - 2] if version > 1 else ()  # from version 2 on
    for r in centres:
        for c in centres:
            on_finder = (r < 9 and c < 9) or (r < 9 and c > size - 9) or (r > size - 9 and c < 9)
            if not on_finder:
                fixed[r - 2:r + 3, c - 2:c + 3] = True
    if version >= 7:
        fixed[:6, size - 11:size - 8] = fixed[size - 11:size - 8, :6] = True
    return fixed


@dataclass(frozen=True)
class Layout:
    """Where a version's data bits sit, in the order they are written, and its blocks."""

    size: int
    rows: np.ndarray  # row of each data bit, in placement order
    cols: np.ndarray
    blocks: tuple[tuple[int, int], ...]  # (total, data) codewords of each block, in order


@cache
def layout(version: int, level: str) -> Layout:
    size = 17 + 4 * version
    free = ~function_patterns(version)
    rows: list[int] = []
    cols: list[int] = []
    col, upward = size - 1, True
    while col > 0:
        if col == 6:  # the vertical timing pattern: the column pair moves one left
            col -= 1
        for r in (range(size - 1, -1, -1) if upward else range(size)):
            for c in (col, col - 1):
                if free[r, c]:
                    rows.append(r)
                    cols.append(c)
        col -= 2
        upward = not upward
    table: dict[int, dict[int, tuple[consts.EC, ...]]] = consts.ECC  # type: ignore[assignment]
    blocks = tuple((ec.num_total, ec.num_data) for ec in table[version][_LEVELS[level]] for _ in range(ec.num_blocks))
    return Layout(size, np.array(rows), np.array(cols), blocks)


def interleaved(blocks: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
    """(block, index in block) of each codeword in the order the code carries them: the data
    codewords column by column across the blocks, then the check codewords likewise."""
    order = [(b, i) for i in range(max(d for _, d in blocks)) for b, (_, d) in enumerate(blocks) if i < d]
    order += [(b, d + i) for i in range(max(t - d for t, d in blocks)) for b, (t, d) in enumerate(blocks)]
    return order


@dataclass(frozen=True)
class Grid:
    dark: np.ndarray  # bool, size x size: each module as sampled
    lost: np.ndarray  # bool: the module is hidden (in a patch without contrast)

    def transposed(self) -> Grid:
        return Grid(self.dark.T, self.lost.T)

    def inverted(self) -> Grid:
        return Grid(~self.dark, self.lost)


def sample(gray: np.ndarray, corners: np.ndarray, size: int) -> Grid:
    """The module grid inside `corners` (the symbol's four corners, top-left first, clockwise)."""
    to_image = cv2.getPerspectiveTransform(np.array([[0, 0], [size, 0], [size, size], [0, size]], np.float32),
                                           corners.astype(np.float32))
    centres = np.stack(np.meshgrid(np.arange(size) + 0.5, np.arange(size) + 0.5), axis=-1).reshape(-1, 1, 2)
    at = cv2.perspectiveTransform(centres.astype(np.float32), to_image).reshape(size, size, 2)
    module = resample.module_px(corners, size)
    soft = cv2.GaussianBlur(gray, (0, 0), max(0.5, module / 4)).astype(np.float32)
    grey = cv2.remap(soft, at[..., 0], at[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # Ink and paper around each module: the extremes of a 7x7-module neighbourhood.
    k = np.ones((7, 7), np.uint8)
    ink, paper = cv2.erode(grey, k), cv2.dilate(grey, k)
    spread = float(np.percentile(paper - ink, 75))
    dark = grey < (ink + paper) / 2
    # A patch of _FLAT x _FLAT modules without contrast: every module in it is hidden. (3x3
    # patches, or a looser or stricter flatness, read fewer hidden codes: occlusion_bench.py.)
    f = np.ones((_FLAT, _FLAT), np.uint8)
    flat_at = (cv2.dilate(grey, f, anchor=(0, 0)) - cv2.erode(grey, f, anchor=(0, 0))) < _FLATNESS * spread
    flat_at[size - _FLAT + 1:, :] = False
    flat_at[:, size - _FLAT + 1:] = False
    flat = cv2.dilate(flat_at.astype(np.uint8), f, anchor=(_FLAT - 1, _FLAT - 1)).astype(bool)
    return Grid(dark, flat)


def correct(grid: Grid, version: int, level: str, mask: int, spare: int = _SPARE) -> np.ndarray | None:
    """The code's corrected module matrix, or None when a block does not decode leaving `spare`
    check symbols unused."""
    lay = layout(version, level)
    ideal = function_modules(version, level, mask)
    dark = grid.dark
    finders = finder_areas(version)
    if np.count_nonzero(dark[finders] == ideal[finders]) < finders.sum() / 2:
        dark = ~dark  # a light-on-dark code (dark mode): the engine reads those too
    bits = dark[lay.rows, lay.cols] ^ _MASKS[mask](lay.rows, lay.cols)
    lost = grid.lost[lay.rows, lay.cols]
    order = interleaved(lay.blocks)
    n_words = len(order)
    words = np.packbits(bits[: 8 * n_words].astype(np.uint8))
    lost_words = lost[: 8 * n_words].reshape(n_words, 8).any(axis=1)
    received: list[bytearray] = [bytearray(t) for t, _ in lay.blocks]
    erased: list[list[int]] = [[] for _ in lay.blocks]
    for k, (b, i) in enumerate(order):
        received[b][i] = int(words[k])
        if lost_words[k]:
            erased[b].append(i)
    fixed: list[bytearray] = []
    for (total, data), block, where in zip(lay.blocks, received, erased, strict=True):
        nsym = total - data
        if len(where) > nsym - spare:
            return None
        try:
            _, whole, errata = _codec(nsym).decode(block, erase_pos=where or None)
        except reedsolo.ReedSolomonError:
            return None
        errors = len(set(errata) - set(where))
        if len(where) + 2 * errors > nsym - spare:
            return None
        fixed.append(whole)
    stream = bytes(fixed[b][i] for b, i in order)
    out_bits = np.unpackbits(np.frombuffer(stream, np.uint8)).astype(bool)
    matrix = ideal.copy()  # finders, timing and format as the code's own
    n = len(out_bits)
    matrix[lay.rows[:n], lay.cols[:n]] = out_bits ^ _MASKS[mask](lay.rows[:n], lay.cols[:n])
    return matrix


@cache
def _codec(nsym: int) -> reedsolo.RSCodec:
    return reedsolo.RSCodec(nsym, nsize=255, fcr=0, prim=0x11D, generator=2)


@cache
def function_modules(version: int, level: str, mask: int) -> np.ndarray:
    """A code of this version, level and mask as segno draws it, but for its data modules (which
    are overwritten): its function patterns and its remainder bits. Drawn once a version (a
    version 20 code costs segno ~100 ms), the format and remainder then set for the level and mask."""
    matrix = _drawn(version).copy()
    bits = format_bits()[level, mask]
    for (rows, cols), copy in zip(format_places(version), bits, strict=True):
        matrix[rows, cols] = copy
    # The remainder bits past the last codeword: zeros, masked as the data is.
    lay = layout(version, level)
    n = 8 * sum(total for total, _ in lay.blocks)
    rows, cols = lay.rows[n:], lay.cols[n:]
    matrix[rows, cols] = _MASKS[mask](rows, cols)
    return matrix


@cache
def _drawn(version: int) -> np.ndarray:
    template = segno.make_qr("0", version=version, error="M", mask=0, boost_error=False)
    return np.array(list(template.matrix_iter(scale=1, border=0)), dtype=bool)


@cache
def format_places(version: int) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The two copies of the format information (level and mask): (rows, cols) of each, in the
    order of their bits (ISO/IEC 18004 7.9)."""
    size = 17 + 4 * version
    one = [(8, c) for c in (0, 1, 2, 3, 4, 5, 7, 8)] + [(r, 8) for r in (7, 5, 4, 3, 2, 1, 0)]
    two = [(r, 8) for r in range(size - 1, size - 8, -1)] + [(8, c) for c in range(size - 8, size)]
    return ((np.array([r for r, _ in one]), np.array([c for _, c in one])),
            (np.array([r for r, _ in two]), np.array([c for _, c in two])))


@cache
def format_bits() -> dict[tuple[str, int], tuple[np.ndarray, np.ndarray]]:
    """Each (level, mask)'s format modules, both copies in `format_places` order: the same in
    every version, so read off version 1's codes as segno draws them."""
    places = format_places(1)
    out = {}
    for level in _LEVELS:
        for mask in range(8):
            drawn = segno.make_qr("0", version=1, error=level, mask=mask, boost_error=False)
            matrix = np.array(list(drawn.matrix_iter(scale=1, border=0)), dtype=bool)
            out[level, mask] = (matrix[places[0]], matrix[places[1]])
    return out


@cache
def finder_areas(version: int) -> np.ndarray:
    size = 17 + 4 * version
    areas = np.zeros((size, size), bool)
    areas[:7, :7] = areas[:7, size - 7:] = areas[size - 7:, :7] = True
    return areas


def repaint(gray: np.ndarray, corners: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """`gray` with the code inside `corners` (and its quiet zone) painted as `matrix`."""
    size = matrix.shape[0]
    px = 6
    quiet = np.pad(np.where(matrix, 0, 255).astype(np.uint8), 4, constant_values=255)
    clean = np.repeat(np.repeat(quiet, px, axis=0), px, axis=1)
    grid = np.array([[4, 4], [4 + size, 4], [4 + size, 4 + size], [4, 4 + size]], np.float32) * px
    to_image = cv2.getPerspectiveTransform(grid, corners.astype(np.float32))
    # Only the box the code and its quiet zone cover is warped: a photo is 12 megapixels.
    outline = cv2.perspectiveTransform(np.array([[[0, 0], [clean.shape[1], 0], [clean.shape[1], clean.shape[0]],
                                                  [0, clean.shape[0]]]], np.float32), to_image)[0]
    h, w = gray.shape
    x0, y0 = (max(0, int(v) - 1) for v in outline.min(axis=0))
    x1, y1 = min(w, int(outline[:, 0].max()) + 2), min(h, int(outline[:, 1].max()) + 2)
    out = gray.copy()
    if x1 <= x0 or y1 <= y0:
        return out
    shift = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64) @ to_image
    painted = cv2.warpPerspective(clean, shift, (x1 - x0, y1 - y0), flags=cv2.INTER_AREA, borderValue=0)
    inside = cv2.warpPerspective(np.full_like(clean, 255), shift, (x1 - x0, y1 - y0), flags=cv2.INTER_NEAREST,
                                 borderValue=0) > 0
    out[y0:y1, x0:x1][inside] = painted[inside]
    return out


@dataclass
class _Seen:
    symbol: FailedSymbol
    grid: Grid
    frame: int


class GridMemory:
    """The grids of codes that failed in the last few frames of a camera, so that a code held
    still while a finger or a glare spot moves over it is read from what each frame saw: a
    module hidden in this frame is taken from a recent frame where it was not. Grids are in
    module space, so frames need no aligning; only a code of the same version, level and mask
    at about the same place counts as the same code. A mix of two codes (one pass taken away
    and another held up at once) fails the check rather than reading as either."""

    def __init__(self, frames: int = _MEMORY_FRAMES) -> None:
        self.frames = frames
        self._frame = 0
        self._seen: list[_Seen] = []

    def tick(self) -> None:
        """A new frame: grids older than `frames` are forgotten."""
        self._frame += 1
        self._seen = [s for s in self._seen if self._frame - s.frame <= self.frames]

    def forget(self) -> None:
        self._seen.clear()

    def remember(self, symbol: FailedSymbol, grid: Grid) -> None:
        self._seen.append(_Seen(symbol, grid, self._frame))

    def merged(self, symbol: FailedSymbol, grid: Grid) -> Grid | None:
        """`grid` with its hidden modules filled from the newest frames that saw them; None if
        no earlier frame adds any."""
        dark, lost = grid.dark.copy(), grid.lost.copy()
        side = float(np.linalg.norm(symbol.corners[1] - symbol.corners[0]))
        for seen in reversed(self._seen):
            old = seen.symbol
            if (old.version, old.level, old.mask) != (symbol.version, symbol.level, symbol.mask) \
                    or seen.frame == self._frame \
                    or np.abs(old.corners.mean(axis=0) - symbol.corners.mean(axis=0)).max() > 0.25 * side:
                continue
            fill = lost & ~seen.grid.lost
            dark[fill] = seen.grid.dark[fill]
            lost &= seen.grid.lost
        return None if lost.sum() == grid.lost.sum() else Grid(dark, lost)


def recover(gray: np.ndarray, symbol: FailedSymbol, memory: GridMemory | None = None) -> np.ndarray | None:
    """`gray` with the failed `symbol` painted as its erasures decode, or None if they do not;
    with `memory`, also as they decode with the hidden modules recent frames saw."""
    size = 17 + 4 * symbol.version
    box = _box(gray, symbol.corners, size, 8)
    if box is None:
        return None
    x0, y0, x1, y1 = box
    local = symbol.corners - np.array([x0, y0], np.float32)
    grid = sample(gray[y0:y1, x0:x1], local, size)
    matrix = _either_way(grid, symbol)
    if matrix is None and memory is not None:
        # Only a grid with a good part hidden is worth a second try: a moving phone's blurred
        # frames fail the check by errors, which the memory does not mend, and often.
        merged = memory.merged(symbol, grid) if grid.lost.mean() >= _MEMORY_MIN_LOST else None
        if merged is not None:
            matrix = _either_way(merged, symbol)
        memory.remember(symbol, grid)
    if matrix is None:
        return None
    if memory is not None:
        memory.forget()
    return repaint(gray, symbol.corners, matrix)


def resampled(gray: np.ndarray, symbol: FailedSymbol) -> np.ndarray | None:
    """`gray` with the failed `symbol` painted as it decodes when we read its modules ourselves
    (resample.py: corners fitted to its function patterns, the blur between neighbours undone),
    with its hidden part as erasures; None if it does not decode. Costs 10-20 ms a code (median;
    up to ~75 ms at version 13), mostly the alignment, so the ladder spends it on a frame's first
    two such codes only."""
    size = 17 + 4 * symbol.version
    if not np.isfinite(symbol.corners).all():
        return None
    box = _box(gray, symbol.corners, size, 2 * max(8, int(np.ptp(symbol.corners[:, 0])) // size))  # room to move
    if box is None:
        return None
    x0, y0, x1, y1 = box
    crop = gray[y0:y1, x0:x1]
    ideal = function_modules(symbol.version, symbol.level, symbol.mask)
    known = resample.symmetric(function_patterns(symbol.version))
    corners = resample.fit(crop, symbol.corners - np.array([x0, y0], np.float32), ideal, known)
    if corners is None:
        return None
    ink = resample.darkness(crop, corners, ideal, known)
    if ink is None:
        return None
    matrix = _either_way(Grid(ink > 0.5, sample(crop, corners, size).lost), symbol)
    if matrix is None:
        return None
    return repaint(gray, corners + np.array([x0, y0], np.float32), matrix)


def _box(gray: np.ndarray, corners: np.ndarray, size: int, pad: int) -> tuple[int, int, int, int] | None:
    """The part of `gray` around `corners` with `pad` px more on each side; None when the corners
    are not numbers or leave under a pixel a module (nothing to sample)."""
    if not np.isfinite(corners).all():
        return None
    h, w = gray.shape
    x0, y0 = (max(0, int(v) - pad) for v in corners.min(axis=0))
    x1, y1 = min(w, int(corners[:, 0].max()) + pad + 1), min(h, int(corners[:, 1].max()) + pad + 1)
    if x1 - x0 < size or y1 - y0 < size:
        return None
    return x0, y0, x1, y1


def _either_way(grid: Grid, symbol: FailedSymbol) -> np.ndarray | None:
    matrix = correct(grid, symbol.version, symbol.level, symbol.mask)
    if matrix is None:
        # A mirrored code (a selfie camera's picture, a pass seen through its sheet): zxing-cpp
        # reads it and gives its corners with top-right and bottom-left swapped, so the grid
        # sampled through them is the code transposed. Nothing in the result says which.
        matrix = correct(grid.transposed(), symbol.version, symbol.level, symbol.mask)
        if matrix is not None:
            matrix = matrix.T
    return matrix
