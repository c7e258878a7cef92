"""Wires a frame source through the capture loop into ScanService (composition, like app.py).

Lives beside app.py at the top layer because it joins capture (frames, decoding, debounce) and
services (the verdict), which must not know each other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from station.app import Core
from station.capture.camera import CameraSource
from station.capture.debounce import DebounceConfig, Debouncer
from station.capture.demo_source import DemoSource
from station.capture.loop import CaptureLoop, CaptureStatus
from station.capture.sources import FrameSource, ImageFolderSource, VideoFileSource
from station.domain.door import NO_LIST, Door
from station.domain.errors import InvalidInput, StationError, StorageError
from station.domain.models import PassStatus
from station.services.scans import ScanResult

log = logging.getLogger(__name__)

ResultSink = Callable[[ScanResult], None]


def demo_payloads(core: Core) -> list[str]:
    """What the demo camera shows: the demo passes, plus a forged and a foreign code."""
    passes = core.passes.list(limit=50).items
    payloads = [p.public_url for p in passes if p.status in (PassStatus.ACTIVE, PassStatus.REVOKED)]
    if passes:
        # An altered token (bad_signature): format 2 is digits, format 1 base64url.
        url = passes[0].public_url
        payloads.append(url[:-6] + ("000000" if url[-6:].isdigit() else "AAAAAA"))
    payloads.append("https://tickets.other-event.example/p/Zz9Yy8Xx7Ww6?token=x")
    return payloads


def open_source(spec: str, core: Core) -> FrameSource:
    """`demo`, a camera index or device path, a video file, or a folder of images."""
    if spec == "demo":
        return DemoSource(demo_payloads(core))
    if spec.isdigit():
        return CameraSource(int(spec))
    path = Path(spec)
    if spec.startswith("/dev/"):
        return CameraSource(spec)
    if path.is_dir():
        return ImageFolderSource(path)
    if path.is_file():
        return VideoFileSource(path)
    raise InvalidInput(
        f"{spec!r} is not a camera, video file or image folder; use a camera number like 0, "
        "a /dev/video path, a file, a folder, or 'demo'."
    )


class ScanPipeline:
    """A station part: frames in, recorded verdicts out."""

    def __init__(self, core: Core, source: FrameSource, *, on_result: ResultSink | None = None,
                 on_status: Callable[[CaptureStatus], None] | None = None,
                 debounce: DebounceConfig | None = None, door: Door = NO_LIST) -> None:
        self._core = core
        self._door = door  # its list and direction (station serve --list, --direction)
        self._on_result = on_result
        self.loop = CaptureLoop(source, self.submit, debouncer=Debouncer(debounce),
                                on_status=on_status)

    def submit(self, text: str, source: str) -> None:
        try:
            result = self._core.scans.submit(text, source, door=self._door, wait_merged=False)
        except InvalidInput as exc:
            log.info("ignored a code that cannot be a pass: %s", exc)
            return
        except StorageError as exc:  # the disk refused it: the sentence, not a traceback
            log.warning("%s", exc)
            return
        except StationError:
            log.exception("could not record a scan")
            return
        if self._on_result is not None:
            self._on_result(result)

    def start(self) -> None:
        self.loop.start()

    def stop(self) -> None:
        self.loop.stop()
