"""The camera in the window: the capture loop's threads grab and decode; this turns what they
report into Qt signals. Preview frames are scaled down and converted to QImage on the capture
thread and throttled, so the GUI thread only paints; payloads go to the scan lane through the
GUI thread (one ordered queue for camera, scanner and keyboard)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from station.capture.camera import CameraInfo, CameraSource, list_cameras
from station.capture.debounce import DebounceConfig, Debouncer
from station.capture.decoders import make_decoder
from station.capture.demo_source import DemoSource
from station.capture.detection import Detection
from station.capture.ladder import DecodeLadder
from station.capture.sequence import SequenceReader
from station.capture.loop import CaptureLoop, CaptureState, CaptureStatus
from station.capture.sources import FrameSource
from station.ui.settings import UiSettings

log = logging.getLogger(__name__)

PREVIEW_WIDTH = 960  # the preview is at most this wide; decoding keeps the full frame
PREVIEW_FPS = 15.0


def camera_source(settings: UiSettings) -> FrameSource | None:
    if settings.camera == "none":
        return None
    device: int | str = int(settings.camera) if settings.camera.isdigit() else settings.camera
    width, height = settings.size
    return CameraSource(device, width=width, height=height)


def camera_choices(current: str, found: list[CameraInfo] | None = None) -> list[tuple[str, str]]:
    """(stored value, label) for each camera in the Settings list: a name a person recognises,
    never a bare "0". The stored value stays what CameraSource takes (an index or a device
    path); the chosen `current` value is always in the list, marked when it is not plugged in.
    Lists devices (opening them where /sys cannot tell): call it off the GUI thread."""
    cameras = list_cameras() if found is None else found
    by_path = {str(c.device): c for c in cameras}
    choices: list[tuple[str, str]] = []
    for camera in cameras:
        device = str(camera.device)
        if isinstance(camera.device, int):
            label = f"Camera {camera.device + 1}"
        else:
            label = f"{camera.name} ({device})" if camera.name and camera.name != device else device
        choices.append((device, label))
    if current == "none" or current in by_path:
        return choices
    # An index names the same camera as /dev/videoN on Linux: show it under that device's name.
    path = f"/dev/video{current}" if current.isdigit() else None
    if path is not None and path in by_path:
        return [(current, label) if value == path else (value, label) for value, label in choices]
    if current.isdigit():
        missing = f"Camera {int(current) + 1} (not found now)"
    else:
        missing = f"{current} (not found now)"
    return [*choices, (current, missing)]


def demo_camera(passes: Any) -> DemoSource:
    """The demo camera showing the demo passes (reads the store: call it off the GUI thread)."""
    return demo_source(list(reversed(passes.list(limit=50).items)))


def to_qimage(frame: np.ndarray, detections: tuple[Detection, ...]) -> tuple[QImage, list[list[tuple[float, float]]]]:
    """A preview-sized copy of the frame and the outlines in its coordinates."""
    h, w = frame.shape[:2]
    scale = min(1.0, PREVIEW_WIDTH / w) if w else 1.0
    small = cv2.resize(frame, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA) \
        if scale < 1.0 else frame
    small = np.ascontiguousarray(small)
    sh, sw = small.shape[:2]
    if small.ndim == 2:
        image = QImage(small.data, sw, sh, small.strides[0], QImage.Format.Format_Grayscale8).copy()
    else:
        image = QImage(small.data, sw, sh, small.strides[0], QImage.Format.Format_BGR888).copy()
    outlines = [[(x * scale, y * scale) for x, y in d.corners] for d in detections if d.corners]
    return image, outlines


class CaptureController(QObject):
    frame = Signal(QImage, list)  # preview image, outlines (lists of (x, y))
    status = Signal(object)  # CaptureStatus
    payload = Signal(str, str)  # text, source ("camera")

    def __init__(self, debounce: DebounceConfig | None = None, decoder: str = "zxing",
                 parent: QObject | None = None, preview_fps: float = PREVIEW_FPS) -> None:
        super().__init__(parent)
        self.debouncer = Debouncer(debounce)
        self._decoder = decoder
        self._period = 1.0 / preview_fps
        self._last_frame = 0.0
        self._lock = threading.Lock()
        self.loop: CaptureLoop | None = None
        self.frames_sent = 0
        self.reopen_delay_s = 1.0  # first retry of a lost camera (then less often: CaptureLoop)

    @property
    def running(self) -> bool:
        return self.loop is not None

    def start(self, source: FrameSource) -> None:
        self.stop()
        try:
            ladder = SequenceReader(DecodeLadder(make_decoder(self._decoder)))
        except (ValueError, RuntimeError) as exc:  # zbar missing: fall back to the default
            log.warning("decoder %s unavailable (%s); using zxing", self._decoder, exc)
            ladder = SequenceReader(DecodeLadder())
        self.loop = CaptureLoop(source, self._on_payload, decoder=ladder, debouncer=self.debouncer,
                                on_status=self._on_status, on_frame=self._on_frame,
                                reopen_delay_s=self.reopen_delay_s)
        self.loop.start()

    def stop(self) -> None:
        loop, self.loop = self.loop, None
        if loop is not None:
            unblock = getattr(loop.source, "unblock", None)
            if callable(unblock):
                unblock()
            loop.stop()

    def apply(self, settings: UiSettings, make_source: Callable[[UiSettings], FrameSource | None]) -> None:
        """New camera, resolution, decoder or cooldowns: restart the loop with them."""
        self._decoder = settings.decoder
        config = self.debouncer.config
        self.debouncer.config = DebounceConfig(config.confirm_frames, config.confirm_window_s,
                                               settings.camera_cooldown_s, settings.hid_cooldown_s,
                                               config.manual_cooldown_s)
        source = make_source(settings)
        if source is None:
            self.stop()
            self.status.emit(CaptureStatus(state=CaptureState.OFF))
        else:
            self.start(source)

    # --- called on the capture loop's threads ----------------------------------------------
    def _on_payload(self, text: str, source: str) -> None:
        self.payload.emit(text, source)

    def _on_status(self, status: CaptureStatus) -> None:
        self.status.emit(status)

    def _on_frame(self, frame: np.ndarray, detections: tuple[Detection, ...]) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last_frame < self._period and not detections:
                return  # throttled: the decoder may run at 30 fps, the eye needs 15
            self._last_frame = now
        image, outlines = to_qimage(frame, detections)
        self.frames_sent += 1
        self.frame.emit(image, outlines)


FOREIGN = "https://tickets.other-event.example/p/Zz9Yy8Xx7Ww6?token=x"


def demo_payloads(passes: list[object]) -> list[str]:
    """What the demo camera shows: the demo passes, admissible ones and refused ones (revoked,
    expired, not yet valid) taking turns so every kind of verdict appears in the first minute,
    then a code from another event. (The same pass twice in a row would fall inside the
    camera cooldown and be ignored, as at a real door.)"""
    good = [p for p in passes if str(getattr(p, "status", "")) == "active"
            and not getattr(p, "valid_from", None)]
    bad = [p for p in passes if p not in good]
    order: list[object] = []
    for i in range(max(len(good), len(bad))):
        order += good[i:i + 1] + bad[i:i + 1]
    return [str(getattr(p, "public_url")) for p in order] + [FOREIGN]


def demo_source(passes: list[object]) -> DemoSource:
    return DemoSource(demo_payloads(passes))
