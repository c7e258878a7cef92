"""A pretend camera for a station without one: it shows each given payload as a QR code that
drifts across a slightly noisy scene, with a short empty pause between codes, so a new user
sees scans (accepted, refused, foreign) happen the moment the station starts."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import cv2
import numpy as np

from station.capture.sources import Pacer, SourceInfo, SourceLost, SourceUnavailable
from station.domain.qr_content import make_qr


def qr_image(text: str, module_px: int, border: int = 4) -> np.ndarray:
    """A pass QR as a grey image, as the station prints it (its segments and error level)."""
    rows = make_qr(text).matrix
    mat = np.array([list(r) for r in rows], dtype=np.uint8)
    mat = np.pad(mat, border, constant_values=0)
    img = np.where(mat == 1, 0, 255).astype(np.uint8)
    return cv2.resize(img, None, fx=module_px, fy=module_px, interpolation=cv2.INTER_NEAREST)


class DemoSource:
    name = "demo"

    def __init__(
        self,
        payloads: Sequence[str],
        *,
        width: int = 1280,
        height: int = 720,
        fps: float = 30.0,
        show_s: float = 3.0,
        gap_s: float = 1.5,
        seed: int = 0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not payloads:
            raise ValueError("The demo source needs at least one payload to show.")
        self.payloads = tuple(payloads)
        self.width, self.height, self.fps = width, height, fps
        self.show_s, self.gap_s = show_s, gap_s
        self._seed = seed
        self._clock = clock
        self._pacer = Pacer(fps, clock, sleep)
        self._start: float | None = None
        self._scenes: list[np.ndarray] = []
        self._codes: list[np.ndarray] = []

    def open(self) -> SourceInfo:
        rng = np.random.default_rng(self._seed)
        w, h = self.width, self.height
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        room = 90 + 60 * xx / w + 20 * np.sin(yy / h * math.pi)
        # A few pre-noised scenes reused in turn: fresh noise every frame would cost more CPU
        # than decoding it.
        self._scenes = [
            np.clip(room + rng.normal(0, 6, room.shape), 0, 255).astype(np.uint8) for _ in range(4)
        ]
        self._codes = []
        for text in self.payloads:
            modules = int(make_qr(text).symbol_size(border=4)[0])
            module_px = max(2, min(8, int(h * 0.55) // modules))
            code = qr_image(text, module_px).astype(np.float32)
            code = 25 + code * (215 / 255)  # paper and screens are never pure black and white
            noisy = np.clip(code + rng.normal(0, 8, code.shape), 0, 255).astype(np.uint8)
            if code.shape[0] >= min(w, h):
                raise SourceUnavailable(f"A demo payload of {len(text)} characters does not fit a {w}x{h} frame.")
            self._codes.append(noisy)
        self._start = self._clock()
        return SourceInfo(self.name, w, h, self.fps, live=True)

    def read(self) -> np.ndarray | None:
        if self._start is None:
            raise SourceLost("The demo source is not open.")
        self._pacer.wait()
        t = self._clock() - self._start
        period = self.show_s + self.gap_s
        n = int(t // period)
        scene = self._scenes[int(t * self.fps) % len(self._scenes)].copy()
        into = t - n * period
        if into < self.show_s:
            code = self._codes[n % len(self._codes)]
            ch, cw = code.shape
            # Drift along a slow ellipse, as a hand that is never quite still.
            phase = into / self.show_s * 2 * math.pi
            x = int((self.width - cw) * (0.5 + 0.35 * math.sin(phase + n)))
            y = int((self.height - ch) * (0.5 + 0.3 * math.cos(phase * 0.7 + n)))
            scene[y : y + ch, x : x + cw] = code
        return cv2.cvtColor(scene, cv2.COLOR_GRAY2BGR)

    def close(self) -> None:
        self._start = None
        self._scenes, self._codes = [], []

    def showing(self) -> str | None:
        """The payload in view right now (None during a pause), for tests and a demo banner."""
        if self._start is None:
            return None
        t = self._clock() - self._start
        period = self.show_s + self.gap_s
        n = int(t // period)
        return self.payloads[n % len(self.payloads)] if t - n * period < self.show_s else None
