"""OpenCV cameras: open one at a requested resolution and rate, and list those present."""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from station.capture.sources import SourceInfo, SourceLost, SourceUnavailable

log = logging.getLogger(__name__)


def quiet_opencv() -> None:
    """Silence OpenCV's own log (it writes to stderr, not to ours): without a camera it prints
    "can't open camera by index" on every attempt. The capture loop logs one line per outage
    instead. OPENCV_LOG_LEVEL, when set, wins (to debug a camera); opencv-python-headless 4.x
    reads it only when cv2 is first imported, so the level is set here at run time
    (docs/measured-facts.md, "Cameras and the window system")."""
    if "OPENCV_LOG_LEVEL" not in os.environ:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


@dataclass(frozen=True, slots=True)
class CameraInfo:
    device: int | str  # what CameraSource accepts: an index, or a device path on Linux
    name: str


class CameraSource:
    def __init__(self, device: int | str = 0, *, width: int = 1280, height: int = 720, fps: float = 30.0) -> None:
        self.device = device
        self.name = f"camera {device}"
        self.requested = (width, height, fps)
        self._cap: cv2.VideoCapture | None = None
        self._failures = 0
        quiet_opencv()

    def open(self) -> SourceInfo:
        self.close()
        cap = cv2.VideoCapture(self.device)
        if not cap.isOpened():
            cap.release()
            raise SourceUnavailable(f"Camera {self.device} is not available (unplugged, or used by another program).")
        width, height, fps = self.requested
        # MJPG first: most USB webcams deliver 720p at 30 fps only compressed (raw YUYV
        # tops out at ~10 fps over USB 2).
        cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*"MJPG"))
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        cap.set(cv2.CAP_PROP_FPS, fps)
        # A one-frame driver buffer keeps frames fresh where the backend honours it.
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        got = SourceInfo(
            self.name,
            int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            float(cap.get(cv2.CAP_PROP_FPS) or 0.0),
            live=True,
        )
        if (got.width, got.height) != (width, height):
            log.info("%s: asked for %dx%d, got %dx%d", self.name, width, height, got.width, got.height)
        self._cap = cap
        self._failures = 0
        return got

    def read(self) -> np.ndarray | None:
        if self._cap is None:
            raise SourceLost(f"{self.name} is not open.")
        ok, frame = self._cap.read()
        if ok and frame is not None:
            self._failures = 0
            return frame
        # One failed grab can be a hiccup; several in a row mean the camera is gone.
        self._failures += 1
        if self._failures >= 3:
            raise SourceLost(f"{self.name} stopped delivering frames (unplugged?).")
        return self.read()

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


def list_cameras(max_index: int = 8) -> list[CameraInfo]:
    """The cameras present. On Linux from /sys (no device is opened, so a camera in use by the
    capture loop is still listed); elsewhere by trying indexes 0..max_index-1."""
    if sys.platform.startswith("linux"):
        return _linux_cameras()
    quiet_opencv()
    found = []
    for index in range(max_index):
        cap = cv2.VideoCapture(index)
        try:
            if cap.isOpened():
                found.append(CameraInfo(index, f"Camera {index}"))
        finally:
            cap.release()
    return found


def _linux_cameras(sys_root: Path = Path("/sys/class/video4linux")) -> list[CameraInfo]:
    found: list[CameraInfo] = []
    if not sys_root.is_dir():
        return found
    for node in sorted(sys_root.iterdir(), key=lambda p: int("".join(c for c in p.name if c.isdigit()) or 0)):
        # A UVC webcam registers two nodes (video + metadata); only index 0 of a device captures.
        index_file = node / "index"
        try:
            if index_file.exists() and index_file.read_text().strip() != "0":
                continue
            name = (node / "name").read_text().strip()
        except OSError:
            continue
        found.append(CameraInfo(f"/dev/{node.name}", name or node.name))
    return found
