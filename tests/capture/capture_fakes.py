"""Test doubles for the capture package: a clock, a scripted frame source, a scripted decoder.
(Named capture_fakes, not fakes, so it cannot shadow the suite's shared tests/fakes.py.)"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

import numpy as np
import zxingcpp

from station.capture.decoders import Attempt, ZxingDecoder
from station.capture.detection import Detection
from station.capture.ladder import LadderResult
from station.capture.sources import SourceInfo, SourceLost, SourceUnavailable
from tests.waiting import wait_until  # noqa: F401  (the capture tests import it from here)

STEP_S = 0.002  # what one decoder call "costs" on the StepClock


class StepClock:
    """A clock that only CountingDecoder moves: a camera reader's budgets then count decoder
    calls, and what it does on a frame never depends on how busy the test machine is. A ladder
    on it takes `pace=1.0`: the rungs' prior costs as they are, not scaled by this machine's
    slowness (its ms are no machine's)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class CountingDecoder(ZxingDecoder):
    """zxing-cpp, counting its calls and advancing the fake clock by a fixed step per call."""

    def __init__(self, clock: StepClock) -> None:
        super().__init__()
        self.clock = clock
        self.calls = 0

    def decode(self, gray: np.ndarray) -> Attempt:
        self.calls += 1
        self.clock.now += STEP_S
        return super().decode(gray)


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    sleep = advance  # a source that "waits" for its next frame just moves time on


LOST = object()


def numbered_frame(n: int) -> np.ndarray:
    """A tiny frame that carries its own number, so a test can tell which frame was decoded."""
    frame = np.zeros((4, 4), np.uint8)
    frame[0, 0], frame[0, 1] = n // 256, n % 256
    return frame


def frame_number(frame: np.ndarray) -> int:
    return int(frame[0, 0]) * 256 + int(frame[0, 1])


class ScriptedSource:
    """Frames are pushed by the test; LOST makes read() raise SourceLost (camera unplugged);
    while `available` is False, open() fails as for a camera that is not plugged in."""

    name = "scripted"

    def __init__(self) -> None:
        self.frames: queue.Queue[object] = queue.Queue()
        self.available = True
        self.opens = 0
        self.failed_opens = 0
        self.closes = 0
        self.delivered = 0
        self.is_open = False
        self.unplugged_for_good = threading.Event()

    def unblock(self) -> None:
        """End a blocked read() so the loop can stop (a real camera returns every 1/fps s)."""
        self.unplugged_for_good.set()

    def push(self, *items: object) -> None:
        for item in items:
            self.frames.put(item)

    def open(self) -> SourceInfo:
        if not self.available:
            self.failed_opens += 1
            raise SourceUnavailable("Camera scripted is not available (unplugged).")
        self.opens += 1
        self.is_open = True
        return SourceInfo(self.name, 4, 4, 30.0, live=True)

    def read(self) -> np.ndarray | None:
        while True:
            try:
                item = self.frames.get(timeout=0.05)
            except queue.Empty:
                if self.unplugged_for_good.is_set():
                    raise SourceLost("scripted is gone for good") from None
                continue  # like a camera waiting for its next frame
            if item is LOST:
                raise SourceLost("scripted stopped delivering frames (unplugged?).")
            if item is None:
                return None
            self.delivered += 1
            assert isinstance(item, np.ndarray)
            return item

    def close(self) -> None:
        self.closes += 1
        self.is_open = False


class ScriptedDecoder:
    """Reads whatever `texts_for(frame_number)` says; can hold a frame until released."""

    def __init__(self, texts_for: Callable[[int], list[str]] = lambda n: []) -> None:
        self.texts_for = texts_for
        self.decoded: list[int] = []
        self.hold = threading.Event()
        self.hold.set()
        self.entered = threading.Event()

    def decode(self, frame: np.ndarray) -> LadderResult:
        n = frame_number(frame)
        self.entered.set()
        self.hold.wait(10)
        self.decoded.append(n)
        found = tuple(Detection(t, "QRCode", ((0, 0), (1, 0), (1, 1), (0, 1))) for t in self.texts_for(n))
        return LadderResult(found, "plain" if found else None, ("plain",), 1.0)




class QrFamilyDecoder(ZxingDecoder):
    """The station's zxing decoder as it was before issue 13: zxing-cpp 3's whole QR family,
    Micro QR and rMQR included. The false-read tests compare the station's read rate with it."""

    name = "zxing-qr-family"

    def __init__(self) -> None:
        self._formats = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
