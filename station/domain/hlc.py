"""Hybrid logical clock: orders events across stations whose wall clocks disagree.

A stamp is (wall milliseconds, counter). It never goes backwards on one station, and a
station that receives a stamp from the future moves past it, so cause precedes effect.
Stamps serialise to a fixed-width string that sorts in the same order as the tuple.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from station.domain.errors import InvalidInput


@dataclass(frozen=True, order=True, slots=True)
class Stamp:
    wall_ms: int
    counter: int

    def encode(self) -> str:
        return f"{self.wall_ms:015d}.{self.counter:06d}"

    @classmethod
    def decode(cls, text: str) -> Stamp:
        try:
            wall, counter = text.split(".")
            stamp = cls(int(wall), int(counter))
        except ValueError:
            raise InvalidInput(f"{text[:30]!r} is not a clock stamp.") from None
        if stamp.wall_ms < 0 or stamp.counter < 0 or len(text) != 22:
            raise InvalidInput(f"{text[:30]!r} is not a clock stamp.")
        return stamp


class HybridClock:
    """Thread-safe HLC. `wall` returns milliseconds since the epoch (injected for tests)."""

    def __init__(self, wall: Callable[[], int], last: Stamp | None = None) -> None:
        self._wall = wall
        self._last = last or Stamp(0, 0)
        self._lock = threading.Lock()

    @property
    def last(self) -> Stamp:
        return self._last

    def now(self) -> Stamp:
        with self._lock:
            wall = self._wall()
            if wall > self._last.wall_ms:
                self._last = Stamp(wall, 0)
            else:
                self._last = Stamp(self._last.wall_ms, self._last.counter + 1)
            return self._last

    def observe(self, remote: Stamp) -> Stamp:
        """Merge a stamp seen on another station's event."""
        with self._lock:
            wall = self._wall()
            top = max(wall, self._last.wall_ms, remote.wall_ms)
            if top == self._last.wall_ms == remote.wall_ms:
                counter = max(self._last.counter, remote.counter) + 1
            elif top == self._last.wall_ms:
                counter = self._last.counter + 1
            elif top == remote.wall_ms:
                counter = remote.counter + 1
            else:
                counter = 0
            self._last = Stamp(top, counter)
            return self._last
