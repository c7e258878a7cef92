"""Running work off the GUI thread and getting the result back on it.

`TaskRunner.run(fn, on_done, on_error)` executes `fn()` on a QThreadPool; the callbacks run on
the GUI thread. The runner is a QObject living on the GUI thread and its `_finished` signal is
emitted from the pool thread, so Qt queues the delivery (a cross-thread AutoConnection): no
callback ever runs on a worker thread, and no lambda has to guess which thread it belongs to.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class _Job(QRunnable):
    def __init__(self, runner: TaskRunner, job_id: int, fn: Callable[[], Any]) -> None:
        super().__init__()
        self._runner, self._id, self._fn = runner, job_id, fn
        self.setAutoDelete(True)

    def run(self) -> None:
        self._runner._worker_threads.add(threading.get_ident())
        try:
            result, error = self._fn(), None
        except BaseException as exc:  # delivered to on_error (or logged), never lost
            result, error = None, exc
        self._runner._finished.emit(self._id, result, error)


class TaskRunner(QObject):
    """A named pool of worker threads. `threads=1` makes a lane: jobs run one at a time, in
    order (scans must be decided in the order they were scanned)."""

    _finished = Signal(int, object, object)
    idle = Signal()

    def __init__(self, name: str, threads: int = 2, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self.pool.setExpiryTimeout(2000)
        self._ids = itertools.count(1)
        self._callbacks: dict[int, tuple[Done | None, Failed | None]] = {}
        self._worker_threads: set[int] = set()  # for tests: work really ran elsewhere
        self._finished.connect(self._deliver)

    def run(self, fn: Callable[[], Any], on_done: Done | None = None,
            on_error: Failed | None = None) -> int:
        job_id = next(self._ids)
        self._callbacks[job_id] = (on_done, on_error)
        self.pool.start(_Job(self, job_id, fn))
        return job_id

    @property
    def pending(self) -> int:
        return len(self._callbacks)

    def ran_on(self) -> set[int]:
        return set(self._worker_threads)

    def _deliver(self, job_id: int, result: Any, error: BaseException | None) -> None:
        on_done, on_error = self._callbacks.pop(job_id, (None, None))
        try:
            if error is not None:
                if on_error is not None:
                    on_error(error)
                else:
                    log.error("%s task failed", self.name, exc_info=error)
            elif on_done is not None:
                on_done(result)
        finally:
            if not self._callbacks:
                self.idle.emit()

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Wait for running jobs (a scan being committed must finish) and end the threads."""
        self.pool.clear()
        done = self.pool.waitForDone(timeout_ms)
        if not done:
            log.warning("%s: background work still running after %d ms", self.name, timeout_ms)
        return bool(done)
