"""Where frames come from, behind one interface: cameras, video files, image folders, the demo.

`open()` says what the source actually delivers; `read()` returns the next frame (BGR or grey
uint8), None when a finite source has ended, and raises SourceLost when a live source vanished
(the capture loop then re-opens it until it returns).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm"})


class SourceError(Exception):
    """Base for frame-source problems that are about the environment, not bugs."""


class SourceUnavailable(SourceError):
    """The source cannot be opened now (no such camera, busy, unplugged, unreadable file)."""


class SourceLost(SourceError):
    """A live source stopped delivering frames (camera unplugged or taken by another program)."""


@dataclass(frozen=True, slots=True)
class SourceInfo:
    name: str
    width: int
    height: int
    fps: float  # what the source says it delivers (0.0 when it does not know)
    live: bool  # a camera (frames arrive in real time) rather than a file


class FrameSource(Protocol):
    name: str

    def open(self) -> SourceInfo: ...

    def read(self) -> np.ndarray | None: ...

    def close(self) -> None: ...


def read_image(path: str | Path) -> np.ndarray | None:
    """cv2.imread that also works for non-ASCII paths on Windows; None if not an image. A picture
    with transparency (a QR saved from a generator with a transparent background) comes back
    flattened onto a background the code stands out from: read as plain colour, its transparent
    pixels are whatever colour they hide, black for most tools, and the code vanishes into them."""
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError:
        return None
    if data.size == 0:
        return None
    if not _may_have_alpha(data[:16].tobytes()):
        return cv2.imdecode(data, cv2.IMREAD_COLOR)  # applies a photo's EXIF orientation
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    return None if image is None else _flatten(image)


def _may_have_alpha(head: bytes) -> bool:
    """PNG, WebP and TIFF can carry an alpha channel (JPEG, BMP and PNM pictures are read as colour)."""
    return (head.startswith(b"\x89PNG") or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
            or head[:4] in (b"II*\x00", b"MM\x00*"))


def _flatten(image: np.ndarray) -> np.ndarray | None:
    """8-bit BGR from what IMREAD_UNCHANGED gives: grey or colour, 8 or 16 bits or float, with
    or without alpha. Transparent pixels become white under dark ink and black under light ink
    (a light code on transparent, meant for a dark page, then reads as an inverted code)."""
    if image.dtype == np.uint16:
        image = (image // 257).astype(np.uint8)
    elif image.dtype.kind == "f":
        image = (np.clip(np.nan_to_num(image), 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    elif image.dtype != np.uint8:
        return None
    if image.ndim == 2:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR))
    channels = image.shape[2]
    if channels == 3:
        return image
    if channels not in (2, 4):
        return None
    colour = cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2BGR) if channels == 2 else image[:, :, :3]
    alpha = image[:, :, -1]
    if alpha.min() == 255:
        return np.ascontiguousarray(colour)
    ink = cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY)[alpha > 127]
    ground = 0.0 if ink.size and float(ink.mean()) > 127 else 255.0
    a = alpha.astype(np.float32)[:, :, None] / 255.0
    flat: np.ndarray = (colour.astype(np.float32) * a + ground * (1.0 - a) + 0.5).astype(np.uint8)
    return flat


class Pacer:
    """Hands out frames of a file source no faster than its frame rate, as a camera would."""

    def __init__(self, fps: float, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self._period = 1.0 / fps if fps > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._due: float | None = None

    def wait(self) -> None:
        if not self._period:
            return
        now = self._clock()
        if self._due is None or now - self._due > 1.0:  # first frame, or we fell far behind
            self._due = now
        elif self._due > now:
            self._sleep(self._due - now)
        self._due += self._period


class VideoFileSource:
    def __init__(
        self,
        path: str | Path,
        *,
        loop: bool = False,
        realtime: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.path = Path(path)
        self.name = f"video {self.path.name}"
        self.loop = loop
        self._realtime = realtime
        self._clock, self._sleep = clock, sleep
        self._cap: cv2.VideoCapture | None = None
        self._pacer: Pacer | None = None

    def open(self) -> SourceInfo:
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            raise SourceUnavailable(f"Cannot open the video {self.path}: missing or not a video file.")
        self._cap = cap
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self._pacer = Pacer(fps if self._realtime else 0.0, self._clock, self._sleep)
        w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        return SourceInfo(self.name, w, h, fps, live=False)

    def read(self) -> np.ndarray | None:
        if self._cap is None:
            raise SourceLost(f"{self.name} is not open.")
        assert self._pacer is not None
        self._pacer.wait()
        ok, frame = self._cap.read()
        if not ok and self.loop:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._cap.read()
        return frame if ok else None

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class ImageFolderSource:
    """Every image in a folder (sorted by name), shown `fps` times a second."""

    def __init__(
        self,
        folder: str | Path,
        *,
        fps: float = 5.0,
        loop: bool = False,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.folder = Path(folder)
        self.name = f"folder {self.folder.name}"
        self.fps = fps
        self.loop = loop
        self._pacer = Pacer(fps, clock, sleep)
        self._files: list[Path] = []
        self._next = 0

    def open(self) -> SourceInfo:
        if not self.folder.is_dir():
            raise SourceUnavailable(f"{self.folder} is not a folder.")
        self._files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self._files:
            raise SourceUnavailable(f"{self.folder} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}).")
        self._next = 0
        first = read_image(self._files[0])
        h, w = first.shape[:2] if first is not None else (0, 0)
        return SourceInfo(self.name, w, h, self.fps, live=False)

    def read(self) -> np.ndarray | None:
        while True:
            if self._next >= len(self._files):
                if not self.loop or not self._files:
                    return None
                self._next = 0
            path = self._files[self._next]
            self._next += 1
            image = read_image(path)
            if image is not None:
                self._pacer.wait()
                return image
            log.warning("Skipping %s: not a readable image", path)

    def close(self) -> None:
        self._files = []
