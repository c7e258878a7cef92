"""Keyboard-wedge scanners: a handheld scanner "types" its payload far faster than a person.

Characters that arrive less than `max_gap_s` apart form a burst; a burst ends with Enter or,
for scanners configured without a suffix, after `idle_timeout_s` of silence. Slow typing is a
person: it is kept until Enter and then reported as manual entry.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from station.capture.debounce import HID, MANUAL, PayloadSink

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class BurstConfig:
    max_gap_s: float = 0.08  # scanners send a key every 1-30 ms; people every 100-300 ms
    idle_timeout_s: float = 0.15  # silence that ends an Enter-less burst
    min_burst_chars: int = 4  # shorter fast runs (a double-tap, a shortcut) are not scans


class KeystrokeBurstParser:
    """Feed it key presses (`key`, `enter`, `backspace`) and call `poll` every ~50 ms; it calls
    `on_payload(text, "hid" | "manual")` once per complete payload. Thread-safe."""

    def __init__(self, on_payload: PayloadSink, config: BurstConfig | None = None, clock: Clock = time.monotonic) -> None:
        self.config = config or BurstConfig()
        self._on_payload = on_payload
        self._clock = clock
        self._lock = threading.Lock()
        self._chars: list[str] = []
        self._last = 0.0
        self._fast = True  # every gap in the buffer so far was scanner-fast

    def key(self, char: str) -> None:
        if len(char) != 1 or not char.isprintable():
            return  # modifiers, arrows, control characters: not part of a payload
        now = self._clock()
        out = None
        with self._lock:
            if self._chars and now - self._last > self.config.max_gap_s:
                if self._fast and len(self._chars) >= self.config.min_burst_chars:
                    out = self._take()  # a suffix-less scan, then new keys begin
                else:
                    self._fast = False  # someone is typing
            self._chars.append(char)
            self._last = now
        if out:
            self._on_payload(out, HID)

    def backspace(self) -> None:
        with self._lock:
            if self._chars:
                self._chars.pop()
                self._fast = False  # scanners do not correct themselves

    def enter(self) -> None:
        now = self._clock()
        with self._lock:
            if not self._chars:
                return
            fast = self._fast and now - self._last <= self.config.max_gap_s
            source = HID if fast and len(self._chars) >= self.config.min_burst_chars else MANUAL
            text = self._take()
        if text:
            self._on_payload(text, source)

    def poll(self) -> None:
        """End a burst whose scanner sends no Enter; a person's half-typed code is left alone."""
        now = self._clock()
        with self._lock:
            if (
                self._chars
                and self._fast
                and len(self._chars) >= self.config.min_burst_chars
                and now - self._last > self.config.idle_timeout_s
            ):
                text = self._take()
            else:
                return
        if text:
            self._on_payload(text, HID)

    def pending(self) -> str:
        with self._lock:
            return "".join(self._chars)

    def _take(self) -> str:
        text = "".join(self._chars).strip()
        self._chars.clear()
        self._fast = True
        return text
