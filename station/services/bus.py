"""A plain, thread-safe event bus. Only committed events are published on it.

Subscribers are observers (GUI bridge, webhook sender, sync). They run on the publishing
thread, so each must only hand the event off (emit a Qt signal, wake a worker) and return.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from station.domain.events import Event

log = logging.getLogger(__name__)

T = TypeVar("T")
Subscriber = Callable[[Event], None]


class Observers(Generic[T]):
    """Callbacks told about each published item, on the publishing thread."""

    def __init__(self) -> None:
        self._subscribers: list[Callable[[T], None]] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Callable[[T], None]) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def publish(self, events: Iterable[T]) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for event in events:
            for callback in subscribers:
                try:
                    callback(event)
                except Exception:  # an observer's bug must never fail the scan that was committed
                    log.exception("subscriber %r failed on %s", callback,
                                  getattr(event, "id", type(event).__name__))


class EventBus(Observers[Event]):
    """The committed events of the log."""
