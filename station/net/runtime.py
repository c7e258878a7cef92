"""The station's one background asyncio thread, shared by the API, webhooks and sync.

The thread is `station-net`; the threads it hands blocking work to, and every other thread of
the station, are listed in docs/threads.md."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class AsyncRuntime:
    def __init__(self, name: str = "station-net") -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = threading.Event()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def start(self) -> None:
        self._thread.start()
        self._started.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(self._started.set)
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    def in_loop(self) -> bool:
        """True when called on this runtime's own thread: waiting there on a future of the loop
        would block the very loop that must resolve it."""
        return threading.current_thread() is self._thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run a coroutine on the loop from any thread; the future resolves with its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def call_soon(self, func: Callable[..., object], *args: object) -> None:
        self._loop.call_soon_threadsafe(func, *args)

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel what is still running, give it a moment to clean up, and end the thread."""
        if not self._thread.is_alive():
            return

        async def shutdown() -> None:
            current = asyncio.current_task()
            tasks = [t for t in asyncio.all_tasks() if t is not current]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            self.submit(shutdown()).result(timeout)
        except (concurrent.futures.TimeoutError, RuntimeError):
            log.warning("background tasks did not stop within %.0f s", timeout)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
