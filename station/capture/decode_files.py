"""Decode image files without recording a scan (`station decode`, and checking printed passes)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.capture import machine_pace
from station.capture.decoders import make_decoder
from station.capture.detection import Detection
from station.capture.ladder import DecodeLadder
from station.capture.sources import read_image

# Files are not a live stream: give each the whole ladder rather than a frame's budget. In the
# development machine's ms: scaled by this machine's measured slowness (machine_pace.py).
FILE_BUDGET_MS = 500.0


def file_ladder(engine: str = "zxing", budget_ms: float = FILE_BUDGET_MS, slowness: float | None = None,
                clock: Callable[[], float] = time.process_time, **options: Any) -> DecodeLadder:
    """The ladder `station decode` runs on a file: every rung, every code, and a budget that
    buys the same rungs on a slow or busy machine as on a fast idle one: `budget_ms` times the
    machine's slowness (measured once per process unless given), on the process's CPU clock, so
    other processes' load does not eat it. `options` go to `DecodeLadder` (the benchmarks'
    rungs left out, erasures off); `clock` is for tests."""
    pace = machine_pace.slowness() if slowness is None else slowness
    return DecodeLadder(make_decoder(engine), budget_ms=budget_ms * pace, clock=clock,
                        every_code=True, **options)


@dataclass(frozen=True, slots=True)
class FileResult:
    path: str
    detections: tuple[Detection, ...]
    ms: float  # decode time only, not loading the file
    error: str | None = None  # set when the file could not be read as an image

    def to_json(self) -> dict[str, object]:
        return {"file": self.path, "codes": [d.to_json() for d in self.detections], "ms": round(self.ms, 3)}


def decode_file(path: str | Path, ladder: DecodeLadder, clock: Callable[[], float] = time.perf_counter) -> FileResult:
    p = Path(path)
    if not p.exists():
        return FileResult(str(path), (), 0.0, f"{path}: no such file")
    if p.is_dir():
        return FileResult(str(path), (), 0.0, f"{path}: is a folder, not an image")
    image = read_image(p)
    if image is None:
        return FileResult(str(path), (), 0.0, f"{path}: not a readable image (PNG, JPEG, BMP, WebP, TIFF)")
    start = clock()
    result = ladder.decode(image)
    return FileResult(str(path), result.detections, (clock() - start) * 1000.0)


def decode_files(
    paths: Iterable[str | Path], engine: str = "zxing", budget_ms: float = FILE_BUDGET_MS
) -> Iterator[FileResult]:
    ladder = file_ladder(engine, budget_ms)
    for path in paths:
        yield decode_file(path, ladder)
