"""The one writer: a thread that owns the write connection and runs jobs by priority.

Every write of the station is a job `fn(tx)` run in one transaction (BEGIN IMMEDIATE …
COMMIT; a job that raises is rolled back, and its future carries the error). Jobs wait in a
priority queue: DOOR before USER before SYNC before HOUSEKEEPING, first come first served
within a priority. A large background job (a history batch) is a sequence of small steps:
they share one transaction while nothing more urgent waits, and as soon as a more urgent job is
queued the transaction commits at the next step boundary and the job goes back into the queue
with its original place among equals, so a door job that arrived meanwhile runs next: a scan
never waits behind more than one small step (and one commit). While the door is busy (a door
job ran in the last DOOR_BUSY_S), a background job commits after every step, so the commit a
scan waits for holds one step's pages, not all those written since the previous scan. A quiet
station thus writes a history batch in one transaction (a commit per 250-event step made a
download three times slower), a busy door in many. The door's priority is a property of the queue, not of sleeps or
counters. (Datasette's `_execute_writes` is the model.)

Inline mode (tests, one-shot commands) runs each job on the caller's thread under a lock,
with the same transaction semantics and no priorities.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any, TypeVar

from station.store.failures import storage_errors
from station.store.tx import Tx

log = logging.getLogger(__name__)

T = TypeVar("T")

WAL_AUTOCHECKPOINT = 1000  # pages: SQLite's default, restored once no download writes any more
# How long after the last commit made without fsync (a history download) every commit leaves the
# WAL's copy to the store's copier: a door's scan during a download found the WAL past 1,000
# pages (the download writes that in well under the copier's 0.25 s) and SQLite's automatic copy
# ran inside the scan's own commit (own-process door, 30k download: commit p50 9-12 -> 4-5 ms).
DEFER_CHECKPOINTS_S = 2.0
# How long after a door job a background job commits after every step: the next scan then
# waits for one step's commit, not for the pages of every step since the last scan (a door
# scanning every 50 ms during a 100k download: its wait in the queue p50 17-23 -> 8-13 ms).
DOOR_BUSY_S = 1.0
THREAD_NAME = "station-writer"


class Priority(IntEnum):
    """Who waits for a job; lower runs first."""

    DOOR = 0  # a person at the door: scans, undo
    USER = 1  # a person at a screen or an API client: manager actions, settings, keys, imports
    SYNC = 2  # applying what other stations saw
    HOUSEKEEPING = 3  # progress checkpoints, outbox bookkeeping, expiry


class WriterClosed(RuntimeError):
    """A write was submitted after the store was closed."""

    def __init__(self) -> None:
        super().__init__("The station's data is closed; the change was not saved.")


class NestedWrite(RuntimeError):
    """A write job asked for another write job and would wait for itself."""

    def __init__(self) -> None:
        super().__init__("A write job cannot submit another write: do the work in the same "
                         "transaction (the job's tx).")


@dataclass(eq=False)
class _Job:
    steps: Sequence[Callable[[Tx], Any]]
    future: Future[Any]
    fsync: bool
    single: bool  # submit(): the future holds the one result, not a list
    results: list[Any] = field(default_factory=list)
    started: bool = False


class Writer:
    """Runs write jobs against `conn`, which it alone uses from now on."""

    def __init__(self, conn: sqlite3.Connection, folder: Path, new_tx: Callable[[sqlite3.Connection], Tx], *,
                 inline: bool = False, after_unsynced_commit: Callable[[], None] | None = None
                 ) -> None:
        """`after_unsynced_commit` runs after each commit made with fsync=False (which leaves
        the WAL's copy into the database file to it: the store starts a background copy)."""
        self._conn = conn
        self._after_unsynced_commit = after_unsynced_commit
        self._folder = folder
        self._new_tx = new_tx
        self._inline = inline
        self._local = threading.local()  # in_job: this thread is running a job
        self._queue: list[tuple[int, int, _Job]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._inline_lock = threading.Lock()
        self._closed = False
        self._last_unsynced = float("-inf")  # time.monotonic() of the last fsync=False commit
        self._last_door = float("-inf")  # time.monotonic() when the last door job ended
        self._deferring = False  # wal_autocheckpoint is 0 on the connection
        self._thread: threading.Thread | None = None
        if not inline:
            self._thread = threading.Thread(target=self._serve, name=THREAD_NAME, daemon=True)
            self._thread.start()

    # --- submitting ---------------------------------------------------------------------------
    def submit(self, fn: Callable[[Tx], T], priority: Priority, *, fsync: bool = True) -> Future[T]:
        return self._enqueue(_Job([fn], Future(), fsync, single=True), priority)

    def submit_steps(self, steps: Sequence[Callable[[Tx], T]], priority: Priority, *,
                     fsync: bool = True) -> Future[list[T]]:
        return self._enqueue(_Job(list(steps), Future(), fsync, single=False), priority)

    def write(self, fn: Callable[[Tx], T], priority: Priority, *, fsync: bool = True) -> T:
        return self.submit(fn, priority, fsync=fsync).result()

    async def awrite(self, fn: Callable[[Tx], T], priority: Priority, *,
                     fsync: bool = True) -> T:
        """For the asyncio loop. Cancelled while waiting: a job not started yet is dropped; a
        started one is awaited to its end (commit or rollback) before CancelledError goes on,
        so stopping never leaves a job running against a closed loop's state."""
        future = self.submit(fn, priority, fsync=fsync)
        waiting = asyncio.wrap_future(future)
        try:
            return await asyncio.shield(waiting)
        except asyncio.CancelledError:
            if not future.cancel():
                await asyncio.wait({waiting})
            raise

    def _enqueue(self, job: _Job, priority: Priority) -> Future[Any]:
        if getattr(self._local, "in_job", False) or threading.current_thread() is self._thread:
            raise NestedWrite()  # it would wait for itself
        if self._inline:
            return self._run_inline(job)
        with self._wake:
            if self._closed:
                raise WriterClosed()
            heapq.heappush(self._queue, (int(priority), next(self._order), job))
            self._wake.notify()
        return job.future

    # --- running ------------------------------------------------------------------------------
    def _run_inline(self, job: _Job) -> Future[Any]:
        if self._closed:
            raise WriterClosed()
        job.future.set_running_or_notify_cancel()
        try:
            with self._inline_lock:  # nothing can be waiting: the steps share one transaction
                job.results.extend(self._transaction(self._steps_of(job, 0), job.fsync))
        except BaseException as exc:
            job.future.set_exception(exc)
        else:
            job.future.set_result(job.results[0] if job.single else job.results)
        return job.future

    def _serve(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._closed:
                    self._wake.wait()
                if not self._queue:
                    return  # closed, and every job submitted before is done
                priority, order, job = heapq.heappop(self._queue)
            if not job.started:
                if not job.future.set_running_or_notify_cancel():
                    continue  # cancelled before it started: dropped
                job.started = True
            try:
                job.results.extend(self._transaction(self._steps_of(job, priority), job.fsync))
            except BaseException as exc:  # the job's caller gets it; the writer goes on
                job.future.set_exception(exc)
                continue
            finally:
                if priority == Priority.DOOR:
                    self._last_door = time.monotonic()
            if len(job.results) < len(job.steps):
                with self._wake:  # back in line, in its old place among equals
                    heapq.heappush(self._queue, (priority, order, job))
            else:
                job.future.set_result(job.results[0] if job.single else job.results)

    def _steps_of(self, job: _Job, priority: int) -> Callable[[Tx], list[Any]]:
        """The job's next steps as one transaction's work: the next step, and the ones after
        it while no more urgent job waits (each step gets its own Tx: what it appended is its
        own to publish)."""
        def run(tx: Tx) -> list[Any]:
            done: list[Any] = []
            while True:
                step = job.steps[len(job.results) + len(done)]
                done.append(step(tx if not done else self._new_tx(self._conn)))
                if len(job.results) + len(done) >= len(job.steps) or self._urgent(priority):
                    return done
        return run

    def _urgent(self, priority: int) -> bool:
        """Whether a job more urgent than `priority` is waiting, or the door is busy (then a
        background job commits after every step)."""
        if priority > Priority.DOOR and time.monotonic() - self._last_door < DOOR_BUSY_S:
            return True
        with self._wake:
            return bool(self._queue) and self._queue[0][0] < priority

    def _transaction(self, fn: Callable[[Tx], T], fsync: bool) -> T:
        """`fn(tx)` in one transaction. `fsync=False` commits without waiting for the disk
        (WAL with synchronous=NORMAL): still atomic, but a power cut may undo it. Only for
        writes that can be redone from elsewhere, as a sync catch-up batch together with its
        stream position. The next fsync'd commit (a scan) makes it durable too: it syncs the
        WAL, which holds both. From such a commit until DEFER_CHECKPOINTS_S after the last one,
        every commit leaves the WAL's copy into the database file to `after_unsynced_commit`
        (Store.checkpoint_soon, another thread): done inside a commit, it held the writer, and
        a door's scan, for as long again as the batch itself."""
        conn = self._conn
        self._local.in_job = True
        try:
            self._defer_checkpoints(fsync)
            if not fsync:
                conn.execute("PRAGMA synchronous=NORMAL")
            try:
                with storage_errors(self._folder):
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        result = fn(self._new_tx(conn))
                        # A COMMIT that fails (disk full) is rolled back too: the writer must
                        # be ready for the next job once the disk has room again.
                        conn.execute("COMMIT")
                    except BaseException:
                        self._rollback()
                        raise
            finally:
                if not fsync:
                    conn.execute("PRAGMA synchronous=FULL")
                    self._last_unsynced = time.monotonic()
        finally:
            self._local.in_job = False
        if self._deferring and self._after_unsynced_commit is not None:
            self._after_unsynced_commit()
        return result

    def _defer_checkpoints(self, fsync: bool) -> None:
        """wal_autocheckpoint off from a commit without fsync until DEFER_CHECKPOINTS_S after
        the last one (then SQLite's own copy every 1,000 pages again, as a quiet door needs)."""
        defer = not fsync or time.monotonic() - self._last_unsynced < DEFER_CHECKPOINTS_S
        if defer != self._deferring:
            self._conn.execute(f"PRAGMA wal_autocheckpoint={0 if defer else WAL_AUTOCHECKPOINT}")
            self._deferring = defer

    def _rollback(self) -> None:
        # SQLite may already have rolled back by itself (SQLITE_FULL, IOERR): only roll back an
        # open transaction, and never let a failed rollback hide the error that caused it.
        if self._conn.in_transaction:
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error:
                log.exception("rolling back a failed transaction failed")

    # --- stopping -----------------------------------------------------------------------------
    def close(self) -> None:
        """Run the jobs already submitted, then stop; a job submitted after this fails."""
        with self._wake:
            self._closed = True
            self._wake.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        with self._inline_lock:
            self._conn.close()
