"""Ending tasks for sure: on Python 3.11 a cancellation can be lost.

`asyncio.wait_for` (3.11) returns the result of what it waits on when that finished just as the
cancellation came (CPython gh-86296, fixed in 3.12 only), and the task goes on as if it had never
been cancelled. The session's parts wait that way (the idle publisher for a local event, the
follower for deliveries), and so does every nats-py request. Cancelled once, such a task ran on:
the session it belonged to never ended, and stayed connected after a retarget.

So a task is cancelled again until it ends (`cancel_and_wait`), and code that must finish what it
started before it leaves (a commit, the publisher's progress) waits that out with `wait_out`,
which a cancellation asked again cannot cut short.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from typing import Any

log = logging.getLogger(__name__)

RECANCEL_S = 0.5  # how often a task still running is cancelled again


async def wait_out(future: asyncio.Future[Any]) -> None:
    """Wait until `future` is done, however often this task is cancelled meanwhile; then raise
    CancelledError if it was (the cancellation is put off, never lost). Does not read `future`'s
    result or exception."""
    cancelled = False
    while not future.done():
        try:
            await asyncio.wait({future})
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError


async def cancel_and_wait(tasks: Collection[asyncio.Task[Any]],
                          every_s: float = RECANCEL_S) -> None:
    """Cancel `tasks` and wait until every one has ended, cancelling again every `every_s` the
    ones still running. Cancelling this task meanwhile does not cut that short: the
    CancelledError is raised once they have all ended."""
    cancelled = False
    pending = {task for task in tasks if not task.done()}
    first = True
    while pending:
        for task in pending:
            if not first:  # lost the cancellation, or still finishing a write
                log.debug("task %s still running after it was cancelled (at %s); cancelling "
                          "it again", task.get_name(), _where(task))
            task.cancel()
        first = False
        try:
            _, pending = await asyncio.wait(pending, timeout=every_s)
        except asyncio.CancelledError:
            cancelled = True
            pending = {task for task in pending if not task.done()}
    if cancelled:
        raise asyncio.CancelledError


def _where(task: asyncio.Task[Any]) -> str:
    """Where `task` waits, for the log: the innermost frame of the station's own code in its
    chain of awaits (e.g. publisher.py's idle wait_for: the cancellation was lost there;
    offload.py: a write is still finishing)."""
    where = "?"
    awaited: Any = task.get_coro()
    while awaited is not None:
        frame = getattr(awaited, "cr_frame", None)
        if frame is not None and str(frame.f_globals.get("__name__")).startswith("station."):
            code = frame.f_code
            where = f"{code.co_filename.rsplit('/', 1)[-1]}:{frame.f_lineno} {code.co_name}"
        awaited = getattr(awaited, "cr_await", None)
    return where
