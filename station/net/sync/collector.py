"""The cyclic garbage collector's full passes, put off while a history downloads.

A history download keeps tens of thousands of nats-py `Msg` objects alive at once (the hub's
flow-control window ahead of the inbox: up to ~90,000 in a 100,000-event download, counted with
`gc.get_objects(2)` in benchmarks/sync_bench.py's door), and every full (generation 2) pass of
the collector walks all of them with the GIL held: 50-140 ms each, 7-9 times per such download
on a two-core machine. A door's scan that met one waited for all of it: they were the slowest
scans of the download. The messages hold no reference cycles (reference counting frees each
once its batch is applied), so those passes found nothing to free.

So while any history downloads in this process, the collector makes no full passes. Its young
passes go on as before, so the short-lived cycles asyncio makes are still freed; when the last
download ends the thresholds are what they were, and the next full pass finds what little
cyclic garbage lived long enough meanwhile to be promoted.
"""

from __future__ import annotations

import gc
import threading

# A full pass runs after this many passes of the middle generation: never, in a download.
PUT_OFF = 1 << 30

_lock = threading.Lock()
_holders = 0
_saved: tuple[int, int, int] | None = None


class FullPassesPause:
    """One download's claim on the pause (a follower holds one); hold and release are
    idempotent, so a follower can release on every way out without counting."""

    def __init__(self) -> None:
        self._held = False

    @property
    def held(self) -> bool:
        return self._held

    def hold(self) -> None:
        global _holders, _saved
        with _lock:
            if self._held:
                return
            self._held = True
            _holders += 1
            if _holders == 1:
                young, middle, full = gc.get_threshold()
                _saved = (young, middle, full)
                gc.set_threshold(young, middle, PUT_OFF)

    def release(self) -> None:
        global _holders, _saved
        with _lock:
            if not self._held:
                return
            self._held = False
            _holders -= 1
            if _holders == 0 and _saved is not None:
                young, middle, _ = gc.get_threshold()
                # Young thresholds set meanwhile (by anyone) stay; only the full one goes back.
                gc.set_threshold(young, middle, _saved[2])
                _saved = None
