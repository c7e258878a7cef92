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
