"""Running work off the GUI thread and getting the result back on it.

`TaskRunner.run(fn, on_done, on_error)` executes `fn()` on a pool of Python threads; the
callbacks run on the GUI thread. The runner is a QObject living on the GUI thread and its
`_finished` signal is emitted from the worker, so Qt queues the delivery (a cross-thread
AutoConnection): no callback ever runs on a worker thread.

Python threads (concurrent.futures), not QThreadPool: PySide gives a QThreadPool thread a new
Python thread state for every job, so `threading.local` is empty each time, and the store's
per-thread SQLite reader connection would be opened anew (and kept) for every job: thousands
of connections and file descriptors after an hour of scanning.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class TaskRunner(QObject):
    """A named pool of worker threads. `threads=1` makes a lane: jobs run one at a time, in
    order (scans must be decided in the order they were scanned)."""

    _finished = Signal(int, object, object)
    idle = Signal()

    def __init__(self, name: str, threads: int = 2, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"station-{name}")
        self._closed = False
        self._ids = itertools.count(1)
        self._callbacks: dict[int, tuple[Done | None, Failed | None]] = {}
        self._worker_threads: set[int] = set()  # for tests: work really ran elsewhere
        self._finished.connect(self._deliver)

    def run(self, fn: Callable[[], Any], on_done: Done | None = None,
            on_error: Failed | None = None) -> int:
        job_id = next(self._ids)
        if self._closed:
            return job_id  # the window is closing: late work (a sound, a refresh) is dropped
        self._callbacks[job_id] = (on_done, on_error)
        self._pool.submit(self._execute, job_id, fn)
        return job_id

    def _execute(self, job_id: int, fn: Callable[[], Any]) -> None:
        self._worker_threads.add(threading.get_ident())
        try:
            result, error = fn(), None
        except BaseException as exc:  # delivered to on_error (or logged), never lost
            result, error = None, exc
        if not self._closed:
            self._finished.emit(job_id, result, error)

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

    def shutdown(self) -> None:
        """Drop queued jobs, wait for the running one (a scan being committed must finish),
        and end the threads."""
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._callbacks.clear()

    @property
    def threads_alive(self) -> int:
        return sum(1 for t in threading.enumerate() if t.name.startswith(f"station-{self.name}"))
