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


def _worker_init(parent: int) -> None:
    # Workers only make short-lived objects, freed batch by batch, without cycles: the cyclic
    # collector would walk them for nothing, many times per batch.
    gc.disable()
    # Background work (a history batch, an import's signatures): on a two-core door laptop the
    # door's verdict must get the CPU first, so the worker yields it to the station's threads.
    try:
        os.nice(10)
    except OSError:  # not allowed here: the worker still works, at the same priority
        pass
    # The parent is named by the station: it may be gone before this runs.

    def leave_with_parent() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=leave_with_parent, name="leave-with-parent", daemon=True).start()


def spawn_pool() -> concurrent.futures.ProcessPoolExecutor:
    """One worker, starting now (a few hundred ms, overlapping whatever the caller does next)."""
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_init, initargs=(os.getpid(),))
    pool.submit(_ready)
    return pool
