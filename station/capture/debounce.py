"""Turn a stream of sightings into scans: confirm a camera code over a few frames, then ignore
the same code for a cooldown, so a guest holding up a phone produces exactly one scan."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

Clock = Callable[[], float]
PayloadSink = Callable[[str, str], None]  # (text, source) with source "camera" | "hid" | "manual"

CAMERA, HID, MANUAL = "camera", "hid", "manual"


@dataclass(frozen=True, slots=True)
class DebounceConfig:
    # A code must be read in this many frames within the window before it counts: one frame of
    # a code swept past the lens (a guest walking by with a pass on a lanyard) is not a scan.
    confirm_frames: int = 2
    confirm_window_s: float = 0.5
    # After a scan the same code is ignored for this long (pretix uses 5 s and 2.5 s). For the
    # camera it counts from the last frame the code was seen in, so holding it up longer never
    # produces a second scan.
    camera_cooldown_s: float = 5.0
    hid_cooldown_s: float = 2.5
    manual_cooldown_s: float = 0.0  # a person who typed a code and pressed Enter meant it

    def cooldown(self, source: str) -> float:
        return {CAMERA: self.camera_cooldown_s, HID: self.hid_cooldown_s}.get(source, self.manual_cooldown_s)


class Debouncer:
    """Thread-safe: the capture thread reports frames while the GUI thread offers HID input."""

    def __init__(self, config: DebounceConfig | None = None, clock: Clock = time.monotonic) -> None:
        self.config = config or DebounceConfig()
        self._clock = clock
        self._lock = threading.Lock()
        self._sightings: dict[str, list[float]] = {}
        self._quiet_until: dict[str, float] = {}

    def frame(self, texts: Iterable[str]) -> list[str]:
        """Codes read in one camera frame; returns those that become scans now."""
        now = self._clock()
        cfg = self.config
        accepted = []
        with self._lock:
            self._forget(now)
            for text in dict.fromkeys(texts):  # a code twice in one frame is one sighting
                if self._quiet_until.get(text, -1.0) > now:
                    self._quiet_until[text] = max(self._quiet_until[text], now + cfg.camera_cooldown_s)
                    continue
                seen = [t for t in self._sightings.get(text, []) if now - t <= cfg.confirm_window_s]
                seen.append(now)
                if len(seen) >= cfg.confirm_frames:
                    self._sightings.pop(text, None)
                    self._quiet_until[text] = now + cfg.camera_cooldown_s
                    accepted.append(text)
                else:
                    self._sightings[text] = seen
        return accepted

    def offer(self, text: str, source: str) -> bool:
        """A whole payload from a handheld scanner or typed in: True if it is a new scan."""
        now = self._clock()
        with self._lock:
            self._forget(now)
            if self._quiet_until.get(text, -1.0) > now:
                return False
            self._quiet_until[text] = now + self.config.cooldown(source)
            return True

    def _forget(self, now: float) -> None:
        # Keep the maps small on a station that runs all day.
        for text in [t for t, until in self._quiet_until.items() if until <= now]:
            del self._quiet_until[text]
        window = self.config.confirm_window_s
        for text in [t for t, seen in self._sightings.items() if now - seen[-1] > window]:
            del self._sightings[text]


class DebouncedSink:
    """Wraps the scan callback so HID and manual payloads pass the same cooldown as camera ones."""

    def __init__(self, debouncer: Debouncer, on_payload: PayloadSink) -> None:
        self._debouncer = debouncer
        self._on_payload = on_payload

    def __call__(self, text: str, source: str) -> None:
        if self._debouncer.offer(text, source):
            self._on_payload(text, source)
