"""A spawned worker process for CPU-bound work that would otherwise share the station's GIL:
decoding a history download (net/sync/prepare.py), signing an import's passes (imports.py).

Spawned, not forked: the station's process has threads (Qt, asyncio, SQLite writers) that a
forked child would inherit mid-flight. The worker leaves with its parent, also when the parent
was killed outright (kill -9, a crash) and could not tell it to stop.
"""

from __future__ import annotations

import concurrent.futures
import gc
import multiprocessing
import os
import threading
import time


def _ready() -> bool:
    return True


# The nice value of background work (an import's signatures; a history download once someone
# uses the station: net/sync/prepare.py): on a two-core door laptop the door's verdict must
# get the CPU first.
BACKGROUND_NICE = 10


def _worker_init(parent: int, nice: int) -> None:
    # Workers only make short-lived objects, freed batch by batch, without cycles: the cyclic
    # collector would walk them for nothing, many times per batch.
    gc.disable()
    if nice:
        try:
            os.nice(nice)
        except OSError:  # not allowed here: the worker still works, at the same priority
            pass
    # The parent is named by the station: it may be gone before this runs.

    def leave_with_parent() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=leave_with_parent, name="leave-with-parent", daemon=True).start()


def spawn_pool(nice: int = BACKGROUND_NICE) -> concurrent.futures.ProcessPoolExecutor:
    """One worker, starting now (a few hundred ms, overlapping whatever the caller does next),
    `nice` steps below the station's CPU priority (0: the station's own, see lower_priority)."""
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_init, initargs=(os.getpid(), nice))
    pool.submit(_ready)
    return pool


def lower_priority(pid: int, nice: int = BACKGROUND_NICE) -> None:
    """Give a worker started at the station's priority the background's from now on. Only
    ever lowered: raising a process's priority again needs privileges a station lacks."""
    if not hasattr(os, "setpriority"):  # no POSIX priorities (Windows): it works on as it is
        return
    try:
        below_station = min(19, os.getpriority(os.PRIO_PROCESS, 0) + nice)
        os.setpriority(os.PRIO_PROCESS, pid,
                       max(os.getpriority(os.PRIO_PROCESS, pid), below_station))
    except OSError:  # gone already, or not allowed here: it works on at its priority
        pass
