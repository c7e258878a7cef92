"""What the sync parts share: the clock they read and the progress that status() reports.

One small object instead of attributes spread over the client: the session's parts (publisher,
follower, announcer) write it on the loop thread; `SyncClient.status()` reads it from any thread
(each field is one reference, read whole; `set_connected` changes its three fields together).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Clock:
    """Injected so unit tests can move time by hand; the station uses the real clocks."""

    monotonic: Callable[[], float] = time.monotonic
    now: Callable[[], datetime] = utcnow


@dataclass
class SyncProgress:
    clock: Clock = field(default_factory=Clock)
    connected: bool = False
    caught_up: bool = False  # the history the hub held when we subscribed is applied
    applied: int = 0  # stream messages handled since start (applied or skipped echoes)
    remaining: int = 0  # stream messages still to download, as last heard
    last_sync: datetime | None = None
    error: str | None = None  # why sync is not working now (None: it is, or nothing known)
    # Why this station will not sync with the hub it was given (another organisation's): shown
    # as the error until the station is restarted with another hub or data directory.
    refusal: str | None = None
    unreachable_since: float | None = None
    org: str | None = None
    hub_key: str | None = None  # the name this station keeps its progress with the hub under
    # The publisher's progress per hub key (local seq acknowledged), ahead of its checkpoint.
    published: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.unreachable_since = self.clock.monotonic()

    def set_connected(self, connected: bool) -> None:
        with self._lock:
            if connected and not self.connected:
                self.unreachable_since = None
                self.error = None
            elif not connected and self.connected:
                self.unreachable_since = self.clock.monotonic()
                self.caught_up = False
            self.connected = connected

    def synced(self) -> None:
        self.last_sync = self.clock.now()
