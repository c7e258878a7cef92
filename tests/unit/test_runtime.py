from __future__ import annotations

import asyncio
import threading

from station.net.runtime import AsyncRuntime


def test_runs_coroutines_off_the_calling_thread_and_stops_cleanly() -> None:
    runtime = AsyncRuntime()
    runtime.start()
    caller = threading.get_ident()

    async def where() -> int:
        await asyncio.sleep(0)
        return threading.get_ident()

    assert runtime.submit(where()).result(5) != caller

    cancelled = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    runtime.submit(forever())
    runtime.stop()
    assert cancelled.is_set()
    assert not any(t.name == "station-net" for t in threading.enumerate())


def test_in_loop_is_true_only_on_this_runtimes_own_thread() -> None:
    # Two stations in one process both name their thread "station-net": a name is not enough
    # to tell one's loop from the other's (claim() must decide offline only on its own loop).
    first, second = AsyncRuntime(), AsyncRuntime()
    first.start()
    second.start()
    try:
        async def ask() -> tuple[bool, bool]:
            return first.in_loop(), second.in_loop()

        assert not first.in_loop() and not second.in_loop()
        assert first.submit(ask()).result(5) == (True, False)
        assert second.submit(ask()).result(5) == (False, True)
    finally:
        first.stop()
        second.stop()
