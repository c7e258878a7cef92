"""Bus → Qt: committed events from any thread become batches delivered on the GUI thread.

The bus calls subscribers on the publishing thread (a scan worker, the sweeper, later the
network thread), which must hand off and return fast. Events are appended to a buffer under a
lock; the first one into an empty buffer schedules one queued wake-up, and the GUI thread
drains everything that arrived meanwhile as one batch. A CSV import of 100k passes therefore
costs the GUI a handful of batches, not 100k signal deliveries.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal

MAX_BATCH = 5000


class EventBridge(QObject):
    # list[Event] (or of what else the bus carries: the scan view bridges ScanResults), oldest
    # first, on the GUI thread
    events = Signal(list)
    _wake = Signal()

    def __init__(self, subscribe: Callable[[Callable[[object], None]], Callable[[], None]],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._buffer: list[object] = []
        # Always queued, even when the publisher is the GUI thread: subscribers must return fast.
        self._wake.connect(self._drain, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe: Callable[[], None] | None = subscribe(self._on_event)

    def _on_event(self, event: object) -> None:
        with self._lock:
            first = not self._buffer
            self._buffer.append(event)
        if first:
            self._wake.emit()

    def _drain(self) -> None:
        with self._lock:
            batch, self._buffer = self._buffer[:MAX_BATCH], self._buffer[MAX_BATCH:]
            more = bool(self._buffer)
        if batch:
            self.events.emit(batch)
        if more:
            QTimer.singleShot(0, self._drain)  # let the event loop breathe between big batches

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
